/**
 * Ridge regression heads: the linear probe of the published system, five attribute ratings
 * from a backbone's pooled hidden states.
 *
 * What is solved is exactly scikit-learn's `Ridge(alpha=lambda)` (fit_intercept=True), one
 * attribute at a time on the rows that have that rating (NaN = missing, dropped per attribute):
 * centre X and y on those rows, solve (XcᵀXc + λI) w = Xcᵀyc, intercept = ȳ − x̄·w. The
 * intercept is not penalised.
 *
 * How, at 20k x 4096 (measured against numpy doing the same work in bench/head.bench.ts):
 * - X is streamed, never held whole: fold by fold, chunks of up to 4,000 rows are read (a lazy
 *   safetensors file reads just those rows), centred on c (the mean of 256 rows spread over the
 *   data) and transposed into one reused float64 buffer, and each chunk is added to its fold's
 *   Gram matrix G_f = Z_fᵀZ_f (z = x − c) by onnxruntime Gemms (see ort-linalg.ts): one pass
 *   over the data serves every fold, and their sum is the full Gram. A training set S then has
 *   XcᵀXc = Σ_{f∈S} G_f − n_S d dᵀ with d = mean(z over S), a rank-one correction that is small
 *   because c is already close to S's mean. Fresh memory is the thing to save: on a VM each MB
 *   costs 1-2 ms to fault in, and onnxruntime-node copies every result into a new buffer, so
 *   chunks are large (few Gram rewrites), buffers are reused, and fold f's training system is
 *   written over G_f.
 * - Each (fold, lambda) system is solved by Cholesky (recursive, on column panels, all but
 *   w³/3 flops per panel in onnxruntime Gemms: about twice LAPACK's dpotrf speed here). One
 *   eigendecomposition of each fold's Gram would serve every lambda, but ONNX has no eigen
 *   operator, and even LAPACK's dsyevd costs about 19 Choleskys at H = 4096 on this machine
 *   (measured with numpy), so Cholesky wins for any grid under ~20 lambdas; the default has 7.
 * - The held-out predictions of every lambda come from a second streaming pass: Z_f · W_f.
 * - Attributes with the same missing rows share one factorisation; for an attribute with
 *   missing ratings, its Gram is the fold Gram minus the Gram of its missing rows (or the Gram
 *   of its present rows, whichever set is smaller), from one more pass over those rows.
 *
 * May import: its own folder (head/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never tree/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, type Attribute } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import type { SafeTensor } from '../io/safetensors.js';
import { SeededRandom } from '../util/random.js';
import { LinearHead } from './head.js';
import { OrtLinalg, PANEL, PanelMatrix, panelWidth, type CholeskyFactor } from './ort-linalg.js';
import { compileTarget, type TargetFormula } from './target.js';
import type { Provenance } from '../provenance.js';

/** Pooled hidden states: a safetensors tensor [n, H] (decoded on the fly) or a row-major typed array. */
export type RidgeEmbeddings = SafeTensor | { data: Float32Array | Float64Array; rows: number; hiddenSize: number };

/** Options of {@link fitRidge}. */
export interface RidgeOptions {
  /**
   * The penalty on the squared weights (scikit-learn's `alpha`), > 0; or `'auto'` (default):
   * chosen per attribute by k-fold cross-validation on a log-spaced grid.
   */
  lambda?: number | 'auto';
  /** The grid for `'auto'` (default: 7 values, 1e-5 to 10 times the mean feature sum of squares). */
  lambdas?: readonly number[];
  /** Cross-validation folds (default 5). 0 skips cross-validation (fixed lambda only: no held-out metrics). */
  folds?: number;
  /** Seed of the shuffled fold assignment (default 0). */
  seed?: number;
  /** The fold of every row (0..folds-1), instead of a seeded shuffle: to reproduce a split made elsewhere. */
  foldOf?: ArrayLike<number>;
  /**
   * A scalarisation formula (e.g. `helpfulness + 0.5*correctness`): with `'auto'`, one shared
   * lambda is chosen to minimise the held-out MSE of this formula, instead of one per attribute.
   */
  target?: string;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  threads?: number;
  /** Called as work advances, for progress bars. */
  onProgress?: (stage: 'read' | 'gram' | 'cv' | 'fit', done: number, total: number) => void;
}

/** Held-out (out-of-fold) figures of one attribute. */
export interface HeldOut {
  /** Mean squared error over the held-out ratings. */
  mse: number;
  /** 1 − SSE/SST over the held-out ratings (SST around their pooled mean). */
  r2: number;
  /** Ratings predicted. */
  n: number;
}

/** The result of {@link fitRidge}. */
export interface RidgeFit {
  hiddenSize: number;
  /** 5 x hiddenSize, rows in {@link ATTRIBUTES} order. */
  weight: Float64Array;
  /** One per attribute, {@link ATTRIBUTES} order. */
  bias: Float64Array;
  /** The lambda each attribute was fitted with. */
  lambda: Record<Attribute, number>;
  rows: {
    /** Rows given. */
    total: number;
    /** Rows with at least one rating (the others are dropped). */
    used: number;
    /** Ratings per attribute. */
    perAttribute: Record<Attribute, number>;
  };
  /** Cross-validation, or null with `folds: 0`. */
  cv: {
    folds: number;
    /** The seed of the fold assignment, or null when `foldOf` was given. */
    seed: number | null;
    /** The lambdas tried. */
    grid: number[];
    /** The scale the default grid is relative to (mean per-feature sum of squares about the mean). */
    scale: number;
    /** Held-out MSE per attribute per grid lambda; null where the system was not positive definite. */
    mse: Record<Attribute, Array<number | null>>;
    /** Held-out MSE of the target formula per grid lambda, when a target was given. */
    targetMse: Array<number | null> | null;
  } | null;
  /** Held-out figures at the chosen lambdas, or null without cross-validation. */
  heldOut: Record<Attribute, HeldOut> | null;
  /** The target formula's held-out figures at its lambda, when a target was given. */
  target: { formula: string; lambda: number; mse: number; r2: number; n: number } | null;
  /** Things the caller should know (a pick on the grid's edge, lambdas skipped). */
  warnings: string[];
  /**
   * Milliseconds spent per stage: `read` (checks, folds, the centre), `gram` (the streaming
   * pass: reading X and the Gram matrices), `cv` (factorisations, solves, held-out predictions),
   * `fit` (the final fit).
   */
  timings: { read: number; gram: number; cv: number; fit: number };
}

