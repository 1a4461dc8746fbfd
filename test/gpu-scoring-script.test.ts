/**
 * bench/python/gpu_scoring.py, the GPU half of the scoring benchmark (issue 12, item 4): no GPU
 * here, so its tiny shape runs on CPU, which checks the script and, above all, its FLOP count,
 * the number the fraction of peak is made from: the projections' and MLP's multiply-adds must be
 * the model's own matrix parameters, counted by torch.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { need, skipNote } from './support/needs.js';
import { runTorchPython } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('../bench/python/gpu_scoring.py', import.meta.url));
const torch = need('torch');

describe.skipIf(!torch.present)(`bench/python/gpu_scoring.py on its tiny shape (CPU)${skipNote(torch)}`, () => {
  it("times both modes and counts each pair's FLOPs from the model's own parameters", () => {
    const tokens = 24;
    const r = runTorchPython(
      [SCRIPT, '--tiny', '--device', 'cpu', '--pairs', '2', '--tokens', String(tokens), '--batch', '2', '--peak-tflops', '1', '--json'],
      { timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      shape: { hidden: number; layers: number; heads: number; kv_heads: number; vocab: number };
      parameters: number;
      flopsPerPair: number;
      modes: Record<'batch1' | 'batched', { pairsPerSecond: number; msPerPair: number; tflops: number; mfu: number }>;
    };
    const { hidden: d, layers, vocab } = doc.shape;
    // Parameters outside the matrices a token multiplies through: embeddings, 2 norms per layer and the final one, the 1 x d score.
    const matrices = doc.parameters - vocab * d - (2 * layers + 1) * d - d;
    const attention = 2 * tokens * layers * (2 * 2 * d * ((tokens + 1) / 2));
    expect(doc.flopsPerPair - attention).toBe(2 * 2 * tokens * matrices);
    for (const mode of ['batch1', 'batched'] as const) {
      const m = doc.modes[mode];
      expect(m.pairsPerSecond).toBeGreaterThan(0);
      expect(m.msPerPair).toBeCloseTo(1000 / m.pairsPerSecond, 6);
      expect(m.mfu).toBeCloseTo(m.tflops, 12); // a peak of 1 TFLOP/s
      expect(m.tflops * 1e12).toBeCloseTo(doc.flopsPerPair * m.pairsPerSecond, -3);
    }
  }, 150_000);

  it('refuses what it cannot do, saying what to give instead', () => {
    const noGpu = runTorchPython([SCRIPT, '--tiny', '--json'], { timeout: 60_000 });
    expect(noGpu.code).toBe(2);
    expect(noGpu.stderr).toContain('no CUDA device here: give --device cpu (with --tiny)');
    const bad = runTorchPython([SCRIPT, '--tiny', '--device', 'cpu', '--pairs', '0'], { timeout: 60_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--pairs must be a positive integer, got 0');
  }, 150_000);
});
