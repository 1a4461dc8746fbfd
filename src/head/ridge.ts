/**
 * Ridge regression heads: the linear probe of the published system, five attribute ratings
 * from a backbone's pooled hidden states.
 *
 * What is solved is exactly scikit-learn's `Ridge(alpha=lambda)` (fit_intercept=True), one
 * attribute at a time on the rows that have that rating (NaN = missing, dropped per attribute):
 * centre X and y on those rows, solve (XcᵀXc + λI) w = Xcᵀyc, intercept = ȳ − x̄·w. The
 * intercept is not penalised.
 *
 * How, at 20k x 4096:
 * - X is decoded once (F32/BF16/F16/F64) into one float64 buffer, transposed ([H, n]) and
 *   grouped by cross-validation fold, each fold a contiguous [H, n_f] block, centred on the
 *   mean of all rows c. The fold Gram matrices G_f = Z_fᵀZ_f (z = x − c) are onnxruntime
 *   Gemms (see ort-linalg.ts) whose sum is the full Gram: cross-validation costs no extra pass
 *   over the data. A training set S then has XcᵀXc = Σ_{f∈S} G_f − n_S d dᵀ with d = mean(z over S),
 *   a rank-one correction that is small because c is already close to S's mean.
 * - Each (fold, lambda) system is solved by Cholesky. An eigendecomposition of each fold's
 *   Gram would make every extra lambda nearly free, but ONNX has no eigen operator, and a
 *   TypeScript symmetric eigensolver needs ~9H³ scalar flops (minutes at H = 4096), while one
 *   Cholesky is H³/3 flops that run almost entirely as onnxruntime Gemms (about a second at
 *   H = 4096 on two cores). Cholesky wins for any grid under ~50 lambdas; the default has 7.
 * - Attributes with the same missing rows share one factorisation; for an attribute with
 *   missing ratings, its Gram is the fold Gram minus the Gram of its missing rows (or the Gram
 *   of its present rows, whichever set is smaller).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, type Attribute } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import type { SafeTensor } from '../io/safetensors.js';
import { SeededRandom } from '../util/random.js';
import { LinearHead } from './head.js';
import { OrtLinalg, type CholeskyFactor } from './ort-linalg.js';
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
  /** Milliseconds spent per stage. */
  timings: { read: number; gram: number; cv: number; fit: number };
}

const A = ATTRIBUTE_COUNT;

function perAttribute<T>(f: (a: Attribute, k: number) => T): Record<Attribute, T> {
  return Object.fromEntries(ATTRIBUTES.map((a, k) => [a, f(a, k)])) as Record<Attribute, T>;
}

