/**
 * Evaluation: score pairs (with a tree on attribute scores, or a model on texts) into per-pair
 * results, and summarise results into benchmark scores (RewardBench, RM-Bench, RewardBench 2,
 * JudgeBench) and generic preference-set metrics. Summaries use only the results, so
 * `dtr eval --scores results.jsonl` gives the same report as the run that wrote them, and
 * results of any other scorer (`{id, subset, preference}`) are summarised the same way.
 *
 * May import: its own folder (eval/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * model/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTE_COUNT, toVector, type AttributeScores } from '../attributes.js';
import { explain } from '../explain/explain.js';
import {
  checkDecisionOptions,
  mirrorPreference,
  preferenceOf,
  probabilityOf,
  type DecisionOptions,
  type Preference,
} from '../tree/decision.js';
import type { PathStep, PreferenceTree } from '../tree/preference-tree.js';
import { DtrError } from '../errors.js';
import type { EvalFormat, EvalItem } from '../data/datasets.js';
import { judgeBenchCategoryOf, scoreJudgeBench, type JudgeBenchScores } from './judgebench.js';
import { pairMetrics, type PairMetrics } from './metrics.js';
import type { PairResult } from './results.js';
import { scoreRewardBench2, type RewardBench2Scores } from './rewardbench2.js';
import {
  rewardBenchSectionOf,
  scoreRewardBench,
  subsetAccuracies,
  type RewardBenchSection,
  type RewardBenchWeighting,
  type SubsetScore,
} from './rewardbench.js';
import { scoreRmBench, type RmBenchScores } from './rmbench.js';
import { lineList } from '../util/format.js';

/**
 * Scores attribute-score pairs with a tree alone (no model): the decision, P(a preferred), the
 * path, and the swapped reading for position consistency. Items labelled `tie` are the caller's
 * to drop first (see {@link splitLabelTies}).
 *
 * @example
 * ```ts
 * const set = readEvalSet('pairs.jsonl');             // attribute scores
 * const results = scoreWithTree(PreferenceTree.load('helpsteer2-human'), set.items);
 * summarizeResults(results, { format: set.format }).metrics.accuracy;
 * ```
 */
export function scoreWithTree(
  tree: PreferenceTree,
  items: readonly EvalItem[],
  options: DecisionOptions & { onProgress?: (done: number, total: number) => void } = {},
): PairResult[] {
  const { symmetric, tieBand } = checkDecisionOptions(options);
  const out: PairResult[] = [];
  const d = new Float64Array(ATTRIBUTE_COUNT);
  const m = new Float64Array(ATTRIBUTE_COUNT);
  items.forEach((item, i) => {
    if (typeof item.a === 'string' || typeof item.b === 'string') {
      throw new TypeError(`items[${i}] (${item.id}) has response texts: a tree alone scores attribute scores; use a model for texts`);
    }
    if (item.label === 'tie') throw new RangeError(`items[${i}] (${item.id}) is labelled tie: drop such items first (splitLabelTies)`);
    const va = toVector(item.a, `items[${i}].a`);
    const vb = toVector(item.b, `items[${i}].b`);
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
      d[k] = va[k]! - vb[k]!;
      m[k] = -d[k]!;
    }
    const probability = probabilityOf(tree, d, symmetric);
    out.push({
      id: item.id,
      subset: item.subset,
      ...comparisonOf(item),
      label: item.label,
      preference: preferenceOf(probability, tieBand),
      probability,
      swappedProbability: probabilityOf(tree, m, symmetric),
      rewards: { a: item.a as AttributeScores, b: item.b as AttributeScores },
      path: tree.decisionPath(d),
    });
    options.onProgress?.(i + 1, items.length);
  });
  return out;
}