const A = ATTRIBUTE_COUNT;
/** Columns of a fold's Zᵀ[ỹ | mask | 1]. */
const XTY_WIDTH = 2 * ATTRIBUTE_COUNT + 1;

function perAttribute<T>(f: (a: Attribute, k: number) => T): Record<Attribute, T> {
  return Object.fromEntries(ATTRIBUTES.map((a, k) => [a, f(a, k)])) as Record<Attribute, T>;
}

/**
 * The embeddings' rows: `direct`, the values in place (row-major) when they are in memory as
 * float32 or float64 already (no copy); else `readRows`/`read` decode them (a lazy file reads
 * them from disk, BF16/F16 are widened to float32).
 */
function rowReader(e: RidgeEmbeddings): {
  rows: number;
  h: number;
  dtype: string;
  direct: Float32Array | Float64Array | null;
  readRows: (start: number, count: number, out: Float32Array | Float64Array) => void;
  read: (i: number, out: Float32Array | Float64Array) => void;
} {
  if ('decodeRows' in e) {
    if (e.shape.length !== 2)
      throw new DtrError('E_SHAPE', `embeddings tensor '${e.name}' must be [rows, hidden size], got [${e.shape.join(', ')}]`);
    return {
      rows: e.shape[0]!,
      h: e.shape[1]!,
      dtype: e.dtype,
      direct: e.view(),
      readRows: (i, c, out) => e.decodeRows(i, c, out),
      read: (i, out) => e.decodeRows(i, 1, out),
    };
  }
  const { data, rows, hiddenSize } = e;
  if (!(data instanceof Float32Array || data instanceof Float64Array))
    throw new TypeError('embeddings.data must be a Float32Array or Float64Array');
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(hiddenSize) || hiddenSize < 1)
    throw new RangeError(`embeddings.rows and embeddings.hiddenSize must be integers, got ${rows} and ${hiddenSize}`);
  if (data.length !== rows * hiddenSize)
    throw new RangeError(`embeddings.data has ${data.length} values, expected ${rows} x ${hiddenSize}`);
  return {
    rows,
    h: hiddenSize,
    dtype: data instanceof Float64Array ? 'F64' : 'F32',
    direct: data,
    readRows: (i, c, out) => out.set(data.subarray(i * hiddenSize, (i + c) * hiddenSize)),
    read: (i, out) => out.set(data.subarray(i * hiddenSize, (i + 1) * hiddenSize)),
  };
}

/**
 * The default lambda grid: `scale` (the mean per-feature sum of squares about the mean) times
 * 1e-5, 1e-4, ..., 10.
 *
 * @example
 * ```ts
 * defaultLambdaGrid(2000); // [0.02, 0.2, 2, 20, 200, 2000, 20000]
 * ```
 */
export function defaultLambdaGrid(scale: number): number[] {
  return [-5, -4, -3, -2, -1, 0, 1].map((e) => Number((scale * 10 ** e).toPrecision(6)));
}

/**
 * The fold of each of `n` rated rows in {@link fitRidge}'s seeded shuffle: a shuffled order, then
 * rows dealt round-robin (fold sizes differ by at most one). Exported for peers that must use the
 * same folds (bench/head.bench.ts).
 *
 * @example
 * ```ts
 * assignFolds(10, 5, 0); // Int32Array of 10 folds in 0..4, two rows each
 * ```
 */
export function assignFolds(n: number, folds: number, seed: number): Int32Array {
  const out = new Int32Array(n);
  const order = new SeededRandom(seed).shuffle(Int32Array.from({ length: n }, (_, j) => j));
  for (let r = 0; r < n; r++) out[order[r]!] = r % folds;
  return out;
}

/**
 * Fits the five-attribute ridge head on pooled hidden states and ratings.
 *
 * @param embeddings n x H pooled states.
 * @param ratings n x 5 ratings, row-major, {@link ATTRIBUTES} order, NaN where a rating is missing.
 * @throws RangeError/TypeError for bad arguments (lambda <= 0, lengths); DtrError `E_DATA`
 *   (an attribute with no ratings, fewer ratings than folds, a non-finite value),
 *   `E_SHAPE` (rows of embeddings and ratings differ), `E_NUMERIC` (a fixed lambda too small),
 *   `E_FORMULA` (a bad target formula).
 * @example
 * ```ts
 * const f = readEmbeddingsFile('emb.safetensors');
 * const fit = await fitRidge(f.embeddings, f.labels!, { lambda: 'auto', folds: 5, seed: 0 });
 * fit.lambda.helpfulness; fit.heldOut!.helpfulness.r2;
 * const head = ridgeHead(fit, { name: 'mine', backbone: 'Skywork/Skywork-Reward-Llama-3.1-8B-v0.2', provenance });
 * ```
 */
