/**
 * The backbone on an inference engine (issue 23), on loopback: the project's reference engine
 * (notebooks/python/reference_engine.py) speaks vLLM's embeddings API (computed with
 * transformers on test/fixtures/tiny-llama's checkpoint) and KServe v2 (onnxruntime on the
 * fixture's model.onnx). A folder without model.onnx must give the local folder's rewards; an
 * engine that dies, fails or answers wrongly must give a retry or a clear error, never a wrong reward.
 * Each engine starts once for the whole file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DtrError } from '../src/errors.js';
import { RewardModel } from '../src/model/reward-model.js';
import type { CompareItem, CompareResult, LoadOptions } from '../src/model/types.js';
import { dtr } from './support/cli.js';
import { remoteFolder, ROOT, startEngine, TINY_LLAMA, type RunningEngine } from './support/engine.js';
import { runTorchPython } from './support/python.js';
import { need, skipNote } from './support/needs.js';
import { tempDir } from './support/temp.js';

const torch = need('torch');
/** fp32: the engine (transformers) and the local export (onnxruntime) agree within this. */
const TOL = 1e-4;

const ITEMS: CompareItem[] = readFileSync(join(TINY_LLAMA, '../helpsteer2-pairs-40.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .slice(0, 24)
  .map((l) => {
    const r = JSON.parse(l) as { prompt: string; a: string; b: string };
    return { prompt: r.prompt, a: r.a.slice(0, 400), b: r.b.slice(0, 900) };
  });

function maxDiff(x: readonly CompareResult[], y: readonly CompareResult[]): { rewards: number; scalar: number } {
  let rewards = 0;
  let scalar = 0;
  x.forEach((r, i) => {
    const s = y[i]!;
    for (const side of ['a', 'b'] as const)
      for (const k of Object.keys(r.rewards[side]) as Array<keyof typeof r.rewards.a>)
        rewards = Math.max(rewards, Math.abs(r.rewards[side][k] - s.rewards[side][k]));
    expect(r.backboneReward, `pair ${i} has the backbone's reward`).toBeDefined();
    scalar = Math.max(scalar, Math.abs(r.backboneReward!.a - s.backboneReward!.a), Math.abs(r.backboneReward!.b - s.backboneReward!.b));
  });
  return { rewards, scalar };
}

describe.skipIf(!torch.present)(`a remote backbone on the reference engine${skipNote(torch)}`, () => {
  let a: RunningEngine;
  let local: CompareResult[];
  let tritonModel = '';
  const dir = () => remoteFolder();
  const quiet = { onWarning: () => undefined };

  beforeAll(async () => {
    const hf = join(tempDir('dtr-engine-hf-'), 'tiny-llama-hf');
    a = await startEngine(['--tiny-llama', hf, '--onnx', join(TINY_LLAMA, 'model.onnx'), '--kserve-name', 'tiny-llama']);
    const model = await RewardModel.load({ dir: TINY_LLAMA, provider: 'cpu' });
    local = await model.compareMany(ITEMS);
    await model.dispose();
  }, 300_000);

  afterAll(async () => {
    await a?.stop();
  });

  async function remoteCompare(
    options: Omit<LoadOptions, 'dir'>,
    folder = dir(),
    batch: { batchSize?: number } = {},
  ): Promise<CompareResult[]> {
    const model = await RewardModel.load({ dir: folder, ...quiet, ...options });
    try {
      return await model.compareMany(ITEMS, batch);
    } finally {
      await model.dispose();
    }
  }

  it('openai-embeddings (vLLM): a folder without model.onnx gives the local rewards, preferences and scalar', async () => {
    const got = await remoteCompare({ remote: { urls: [a.v1], model: 'tiny-llama-hf' } });
    const d = maxDiff(got, local);
    expect(d.rewards).toBeLessThanOrEqual(TOL);
    expect(d.scalar).toBeLessThanOrEqual(TOL);
    expect(got.map((r) => r.preference)).toEqual(local.map((r) => r.preference));
  });

  it('kserve-v2 (Triton): the graph served as it is gives the local results', async () => {
    const got = await remoteCompare({ remote: { urls: [a.root], protocol: 'kserve-v2', model: 'tiny-llama' } });
    const d = maxDiff(got, local);
    expect(d.rewards).toBeLessThanOrEqual(1e-5);
    expect(d.scalar).toBeLessThanOrEqual(1e-5);
  });

  it('dtr.json backbone.remote alone selects the engine; results do not depend on batching (<= 1e-5)', async () => {
    const folder = remoteFolder((doc) => {
      (doc.backbone as Record<string, unknown>).remote = {
        protocol: 'openai-embeddings',
        urls: [a.v1],
        model: 'tiny-llama-hf',
        encoding: 'float',
      };
    });
    const one = await remoteCompare({}, folder, { batchSize: 1 });
    const eight = await remoteCompare({}, folder, { batchSize: 8 });
    expect(maxDiff(one, eight).rewards).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(one, local).rewards).toBeLessThanOrEqual(TOL);
  });

  it('dtr score --backbone-url on a folder without model.onnx prints the local rewards', async () => {
    const folder = dir();
    const args = ['score', '--prompt', 'What is 2 + 2?', '--response', 'It is 4.', '--json'];
    const remote = await dtr([...args, '--model', folder, '--backbone-url', a.v1, '--backbone-model', 'tiny-llama-hf']);
    expect(remote.code, remote.stderr).toBe(0);
    const here = await dtr([...args, '--model', TINY_LLAMA, '--provider', 'cpu']);
    expect(here.code, here.stderr).toBe(0);
    const r = JSON.parse(remote.stdout) as { rewards: Record<string, number>; backboneReward: number };
    const l = JSON.parse(here.stdout) as { rewards: Record<string, number>; backboneReward: number };
    for (const k of Object.keys(l.rewards)) expect(Math.abs(r.rewards[k]! - l.rewards[k]!)).toBeLessThanOrEqual(TOL);
    expect(Math.abs(r.backboneReward - l.backboneReward)).toBeLessThanOrEqual(TOL);
  });

  it('triton_repo.py writes a Triton model repository around the graph (onnxruntime backend, dynamic batching)', () => {
    const repo = join(tempDir('dtr-triton-'), 'repo');
    const r = runTorchPython([join(ROOT, 'notebooks/python/triton_repo.py'), TINY_LLAMA, '--out', repo, '--name', 'tiny-llama'], {
      cwd: ROOT,
    });
    expect(r.code, r.stderr).toBe(0);
    const config = readFileSync(join(repo, 'tiny-llama/config.pbtxt'), 'utf8');
    expect(config).toContain('backend: "onnxruntime"');
    expect(config).toMatch(/max_batch_size: 64/);
    for (const name of ['input_ids', 'attention_mask', 'position_ids'])
      expect(config).toContain(`name: "${name}"\n    data_type: TYPE_INT64\n    dims: [ -1 ]`);
    expect(config).toContain('name: "pooled"\n    data_type: TYPE_FP32\n    dims: [ -1 ]');
    expect(config).toContain('name: "logits"\n    data_type: TYPE_FP32\n    dims: [ 1 ]');
    expect(config).toContain('name: "rewards"\n    data_type: TYPE_FP32\n    dims: [ 5 ]');
    expect(config).toMatch(/dynamic_batching \{\n {2}max_queue_delay_microseconds: 100\n\}/);
    expect(readFileSync(join(repo, 'tiny-llama/1/model.onnx_data')).equals(readFileSync(join(TINY_LLAMA, 'model.onnx_data')))).toBe(true);
    tritonModel = join(repo, 'tiny-llama/1/model.onnx');
  });

  it('two engines, one killed mid-run: no conversation lost or scored twice', async () => {
    // The second engine serves the Triton repository's copy of the graph.
    expect(tritonModel, 'the Triton repository test ran first').not.toBe('');
    const b = await startEngine(['--onnx', tritonModel, '--kserve-name', 'tiny-llama', '--die-after', '4']);
    const warnings: string[] = [];
    try {
      const got = await remoteCompare(
        {
          remote: { urls: [a.root, b.root], protocol: 'kserve-v2', model: 'tiny-llama', probeAfterMs: 50 },
          onWarning: (m) => warnings.push(m),
        },
        dir(),
        { batchSize: 2 },
      );
      expect(got).toHaveLength(ITEMS.length);
      expect(maxDiff(got, local).rewards).toBeLessThanOrEqual(1e-5);
      expect(b.process.exitCode, 'the second engine died mid-run').toBe(3);
      expect(warnings.join('\n')).toMatch(/failed \(connection failed.*taken out, probed again later/);
    } finally {
      await b.stop();
    }
  });

  it('503 and 429 are retried: the results are the local ones', async () => {
    for (const fault of ['flaky', 'busy']) {
      const got = await remoteCompare({ remote: { urls: [a.v1], model: `tiny-llama-hf:${fault}`, probeAfterMs: 10 } });
      expect(maxDiff(got, local).rewards, fault).toBeLessThanOrEqual(TOL);
    }
  });

  const loadError = async (remote: LoadOptions['remote']): Promise<DtrError> => {
    let error: unknown = null;
    try {
      const m = await RewardModel.load({ dir: dir(), ...quiet, ...(remote ? { remote } : {}) });
      try {
        await m.compareMany(ITEMS.slice(0, 2));
      } finally {
        await m.dispose();
      }
    } catch (e) {
      error = e;
    }
    expect(error, 'an error, never a result').toBeInstanceOf(DtrError);
    return error as DtrError;
  };

  it('an engine that hangs or resets gets bounded retries, then a clear error', async () => {
    const hang = await loadError({ urls: [a.v1], model: 'tiny-llama-hf:hang', timeoutMs: 300, retries: 1, probeAfterMs: 10 });
    expect(hang.code).toBe('E_REMOTE');
    expect(hang.message).toMatch(/no inference engine answered.*no answer within 300 ms/);
    const reset = await loadError({ urls: [a.v1], model: 'tiny-llama-hf:reset', retries: 1, probeAfterMs: 10 });
    expect(reset.code).toBe('E_REMOTE');
    expect(reset.message).toMatch(/connection failed/);
  });

  it('wrong size, NaN or normalised vectors: a clear error, never a reward', async () => {
    const size = await loadError({ urls: [a.v1], model: 'tiny-llama-hf:wrong-size' });
    expect(size.code).toBe('E_SHAPE');
    expect(size.message).toMatch(/expects hidden size 16 but backbone output 'pooled' gives 15/);
    const nan = await loadError({ urls: [a.v1], model: 'tiny-llama-hf:nan' });
    expect(nan.message).toMatch(/non-finite|NaN/);
    const norm = await loadError({ urls: [a.v1], model: 'tiny-llama-hf:normalize' });
    expect(norm.code).toBe('E_REMOTE');
    expect(norm.message).toMatch(/normalised vectors/);
  });

  async function engineCheck(model: string, folder = dir()) {
    const m = await RewardModel.load({ dir: folder, ...quiet, remote: { urls: [a.v1], model } });
    try {
      return await m.checkEngine();
    } finally {
      await m.dispose();
    }
  }

  it('the engine check passes the right engine and catches mean pooling, bf16 noise, another template', async () => {
    const good = await engineCheck('tiny-llama-hf');
    expect(good.ok, JSON.stringify(good.cases)).toBe(true);
    expect(good.cases.map((c) => c.name)).toEqual([
      'template and tokenizer give the exported token ids',
      'pooled state within the fp32 tolerance',
      "the checkpoint's own reward",
    ]);
    const mean = await engineCheck('tiny-llama-hf:mean');
    expect(mean.ok).toBe(false);
    expect(mean.cases[1]!.detail).toMatch(/mean pooling/);
    const bf16 = await engineCheck('tiny-llama-hf:bf16');
    expect(bf16.ok).toBe(false);
    expect(bf16.cases[1]!.maxDiff).toBeGreaterThan(bf16.cases[1]!.limit);
    // Another template: the folder's text side no longer gives the exported ids.
    const folder = remoteFolder((doc) => {
      doc.chatTemplate = "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}";
    });
    const template = await engineCheck('tiny-llama-hf', folder);
    expect(template.cases[0]!.ok).toBe(false);
    expect(template.cases[0]!.detail).toMatch(/differ/);
  });

  it('--self-check with --backbone-url runs the engine check and fails with exit 1 on a wrong engine', async () => {
    const args = ['score', '--model', dir(), '--prompt', 'Hi', '--response', 'Hello.', '--self-check', '--backbone-url', a.v1];
    const ok = await dtr([...args, '--backbone-model', 'tiny-llama-hf']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/engine check on export.json's 7 check conversations \(fp32 tolerance\)/);
    const bad = await dtr([...args, '--backbone-model', 'tiny-llama-hf:mean']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/FAIL pooled state within the fp32 tolerance/);
    expect(bad.stderr).toMatch(/engine check failed/);
  });

  it('a wrong URL or model name says what is wrong', async () => {
    const model = await loadError({ urls: [a.v1], model: 'no-such-model' });
    expect(model.message).toMatch(/HTTP 404.*no-such-model/);
    const refused = await loadError({ urls: ['http://127.0.0.1:9/v1'], model: 'x', retries: 0 });
    expect(refused.message).toMatch(/no inference engine answered.*connection failed/);
  });
});
