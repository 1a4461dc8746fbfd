/**
 * The decision rule: how a tree's P(a preferred) becomes a preference. Every part of the SDK
 * that decides with a tree (explanations, evaluation, reports, the reward model) goes through
 * these functions, so they agree to the bit.
 *
 * Two rules: the published one, p = f(a−b) (f: the tree's leaf probability), and the symmetric
 * one, p = ½[f(a−b) + 1 − f(b−a)], under which swapping a and b mirrors the answer exactly.
 * Decisions are taken on the margin p − 0.5 and a tie band around it.
 *
 * May import: its own folder (tree/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never head/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import type { PreferenceTree } from './preference-tree.js';

/** Which response a decision favours; `tie` when P(a) is within the tie band of 0.5. */
export type Preference = 'a' | 'b' | 'tie';

/** How decisions are made from a tree (options of `explain`, `RewardModel.compare`, `scoreWithTree` ...). */
export interface DecisionOptions {
  /**
   * Symmetric rule (default true): p = ½[f(a−b) + 1 − f(b−a)], so swapping a and b mirrors the
   * answer exactly and equal responses tie. `false` reproduces the published models: p = f(a−b).
   */
  symmetric?: boolean;
  /** `tie` when |p − 0.5| <= tieBand (default 0: only an exact 0.5 ties). */
  tieBand?: number;
}

/**
 * ½[f(a−b) + 1 − f(b−a)]: the symmetric P(a preferred) from the two readings.
 *
 * @example
 * ```ts
 * symmetricProbability(0.9, 0.3); // 0.8
 * ```
 */
export function symmetricProbability(forward: number, mirrored: number): number {
  return 0.5 + symmetricMargin(forward, mirrored);
}

/**
 * ½[f(a−b) − f(b−a)] = P(a) − 0.5 under the symmetric rule. Decisions are taken on this margin,
 * not on 0.5 + margin, because floating-point subtraction is exactly antisymmetric: swapping a
 * and b negates the margin bit for bit, so the mirrored decision is exact even at ties.
 *
 * @example
 * ```ts
 * symmetricMargin(0.9, 0.3) === -symmetricMargin(0.3, 0.9); // true, bit for bit
 * ```
 */
export function symmetricMargin(forward: number, mirrored: number): number {
  return 0.5 * (forward - mirrored);
}

/** Probabilities within this distance of a tie band's edge count as inside it (floating-point noise). */
const TIE_TOLERANCE = 1e-12;

/**
 * `a` when P(a) is above 0.5 + tieBand, `b` below 0.5 − tieBand, else `tie` (the band's edges
 * belong to the tie, within 1e-12).
 *
 * @example
 * ```ts
 * preferenceOf(0.986);      // 'a'
 * preferenceOf(0.52, 0.05); // 'tie'
 * ```
 */
export function preferenceOf(probability: number, tieBand = 0): Preference {
  return preferenceOfMargin(probability - 0.5, tieBand);
}

/**
 * {@link preferenceOf} on the margin P(a) − 0.5.
 *
 * @example
 * ```ts
 * preferenceOfMargin(-0.2); // 'b'
 * ```
 */
export function preferenceOfMargin(margin: number, tieBand = 0): Preference {
  if (margin > tieBand + TIE_TOLERANCE) return 'a';
  if (-margin > tieBand + TIE_TOLERANCE) return 'b';
  return 'tie';
}

/**
 * P(a preferred) for a difference vector under the symmetric or the published rule.
 *
 * @example
 * ```ts
 * probabilityOf(PreferenceTree.load('rlhflow-llama-3.1-8b'), [1.79, 1.77, 0.65, 0.11, 0.03], true); // 0.986
 * ```
 */
export function probabilityOf(tree: PreferenceTree, delta: ArrayLike<number>, symmetric: boolean): number {
  const forward = tree.predictProba(delta);
  if (!symmetric) return forward;
  const m = Array.from(delta, (x) => -x);
  return symmetricProbability(forward, tree.predictProba(m));
}

/**
 * The other side's view of a decision: `a` ↔ `b`, `tie` stays.
 *
 * @example
 * ```ts
 * mirrorPreference('a'); // 'b'
 * ```
 */
export function mirrorPreference(p: Preference): Preference {
  return p === 'a' ? 'b' : p === 'b' ? 'a' : 'tie';
}

/**
 * Validates and defaults decision options (`symmetric` true, `tieBand` 0): every function that
 * decides with a tree shares these rules and messages.
 *
 * @example
 * ```ts
 * checkDecisionOptions({});                // { symmetric: true, tieBand: 0 }
 * checkDecisionOptions({ tieBand: 0.5 }); // RangeError: options.tieBand must be a number in [0, 0.5), got 0.5
 * ```
 */
export function checkDecisionOptions(options: DecisionOptions): { symmetric: boolean; tieBand: number } {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const symmetric = options.symmetric ?? true;
  if (typeof symmetric !== 'boolean') throw new TypeError(`options.symmetric must be a boolean, got ${typeof symmetric}`);
  const tieBand = options.tieBand ?? 0;
  if (typeof tieBand !== 'number' || !Number.isFinite(tieBand) || tieBand < 0 || tieBand >= 0.5) {
    throw new RangeError(`options.tieBand must be a number in [0, 0.5), got ${String(tieBand)}`);
  }
  return { symmetric, tieBand };
}
