/**
 * Attribute importances: bootstrap refits for their spread (`bootstrapImportances`) and the attributes ranked
 * by importance.
 *
 * May import: its own folder (tree/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never head/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, fromVector, type Attribute, type AttributeScores } from '../attributes.js';
import { PreferenceTree, type FitOptions } from './preference-tree.js';
import { SeededRandom } from '../util/random.js';

/** Options of {@link bootstrapImportances}. */
export interface BootstrapOptions extends Omit<FitOptions, 'sampleWeight' | 'name' | 'description' | 'provenance' | 'metrics'> {
  /** Number of resampled refits (default 100, as the RLHFlow blog). */
  refits?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
  /** Called after each refit with (done, total): drive a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

/** Importances over bootstrap refits: their spread says how stable the tree's reliance on each attribute is. */
export interface BootstrapImportances {
  refits: number;
  seed: number;
  mean: AttributeScores;
  std: AttributeScores;
  /** 2.5th percentile over refits. */
  lower: AttributeScores;
  /** 97.5th percentile over refits. */
  upper: AttributeScores;
  /** Share of refits whose root splits on each attribute. */
  rootShare: AttributeScores;
}

/**
 * Refits the tree on `refits` bootstrap resamples (n rows drawn with replacement) and summarises
 * the impurity importances. Deterministic for a given seed.
 *
 * @example
 * ```ts
 * const boot = bootstrapImportances(pairs.deltas, pairs.labels, { refits: 100, seed: 0 });
 * boot.mean.helpfulness; // e.g. 0.82
 * ```
 */
export function bootstrapImportances(deltas: Float64Array, labels: Uint8Array, options: BootstrapOptions = {}): BootstrapImportances {
  const { refits = 100, seed = 0, onProgress, ...fit } = options;
  if (!Number.isInteger(refits) || refits < 1) throw new RangeError(`refits must be a positive integer, got ${refits}`);
  const n = labels.length;
  if (deltas.length !== n * ATTRIBUTE_COUNT) throw new RangeError(`deltas has ${deltas.length} values, expected ${n * ATTRIBUTE_COUNT}`);
  const rng = new SeededRandom(seed);
  const samples = ATTRIBUTES.map(() => new Float64Array(refits));
  const roots = new Float64Array(ATTRIBUTE_COUNT);
  const d = new Float64Array(n * ATTRIBUTE_COUNT);
  const y = new Uint8Array(n);
  for (let r = 0; r < refits; r++) {
    resample(deltas, labels, d, y, n, rng);
    const tree = PreferenceTree.fitArrays(d, y, fit);
    const imp = tree.featureImportances();
    ATTRIBUTES.forEach((a, k) => {
      samples[k]![r] = imp[a];
    });
    if (tree.arrays.feature[0]! >= 0) roots[tree.arrays.feature[0]!]!++;
    onProgress?.(r + 1, refits);
  }
  const stat = (f: (xs: Float64Array) => number): AttributeScores => fromVector(samples.map(f));
  return {
    refits,
    seed,
    mean: stat(mean),
    std: stat((xs) => {
      const m = mean(xs);
      return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
    }),
    lower: stat((xs) => quantile(xs, 0.025)),
    upper: stat((xs) => quantile(xs, 0.975)),
    rootShare: fromVector(Array.from(roots, (c) => c / refits)),
  };
}

/** One bootstrap resample: n rows drawn with replacement (row by row, in the generator's order). */
function resample(deltas: Float64Array, labels: Uint8Array, d: Float64Array, y: Uint8Array, n: number, rng: SeededRandom): void {
  for (let i = 0; i < n; i++) {
    const j = rng.int(n);
    const src = j * ATTRIBUTE_COUNT;
    const dst = i * ATTRIBUTE_COUNT;
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) d[dst + k] = deltas[src + k]!;
    y[i] = labels[j]!;
  }
}

function mean(xs: Float64Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : NaN;
}

/** Linear-interpolated quantile (numpy's default method). */
function quantile(xs: Float64Array, q: number): number {
  const s = Float64Array.from(xs).sort();
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** Attribute names sorted by a score, highest first. */
export function rankAttributes(scores: AttributeScores): Attribute[] {
  return [...ATTRIBUTES].sort((x, y) => scores[y] - scores[x]);
}
