/**
 * Dense float64 linear algebra for ridge fitting, with the heavy products on onnxruntime's
 * `Gemm` (MLAS, multi-threaded) and the small sequential parts in TypeScript.
 *
 * Layout: data matrices are held transposed, `XT` = [H, n] row-major (one row per feature).
 * onnxruntime's float64 Gemm runs about 2.5x faster on `A · Bᵀ` over contiguous rows than with
 * `transA` on [n, H] (measured: 98 vs 33 GFLOP/s at 20k x 1024 on two cores), and a feature's
 * values being contiguous makes column sums and centring simple loops.
 *
 * Gram matrices use only the upper block panels (`XT[p:p+w] · XT[p:]ᵀ`), about half the
 * flops of a full product: what BLAS `syrk` (numpy's `X.T @ X`) gets from symmetry.
 */
import { DtrError } from '../errors.js';
import { loadOrt, removeOrtTempLog, type OrtModule } from '../backbone/ort.js';
import { buildModel, type GraphSpec } from '../io/onnx.js';

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

/** Width of the Gram panels; 256 measured best at H = 4096 (0.53 of the full product's flops). */
const GRAM_PANEL = 256;

function gemmGraph(name: string, attrs: Record<string, { int: number } | { float: number }>, withC: boolean, shapes: [string[], string[], string[]]): GraphSpec {
  return {
    name,
    nodes: [{ op: 'Gemm', inputs: withC ? ['A', 'B', 'C'] : ['A', 'B'], outputs: ['Y'], attributes: attrs }],
    inputs: [
      { name: 'A', type: 'float64', shape: shapes[0] },
      { name: 'B', type: 'float64', shape: shapes[1] },
      ...(withC ? [{ name: 'C', type: 'float64' as const, shape: shapes[2] }] : []),
    ],
    outputs: [{ name: 'Y', type: 'float64', shape: shapes[2] }],
  };
}

/**
 * The float64 Gemm sessions ridge fitting needs, created once.
 * Not exported from the package: an implementation detail of {@link fitRidge}.
 */
export class OrtLinalg {
  private readonly ort: OrtModule;
  /** Y = A · Bᵀ, A [m, k], B [n, k]. */
  private readonly nt: Session;
  /** Y = A · B, A [m, k], B [k, n]. */
  private readonly nn: Session;
  /** Y = Aᵀ · B, A [k, m], B [k, n]. */
  private readonly tn: Session;
  /** Y = C − A · Bᵀ, the Cholesky trailing update. */
  private readonly update: Session;
  /** Y = Aᵀ. */
  private readonly transposer: Session;
  /** Y = C − A · B, the forward substitution's update. */
  private readonly updateNN: Session;
  /** Y = C − Aᵀ · B, the backward substitution's update. */
  private readonly updateTN: Session;

  private constructor(ort: OrtModule, sessions: Session[]) {
    this.ort = ort;
    [this.nt, this.nn, this.tn, this.update, this.updateNN, this.updateTN, this.transposer] = sessions as [Session, Session, Session, Session, Session, Session, Session];
  }

