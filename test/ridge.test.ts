import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, DtrError, makeProvenance, LinearHead } from '../src/index.js';
import { fitRidge, ridgeHead, SeededRandom } from '../src/advanced.js';
import { writeSafetensors, parseSafetensors, serializeSafetensors, readEmbeddingsFile } from '../src/safetensors.js';
import { supportScript, runPython } from './support/python.js';
import { need, skipNote } from './support/needs.js';
import { tempDir } from './support/temp.js';

/** Synthetic embeddings with a real linear signal, one large-mean column, and missing ratings. */
function synth(n: number, h: number, seed: number): { x: Float64Array; y: Float64Array; folds: Int32Array } {
  const rng = new SeededRandom(seed);
  const x = new Float64Array(n * h);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * (1 + (i % h) / h) + (i % h === 3 ? 40 : 0);
  const y = new Float64Array(n * 5);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 5; a++) {
      let s = 2 + a * 0.3;
      for (let j = 0; j < Math.min(h, 12); j++) s += x[i * h + ((j * 7 + a) % h)]! * Math.sin(j + a) * 0.2;
      y[i * 5 + a] = s + rng.normal() * 0.4;
    }
  }
  for (let i = 0; i < n; i += 7) y[i * 5 + 2] = NaN; // coherence missing on every 7th row
  for (let i = 3; i < n; i += 5) y[i * 5 + 4] = NaN; // verbosity on every 5th
  for (let a = 0; a < 5; a++) y[10 * 5 + a] = NaN; // row 10 has no rating at all: dropped
  const folds = Int32Array.from({ length: n }, (_, i) => (i * 7919) % 4);
  return { x, y, folds };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

async function catchDtr(p: Promise<unknown>): Promise<DtrError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DtrError) return e;
    throw e;
  }
  throw new Error('expected a DtrError');
}

const numpy = need('numpy');

