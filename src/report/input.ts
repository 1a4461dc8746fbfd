/**
 * Report inputs from what files hold: pair rows (data/text-rows.ts) laid out as a dataset, a
 * `dtr compare --json` (or `dtr explain --json`) document, or a saved report.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { ATTRIBUTES, ATTRIBUTE_COUNT, type AttributeScores } from '../attributes.js';
import { NO_LABEL } from '../data/pairs.js';
import { parsePairRows, type PairRow } from '../data/text-rows.js';
import { DtrError } from '../errors.js';
import { readUtf8File } from '../io/utf8.js';
import { validateReport } from './schema.js';
import { REPORT_FORMAT, type ComparisonInput, type DatasetInput, type Report } from './types.js';

/**
 * Turns scored rows into a {@link DatasetInput}. `scores` (e.g. from a model) replaces the rows'
 * own rewards when given: `scores[i]` belongs to `rows[i]`.
 *
 * @example
 * ```ts
 * const input = datasetInputFromRows(rows, 'pairs.jsonl');
 * buildDatasetReport(tree, input);
 * ```
 */
export function datasetInputFromRows(
  rows: readonly PairRow[],
  source: string | null,
  scores?: readonly (ComparedPair | ScoredPair)[],
): DatasetInput {
  const n = rows.length;
  if (scores !== undefined && scores.length !== n) throw new RangeError(`scores has ${scores.length} entries but there are ${n} rows`);
  const a = new Float64Array(n * ATTRIBUTE_COUNT);
  const b = new Float64Array(n * ATTRIBUTE_COUNT);
  const labels = new Uint8Array(n);
  let anyLabel = false;
  let anyTruncation = false;
  const truncated = new Uint8Array(n);
  rows.forEach((row, i) => {
    const given = scores?.[i];
    const scored: ScoredPair | undefined = given === undefined ? undefined : 'rewards' in given ? scoredFromCompared(given) : given;
    const sa = scored?.a ?? row.a;
    const sb = scored?.b ?? row.b;
    if (sa === null || sb === null) throw new TypeError(`rows[${i}] (line ${row.line}) has no attribute rewards: score it first`);
    ATTRIBUTES.forEach((name, k) => {
      a[i * ATTRIBUTE_COUNT + k] = sa[name];
      b[i * ATTRIBUTE_COUNT + k] = sb[name];
    });
    labels[i] = row.label === null ? NO_LABEL : row.label === 'a' ? 1 : 0;
    if (row.label !== null) anyLabel = true;
    const t = scored?.truncated;
    if (t) {
      anyTruncation = true;
      truncated[i] = (t.a ? 1 : 0) | (t.b ? 2 : 0);
    } else if (row.truncated !== null) {
      anyTruncation = true;
      truncated[i] = row.truncated;
    }
  });
  const hasText = rows.some((r) => r.prompt !== null || r.textA !== null || r.textB !== null);
  const ties = rows.filter((r) => r.tieLabel).length;
  // chosenStyle is the preferred response's: a's unless the label says b (results rows: absent label = a).
  const styles = rows.some((r) => r.styles !== null)
    ? {
        a: rows.map((r) => (r.styles === null ? null : r.label === 'b' ? r.styles.rejected : r.styles.chosen)),
        b: rows.map((r) => (r.styles === null ? null : r.label === 'b' ? r.styles.chosen : r.styles.rejected)),
      }
    : null;
  return {
    n,
    a,
    b,
    labels: anyLabel ? labels : null,
    ids: rows.map((r) => r.id),
    subsets: rows.map((r) => r.subset),
    lines: rows.map((r) => r.line),
    texts: hasText ? { prompt: rows.map((r) => r.prompt), a: rows.map((r) => r.textA), b: rows.map((r) => r.textB) } : null,
    truncated: anyTruncation ? truncated : null,
    styles,
    source,
    notes:
      ties > 0
        ? [
            `${ties.toLocaleString('en-US')} pair${ties === 1 ? ' is' : 's are'} labelled "tie" (rated equal): ${ties === 1 ? 'it counts' : 'they count'} as unlabelled.`,
          ]
        : null,
  };
}

/**
 * What a report needs of a model's comparison of two texts: a `RewardModel.compare` result (or
 * a row of `dtr compare --file`) has all of it.
 */
export interface ComparedPair {
  rewards: { a: AttributeScores; b: AttributeScores };
  /** How each conversation was truncated (`null` = not truncated); `summary` is shown. */
  truncation?: { a: { summary?: string } | null; b: { summary?: string } | null } | null;
}

/**
 * A {@link ComparisonInput} from a model's comparison and the texts it compared.
 *
 * @example
 * ```ts
 * const result = await model.compare(prompt, a, b);
 * const report = buildComparisonReport(model.tree, comparisonInputFromCompared(result, { prompt, responseA: a, responseB: b }));
 * ```
 */
