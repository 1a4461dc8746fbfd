/** The float64 Gemm-based Gram, Cholesky and solves of ridge fitting, against mathjs on small systems. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DtrError } from '../src/index.js';
import { SeededRandom } from '../src/advanced.js';
import { OrtLinalg, PanelMatrix, PANEL } from '../src/head/ort-linalg.js';

const math = createRequire(import.meta.url)('mathjs') as {
  lusolve: (a: number[][], b: number[][]) => number[][];
  multiply: (a: number[][], b: number[][]) => number[][];
  transpose: (a: number[][]) => number[][];
};

function spd(h: number, n: number, seed: number): { xt: Float64Array; a: number[][] } {
  const rng = new SeededRandom(seed);
  const xt = Float64Array.from({ length: h * n }, () => rng.normal());
  const rows = Array.from({ length: h }, (_, i) => Array.from(xt.subarray(i * n, (i + 1) * n)));
  const a = math.multiply(rows, math.transpose(rows));
  for (let i = 0; i < h; i++) a[i]![i]! += 0.5;
  return { xt, a };
}

describe('OrtLinalg (onnxruntime float64 Gemm)', () => {
  for (const [h, n] of [
    [7, 20],
    [130, 150],
    [300, 120],
    [389, 100],
  ] as const) {
    it(`Gram, Cholesky and solve agree with mathjs at H = ${h} (leaf ${h <= 128 ? 'only' : 'and recursion'})`, async () => {
      const la = await OrtLinalg.create();
      const { xt, a } = spd(h, n, h);
      const g = await la.gram(xt, h, n);
      let worst = 0;
      // The upper triangle is the Gram matrix (the Cholesky reads nothing else).
      for (let i = 0; i < h; i++)
        for (let j = i; j < h; j++) worst = Math.max(worst, Math.abs(g[i * h + j]! - (a[i]![j]! - (i === j ? 0.5 : 0))) / n);
      expect(worst).toBeLessThan(1e-13);
      for (let i = 0; i < h; i++) g[i * h + i]! += 0.5;
      const f = await la.cholesky(g, h);
      // L is lower triangular and L Lᵀ reproduces the matrix.
      let recon = 0;
      for (let i = 0; i < h; i += Math.max(1, Math.floor(h / 17))) {
        for (let j = 0; j < h; j += Math.max(1, Math.floor(h / 13))) {
          let s = 0;
          for (let t = 0; t < h; t++) s += f.L[i * h + t]! * f.L[j * h + t]!;
          recon = Math.max(recon, Math.abs(s - a[i]![j]!) / Math.abs(a[i]![i]!));
          if (j > i) expect(f.L[i * h + j]).toBe(0);
        }
      }
      expect(recon).toBeLessThan(1e-12);
      const rng = new SeededRandom(1);
      const b = Array.from({ length: h }, () => [rng.normal(), rng.normal()]);
      const w = await la.choleskySolve(f, Float64Array.from(b.flat()), 2);
      const cols = [0, 1].map((c) =>
        math.lusolve(
          a,
          b.map((r) => [r[c]!]),
        ),
      );
      const ref = b.map((_, i) => [cols[0]![i]![0]!, cols[1]![i]![0]!]);
      let err = 0;
      let scale = 0;
      for (let i = 0; i < h; i++)
        for (let c = 0; c < 2; c++) {
          err = Math.max(err, Math.abs(w[i * 2 + c]! - ref[i]![c]!));
          scale = Math.max(scale, Math.abs(ref[i]![c]!));
        }
      expect(err / scale).toBeLessThan(1e-9);
    });
  }

  it('a Gram built chunk by chunk equals one built at once; factor(G, shift) solves (G + shift·I), five panels, consuming or not', async () => {
    const la = await OrtLinalg.create();
    const h = 4 * PANEL + 37;
    const n = 60;
    const { xt, a } = spd(h, n, 11);
    const whole = await la.gramPanels(xt, h, n);
    const acc = new PanelMatrix(h);
    // Columns 0..29 then 30..59 of XT, as two contiguous [h, 30] blocks.
    for (const [c0, c1] of [
      [0, 30],
      [30, 60],
    ] as const) {
      const part = new Float64Array(h * (c1 - c0));
      for (let j = 0; j < h; j++) part.set(xt.subarray(j * n + c0, j * n + c1), j * (c1 - c0));
      await la.gramPanels(part, h, c1 - c0, undefined, acc, true);
    }
    let worst = 0;
    for (let i = 0; i < h; i += 7) for (let j = 0; j <= i; j += 5) worst = Math.max(worst, Math.abs(acc.get(i, j) - whole.get(i, j)) / n);
    expect(worst).toBeLessThan(1e-13);
    const rng = new SeededRandom(2);
    const b = Float64Array.from({ length: h * 3 }, () => rng.normal());
    const g3 = whole.get(3, 3);
    const f = await la.factor(whole, 0.5);
    expect(whole.get(3, 3)).toBe(g3); // left unchanged
    const w = await la.choleskySolve(f, b, 3);
    // (XXᵀ + 0.5 I) w = b, checked by the product (a already holds the + 0.5 on its diagonal).
    let res = 0;
    let scale = 0;
    for (let i = 0; i < h; i++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = 0; t < h; t++) s += a[i]![t]! * w[t * 3 + c]!;
        res = Math.max(res, Math.abs(s - b[i * 3 + c]!));
        scale = Math.max(scale, Math.abs(b[i * 3 + c]!));
      }
    }
    expect(res / scale).toBeLessThan(1e-9);
    const consumed = await la.factor(whole, 0.5, f, { consume: true });
    expect(Array.from(await la.choleskySolve(consumed, b, 3))).toEqual(Array.from(w));
    expect(whole.get(3, 3)).not.toBe(g3); // its memory became the factor's
  });

  it('reads only the upper triangle', async () => {
    const la = await OrtLinalg.create();
    const h = 300;
    const { a } = spd(h, 50, 3);
    const upper = new Float64Array(h * h);
    for (let i = 0; i < h; i++) for (let j = 0; j < h; j++) upper[i * h + j] = j >= i ? a[i]![j]! : Number.NaN;
    const f = await la.cholesky(upper, h);
    const full = await la.cholesky(Float64Array.from(a.flat()), h);
    expect(Array.from(f.L)).toEqual(Array.from(full.L));
  });

  it('reports a matrix that is not positive definite with its pivot', async () => {
    const la = await OrtLinalg.create();
    const h = 200;
    const a = new Float64Array(h * h);
    for (let i = 0; i < h; i++) a[i * h + i] = i === 150 ? -1 : 2;
    await expect(la.cholesky(a, h)).rejects.toSatisfy(
      (e: unknown) => e instanceof DtrError && e.code === 'E_NUMERIC' && /pivot 150 is -1\.00/.test(e.message),
    );
    await expect(la.cholesky(new Float64Array(10), 4)).rejects.toThrow(RangeError);
  });
});
