import { ATTRIBUTE_COUNT, type AttributeScores } from '../attributes.js';
import { augmentSwaps, selectPairs, type AttributePairs } from '../data/pairs.js';
import { pairMetrics, positionConsistency, type PairMetrics } from '../eval/metrics.js';
import { probabilityOf } from '../tree/decision.js';
import type { Provenance } from '../provenance.js';
import { bootstrapImportances, type BootstrapImportances } from './importance.js';
import { PreferenceTree, type FitOptions } from './preference-tree.js';
import { SeededRandom } from '../util/random.js';

/** Metrics of a tree on one split of the data. */
export interface SplitMetrics extends PairMetrics {
  /** Share of pairs whose decision mirrors when a and b are swapped (published rule). */
  positionConsistency: number;
  /** Accuracy under the symmetric rule. */
  symmetricAccuracy: number;
}

/** Options of {@link trainTree}. */
export interface TrainOptions extends Omit<FitOptions, 'sampleWeight' | 'metrics'> {
  /** Validation pairs; or use `valFraction`. */
  validation?: AttributePairs;
  /** Hold out this share of the pairs (shuffled with `seed`) for validation. */
  valFraction?: number;
  /** Add each training pair mirrored (b, a) with the label flipped. */
  augmentSwaps?: boolean;
  /** Bootstrap refits for importance intervals (0 = none). */
  bootstrap?: number;
  seed?: number;
  onBootstrapProgress?: (done: number, total: number) => void;
}

/** Everything `dtr train-tree` reports. */
export interface TrainReport {
  tree: PreferenceTree;
  trainN: number;
  validationN: number;
  train: SplitMetrics;
  validation: SplitMetrics | null;
  importances: AttributeScores;
  bootstrap: BootstrapImportances | null;
  warnings: string[];
}

/** Metrics of `tree` on labelled pairs. */
export function splitMetrics(tree: PreferenceTree, pairs: AttributePairs): SplitMetrics {
  const forward = tree.predictProbaBatch(pairs.deltas);
  const swapped = tree.predictProbaBatch(pairs.deltas.map((x) => -x));
  const symmetric = new Float64Array(pairs.n);
  for (let i = 0; i < pairs.n; i++) symmetric[i] = probabilityOf(tree, pairs.deltas.subarray(i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT), true);
  return {
    ...pairMetrics(forward, pairs.labels),
    positionConsistency: positionConsistency(forward, swapped),
    symmetricAccuracy: pairMetrics(symmetric, pairs.labels).accuracy,
  };
}

/**
 * Fits a preference tree on labelled attribute pairs and measures it: the library behind
 * `dtr train-tree`.
 *
 * @example
 * ```ts
 * const pairs = readAttributePairs('pairs.jsonl', { requireLabels: true });
 * const report = trainTree(pairs, { valFraction: 0.2, seed: 0, bootstrap: 100 });
 * report.validation?.accuracy;
 * report.tree.save('trees/mine.json');
 * ```
 */
export function trainTree(pairs: AttributePairs, options: TrainOptions = {}): TrainReport {
  const { validation: givenVal, valFraction, augmentSwaps: augment = false, bootstrap = 0, seed = 0, onBootstrapProgress, provenance, ...fit } = options;
  if (!pairs.labelled) throw new RangeError('every training pair needs a label ("a" or "b")');
  if (givenVal && valFraction !== undefined) throw new TypeError('give either validation pairs or valFraction, not both');
  let train = pairs;
  let validation: AttributePairs | null = givenVal ?? null;
  if (valFraction !== undefined) {
    if (!(valFraction > 0 && valFraction < 1)) throw new RangeError(`valFraction must be in (0, 1), got ${valFraction}`);
    const order = new SeededRandom(seed).shuffle(Int32Array.from({ length: pairs.n }, (_, i) => i));
    const k = Math.round(valFraction * pairs.n);
    if (k < 1 || k >= pairs.n) throw new RangeError(`valFraction ${valFraction} of ${pairs.n} pairs leaves an empty split`);
    validation = selectPairs(pairs, order.subarray(0, k));
    train = selectPairs(pairs, order.subarray(k));
  }
  if (validation && !validation.labelled) throw new RangeError('every validation pair needs a label ("a" or "b")');
  const fitted = augment ? augmentSwaps(train) : train;
  const params = { ...fit, ...(provenance ? { provenance } : {}) } as FitOptions & { provenance?: Provenance };
  let tree = PreferenceTree.fitArrays(fitted.deltas, fitted.labels, params);
  const trainMetrics = splitMetrics(tree, train);
  const valMetrics = validation ? splitMetrics(tree, validation) : null;
  tree = tree.with({
    metrics: {
      n: fitted.n,
      trainAccuracy: trainMetrics.accuracy,
      validationAccuracy: valMetrics?.accuracy ?? null,
      validationN: validation?.n ?? null,
      trainLogLoss: trainMetrics.logLoss,
      validationLogLoss: valMetrics?.logLoss ?? null,
      trainBrier: trainMetrics.brier,
      validationBrier: valMetrics?.brier ?? null,
      trainPositionConsistency: trainMetrics.positionConsistency,
    },
  });
  const boot =
    bootstrap > 0
      ? bootstrapImportances(fitted.deltas, fitted.labels, { ...fit, refits: bootstrap, seed, ...(onBootstrapProgress ? { onProgress: onBootstrapProgress } : {}) })
      : null;
  return {
    tree,
    trainN: fitted.n,
    validationN: validation?.n ?? 0,
    train: trainMetrics,
    validation: valMetrics,
    importances: tree.featureImportances(),
    bootstrap: boot,
    warnings: [...tree.warnings],
  };
}
