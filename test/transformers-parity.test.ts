/**
 * Parity with transformers on test/fixtures/tiny-llama, committed so that this runs on every
 * machine: a tiny random Llama-3.1-layout reward model (the real Llama-3 tokenizer, Meta's
 * Llama-3.1 template in tokenizer_config.json, a random head) exported by dtr_export.py with
 * --check, and `reference.json` from notebooks/python/hf_reference.py: for the --check
 * conversations (the card example, 39-927 tokens, multi-turn, edge whitespace), the token ids
 * of `tokenizer.apply_chat_template(messages, tokenize=True)` and transformers' own `rewards`,
 * `pooled` and `logits`. Through RewardModel the token ids must be identical and the numbers
 * within 1e-4 (absolute, fp32), one conversation at a time and in padded batches on both sides.
 *
 * Regenerate it with `python3 notebooks/python/make_parity_fixture.py` (torch + transformers:
 * notebooks/python/requirements.txt). test/export-bridge.test.ts runs the same pipeline live.
 *
 * The comparison itself is also run against a stand-in folder (the fixture backbone with a
 * float64 reference.json), where it is shown to catch a difference or a wrong token id.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../src/text/prompt.js';
import { RewardModel } from '../src/model/reward-model.js';
import { referenceForward, writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';
import { parity, readReference, type Reference } from './support/parity.js';

/** The tolerance the issue asks for (fp32 torch against fp32 onnxruntime). */
const TOL = 1e-4;
const TINY_LLAMA = fileURLToPath(new URL('./fixtures/tiny-llama', import.meta.url));

describe('parity with transformers on test/fixtures/tiny-llama', () => {
  it(`RewardModel gives transformers' token ids, and its rewards, pooled states and backbone reward within ${TOL}`, async () => {
    expect(
      existsSync(TINY_LLAMA),
      'test/fixtures/tiny-llama is committed; regenerate it with python3 notebooks/python/make_parity_fixture.py',
    ).toBe(true);
    const ref = readReference(TINY_LLAMA);
    expect(ref.rows.length).toBe(7);
    const model = await RewardModel.load({ dir: TINY_LLAMA, provider: 'cpu', tokenizeInWorker: false });
    try {
      expect(model.warnings).toEqual([]);
      const report = await parity(model, ref);
      expect(report.idMismatches).toEqual([]);
      expect(report.maxDiff.rewards).toBeLessThanOrEqual(TOL);
      expect(report.maxDiff.logits).not.toBeNull();
      expect(report.maxDiff.logits!).toBeLessThanOrEqual(TOL);
      expect(report.maxDiff.pooled).not.toBeNull();
      expect(report.maxDiff.pooled!).toBeLessThanOrEqual(TOL);
    } finally {
      await model.dispose();
    }
  });
});

describe('the transformers parity check, on a stand-in for test/fixtures/tiny-llama', () => {
  /** The fixture backbone (kind pooled, as the exporter writes) with a reference.json of its float64 reference, in the exporter's format. */
  async function standIn(): Promise<{ dir: string; ref: Reference }> {
    const fx = writeFixtureModel(tempDir(), { kind: 'pooled' });
    const conversations: ChatMessage[][] = [
      [
        {
          role: 'user',
          content:
            'Jane has 12 apples. She gives 4 apples to her friend Mark, then buys 1 more apple, and finally splits all her apples equally among herself and her 2 siblings. How many apples does each person get?',
        },
        { role: 'assistant', content: 'Each person gets 3 apples.' },
      ],
      [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi there' },
      ],
      [
        { role: 'user', content: 'What is 2 + 2?' },
        { role: 'assistant', content: '4' },
      ],
    ];
    const m = await RewardModel.load({ dir: fx.dir, tokenizeInWorker: false });
    const rows = conversations.map((messages) => {
      const inputIds = Array.from(m.encode(messages.slice(0, -1), messages.at(-1)!.content).ids);
      const r = referenceForward(fx.weights, inputIds);
      return { messages, inputIds, rewards: Array.from(r.rewards), pooled: Array.from(r.pooled), logits: [r.logit] };
    });
    await m.dispose();
    // The golden ids of the issue (Llama-3 template), independent of the encoder.
    expect(rows[1]!.inputIds).toEqual([128000, 128006, 882, 128007, 271, 9906, 128009, 128006, 78191, 128007, 271, 13347, 1070, 128009]);
    const ref: Reference = { format: 'decision-tree-reward/reference', tolerance: TOL, outputs: ['rewards', 'pooled', 'logits'], rows };
    writeFileSync(join(fx.dir, 'reference.json'), JSON.stringify(ref));
    return { dir: fx.dir, ref };
  }

  it('passes on a matching folder and reports a difference above the tolerance or a wrong token id', async () => {
    const { dir } = await standIn();
    const ref = readReference(dir);
    const model = await RewardModel.load({ dir, tokenizeInWorker: false });
    try {
      const ok = await parity(model, ref);
      expect(ok.rows).toBe(3);
      expect(ok.idMismatches).toEqual([]);
      expect(ok.maxDiff.rewards).toBeLessThanOrEqual(TOL);
      expect(ok.maxDiff.pooled).not.toBeNull();
      expect(ok.maxDiff.pooled!).toBeLessThanOrEqual(TOL);
      expect(ok.maxDiff.logits!).toBeLessThanOrEqual(TOL);
      // A reference 1e-3 off, and one token id off, are caught.
      const off: Reference = structuredClone(ref);
      (off.rows[2]!.rewards as number[])[4]! += 1e-3;
      (off.rows[0]!.pooled as number[])[0]! -= 1e-3;
      off.rows[1]!.inputIds[5] = 9907;
      const bad = await parity(model, off);
      expect(bad.maxDiff.rewards).toBeGreaterThan(TOL);
      expect(bad.maxDiff.pooled!).toBeGreaterThan(TOL);
      expect(bad.idMismatches).toEqual([{ row: 1, at: 5, got: 9906, want: 9907 }]);
    } finally {
      await model.dispose();
    }
  });
});
