/**
 * From a batch's pooled rows to each conversation's five rewards: the linear head applied row by
 * row, or the columns of a head fused in the graph (backbone kind `rewards`) put in
 * {@link ATTRIBUTES} order. Row r of a batch is conversation `at[r]` of its window (batches are
 * sorted by length), so rewards land in input order.
 *
 * May import: its own folder (head/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never tree/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, type Attribute } from '../attributes.js';
import type { LinearHead } from './head.js';

/**
 * Applies `head` to each row of `states` (rows of `width` values) and writes row r's five
 * rewards at `rewards[at[r] * 5]`.
 * @throws RangeError when a reward is not finite (the pooled state holds NaN or huge values).
 *
 * @example
 * ```ts
 * applyHeadToRows(head, pooled, head.hiddenSize, [2, 0], rewards); // batch row 0 is conversation 2
 * ```
 */
export function applyHeadToRows(head: LinearHead, states: Float32Array, width: number, at: readonly number[], rewards: Float64Array): void {
  at.forEach((i, r) => rewards.set(head.applyVector(states, r * width), i * ATTRIBUTE_COUNT));
}

/**
 * Writes the rewards of a fused head (one column per attribute, in the graph's order `columns`)
 * at `rewards[at[r] * 5]`, in {@link ATTRIBUTES} order.
 *
 * @example
 * ```ts
 * fusedRewardRows(data, ['verbosity', 'complexity', 'coherence', 'correctness', 'helpfulness'], [0, 1], rewards);
 * ```
 */
export function fusedRewardRows(data: Float32Array, columns: readonly Attribute[], at: readonly number[], rewards: Float64Array): void {
  at.forEach((i, r) => {
    columns.forEach((name, col) => {
      rewards[i * ATTRIBUTE_COUNT + ATTRIBUTES.indexOf(name)] = data[r * ATTRIBUTE_COUNT + col]!;
    });
  });
}
