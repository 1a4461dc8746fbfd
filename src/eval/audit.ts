/**
 * Judge audits: what does an LLM judge actually reward? Its pairwise verdicts are parsed, kept
 * only where they do not depend on the order the responses were shown in, and a depth-3 tree
 * of the judge's preference is fitted on the pairs' attribute scores (human ratings or model
 * rewards), as the RLHFlow study did for 34 judges. The report compares that tree with a
 * reference tree (by default the human HelpSteer2 tree): agreement, root attribute,
 * importances, and reliance on verbosity.
 *
 * May import: its own folder (eval/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * model/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, attributeIndex, type Attribute, type AttributeScores } from '../attributes.js';
import { parseAttributePairs, type AttributePairs } from '../data/pairs.js';
import { DtrError, type Issue } from '../errors.js';
import { preferenceOf, probabilityOf, type Preference } from '../tree/decision.js';
import { readJsonl, type JsonlRow } from '../io/jsonl.js';
import type { Provenance } from '../provenance.js';
import { PreferenceTree, type FitOptions } from '../tree/preference-tree.js';
import { parseVerdict, type JudgeVerdict, type VerdictFormat } from './verdicts.js';

/** One judge output: which pair, in which order the responses were shown, and the raw text. */
export interface VerdictRow {
  /** `file:line`. */
  where: string;
  /** The pair's id; null when verdicts are matched to pairs by position. */
  id: string | null;
  /** `ab`: the pair's a was shown first (as A); `ba`: b was shown first. */
  order: 'ab' | 'ba';
  /** The judge's output text. */
  output: string;
}

const OUTPUT_KEYS = ['output', 'verdict', 'completion', 'response', 'judgment'] as const;

/**
 * Reads judge outputs: JSONL rows `{"id": ..., "order": "ab"|"ba", "output": "<judge text>"}`
 * (`order` defaults to `ab`; the text may also be under `verdict`, `completion`, `response` or
 * `judgment`). Every bad row is reported at once (`E_DATA`).
 *
 * @example
 * ```ts
 * const rows = readVerdicts('judge.jsonl');
 * rows[0]; // { where: 'judge.jsonl:1', id: 'p1', order: 'ab', output: '... [[A]]' }
 * ```
 */
export function readVerdicts(path: string, source: string = path): VerdictRow[] {
  return parseVerdictRows(readJsonl(path), source);
}

/**
 * {@link readVerdicts} on rows already read.
 *
 * @example
 * ```ts
 * parseVerdictRows([{ line: 1, value: { id: 'p1', output: '[[A]]' } }], 'inline')[0].order; // 'ab'
 * ```
 */
export function parseVerdictRows(rows: readonly JsonlRow[], source: string): VerdictRow[] {
  const issues: Issue[] = [];
  const out: VerdictRow[] = [];
  for (const { line, value } of rows) {
    const where = `${source}:${line}`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: where, message: 'expected an object {"id": ..., "order": "ab"|"ba", "output": "..."}' });
      continue;
    }
    const row = value as Record<string, unknown>;
    const key = OUTPUT_KEYS.find((k) => row[k] !== undefined);
    const before = issues.length;
    if (key === undefined) issues.push({ path: where, message: `missing the judge's output text ("${OUTPUT_KEYS.join('", "')}")` });
    else if (typeof row[key] !== 'string')
      issues.push({ path: where, message: `"${key}" must be the judge's output text, got ${JSON.stringify(row[key])}` });
    const order = row.order ?? 'ab';
    if (order !== 'ab' && order !== 'ba')
      issues.push({ path: where, message: `"order" must be "ab" (a shown first) or "ba", got ${JSON.stringify(order)}` });
    const id = row.id;
    if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number')
      issues.push({ path: where, message: `"id" must be a string or number, got ${JSON.stringify(id)}` });
    if (issues.length > before) continue;
    out.push({ where, id: id === undefined || id === null ? null : String(id), order: order as 'ab' | 'ba', output: row[key!] as string });
  }
  if (issues.length > 0) throw dataError(source, issues, 'verdict rows');
  return out;
}

