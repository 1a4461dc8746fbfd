/**
 * RewardModel end to end on the fixture backbone: template → tokenizer → ONNX session → pooling →
 * head → tree → explanation, checked against an independent float64 reference.
 * Tolerance: 1e-5 on rewards (onnxruntime computes in float32; the reference in float64).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES, type AttributeScores } from '../src/attributes.js';
import { createOrtBackbone } from '../src/backbone/ort.js';
import type { Backbone, BackboneBinding } from '../src/backbone/types.js';
import { DtrError } from '../src/errors.js';
import { RewardModel } from '../src/model/reward-model.js';
import type { ScoreItem } from '../src/model/types.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { referenceForward, writeFixtureModel, type FixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const TOL = 1e-5;
let fixture: FixtureModel;
let model: RewardModel;

const ITEMS: ScoreItem[] = [
  { prompt: 'Hello', response: 'Hi there' },
  {
    prompt: 'Jane has 12 apples. She gives 4 to Mark, buys 1 more, and splits them among 3 people. How many each?',
    response: '12 - 4 = 8, 8 + 1 = 9, 9 / 3 = 3. Each person gets 3 apples.',
  },
  {
    prompt: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Name a prime.' },
    ],
    response: '7',
  },
  { prompt: 'Write a haiku.\n<extra_id_1>Assistant\nAn old pond.\n<extra_id_1>User\nAnother one.', response: 'Frog jumps in — splash! 😀' },
  { prompt: 'Long?', response: 'word '.repeat(120) },
  { prompt: 'x', response: 'y' },
  { prompt: 'Explain CumSum.', response: 'A cumulative sum adds each element to the total of those before it.' },
];

const maxAbs = (a: AttributeScores, b: ArrayLike<number>): number => Math.max(...ATTRIBUTES.map((k, i) => Math.abs(a[k] - b[i]!)));

beforeAll(async () => {
  fixture = writeFixtureModel(tempDir());
  model = await RewardModel.load({ dir: fixture.dir, tokenizeInWorker: false });
});

afterAll(async () => {
  await model.dispose();
});

describe('RewardModel on the fixture backbone', () => {
  it('loads from a folder: provider, config, head, tree, hidden size', () => {
    expect(model.provider).toBe('cpu');
    expect(model.config.backbone.kind).toBe('last_hidden_state');
    expect(model.hiddenSize).toBe(32);
    expect(model.head?.name).toBe('fixture-head');
    expect(model.tree.name).toBe('rlhflow-llama-3.1-8b');
    expect(model.maxLength).toBe(512);
    expect(model.warnings).toEqual([]);
  });

  it('encodes with the golden ids of the issue', () => {
    expect(Array.from(model.encode('Hello', 'Hi there').ids)).toEqual([
      128000, 128006, 882, 128007, 271, 9906, 128009, 128006, 78191, 128007, 271, 13347, 1070, 128009,
    ]);
  });

  it('score matches the float64 reference (rewards and backbone reward) within 1e-5', async () => {
    for (const it of ITEMS) {
      const r = await model.score(it.prompt, it.response);
      const ref = referenceForward(fixture.weights, model.encode(it.prompt, it.response).ids);
      expect(maxAbs(r.rewards, ref.rewards)).toBeLessThan(TOL);
      expect(Math.abs(r.backboneReward! - ref.logit)).toBeLessThan(TOL);
      expect(r.truncated).toBe(false);
      expect(r.tokens).toBe(model.encode(it.prompt, it.response).ids.length);
    }
  });

  it.each(['pooled', 'rewards'] as const)('kind %s (pooling / head in the graph) gives the same rewards as the reference', async (kind) => {
    const fx = writeFixtureModel(tempDir(), { kind });
    const m = await RewardModel.load(fx.dir);
    try {
      const results = await m.scoreMany(ITEMS);
      results.forEach((r, i) => {
        const ref = referenceForward(fx.weights, m.encode(ITEMS[i]!.prompt, ITEMS[i]!.response).ids);
        expect(maxAbs(r.rewards, ref.rewards)).toBeLessThan(TOL);
        expect(Math.abs(r.backboneReward! - ref.logit)).toBeLessThan(TOL);
      });
      if (kind === 'rewards') {
        expect(m.head).toBeNull();
        await expect(m.embedMany(ITEMS)).rejects.toMatchObject({ code: 'E_MODEL' });
      }
    } finally {
      await m.dispose();
    }
  });

  it('scores do not depend on batch composition, order or padding (|diff| <= 1e-5)', async () => {
    const items = [...ITEMS, ...ITEMS.map((x) => ({ ...x, response: `${x.response} (variant)` }))];
    const alone = await model.scoreMany(items, { batchSize: 1 });
    const variants = [
      await model.scoreMany(items, { batchSize: 8 }),
      await model.scoreMany(items, { batchSize: 3 }),
      await model.scoreMany(items, { maxTokensPerBatch: 300 }),
      await model.scoreMany(items, { batchSize: 16, paddingSide: 'left' }),
    ];
    // Shuffled input order, mapped back.
    const order = items.map((_, i) => (i * 5) % items.length);
    const shuffled = await model.scoreMany(
      order.map((i) => items[i]!),
      { batchSize: 4 },
    );
    const unshuffled = new Array(items.length);
    order.forEach((i, k) => (unshuffled[i] = shuffled[k]));
    variants.push(unshuffled);
    for (const v of variants) {
      v.forEach((r, i) => {
        expect(
          maxAbs(
            r.rewards,
            ATTRIBUTES.map((k) => alone[i]!.rewards[k]),
          ),
        ).toBeLessThanOrEqual(TOL);
        expect(Math.abs(r.backboneReward! - alone[i]!.backboneReward!)).toBeLessThanOrEqual(TOL);
      });
    }
  });

  it('a model configured for left padding pools the same last tokens as right padding', async () => {
    const fx = writeFixtureModel(tempDir(), { paddingSide: 'left' });
    const left = await RewardModel.load(fx.dir);
    try {
      expect(left.config.paddingSide).toBe('left');
      const l = await left.scoreMany(ITEMS, { batchSize: 7 });
      const r = await model.scoreMany(ITEMS, { batchSize: 7 });
      l.forEach((x, i) =>
        expect(
          maxAbs(
            x.rewards,
            ATTRIBUTES.map((k) => r[i]!.rewards[k]),
          ),
        ).toBeLessThanOrEqual(TOL),
      );
    } finally {
      await left.dispose();
    }
  });

  it('position consistency: compare(a, b) mirrors compare(b, a)', async () => {
    const p = ITEMS[1]!.prompt;
    const a = ITEMS[1]!.response;
    const b = 'Each person gets 4 apples.';
    const ab = await model.compare(p, a, b);
    const ba = await model.compare(p, b, a);
    expect(ab.rewards.a).toEqual(ba.rewards.b);
    expect(ab.rewards.b).toEqual(ba.rewards.a);
    for (const k of ATTRIBUTES) expect(ab.delta[k]).toBe(-ba.delta[k]);
    expect(ab.probability + ba.probability).toBeCloseTo(1, 12);
    expect({ a: 'b', b: 'a', tie: 'tie' }[ab.preference]).toBe(ba.preference);
    // The published (asymmetric) rule is available and may differ.
    const pub = await model.compare(p, a, b, { symmetric: false });
    expect(pub.probability).toBe(ab.publishedProbability);
  });

  it('compare returns both rewards, the path, sentence and counterfactual from the tree', async () => {
    const r = await model.compare('Jane has 12 apples', 'Each gets 3.', 'Each gets 4.');
    expect(Object.keys(r.rewards.a)).toEqual([...ATTRIBUTES]);
    expect(r.path.length).toBeGreaterThan(0);
    expect(r.path[0]!.attribute).toBe('helpfulness'); // the root of the published tree
    expect(r.sentence).toMatch(/^(A|B) is preferred with probability \d\.\d{3}: helpfulness difference/);
    expect(r.truncated).toBe(false);
    expect(r.truncation).toEqual({ a: null, b: null });
    expect(r.backboneReward).toBeDefined();
    expect(['a', 'b', 'tie']).toContain(r.preference);
    // Another tree, for this call only.
    const human = PreferenceTree.load('helpsteer2-human');
    const h = await model.compare('Jane has 12 apples', 'Each gets 3.', 'Each gets 4.', { tree: human });
    expect(h.path[0]!.threshold).toBe(0.5);
  });

  it('compareMany equals compare item by item, in input order, with progress', async () => {
    const items = ITEMS.slice(0, 5).map((x, i) => ({ prompt: x.prompt, a: x.response, b: ITEMS[(i + 3) % ITEMS.length]!.response }));
    const progress: number[] = [];
    const many = await model.compareMany(items, { batchSize: 3, onProgress: (d, n) => progress.push(d / n) });
    expect(progress.at(-1)).toBe(1);
    for (const [i, it] of items.entries()) {
      const one = await model.compare(it.prompt, it.a, it.b);
      expect(
        maxAbs(
          many[i]!.rewards.a,
          ATTRIBUTES.map((k) => one.rewards.a[k]),
        ),
      ).toBeLessThanOrEqual(TOL);
      expect(many[i]!.preference).toBe(one.preference);
    }
  });

  it("on CPU, a batch holds at most dtr.json's cpuMaxTokensPerBatch padded tokens (default 1,024); maxTokensPerBatch given to load, or another provider, keeps its own", async () => {
    const spyOn =
      (provider: string, seen: Array<[number, number]>) =>
      async (binding: BackboneBinding): Promise<Backbone> => {
        const inner = await createOrtBackbone(join(fixture.dir, 'model.onnx'), { provider: 'cpu', binding });
        const spy: Backbone = {
          provider,
          inputs: inner.inputs,
          outputs: inner.outputs,
          run: (b) => {
            seen.push([b.batch, b.length]);
            return inner.run(b);
          },
          release: () => inner.release(),
        };
        return spy;
      };
    // Eight conversations of 113-183 tokens: one batch of 8 would pad to over 1,400 tokens.
    const long = Array.from({ length: 8 }, (_, i) => ({ prompt: 'Long?', response: 'word '.repeat(100 + 10 * i) }));
    const run = async (options: {
      maxTokensPerBatch?: number;
      provider?: string;
      dir?: string;
    }): Promise<{ limit: number; seen: Array<[number, number]> }> => {
      const seen: Array<[number, number]> = [];
      const m = await RewardModel.load({
        dir: options.dir ?? fixture.dir,
        tokenizeInWorker: false,
        backbone: spyOn(options.provider ?? 'cpu', seen),
        ...(options.maxTokensPerBatch !== undefined ? { maxTokensPerBatch: options.maxTokensPerBatch } : {}),
      });
      try {
        const scores = await m.scoreMany(long);
        expect(scores).toHaveLength(8);
        return { limit: m.config.maxTokensPerBatch, seen };
      } finally {
        await m.dispose();
      }
    };
    const cpu = await run({});
    expect(cpu.limit).toBe(1024);
    expect(cpu.seen.length).toBeGreaterThan(1);
    for (const [rows, length] of cpu.seen) expect(rows * length).toBeLessThanOrEqual(1024);
    expect(cpu.seen.reduce((n, [rows]) => n + rows, 0)).toBe(8);

    const given = await run({ maxTokensPerBatch: 16384 });
    expect(given.limit).toBe(16384);
    expect(given.seen.map(([rows]) => rows)).toEqual([8]);
    const gpu = await run({ provider: 'cuda' });
    expect(gpu.limit).toBe(8192); // the fixture's dtr.json maxTokensPerBatch
    expect(gpu.seen.map(([rows]) => rows)).toEqual([8]);

    const dir = tempDir('dtr-cpu-budget-');
    const folder = writeFixtureModel(dir);
    const config = JSON.parse(readFileSync(join(folder.dir, 'dtr.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(folder.dir, 'dtr.json'), JSON.stringify({ ...config, cpuMaxTokensPerBatch: 200 }));
    const own = await run({ dir: folder.dir });
    expect(own.limit).toBe(200);
    expect(own.seen.map(([rows]) => rows)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]); // each is over 100 tokens: alone in its batch
  });

  it('concurrent compare() calls are coalesced into shared batches (through a swapped-in Backbone)', async () => {
    const runs: number[] = [];
    const m = await RewardModel.load({
      dir: fixture.dir,
      backbone: async (binding) => {
        const inner = await createOrtBackbone(join(fixture.dir, 'model.onnx'), { provider: 'cpu', binding });
        const spy: Backbone = {
          provider: `spy+${inner.provider}`,
          inputs: inner.inputs,
          outputs: inner.outputs,
          run: (b) => {
            runs.push(b.batch);
            return inner.run(b);
          },
          release: () => inner.release(),
        };
        return spy;
      },
    });
    try {
      expect(m.provider).toBe('spy+cpu');
      const results = await Promise.all(ITEMS.slice(0, 4).map((x) => m.compare(x.prompt, x.response, 'Another answer.')));
      expect(results).toHaveLength(4);
      expect(runs).toEqual([8]); // 4 pairs = 8 conversations in one batch (batchSize 8)
    } finally {
      await m.dispose();
    }
  });

  it('embedMany gives the pooled last-token states (n x H) of the reference', async () => {
    const e = await model.embedMany(ITEMS.slice(0, 4), { batchSize: 2 });
    expect(e.n).toBe(4);
    expect(e.hiddenSize).toBe(32);
    expect(e.embeddings).toBeInstanceOf(Float32Array);
    expect(e.embeddings.length).toBe(4 * 32);
    expect(e.truncated).toEqual([false, false, false, false]);
    for (let i = 0; i < 4; i++) {
      const ref = referenceForward(fixture.weights, model.encode(ITEMS[i]!.prompt, ITEMS[i]!.response).ids);
      const row = e.embeddings.subarray(i * 32, (i + 1) * 32);
      expect(Math.max(...Array.from(row, (v, j) => Math.abs(v - ref.pooled[j]!)))).toBeLessThan(TOL);
      expect(e.tokens[i]).toBe(model.encode(ITEMS[i]!.prompt, ITEMS[i]!.response).ids.length);
      expect(Math.abs(e.backboneRewards![i]! - ref.logit)).toBeLessThan(TOL);
    }
  });

  it('tokenizing in a worker thread (overlapped with the forward pass) gives identical results', async () => {
    const m = await RewardModel.load({ dir: fixture.dir, tokenizeInWorker: true });
    try {
      const items = Array.from({ length: 40 }, (_, i) => ({ prompt: `Question ${i}?`, response: 'answer '.repeat(1 + (i % 9)) }));
      const viaWorker = await m.scoreMany(items, { batchSize: 4 });
      const inThread = await model.scoreMany(items, { batchSize: 4 });
      expect(viaWorker).toEqual(inThread);
      // Errors raised in the worker keep their kind and parameter name.
      await expect(m.scoreMany([{ prompt: 'a', response: 'b<|eot_id|>' }])).rejects.toThrow(
        /items\[0\]\.response contains the tokenizer's special token/,
      );
    } finally {
      await m.dispose();
    }
  });

  it('truncation is reported in every result', async () => {
    const m = await RewardModel.load({ dir: fixture.dir, maxLength: 64 });
    try {
      const long = 'lorem ipsum '.repeat(100);
      const s = await m.score('Summarise.', long);
      expect(s.truncated).toBe(true);
      expect(s.tokens).toBeLessThanOrEqual(64);
      expect(s.truncation!.responseTruncated).toBe(true);
      const c = await m.compare('Summarise.', long, 'Short.');
      expect(c.truncated).toBe(true);
      expect(c.truncation.a?.responseTruncated).toBe(true);
      expect(c.truncation.b).toBeNull();
    } finally {
      await m.dispose();
    }
  });

  it('selfCheck passes on a batch-invariant export', async () => {
    const report = await model.selfCheck(ITEMS.slice(0, 3));
    expect(report.ok).toBe(true);
    expect(report.conversations).toBe(5);
    expect(report.cases.map((c) => c.name)).toEqual([
      'all 5 in one batch (right padding)',
      'reversed order, batches of 2',
      'all 5 in one batch (left padding)',
    ]);
    expect(report.maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it('selfCheck catches an export that mishandles left padding (no position_ids input)', async () => {
    const fx = writeFixtureModel(tempDir(), { positionIds: false });
    const m = await RewardModel.load(fx.dir);
    try {
      const report = await m.selfCheck(ITEMS.slice(0, 2));
      expect(report.ok).toBe(false);
      const byName = Object.fromEntries(report.cases.map((c) => [c.name, c]));
      expect(byName['all 4 in one batch (right padding)']!.ok).toBe(true);
      expect(byName['all 4 in one batch (left padding)']!.ok).toBe(false);
      expect(byName['all 4 in one batch (left padding)']!.maxDiff).toBeGreaterThan(1e-3);
    } finally {
      await m.dispose();
    }
  });

  it('bad calls: TypeError / RangeError naming the parameter', async () => {
    await expect(model.score(42 as unknown as string, 'x')).rejects.toThrow(
      /prompt must be a string or an array of chat messages {role, content}, got number 42/,
    );
    await expect(model.score('p', '')).rejects.toThrow(TypeError);
    await expect(model.compare('p', '', 'b')).rejects.toThrow(/^a must be a non-empty string/);
    await expect(model.compare('p', 'a', 7 as unknown as string)).rejects.toThrow(/^b must be a string, got number 7/);
    await expect(model.score('p', 'a\u0000b')).rejects.toThrow(/response contains a NUL character at index 1/);
    await expect(model.score('p\ud800', 'a')).rejects.toThrow(/prompt contains a lone UTF-16 surrogate at index 1/);
    await expect(model.scoreMany([{ prompt: 'x' } as ScoreItem])).rejects.toThrow(/items\[0\]\.response must be a string, got undefined/);
    await expect(model.compareMany('nope' as never)).rejects.toThrow(/items must be an array/);
    await expect(model.scoreMany(ITEMS, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer/);
    await expect(model.scoreMany(ITEMS, { paddingSide: 'middle' as never })).rejects.toThrow(/paddingSide must be 'left' or 'right'/);
    await expect(model.compare('p', 'a', 'b', { tieBand: 0.7 })).rejects.toThrow(/tieBand must be a number in \[0, 0.5\)/);
    await expect(RewardModel.load({ dir: fixture.dir, maxLength: 1 })).rejects.toThrow(/maxLength must be an integer >= 2/);
    await expect(RewardModel.load('' as string)).rejects.toThrow(TypeError);
  });

  it('dispose releases everything once; any later call is E_DISPOSED', async () => {
    const m = await RewardModel.load(fixture.dir);
    const pending = m.score('queued', 'before dispose');
    await m.dispose();
    await m.dispose(); // idempotent
    expect(m.isDisposed).toBe(true);
    await expect(pending).rejects.toMatchObject({ code: 'E_DISPOSED' });
    for (const call of [
      () => m.score('a', 'b'),
      () => m.compare('a', 'b', 'c'),
      () => m.scoreMany([]),
      () => m.embedMany([]),
      () => m.selfCheck([{ prompt: 'a', response: 'b' }]),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DtrError);
      expect((err as DtrError).code).toBe('E_DISPOSED');
    }
    expect(() => m.encode('a', 'b')).toThrow(/disposed/);
  });

  it('dispose during a long run (>= 128 conversations: the tokenizer worker; and without it) rejects the run with E_DISPOSED', async () => {
    const pairs = Array.from({ length: 150 }, (_, i) => ({ prompt: `Question ${i}?`, a: 'answer '.repeat(1 + (i % 9)), b: `No ${i}.` }));
    const singles = pairs.map((p) => ({ prompt: p.prompt, response: p.a }));
    // Dispose after a batch (the next window is then being tokenized in the worker) and from a timer
    // (the worker is still starting then).
    const runs: Array<
      [string, boolean | 'auto', (m: RewardModel, onProgress: () => void) => Promise<unknown>, 'progress' | 'timer', number]
    > = [
      ['compareMany, worker, after batch 1', 'auto', (m, onProgress) => m.compareMany(pairs, { batchSize: 4, onProgress }), 'progress', 1],
      ['compareMany, worker, timer', 'auto', (m) => m.compareMany(pairs, { batchSize: 4 }), 'timer', 0],
      ['scoreMany, worker, after batch 3', 'auto', (m, onProgress) => m.scoreMany(singles, { batchSize: 4, onProgress }), 'progress', 3],
      [
        'compareMany, no worker, after batch 2',
        false,
        (m, onProgress) => m.compareMany(pairs, { batchSize: 4, onProgress }),
        'progress',
        2,
      ],
    ];
    for (const [name, tokenizeInWorker, call, when, at] of runs) {
      const m = await RewardModel.load({ dir: fixture.dir, tokenizeInWorker });
      let batches = 0;
      let disposing: Promise<void> | null = null;
      const run = call(m, () => {
        if (++batches === at) disposing = m.dispose();
      });
      if (when === 'timer') setTimeout(() => void (disposing = m.dispose()), 150);
      const err = await run.then(
        () => null,
        (e: unknown) => e,
      );
      await (disposing as Promise<void> | null);
      expect(err, name).toBeInstanceOf(DtrError);
      expect((err as DtrError).code, `${name}: ${(err as Error).message}`).toBe('E_DISPOSED');
      expect((err as Error).message, name).toBe('this RewardModel was disposed: it can no longer score');
      expect(m.isDisposed, name).toBe(true);
    }
  });
});