  /** Creates the sessions (onnxruntime-node is loaded here, lazily). */
  static async create(options: { threads?: number } = {}): Promise<OrtLinalg> {
    let ort: OrtModule;
    try {
      ort = await loadOrt();
    } catch (cause) {
      throw new DtrError('E_BACKBONE', `onnxruntime-node could not be loaded: ${(cause as Error).message}`, { cause, hint: 'run npm install (onnxruntime-node ships CPU binaries)' });
    }
    const opts = { intraOpNumThreads: options.threads ?? 0, interOpNumThreads: 1, executionMode: 'sequential' as const, graphOptimizationLevel: 'all' as const };
    const graphs = [
      gemmGraph('nt', { transB: { int: 1 } }, false, [['m', 'k'], ['n', 'k'], ['m', 'n']]),
      gemmGraph('nn', {}, false, [['m', 'k'], ['k', 'n'], ['m', 'n']]),
      gemmGraph('tn', { transA: { int: 1 } }, false, [['k', 'm'], ['k', 'n'], ['m', 'n']]),
      gemmGraph('update', { transB: { int: 1 }, alpha: { float: -1 }, beta: { float: 1 } }, true, [['m', 'k'], ['n', 'k'], ['m', 'n']]),
      gemmGraph('updateNN', { alpha: { float: -1 }, beta: { float: 1 } }, true, [['m', 'k'], ['k', 'n'], ['m', 'n']]),
      gemmGraph('updateTN', { transA: { int: 1 }, alpha: { float: -1 }, beta: { float: 1 } }, true, [['k', 'm'], ['k', 'n'], ['m', 'n']]),
      {
        name: 'transpose',
        nodes: [{ op: 'Transpose', inputs: ['A'], outputs: ['Y'], attributes: { perm: { ints: [1, 0] } } }],
        inputs: [{ name: 'A', type: 'float64', shape: ['m', 'n'] }],
        outputs: [{ name: 'Y', type: 'float64', shape: ['n', 'm'] }],
      } satisfies GraphSpec,
    ];
    try {
      const sessions = await Promise.all(graphs.map((g) => ort.InferenceSession.create(buildModel(g, { opset: 13 }), opts)));
      return new OrtLinalg(ort, sessions);
    } catch (cause) {
      throw new DtrError('E_BACKBONE', `onnxruntime could not create the float64 Gemm sessions: ${(cause as Error).message}`, { cause });
    } finally {
      removeOrtTempLog();
    }
  }

  private tensor(data: Float64Array, dims: number[]): InstanceType<OrtModule['Tensor']> {
    return new this.ort.Tensor('float64', data, dims);
  }

  private async run(s: Session, feeds: Record<string, InstanceType<OrtModule['Tensor']>>): Promise<Float64Array> {
    const out = await s.run(feeds);
    return out.Y!.data as Float64Array;
  }

  /** A [m, k] · B [n, k]ᵀ -> [m, n]. */
  async matmulNT(a: Float64Array, m: number, b: Float64Array, n: number, k: number): Promise<Float64Array> {
    return this.run(this.nt, { A: this.tensor(a, [m, k]), B: this.tensor(b, [n, k]) });
  }

  /** A [m, k] · B [k, n] -> [m, n]. */
  async matmulNN(a: Float64Array, m: number, b: Float64Array, k: number, n: number): Promise<Float64Array> {
    return this.run(this.nn, { A: this.tensor(a, [m, k]), B: this.tensor(b, [k, n]) });
  }

  /** A [k, m]ᵀ · B [k, n] -> [m, n]. */
  async matmulTN(a: Float64Array, k: number, m: number, b: Float64Array, n: number): Promise<Float64Array> {
    return this.run(this.tn, { A: this.tensor(a, [k, m]), B: this.tensor(b, [k, n]) });
  }

  /**
   * G = XT · XTᵀ for XT [h, n] (row-major): the h x h Gram matrix, computed by upper block
   * panels only. Its upper triangle (diagonal included) is filled; entries strictly below the
   * diagonal panels are 0, and inside them hold their symmetric values. {@link cholesky} reads
   * only the upper triangle. `onPanel` is called after each panel (for progress).
   */
  async gram(xt: Float64Array, h: number, n: number, onPanel?: (done: number, total: number) => void): Promise<Float64Array> {
    const g = new Float64Array(h * h);
    const panels = Math.ceil(h / GRAM_PANEL);
    if (n === 0) return g;
    for (let p = 0, i = 0; p < h; p += GRAM_PANEL, i++) {
      const w = Math.min(GRAM_PANEL, h - p);
      const m = h - p;
      // Subarray views: onnxruntime reads them in place, no copy of the 4096 x 20k matrix.
      const block = await this.matmulNT(xt.subarray(p * n, (p + w) * n), w, xt.subarray(p * n), m, n);
      for (let r = 0; r < w; r++) g.set(block.subarray(r * m, (r + 1) * m), (p + r) * h + p);
      onPanel?.(i + 1, panels);
    }
    return g;
  }

  /** C [m, n] − A [m, k] · B [n, k]ᵀ -> [m, n]. */
  async subtractNT(c: Float64Array, a: Float64Array, m: number, b: Float64Array, n: number, k: number): Promise<Float64Array> {
    return this.run(this.update, { A: this.tensor(a, [m, k]), B: this.tensor(b, [n, k]), C: this.tensor(c, [m, n]) });
  }