/**
 * Reads the pairs a judge judged, with attribute scores: attribute-pair rows
 * `{"id": ..., "a": {...}, "b": {...}, "label"?: "a"|"b"}` or `dtr eval` results
 * `{"id": ..., "rewards": {"a": {...}, "b": {...}}, ...}`.
 *
 * @example
 * ```ts
 * const pairs = readAuditPairs('pairs.jsonl');
 * pairs.ids[0]; // 'p1'
 * ```
 */
export function readAuditPairs(path: string, source: string = path): AttributePairs {
  const rows = readJsonl(path).map(({ line, value }) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const r = value as Record<string, unknown>;
      if (r.a === undefined && r.b === undefined && r.rewards !== null && typeof r.rewards === 'object') {
        const rewards = r.rewards as Record<string, unknown>;
        // A results row: its label (the data's preference) is kept; its decision is the model's, not used.
        return { line, value: { id: r.id, subset: r.subset, label: r.label ?? null, a: rewards.a, b: rewards.b } };
      }
    }
    return { line, value };
  });
  return parseAttributePairs(rows, source);
}

/** Options of {@link auditJudge}. */
export interface AuditOptions extends Pick<
  FitOptions,
  'criterion' | 'maxDepth' | 'minSamplesLeaf' | 'minSamplesSplit' | 'name' | 'description'
> {
  /** The tree the judge is compared with (e.g. `PreferenceTree.load('helpsteer2-human')`). */
  reference: PreferenceTree;
  /** Decide with the symmetric rule (default true) or the published p = f(a−b). */
  symmetric?: boolean;
  /** Recorded in the fitted tree. */
  provenance?: Provenance;
  /** The pairs file's name, for `file:line` in errors (default `pairs`). */
  pairsSource?: string;
  /**
   * Also fit pairs judged in both orders whose other verdict could not be read, as if judged
   * in one order (default false). Their position consistency was never checked: a judge that
   * always picks the first response shown passes as consistent on them.
   */
  keepUnchecked?: boolean;
}

/** A verdict that could not be read. */
export interface UnparseableVerdict {
  where: string;
  id: string | null;
  reason: string;
  /** The first 120 characters of the output. */
  excerpt: string;
}

/** Everything `dtr audit` reports. Agreements are fractions; a tie on one side counts 0.5. */
export interface AuditReport {
  verdicts: {
    rows: number;
    parsed: number;
    byFormat: Record<VerdictFormat, number>;
    unparseable: UnparseableVerdict[];
    /** Verdicts that call a tie (not used to fit). */
    ties: number;
  };
  pairs: {
    /** Pairs in the pairs file. */
    total: number;
    /** Pairs with a verdict in both orders, both read. */
    bothOrders: number;
    /** Of those, pairs where the two orders disagree: dropped. */
    inconsistent: string[];
    /**
     * Pairs given in both orders where one verdict could not be read: their position
     * consistency is unchecked, so they are left out of the fit unless `keepUnchecked`.
     */
    oneUnreadable: string[];
    /** Whether the `oneUnreadable` pairs were fitted (as one-order verdicts). */
    keptUnchecked: boolean;
    /** Pairs judged in one order only, its verdict read. */
    singleOrder: number;
    /** Pairs whose every verdict (one or both orders) could not be read. */
    unreadable: number;
    /** Pairs the verdicts never mention. */
    notJudged: number;
    /**
     * Pairs used to fit: a readable, position-consistent (or one-order), non-tie verdict.
     * `total` = `bothOrders` + `oneUnreadable` + `singleOrder` + `unreadable` + `notJudged`.
     */
    kept: number;
  };
  /** The depth-3 tree of the judge's preference. */
  tree: PreferenceTree;
  /** Share of kept verdicts the fitted tree reproduces. */
  fitAccuracy: number;
  /** The attribute the judge's tree splits on first (null for a single leaf). */
  root: Attribute | null;
  referenceRoot: Attribute | null;
  importances: AttributeScores;
  referenceImportances: AttributeScores;
  agreement: {
    /** Judge's verdicts vs the reference tree's decisions on the same pairs. */
    verdictsVsReference: number;
    /** Judge's tree vs the reference tree, decision by decision on the kept pairs. */
    treeVsReference: number;
    /** Judge's verdicts vs the pairs' own labels, where the pairs file has them. */
    verdictsVsLabels: number | null;
    labelled: number;
  };
  verbosity: {
    /** Verbosity's share of the judge tree's importance. */
    importance: number;
    referenceImportance: number;
    /** Among kept pairs whose verbosity differs, the share where the judge picked the more verbose response. */
    preferMoreVerbose: number | null;
    /** The same share for the reference tree's decisions. */
    referencePreferMoreVerbose: number | null;
    /** Kept pairs whose verbosity differs. */
    pairs: number;
  };
  reference: { name: string; source: string };
  warnings: string[];
}