export function comparisonInputFromCompared(
  result: ComparedPair,
  extra: Omit<ComparisonInput, 'a' | 'b' | 'truncated' | 'truncationNotes'> = {},
): ComparisonInput {
  const t = result.truncation ?? null;
  return {
    ...extra,
    a: result.rewards.a,
    b: result.rewards.b,
    truncated: t ? { a: t.a !== null, b: t.b !== null } : null,
    truncationNotes: t ? { a: t.a?.summary ?? null, b: t.b?.summary ?? null } : null,
  };
}

/** Rewards of one pair, with which response was truncated when known. */
export interface ScoredPair {
  a: AttributeScores;
  b: AttributeScores;
  truncated?: { a: boolean; b: boolean } | null;
}

function scoredFromCompared(c: ComparedPair): ScoredPair {
  const t = c.truncation ?? null;
  return { a: c.rewards.a, b: c.rewards.b, truncated: t ? { a: t.a !== null, b: t.b !== null } : null };
}

/** What a single-comparison JSON file holds. */
export type ComparisonFile =
  | { kind: 'report'; report: Report }
  | {
      kind: 'comparison';
      input: ComparisonInput;
      /** The tree the file names (`tree` field), if any. */
      tree: string | null;
      /** The probability the file records, to check against the report's. */
      probability: number | null;
    };

/**
 * Reads one comparison from a JSON file: `dtr compare --json` output (`rewards.a`/`rewards.b`,
 * `prompt`, response texts, `truncated`), `dtr explain --json` output (`a`/`b` attribute objects),
 * or a saved report (re-rendered as it is).
 * @throws DtrError `E_NOT_FOUND`, `E_FORMAT` (not JSON) or `E_DATA` listing every problem.
 *
 * @example
 * ```ts
 * const file = readComparisonFile('compare.json');
 * if (file.kind === 'comparison') buildComparisonReport(tree, file.input);
 * ```
 */
export function readComparisonFile(path: string, shownAs = path): ComparisonFile {
  if (!existsSync(path) || statSync(path).isDirectory()) throw new DtrError('E_NOT_FOUND', `no such file: ${shownAs}`);
  const text = readUtf8File(path, shownAs);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new DtrError('E_FORMAT', `${shownAs} is not JSON: ${(cause as Error).message}`, {
      cause,
      hint: 'give the output of `dtr compare --json` or a report .json',
    });
  }
  return parseComparisonJson(json, shownAs);
}

/**
 * {@link readComparisonFile} on parsed JSON.
 *
 * @example
 * ```ts
 * const file = parseComparisonJson({ rewards: { a, b }, truncated: { a: false, b: true } }, 'compare.json');
 * ```
 */
export function parseComparisonJson(json: unknown, source: string): ComparisonFile {
  if (json !== null && typeof json === 'object' && (json as Record<string, unknown>).format === REPORT_FORMAT) {
    const check = validateReport(json);
    if (!check.success)
      throw new DtrError(
        'E_DATA',
        `${source} is not a valid report (${check.issues.length} problem${check.issues.length === 1 ? '' : 's'})`,
        { issues: check.issues },
      );
    return { kind: 'report', report: check.report };
  }
  let row: PairRow | undefined;
  try {
    [row] = parsePairRows([{ line: 1, value: json }], source, { need: 'scores' });
  } catch (error) {
    // One document, not a JSONL line: name the file without a line number.
    if (!(error instanceof DtrError) || error.code !== 'E_DATA') throw error;
    const issues = error.issues.map((i) => ({ path: source, message: i.message }));
    throw new DtrError('E_DATA', `${source}: ${issues.map((i) => i.message).join('; ')}`, {
      issues,
      hint: 'give the output of `dtr compare --json`, `dtr explain --json` or a report .json',
    });
  }
  const doc = json as Record<string, unknown>;
  const responses = doc.responses !== null && typeof doc.responses === 'object' ? (doc.responses as Record<string, unknown>) : null;
  const text = (side: 'a' | 'b'): string | null =>
    (side === 'a' ? row!.textA : row!.textB) ?? (responses && typeof responses[side] === 'string' ? (responses[side] as string) : null);
  const input: ComparisonInput = {
    a: row!.a!,
    b: row!.b!,
    prompt: row!.prompt,
    responseA: text('a'),
    responseB: text('b'),
    truncated: row!.truncated === null || row!.truncated & 4 ? null : { a: (row!.truncated & 1) !== 0, b: (row!.truncated & 2) !== 0 },
    truncationNotes: row!.truncationNotes,
    warnings:
      row!.truncated !== null && row!.truncated & 4
        ? [
            `${source} says a conversation was truncated to fit the model's context, but not which: the rewards may describe only part of a response.`,
          ]
        : null,
    label: row!.label,
    subset: row!.subset,
    id: row!.id,
    source,
  };
  const tree =
    typeof doc.tree === 'string'
      ? doc.tree
      : doc.tree !== null && typeof doc.tree === 'object' && typeof (doc.tree as Record<string, unknown>).name === 'string'
        ? ((doc.tree as Record<string, unknown>).name as string)
        : null;
  return { kind: 'comparison', input, tree, probability: typeof doc.probability === 'number' ? doc.probability : null };
}
