/**
 * Dense float64 linear algebra for ridge fitting, with the heavy products on onnxruntime's
 * `Gemm` (MLAS, multi-threaded) and the small sequential parts in TypeScript.
 *
 * Layouts:
 * - Data matrices are held transposed, `XT` = [H, n] row-major (one row per feature).
 *   onnxruntime's float64 Gemm runs about 2.5x faster on `A · Bᵀ` over contiguous rows than with
 *   `transA` on [n, H] (measured: 98 vs 33 GFLOP/s at 20k x 1024 on two cores), and a feature's
 *   values being contiguous makes column sums and centring simple loops.
 * - Symmetric matrices (Gram matrices, ridge systems) and Cholesky factors are held as their
 *   lower triangle in column panels of {@link PANEL} columns ({@link PanelMatrix}). Every operand
 *   of every Gemm below is then one contiguous run of memory, and onnxruntime writes each result
 *   straight into its place (pre-allocated outputs; for updates `C` and `Y` are the same memory):
 *   no result is copied back, no block reassembled, no transpose made. A Gram panel is one Gemm
 *   `XT[p:] · XT[p:p+w]ᵀ`, so a Gram matrix costs half a full product, as BLAS `syrk` (numpy's
 *   `X.T @ X`) does.
 *
 * Cholesky ({@link OrtLinalg.factor}): recursive and right-looking over panels, as LAPACK's
 * recursive `potrf2` but on this layout. Factor the left half of a range of panels; gather its
 * columns below the range's midpoint into one contiguous block X; update each panel of the right
 * half with one Gemm `panel −= X[its rows] · X[its columns]ᵀ`, whose inner dimension is the whole
 * left half (hundreds to thousands: MLAS runs near its peak); recurse on the right half. A panel
 * is factored in TypeScript (its w x w diagonal block, w³/3 flops) and the rows below it solved
 * by one Gemm with the inverse of that block. Exactly the lower triangle is computed, at panel
 * granularity: H³/3 flops, plus w·H² for the panel solves.
 *
 * May import: its own folder (head/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never tree/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { DtrError } from '../errors.js';
import { loadOrt, removeOrtTempLog, type OrtModule } from '../backbone/ort.js';
import { buildModel, type GraphSpec } from '../io/onnx.js';

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

/**
 * Width of the column panels. 128 keeps the TypeScript work per panel small (two 128³/3 loops)
 * and the panel solves at w·H² (9% of a Cholesky at H = 4096), while every update Gemm still has
 * 128 output columns and an inner dimension of 128 or more.
 */
export const PANEL = 128;

/** Number of column panels of an h x h matrix. */
export function panelCount(h: number): number {
  return Math.ceil(h / PANEL);
}

/** Columns of panel k (PANEL, except a narrower last one). */
export function panelWidth(h: number, k: number): number {
  return Math.min(PANEL, h - k * PANEL);
}

/**
 * A symmetric h x h matrix as its lower triangle in column panels: panel k holds rows k·PANEL
 * .. h−1 of columns k·PANEL .. k·PANEL + w − 1 (w = {@link panelWidth}), row-major, so element
 * (r, c), r ≥ c, is `panels[k][(r − k·PANEL)·w + (c − k·PANEL)]` with k = ⌊c / PANEL⌋. Each
 * panel's diagonal block is complete (both triangles).
 */
export class PanelMatrix {
  readonly h: number;
  readonly panels: Float64Array[];

  /** A zero matrix, or one over the given panels (taken, not copied). */
  constructor(h: number, panels?: Float64Array[]) {
    if (!Number.isSafeInteger(h) || h < 1) throw new RangeError(`h must be a positive integer, got ${h}`);
    this.h = h;
    const count = panelCount(h);
    this.panels = panels ?? Array.from({ length: count }, (_, k) => new Float64Array((h - k * PANEL) * panelWidth(h, k)));
    if (this.panels.length !== count) throw new RangeError(`expected ${count} panels for h = ${h}, got ${this.panels.length}`);
  }