  /** A [m, n] -> Aᵀ [n, m] (onnxruntime's copy beats a TypeScript loop on large matrices). */
  async transpose(a: Float64Array, m: number, n: number): Promise<Float64Array> {
    return this.run(this.transposer, { A: this.tensor(a, [m, n]) });
  }

  /** C [m, n] − A [m, k] · B [k, n] -> [m, n]. */
  async subtractNN(c: Float64Array, a: Float64Array, m: number, b: Float64Array, k: number, n: number): Promise<Float64Array> {
    return this.run(this.updateNN, { A: this.tensor(a, [m, k]), B: this.tensor(b, [k, n]), C: this.tensor(c, [m, n]) });
  }

  /** C [m, n] − A [k, m]ᵀ · B [k, n] -> [m, n]. */
  async subtractTN(c: Float64Array, a: Float64Array, k: number, m: number, b: Float64Array, n: number): Promise<Float64Array> {
    return this.run(this.updateTN, { A: this.tensor(a, [k, m]), B: this.tensor(b, [k, n]), C: this.tensor(c, [m, n]) });
  }

  /**
   * Cholesky factor L (lower, row-major, upper part zero) of the symmetric positive definite
   * h x h matrix `a`, of which only the upper triangle (diagonal included) is read. Recursive algorithm (as LAPACK's potrf2): factor the leading half, solve
   * for the panel below it, update the trailing half with one large Gemm, recurse. Nearly all
   * of the h³/3 flops land in onnxruntime Gemms with large inner dimensions; TypeScript only
   * factors and inverts 128-wide diagonal leaves.
   *
   * `reuse`: a factor of the same size no longer needed, whose L buffer is recycled (saves a
   * large allocation per factorisation when many lambdas are tried).
   *
   * @throws DtrError `E_NUMERIC` naming the pivot when the matrix is not positive definite.
   */
  async cholesky(a: Float64Array, h: number, reuse?: CholeskyFactor): Promise<CholeskyFactor> {
    if (a.length !== h * h) throw new RangeError(`a has ${a.length} values, expected ${h} x ${h}`);
    // A previous factor's L can be reused: only the lower triangle is ever written, so its upper part stays 0.
    const L = reuse && reuse.h === h ? reuse.L : new Float64Array(h * h);
    const f: CholeskyFactor = { L, h, leafInverse: new Map(), offDiagonal: new Map() };
    await this.cholRec({ buf: a, stride: h, off: 0 }, h, f, 0, null);
    return f;
  }

