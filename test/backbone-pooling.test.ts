import { describe, expect, it } from 'vitest';
import { DtrError } from '../src/errors.js';
import { padBatch, planBatches } from '../src/backbone/batching.js';
import { poolLastToken, rowsOf } from '../src/backbone/pooling.js';
import type { OutputTensor } from '../src/backbone/types.js';

describe('planBatches', () => {
  it('sorts by length (longest first) and caps rows per batch', () => {
    expect(planBatches([5, 100, 7, 98], { batchSize: 2, maxTokensPerBatch: 1000 })).toEqual([
      [1, 3],
      [2, 0],
    ]);
  });

  it('caps padded tokens (rows x longest row); an over-long conversation runs alone', () => {
    // 3 x 40 = 120 > 100, so the third row opens a new batch; 500 alone exceeds the cap but must run.
    expect(planBatches([40, 40, 40, 500, 10], { batchSize: 8, maxTokensPerBatch: 100 })).toEqual([[3], [0, 1], [2, 4]]);
  });

  it('is stable for equal lengths and covers every index once', () => {
    const lengths = Array.from({ length: 50 }, (_, i) => ((i * 37) % 11) + 1);
    const plan = planBatches(lengths, { batchSize: 4, maxTokensPerBatch: 30 });
    expect(plan.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const b of plan) {
      expect(b.length).toBeLessThanOrEqual(4);
      if (b.length > 1) expect(b.length * Math.max(...b.map((i) => lengths[i]!))).toBeLessThanOrEqual(30);
    }
  });

  it('bad call: limits must be positive integers', () => {
    expect(() => planBatches([1], { batchSize: 0, maxTokensPerBatch: 10 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => planBatches([1], { batchSize: 1, maxTokensPerBatch: 1.5 })).toThrow(
      /maxTokensPerBatch must be a positive integer, got 1.5/,
    );
  });
});

describe('padBatch', () => {
  it('right padding: tokens first, then pad ids with mask 0 (positions 1 on padding, as Hugging Face)', () => {
    const b = padBatch([Int32Array.of(1, 2, 3), Int32Array.of(4)], 'right', 9);
    expect(Array.from(b.inputIds)).toEqual([1, 2, 3, 4, 9, 9]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(b.positionIds)).toEqual([0, 1, 2, 0, 1, 1]);
    expect(Array.from(b.lengths)).toEqual([3, 1]);
    expect([b.batch, b.length]).toEqual([2, 3]);
  });

  it('left padding: padding first, positions still count 0.. over the real tokens', () => {
    const b = padBatch([Int32Array.of(1, 2, 3), Int32Array.of(4)], 'left', 0);
    expect(Array.from(b.inputIds)).toEqual([1, 2, 3, 0, 0, 4]);
    expect(Array.from(b.attentionMask)).toEqual([1, 1, 1, 0, 0, 1]);
    expect(Array.from(b.positionIds)).toEqual([0, 1, 2, 1, 1, 0]);
  });

  it('bad call: empty batch or empty sequence', () => {
    expect(() => padBatch([], 'right', 0)).toThrow(RangeError);
    expect(() => padBatch([new Int32Array(0)], 'right', 0)).toThrow(/no tokens/);
  });
});

describe('poolLastToken', () => {
  // hidden = 2; value at (row, t, j) = 100 * row + 10 * t + j
  const hidden = (b: number, t: number): OutputTensor => ({
    name: 'last_hidden_state',
    dims: [b, t, 2],
    data: Float32Array.from({ length: b * t * 2 }, (_, i) => 100 * Math.floor(i / (t * 2)) + 10 * Math.floor((i % (t * 2)) / 2) + (i % 2)),
  });

  it("picks each row's last real token with right padding", () => {
    const batch = padBatch([Int32Array.of(1, 2, 3), Int32Array.of(4)], 'right', 0);
    expect(Array.from(poolLastToken(hidden(2, 3), batch))).toEqual([20, 21, 100, 101]);
  });

  it('picks the final position with left padding', () => {
    const batch = padBatch([Int32Array.of(1, 2, 3), Int32Array.of(4)], 'left', 0);
    expect(Array.from(poolLastToken(hidden(2, 3), batch))).toEqual([20, 21, 120, 121]);
  });

  it('bad input: a shape that does not fit the batch is E_SHAPE; NaN is E_BACKBONE', () => {
    const batch = padBatch([Int32Array.of(1, 2, 3)], 'right', 0);
    expect(() => poolLastToken({ name: 'x', dims: [1, 2], data: new Float32Array(2) }, batch)).toThrow(
      /output 'x' has shape \[1, 2\]; expected \[1, 3, hidden\]/,
    );
    const bad = hidden(1, 3);
    bad.data[5] = NaN;
    try {
      poolLastToken(bad, batch);
      expect.unreachable();
    } catch (e) {
      expect((e as DtrError).code).toBe('E_BACKBONE');
      expect((e as Error).message).toMatch(/holds NaN \(row 0, column 1\)/);
    }
  });
});

describe('rowsOf', () => {
  it('reads [batch, width] and [batch] outputs, checking the width', () => {
    expect(rowsOf({ name: 'logits', dims: [2, 1], data: Float32Array.of(1, 2) }, 2, null, 'r').width).toBe(1);
    expect(rowsOf({ name: 'logits', dims: [2], data: Float32Array.of(1, 2) }, 2, 1, 'r').width).toBe(1);
    expect(() => rowsOf({ name: 'rewards', dims: [2, 4], data: new Float32Array(8) }, 2, 5, "kind 'rewards'")).toThrow(
      /output 'rewards' has shape \[2, 4\]; expected \[2, 5\] for kind 'rewards'/,
    );
  });
});