describe.skipIf(!numpy.present)(`ridge parity with numpy (and scikit-learn Ridge) within 1e-6 relative${skipNote(numpy)}`, () => {
  const cases = [
    { n: 240, h: 30, name: 'more rows than features' },
    { n: 150, h: 300, name: 'more features than rows, wider than the Cholesky leaf and the Gram panel' },
  ];
  for (const { n, h, name } of cases) {
    it(`matches on ${n} x ${h} (${name}): weights, biases and cross-validated MSE`, async () => {
      const { x, y, folds } = synth(n, h, n + h);
      const grid = [0.05, 3, 200];
      const fit = await fitRidge({ data: x, rows: n, hiddenSize: h }, y, { lambda: 'auto', lambdas: grid, folds: 4, foldOf: folds });
      const dir = tempDir('dtr-ridge-');
      const path = join(dir, 'data.safetensors');
      writeSafetensors(path, {
        x: { dtype: 'F64', shape: [n, h], data: x },
        y: { dtype: 'F64', shape: [n, 5], data: y },
        folds: { dtype: 'F64', shape: [n], data: Float64Array.from(folds) },
      });
      const final = ATTRIBUTES.map((a) => fit.lambda[a]);
      const ref = JSON.parse(runPython([supportScript('ridge_np.py'), path], { input: JSON.stringify({ lambdas: grid, final }) })) as {
        weight: number[][];
        bias: number[];
        cv_mse: number[][];
        sklearn_weight: number[][] | null;
        sklearn_bias: number[] | null;
      };
      ATTRIBUTES.forEach((a, k) => {
        const w = fit.weight.subarray(k * h, (k + 1) * h);
        expect(relErr(w, ref.weight[k]!), `${a} weight`).toBeLessThan(1e-6);
        expect(Math.abs(fit.bias[k]! - ref.bias[k]!) / Math.max(1, Math.abs(ref.bias[k]!)), `${a} bias`).toBeLessThan(1e-6);
        expect(
          relErr(
            fit.cv!.mse[a].map((v) => v!),
            ref.cv_mse[k]!,
          ),
          `${a} cv mse`,
        ).toBeLessThan(1e-6);
        if (ref.sklearn_weight) {
          expect(relErr(w, ref.sklearn_weight[k]!), `${a} sklearn weight`).toBeLessThan(1e-6);
          expect(Math.abs(fit.bias[k]! - ref.sklearn_bias![k]!) / Math.max(1, Math.abs(ref.sklearn_bias![k]!))).toBeLessThan(1e-6);
        }
      });
      // The pick is the grid's argmin of the numpy CV MSE, per attribute.
      ATTRIBUTES.forEach((a, k) => {
        const best = ref.cv_mse[k]!.indexOf(Math.min(...ref.cv_mse[k]!));
        expect(fit.lambda[a]).toBe(grid[best]);
      });
      expect(fit.rows).toEqual({
        total: n,
        used: n - 1,
        perAttribute: {
          helpfulness: n - 1,
          correctness: n - 1,
          coherence: expect.any(Number),
          complexity: n - 1,
          verbosity: expect.any(Number),
        },
      });
    });
  }

  it('a fixed lambda without cross-validation matches numpy too (bf16 embeddings read from safetensors)', async () => {
    const n = 200;
    const h = 24;
    const { x, y } = synth(n, h, 5);
    const bytes = serializeSafetensors({ embeddings: { dtype: 'BF16', shape: [n, h], data: x } });
    const tensor = parseSafetensors(bytes).tensors.get('embeddings')!;
    const fit = await fitRidge(tensor, y, { lambda: 7.5, folds: 0 });
    expect(fit.cv).toBeNull();
    expect(fit.heldOut).toBeNull();
    const dir = tempDir('dtr-ridge-');
    const path = join(dir, 'data.safetensors');
    writeSafetensors(path, { x: { dtype: 'F64', shape: [n, h], data: tensor.toFloat64() }, y: { dtype: 'F64', shape: [n, 5], data: y } });
    const ref = JSON.parse(
      runPython([supportScript('ridge_np.py'), path], { input: JSON.stringify({ lambdas: [], final: [7.5, 7.5, 7.5, 7.5, 7.5] }) }),
    ) as { weight: number[][]; bias: number[] };
    ATTRIBUTES.forEach((_, k) => {
      expect(relErr(fit.weight.subarray(k * h, (k + 1) * h), ref.weight[k]!)).toBeLessThan(1e-6);
      expect(Math.abs(fit.bias[k]! - ref.bias[k]!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(ref.bias[k]!)));
    });
  });
});

describe.skipIf(!numpy.present)(`ridge on data streamed in several chunks, from a lazily read file${skipNote(numpy)}`, () => {
  it('matches numpy with 9,000 rows (3 chunks) and missing ratings; a lazy F32 file gives the in-memory fit exactly', async () => {
    const n = 9000;
    const h = 12;
    const { x, y, folds } = synth(n, h, 17);
    const x32 = Float32Array.from(x);
    const dir = tempDir('dtr-ridge-');
    const file = join(dir, 'emb.safetensors');
    writeSafetensors(file, { embeddings: { dtype: 'F32', shape: [n, h], data: x32 }, labels: { dtype: 'F64', shape: [n, 5], data: y } });
    const fixed = await fitRidge({ data: x32, rows: n, hiddenSize: h }, y, { lambda: 3, folds: 0 });
    const lazy = readEmbeddingsFile(file, { lazy: true });
    const fromFile = await fitRidge(lazy.embeddings, y, { lambda: 3, folds: 0 });
    expect(Array.from(fromFile.weight)).toEqual(Array.from(fixed.weight));
    expect(Array.from(fromFile.bias)).toEqual(Array.from(fixed.bias));
    const grid = [0.1, 30];
    const cv = await fitRidge(lazy.embeddings, y, { lambda: 'auto', lambdas: grid, folds: 4, foldOf: folds });
    const path = join(dir, 'data.safetensors');
    writeSafetensors(path, {
      x: { dtype: 'F64', shape: [n, h], data: Float64Array.from(x32) },
      y: { dtype: 'F64', shape: [n, 5], data: y },
      folds: { dtype: 'F64', shape: [n], data: Float64Array.from(folds) },
    });
    const ref = JSON.parse(
      runPython([supportScript('ridge_np.py'), path], { input: JSON.stringify({ lambdas: grid, final: [3, 3, 3, 3, 3] }) }),
    ) as { weight: number[][]; bias: number[]; cv_mse: number[][] };
    ATTRIBUTES.forEach((a, k) => {
      expect(relErr(fixed.weight.subarray(k * h, (k + 1) * h), ref.weight[k]!), `${a} weight`).toBeLessThan(1e-9);
      expect(Math.abs(fixed.bias[k]! - ref.bias[k]!), `${a} bias`).toBeLessThan(1e-9 * Math.max(1, Math.abs(ref.bias[k]!)));
      expect(
        relErr(
          cv.cv!.mse[a].map((v) => v!),
          ref.cv_mse[k]!,
        ),
        `${a} cv mse`,
      ).toBeLessThan(1e-9);
    });
  });
});