  /**
   * Factors the symmetric n x n matrix seen through `v` (only its upper triangle and diagonal
   * blocks are read) into the factor's diagonal block at (r0, r0). `parts`, when given, are the
   * matrix's top-left, top-right and bottom-right blocks as separate arrays (what the previous
   * level's update produced), so nothing is reassembled.
   */
  private async cholRec(v: View, n: number, f: CholeskyFactor, r0: number, parts: Parts | null): Promise<void> {
    const { L, h: width } = f;
    if (n <= LEAF) {
      const l = viewBlock(v, 0, 0, n, n);
      for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) l[i * n + j] = l[j * n + i]!; // the leaf's lower half from its upper
      choleskyInPlace(l, n, r0);
      for (let r = 0; r < n; r++) L.set(l.subarray(r * n, r * n + r + 1), (r0 + r) * width + r0);
      // Every later triangular solve splits ranges the same way, so it meets exactly these leaves.
      f.leafInverse.set(r0, lowerInverse(l, n));
      return;
    }
    const n1 = split(n);
    const n2 = n - n1;
    const v11 = parts ? parts.tl : sub(v, 0, 0);
    const v22 = parts ? parts.br : sub(v, n1, n1);
    await this.cholRec(v11, n1, f, r0, null);
    // L21ᵀ = L11⁻¹ · A12 (A12 = A21ᵀ by symmetry): solved by rows, so every piece stays contiguous.
    const y = parts ? parts.tr : viewBlock(v, 0, n1, n1, n2);
    await this.solveLowerInPlace(f, r0, n1, y, n2);
    const x = n1 * n2 >= 1 << 16 ? await this.transpose(y, n1, n2) : transpose(y, n1, n2);
    for (let r = 0; r < n2; r++) L.set(x.subarray(r * n1, (r + 1) * n1), (r0 + n1 + r) * width + r0);
    // The triangular solves of this range need exactly this block: keep it, contiguous.
    f.offDiagonal.set(key(r0, n), x);
    // A22 − X Xᵀ, but only the blocks the next level reads (its top-left, top-right and
    // bottom-right): the bottom-left quarter is never formed, and nothing is reassembled.
    if (n2 <= LEAF) {
      const a22 = await this.subtractNT(viewBlock(v22, 0, 0, n2, n2), x, n2, x, n2, n1);
      await this.cholRec({ buf: a22, stride: n2, off: 0 }, n2, f, r0 + n1, null);
      return;
    }
    const p = split(n2);
    const q = n2 - p;
    const xa = x.subarray(0, p * n1);
    const xb = x.subarray(p * n1);
    const tl = await this.subtractNT(viewBlock(v22, 0, 0, p, p), xa, p, xa, p, n1);
    const tr = await this.subtractNT(viewBlock(v22, 0, p, p, q), xa, p, xb, q, n1);
    const br = await this.subtractNT(viewBlock(v22, p, p, q, q), xb, q, xb, q, n1);
    await this.cholRec(v22, n2, f, r0 + n1, { tl: { buf: tl, stride: p, off: 0 }, tr, br: { buf: br, stride: q, off: 0 } });
  }

  /**
   * Solves (L Lᵀ) W = B for W, with L from {@link cholesky} (h x h) and B h x k row-major;
   * returns W h x k. Block forward then backward substitution, the updates as Gemms.
   */
  async choleskySolve(f: CholeskyFactor, b: Float64Array, k: number): Promise<Float64Array> {
    if (b.length !== f.h * k) throw new RangeError(`choleskySolve: b has ${b.length} values, expected ${f.h} x ${k}`);
    const w = b.slice();
    await this.solveLowerInPlace(f, 0, f.h, w, k);
    await this.solveUpperTInPlace(f, 0, f.h, w, k);
    return w;
  }

  /** Solves Tᵀ · W = C in place, T the n x n lower triangle of L at (r0, r0) (backward substitution). */
  private async solveUpperTInPlace(f: CholeskyFactor, r0: number, n: number, c: Float64Array, m: number): Promise<void> {
    if (n <= LEAF) {
      c.set(await this.matmulTN(leafInverse(f, r0), n, n, c, m));
      return;
    }
    const n1 = split(n);
    const n2 = n - n1;
    const c2 = c.subarray(n1 * m);
    await this.solveUpperTInPlace(f, r0 + n1, n2, c2, m);
    c.set(await this.subtractTN(c.subarray(0, n1 * m), offDiagonal(f, r0, n), n2, n1, c2, m), 0);
    await this.solveUpperTInPlace(f, r0, n1, c.subarray(0, n1 * m), m);
  }

  /**
   * Solves T · Y = C in place (C [n, m] contiguous becomes Y), T the n x n lower triangle of L
   * at (r0, r0): block forward substitution, updates as Gemms, leaves by explicit inverse.
   */
  private async solveLowerInPlace(f: CholeskyFactor, r0: number, n: number, c: Float64Array, m: number): Promise<void> {
    if (n <= LEAF) {
      c.set(await this.matmulNN(leafInverse(f, r0), n, c, n, m));
      return;
    }
    const n1 = split(n);
    const n2 = n - n1;
    const c1 = c.subarray(0, n1 * m);
    await this.solveLowerInPlace(f, r0, n1, c1, m);
    c.set(await this.subtractNN(c.subarray(n1 * m), offDiagonal(f, r0, n), n2, c1, n1, m), n1 * m);
    await this.solveLowerInPlace(f, r0 + n1, n2, c.subarray(n1 * m), m);
  }
}


