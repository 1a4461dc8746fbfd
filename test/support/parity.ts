/**
 * Holding a model folder to transformers: the reference.json format that
 * notebooks/python/hf_reference.py writes (token ids of `apply_chat_template(tokenize=True)` and
 * the checkpoint's own outputs), and the comparison through RewardModel, one conversation at a
 * time and in padded batches on both sides.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ATTRIBUTES, type Attribute } from '../../src/attributes.js';
import type { RewardModel } from '../../src/model/reward-model.js';
import type { ChatMessage } from '../../src/text/prompt.js';

/** reference.json as notebooks/python/hf_reference.py writes it. */
export interface Reference {
  format: 'decision-tree-reward/reference';
  tolerance: number;
  /** Output names of the graph, e.g. ['rewards', 'pooled', 'logits']. */
  outputs: string[];
  rows: Array<{ messages: ChatMessage[]; inputIds: number[] } & Record<string, unknown>>;
}

/** How far RewardModel is from the reference: token ids that differ, and the largest absolute differences. */
export interface ParityReport {
  rows: number;
  /** Indices of rows whose token ids differ (with the first differing position). */
  idMismatches: Array<{ row: number; at: number; got: number | undefined; want: number | undefined }>;
  /** Largest |difference| per output, one conversation at a time and all in one padded batch (both padding sides). */
  maxDiff: { rewards: number; pooled: number | null; logits: number | null };
}

/** Reads a reference.json: a folder holding one, or the file itself. */
export function readReference(dirOrFile: string): Reference {
  const file = dirOrFile.endsWith('.json') ? dirOrFile : join(dirOrFile, 'reference.json');
  const ref = JSON.parse(readFileSync(file, 'utf8')) as Reference;
  expect(ref.format).toBe('decision-tree-reward/reference');
  expect(ref.rows.length).toBeGreaterThan(0);
  return ref;
}

/** Runs every reference conversation through the model and measures it against the reference. */
export async function parity(model: RewardModel, ref: Reference): Promise<ParityReport> {
  const items = ref.rows.map((row) => {
    const last = row.messages.at(-1)!;
    expect(last.role).toBe('assistant');
    return { prompt: row.messages.slice(0, -1), response: last.content };
  });
  const idMismatches: ParityReport['idMismatches'] = [];
  items.forEach((it, i) => {
    const got = Array.from(model.encode(it.prompt, it.response).ids);
    const want = ref.rows[i]!.inputIds;
    const at = got.findIndex((id, k) => id !== want[k]);
    if (at >= 0 || got.length !== want.length)
      idMismatches.push({
        row: i,
        at: at >= 0 ? at : Math.min(got.length, want.length),
        got: got[at >= 0 ? at : want.length],
        want: want[at >= 0 ? at : got.length],
      });
  });
  // The fused rewards output lists columns in dtr.json's backbone.attributes order (kind 'rewards'),
  // otherwise in ATTRIBUTES order, as the exporter writes them.
  const order: readonly Attribute[] = model.config.backbone.attributes ?? ATTRIBUTES;
  const diff = (got: ArrayLike<number>, want: unknown, name: string, row: number): number => {
    expect(Array.isArray(want), `reference row ${row} has no '${name}'`).toBe(true);
    const w = want as number[];
    expect(got.length, `${name} of row ${row}`).toBe(w.length);
    let m = 0;
    for (let k = 0; k < w.length; k++) m = Math.max(m, Math.abs(got[k]! - w[k]!));
    return m;
  };
  let rewards = 0;
  let logits: number | null = null;
  let pooled: number | null = null;
  const batchSize = items.length;
  const runs = [
    await model.scoreMany(items, { batchSize: 1 }),
    await model.scoreMany(items, { batchSize, paddingSide: 'right' }),
    await model.scoreMany(items, { batchSize, paddingSide: 'left' }),
  ];
  for (const scores of runs) {
    scores.forEach((s, i) => {
      rewards = Math.max(
        rewards,
        diff(
          order.map((a) => s.rewards[a]),
          ref.rows[i]!.rewards,
          'rewards',
          i,
        ),
      );
      if (ref.outputs.includes('logits') && s.backboneReward !== undefined)
        logits = Math.max(logits ?? 0, diff([s.backboneReward], ref.rows[i]!.logits, 'logits', i));
    });
  }
  if (ref.outputs.includes('pooled') && model.config.backbone.kind !== 'rewards') {
    for (const options of [{ batchSize: 1 }, { batchSize, paddingSide: 'right' as const }, { batchSize, paddingSide: 'left' as const }]) {
      const e = await model.embedMany(items, options);
      for (let i = 0; i < e.n; i++)
        pooled = Math.max(
          pooled ?? 0,
          diff(e.embeddings.subarray(i * e.hiddenSize, (i + 1) * e.hiddenSize), ref.rows[i]!.pooled, 'pooled', i),
        );
    }
  }
  return { rows: items.length, idMismatches, maxDiff: { rewards, pooled, logits } };
}
