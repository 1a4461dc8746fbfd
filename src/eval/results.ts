/**
 * Per-pair results files: one JSON object per line, written by `dtr eval --out` and read back by
 * `dtr eval --scores` (re-aggregation without a model), diffs between models and `dtr report`.
 *
 * ```
 * {"id": "17", "subset": "alpacaeval-easy", "label": "a", "preference": "a", "probability": 0.93,
 *  "swappedProbability": 0.07, "rewards": {"a": {...5 attributes}, "b": {...}}, "path": [...]}
 * ```
 *
 * For RewardBench `a` is the chosen and `b` the rejected response, so `label` is always `a`.
 * RM-Bench and RewardBench 2 rows compare several responses per prompt: each comparison is a row
 * of its own, and `chosenStyle`/`rejectedStyle` (RM-Bench) or `chosenIndex`/`rejectedIndex`
 * (RewardBench 2) say which responses it compares.
 *
 * Results from any other scorer are read too: only `id` and `preference` are required (or
 * `scoreChosen` and `scoreRejected`, a scalar reward model's scores, from which the preference
 * follows); `probability`, `rewards` and `path` are optional.
 *
 * May import: its own folder (eval/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * model/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { checkAttributeScores, isAttribute, type AttributeScores } from '../attributes.js';
import { readFileSync } from 'node:fs';
import { DtrError, type Issue } from '../errors.js';
import type { Preference } from '../tree/decision.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readJsonl, toJsonl, type JsonlRow } from '../io/jsonl.js';
import type { PathStep } from '../tree/preference-tree.js';

/** One scored pair (one comparison). */
export interface PairResult {
  /** The pair's id in the evaluation file (as a string); the prompt's id for RM-Bench and RewardBench 2. */
  id: string;
  /** Its subset or category; null when the file has none. */
  subset: string | null;
  /** The response the data prefers: `a` for RewardBench (a = chosen). Absent means `a`. */
  label?: 'a' | 'b';
  /** The decision. */
  preference: Preference;
  /** P(a preferred). Absent when the scorer gives no probability (then calibration is not measured). */
  probability?: number;
  /**
   * P(first response preferred) when the pair is presented the other way round, (b, a): the
   * position-consistency check. Absent when it was not measured.
   */
  swappedProbability?: number;
  /**
   * A scalar reward model's scores of the chosen (labelled) response and of the other. When
   * given, the preference is theirs: the higher score wins, equal scores tie.
   */
  scoreChosen?: number;
  scoreRejected?: number;
  /** RM-Bench: the style of the chosen and of the rejected response (0 concise, 1 detailed plain, 2 detailed markdown). */
  chosenStyle?: number;
  rejectedStyle?: number;
  /** RewardBench 2: which of the prompt's chosen and rejected responses were compared (0-based). */
  chosenIndex?: number;
  rejectedIndex?: number;
  /** The five attribute rewards of each response (absent for results of other scorers). */
  rewards?: { a: AttributeScores; b: AttributeScores };
  /** The tree's root-to-leaf tests for a − b (empty for a single-leaf tree; absent for results of other scorers). */
  path?: PathStep[];
  /** True when the model shortened either conversation to fit its maximum length. Absent: not truncated (or no model). */
  truncated?: boolean;
}

/** A result with the line it was read from. */
export interface PairResultRow extends PairResult {
  line: number;
}

/**
 * Serialises results as JSONL text (one compact object per line), keys in schema order.
 *
 * @example
 * ```ts
 * writeFileAtomic('results.jsonl', pairResultsToJsonl(results));
 * ```
 */
export function pairResultsToJsonl(results: readonly PairResult[]): string {
  return toJsonl(
    results.map((r) => {
      const out: Record<string, unknown> = { id: r.id, subset: r.subset };
      for (const key of ['chosenStyle', 'rejectedStyle', 'chosenIndex', 'rejectedIndex', 'label'] as const)
        if (r[key] !== undefined) out[key] = r[key];
      out.preference = r.preference;
      for (const key of ['probability', 'swappedProbability', 'scoreChosen', 'scoreRejected', 'rewards', 'path', 'truncated'] as const)
        if (r[key] !== undefined) out[key] = r[key];
      return out;
    }),
  );
}