/** The RM-Bench styles or RewardBench 2 indices of an item, for its result. */
function comparisonOf(item: EvalItem): Pick<PairResult, 'chosenStyle' | 'rejectedStyle' | 'chosenIndex' | 'rejectedIndex'> {
  const out: Pick<PairResult, 'chosenStyle' | 'rejectedStyle' | 'chosenIndex' | 'rejectedIndex'> = {};
  if (item.chosenStyle !== undefined && item.rejectedStyle !== undefined) {
    out.chosenStyle = item.chosenStyle;
    out.rejectedStyle = item.rejectedStyle;
  }
  if (item.chosenIndex !== undefined && item.rejectedIndex !== undefined) {
    out.chosenIndex = item.chosenIndex;
    out.rejectedIndex = item.rejectedIndex;
  }
  return out;
}

/**
 * What {@link scoreWithModel} needs of one comparison (a `RewardModel.compare` result has all of it).
 *
 * @example
 * ```ts
 * const c: ComparisonLike = await model.compare('How many apples?', 'Three each.', 'Four each.');
 * c.delta.helpfulness; // rewards.a.helpfulness - rewards.b.helpfulness
 * ```
 */
export interface ComparisonLike {
  rewards: { a: AttributeScores; b: AttributeScores };
  /** a − b per attribute. */
  delta: AttributeScores;
  preference: Preference;
  probability: number;
  path: PathStep[];
  truncated: boolean;
}

/**
 * Options of {@link scoreWithModel}.
 *
 * @example
 * ```ts
 * const options: ModelScoringOptions = {
 *   batchSize: 8,
 *   tree: PreferenceTree.load('helpsteer2-human'), // decide with this tree, not the model's
 *   tieBand: 0.01,
 *   onProgress: (done, total) => process.stderr.write(`\r${done}/${total}`),
 * };
 * const results = await scoreWithModel(model, set.items, options);
 * ```
 */
export interface ModelScoringOptions extends DecisionOptions {
  /** Conversations per batch (default: the model's). */
  batchSize?: number;
  /** Padded tokens per batch (default: the model's). */
  maxTokensPerBatch?: number;
  /** Decide with this tree instead of the model's own. */
  tree?: PreferenceTree;
  /**
   * Called as work is done: responses scored of the distinct responses when the model scores
   * responses one by one (`scoreStream`), pairs compared otherwise.
   */
  onProgress?: (done: number, total: number) => void;
}

/**
 * A model that compares response texts: `RewardModel` (its `tree` and `compareStream`) fits.
 * Kept structural so evaluation does not load the ONNX runtime until a model is given, and so a
 * test or another scorer can stand in for it.
 *
 * @example
 * ```ts
 * const comparer: PairComparer = await RewardModel.load('models/fixture');
 * const results = await scoreWithModel(comparer, readEvalSet('rewardbench-filtered.jsonl').items);
 * ```
 */
export interface PairComparer {
  readonly tree: PreferenceTree;
  compareStream(
    items: Iterable<{ prompt: string; a: string; b: string }>,
    options: ModelScoringOptions & { total?: number },
  ): AsyncIterable<ComparisonLike>;
  /**
   * Scores single responses (as `RewardModel.scoreStream`). When present, every distinct
   * response is scored once and the comparisons are made from those rewards: RM-Bench's nine
   * comparisons per prompt need its six responses, not eighteen conversations.
   */
  scoreStream?(
    items: Iterable<{ prompt: string; response: string }>,
    options: { batchSize?: number; maxTokensPerBatch?: number; total?: number; onProgress?: (done: number, total: number) => void },
  ): AsyncIterable<{ rewards: AttributeScores; truncated: boolean }>;
}

/**
 * Scores response-text pairs with a reward model: rewards, the tree's decision and path, the
 * swapped reading (the model's tree on b − a, no second model call), and whether a
 * conversation was truncated. Streams, so memory stays flat on large sets.
 *
 * Items labelled `tie` must be dropped first ({@link splitLabelTies}); items with attribute
 * scores instead of texts go to {@link scoreWithTree}.
 *
 * @example
 * ```ts
 * import { RewardModel, readEvalSet, scoreWithModel, splitLabelTies, summarizeResults, writePairResults } from 'decision-tree-reward';
 * const model = await RewardModel.load('models/skywork-llama-3.1-8b');
 * try {
 *   const set = readEvalSet('rewardbench-filtered.jsonl');
 *   const results = await scoreWithModel(model, splitLabelTies(set.items).scored, { batchSize: 16 });
 *   writePairResults('results.jsonl', results);        // what `dtr eval --out` writes
 *   summarizeResults(results, { format: set.format }).overall;
 * } finally {
 *   await model.dispose();
 * }
 * ```
 */