/** The transpose of a rows x cols row-major matrix, in cache-sized tiles. */
function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  const T = 32;
  for (let i0 = 0; i0 < rows; i0 += T) {
    const i1 = Math.min(rows, i0 + T);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(cols, j0 + T);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = a[i * cols + j]!;
    }
  }
  return out;
}

/**
 * A Cholesky factor: L (h x h, lower, row-major), the inverses of its diagonal leaves and its
 * off-diagonal blocks as contiguous copies, which the block triangular solves multiply by.
 */
export interface CholeskyFactor {
  L: Float64Array;
  h: number;
  /** Inverse of the diagonal leaf starting at row r, by r. */
  leafInverse: Map<number, Float64Array>;
  /** For the range [r, r + n) split as (n1, n2): L[r+n1 .. r+n, r .. r+n1], [n2, n1], by key(r, n). */
  offDiagonal: Map<string, Float64Array>;
}

function leafInverse(f: CholeskyFactor, r0: number): Float64Array {
  const inv = f.leafInverse.get(r0);
  if (!inv) throw new DtrError('E_INTERNAL', `no inverse for the Cholesky leaf at row ${r0}`);
  return inv;
}

function offDiagonal(f: CholeskyFactor, r0: number, n: number): Float64Array {
  const b = f.offDiagonal.get(key(r0, n));
  if (!b) throw new DtrError('E_INTERNAL', `no off-diagonal block for rows ${r0}..${r0 + n}`);
  return b;
}

const key = (r0: number, n: number): string => `${r0}:${n}`;

/** A row-major matrix seen inside a larger buffer: element (i, j) is buf[off + i * stride + j]. */
interface View {
  buf: Float64Array;
  stride: number;
  off: number;
}

/** The blocks of a split symmetric matrix made by the previous level's update. */
interface Parts {
  tl: View;
  tr: Float64Array;
  br: View;
}

/** The view of the block starting at (r, c). */
function sub(v: View, r: number, c: number): View {
  return { buf: v.buf, stride: v.stride, off: v.off + r * v.stride + c };
}

/** A contiguous copy of rows x cols starting at (r, c) of a view. */
function viewBlock(v: View, r: number, c: number, rows: number, cols: number): Float64Array {
  const start = v.off + r * v.stride + c;
  if (cols === v.stride) return v.buf.slice(start, start + rows * cols);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(v.buf.subarray(start + i * v.stride, start + i * v.stride + cols), i * cols);
  return out;
}

/** Size of the diagonal leaves factored and inverted in TypeScript. */
const LEAF = 128;

/** Leading part of a recursive split: half, rounded to a multiple of the leaf size. */
function split(n: number): number {
  return Math.max(LEAF, Math.round(n / 2 / LEAF) * LEAF);
}


/** Unblocked Cholesky of a b x b row-major block, in place (lower triangle; upper zeroed). */
function choleskyInPlace(a: Float64Array, b: number, offset: number): void {
  for (let j = 0; j < b; j++) {
    const rj = j * b;
    let d = a[rj + j]!;
    for (let t = 0; t < j; t++) d -= a[rj + t]! * a[rj + t]!;
    if (!(d > 0)) {
      throw new DtrError('E_NUMERIC', `the ridge system is not positive definite (pivot ${offset + j} is ${d.toPrecision(3)})`, {
        hint: 'lambda is too small for this data (collinear or constant features): use a larger --lambda, or --lambda auto',
      });
    }
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < b; i++) {
      const ri = i * b;
      let s = a[ri + j]!;
      for (let t = 0; t < j; t++) s -= a[ri + t]! * a[rj + t]!;
      a[ri + j] = s / ljj;
    }
    for (let t = j + 1; t < b; t++) a[rj + t] = 0;
  }
}

/** Inverse of a b x b lower-triangular row-major matrix (lower-triangular too). */
function lowerInverse(l: Float64Array, b: number): Float64Array {
  const x = new Float64Array(b * b);
  for (let i = 0; i < b; i++) {
    const ri = i * b;
    x[ri + i] = 1 / l[ri + i]!;
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let t = j; t < i; t++) s += l[ri + t]! * x[t * b + j]!;
      x[ri + j] = -s / l[ri + i]!;
    }
  }
  return x;
}