/**
 * Writes a results file atomically (temp file + rename): never a partial file.
 *
 * @example
 * ```ts
 * writePairResults('results.jsonl', report.results);
 * ```
 */
export function writePairResults(path: string, results: readonly PairResult[]): void {
  writeFileAtomic(path, pairResultsToJsonl(results));
}

/**
 * Reads a results file, checking every row; all problems are reported at once with
 * `file:line` (`E_DATA`). `source` is the name used in messages (default: `path`).
 *
 * @example
 * ```ts
 * const rows = readPairResults('results.jsonl');
 * summarizeResults(rows).overall;
 * ```
 */
export function readPairResults(path: string, source: string = path): PairResultRow[] {
  return parsePairResults(officialColumns(path) ?? readJsonl(path), source);
}

/**
 * RewardBench 2's official scores file as `scripts/run_v2.py` saves it (`save_to_hub` of
 * `out_dataset.to_dict()`): one JSON object of columns `{id: [...], subset: [...], num_correct:
 * [...], scores: [[...], ...], ...}`, turned into its per-prompt rows; null for any other file.
 */
function officialColumns(path: string): JsonlRow[] | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null; // readJsonl says what is wrong with the path
  }
  if (!text.trimStart().startsWith('{') || text.trim().split('\n').length < 2) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const cols = value as Record<string, unknown>;
  if (cols === null || typeof cols !== 'object' || !Array.isArray(cols.id) || !Array.isArray(cols.scores)) return null;
  const ids = cols.id as unknown[];
  return ids.map((id, i) => ({
    line: i + 1,
    value: {
      id,
      subset: (cols.subset as unknown[] | undefined)?.[i],
      num_correct: (cols.num_correct as unknown[] | undefined)?.[i],
      scores: (cols.scores as unknown[])[i],
    },
  }));
}

/**
 * One official RewardBench 2 per-prompt row `{id, subset, num_correct, scores: [...]}` (the
 * first `num_correct` scores are the correct answers') as its comparisons: each correct answer
 * against each incorrect one, with both scores; null for a row of another kind.
 */
function officialRewardBench2Row(row: Record<string, unknown>, bad: (m: string) => void): Record<string, unknown>[] | null {
  if (!Array.isArray(row.scores) || row.num_correct === undefined) return null;
  const scores = row.scores as unknown[];
  const k = row.num_correct;
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) >= scores.length) {
    bad(
      `"num_correct" must be an integer from 1 to ${scores.length - 1} (the scores hold the correct answers first), got ${JSON.stringify(k)}`,
    );
    return [];
  }
  const at = scores.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
  if (at >= 0) {
    bad(`"scores"[${at}] must be a finite number, got ${JSON.stringify(scores[at])}`);
    return [];
  }
  const n = k as number;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++)
    for (let j = n; j < scores.length; j++)
      out.push({ id: row.id, subset: row.subset, chosenIndex: i, rejectedIndex: j - n, scoreChosen: scores[i], scoreRejected: scores[j] });
  return out;
}

/**
 * {@link readPairResults} on rows already read.
 *
 * @example
 * ```ts
 * const rows = parsePairResults(readJsonl('results.jsonl'), 'results.jsonl');
 * parsePairResults([{ line: 1, value: { id: 'q1', subset: 'chat', scoreChosen: 1.5, scoreRejected: 0.2 } }], 'inline')[0].preference; // 'a'
 * ```
 */
