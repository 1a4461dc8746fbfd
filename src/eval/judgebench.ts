/**
 * JudgeBench scoring: accuracy per category and overall, from both orders of each pair.
 *
 * As the official code (ScalerLab/JudgeBench `utils/metrics.py`, `compute_final_metrics` with
 * `reverse_order`; categories as `run_judge.py` selects them by source prefix):
 *
 * - each pair is judged as (A, B) and as (B, A); every reading that picks the labelled response
 *   counts +1, every reading that picks the other −1; the pair is right when the sum is
 *   positive, wrong when negative. Here the second reading is the recorded swapped reading
 *   (`swappedProbability`); a result without one is judged on its one reading, as JudgeBench's
 *   `--single_game` judges reward models (they score each response alone);
 * - categories: knowledge = sources starting `mmlu-pro`, reasoning = `livebench-reasoning`,
 *   math = `livebench-math`, coding = `livecodebench`; overall = every pair.
 *
 * Difference, reported: a sum of 0 (the readings disagree, or both tie) counts 0.5 here; the
 * official code counts it as wrong. With the symmetric rule both readings always agree.
 * Scores are percents (0-100).
 *
 * May import: its own folder (eval/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * model/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { mirrorPreference, preferenceOf, type Preference } from '../tree/decision.js';

/**
 * JudgeBench's four categories and the source prefixes that select them.
 *
 * @example
 * ```ts
 * JUDGEBENCH_CATEGORIES.map((c) => c.name); // ['knowledge', 'reasoning', 'math', 'coding']
 * ```
 */
export const JUDGEBENCH_CATEGORIES = [
  { name: 'knowledge', prefix: 'mmlu-pro' },
  { name: 'reasoning', prefix: 'livebench-reasoning' },
  { name: 'math', prefix: 'livebench-math' },
  { name: 'coding', prefix: 'livecodebench' },
] as const;

/** One of JudgeBench's category names. */
export type JudgeBenchCategory = (typeof JUDGEBENCH_CATEGORIES)[number]['name'];

/**
 * The category of a JudgeBench source (`mmlu-pro-law` → knowledge), or null.
 *
 * @example
 * ```ts
 * judgeBenchCategoryOf('livebench-math'); // 'math'
 * judgeBenchCategoryOf('my-set');         // null
 * ```
 */
export function judgeBenchCategoryOf(source: string): JudgeBenchCategory | null {
  return JUDGEBENCH_CATEGORIES.find((c) => source.startsWith(c.prefix))?.name ?? null;
}

/** What {@link scoreJudgeBench} needs of one pair. */
export interface JudgeBenchRow {
  /** The pair's JudgeBench source (`mmlu-pro-law`, `livecodebench`, ...). */
  subset: string | null;
  preference: Preference;
  label?: 'a' | 'b';
  /** P(first response preferred) with the pair shown as (b, a); absent: one reading only. */
  swappedProbability?: number;
}

/** Accuracy of a category or of all pairs. */
export interface JudgeBenchScore {
  /** Percent; a pair whose readings cancel out counts 0.5. */
  accuracy: number;
  n: number;
  /** Pairs whose readings cancel out (disagree, or both tie). */
  ties: number;
}

/** JudgeBench scores, in percent (0-100). */
export interface JudgeBenchScores {
  /** Every pair, as the official "Overall". */
  overall: JudgeBenchScore | null;
  /** Each category with pairs; one without pairs is absent. */
  categories: Partial<Record<JudgeBenchCategory, JudgeBenchScore>>;
  /** Pairs judged in both orders (a swapped reading recorded). */
  bothOrders: number;
  /** Sources in no category, with their pair counts: in the overall, in no category. */
  otherSources: Record<string, number>;
  warnings: string[];
}

/**
 * Scores JudgeBench pairs as its official code does (see the module comment).
 *
 * @example
 * ```ts
 * const s = scoreJudgeBench([
 *   { subset: 'mmlu-pro-law', preference: 'a', label: 'a' },
 *   { subset: 'livecodebench', preference: 'a', label: 'b' },
 * ]);
 * s.categories.knowledge?.accuracy; // 100
 * s.overall?.accuracy;              // 50
 * ```
 */
export function scoreJudgeBench(rows: readonly JudgeBenchRow[], options: { tieBand?: number } = {}): JudgeBenchScores {
  if (!Array.isArray(rows)) throw new TypeError('rows must be an array of {subset, preference, label}');
  const tieBand = options.tieBand ?? 0;
  const tally = new Map<string, { credit: number; n: number; ties: number }>();
  const otherSources: Record<string, number> = {};
  let bothOrders = 0;
  const add = (key: string, credit: number): void => {
    const t = tally.get(key) ?? { credit: 0, n: 0, ties: 0 };
    t.n++;
    t.credit += credit;
    if (credit === 0.5) t.ties++;
    tally.set(key, t);
  };
  rows.forEach((row, k) => {
    if (row === null || typeof row !== 'object') throw new TypeError(`rows[${k}] must be an object {subset, preference, label}`);
    if (row.preference !== 'a' && row.preference !== 'b' && row.preference !== 'tie')
      throw new TypeError(`rows[${k}].preference must be 'a', 'b' or 'tie', got ${JSON.stringify(row.preference)}`);
    const label = row.label ?? 'a';
    const vote = (p: Preference): number => (p === 'tie' ? 0 : p === label ? 1 : -1);
    let sum = vote(row.preference);
    if (row.swappedProbability !== undefined) {
      bothOrders++;
      // The (b, a) reading picks "first" = b: mirrored, it is a decision on (a, b).
      sum += vote(mirrorPreference(preferenceOf(row.swappedProbability, tieBand)));
    }
    const credit = sum > 0 ? 1 : sum < 0 ? 0 : 0.5;
    add('', credit);
    const source = row.subset ?? '(none)';
    const category = judgeBenchCategoryOf(source);
    if (category !== null) add(category, credit);
    else otherSources[source] = (otherSources[source] ?? 0) + 1;
  });
  const score = (key: string): JudgeBenchScore | null => {
    const t = tally.get(key);
    return t ? { accuracy: (100 * t.credit) / t.n, n: t.n, ties: t.ties } : null;
  };
  const categories: JudgeBenchScores['categories'] = {};
  for (const { name } of JUDGEBENCH_CATEGORIES) {
    const s = score(name);
    if (s !== null) categories[name] = s;
  }
  const warnings: string[] = [];
  const other = Object.keys(otherSources);
  if (other.length > 0)
    warnings.push(
      `${other.length} source${other.length === 1 ? '' : 's'} in no JudgeBench category, counted in the overall only: ${other.map((s) => `${s} (${otherSources[s]})`).join(', ')}`,
    );
  const overall = score('');
  if (overall && overall.ties > 0)
    warnings.push(
      `${overall.ties} pair${overall.ties === 1 ? '' : 's'} whose readings cancel out (they disagree, or tie), each counted as 0.5 (the official JudgeBench code counts them as wrong)`,
    );
  // A scorer that reads each response alone (a scalar reward model) has one order only, as JudgeBench's --single_game; a mix is worth a word.
  if (bothOrders > 0 && bothOrders < rows.length)
    warnings.push(
      `${rows.length - bothOrders} of ${rows.length} pairs judged in one order only (no swapped reading recorded), the others in both`,
    );
  return { overall, categories, bothOrders, otherSources, warnings };
}