/**
 * Audits a judge: parses its verdicts, keeps position-consistent ones, fits a depth-3 tree of its
 * preference on the pairs' attribute scores, and compares it with a reference tree.
 *
 * A pair judged in both orders is fitted only when both verdicts were read and agree; when one
 * of them could not be read its consistency is unchecked, and it is counted apart
 * (`pairs.oneUnreadable`) and left out unless `keepUnchecked`. A pair judged in one order only
 * is fitted on that verdict.
 *
 * Verdicts are matched to pairs by `id`; when no verdict has an id, the i-th verdict of each
 * order is the i-th pair, and each order present must cover every pair (`E_SHAPE`).
 *
 * @example
 * ```ts
 * const report = auditJudge(readVerdicts('judge.jsonl'), readAuditPairs('pairs.jsonl'), {
 *   reference: PreferenceTree.load('helpsteer2-human'),
 * });
 * report.root;                          // e.g. 'helpfulness'
 * report.agreement.verdictsVsReference; // e.g. 0.81
 * report.tree.save('trees/judge.json');
 * ```
 */
export function auditJudge(verdicts: readonly VerdictRow[], pairs: AttributePairs, options: AuditOptions): AuditReport {
  if (!Array.isArray(verdicts)) throw new TypeError('verdicts must be an array of verdict rows');
  if (!(options?.reference instanceof PreferenceTree)) throw new TypeError('options.reference must be a PreferenceTree');
  const symmetric = options.symmetric ?? true;
  const keepUnchecked = options.keepUnchecked ?? false;
  if (typeof keepUnchecked !== 'boolean')
    throw new TypeError(`options.keepUnchecked must be a boolean, got ${JSON.stringify(keepUnchecked)}`);
  if (verdicts.length === 0) throw new DtrError('E_EMPTY', 'no verdicts to audit');
  const slots = matchVerdicts(verdicts, pairs, options.pairsSource ?? 'pairs');

  const byFormat: Record<VerdictFormat, number> = { skywork: 0, 'con-j': 0, prose: 0, bare: 0 };
  const unparseable: UnparseableVerdict[] = [];
  let parsedCount = 0;
  let tieVerdicts = 0;
  const read = (row: VerdictRow | undefined): Preference | null => {
    if (row === undefined) return null;
    const p = parseVerdict(row.output);
    if (p.verdict === null) {
      unparseable.push({
        where: row.where,
        id: row.id,
        reason: p.reason,
        excerpt: row.output.length > 120 ? `${row.output.slice(0, 120)}…` : row.output,
      });
      return null;
    }
    parsedCount++;
    byFormat[p.format]++;
    if (p.verdict === 'tie') tieVerdicts++;
    return toPairPreference(p.verdict, row.order);
  };

  const keptIndex: number[] = [];
  const keptLabel: number[] = [];
  const inconsistent: string[] = [];
  const oneUnreadable: string[] = [];
  let bothOrders = 0;
  let singleOrder = 0;
  let unreadablePairs = 0;
  let notJudged = 0;
  slots.forEach((slot, i) => {
    if (slot.ab === undefined && slot.ba === undefined) {
      notJudged++;
      return;
    }
    const ab = read(slot.ab);
    const ba = read(slot.ba);
    let pick: Preference | null;
    if (ab === null && ba === null) {
      unreadablePairs++;
      return;
    }
    if (ab !== null && ba !== null) {
      bothOrders++;
      if (ab !== ba) {
        inconsistent.push(pairs.ids[i] ?? `#${i + 1}`);
        return;
      }
      pick = ab;
    } else if (slot.ab !== undefined && slot.ba !== undefined) {
      // Shown both ways but only one answer read: whether the judge would have picked the same
      // response the other way round is unknown, so it is no evidence of a consistent preference.
      oneUnreadable.push(pairs.ids[i] ?? `#${i + 1}`);
      if (!keepUnchecked) return;
      pick = ab ?? ba;
    } else {
      singleOrder++;
      pick = ab ?? ba;
    }
    if (pick === null || pick === 'tie') return;
    keptIndex.push(i);
    keptLabel.push(pick === 'a' ? 1 : 0);
  });

  const warnings: string[] = [];
  if (unparseable.length > 0)
    warnings.push(
      `${unparseable.length} of ${verdicts.length} verdicts could not be read (not used): first at ${unparseable[0]!.where} (${unparseable[0]!.reason})`,
    );
  if (inconsistent.length > 0)
    warnings.push(`${inconsistent.length} of ${bothOrders} pairs judged in both orders got different verdicts (position bias): dropped`);
  if (oneUnreadable.length > 0) {
    warnings.push(
      `${oneUnreadable.length} pair${oneUnreadable.length === 1 ? ' was' : 's were'} judged in both orders but one verdict could not be read (${listIds(oneUnreadable)}): position consistency unchecked, ` +
        (keepUnchecked
          ? 'fitted as one-order verdicts (keepUnchecked)'
          : 'left out of the fit (keepUnchecked, --keep-unchecked, fits them as one-order verdicts)'),
    );
  }
  if (notJudged > 0) warnings.push(`${notJudged} of ${pairs.n} pairs have no verdict`);
  if (tieVerdicts > 0) warnings.push(`${tieVerdicts} verdict${tieVerdicts === 1 ? ' calls' : 's call'} a tie (not used to fit)`);
  const k = keptIndex.length;
  if (k === 0) {
    throw new DtrError(
      'E_EMPTY',
      `no usable verdict: ${verdicts.length} verdicts, ${unparseable.length} unreadable, ${inconsistent.length} pairs position-inconsistent, ${keepUnchecked ? 0 : oneUnreadable.length} with one order unreadable, ${tieVerdicts} ties`,
      {
        issues: unparseable.slice(0, 20).map((u) => ({ path: u.where, message: `${u.reason}: ${JSON.stringify(u.excerpt)}` })),
        hint: 'verdicts are read as [[A]]/[[B]] (Skywork-Critic), {"更好的回答": 1|2} (Con-J), or prose such as "A is the better response"',
      },
    );
  }

  const deltas = new Float64Array(k * ATTRIBUTE_COUNT);
  keptIndex.forEach((i, j) => deltas.set(pairs.deltas.subarray(i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT), j * ATTRIBUTE_COUNT));
  const labels = Uint8Array.from(keptLabel);
  const { reference } = options;
  const fitted = PreferenceTree.fitArrays(deltas, labels, {
    criterion: options.criterion ?? 'log_loss',
    maxDepth: options.maxDepth ?? 3,
    ...(options.minSamplesLeaf !== undefined ? { minSamplesLeaf: options.minSamplesLeaf } : {}),
    ...(options.minSamplesSplit !== undefined ? { minSamplesSplit: options.minSamplesSplit } : {}),
    name: options.name ?? 'judge-audit',
    description:
      options.description ?? `depth-${options.maxDepth ?? 3} tree of an LLM judge's pairwise preferences on attribute differences a - b`,
    ...(options.provenance ? { provenance: options.provenance } : {}),
  });
  warnings.push(...fitted.warnings);

  const decide = (tree: PreferenceTree, j: number): Preference =>
    preferenceOf(probabilityOf(tree, deltas.subarray(j * ATTRIBUTE_COUNT, (j + 1) * ATTRIBUTE_COUNT), symmetric));
  const judgePref = (j: number): Preference => (labels[j] === 1 ? 'a' : 'b');
  let fit = 0;
  let vsRef = 0;
  let treeVsRef = 0;
  let vsLabels = 0;
  let labelled = 0;
  const vb = attributeIndex('verbosity');
  let verbosePairs = 0;
  let judgeVerbose = 0;
  let refVerbose = 0;
  for (let j = 0; j < k; j++) {
    const judge = judgePref(j);
    const mine = decide(fitted, j);
    const ref = decide(reference, j);
    fit += agreement(mine, judge);
    vsRef += agreement(judge, ref);
    treeVsRef += agreement(mine, ref);
    const label = pairs.labels[keptIndex[j]!]!;
    if (label === 0 || label === 1) {
      labelled++;
      vsLabels += agreement(judge, label === 1 ? 'a' : 'b');
    }
    const dv = deltas[j * ATTRIBUTE_COUNT + vb]!;
    if (dv !== 0) {
      const verbose: Preference = dv > 0 ? 'a' : 'b';
      verbosePairs++;
      judgeVerbose += agreement(judge, verbose);
      refVerbose += agreement(ref, verbose);
    }
  }
  const importances = fitted.featureImportances();
  const referenceImportances = reference.featureImportances();
  const rootOf = (t: PreferenceTree): Attribute | null => (t.arrays.left[0] === -1 ? null : ATTRIBUTES[t.arrays.feature[0]!]!);
  const report: AuditReport = {
    verdicts: { rows: verdicts.length, parsed: parsedCount, byFormat, unparseable, ties: tieVerdicts },
    pairs: {
      total: pairs.n,
      bothOrders,
      inconsistent,
      oneUnreadable,
      keptUnchecked: keepUnchecked,
      singleOrder,
      unreadable: unreadablePairs,
      notJudged,
      kept: k,
    },
    tree: fitted,
    fitAccuracy: fit / k,
    root: rootOf(fitted),
    referenceRoot: rootOf(reference),
    importances,
    referenceImportances,
    agreement: {
      verdictsVsReference: vsRef / k,
      treeVsReference: treeVsRef / k,
      verdictsVsLabels: labelled > 0 ? vsLabels / labelled : null,
      labelled,
    },
    verbosity: {
      importance: importances.verbosity,
      referenceImportance: referenceImportances.verbosity,
      preferMoreVerbose: verbosePairs > 0 ? judgeVerbose / verbosePairs : null,
      referencePreferMoreVerbose: verbosePairs > 0 ? refVerbose / verbosePairs : null,
      pairs: verbosePairs,
    },
    reference: { name: reference.name, source: reference.provenance.source },
    warnings,
  };
  // The tree file records what the audit measured, so `dtr report --tree` can show it.
  report.tree = fitted.with({
    metrics: {
      n: k,
      trainAccuracy: report.fitAccuracy,
      validationAccuracy: null,
      validationN: null,
      verdictsVsReference: report.agreement.verdictsVsReference,
      treeVsReference: report.agreement.treeVsReference,
      verdictsVsLabels: report.agreement.verdictsVsLabels,
      verbosityImportance: report.verbosity.importance,
      preferMoreVerbose: report.verbosity.preferMoreVerbose,
      unparseableVerdicts: unparseable.length,
      inconsistentPairs: inconsistent.length,
      oneUnreadablePairs: oneUnreadable.length,
    },
  });
  return report;
}