  /** From a row-major h x h matrix of which only the upper triangle (diagonal included) is read. */
  static fromUpper(a: Float64Array, h: number): PanelMatrix {
    if (a.length !== h * h) throw new RangeError(`a has ${a.length} values, expected ${h} x ${h}`);
    const m = new PanelMatrix(h);
    m.panels.forEach((p, k) => {
      const c0 = k * PANEL;
      const w = panelWidth(h, k);
      for (let c = 0; c < w; c++) {
        const col = c0 + c;
        for (let r = c0; r < h; r++) p[(r - c0) * w + c] = r <= col ? a[r * h + col]! : a[col * h + r]!;
      }
    });
    return m;
  }

  /** Element (r, c), either triangle. */
  get(r: number, c: number): number {
    if (r < c) [r, c] = [c, r];
    const k = Math.floor(c / PANEL);
    return this.panels[k]![(r - k * PANEL) * panelWidth(this.h, k) + (c - k * PANEL)]!;
  }

  /** The full symmetric matrix, row-major. */
  toFull(): Float64Array {
    const h = this.h;
    const out = new Float64Array(h * h);
    for (let r = 0; r < h; r++) for (let c = 0; c <= r; c++) out[r * h + c] = out[c * h + r] = this.get(r, c);
    return out;
  }
}

