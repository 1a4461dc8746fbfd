/**
 * Batching: pure functions on token counts and ids, no onnxruntime.
 *
 * Batches are made by sorting conversations by length (longest first, so running out of memory
 * shows on the first batch), capping conversations and padded tokens per batch, and padding
 * each batch only to its own longest row.
 *
 * May import: its own folder (backbone/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never text/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import type { BackboneBatch, PaddingSide } from './types.js';

/** Limits on one batch. */
export interface BatchLimits {
  /** Conversations per batch (default 8). */
  batchSize: number;
  /** Padded tokens per batch, `rows x longest row` (default 16384). A longer single conversation runs alone. */
  maxTokensPerBatch: number;
}

/**
 * Default batch limits (a model's dtr.json usually sets its own).
 *
 * @example
 * ```ts
 * planBatches(lengths, DEFAULT_BATCH_LIMITS); // batches of <= 8 rows and <= 16384 padded tokens
 * ```
 */
export const DEFAULT_BATCH_LIMITS: Readonly<BatchLimits> = Object.freeze({ batchSize: 8, maxTokensPerBatch: 16384 });

/**
 * Groups conversations into batches: sorted by length, longest first; a batch grows while it
 * has fewer than `batchSize` rows and `rows x longest` stays within `maxTokensPerBatch`.
 * Returns the indices of each batch, longest first.
 *
 * @example
 * ```ts
 * planBatches([5, 100, 7, 98], { batchSize: 2, maxTokensPerBatch: 1000 }); // [[1, 3], [2, 0]]
 * ```
 */
export function planBatches(lengths: ArrayLike<number>, limits: BatchLimits): number[][] {
  checkLimits(limits);
  const order = Array.from({ length: lengths.length }, (_, i) => i).sort((x, y) => lengths[y]! - lengths[x]! || x - y);
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const i of order) {
    const len = lengths[i]!;
    const rows = current.length + 1;
    if (current.length > 0 && (rows > limits.batchSize || rows * Math.max(longest, len) > limits.maxTokensPerBatch)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(i);
    longest = Math.max(longest, len);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Checks batch limits given by a caller.
 * @throws RangeError naming the option.
 *
 * @example
 * ```ts
 * checkLimits({ batchSize: 0 }); // RangeError: batchSize must be a positive integer, got 0
 * ```
 */
export function checkLimits(limits: Partial<BatchLimits>): void {
  if (limits.batchSize !== undefined && (!Number.isInteger(limits.batchSize) || limits.batchSize < 1)) {
    throw new RangeError(`batchSize must be a positive integer, got ${String(limits.batchSize)}`);
  }
  if (limits.maxTokensPerBatch !== undefined && (!Number.isInteger(limits.maxTokensPerBatch) || limits.maxTokensPerBatch < 1)) {
    throw new RangeError(`maxTokensPerBatch must be a positive integer, got ${String(limits.maxTokensPerBatch)}`);
  }
}

/**
 * Pads token sequences into one batch (padding only to this batch's longest row).
 *
 * @example
 * ```ts
 * const b = padBatch([Int32Array.of(1, 2, 3), Int32Array.of(4)], 'left', 0);
 * b.inputIds;      // [1, 2, 3, 0, 0, 4]
 * b.attentionMask; // [1, 1, 1, 0, 0, 1]
 * b.positionIds;   // [0, 1, 2, 1, 1, 0]
 * ```
 */
export function padBatch(sequences: readonly Int32Array[], paddingSide: PaddingSide, padId: number): BackboneBatch {
  if (sequences.length === 0) throw new RangeError('padBatch needs at least one sequence');
  const batch = sequences.length;
  let length = 0;
  for (const s of sequences) {
    if (s.length === 0) throw new RangeError('a sequence has no tokens');
    length = Math.max(length, s.length);
  }
  const inputIds = new Int32Array(batch * length).fill(padId);
  const attentionMask = new Uint8Array(batch * length);
  // Hugging Face fills padding positions with 1 (position_ids.masked_fill_(attention_mask == 0, 1)).
  const positionIds = new Int32Array(batch * length).fill(1);
  const lengths = new Int32Array(batch);
  sequences.forEach((s, b) => {
    const offset = b * length + (paddingSide === 'left' ? length - s.length : 0);
    inputIds.set(s, offset);
    attentionMask.fill(1, offset, offset + s.length);
    for (let t = 0; t < s.length; t++) positionIds[offset + t] = t;
    lengths[b] = s.length;
  });
  return { batch, length, inputIds, attentionMask, positionIds, lengths, paddingSide };
}