export async function scoreWithModel(
  model: PairComparer,
  items: readonly EvalItem[],
  options: ModelScoringOptions = {},
): Promise<PairResult[]> {
  const { symmetric, tieBand } = checkDecisionOptions(options);
  items.forEach((item, i) => {
    if (typeof item.a !== 'string' || typeof item.b !== 'string')
      throw new TypeError(`items[${i}] (${item.id}) has attribute scores, not texts: score it with a tree (scoreWithTree)`);
    if (item.prompt === null) throw new TypeError(`items[${i}] (${item.id}) has no prompt`);
    if (item.label === 'tie') throw new RangeError(`items[${i}] (${item.id}) is labelled tie: drop such items first (splitLabelTies)`);
  });
  const tree = options.tree ?? model.tree;
  const out: PairResult[] = [];
  const m = new Float64Array(ATTRIBUTE_COUNT);
  const push = (item: EvalItem, r: ComparisonLike): void => {
    const d = toVector(r.delta, 'delta');
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) m[k] = -d[k]!;
    out.push({
      id: item.id,
      subset: item.subset,
      ...comparisonOf(item),
      label: item.label as 'a' | 'b',
      preference: r.preference,
      probability: r.probability,
      swappedProbability: probabilityOf(tree, m, symmetric),
      rewards: r.rewards,
      path: r.path,
      truncated: r.truncated,
    });
  };
  const batch = {
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.maxTokensPerBatch !== undefined ? { maxTokensPerBatch: options.maxTokensPerBatch } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  if (typeof model.scoreStream === 'function') {
    // Each distinct response once; the comparisons are explain() on their rewards, as compare() makes them.
    const index = new Map<string, number>();
    const distinct: { prompt: string; response: string }[] = [];
    const slots = items.map((item) =>
      [item.a as string, item.b as string].map((response) => {
        const key = `${item.prompt!}\u0000${response}`;
        let k = index.get(key);
        if (k === undefined) {
          k = distinct.length;
          index.set(key, k);
          distinct.push({ prompt: item.prompt!, response });
        }
        return k;
      }),
    );
    const scored: { rewards: AttributeScores; truncated: boolean }[] = [];
    for await (const r of model.scoreStream(distinct, { ...batch, total: distinct.length })) scored.push(r);
    if (scored.length !== distinct.length)
      throw new DtrError('E_INTERNAL', `the model returned ${scored.length} scores for ${distinct.length} responses`);
    items.forEach((item, i) => {
      const [a, b] = [scored[slots[i]![0]!]!, scored[slots[i]![1]!]!];
      const e = explain(tree, a.rewards, b.rewards, { symmetric, tieBand });
      push(item, {
        rewards: { a: a.rewards, b: b.rewards },
        delta: e.delta,
        preference: e.preference,
        probability: e.probability,
        path: e.path,
        truncated: a.truncated || b.truncated,
      });
    });
    return out;
  }
  const stream = model.compareStream(
    items.map((item) => ({ prompt: item.prompt!, a: item.a as string, b: item.b as string })),
    { symmetric, tieBand, total: items.length, ...batch, ...(options.tree ? { tree: options.tree } : {}) },
  );
  let i = 0;
  for await (const r of stream) push(items[i++]!, r);
  if (out.length !== items.length)
    throw new DtrError('E_INTERNAL', `the model returned ${out.length} comparisons for ${items.length} pairs`);
  return out;
}