describe('ridge fitting', () => {
  it('recovers a noiseless linear map and writes a head that reproduces it', async () => {
    const n = 120;
    const h = 6;
    const rng = new SeededRandom(9);
    const x = Float64Array.from({ length: n * h }, () => rng.normal());
    const trueW = Array.from({ length: 5 }, (_, a) => Array.from({ length: h }, (_, j) => (a + 1) * (j - 2) * 0.1));
    const y = new Float64Array(n * 5);
    for (let i = 0; i < n; i++) for (let a = 0; a < 5; a++) y[i * 5 + a] = 1 + a + trueW[a]!.reduce((s, w, j) => s + w * x[i * h + j]!, 0);
    const fit = await fitRidge({ data: x, rows: n, hiddenSize: h }, y, { lambda: 1e-9, folds: 3 });
    for (let a = 0; a < 5; a++) for (let j = 0; j < h; j++) expect(fit.weight[a * h + j]!).toBeCloseTo(trueW[a]![j]!, 6);
    expect(fit.heldOut!.helpfulness.r2).toBeGreaterThan(0.999999);
    const head = ridgeHead(fit, { name: 'synthetic', backbone: 'test', provenance: makeProvenance('test', [], null) });
    const again = LinearHead.fromJSON(JSON.parse(head.serialize()));
    const r = again.applyVector(x, 0);
    for (let a = 0; a < 5; a++) expect(r[a]!).toBeCloseTo(y[a]!, 6);
    expect(again.metrics!.lambda).toEqual(Object.fromEntries(ATTRIBUTES.map((a) => [a, 1e-9])));
    expect((again.metrics!.heldOutR2 as Record<string, number>).verbosity).toBeGreaterThan(0.999999);
  });

  it('with a target formula, chooses one shared lambda on the formula held-out error', async () => {
    const n = 160;
    const h = 20;
    const { x, y } = synth(n, h, 11);
    const fit = await fitRidge({ data: x, rows: n, hiddenSize: h }, y, {
      lambdas: [0.01, 1, 100, 10000],
      folds: 4,
      seed: 2,
      target: 'helpfulness + 0.5*correctness',
    });
    const lambdas = new Set(Object.values(fit.lambda));
    expect(lambdas.size).toBe(1);
    expect(fit.target!.formula).toBe('helpfulness + 0.5*correctness');
    expect(fit.cv!.targetMse!).toHaveLength(4);
    const best = fit.cv!.targetMse!.indexOf(Math.min(...fit.cv!.targetMse!.map((v) => v!)));
    expect(fit.target!.lambda).toBe([0.01, 1, 100, 10000][best]);
    expect(fit.target!.r2).toBeGreaterThan(0.5);
    expect(fit.target!.n).toBe(n - 1);
  });

  it('gives the same fit for the same seed and reports the grid', async () => {
    const { x, y } = synth(90, 8, 4);
    const a = await fitRidge({ data: x, rows: 90, hiddenSize: 8 }, y, { folds: 3, seed: 7 });
    const b = await fitRidge({ data: x, rows: 90, hiddenSize: 8 }, y, { folds: 3, seed: 7 });
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
    expect(a.cv!.grid).toHaveLength(7);
    expect(a.cv!.grid[0]! / a.cv!.scale).toBeCloseTo(1e-5, 8);
    expect(a.cv!.seed).toBe(7);
  });
});

