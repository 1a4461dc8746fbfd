/**
 * The versioned schema of report JSON. `validateReport` checks a parsed report (every problem at
 * once, with its JSON path); `reportJsonSchema()` gives the same schema as JSON Schema for other
 * languages (docs/report.schema.json is generated from it).
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { z } from 'zod';
import { ATTRIBUTES } from '../attributes.js';
import type { Issue } from '../errors.js';
import { REPORT_FORMAT, REPORT_FORMAT_VERSION, type Report } from './types.js';

const num = z.number();
const nullableNum = num.nullable();
const attribute = z.enum(ATTRIBUTES).meta({ id: 'Attribute', description: 'one of the five HelpSteer2 attributes' });
const preference = z.enum(['a', 'b', 'tie']).meta({ id: 'Preference', description: 'which response is preferred, or tie' });
const side = z.enum(['a', 'b']).meta({ id: 'Side' });
const scores = z
  .strictObject(Object.fromEntries(ATTRIBUTES.map((a) => [a, num])) as Record<(typeof ATTRIBUTES)[number], typeof num>)
  .meta({ id: 'AttributeScores' });
const counts = z.strictObject({ a: num, b: num, tie: num }).meta({ id: 'DecisionCounts' });

const step = z
  .strictObject({
    node: num,
    attribute,
    delta: num,
    threshold: num,
    went: z.enum(['left', 'right']),
    samples: nullableNum,
    share: num,
    probability: num,
  })
  .meta({
    id: 'PathStep',
    description: 'one test on a root-to-leaf path; delta is the input difference a - b (or b - a for the mirrored reading)',
  });
const leaf = z.strictObject({ node: num, samples: nullableNum, share: num, probability: num }).meta({ id: 'LeafInfo' });
const tree = z
  .strictObject({
    name: z.string(),
    description: z.string(),
    source: z.string(),
    criterion: z.string(),
    nodes: z
      .array(
        z.strictObject({
          id: num,
          depth: num,
          feature: attribute.nullable(),
          threshold: nullableNum,
          left: nullableNum,
          right: nullableNum,
          samples: nullableNum,
          share: num,
          probability: num,
        }),
      )
      .min(1),
  })
  .meta({ id: 'ReportTree', description: 'a tree as drawn: nodes in pre-order, x <= threshold goes left, probability = P(A preferred)' });
const rule = z.strictObject({ symmetric: z.boolean(), tieBand: num }).meta({ id: 'ReportRule' });
const texts = z.strictObject({ prompt: z.string().nullable(), a: z.string().nullable(), b: z.string().nullable() }).meta({ id: 'Texts' });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const provenance = z
  .strictObject({
    source: z.string(),
    data: z.array(
      z
        .strictObject({ path: z.string(), sha256, rows: z.number().int().min(0).optional(), role: z.string().optional() })
        .meta({ id: 'DataFileRecord', description: 'an input data file: the path as given, the sha256 of its bytes, rows used' }),
    ),
    trees: z.array(
      z
        .strictObject({
          role: z.enum(['tree', 'compare-tree']),
          name: z.string(),
          file: z.string().nullable(),
          sha256: sha256.nullable(),
          source: z.string(),
        })
        .meta({
          id: 'ReportTreeRecord',
          description:
            "a tree the report used: the file it was loaded from (null through the API) with its sha256, and the tree's own provenance source",
        }),
    ),
    model: z
      .strictObject({ path: z.string(), name: z.string(), identity: sha256, provider: z.string() })
      .nullable()
      .meta({ id: 'ReportModelRecord', description: 'the model folder that scored the texts; identity = modelIdentity(model).rewards' }),
    command: z.string().nullable(),
    package: z.string(),
  })
  .meta({
    id: 'ReportProvenance',
    description: 'how the report was made: input files with sha256, trees, model, command line (null through the API) and package',
  });
const header = {
  format: z.literal(REPORT_FORMAT),
  version: z.literal(REPORT_FORMAT_VERSION),
  generator: z.string(),
  title: z.string(),
  provenance: provenance.nullable().meta({ description: 'null only in a report read from version 1, which did not record it' }),
};
const test = z.strictObject({ node: num, attribute, op: z.enum(['<=', '>']), threshold: num }).meta({ id: 'ReportTest' });

/**
 * zod schema of a single-comparison report.
 *
 * @example
 * ```ts
 * comparisonReportSchema.safeParse(JSON.parse(text)).success;
 * ```
 */