/** Generic preference-set metrics (fractions, not percents). */
export interface PreferenceSetMetrics extends Omit<PairMetrics, 'logLoss' | 'brier' | 'ece'> {
  /** Log loss, Brier score and ECE over the results that record a probability; null when none does. */
  logLoss: number | null;
  brier: number | null;
  ece: number | null;
  /** Results with a probability (the calibration metrics use these). */
  probabilityN: number;
  /**
   * Share of pairs whose decision mirrors when the two responses swap places; null when no
   * result recorded `swappedProbability`.
   */
  positionConsistency: number | null;
  /** Pairs that recorded the swapped reading. */
  positionConsistencyN: number;
}

/**
 * Everything `dtr eval` reports. Accuracies in `overall`, `sections` and `subsets` are percents
 * (0-100); `metrics` are fractions. The benchmark parts (`sections`, `rmBench`, `rewardBench2`,
 * `judgeBench`) are null for other formats.
 */
export interface EvalReport {
  format: EvalFormat;
  /** Comparisons (pairs) scored. */
  n: number;
  /**
   * The headline score, percent: RewardBench's mean of the sections, RM-Bench's overall
   * average, RewardBench 2's mean of the six subsets, JudgeBench's overall; other formats:
   * accuracy over all pairs. Null when the benchmark's rules give none (see `warnings`).
   */
  overall: number | null;
  /** RewardBench section scores (percent); null for other formats. */
  sections: Record<RewardBenchSection, number | null> | null;
  /** Pairwise accuracy per subset (RewardBench: with its section); every comparison counts once. */
  subsets: Record<string, SubsetScore>;
  /** RM-Bench: the style matrix, hard / normal / easy per domain and overall. */
  rmBench: RmBenchScores | null;
  /** RewardBench 2: per-subset prompt accuracy, the Ties score, the overall. */
  rewardBench2: RewardBench2Scores | null;
  /** JudgeBench: per-category and overall accuracy from both orders. */
  judgeBench: JudgeBenchScores | null;
  /** Accuracy, log loss, Brier, ECE, tie rate (fractions) and position consistency. */
  metrics: PreferenceSetMetrics;
  /** Pairs decided `tie` (each counted 0.5). */
  ties: number;
  /** Pairs the model scored from shortened conversations (`truncated: true`). */
  truncated: number;
  unknownSubsets: Record<string, number>;
  duplicateIds: string[];
  /** RewardBench section weighting used; null for other formats. */
  weighting: RewardBenchWeighting | null;
  warnings: string[];
}

/** Options of {@link summarizeResults}. */
export interface SummarizeOptions {
  /** The benchmark whose rules apply; default: {@link detectResultsFormat}. */
  format?: EvalFormat;
  weighting?: RewardBenchWeighting;
  /** Tie band for reading `swappedProbability` (default 0). */
  tieBand?: number;
}

/**
 * The format of results, from their fields: RM-Bench styles (`chosenStyle`), RewardBench 2
 * indices (`chosenIndex`), RewardBench subset names, JudgeBench sources (`mmlu-pro-*`,
 * `livebench-*`, `livecodebench`); `pairs` otherwise.
 *
 * @example
 * ```ts
 * detectResultsFormat([{ id: '1', subset: 'chat', preference: 'a', chosenStyle: 0, rejectedStyle: 1 }]); // 'rm-bench'
 * detectResultsFormat([{ id: '1', subset: 'hep-go', preference: 'a' }]);                                // 'rewardbench'
 * ```
 */
export function detectResultsFormat(results: readonly PairResult[]): EvalFormat {
  if (results.some((r) => r.chosenStyle !== undefined)) return 'rm-bench';
  if (results.some((r) => r.chosenIndex !== undefined)) return 'rewardbench-2';
  if (results.some((r) => r.subset !== null && rewardBenchSectionOf(r.subset) !== null)) return 'rewardbench';
  if (results.length > 0 && results.every((r) => r.subset !== null && judgeBenchCategoryOf(r.subset) !== null)) return 'judgebench';
  return 'pairs';
}

