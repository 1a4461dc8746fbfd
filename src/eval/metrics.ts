/**
 * Metrics of pairwise preference predictions. Every function takes P(a preferred) per pair and
 * labels (1 = a preferred, 0 = b preferred); none throws on an empty input (they return NaN
 * counts as documented) except for mismatched lengths.
 *
 * May import: its own folder (eval/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * model/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { mirrorPreference, preferenceOf, type Preference } from '../tree/decision.js';

/** One bin of a reliability diagram over P(a preferred). */
export interface ReliabilityBin {
  /** Bin edges [lo, hi) (the last bin includes 1). */
  lo: number;
  hi: number;
  n: number;
  /** Mean predicted P(a) in the bin (NaN when empty). */
  meanPredicted: number;
  /** Observed share of pairs where a was preferred (NaN when empty). */
  observed: number;
}

/** Summary metrics of predictions against labels. */
export interface PairMetrics {
  n: number;
  /** Share of pairs decided the labelled way; a tie counts 0.5. */
  accuracy: number;
  /** Mean negative log-likelihood (natural log, p clipped to [1e-15, 1 − 1e-15]). */
  logLoss: number;
  /** Mean squared error of P(a) against the label. */
  brier: number;
  /** Expected calibration error over 10 equal-width bins of P(a). */
  ece: number;
  /** Share of pairs decided `tie`. */
  tieRate: number;
}

function check(probabilities: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (probabilities.length !== labels.length) {
    throw new RangeError(`probabilities (${probabilities.length}) and labels (${labels.length}) differ in length`);
  }
  return labels.length;
}

/** Options of {@link pairMetrics}. */
export interface PairMetricsOptions {
  /** `tie` when |p − 0.5| <= tieBand (default 0). Ignored where `preferences` is given. */
  tieBand?: number;
  /**
   * The decisions as recorded (e.g. by a model whose rule differs from thresholding `p`): when
   * given, accuracy and tie rate count these instead of deciding from the probabilities.
   */
  preferences?: ArrayLike<Preference>;
}

/**
 * Accuracy, log loss, Brier score, ECE and tie rate of P(a) predictions.
 * The third argument is the tie band (a number, as before) or {@link PairMetricsOptions}.
 *
 * @example
 * ```ts
 * pairMetrics([0.9, 0.2, 0.5], [1, 1, 0]).accuracy; // (1 + 0 + 0.5) / 3 = 0.5
 * pairMetrics([0.9, 0.2], [1, 1], { preferences: ['a', 'tie'] }).accuracy; // 0.75
 * ```
 */
export function pairMetrics(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: number | PairMetricsOptions = 0,
): PairMetrics {
  const n = check(probabilities, labels);
  const tieBand = typeof options === 'number' ? options : (options.tieBand ?? 0);
  const decisions = typeof options === 'number' ? undefined : options.preferences;
  if (decisions !== undefined && decisions.length !== n) {
    throw new RangeError(`options.preferences (${decisions.length}) and labels (${n}) differ in length`);
  }
  let correct = 0;
  let ll = 0;
  let brier = 0;
  let ties = 0;
  for (let i = 0; i < n; i++) {
    const p = probabilities[i]!;
    const y = labels[i]!;
    const pref = decisions !== undefined ? decisions[i]! : preferenceOf(p, tieBand);
    if (pref === 'tie') {
      ties++;
      correct += 0.5;
    } else if ((pref === 'a') === (y === 1)) correct++;
    const q = Math.min(1 - 1e-15, Math.max(1e-15, p));
    ll -= y === 1 ? Math.log(q) : Math.log(1 - q);
    brier += (p - y) * (p - y);
  }
  return {
    n,
    accuracy: n ? correct / n : NaN,
    logLoss: n ? ll / n : NaN,
    brier: n ? brier / n : NaN,
    ece: expectedCalibrationError(probabilities, labels),
    tieRate: n ? ties / n : NaN,
  };
}

/**
 * Reliability diagram: `bins` equal-width bins of P(a) with mean prediction and observed rate.
 *
 * @example
 * ```ts
 * reliability([0.85, 0.15], [1, 0], 10)[8]; // { lo: 0.8, hi: 0.9, n: 1, meanPredicted: 0.85, observed: 1 }
 * ```
 */
export function reliability(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): ReliabilityBin[] {
  const n = check(probabilities, labels);
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const p = probabilities[i]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]!++;
    sumP[b] += p;
    sumY[b] += labels[i]!;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    n: count[b]!,
    meanPredicted: count[b] ? sumP[b]! / count[b]! : NaN,
    observed: count[b] ? sumY[b]! / count[b]! : NaN,
  }));
}

/**
 * Σ (n_bin / n) · |mean P(a) − observed rate| over equal-width bins of P(a).
 *
 * @example
 * ```ts
 * expectedCalibrationError([0.85, 0.85], [1, 0]); // |0.85 - 0.5| = 0.35
 * ```
 */
export function expectedCalibrationError(probabilities: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): number {
  const n = check(probabilities, labels);
  if (n === 0) return NaN;
  let ece = 0;
  for (const bin of reliability(probabilities, labels, bins)) {
    if (bin.n > 0) ece += (bin.n / n) * Math.abs(bin.meanPredicted - bin.observed);
  }
  return ece;
}

/**
 * Position consistency: the share of pairs whose decision on (a, b) mirrors the decision on
 * (b, a). `forward[i]` is P(first preferred) for (a, b), `swapped[i]` for (b, a).
 * The symmetric rule is consistent by construction (1.0).
 *
 * @example
 * ```ts
 * positionConsistency([0.9, 0.2], [0.2, 0.2]); // 0.5: the second pair is b both ways round
 * ```
 */
export function positionConsistency(forward: ArrayLike<number>, swapped: ArrayLike<number>, tieBand = 0): number {
  const n = check(forward, swapped);
  if (n === 0) return NaN;
  let same = 0;
  for (let i = 0; i < n; i++) {
    if (preferenceOf(forward[i]!, tieBand) === mirrorPreference(preferenceOf(swapped[i]!, tieBand))) same++;
  }
  return same / n;
}