describe('ridge fitting: bad input', () => {
  const { x, y } = synth(40, 5, 1);
  const emb = { data: x, rows: 40, hiddenSize: 5 };

  it('embeddings and ratings of different lengths', async () => {
    const e = await catchDtr(fitRidge(emb, y.subarray(0, 39 * 5), { lambda: 1 }));
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toMatch(/embeddings have 40 rows but the ratings 39/);
  });

  it('an attribute with no rating at all, and fewer ratings than folds', async () => {
    const y2 = Float64Array.from(y);
    for (let i = 0; i < 40; i++) y2[i * 5 + 3] = NaN;
    for (let i = 3; i < 40; i++) y2[i * 5 + 1] = NaN;
    const e = await catchDtr(fitRidge(emb, y2, { lambda: 1, folds: 5 }));
    expect(e.code).toBe('E_DATA');
    expect(e.issues).toEqual([
      { path: 'correctness', message: 'only 3 rated rows, fewer than the 5 folds' },
      { path: 'complexity', message: 'every rating is missing (NaN): nothing to fit' },
    ]);
  });

  it('lambda <= 0, bad folds and bad grids are caller mistakes', async () => {
    await expect(fitRidge(emb, y, { lambda: 0 })).rejects.toThrow(RangeError);
    await expect(fitRidge(emb, y, { lambda: -1 })).rejects.toThrow(/lambda must be a positive number or 'auto', got -1/);
    await expect(fitRidge(emb, y, { folds: 1 })).rejects.toThrow(/folds must be 0/);
    await expect(fitRidge(emb, y, { folds: 0 })).rejects.toThrow(/folds: 0 needs a fixed lambda/);
    await expect(fitRidge(emb, y, { lambdas: [1, 0] })).rejects.toThrow(/lambdas must be a non-empty list of positive numbers/);
    await expect(fitRidge({ data: x, rows: 41, hiddenSize: 5 }, y)).rejects.toThrow(/embeddings.data has 200 values, expected 41 x 5/);
  });

  it('non-finite embeddings and ratings are named by row and column', async () => {
    const x2 = Float64Array.from(x);
    x2[7 * 5 + 2] = NaN;
    expect((await catchDtr(fitRidge({ data: x2, rows: 40, hiddenSize: 5 }, y, { lambda: 1 }))).message).toMatch(
      /embeddings row 7 has a non-finite value \(NaN\) at column 2/,
    );
    const y2 = Float64Array.from(y);
    y2[4 * 5 + 1] = Infinity;
    const e = await catchDtr(fitRidge(emb, y2, { lambda: 1 }));
    expect(e.issues[0]).toEqual({ path: 'row 4.correctness', message: 'rating is Infinity; use NaN (null) for a missing rating' });
  });

  it('a bad target formula', async () => {
    const e = await catchDtr(fitRidge(emb, y, { target: 'helpfulness + pi' }));
    expect(e.code).toBe('E_FORMULA');
    expect(e.message).toMatch(/unknown name 'pi'/);
  });

  it('a fixed lambda too small for collinear features is E_NUMERIC naming the pivot', async () => {
    const n = 256;
    const x3 = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) x3[i * 2] = x3[i * 2 + 1] = i % 2 ? 1 : -1;
    const y3 = Float64Array.from({ length: n * 5 }, (_, i) => (i % 3) + 1);
    const e = await catchDtr(fitRidge({ data: x3, rows: n, hiddenSize: 2 }, y3, { lambda: 1e-20, folds: 0 }));
    expect(e.code).toBe('E_NUMERIC');
    expect(e.message).toMatch(/pivot 1/);
  });
});