export const comparisonReportSchema = z
  .strictObject({
    ...header,
    kind: z.literal('comparison'),
    tree,
    rule,
    id: z.string().nullable(),
    subset: z.string().nullable(),
    source: z.string().nullable(),
    label: side.nullable(),
    texts,
    truncated: z.strictObject({ a: z.boolean().nullable(), b: z.boolean().nullable() }),
    truncationNotes: z.strictObject({ a: z.string().nullable(), b: z.string().nullable() }),
    rewards: z.strictObject({ a: scores, b: scores, delta: scores }),
    decision: z.strictObject({
      preference,
      probability: num,
      publishedProbability: num,
      publishedPreference: preference,
      agreesWithLabel: z.boolean().nullable(),
    }),
    path: z.array(step),
    leaf,
    readings: z
      .array(z.strictObject({ reading: z.enum(['a-b', 'b-a']), path: z.array(step), leaf, probabilityA: num }))
      .min(1)
      .max(2),
    counterfactual: z
      .strictObject({ attribute, delta: num, newDelta: num, change: num, preference: side, probability: num, sentence: z.string() })
      .nullable(),
    sentence: z.string(),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'ComparisonReport' });

const example = z
  .strictObject({
    index: num,
    id: z.string().nullable(),
    line: nullableNum,
    subset: z.string().nullable(),
    label: side.nullable(),
    preference,
    probability: num,
    pathText: z.string(),
    leaf: num,
    mirrorLeaf: nullableNum,
    delta: scores,
    other: z.strictObject({ preference, probability: num, pathText: z.string(), leaf: num }).nullable(),
    texts: texts.nullable(),
    truncated: z.strictObject({ a: z.boolean(), b: z.boolean() }).nullable(),
  })
  .meta({ id: 'ReportExample' });

/**
 * zod schema of a dataset report.
 *
 * @example
 * ```ts
 * datasetReportSchema.parse(JSON.parse(text)).data.n;
 * ```
 */
export const datasetReportSchema = z
  .strictObject({
    ...header,
    kind: z.literal('dataset'),
    tree,
    rule,
    data: z.strictObject({
      n: num,
      source: z.string().nullable(),
      labelled: num,
      subsets: z.array(z.string()),
      truncated: z.strictObject({ a: num, b: num, unknownSide: num }).nullable(),
      hasTexts: z.boolean(),
    }),
    decisions: z.strictObject({ a: num, b: num, tie: num, meanProbability: num }),
    accuracy: z.strictObject({ labelled: num, accuracy: num, publishedAccuracy: num, logLoss: num, brier: num, ece: num }).nullable(),
    leaves: z.array(
      z.strictObject({
        node: num,
        tests: z.array(test),
        pathText: z.string(),
        trainingShare: num,
        probability: num,
        count: num,
        share: num,
        mirrorCount: num,
        decisions: counts,
        labelled: num,
        accuracy: nullableNum,
        observedA: nullableNum,
        differ: nullableNum,
      }),
    ),
    subsets: z.array(
      z.strictObject({
        name: z.string(),
        n: num,
        labelled: num,
        accuracy: nullableNum,
        decisions: counts,
        styleShare: num,
        agreement: nullableNum,
      }),
    ),
    importances: z.strictObject({
      impurity: scores,
      bootstrap: z
        .strictObject({ refits: num, seed: num, mean: scores, std: scores, lower: scores, upper: scores, rootShare: scores })
        .nullable(),
    }),
    style: z.strictObject({
      attributes: z.array(attribute),
      count: num,
      share: num,
      byAttribute: z.array(z.strictObject({ attribute, count: num, share: num })),
      neutralChanged: num,
      neutralChangedShare: num,
      accuracyStyled: nullableNum,
      accuracyOther: nullableNum,
      matrix: z
        .strictObject({
          styles: z.array(z.string()),
          cells: z.array(z.array(z.strictObject({ n: num, accuracy: nullableNum, styleShare: nullableNum }))),
          hard: nullableNum,
          normal: nullableNum,
          easy: nullableNum,
          n: num,
        })
        .optional()
        .meta({
          id: 'StyleMatrix',
          description:
            "RM-Bench's style matrix: cells[i][j] = chosen response in style i vs rejected in style j; present only when the rows carry styles",
        }),
    }),
    calibration: z
      .strictObject({
        bins: z.array(z.strictObject({ lo: num, hi: num, n: num, meanPredicted: nullableNum, observed: nullableNum })),
        ece: num,
        brier: num,
        logLoss: num,
        labelled: num,
      })
      .nullable(),
    positionConsistency: z.strictObject({ published: num, rule: num, inconsistent: num }),
    hardest: z.array(example),
    hardestTotal: z.number().int().min(0).nullable(),
    comparison: z
      .strictObject({
        otherName: z.string(),
        tree,
        n: num,
        agree: num,
        agreement: num,
        cross: z.strictObject({ a: counts, b: counts, tie: counts }),
        explained: num,
        splits: z.array(
          z.strictObject({
            tree: z.enum(['primary', 'other']),
            treeName: z.string(),
            node: num,
            attribute,
            threshold: num,
            count: num,
            share: num,
          }),
        ),
        leafPairs: z.array(z.strictObject({ leaf: num, otherLeaf: num, count: num, differ: num })),
        otherLeaves: z.array(z.strictObject({ node: num, pathText: z.string(), count: num, differ: num })),
        thresholds: z.strictObject(
          Object.fromEntries(ATTRIBUTES.map((a) => [a, z.strictObject({ primary: z.array(num), other: z.array(num) })])) as Record<
            (typeof ATTRIBUTES)[number],
            z.ZodObject<{ primary: z.ZodArray<typeof num>; other: z.ZodArray<typeof num> }>
          >,
        ),
        accuracy: z.strictObject({ primary: num, other: num, labelled: num }).nullable(),
        otherStyle: z.strictObject({ count: num, share: num }),
        examples: z.array(example),
        examplesTotal: z.number().int().min(0),
      })
      .nullable(),
    notes: z.array(z.string()),
    warnings: z.array(z.string()),
  })
  .meta({ id: 'DatasetReport' });