export function parsePairResults(rows: readonly JsonlRow[], source: string): PairResultRow[] {
  if (rows.length === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  const issues: Issue[] = [];
  const out: PairResultRow[] = [];
  const expanded: JsonlRow[] = [];
  for (const r of rows) {
    const v = r.value as Record<string, unknown> | null;
    const official =
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? officialRewardBench2Row(v, (message) => void issues.push({ path: `${source}:${r.line}`, message }))
        : null;
    if (official === null) expanded.push(r);
    else for (const value of official) expanded.push({ line: r.line, value });
  }
  for (const { line, value } of expanded) {
    const where = `${source}:${line}`;
    const before = issues.length;
    const bad = (message: string): void => void issues.push({ path: where, message });
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      bad('expected an object {id, subset, preference, ...}');
      continue;
    }
    const row = value as Record<string, unknown>;
    const id = row.id;
    if (id === undefined || id === null) bad('missing "id"');
    else if (typeof id !== 'string' && (typeof id !== 'number' || !Number.isFinite(id)))
      bad(`"id" must be a string or number, got ${JSON.stringify(id)}`);
    const subset = row.subset;
    if (subset !== undefined && subset !== null && typeof subset !== 'string')
      bad(`"subset" must be a string or null, got ${JSON.stringify(subset)}`);
    if (row.label !== undefined && row.label !== 'a' && row.label !== 'b')
      bad(`"label" must be "a" or "b", got ${JSON.stringify(row.label)}`);
    const label = row.label === 'b' ? 'b' : 'a';
    const scores = checkScorePair(row, bad);
    let preference: Preference | null = null;
    if (row.preference !== undefined) {
      if (row.preference !== 'a' && row.preference !== 'b' && row.preference !== 'tie')
        bad(`"preference" must be "a", "b" or "tie", got ${JSON.stringify(row.preference)}`);
      else preference = row.preference;
    }
    if (scores !== null) {
      // The scores decide: the chosen (labelled) response wins when it scores higher.
      const other = label === 'a' ? 'b' : 'a';
      const implied: Preference = scores.chosen > scores.rejected ? label : scores.chosen < scores.rejected ? other : 'tie';
      if (preference !== null && preference !== implied)
        bad(
          `"preference" is ${JSON.stringify(preference)} but scoreChosen ${scores.chosen} and scoreRejected ${scores.rejected} give ${JSON.stringify(implied)}`,
        );
      preference = implied;
    } else if (row.preference === undefined && row.scoreChosen === undefined && row.scoreRejected === undefined) {
      bad('missing "preference" ("a", "b" or "tie"), or "scoreChosen" and "scoreRejected" (a scalar reward model\'s scores)');
    }
    checkProbability(row.probability, 'probability', bad);
    checkProbability(row.swappedProbability, 'swappedProbability', bad);
    const styles = checkIndexPair(row, 'chosenStyle', 'rejectedStyle', 2, bad);
    const indices = checkIndexPair(row, 'chosenIndex', 'rejectedIndex', Number.MAX_SAFE_INTEGER, bad);
    const rewards = row.rewards;
    if (rewards !== undefined) {
      if (rewards === null || typeof rewards !== 'object' || Array.isArray(rewards))
        bad('"rewards" must be an object {a: {...}, b: {...}} of the five attribute rewards of each response');
      else {
        for (const side of ['a', 'b'] as const) {
          for (const p of checkAttributeScores((rewards as Record<string, unknown>)[side]))
            bad(`rewards.${side}${p.key ? `.${p.key}` : ''}: ${p.message}`);
        }
      }
    }
    if (row.path !== undefined) {
      if (!Array.isArray(row.path)) bad('"path" must be an array of tree tests ([] for a single leaf)');
      else {
        row.path.forEach((step: unknown, k: number) => {
          const s = step as Record<string, unknown> | null;
          if (s === null || typeof s !== 'object') return bad(`path[${k}] must be an object`);
          if (!isAttribute(s.attribute)) bad(`path[${k}].attribute must be an attribute name, got ${JSON.stringify(s.attribute)}`);
          if (typeof s.threshold !== 'number') bad(`path[${k}].threshold must be a number`);
          if (s.went !== 'left' && s.went !== 'right') bad(`path[${k}].went must be "left" or "right"`);
        });
      }
    }
    if (row.truncated !== undefined && typeof row.truncated !== 'boolean')
      bad(`"truncated" must be true or false, got ${JSON.stringify(row.truncated)}`);
    if (issues.length > before || preference === null) continue;
    const r: PairResultRow = { line, id: String(id), subset: (subset as string | null | undefined) ?? null, preference };
    if (row.label !== undefined) r.label = row.label as 'a' | 'b';
    if (row.probability !== undefined) r.probability = row.probability as number;
    if (row.swappedProbability !== undefined) r.swappedProbability = row.swappedProbability as number;
    if (scores !== null) {
      r.scoreChosen = scores.chosen;
      r.scoreRejected = scores.rejected;
    }
    if (styles !== null) [r.chosenStyle, r.rejectedStyle] = styles;
    if (indices !== null) [r.chosenIndex, r.rejectedIndex] = indices;
    if (rewards !== undefined) r.rewards = rewards as NonNullable<PairResult['rewards']>;
    if (row.path !== undefined) r.path = row.path as PathStep[];
    if (row.truncated !== undefined) r.truncated = row.truncated as boolean;
    out.push(r);
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new DtrError(
      'E_DATA',
      `${source}: ${issues.length} bad value${issues.length === 1 ? '' : 's'} in results; first at ${first.path}: ${first.message}`,
      {
        issues,
        hint: 'a results file has one {id, subset, preference} per line (probability, rewards and path optional, as dtr eval --out writes them), or {id, subset, scoreChosen, scoreRejected} from a scalar reward model',
      },
    );
  }
  return out;
}