function gemmGraph(
  name: string,
  attrs: Record<string, { int: number } | { float: number }>,
  withC: boolean,
  shapes: [string[], string[], string[]],
): GraphSpec {
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
 * A Cholesky factor L (A = L Lᵀ) in the {@link PanelMatrix} layout, with the inverses of its
 * diagonal blocks, which the triangular solves multiply by.
 */
export class CholeskyFactor {
  readonly h: number;
  /** L by panels: each diagonal block holds its L_kk (lower, upper part zero), the rows below it L's. */
  readonly panels: Float64Array[];
  /** Inverse of each diagonal block (lower triangular, row-major). */
  readonly inverses: Float64Array[];
  /** Where the panel solves write before their result is copied back, kept for reuse. */
  scratch: Float64Array | null;
  /** Scratch of the gathered left blocks. */
  gather: Float64Array | null;
  private full: Float64Array | null = null;

  constructor(h: number, panels: Float64Array[], scratch: Float64Array | null = null, gather: Float64Array | null = null) {
    this.h = h;
    this.panels = panels;
    this.inverses = new Array<Float64Array>(panels.length);
    this.scratch = scratch;
    this.gather = gather;
  }

  /** L as a row-major h x h matrix (lower triangular; assembled on first use). */
  get L(): Float64Array {
    if (this.full) return this.full;
    const h = this.h;
    const out = new Float64Array(h * h);
    this.panels.forEach((p, k) => {
      const c0 = k * PANEL;
      const w = panelWidth(h, k);
      for (let r = c0; r < h; r++) {
        const lim = Math.min(w, r - c0 + 1); // the diagonal block's upper part is zero anyway
        for (let c = 0; c < lim; c++) out[r * h + c0 + c] = p[(r - c0) * w + c]!;
      }
    });
    this.full = out;
    return out;
  }
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
  /** Y = C − A · Bᵀ: the Cholesky updates. */
  private readonly updateNT: Session;
  /** Y = C + A · Bᵀ: Gram matrices accumulated chunk by chunk. */
  private readonly accNT: Session;
  /** Y = C − A · B: the forward substitution's updates. */
  private readonly updateNN: Session;
  /** Y = C − Aᵀ · B: the backward substitution's updates. */
  private readonly updateTN: Session;

  private constructor(ort: OrtModule, sessions: Session[]) {
    this.ort = ort;
    [this.nt, this.nn, this.tn, this.updateNT, this.updateNN, this.updateTN, this.accNT] = sessions as [
      Session,
      Session,
      Session,
      Session,
      Session,
      Session,
      Session,
    ];
  }

  /** Creates the sessions (onnxruntime-node is loaded here, lazily). */
  static async create(options: { threads?: number } = {}): Promise<OrtLinalg> {
    let ort: OrtModule;
    try {
      ort = await loadOrt();
    } catch (cause) {
      throw new DtrError('E_BACKBONE', `onnxruntime-node could not be loaded: ${(cause as Error).message}`, {
        cause,
        hint: 'run npm install (onnxruntime-node ships CPU binaries)',
      });
    }
    const opts = {
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      executionMode: 'sequential' as const,
      graphOptimizationLevel: 'all' as const,
    };
    const graphs = [
      gemmGraph('nt', { transB: { int: 1 } }, false, [
        ['m', 'k'],
        ['n', 'k'],
        ['m', 'n'],
      ]),
      gemmGraph('nn', {}, false, [
        ['m', 'k'],
        ['k', 'n'],
        ['m', 'n'],
      ]),
      gemmGraph('tn', { transA: { int: 1 } }, false, [
        ['k', 'm'],
        ['k', 'n'],
        ['m', 'n'],
      ]),
      gemmGraph('updateNT', { transB: { int: 1 }, alpha: { float: -1 }, beta: { float: 1 } }, true, [
        ['m', 'k'],
        ['n', 'k'],
        ['m', 'n'],
      ]),
      gemmGraph('updateNN', { alpha: { float: -1 }, beta: { float: 1 } }, true, [
        ['m', 'k'],
        ['k', 'n'],
        ['m', 'n'],
      ]),
      gemmGraph('updateTN', { transA: { int: 1 }, alpha: { float: -1 }, beta: { float: 1 } }, true, [
        ['k', 'm'],
        ['k', 'n'],
        ['m', 'n'],
      ]),
      gemmGraph('accNT', { transB: { int: 1 }, alpha: { float: 1 }, beta: { float: 1 } }, true, [
        ['m', 'k'],
        ['n', 'k'],
        ['m', 'n'],
      ]),
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

  /**
   * Runs a session. With `out` ([m, n], a view is fine), onnxruntime writes Y there (for the
   * update sessions `out` may be C itself: Y = C − ..., in place) and `out` is returned.
   */
  private async run(
    s: Session,
    feeds: Record<string, InstanceType<OrtModule['Tensor']>>,
    out?: { data: Float64Array; dims: number[] },
  ): Promise<Float64Array> {
    if (out) {
      await s.run(feeds, { Y: this.tensor(out.data, out.dims) });
      return out.data;
    }
    const r = await s.run(feeds);
    return r.Y!.data as Float64Array;
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
   * G = XT · XTᵀ for XT [h, n] (row-major), as a {@link PanelMatrix}: one Gemm per panel,
   * `XT[p:] · XT[p:p+w]ᵀ`, written in place (into `into`'s panels when given; with `accumulate`,
   * added to them: a Gram matrix built chunk of rows by chunk). `onPanel` is called after each
   * panel (for progress).
   */
  async gramPanels(
    xt: Float64Array,
    h: number,
    n: number,
    onPanel?: (done: number, total: number) => void,
    into?: PanelMatrix,
    accumulate = false,
  ): Promise<PanelMatrix> {
    if (xt.length !== h * n) throw new RangeError(`xt has ${xt.length} values, expected ${h} x ${n}`);
    const g = into ?? new PanelMatrix(h);
    if (g.h !== h) throw new RangeError(`into is ${g.h} x ${g.h}, expected ${h} x ${h}`);
    const count = g.panels.length;
    for (let k = 0; k < count; k++) {
      const p = g.panels[k]!;
      const r0 = k * PANEL;
      const w = panelWidth(h, k);
      if (n === 0) {
        if (!accumulate) p.fill(0);
      } else {
        // Subarray views: onnxruntime reads them in place, no copy of the 4096 x 20k matrix.
        const feeds = { A: this.tensor(xt.subarray(r0 * n), [h - r0, n]), B: this.tensor(xt.subarray(r0 * n, (r0 + w) * n), [w, n]) };
        if (accumulate) await this.run(this.accNT, { ...feeds, C: this.tensor(p, [h - r0, w]) }, { data: p, dims: [h - r0, w] });
        else await this.run(this.nt, feeds, { data: p, dims: [h - r0, w] });
      }
      onPanel?.(k + 1, count);
    }
    return g;
  }

  /**
   * G = XT · XTᵀ for XT [h, n] (row-major), as a full row-major h x h matrix (both triangles).
   * {@link gramPanels} is the form the factorisation reads; this one is for callers that want
   * plain entries.
   */
  async gram(xt: Float64Array, h: number, n: number, onPanel?: (done: number, total: number) => void): Promise<Float64Array> {
    return (await this.gramPanels(xt, h, n, onPanel)).toFull();
  }

  /**
   * Cholesky factor L of the symmetric positive definite h x h matrix `a` (row-major), of which
   * only the upper triangle (diagonal included) is read. See {@link factor}.
   *
   * @throws DtrError `E_NUMERIC` naming the pivot when the matrix is not positive definite.
   */
  async cholesky(a: Float64Array, h: number, reuse?: CholeskyFactor): Promise<CholeskyFactor> {
    if (a.length !== h * h) throw new RangeError(`a has ${a.length} values, expected ${h} x ${h}`);
    return this.factor(PanelMatrix.fromUpper(a, h), 0, reuse);
  }

  /**
   * Cholesky factor of `a + shift·I`. `a` is left unchanged, unless `consume`: then its memory
   * becomes the factor's (no copy; `a` must not be used afterwards). `reuse`: a factor of the
   * same size no longer needed, whose buffers are recycled (it must not be used afterwards):
   * many lambdas then cost no large allocation.
   *
   * @throws DtrError `E_NUMERIC` naming the pivot when the matrix is not positive definite.
   */
  async factor(a: PanelMatrix, shift = 0, reuse?: CholeskyFactor, options: { consume?: boolean } = {}): Promise<CholeskyFactor> {
    const h = a.h;
    const same = reuse !== undefined && reuse.h === h;
    const panels = a.panels.map((src, k) => {
      const dst = options.consume ? src : same ? reuse.panels[k]! : new Float64Array(src.length);
      if (dst !== src) dst.set(src);
      if (shift !== 0) {
        const w = panelWidth(h, k);
        for (let i = 0; i < w; i++) dst[i * w + i]! += shift;
      }
      return dst;
    });
    const f = new CholeskyFactor(h, panels, same ? reuse.scratch : null, same ? reuse.gather : null);
    await this.factorRange(f, 0, panels.length);
    return f;
  }

  /** Factors panels [a, b), all of whose updates from panels before a are applied. */
  private async factorRange(f: CholeskyFactor, a: number, b: number): Promise<void> {
    if (b - a === 1) {
      await this.factorPanel(f, a);
      return;
    }
    const m = a + ((b - a) >> 1);
    await this.factorRange(f, a, m);
    // X = L[m·w :, a·w : m·w], gathered from the left panels' rows below m·w: [rowsX, kX].
    const h = f.h;
    const rowsX = h - m * PANEL;
    const kX = (m - a) * PANEL;
    if (!f.gather || f.gather.length < rowsX * kX) f.gather = new Float64Array(Math.max(rowsX * kX, f.gather?.length ?? 0));
    const x = f.gather;
    for (let j = a; j < m; j++) {
      const p = f.panels[j]!;
      const base = (m - j) * PANEL * PANEL; // panel j's row m·w (its panels are PANEL wide: j < m < count)
      const col = (j - a) * PANEL;
      for (let r = 0; r < rowsX; r++) {
        const src = base + r * PANEL;
        const dst = r * kX + col;
        for (let c = 0; c < PANEL; c++) x[dst + c] = p[src + c]!;
      }
    }
    // Each right panel i: panel_i −= X[rows from i·w] · X[rows i·w .. i·w + w_i]ᵀ, in place.
    for (let i = m; i < b; i++) {
      const p = f.panels[i]!;
      const w = panelWidth(h, i);
      const rows = h - i * PANEL;
      const off = (i - m) * PANEL * kX;
      await this.run(
        this.updateNT,
        {
          A: this.tensor(x.subarray(off, off + rows * kX), [rows, kX]),
          B: this.tensor(x.subarray(off, off + w * kX), [w, kX]),
          C: this.tensor(p, [rows, w]),
        },
        { data: p, dims: [rows, w] },
      );
    }
    await this.factorRange(f, m, b);
  }

  /** Factors panel k (all its updates applied): its diagonal block in TypeScript, the rows below by one Gemm. */
  private async factorPanel(f: CholeskyFactor, k: number): Promise<void> {
    const h = f.h;
    const p = f.panels[k]!;
    const w = panelWidth(h, k);
    const rows = h - k * PANEL;
    const d = new Float64Array(w * w);
    for (let i = 0; i < w; i++) for (let j = 0; j <= i; j++) d[i * w + j] = p[i * w + j]!;
    choleskyInPlace(d, w, k * PANEL);
    const inv = lowerInverse(d, w);
    f.inverses[k] = inv;
    if (rows === w) {
      p.set(d);
      return;
    }
    // L21 = A21 · L_kk⁻ᵀ, into scratch (a Gemm's output may not be its input), then copied back:
    // a copy (w·h values) is cheaper than a second set of panels to fault in.
    const below = (rows - w) * w;
    if (!f.scratch || f.scratch.length < below) f.scratch = new Float64Array(Math.max(below, (h - w) * w));
    const out = f.scratch.subarray(0, below);
    await this.run(
      this.nt,
      { A: this.tensor(p.subarray(w * w), [rows - w, w]), B: this.tensor(inv, [w, w]) },
      { data: out, dims: [rows - w, w] },
    );
    p.set(d);
    p.set(out, w * w);
  }

  /**
   * Solves (L Lᵀ) W = B for W, with L from {@link factor} (h x h) and B h x m row-major;
   * returns W h x m. Forward then backward substitution by panels: the diagonal blocks by their
   * inverses in TypeScript, the rest as Gemms in place.
   */
  async choleskySolve(f: CholeskyFactor, b: Float64Array, m: number): Promise<Float64Array> {
    const h = f.h;
    if (b.length !== h * m) throw new RangeError(`choleskySolve: b has ${b.length} values, expected ${h} x ${m}`);
    const x = b.slice();
    const count = f.panels.length;
    const tmp = new Float64Array(PANEL * m);
    for (let k = 0; k < count; k++) {
      const r0 = k * PANEL;
      const w = panelWidth(h, k);
      const rows = h - r0;
      const xk = x.subarray(r0 * m, (r0 + w) * m);
      applyLower(f.inverses[k]!, w, xk, m, tmp, false);
      if (rows > w) {
        const below = x.subarray((r0 + w) * m);
        await this.run(
          this.updateNN,
          { A: this.tensor(f.panels[k]!.subarray(w * w), [rows - w, w]), B: this.tensor(xk, [w, m]), C: this.tensor(below, [rows - w, m]) },
          { data: below, dims: [rows - w, m] },
        );
      }
    }
    for (let k = count - 1; k >= 0; k--) {
      const r0 = k * PANEL;
      const w = panelWidth(h, k);
      const rows = h - r0;
      const xk = x.subarray(r0 * m, (r0 + w) * m);
      if (rows > w) {
        await this.run(
          this.updateTN,
          {
            A: this.tensor(f.panels[k]!.subarray(w * w), [rows - w, w]),
            B: this.tensor(x.subarray((r0 + w) * m), [rows - w, m]),
            C: this.tensor(xk, [w, m]),
          },
          { data: xk, dims: [w, m] },
        );
      }
      applyLower(f.inverses[k]!, w, xk, m, tmp, true);
    }
    return x;
  }
}

/** x [w, m] ← T · x (or Tᵀ · x with `transpose`), T a w x w lower-triangular matrix. */
function applyLower(t: Float64Array, w: number, x: Float64Array, m: number, tmp: Float64Array, transpose: boolean): void {
  tmp.fill(0, 0, w * m);
  for (let i = 0; i < w; i++) {
    for (let j = 0; j <= i; j++) {
      const v = t[i * w + j]!;
      // T[i][j] links row i and column j: y_i += v x_j (T · x), or y_j += v x_i (Tᵀ · x).
      const dst = (transpose ? j : i) * m;
      const src = (transpose ? i : j) * m;
      for (let c = 0; c < m; c++) tmp[dst + c]! += v * x[src + c]!;
    }
  }
  x.set(tmp.subarray(0, w * m));
}

/** Unblocked Cholesky of a b x b row-major block, in place (reads the lower triangle; upper zeroed). */
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

/** Inverse of a b x b lower-triangular row-major matrix (lower-triangular too), row by row (contiguous reads). */
function lowerInverse(l: Float64Array, b: number): Float64Array {
  const x = new Float64Array(b * b);
  const acc = new Float64Array(b);
  for (let i = 0; i < b; i++) {
    const ri = i * b;
    // Row i of L·X = e_i: X[i, :i] = −(Σ_t L[i, t] X[t, :i]) / L[i, i].
    acc.fill(0, 0, i);
    for (let t = 0; t < i; t++) {
      const v = l[ri + t]!;
      const rt = t * b;
      for (let j = 0; j <= t; j++) acc[j]! += v * x[rt + j]!;
    }
    const inv = 1 / l[ri + i]!;
    for (let j = 0; j < i; j++) x[ri + j] = -acc[j]! * inv;
    x[ri + i] = inv;
  }
  return x;
}
