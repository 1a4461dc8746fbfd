/**
 * The export bridge, by checkpoint kind and rule (see export-bridge.test.ts for the pipeline):
 * RLHFlow-style checkpoints (five labels in a shuffled id2label order + decision_tree.pkl), a
 * pad token that ends conversations (the scalar follows transformers' pad rule), a --check that
 * fails (over the tolerance, NaN) writing nothing, and fp16 / mixed precision against the fp32
 * reference. Every folder is held to transformers' own outputs, written by the exporter's
 * --reference-out (the same reference hf_reference.py writes).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES } from '../src/attributes.js';
import { RewardModel } from '../src/model/reward-model.js';
import { type Checkpoint, checkpoint, exportFolder, gemmaCheckpoint, holdToTransformers, json, LLAMA_TEMPLATE, LLAMA_TOKENIZER, llamaCheckpoint, ok, SKIP } from './support/bridge.js';
import { readReference } from './support/parity.js';
import { runsTorchSuites, runTorchPython } from './support/python.js';
import { tempDir } from './support/temp.js';

describe.skipIf(!runsTorchSuites())(`dtr_export.py by checkpoint kind, pad rule and dtype, against transformers${SKIP}`, () => {
  const dir = tempDir('dtr-bridge-kinds-');
  let llama: Checkpoint;
  let gemma: Checkpoint;
  beforeAll(() => {
    llama = llamaCheckpoint(dir);
    gemma = gemmaCheckpoint(dir);
  }, 300_000);

  it('RLHFlow kind: the 5-label score layer is the head (rows by id2label), decision_tree.pkl converted with the pickle warning', async () => {
    const cp = checkpoint(dir, 'tiny-rlhflow-hf', ['--arch', 'llama', '--kind', 'rlhflow', '--tokenizer', LLAMA_TOKENIZER, '--chat-template', LLAMA_TEMPLATE]);
    const out = join(dir, 'rlhflow-out');
    const refFile = join(dir, 'rlhflow-reference.json');
    const stderr = ok(exportFolder(cp, out, ['--check', '--name', 'tiny-rlhflow', '--reference-out', refFile]), 'dtr_export rlhflow');
    expect(stderr).toMatch(/warning: unpickling decision_tree\.pkl runs code from the file; only convert pickles you trust/);
    const cfg = json(join(out, 'dtr.json'));
    expect(cfg.backbone.rewardOutput).toBeNull();
    expect(cfg.tree).toBe('trees/tiny-rlhflow-tree.json');
    expect(cfg.head).toBe('heads/tiny-rlhflow-head.json');
    // The head's rows are the score layer's, reordered from id2label's order into the SDK's.
    const read = runTorchPython(['-c', `
import json, safetensors.numpy as s
w = s.load_file(${JSON.stringify(join(cp.hf, 'model.safetensors'))})["score.weight"]
labels = json.load(open(${JSON.stringify(join(cp.hf, 'config.json'))}))["id2label"]
print(json.dumps({labels[str(i)]: [float(x) for x in w[i]] for i in range(5)}))`]);
    ok(read, 'read the score layer');
    const rows = JSON.parse(read.stdout) as Record<string, number[]>;
    const head = json(join(out, cfg.head as string));
    expect(head.attributes).toEqual([...ATTRIBUTES]);
    ATTRIBUTES.forEach((a, k) => expect(head.weight[k]).toEqual(rows[a]));
    expect(json(join(cp.hf, 'config.json')).id2label['0']).toBe('verbosity');
    await holdToTransformers(out, refFile);
    const model = await RewardModel.load({ dir: out, provider: 'cpu', tokenizeInWorker: false });
    expect(model.tree.name).toBe('tiny-rlhflow-tree');
    await model.dispose();
  }, 300_000);


  it("a pad token that ends conversations: the scalar follows transformers' pad rule, pooled the last token; both match transformers", async () => {
    const cp = llamaCheckpoint(dir, 'tiny-eot-pad-hf', ['--pad-token', '<|eot_id|>']);
    const out = join(dir, 'eot-out');
    const refFile = join(dir, 'eot-reference.json');
    ok(exportFolder(cp, out, ['--tree', 'rlhflow-llama-3.1-8b', '--check', '--reference-out', refFile]), 'dtr_export eot pad');
    expect(json(join(out, 'dtr.json')).backbone.padTokenId).toBe(128009);
    await holdToTransformers(out, refFile);
    // The rule matters here: every conversation ends with <|eot_id|>, so transformers' score
    // reads the token before it, and the score layer on the last token would give another number.
    const ref = readReference(refFile);
    const score = JSON.parse(runTorchPython(['-c', `
import json, safetensors.numpy as s
print(json.dumps([float(x) for x in s.load_file(${JSON.stringify(join(cp.hf, 'model.safetensors'))})["score.weight"][0]]))`]).stdout) as number[];
    for (const row of ref.rows) {
      const atLast = (row.pooled as number[]).reduce((s, v, k) => s + v * score[k]!, 0);
      expect(row.inputIds.at(-1)).toBe(128009);
      expect(Math.abs(atLast - (row.logits as number[])[0]!)).toBeGreaterThan(1e-3);
    }
  }, 300_000);


  it('a --check that can fail: over the tolerance (or NaN) it exits 1, says which output, and writes nothing', () => {
    const out = join(dir, 'strict-out');
    const r = exportFolder(llama, out, ['--tree', 'rlhflow-llama-3.1-8b', '--check', '--tolerance', '1e-12']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/check pooled: max \|onnxruntime - transformers\| = \S+ \(limit 1e-12\) FAILED/);
    expect(r.stderr).toMatch(/dtr_export: --check failed: the exported graph is off transformers \(.*pooled.*\); nothing was written/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);

    // A checkpoint with a NaN weight: the graph gives NaN, and NaN fails (it is never printed as a number and passed).
    const poisoned = join(dir, 'tiny-nan-hf');
    ok(runTorchPython(['-c', `
import shutil, safetensors.numpy as s, numpy as np
shutil.copytree(${JSON.stringify(llama.hf)}, ${JSON.stringify(poisoned)})
p = ${JSON.stringify(poisoned)} + "/model.safetensors"
t = s.load_file(p); k = [n for n in t if n.endswith("layers.1.mlp.down_proj.weight")][0]; t[k][0, 0] = np.nan
s.save_file(t, p, metadata={"format": "pt"})`]), 'poison');
    const nan = exportFolder({ hf: poisoned, head: llama.head }, join(dir, 'nan-out'), ['--tree', 'rlhflow-llama-3.1-8b', '--check']);
    expect(nan.code).toBe(1);
    expect(nan.stderr).toMatch(/FAILED: NaN or Inf/);
    expect(existsSync(join(dir, 'nan-out'))).toBe(false);
  }, 300_000);


  it('fp16 and mixed precision pass --check against the fp32 reference with the error recorded; Gemma-2 fp16 only with --check; bf16 needs CUDA', () => {
    const worst: Record<string, Record<string, number>> = {};
    for (const [name, cp, tree] of [['llama', llama, 'rlhflow-llama-3.1-8b'], ['gemma', gemma, 'rlhflow-gemma-2-27b']] as const) {
      for (const dtype of ['fp16', 'mixed']) {
        const out = join(dir, `${name}-${dtype}`);
        ok(exportFolder(cp, out, ['--tree', tree, '--dtype', dtype, '--check']), `dtr_export ${name} ${dtype}`);
        const check = json(join(out, 'export.json')).check as { ok: boolean; worst: Record<string, { maxAbsDiff: number; limit: number }> };
        expect(check.ok).toBe(true);
        worst[`${name} ${dtype}`] = Object.fromEntries(Object.entries(check.worst).map(([k, v]) => [k, v.maxAbsDiff]));
        expect(json(join(out, 'dtr.json')).backbone.dtype).toBe(dtype);
      }
    }
    // Every low-precision output really is low precision (not silently fp32), and within its limit.
    for (const [k, v] of Object.entries(worst)) expect(v.pooled, k).toBeGreaterThan(1e-6);
    const refused = exportFolder(gemma, join(dir, 'gemma-fp16-unchecked'), ['--tree', 'rlhflow-gemma-2-27b', '--dtype', 'fp16']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Gemma-2 overflows fp16 .* written only when --check passes/);
    const bf16 = exportFolder(llama, join(dir, 'llama-bf16'), ['--tree', 'rlhflow-llama-3.1-8b', '--dtype', 'bf16', '--check']);
    expect(bf16.code).toBe(1);
    expect(bf16.stderr).toMatch(/--dtype bf16 --check needs --device cuda/);
  }, 600_000);

});