/**
 * zod schema of any report, by `kind` (prefer {@link validateReport}, which also names versions).
 *
 * @example
 * ```ts
 * reportSchema.safeParse(JSON.parse(text));
 * ```
 */
export const reportSchema = z.discriminatedUnion('kind', [comparisonReportSchema, datasetReportSchema]);

// That these schemas and the TypeScript contracts in types.ts describe the same data is checked
// at compile time by test/report-schema-types.test.ts (a check here would ship in the .d.ts and
// break consumers compiling without `strict`).

/** Result of {@link validateReport}. */
export type ReportCheck = { success: true; report: Report } | { success: false; issues: Issue[] };

/** The report versions {@link validateReport} reads. */
const READS = [1, REPORT_FORMAT_VERSION] as const;

/**
 * Validates parsed report JSON against the schema of {@link REPORT_FORMAT} version
 * {@link REPORT_FORMAT_VERSION}. Never throws; lists every problem with its JSON path.
 * A version 1 report (written before reports recorded their provenance) is read too: it comes
 * back as the current version with `provenance: null` and `hardestTotal: null` (it recorded
 * neither) and `comparison.examplesTotal` counted from its figures.
 *
 * @example
 * ```ts
 * const check = validateReport(JSON.parse(readFileSync('report.json', 'utf8')));
 * if (check.success) writeFileAtomic('report.html', renderHtml(check.report));
 * ```
 */
export function validateReport(json: unknown): ReportCheck {
  const doc = json as Record<string, unknown> | null;
  if (
    doc !== null &&
    typeof doc === 'object' &&
    doc.format === REPORT_FORMAT &&
    typeof doc.version === 'number' &&
    !(READS as readonly number[]).includes(doc.version)
  ) {
    return {
      success: false,
      issues: [
        {
          path: 'version',
          message: `report format version ${doc.version} is not supported: this package reads versions ${READS.join(' and ')}`,
        },
      ],
    };
  }
  if (doc !== null && typeof doc === 'object' && doc.format === REPORT_FORMAT && doc.version === 1) {
    const added = ['provenance', 'hardestTotal'].filter((k) => k in doc);
    if (added.length > 0)
      return {
        success: false,
        issues: added.map((k) => ({
          path: k,
          message: `'${k}' is not part of report format version 1 (it came with version ${REPORT_FORMAT_VERSION})`,
        })),
      };
    json = upgradeVersion1(doc);
  }
  const parsed = reportSchema.safeParse(json);
  if (parsed.success) return { success: true, report: parsed.data as Report };
  return { success: false, issues: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })) };
}

/**
 * The report schema as JSON Schema (draft 2020-12).
 *
 * @example
 * ```ts
 * writeFileAtomic('report.schema.json', JSON.stringify(reportJsonSchema(), null, 2));
 * ```
 */
export function reportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(reportSchema) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    $id: `https://decision-tree-reward/report/v${REPORT_FORMAT_VERSION}.schema.json`,
    title: `${REPORT_FORMAT} version ${REPORT_FORMAT_VERSION}`,
    description: 'An explanation report of decision-tree-reward: a single comparison (kind "comparison") or a dataset (kind "dataset").',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

/** A version 1 report in the current shape: what it did not record is null; what its figures give is counted. */
function upgradeVersion1(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc, version: REPORT_FORMAT_VERSION, provenance: null };
  if (doc.kind === 'dataset') {
    out.hardestTotal = null;
    const c = doc.comparison as Record<string, unknown> | null | undefined;
    if (c !== null && typeof c === 'object' && !('examplesTotal' in c) && typeof c.n === 'number' && typeof c.agree === 'number')
      out.comparison = { ...c, examplesTotal: c.n - c.agree };
  }
  return out;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}
