/**
 * Text preference pairs to attribute pairs: the scoring step of `dtr train-tree --model`. Both
 * responses of every pair are scored by the model (through the reward cache, so a rerun costs no
 * backbone time) and the result is the {@link AttributePairs} that attribute-pair training reads.
 *
 * May import: its own folder (workflows/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/. Never anything above (serve/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTE_COUNT } from '../attributes.js';
import { DtrError } from '../errors.js';
import type { AttributePairs } from '../data/pairs.js';
import { splitLabelTies, type EvalItem, type EvalSet } from '../data/datasets.js';
import { scoreWithCache, type RewardCache } from './reward-cache.js';
import type { RewardModel } from '../model/reward-model.js';
import type { BatchOptions } from '../model/types.js';

/** Layouts whose `a` is the chosen response by construction (every label `a`). */
const CHOSEN_FIRST: readonly EvalSet['format'][] = ['rewardbench', 'rm-bench', 'rewardbench-2'];

/** Options of {@link scoreTextPairs}. */
export interface ScoreTextPairsOptions extends BatchOptions {
  /** The reward cache (null: no cache; each distinct conversation is still scored once). */
  cache: RewardCache | null;
}

/** Text pairs scored into attribute pairs, and what it took. */
export interface ScoredTextPairs {
  /** The pairs with a preferred response, as attribute pairs (a = the row's first response). */
  pairs: AttributePairs;
  /** Pairs rated equal (label `tie`, HelpSteer2-Preference strength 0): counted and skipped. */
  ties: EvalItem[];
  /** Conversations (two per scored pair). */
  conversations: number;
  /** Distinct conversations among them. */
  distinct: number;
  /** Distinct conversations read from the cache. */
  cacheHits: number;
  /** Distinct conversations run through the backbone. */
  computed: number;
  /** 1-based lines of the pairs with a truncated conversation. */
  truncatedLines: number[];
  /**
   * True when the layout puts the preferred response first by construction
   * (`{prompt, chosen, rejected}`, RM-Bench, RewardBench 2: a = chosen), so every label is `a` and a tree fitted on these
   * pairs alone sees one class: train on both orders (`trainTree(..., { augmentSwaps: true })`).
   * False for layouts that carry their own labels (HelpSteer2-Preference, `{prompt, a, b, label}`).
   */
  preferredFirst: boolean;
}

/**
 * Scores text pairs (from {@link readEvalSet}: RewardBench-style `{prompt, chosen, rejected}`,
 * HelpSteer2-Preference, or `{prompt, a, b, label}`) into labelled attribute pairs. Ties are
 * counted and left out. Chosen/rejected rows are all labelled `a` (`preferredFirst`): fit them
 * with `augmentSwaps`, as `dtr train-tree --model` does on its own.
 *
 * @throws DtrError `E_DATA` when the set holds attribute scores instead of texts, `E_EMPTY` when
 *   every pair is a tie.
 * @example
 * ```ts
 * const set = readEvalSet('prefs.jsonl', undefined, 'prefs.jsonl', { strict: false });
 * const cache = RewardCache.open('.dtr-cache', modelIdentity(model));
 * const s = await scoreTextPairs(model, set, { cache });
 * const report = trainTree(s.pairs, { valFraction: 0.2, augmentSwaps: s.preferredFirst });
 * s.ties.length; s.cacheHits; s.computed;
 * ```
 */
export async function scoreTextPairs(model: RewardModel, set: EvalSet, options: ScoreTextPairsOptions): Promise<ScoredTextPairs> {
  if (set === null || typeof set !== 'object' || !Array.isArray(set.items)) throw new TypeError('set must be an EvalSet (readEvalSet)');
  if (set.kind !== 'text') {
    throw new DtrError(
      'E_DATA',
      `these ${set.format} rows hold attribute scores, not response texts: there is nothing for a model to score`,
      {
        hint: 'train on attribute pairs without --model (dtr train-tree --pairs FILE), or give pairs of response texts',
      },
    );
  }
  const { scored, equal } = splitLabelTies(set.items);
  if (scored.length === 0) throw new DtrError('E_EMPTY', `no pair with a preferred response: all ${equal.length} pairs are ties`);
  const items = scored.flatMap((p) => [
    { prompt: p.prompt!, response: p.a as string },
    { prompt: p.prompt!, response: p.b as string },
  ]);
  const { cache, ...batch } = options;
  const r = await scoreWithCache(model, items, { ...batch, cache });
  const n = scored.length;
  const pairs: AttributePairs = {
    n,
    a: new Float64Array(n * ATTRIBUTE_COUNT),
    b: new Float64Array(n * ATTRIBUTE_COUNT),
    deltas: new Float64Array(n * ATTRIBUTE_COUNT),
    labels: new Uint8Array(n),
    labelled: true,
    ids: scored.map((p) => p.id),
    subsets: scored.map((p) => p.subset),
    lines: scored.map((p) => p.line),
  };
  const truncatedLines: number[] = [];
  scored.forEach((p, i) => {
    const sa = r.scores[2 * i]!;
    const sb = r.scores[2 * i + 1]!;
    pairs.a.set(sa.rewards, i * ATTRIBUTE_COUNT);
    pairs.b.set(sb.rewards, i * ATTRIBUTE_COUNT);
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) pairs.deltas[i * ATTRIBUTE_COUNT + k] = sa.rewards[k]! - sb.rewards[k]!;
    pairs.labels[i] = p.label === 'a' ? 1 : 0;
    if (sa.truncation !== null || sb.truncation !== null) truncatedLines.push(p.line);
  });
  return {
    pairs,
    ties: equal,
    conversations: r.conversations,
    distinct: r.distinct,
    cacheHits: r.cacheHits,
    computed: r.computed,
    truncatedLines,
    preferredFirst: CHOSEN_FIRST.includes(set.format),
  };
}