/**
 * Summarises per-pair results: per-subset accuracies, the benchmark's own scores (RewardBench
 * sections, RM-Bench style matrix, RewardBench 2 subsets and Ties, JudgeBench categories), and
 * generic metrics. Results of any scorer work: only `id`, `subset` and `preference` are needed.
 *
 * @throws DtrError `E_DATA` when the format's rules need a field the results lack (RM-Bench
 *   styles, RewardBench 2 indices).
 * @example
 * ```ts
 * const report = summarizeResults(readPairResults('results.jsonl'));
 * report.overall;            // e.g. 64.27 (percent)
 * report.sections?.Reasoning; // mean(math-prm, hep-*)
 * report.rmBench?.domains.chat?.hard;
 * ```
 */
export function summarizeResults(results: readonly PairResult[], options: SummarizeOptions = {}): EvalReport {
  if (!Array.isArray(results)) throw new TypeError('results must be an array of per-pair results');
  const tieBand = checkDecisionOptions({ tieBand: options.tieBand }).tieBand;
  const format = options.format ?? detectResultsFormat(results);
  const n = results.length;
  const withP = results.filter((r) => r.probability !== undefined);
  const preferences: Preference[] = [];
  const allLabels = new Uint8Array(n);
  let consistent = 0;
  let swappedN = 0;
  let truncated = 0;
  results.forEach((r, i) => {
    allLabels[i] = (r.label ?? 'a') === 'a' ? 1 : 0;
    preferences.push(r.preference);
    if (r.truncated === true) truncated++;
    if (r.swappedProbability !== undefined) {
      swappedN++;
      if (r.preference === mirrorPreference(preferenceOf(r.swappedProbability, tieBand))) consistent++;
    }
  });
  // Accuracy and tie rate count every decision; the calibration metrics need probabilities.
  const decided = pairMetrics(new Float64Array(n).fill(0.5), allLabels, { preferences });
  const calibrated =
    withP.length > 0
      ? pairMetrics(
          Float64Array.from(withP, (r) => r.probability!),
          Uint8Array.from(withP, (r) => ((r.label ?? 'a') === 'a' ? 1 : 0)),
        )
      : null;
  const metrics: PreferenceSetMetrics = {
    n,
    accuracy: decided.accuracy,
    logLoss: calibrated?.logLoss ?? null,
    brier: calibrated?.brier ?? null,
    ece: calibrated?.ece ?? null,
    probabilityN: withP.length,
    tieRate: decided.tieRate,
    positionConsistency: swappedN > 0 ? consistent / swappedN : null,
    positionConsistencyN: swappedN,
  };
  const rows = results.map((r) => ({ subset: r.subset, preference: r.preference, label: r.label ?? 'a', id: r.id }));
  const warnings: string[] = [];
  const notes = (): string[] => {
    const out: string[] = [];
    if (truncated > 0)
      out.push(
        `${truncated} of ${n} pairs were scored from conversations shortened to the model's maximum length (truncated: true in the results)`,
      );
    if (swappedN > 0 && swappedN < n)
      out.push(`position consistency measured on ${swappedN} of ${n} pairs (the others recorded no swapped reading)`);
    if (withP.length === 0 && n > 0)
      out.push('no result records a probability: log loss, Brier score and calibration error are not measured');
    else if (withP.length < n)
      out.push(`log loss, Brier score and calibration error use the ${withP.length} of ${n} pairs that record a probability`);
    return out;
  };
  const base = {
    format,
    n,
    metrics,
    truncated,
    rmBench: null,
    rewardBench2: null,
    judgeBench: null,
    sections: null,
    weighting: null,
  } as const;
  if (format === 'rewardbench') {
    const rb = scoreRewardBench(rows, { weighting: options.weighting ?? 'examples' });
    return {
      ...base,
      overall: rb.overall,
      sections: rb.sections,
      subsets: rb.subsets,
      ties: rb.ties,
      unknownSubsets: rb.unknownSubsets,
      duplicateIds: rb.duplicateIds,
      weighting: rb.weighting,
      warnings: [...rb.warnings, ...notes()],
    };
  }
  const acc = subsetAccuracies(rows);
  const subsets: Record<string, SubsetScore> = {};
  for (const [name, sc] of Object.entries(acc.subsets)) subsets[name] = { ...sc, section: null };
  const generic = { subsets, ties: acc.ties };
  if (format === 'rm-bench') {
    const missing = results.filter((r) => r.chosenStyle === undefined || r.rejectedStyle === undefined);
    if (missing.length > 0)
      throw missingFields('rm-bench', 'chosenStyle and rejectedStyle (0 concise, 1 detailed plain, 2 detailed markdown)', missing);
    const rm = scoreRmBench(
      results.map((r) => ({
        id: r.id,
        subset: r.subset,
        chosenStyle: r.chosenStyle!,
        rejectedStyle: r.rejectedStyle!,
        preference: r.preference,
        label: r.label ?? 'a',
      })),
    );
    return {
      ...base,
      ...generic,
      overall: rm.overall?.average ?? null,
      rmBench: rm,
      unknownSubsets: rm.unknownSubsets,
      duplicateIds: rm.duplicateComparisons,
      warnings: [...rm.warnings, ...notes()],
    };
  }
  if (format === 'rewardbench-2') {
    const missing = results.filter((r) => r.chosenIndex === undefined || r.rejectedIndex === undefined);
    if (missing.length > 0)
      throw missingFields(
        'rewardbench-2',
        "chosenIndex and rejectedIndex (which of the prompt's chosen and rejected responses were compared)",
        missing,
      );
    const rb2 = scoreRewardBench2(
      results.map((r) => ({
        id: r.id,
        subset: r.subset,
        chosenIndex: r.chosenIndex!,
        rejectedIndex: r.rejectedIndex!,
        preference: r.preference,
        label: r.label ?? 'a',
        ...(r.scoreChosen !== undefined && r.scoreRejected !== undefined
          ? { scoreChosen: r.scoreChosen, scoreRejected: r.scoreRejected }
          : {}),
      })),
    );
    return {
      ...base,
      ...generic,
      overall: rb2.overall,
      rewardBench2: rb2,
      unknownSubsets: rb2.unknownSubsets,
      duplicateIds: rb2.duplicateComparisons,
      warnings: [...rb2.warnings, ...notes()],
    };
  }
  if (acc.duplicateIds.length > 0) {
    warnings.push(
      `${acc.duplicateIds.length} id${acc.duplicateIds.length === 1 ? ' appears' : 's appear'} more than once (every row is kept and counted): ${lineList(acc.duplicateIds)}`,
    );
  }
  if (format === 'judgebench') {
    const jb = scoreJudgeBench(
      results.map((r) => ({
        subset: r.subset,
        preference: r.preference,
        label: r.label ?? 'a',
        ...(r.swappedProbability !== undefined ? { swappedProbability: r.swappedProbability } : {}),
      })),
      { tieBand },
    );
    return {
      ...base,
      ...generic,
      overall: jb.overall?.accuracy ?? null,
      judgeBench: jb,
      unknownSubsets: jb.otherSources,
      duplicateIds: acc.duplicateIds,
      warnings: [...warnings, ...jb.warnings, ...notes()],
    };
  }
  if (acc.ties > 0) warnings.push(`${acc.ties} pair${acc.ties === 1 ? '' : 's'} decided tie, each counted as 0.5`);
  return {
    ...base,
    ...generic,
    overall: n > 0 ? 100 * metrics.accuracy : null,
    unknownSubsets: {},
    duplicateIds: acc.duplicateIds,
    warnings: [...warnings, ...notes()],
  };
}

function missingFields(format: EvalFormat, fields: string, rows: readonly PairResult[]): DtrError {
  const lines = rows.map((r) => ('line' in r ? `line ${(r as { line: number }).line}` : `id ${r.id}`));
  return new DtrError(
    'E_DATA',
    `${format} results need ${fields} on every row; ${rows.length} row${rows.length === 1 ? ' lacks' : 's lack'} them (${lines.slice(0, 5).join(', ')}${lines.length > 5 ? ', …' : ''})`,
    {
      hint: `write them as dtr eval --format ${format} --out does, or choose another --format`,
    },
  );
}