function checkProbability(v: unknown, key: string, bad: (m: string) => void): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) bad(`"${key}" must be a number in [0, 1], got ${JSON.stringify(v)}`);
}

/** `scoreChosen` and `scoreRejected`: both finite numbers, or neither. */
function checkScorePair(row: Record<string, unknown>, bad: (m: string) => void): { chosen: number; rejected: number } | null {
  const c = row.scoreChosen;
  const r = row.scoreRejected;
  if (c === undefined && r === undefined) return null;
  let ok = true;
  for (const [key, v] of [
    ['scoreChosen', c],
    ['scoreRejected', r],
  ] as const) {
    if (v === undefined) {
      bad(`"${key}" is missing: give both scoreChosen and scoreRejected, or neither`);
      ok = false;
    } else if (typeof v !== 'number' || !Number.isFinite(v)) {
      bad(`"${key}" must be a finite number, got ${JSON.stringify(v)}`);
      ok = false;
    }
  }
  return ok ? { chosen: c as number, rejected: r as number } : null;
}

/** Two integer fields given together (`chosenStyle`/`rejectedStyle`, `chosenIndex`/`rejectedIndex`), each in [0, max]. */
function checkIndexPair(
  row: Record<string, unknown>,
  a: string,
  b: string,
  max: number,
  bad: (m: string) => void,
): [number, number] | null {
  const x = row[a];
  const y = row[b];
  if (x === undefined && y === undefined) return null;
  let ok = true;
  for (const [key, v] of [
    [a, x],
    [b, y],
  ] as const) {
    if (v === undefined) {
      bad(`"${key}" is missing: give both ${a} and ${b}, or neither`);
      ok = false;
    } else if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      bad(
        `"${key}" must be ${max === 2 ? '0 (concise), 1 (detailed plain) or 2 (detailed markdown)' : 'a non-negative integer'}, got ${JSON.stringify(v)}`,
      );
      ok = false;
    }
  }
  return ok ? [x as number, y as number] : null;
}

/**
 * The key that matches a result with its counterpart in another results file: the id, plus
 * which responses were compared when a prompt has several comparisons.
 *
 * @example
 * ```ts
 * comparisonKey({ id: '7', subset: 'chat', preference: 'a', chosenStyle: 0, rejectedStyle: 2 }); // '7 [chosen 0 vs rejected 2]'
 * ```
 */