/** Reads one row of the embeddings as float64. */
function rowReader(e: RidgeEmbeddings): { rows: number; h: number; read: (i: number, out: Float64Array) => void } {
  if ('decodeRows' in e) {
    if (e.shape.length !== 2) throw new DtrError('E_SHAPE', `embeddings tensor '${e.name}' must be [rows, hidden size], got [${e.shape.join(', ')}]`);
    return { rows: e.shape[0]!, h: e.shape[1]!, read: (i, out) => e.decodeRows(i, 1, out) };
  }
  const { data, rows, hiddenSize } = e;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) throw new TypeError('embeddings.data must be a Float32Array or Float64Array');
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(hiddenSize) || hiddenSize < 1) throw new RangeError(`embeddings.rows and embeddings.hiddenSize must be integers, got ${rows} and ${hiddenSize}`);
  if (data.length !== rows * hiddenSize) throw new RangeError(`embeddings.data has ${data.length} values, expected ${rows} x ${hiddenSize}`);
  return { rows, h: hiddenSize, read: (i, out) => out.set(data.subarray(i * hiddenSize, (i + 1) * hiddenSize)) };
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
export async function fitRidge(embeddings: RidgeEmbeddings, ratings: Float64Array | Float32Array, options: RidgeOptions = {}): Promise<RidgeFit> {
  const target: TargetFormula | null = options.target !== undefined ? compileTarget(options.target) : null;
  const t0 = performance.now();
  const src = rowReader(embeddings);
  const { rows: n, h } = src;
  const lambdaOpt = options.lambda ?? 'auto';
  if (lambdaOpt !== 'auto' && (typeof lambdaOpt !== 'number' || !Number.isFinite(lambdaOpt) || lambdaOpt <= 0)) {
    throw new RangeError(`lambda must be a positive number or 'auto', got ${String(lambdaOpt)}`);
  }
  if (options.lambdas !== undefined) {
    if (!Array.isArray(options.lambdas) || options.lambdas.length === 0 || options.lambdas.some((l) => typeof l !== 'number' || !Number.isFinite(l) || l <= 0)) {
      throw new RangeError(`lambdas must be a non-empty list of positive numbers, got ${JSON.stringify(options.lambdas)}`);
    }
  }
  const folds = options.folds ?? 5;
  if (!Number.isInteger(folds) || folds < 0 || folds === 1) throw new RangeError(`folds must be 0 (no cross-validation) or an integer >= 2, got ${folds}`);
  if (folds === 0 && lambdaOpt === 'auto') throw new RangeError("folds: 0 needs a fixed lambda: 'auto' chooses lambda by cross-validation");
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!(ratings instanceof Float64Array || ratings instanceof Float32Array)) throw new TypeError('ratings must be a Float64Array or Float32Array (rows x 5, NaN = missing)');
  if (ratings.length !== n * A) {
    throw new DtrError('E_SHAPE', `the embeddings have ${n} rows but the ratings ${ratings.length / A} (${ratings.length} values for 5 attributes)`, {
      hint: 'the ratings must be in the same order as the embeddings, one row per response',
    });
  }

  // ---- ratings: drop unrated rows, check every attribute has enough ratings ----
  const issues: Issue[] = [];
  for (let i = 0; i < n * A && issues.length < 20; i++) {
    const v = ratings[i]!;
    if (!Number.isNaN(v) && !Number.isFinite(v)) issues.push({ path: `row ${Math.floor(i / A)}.${ATTRIBUTES[i % A]}`, message: `rating is ${v}; use NaN (null) for a missing rating` });
  }
  if (issues.length > 0) throw new DtrError('E_DATA', `ratings hold non-finite values (${issues.length}${issues.length === 20 ? '+' : ''})`, { issues });
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
    else if (counts[k]! < minRows) issues.push({ path: a, message: `only ${counts[k]} rated row${counts[k] === 1 ? '' : 's'}, fewer than ${folds >= 2 ? `the ${folds} folds` : 'the 2 needed'}` });
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
        if (!Number.isInteger(f) || f < 0 || f >= folds) throw new RangeError(`foldOf[${kept[j]}] is ${f}, expected an integer in [0, ${folds})`);
        foldOfKept[j] = f;
      }
    } else {
      const order = new SeededRandom(seed).shuffle(Int32Array.from({ length: nk }, (_, j) => j));
      for (let r = 0; r < nk; r++) foldOfKept[order[r]!] = r % folds;
    }
  }
  // Rows grouped by fold: fold f holds positions [start[f], start[f] + size[f]) of the layout.
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

  // ---- decode X into per-fold transposed blocks, centred on the mean of all used rows ----
  const xt = new Float64Array(h * nk);
  const sums = new Float64Array(h);
  const CHUNK = 64;
  const direct = 'decodeRows' in embeddings ? null : embeddings.data;
  const scratch = direct ? null : new Float64Array(CHUNK * h);
  const rowBase = new Int32Array(CHUNK);
  for (let f = 0; f < k; f++) {
    const nf = size[f]!;
    const base = h * start[f]!;
    for (let p0 = 0; p0 < nf; p0 += CHUNK) {
      const cnt = Math.min(CHUNK, nf - p0);
      let srcData: Float32Array | Float64Array;
      if (direct) {
        srcData = direct;
        for (let q = 0; q < cnt; q++) rowBase[q] = rowAt[start[f]! + p0 + q]! * h;
      } else {
        srcData = scratch!;
        for (let q = 0; q < cnt; q++) {
          src.read(rowAt[start[f]! + p0 + q]!, scratch!.subarray(q * h, (q + 1) * h));
          rowBase[q] = q * h;
        }
      }
      transposeChunk(srcData, rowBase, cnt, h, xt, base + p0, nf, sums);
      options.onProgress?.('read', start[f]! + p0 + cnt, nk);
    }
  }
  for (let j = 0; j < h; j++) {
    if (Number.isFinite(sums[j]!)) continue;
    for (let p = 0; p < nk; p++) {
      const f = upperBound(start, p);
      const v = xt[h * start[f]! + j * size[f]! + (p - start[f]!)]!;
      if (!Number.isFinite(v)) throw new DtrError('E_DATA', `embeddings row ${rowAt[p]} has a non-finite value (${v}) at column ${j}`, { hint: 'the embeddings file is damaged or the backbone produced NaN; re-create it' });
    }
    throw new DtrError('E_DATA', `embeddings column ${j} sums to ${sums[j]}: its values are too large for float64`);
  }
  const c = Float64Array.from(sums, (s) => s / nk);
  for (let f = 0; f < k; f++) {
    const nf = size[f]!;
    const base = h * start[f]!;
    for (let j = 0; j < h; j++) {
      const cj = c[j]!;
      const o = base + j * nf;
      for (let q = 0; q < nf; q++) xt[o + q]! -= cj;
    }
  }
  const block = (f: number): Float64Array => xt.subarray(h * start[f]!, h * start[f + 1]!);

  // ---- y: centred on each attribute's mean; per fold: Zᵀ[ỹ | mask], counts, sums ----
  const yMean = ATTRIBUTES.map((_, a) => {
    let s = 0;
    for (let p = 0; p < nk; p++) {
      const v = ratings[rowAt[p]! * A + a]!;
      if (!Number.isNaN(v)) s += v;
    }
    return s / counts[a]!;
  });
  const yAt = (p: number, a: number): number => ratings[rowAt[p]! * A + a]! - yMean[a]!; // NaN when missing
  const t1 = performance.now();
  const la = await linalg(options.threads);
  const foldCount: number[][] = []; // [f][a]
  const foldYSum: number[][] = [];
  const foldXtY: Float64Array[] = []; // [f] -> H x 10: Σ z ỹ (cols 0..4), Σ z over rated rows (cols 5..9)
  const grams: Float64Array[] = [];
  const panels = Math.ceil(h / 256);
  for (let f = 0; f < k; f++) {
    const nf = size[f]!;
    const yaug = new Float64Array(nf * 2 * A);
    const cnt = new Array<number>(A).fill(0);
    const sy = new Array<number>(A).fill(0);
    for (let q = 0; q < nf; q++) {
      for (let a = 0; a < A; a++) {
        const v = yAt(start[f]! + q, a);
        if (Number.isNaN(v)) continue;
        yaug[q * 2 * A + a] = v;
        yaug[q * 2 * A + A + a] = 1;
        cnt[a]!++;
        sy[a]! += v;
      }
    }
    foldCount.push(cnt);
    foldYSum.push(sy);
    foldXtY.push(await la.matmulNN(block(f), h, yaug, nf, 2 * A));
    grams.push(await la.gram(block(f), h, nf, (d) => options.onProgress?.('gram', f * panels + d, k * panels)));
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
  let scale = 0;
  {
    const gAll = sumMatrices(grams, h * h);
    for (let j = 0; j < h; j++) scale += gAll[j * h + j]!;
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
  const fitScratch: Scratch = { work: null, factor: undefined };
  const fitFor: Array<{ attrs: number[]; gramsG: Float64Array[]; gAllG: Float64Array; sumZ: Float64Array[] }> = [];

  for (const g of groups) {
    // The group's per-fold Gram: the fold Gram, minus its missing rows (or rebuilt from its rated rows).
    const gramsG: Float64Array[] = [];
    for (let f = 0; f < k; f++) {
      const miss = g.missing[f]!;
      if (miss.length === 0) {
        gramsG.push(grams[f]!);
        continue;
      }
      const nf = size[f]!;
      const useMissing = miss.length <= nf - miss.length;
      const pick = useMissing ? miss : complement(miss, nf);
      const sub = gatherColumns(block(f), h, nf, pick);
      const gs = await la.gram(sub, h, pick.length);
      if (useMissing) {
        const out = grams[f]!.slice();
        for (let i = 0; i < out.length; i++) out[i]! -= gs[i]!; // upper triangles meaningful, as in every Gram here
        gramsG.push(out);
      } else gramsG.push(gs);
    }
    const gAllG = sumMatrices(gramsG, h * h);
    const a0 = g.attrs[0]!;
    const sumZ = foldXtY.map((m) => column(m, h, 2 * A, A + a0));
    fitFor.push({ attrs: g.attrs, gramsG, gAllG, sumZ });
    if (folds < 2) continue;

    for (let f = 0; f < k; f++) {
      const sys = trainingSystem(g.attrs, h, k, gAllG, gramsG[f]!, sumZ, foldXtY, foldCount, foldYSum, f);
      const wStack = new Float64Array(h * g.attrs.length * G);
      const intercepts: number[] = [];
      for (let gi = 0; gi < G; gi++) {
        let w: Float64Array | null = null;
        try {
          w = await solveRidge(la, sys.gram, h, grid[gi]!, sys.rhs, g.attrs.length, false, fitScratch);
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
      // Held-out predictions for every lambda at once: Z_f · W.
      const nf = size[f]!;
      const cols = g.attrs.length * G;
      const pred = await la.matmulTN(block(f), h, nf, wStack, cols);
      for (let gi = 0; gi < G; gi++) {
        g.attrs.forEach((a, ai) => {
          const col = gi * g.attrs.length + ai;
          const icpt = intercepts[col]!;
          const store = oof![a]![gi]!;
          for (let q = 0; q < nf; q++) {
            const yhat = pred[q * cols + col]! + icpt;
            store[start[f]! + q] = yhat;
            const y = yAt(start[f]! + q, a);
            if (!Number.isNaN(y)) sse[a]![gi]! += (y - yhat) ** 2;
          }
        });
      }
    }
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
    if (targetN === 0) throw new DtrError('E_DATA', `no row has every rating the target ${JSON.stringify(target.formula)} uses (${target.attributes.join(', ')})`);
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
    if (targetPick < 0) throw new DtrError('E_NUMERIC', 'no lambda of the grid gave a positive definite system', { hint: 'use larger lambdas (--lambdas)' });
  }
  const pickIndex = ATTRIBUTES.map((a, ai) => {
    if (!auto) return 0;
    const gi = targetPick >= 0 ? targetPick : argmin(cvMse[ai]!);
    if (gi < 0) throw new DtrError('E_NUMERIC', `no lambda of the grid gave a positive definite system for ${a}`, { hint: 'use larger lambdas (--lambdas)' });
    return gi;
  });
  if (auto && G > 1) {
    const low = ATTRIBUTES.filter((_, a) => pickIndex[a] === 0);
    const high = ATTRIBUTES.filter((_, a) => pickIndex[a] === G - 1);
    if (low.length) warnings.push(`the smallest lambda of the grid (${grid[0]}) was chosen for ${low.join(', ')}: the best may be smaller (give --lambdas)`);
    if (high.length) warnings.push(`the largest lambda of the grid (${grid[G - 1]}) was chosen for ${high.join(', ')}: the best may be larger (give --lambdas)`);
    const skipped = grid.filter((_, gi) => ATTRIBUTES.some((_, a) => failedAt[a]![gi]));
    if (skipped.length) warnings.push(`lambda ${skipped.join(', ')} skipped: the system was not positive definite`);
  }

  // ---- final fit on all rated rows, one factorisation per distinct lambda of a group ----
  const weight = new Float64Array(A * h);
  const bias = new Float64Array(A);
  const fitTotal = fitFor.reduce((s, g) => s + new Set(g.attrs.map((a) => pickIndex[a])).size, 0);
  let fitDone = 0;
  for (const g of fitFor) {
    const sys = trainingSystem(g.attrs, h, k, g.gAllG, null, g.sumZ, foldXtY, foldCount, foldYSum, -1);
    const distinct = new Set(g.attrs.map((a) => pickIndex[a]!));
    for (const gi of distinct) {
      const w = await solveRidge(la, sys.gram, h, grid[gi]!, sys.rhs, g.attrs.length, distinct.size === 1);
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
    cv: folds >= 2
      ? { folds, seed: options.foldOf !== undefined ? null : seed, grid, scale, mse: perAttribute((_, a) => cvMse[a]!), targetMse }
      : null,
    heldOut,
    target: target && targetMse && targetPick >= 0
      ? { formula: target.formula, lambda: grid[targetPick]!, mse: targetMse[targetPick]!, r2: targetSst > 0 ? 1 - (targetMse[targetPick]! * targetN) / targetSst : 0, n: targetN }
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

/** The centred normal equations of a training set: every fold but `heldOut` (-1: all folds). */
function trainingSystem(
  attrs: number[], h: number, k: number, gAll: Float64Array, gHeld: Float64Array | null, sumZ: Float64Array[],
  xty: Float64Array[], counts: number[][], ysum: number[][], heldOut: number,
): { gram: Float64Array; rhs: Float64Array; d: Float64Array; yMean: number[] } {
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
  // Upper triangles only: that is all the Cholesky reads.
  const gram = gAll.slice();
  if (gHeld) {
    for (let r = 0; r < h; r++) for (let i = r * h + r; i < (r + 1) * h; i++) gram[i]! -= gHeld[i]!;
  }
  // Σ (z − d)(z − d)ᵀ = Σ z zᵀ − n d dᵀ. With every fold in (the final fit), d is the centring
  // error alone, ~1e-16 of the data: skip the correction when it is below float64 resolution.
  let needed = false;
  for (let j = 0; j < h && !needed; j++) needed = nS * d[j]! * d[j]! > 1e-16 * Math.abs(gram[j * h + j]!);
  if (needed) {
    for (let r = 0; r < h; r++) {
      const dr = nS * d[r]!;
      const o = r * h;
      for (let col = r; col < h; col++) gram[o + col]! -= dr * d[col]!;
    }
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
      for (let j = 0; j < h; j++) rhs[j * m + ai]! += x[j * 2 * ATTRIBUTE_COUNT + a]!;
    }
    for (let j = 0; j < h; j++) rhs[j * m + ai]! -= yMean[ai]! * s[j]!;
  });
  return { gram, rhs, d, yMean };
}

/** Buffers reused across the many factorisations of one fit (large allocations cost page faults and GC). */
interface Scratch {
  work: Float64Array | null;
  factor: CholeskyFactor | undefined;
}

/** (gram + λI) w = rhs, by Cholesky. `consume`: `gram` may be overwritten (saves a copy). */
async function solveRidge(la: OrtLinalg, gram: Float64Array, h: number, lambda: number, rhs: Float64Array, m: number, consume = false, scratch?: Scratch): Promise<Float64Array> {
  let a: Float64Array;
  if (consume) a = gram;
  else if (scratch) {
    scratch.work ??= new Float64Array(h * h);
    scratch.work.set(gram);
    a = scratch.work;
  } else a = gram.slice();
  for (let j = 0; j < h; j++) a[j * h + j]! += lambda;
  const f = await la.cholesky(a, h, scratch?.factor);
  if (scratch) scratch.factor = f;
  return la.choleskySolve(f, rhs, m);
}

/**
 * Writes `cnt` rows of `src` (starting at offsets rowBase[q]) transposed into `xt` (row j at
 * dst + j * stride) and adds each column's values to sums[j]. A non-finite value makes its column
 * sum non-finite, which the caller checks once instead of testing every value. A function of its
 * own so that V8 compiles it for the one array type a fit uses.
 */
function transposeChunk(src: Float32Array | Float64Array, rowBase: Int32Array, cnt: number, h: number, xt: Float64Array, dst: number, stride: number, sums: Float64Array): void {
  for (let j = 0; j < h; j++) {
    const o = dst + j * stride;
    let sj = 0;
    for (let q = 0; q < cnt; q++) {
      const v = src[rowBase[q]! + j]!;
      xt[o + q] = v;
      sj += v;
    }
    sums[j]! += sj;
  }
}

/** The fold f with start[f] <= p < start[f + 1]. */
function upperBound(start: Int32Array, p: number): number {
  let f = 0;
  while (start[f + 1]! <= p) f++;
  return f;
}

function sumMatrices(ms: Float64Array[], len: number): Float64Array {
  if (ms.length === 1) return ms[0]!;
  const out = new Float64Array(len);
  for (const m of ms) for (let i = 0; i < len; i++) out[i]! += m[i]!;
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

/** Columns `pick` of a row-major [h, n] block, as a contiguous [h, pick.length] block. */
function gatherColumns(xt: Float64Array, h: number, n: number, pick: Int32Array): Float64Array {
  const m = pick.length;
  const out = new Float64Array(h * m);
  for (let j = 0; j < h; j++) for (let q = 0; q < m; q++) out[j * m + q] = xt[j * n + pick[q]!]!;
  return out;
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