/** Up to five ids, then how many more. */
function listIds(ids: readonly string[]): string {
  return ids.length > 5 ? `${ids.slice(0, 5).join(', ')}, … ${ids.length - 5} more` : ids.join(', ');
}

/** 1 when two decisions agree, 0.5 when exactly one is a tie, 0 otherwise. */
function agreement(x: Preference, y: Preference): number {
  if (x === y) return 1;
  return x === 'tie' || y === 'tie' ? 0.5 : 0;
}

/** The judge's pick in the pair's terms: `A` is whichever response was shown first. */
function toPairPreference(v: JudgeVerdict, order: 'ab' | 'ba'): Preference {
  if (v === 'tie') return 'tie';
  return (v === 'A') === (order === 'ab') ? 'a' : 'b';
}

interface Slot {
  ab?: VerdictRow;
  ba?: VerdictRow;
}

function matchVerdicts(verdicts: readonly VerdictRow[], pairs: AttributePairs, source: string): Slot[] {
  const slots: Slot[] = Array.from({ length: pairs.n }, () => ({}));
  const withId = verdicts.filter((v) => v.id !== null).length;
  const issues: Issue[] = [];
  if (withId === 0) {
    // By position: each order present must cover every pair, in pair order.
    for (const order of ['ab', 'ba'] as const) {
      const rows = verdicts.filter((v) => v.order === order);
      if (rows.length === 0) continue;
      if (rows.length !== pairs.n) {
        throw new DtrError(
          'E_SHAPE',
          `mismatched pair counts: ${rows.length} verdicts in order ${order} for ${pairs.n} pairs (verdicts without ids are matched to pairs by position)`,
          {
            hint: 'give every verdict the "id" of its pair, or one verdict per pair in pair order',
          },
        );
      }
      rows.forEach((row, i) => (slots[i]![order] = row));
    }
    return slots;
  }
  if (withId !== verdicts.length) {
    const first = verdicts.find((v) => v.id === null)!;
    throw new DtrError(
      'E_DATA',
      `${withId} of ${verdicts.length} verdicts have an "id" and the rest do not (first without: ${first.where})`,
      { hint: 'give every verdict the "id" of its pair, or none (then they are matched by position)' },
    );
  }
  const index = new Map<string, number>();
  pairs.ids.forEach((id, i) => {
    if (id === null)
      issues.push({ path: `${source}:${pairs.lines[i]}`, message: 'pair has no "id" but the verdicts refer to pairs by id' });
    else if (index.has(id))
      issues.push({
        path: `${source}:${pairs.lines[i]}`,
        message: `id ${JSON.stringify(id)} also on line ${pairs.lines[index.get(id)!]}: ids must be unique to match verdicts`,
      });
    else index.set(id, i);
  });
  for (const v of verdicts) {
    const i = index.get(v.id!);
    if (i === undefined) {
      issues.push({ path: v.where, message: `no pair with id ${JSON.stringify(v.id)}` });
      continue;
    }
    if (slots[i]![v.order] !== undefined) {
      issues.push({
        path: v.where,
        message: `a second verdict for pair ${JSON.stringify(v.id)} in order ${v.order} (first at ${slots[i]![v.order]!.where})`,
      });
      continue;
    }
    slots[i]![v.order] = v;
  }
  if (issues.length > 0) throw dataError('verdicts and pairs', issues, 'rows');
  return slots;
}

function dataError(source: string, issues: Issue[], what: string): DtrError {
  const first = issues[0]!;
  return new DtrError('E_DATA', `${source}: ${issues.length} bad ${what}; first at ${first.path}: ${first.message}`, { issues });
}