export function comparisonKey(r: PairResult): string {
  const c = r.chosenStyle ?? r.chosenIndex;
  const j = r.rejectedStyle ?? r.rejectedIndex;
  return c === undefined || j === undefined ? r.id : `${r.id} [chosen ${c} vs rejected ${j}]`;
}

const mirror = (p: Preference): Preference => (p === 'a' ? 'b' : p === 'b' ? 'a' : 'tie');

/** One pair whose decision differs between two results files. */
export interface ChangedPair {
  id: string;
  subset: string | null;
  label: 'a' | 'b';
  before: Preference;
  after: Preference;
  /** `fixed`: wrong (or tie) before, right after; `broken`: the reverse; `changed`: neither. */
  change: 'fixed' | 'broken' | 'changed';
}

/** What {@link diffPairResults} found. */
export interface PairResultsDiff {
  /** Pairs found in both files (matched by id; a repeated id by its occurrence). */
  matched: number;
  /** Ids in `before` only, and in `after` only. */
  onlyBefore: string[];
  onlyAfter: string[];
  fixed: number;
  broken: number;
  /** Every pair whose decision differs, in `after`'s order. */
  changed: ChangedPair[];
}

/**
 * Compares two results files of the same evaluation set (two models, or a model before and
 * after a change) pair by pair. Pairs are matched by id (and, for RM-Bench and RewardBench 2, by
 * the responses compared: {@link comparisonKey}); the k-th row with a repeated key matches the
 * k-th row with that key in the other file. Results of any scorer can be compared: when the two
 * files put the labelled response on different sides, the earlier decision is read in the later
 * file's sides (`before` is then mirrored).
 *
 * @example
 * ```ts
 * const d = diffPairResults(readPairResults('old.jsonl'), readPairResults('new.jsonl'));
 * console.log(`${d.fixed} fixed, ${d.broken} broken`);
 * ```
 */
export function diffPairResults(before: readonly PairResult[], after: readonly PairResult[]): PairResultsDiff {
  if (!Array.isArray(before) || !Array.isArray(after)) throw new TypeError('before and after must be arrays of per-pair results');
  const key = (rows: readonly PairResult[]): Map<string, PairResult> => {
    const seen = new Map<string, number>();
    const out = new Map<string, PairResult>();
    for (const r of rows) {
      const id = comparisonKey(r);
      const k = (seen.get(id) ?? 0) + 1;
      seen.set(id, k);
      out.set(k === 1 ? id : `${id}\u0000${k}`, r);
    }
    return out;
  };
  const b = key(before);
  const a = key(after);
  const show = (k: string): string => k.replace(/\u0000(\d+)$/, ' (#$1)');
  const changed: ChangedPair[] = [];
  let matched = 0;
  let fixed = 0;
  let broken = 0;
  for (const [k, x] of a) {
    const y = b.get(k);
    if (y === undefined) continue;
    matched++;
    const label = x.label ?? 'a';
    // Files may put the labelled response on different sides (a scalar scorer's a is its chosen
    // response, a JudgeBench result's a is response A): read the earlier decision in this file's sides.
    const before = (y.label ?? 'a') === label ? y.preference : mirror(y.preference);
    if (x.preference === before) continue;
    const right = (p: Preference): boolean => p === label;
    const change = right(x.preference) && !right(before) ? 'fixed' : !right(x.preference) && right(before) ? 'broken' : 'changed';
    if (change === 'fixed') fixed++;
    if (change === 'broken') broken++;
    changed.push({ id: show(k), subset: x.subset, label, before, after: x.preference, change });
  }
  return {
    matched,
    onlyBefore: [...b.keys()].filter((k) => !a.has(k)).map(show),
    onlyAfter: [...a.keys()].filter((k) => !b.has(k)).map(show),
    fixed,
    broken,
    changed,
  };
}