export async function fitRidge(
  embeddings: RidgeEmbeddings,
  ratings: Float64Array | Float32Array,
  options: RidgeOptions = {},
): Promise<RidgeFit> {
  const target: TargetFormula | null = options.target !== undefined ? compileTarget(options.target) : null;
  const t0 = performance.now();
  const src = rowReader(embeddings);
  const { rows: n, h } = src;
  const lambdaOpt = options.lambda ?? 'auto';
  if (lambdaOpt !== 'auto' && (typeof lambdaOpt !== 'number' || !Number.isFinite(lambdaOpt) || lambdaOpt <= 0)) {
    throw new RangeError(`lambda must be a positive number or 'auto', got ${String(lambdaOpt)}`);
  }
  if (options.lambdas !== undefined) {
    if (
      !Array.isArray(options.lambdas) ||
      options.lambdas.length === 0 ||
      options.lambdas.some((l) => typeof l !== 'number' || !Number.isFinite(l) || l <= 0)
    ) {
      throw new RangeError(`lambdas must be a non-empty list of positive numbers, got ${JSON.stringify(options.lambdas)}`);
    }
  }
  const folds = options.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 0 || folds === 1)
    throw new RangeError(`folds must be 0 (no cross-validation) or an integer >= 2, got ${folds}`);
  if (folds === 0 && lambdaOpt === 'auto') throw new RangeError("folds: 0 needs a fixed lambda: 'auto' chooses lambda by cross-validation");
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!(ratings instanceof Float64Array || ratings instanceof Float32Array))
    throw new TypeError('ratings must be a Float64Array or Float32Array (rows x 5, NaN = missing)');
  if (ratings.length !== n * A) {
    throw new DtrError(
      'E_SHAPE',
      `the embeddings have ${n} rows but the ratings ${ratings.length / A} (${ratings.length} values for 5 attributes)`,
      {
        hint: 'the ratings must be in the same order as the embeddings, one row per response',
      },
    );
  }

  // ---- ratings: drop unrated rows, check every attribute has enough ratings ----
  const issues: Issue[] = [];
  for (let i = 0; i < n * A && issues.length < 20; i++) {
    const v = ratings[i]!;
    if (!Number.isNaN(v) && !Number.isFinite(v))
      issues.push({
        path: `row ${Math.floor(i / A)}.${ATTRIBUTES[i % A]}`,
        message: `rating is ${v}; use NaN (null) for a missing rating`,
      });
  }
  if (issues.length > 0)
    throw new DtrError('E_DATA', `ratings hold non-finite values (${issues.length}${issues.length === 20 ? '+' : ''})`, { issues });
  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    let any = false;
    for (let k = 0; k < A; k++) if (!Number.isNaN(ratings[i * A + k]!)) any = true;
    if (any) kept.push(i);
  }
  const counts = ATTRIBUTES.map((_, k) => kept.reduce((s, i) => s + (Number.isNaN(ratings[i * A + k]!) ? 0 : 1), 0));
  const minRows = Math.max(2, folds);
  ATTRIBUTES.forEach((a, k) => {
    if (counts[k] === 0) issues.push({ path: a, message: 'every rating is missing (NaN): nothing to fit' });
    else if (counts[k]! < minRows)
      issues.push({
        path: a,
        message: `only ${counts[k]} rated row${counts[k] === 1 ? '' : 's'}, fewer than ${folds >= 2 ? `the ${folds} folds` : 'the 2 needed'}`,
      });
  });
  if (issues.length > 0) {
    throw new DtrError('E_DATA', `cannot fit a head: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      issues,
      hint: folds >= 2 ? 'give more rated rows, or fewer --folds' : 'give more rated rows',
    });
  }
  const nk = kept.length;

  // ---- folds ----
  const k = Math.max(1, folds);
  const foldOfKept = new Int32Array(nk);
  if (folds >= 2) {
    if (options.foldOf !== undefined) {
      if (options.foldOf.length !== n) throw new RangeError(`foldOf has ${options.foldOf.length} entries, expected one per row (${n})`);
      for (let j = 0; j < nk; j++) {
        const f = options.foldOf[kept[j]!]!;
        if (!Number.isInteger(f) || f < 0 || f >= folds)
          throw new RangeError(`foldOf[${kept[j]}] is ${f}, expected an integer in [0, ${folds})`);
        foldOfKept[j] = f;
      }
    } else foldOfKept.set(assignFolds(nk, folds, seed));
  }
  // Rows grouped by fold: fold f holds positions [start[f], start[f] + size[f]) of the layout, in file order.
  const size = new Int32Array(k);
  for (let j = 0; j < nk; j++) size[foldOfKept[j]!]!++;
  const start = new Int32Array(k + 1);
  for (let f = 0; f < k; f++) start[f + 1] = start[f]! + size[f]!;
  const rowAt = new Int32Array(nk); // layout position -> original row
  const fill = Int32Array.from(start.subarray(0, k));
  for (let j = 0; j < nk; j++) rowAt[fill[foldOfKept[j]!]!++] = kept[j]!;
  for (let f = 0; f < k; f++) {
    if (size[f] === 0) throw new DtrError('E_DATA', `fold ${f} has no rows`, { hint: 'use fewer --folds' });
  }
  const rowsOf = Array.from({ length: k }, (_, f) => rowAt.subarray(start[f]!, start[f + 1]!)); // each ascending

  // ---- y: centred on each attribute's mean ----
  const yMean = ATTRIBUTES.map((_, a) => {
    let s = 0;
    for (let p = 0; p < nk; p++) {
      const v = ratings[rowAt[p]! * A + a]!;
      if (!Number.isNaN(v)) s += v;
    }
    return s / counts[a]!;
  });
  const yAt = (p: number, a: number): number => ratings[rowAt[p]! * A + a]! - yMean[a]!; // NaN when missing

  // ---- the centre: the mean of up to 256 rows spread over the file ----
  // X is centred on it as it streams by (z = x − c); every training set's own mean is then put
  // right by the rank-one correction n d dᵀ (d = its mean of z, small: c is already close).
  const c = new Float64Array(h);
  {
    const picks = Math.min(256, nk);
    const one = new Float64Array(h);
    for (let s = 0; s < picks; s++) {
      src.read(kept[Math.floor((s * nk) / picks)]!, one);
      for (let j = 0; j < h; j++) c[j]! += one[j]!;
    }
    for (let j = 0; j < h; j++) c[j]! /= picks;
  }
  const la = await linalg(options.threads);
  const t1 = performance.now();

  // ---- one streaming pass: per fold, Zᵀ[ỹ | mask | 1] and the Gram matrix Zᵀ Z ----
  const W2 = XTY_WIDTH; // Σ z ỹ_a (cols 0..4), Σ z over rows rated for a (5..9), Σ z over all rows (10)
  const foldXtY: Float64Array[] = Array.from({ length: k }, () => new Float64Array(h * W2));
  const foldCount: number[][] = Array.from({ length: k }, () => new Array<number>(A).fill(0)); // [f][a]
  const foldYSum: number[][] = Array.from({ length: k }, () => new Array<number>(A).fill(0));
  const grams: PanelMatrix[] = Array.from({ length: k }, () => new PanelMatrix(h));
  const stream = new RowStream(src, h);
  let streamed = 0;
  await stream.pass(
    rowsOf,
    async (f, zt, q0, cnt) => {
      const pos0 = start[f]! + q0;
      const yaug = new Float64Array(cnt * W2);
      for (let q = 0; q < cnt; q++) {
        yaug[q * W2 + 2 * A] = 1;
        for (let a = 0; a < A; a++) {
          const v = yAt(pos0 + q, a);
          if (Number.isNaN(v)) continue;
          yaug[q * W2 + a] = v;
          yaug[q * W2 + A + a] = 1;
          foldCount[f]![a]!++;
          foldYSum[f]![a]! += v;
        }
      }
      const xty = await la.matmulNN(zt, h, yaug, cnt, W2);
      const acc = foldXtY[f]!;
      for (let i = 0; i < acc.length; i++) acc[i]! += xty[i]!;
      await la.gramPanels(zt, h, cnt, undefined, grams[f], true);
      streamed += cnt;
      options.onProgress?.('read', streamed, nk);
    },
    c,
    true,
  );
  const gAll = sumPanels(grams);
  // A non-finite value (or an overflow) shows on the Gram's diagonal: find where it came from.
  for (let j = 0; j < h; j++) {
    if (Number.isFinite(gAll.get(j, j))) continue;
    const one = new Float64Array(h);
    for (const i of kept) {
      src.read(i, one);
      if (!Number.isFinite(one[j]!))
        throw new DtrError('E_DATA', `embeddings row ${i} has a non-finite value (${one[j]}) at column ${j}`, {
          hint: 'the embeddings file is damaged or the backbone produced NaN; re-create it',
        });
    }
    throw new DtrError('E_DATA', `embeddings column ${j} has values too large for float64 (its sum of squares is ${gAll.get(j, j)})`);
  }
  const t2 = performance.now();

  // ---- attributes sharing the same missing rows share their Gram matrices and factorisations ----
  const groups: Array<{ attrs: number[]; missing: Int32Array[] }> = [];
  const missingOf = (a: number): Int32Array[] =>
    Array.from({ length: k }, (_, f) => {
      const out: number[] = [];
      for (let q = 0; q < size[f]!; q++) if (Number.isNaN(yAt(start[f]! + q, a))) out.push(q);
      return Int32Array.from(out);
    });
  for (let a = 0; a < A; a++) {
    const m = missingOf(a);
    const same = groups.find((g) => g.missing.every((x, f) => x.length === m[f]!.length && x.every((v, i) => v === m[f]![i])));
    if (same) same.attrs.push(a);
    else groups.push({ attrs: [a], missing: m });
  }

  const auto = lambdaOpt === 'auto';
  // The grid's scale: the mean per-feature sum of squares about the mean, Σ_j (Σ z_j² − n d_j²) / h.
  let scale = 0;
  {
    const zSum = new Float64Array(h);
    for (const m of foldXtY) for (let j = 0; j < h; j++) zSum[j]! += m[j * W2 + 2 * A]!;
    for (let j = 0; j < h; j++) scale += gAll.get(j, j) - (zSum[j]! * zSum[j]!) / nk;
    scale /= h;
  }
  const grid = auto ? [...(options.lambdas ?? defaultLambdaGrid(scale || 1))].sort((x, y) => x - y) : [lambdaOpt as number];
  const G = grid.length;
  const sse: number[][] = ATTRIBUTES.map(() => new Array<number>(G).fill(0));
  const failedAt: boolean[][] = ATTRIBUTES.map(() => new Array<boolean>(G).fill(false));
  const oof: Float64Array[][] | null = folds >= 2 ? ATTRIBUTES.map(() => grid.map(() => new Float64Array(nk))) : null; // [a][g][position], centred units
  const warnings: string[] = [];
  const cvTotal = folds >= 2 ? groups.length * k * G : 0;
  let cvDone = 0;
  // One factor's buffers serve every factorisation of the fit (large allocations cost page faults,
  // which are slow: ~1-2 ms per MB on a VM). With one group, fold f's training system is written
  // over its own Gram matrix, which nothing needs afterwards.
  let factor: CholeskyFactor | undefined;
  let system: PanelMatrix | undefined;
  const fitFor: Array<{ attrs: number[]; gAllG: PanelMatrix; sumZ: Float64Array[] }> = [];
  // Per group and fold: the weights for every lambda (h x attrs·G) and their intercepts, for the held-out predictions.
  const solved: Array<Array<{ w: Float64Array; intercepts: number[] }>> = [];

  for (const g of groups) {
    // The group's per-fold Gram: the fold Gram, minus its missing rows (or rebuilt from its rated rows).
    let gramsG = grams;
    if (g.missing.some((m) => m.length > 0)) {
      const useMissing = g.missing.map((m, f) => m.length <= size[f]! - m.length);
      const pickRows = g.missing.map((m, f) => {
        const pick = useMissing[f] ? m : complement(m, size[f]!);
        return Int32Array.from(pick, (q) => rowAt[start[f]! + q]!);
      });
      const subs = Array.from({ length: k }, () => new PanelMatrix(h));
      await stream.pass(
        pickRows,
        async (f, zt, _q0, cnt) => {
          await la.gramPanels(zt, h, cnt, undefined, subs[f], true);
        },
        c,
        true,
      );
      gramsG = subs.map((s, f) => (g.missing[f]!.length === 0 ? grams[f]! : useMissing[f] ? combinePanels(grams[f]!, s, -1) : s));
    }
    const gAllG = gramsG === grams ? gAll : sumPanels(gramsG);
    const a0 = g.attrs[0]!;
    const sumZ = foldXtY.map((m) => column(m, h, W2, A + a0));
    fitFor.push({ attrs: g.attrs, gAllG, sumZ });
    const perFold: Array<{ w: Float64Array; intercepts: number[] }> = [];
    solved.push(perFold);
    if (folds < 2) continue;

    for (let f = 0; f < k; f++) {
      const into = groups.length === 1 ? gramsG[f] : (system ??= new PanelMatrix(h));
      const sys = trainingSystem(g.attrs, h, k, gAllG, gramsG[f]!, sumZ, foldXtY, foldCount, foldYSum, f, into);
      const wStack = new Float64Array(h * g.attrs.length * G);
      const intercepts: number[] = [];
      for (let gi = 0; gi < G; gi++) {
        let w: Float64Array | null = null;
        try {
          factor = await la.factor(sys.gram, grid[gi]!, factor);
          w = await la.choleskySolve(factor, sys.rhs, g.attrs.length);
        } catch (e) {
          if (!(e instanceof DtrError && e.code === 'E_NUMERIC') || !auto) throw e;
          for (const a of g.attrs) failedAt[a]![gi] = true;
        }
        g.attrs.forEach((_, ai) => {
          let dw = 0;
          if (w) for (let j = 0; j < h; j++) dw += sys.d[j]! * w[j * g.attrs.length + ai]!;
          intercepts.push(sys.yMean[ai]! - dw);
          if (w) for (let j = 0; j < h; j++) wStack[j * g.attrs.length * G + gi * g.attrs.length + ai] = w[j * g.attrs.length + ai]!;
        });
        options.onProgress?.('cv', ++cvDone, cvTotal);
      }
      perFold.push({ w: wStack, intercepts });
    }
  }
  // Held-out predictions for every group and lambda at once, in a second streaming pass: Z_f · W.
  if (folds >= 2) {
    await stream.pass(
      rowsOf,
      async (f, z, q0, cnt) => {
        const pos0 = start[f]! + q0;
        for (let gIndex = 0; gIndex < groups.length; gIndex++) {
          const g = groups[gIndex]!;
          const { w, intercepts } = solved[gIndex]![f]!;
          const cols = g.attrs.length * G;
          const pred = await la.matmulNN(z, cnt, w, h, cols);
          for (let gi = 0; gi < G; gi++) {
            g.attrs.forEach((a, ai) => {
              const col = gi * g.attrs.length + ai;
              const icpt = intercepts[col]!;
              const store = oof![a]![gi]!;
              for (let q = 0; q < cnt; q++) {
                const yhat = pred[q * cols + col]! + icpt;
                store[pos0 + q] = yhat;
                const y = yAt(pos0 + q, a);
                if (!Number.isNaN(y)) sse[a]![gi]! += (y - yhat) ** 2;
              }
            });
          }
        }
      },
      c,
      false,
    );
  }
  const t3 = performance.now();

  // ---- choose lambdas ----
  const cvMse = ATTRIBUTES.map((_, a) => grid.map((_, gi) => (failedAt[a]![gi] ? null : sse[a]![gi]! / counts[a]!)));
  let targetMse: Array<number | null> | null = null;
  let targetPick = -1;
  let targetN = 0;
  let targetSst = 0;
  if (target && oof) {
    const need = target.attributes.map((a) => ATTRIBUTES.indexOf(a));
    const truth = new Float64Array(A);
    const guess = new Float64Array(A);
    const truths: number[] = [];
    const positions: number[] = [];
    for (let p = 0; p < nk; p++) {
      if (need.some((a) => Number.isNaN(yAt(p, a)))) continue;
      for (let a = 0; a < A; a++) truth[a] = Number.isNaN(yAt(p, a)) ? 0 : yAt(p, a) + yMean[a]!;
      truths.push(target.evaluateVector(truth));
      positions.push(p);
    }
    targetN = truths.length;
    if (targetN === 0)
      throw new DtrError(
        'E_DATA',
        `no row has every rating the target ${JSON.stringify(target.formula)} uses (${target.attributes.join(', ')})`,
      );
    const tMean = truths.reduce((s, v) => s + v, 0) / targetN;
    targetSst = truths.reduce((s, v) => s + (v - tMean) ** 2, 0);
    targetMse = grid.map((_, gi) => {
      if (need.some((a) => failedAt[a]![gi])) return null;
      let s = 0;
      positions.forEach((p, r) => {
        for (let a = 0; a < A; a++) guess[a] = oof[a]![gi]![p]! + yMean[a]!;
        s += (target.evaluateVector(guess) - truths[r]!) ** 2;
      });
      return s / targetN;
    });
    targetPick = argmin(targetMse);
    if (targetPick < 0)
      throw new DtrError('E_NUMERIC', 'no lambda of the grid gave a positive definite system', { hint: 'use larger lambdas (--lambdas)' });
  }
  const pickIndex = ATTRIBUTES.map((a, ai) => {
    if (!auto) return 0;
    const gi = targetPick >= 0 ? targetPick : argmin(cvMse[ai]!);
    if (gi < 0)
      throw new DtrError('E_NUMERIC', `no lambda of the grid gave a positive definite system for ${a}`, {
        hint: 'use larger lambdas (--lambdas)',
      });
    return gi;
  });
  if (auto && G > 1) {
    const low = ATTRIBUTES.filter((_, a) => pickIndex[a] === 0);
    const high = ATTRIBUTES.filter((_, a) => pickIndex[a] === G - 1);
    if (low.length)
      warnings.push(
        `the smallest lambda of the grid (${grid[0]}) was chosen for ${low.join(', ')}: the best may be smaller (give --lambdas)`,
      );
    if (high.length)
      warnings.push(
        `the largest lambda of the grid (${grid[G - 1]}) was chosen for ${high.join(', ')}: the best may be larger (give --lambdas)`,
      );
    const skipped = grid.filter((_, gi) => ATTRIBUTES.some((_, a) => failedAt[a]![gi]));
    if (skipped.length) warnings.push(`lambda ${skipped.join(', ')} skipped: the system was not positive definite`);
  }

  // ---- final fit on all rated rows, one factorisation per distinct lambda of a group ----
  const weight = new Float64Array(A * h);
  const bias = new Float64Array(A);
  const fitTotal = fitFor.reduce((s, g) => s + new Set(g.attrs.map((a) => pickIndex[a])).size, 0);
  let fitDone = 0;
  for (const g of fitFor) {
    // In place: nothing needs the group's full Gram matrix after this.
    const sys = trainingSystem(g.attrs, h, k, g.gAllG, null, g.sumZ, foldXtY, foldCount, foldYSum, -1, g.gAllG);
    const distinct = [...new Set(g.attrs.map((a) => pickIndex[a]!))];
    for (const [di, gi] of distinct.entries()) {
      // The last factorisation of this system may take its memory instead of a copy.
      factor = await la.factor(sys.gram, grid[gi]!, factor, { consume: di === distinct.length - 1 });
      const w = await la.choleskySolve(factor, sys.rhs, g.attrs.length);
      g.attrs.forEach((a, ai) => {
        if (pickIndex[a] !== gi) return;
        let dot = 0;
        for (let j = 0; j < h; j++) {
          const wj = w[j * g.attrs.length + ai]!;
          weight[a * h + j] = wj;
          dot += (c[j]! + sys.d[j]!) * wj;
        }
        bias[a] = yMean[a]! + sys.yMean[ai]! - dot;
      });
      options.onProgress?.('fit', ++fitDone, fitTotal);
    }
  }
  const t4 = performance.now();

  let heldOut: Record<Attribute, HeldOut> | null = null;
  if (oof) {
    heldOut = perAttribute((_, a) => {
      let sst = 0;
      for (let p = 0; p < nk; p++) {
        const y = yAt(p, a);
        if (!Number.isNaN(y)) sst += y * y; // y is centred on the attribute's pooled mean
      }
      const s = sse[a]![pickIndex[a]!]!;
      return { mse: s / counts[a]!, r2: sst > 0 ? 1 - s / sst : 0, n: counts[a]! };
    });
  }
  return {
    hiddenSize: h,
    weight,
    bias,
    lambda: perAttribute((_, a) => grid[pickIndex[a]!]!),
    rows: { total: n, used: nk, perAttribute: perAttribute((_, a) => counts[a]!) },
    cv:
      folds >= 2
        ? { folds, seed: options.foldOf !== undefined ? null : seed, grid, scale, mse: perAttribute((_, a) => cvMse[a]!), targetMse }
        : null,
    heldOut,
    target:
      target && targetMse && targetPick >= 0
        ? {
            formula: target.formula,
            lambda: grid[targetPick]!,
            mse: targetMse[targetPick]!,
            r2: targetSst > 0 ? 1 - (targetMse[targetPick]! * targetN) / targetSst : 0,
            n: targetN,
          }
        : null,
    warnings,
    timings: { read: t1 - t0, gram: t2 - t1, cv: t3 - t2, fit: t4 - t3 },
  };
}

const sessions = new Map<number, Promise<OrtLinalg>>();

/** The Gemm sessions, created once per thread count and reused by every fit. */
function linalg(threads: number | undefined): Promise<OrtLinalg> {
  const key = threads ?? 0;
  let p = sessions.get(key);
  if (!p) {
    p = OrtLinalg.create(threads !== undefined ? { threads } : {});
    sessions.set(key, p);
    p.catch(() => sessions.delete(key));
  }
  return p;
}

/**
 * The centred normal equations of a training set: every fold but `heldOut` (-1: all folds). The
 * Gram matrix is written into `into` when given (a buffer reused across folds), or is `gAll`
 * itself when nothing is taken away.
 */
function trainingSystem(
  attrs: number[],
  h: number,
  k: number,
  gAll: PanelMatrix,
  gHeld: PanelMatrix | null,
  sumZ: Float64Array[],
  xty: Float64Array[],
  counts: number[][],
  ysum: number[][],
  heldOut: number,
  into?: PanelMatrix,
): { gram: PanelMatrix; rhs: Float64Array; d: Float64Array; yMean: number[] } {
  const a0 = attrs[0]!;
  let nS = 0;
  const s = new Float64Array(h);
  for (let f = 0; f < k; f++) {
    if (f === heldOut) continue;
    nS += counts[f]![a0]!;
    const z = sumZ[f]!;
    for (let j = 0; j < h; j++) s[j]! += z[j]!;
  }
  const d = Float64Array.from(s, (v) => v / nS);
  // Σ (z − d)(z − d)ᵀ = Σ z zᵀ − n d dᵀ. With every fold in (the final fit), d is the centring
  // error alone, ~1e-16 of the data: skip the correction when it is below float64 resolution.
  let needed = false;
  for (let j = 0; j < h && !needed; j++) needed = nS * d[j]! * d[j]! > 1e-16 * Math.abs(gAll.get(j, j) - (gHeld ? gHeld.get(j, j) : 0));
  let gram = gAll;
  if (gHeld || needed) {
    gram = into ?? new PanelMatrix(h);
    // One pass over the panels: G − G_held − n_S d dᵀ.
    const scale = needed ? nS : 0;
    gram.panels.forEach((out, p) => {
      const all = gAll.panels[p]!;
      const held = gHeld ? gHeld.panels[p]! : null;
      const c0 = p * PANEL;
      const w = panelWidth(h, p);
      for (let r = c0; r < h; r++) {
        const dr = scale * d[r]!;
        const o = (r - c0) * w;
        if (held) for (let c = 0; c < w; c++) out[o + c] = all[o + c]! - held[o + c]! - dr * d[c0 + c]!;
        else for (let c = 0; c < w; c++) out[o + c] = all[o + c]! - dr * d[c0 + c]!;
      }
    });
  }
  const m = attrs.length;
  const rhs = new Float64Array(h * m);
  const yMean = attrs.map((a) => {
    let sy = 0;
    for (let f = 0; f < k; f++) if (f !== heldOut) sy += ysum[f]![a]!;
    return sy / nS;
  });
  attrs.forEach((a, ai) => {
    // Σ z (ỹ − ȳ_S) = Σ z ỹ − ȳ_S Σ z.
    for (let f = 0; f < k; f++) {
      if (f === heldOut) continue;
      const x = xty[f]!;
      for (let j = 0; j < h; j++) rhs[j * m + ai]! += x[j * XTY_WIDTH + a]!;
    }
    for (let j = 0; j < h; j++) rhs[j * m + ai]! -= yMean[ai]! * s[j]!;
  });
  return { gram, rhs, d, yMean };
}

/**
 * Rows per chunk of a streaming pass: the inner dimension of its Gram updates. Each update
 * rewrites the whole Gram matrix, and onnxruntime-node copies every output into a fresh
 * ArrayBuffer (fresh memory is slow to fault in on a VM: ~1-2 ms per MB), so chunks are large
 * (few rewrites); not a power of two, so transposed writes spread over cache sets.
 */
const STREAM_CHUNK = 4000;
/** Rows read from a lazy source at a time. */
const STREAM_BLOCK = 64;

/**
 * Streams the embeddings' rows fold by fold, each fold's rows in file order, in chunks of up to
 * {@link STREAM_CHUNK} rows handed to `flush` centred on `c`: transposed [h, cnt]
 * (`transposed`) or row-major [cnt, h], float64. A chunk holds the fold's rows q0 .. q0 + cnt − 1.
 * A lazy file is read by runs of consecutive rows. The buffers are kept for the next pass.
 */
class RowStream {
  private readonly src: ReturnType<typeof rowReader>;
  private readonly h: number;
  private block: Float32Array | Float64Array | null = null;
  private z: Float64Array | null = null;

  constructor(src: ReturnType<typeof rowReader>, h: number) {
    this.src = src;
    this.h = h;
  }

  /** `rowsOf[f]`: the rows of fold f (ascending file rows). */
  async pass(
    rowsOf: Int32Array[],
    flush: (f: number, z: Float64Array, q0: number, cnt: number) => Promise<void>,
    c: Float64Array,
    transposed: boolean,
  ): Promise<void> {
    const { h, src } = this;
    const total = Math.max(0, ...rowsOf.map((r) => r.length));
    const chunkRows = Math.min(STREAM_CHUNK, total);
    if (chunkRows === 0) return;
    if (!this.z || this.z.length < chunkRows * h) this.z = new Float64Array(chunkRows * h);
    const z = this.z;
    const offsets = new Int32Array(STREAM_BLOCK);
    for (let f = 0; f < rowsOf.length; f++) {
      const rows = rowsOf[f]!;
      for (let q0 = 0; q0 < rows.length; q0 += chunkRows) {
        const cnt = Math.min(chunkRows, rows.length - q0);
        // Fill z by blocks of rows: from the source itself when in memory, else read (runs of consecutive rows at once).
        for (let b0 = 0; b0 < cnt; b0 += STREAM_BLOCK) {
          const bc = Math.min(STREAM_BLOCK, cnt - b0);
          let data: Float32Array | Float64Array;
          if (src.direct) {
            data = src.direct;
            for (let r = 0; r < bc; r++) offsets[r] = rows[q0 + b0 + r]! * h;
          } else {
            this.block ??= src.dtype === 'F64' ? new Float64Array(STREAM_BLOCK * h) : new Float32Array(STREAM_BLOCK * h);
            data = this.block;
            for (let r = 0; r < bc;) {
              let run = 1;
              while (r + run < bc && rows[q0 + b0 + r + run] === rows[q0 + b0 + r]! + run) run++;
              src.readRows(rows[q0 + b0 + r]!, run, data.subarray(r * h, (r + run) * h));
              for (let t = 0; t < run; t++) offsets[r + t] = (r + t) * h;
              r += run;
            }
          }
          if (transposed) transposeCentred(data, offsets, bc, h, z, b0, cnt, c);
          else centreRows(data, offsets, bc, h, z.subarray(b0 * h), c);
        }
        await flush(f, z.subarray(0, cnt * h), q0, cnt);
      }
    }
  }
}

/** Rows of `src` (at offsets rowBase[q]) minus the centre `c`, row-major [cnt, h] into `out`. */
function centreRows(
  src: Float32Array | Float64Array,
  rowBase: Int32Array,
  cnt: number,
  h: number,
  out: Float64Array,
  c: Float64Array,
): void {
  for (let q = 0; q < cnt; q++) {
    const b = rowBase[q]!;
    const o = q * h;
    for (let j = 0; j < h; j++) out[o + j] = src[b + j]! - c[j]!;
  }
}

/**
 * Writes `cnt` rows of `src` (starting at offsets rowBase[q]), minus the centre `c`, transposed
 * into `xt` (column j at dst + j * stride). By tiles of 16 columns: each source cache line is
 * used whole at once. (Rows a power of two bytes apart share one cache set, so a transpose a
 * column at a time misses on nearly every read: 7 s instead of 0.3 s at 20k x 4096.)
 */
function transposeCentred(
  src: Float32Array | Float64Array,
  rowBase: Int32Array,
  cnt: number,
  h: number,
  xt: Float64Array,
  dst: number,
  stride: number,
  c: Float64Array,
): void {
  const T = 16;
  for (let j0 = 0; j0 < h; j0 += T) {
    const j1 = Math.min(h, j0 + T);
    for (let q = 0; q < cnt; q++) {
      const b = rowBase[q]!;
      let o = dst + j0 * stride + q;
      for (let j = j0; j < j1; j++, o += stride) xt[o] = src[b + j]! - c[j]!;
    }
  }
}

/** Σ of panel matrices (the first one itself when alone). */
function sumPanels(ms: PanelMatrix[]): PanelMatrix {
  if (ms.length === 1) return ms[0]!;
  const out = new PanelMatrix(ms[0]!.h);
  out.panels.forEach((o, p) => {
    for (const m of ms) {
      const x = m.panels[p]!;
      for (let i = 0; i < o.length; i++) o[i]! += x[i]!;
    }
  });
  return out;
}

/** a + sign · b, panel by panel. */
function combinePanels(a: PanelMatrix, b: PanelMatrix, sign: 1 | -1): PanelMatrix {
  const out = new PanelMatrix(a.h);
  out.panels.forEach((o, p) => {
    const x = a.panels[p]!;
    const y = b.panels[p]!;
    for (let i = 0; i < o.length; i++) o[i] = x[i]! + sign * y[i]!;
  });
  return out;
}

function column(m: Float64Array, rows: number, cols: number, c: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = m[r * cols + c]!;
  return out;
}

function complement(sorted: Int32Array, n: number): Int32Array {
  const out: number[] = [];
  let i = 0;
  for (let q = 0; q < n; q++) {
    if (i < sorted.length && sorted[i] === q) i++;
    else out.push(q);
  }
  return Int32Array.from(out);
}

function argmin(xs: ReadonlyArray<number | null>): number {
  let best = -1;
  for (let i = 0; i < xs.length; i++) if (xs[i] !== null && (best < 0 || xs[i]! < xs[best]!)) best = i;
  return best;
}

/** Options of {@link ridgeHead}. */
export interface RidgeHeadOptions {
  name: string;
  description?: string;
  /** The backbone the embeddings came from (e.g. `Skywork/Skywork-Reward-Llama-3.1-8B-v0.2`). */
  backbone: string;
  provenance: Provenance;
}

/**
 * Turns a {@link RidgeFit} into a {@link LinearHead} whose `metrics` hold the lambdas and the
 * held-out R² and MSE per attribute.
 *
 * @example
 * ```ts
 * const head = ridgeHead(fit, { name: 'mine', backbone: 'my-backbone', provenance: makeProvenance('fitted', [], null) });
 * head.save('heads/mine.json');
 * ```
 */
export function ridgeHead(fit: RidgeFit, options: RidgeHeadOptions): LinearHead {
  const metrics: Record<string, number | null | Record<string, number | null>> = {
    lambda: { ...fit.lambda },
    rows: fit.rows.used,
    folds: fit.cv ? fit.cv.folds : null,
    heldOutR2: fit.heldOut ? perAttribute((a) => fit.heldOut![a].r2) : null,
    heldOutMSE: fit.heldOut ? perAttribute((a) => fit.heldOut![a].mse) : null,
  };
  if (fit.target) metrics.target = { lambda: fit.target.lambda, heldOutR2: fit.target.r2, heldOutMSE: fit.target.mse, rows: fit.target.n };
  return new LinearHead({
    name: options.name,
    description: options.description ?? '',
    hiddenSize: fit.hiddenSize,
    backbone: options.backbone,
    weight: fit.weight,
    bias: fit.bias,
    metrics,
    provenance: options.provenance,
  });
}
