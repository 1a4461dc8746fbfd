/**
 * The bridge from Hugging Face to the SDK, live: a Hugging Face folder (tiny random Llama-3.1
 * and Gemma-2 checkpoints with real tokenizers and their families' real chat templates, made by
 * notebooks/python/make_tiny_checkpoint.py) → dtr_export.py → model folder → RewardModel and
 * `dtr compare`, held to transformers itself (notebooks/python/hf_reference.py):
 * token ids identical to `apply_chat_template(tokenize=True)`, rewards / pooled / the
 * checkpoint's scalar within 1e-4 (fp32), one at a time and in padded batches on both sides;
 * streaming of external data, and docs/building.md's walk-through as written; the checkpoint
 * kinds, pad rules, failing checks and dtypes are in export-bridge-kinds.test.ts.
 *
 * Needs the bridge's Python requirements (notebooks/python/requirements.txt) in .venv or
 * $DTR_TORCH_PYTHON; .ci/run installs them, and under CI=true these suites never skip.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES } from '../src/attributes.js';
import { BRIDGE, CLI, type Checkpoint, exportFolder, gemmaCheckpoint, holdToTransformers, json, llamaCheckpoint, ok, reference, ROOT, SKIP } from './support/bridge.js';
import { runsTorchSuites, runTorchPython, TORCH_SETUP } from './support/python.js';
import { tempDir } from './support/temp.js';

describe.skipIf(!runsTorchSuites())(`Hugging Face folder → dtr_export.py → RewardModel, against transformers${SKIP}`, () => {
  const dir = tempDir('dtr-bridge-');
  let llama: Checkpoint;
  let gemma: Checkpoint;
  beforeAll(() => {
    llama = llamaCheckpoint(dir);
    gemma = gemmaCheckpoint(dir);
  }, 300_000);

  it('Llama-3.1 (template in tokenizer_config.json): ids identical, rewards, pooled and the scalar within 1e-4, batch 1 and padded both sides', async () => {
    const out = join(dir, 'llama-out');
    const r = exportFolder(llama, out, ['--tree', 'rlhflow-llama-3.1-8b', '--check']);
    const stderr = ok(r, 'dtr_export llama');
    expect(r.stdout).toContain(`wrote ${out}`);
    expect(stderr).toMatch(/check: 7 conversations \(\d+-\d+ tokens\), batch 1 and padded batches on both sides, against transformers/);
    expect(stderr).toMatch(/check rewards: .* ok/);
    expect(stderr).toMatch(/check logits: .* ok/);
    await holdToTransformers(out, reference(llama, join(dir, 'llama-reference.json')));

    // dtr.json says how every output is pooled, the pad token, the dtype, and which template travelled.
    const cfg = json(join(out, 'dtr.json'));
    expect(cfg.backbone.outputPooling).toEqual({ pooled: 'last-token', logits: 'last-non-pad-token' });
    expect(cfg.backbone.padTokenId).toBe(128004);
    expect(cfg.backbone.dtype).toBe('fp32');
    const template = json(join(llama.hf, 'tokenizer_config.json')).chat_template as string;
    expect(cfg.chatTemplateSha256).toBe(createHash('sha256').update(template, 'utf8').digest('hex'));
    expect(readFileSync(join(out, 'tokenizer_config.json'))).toEqual(readFileSync(join(llama.hf, 'tokenizer_config.json')));
    expect(readFileSync(join(out, 'tokenizer.json'))).toEqual(readFileSync(join(llama.hf, 'tokenizer.json')));

    // Ordinary permissions, weights in model.onnx_data, nothing left beside the folder.
    for (const f of readdirSync(out)) {
      const mode = statSync(join(out, f)).mode & 0o777;
      expect(mode & 0o044, `${f} mode ${mode.toString(8)}`).toBe(0o044);
    }
    expect(statSync(out).mode & 0o755).toBe(0o755);
    expect(statSync(join(out, 'model.onnx')).size).toBeLessThan(1 << 20);
    expect(statSync(join(out, 'model.onnx_data')).size).toBeGreaterThan(8_000_000);
    expect(readdirSync(dir).filter((f) => f.includes('.partial') || f.includes('.replaced'))).toEqual([]);

    // The folder works with `dtr compare` as exported, without edits.
    const cli = spawnSync(process.execPath, [CLI, 'compare', '--model', out, '--prompt', 'How many apples does each person get?', '--a', 'Three each.', '--b', 'Four each.', '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const result = JSON.parse(cli.stdout) as { preference: string; rewards: { a: Record<string, number> } };
    expect(['a', 'b', 'tie']).toContain(result.preference);
    expect(Object.keys(result.rewards.a)).toEqual([...ATTRIBUTES]);
  }, 300_000);


  it('Gemma-2 (chat_template.jinja, eager soft-capping, a sliding window the long conversation crosses): within 1e-4', async () => {
    const out = join(dir, 'gemma-out');
    const refFile = join(dir, 'gemma-reference.json');
    const stderr = ok(exportFolder(gemma, out, ['--tree', 'rlhflow-gemma-2-27b', '--check', '--reference-out', refFile]), 'dtr_export gemma');
    expect(stderr).toMatch(/check pooled: .* ok/);
    const cfg = json(join(gemma.hf, 'config.json'));
    expect(cfg.sliding_window).toBe(32);
    expect(cfg.attn_logit_softcapping).toBe(50);
    expect(existsSync(join(out, 'chat_template.jinja'))).toBe(true);
    expect(json(join(out, 'dtr.json')).chatTemplateSha256).toBe(createHash('sha256').update(readFileSync(join(gemma.hf, 'chat_template.jinja'))).digest('hex'));
    await holdToTransformers(out, refFile);
  }, 300_000);


  it('streams external data tensor by tensor: never the whole model in memory', () => {
    const r = runTorchPython(['-c', `
import os, sys, tempfile, tracemalloc
sys.path.insert(0, ${JSON.stringify(BRIDGE)})
import numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
import export_graph
d = tempfile.mkdtemp()
# 24 tensors of 4 MiB (96 MiB), saved as torch saves big models: one external file per tensor.
inits = [numpy_helper.from_array(np.full((1024, 1024), i, dtype=np.float32), f"w{i}") for i in range(24)]
nodes = [helper.make_node("Add", ["x", "w0"], ["y0"])] + [helper.make_node("Add", [f"y{i-1}", f"w{i}"], [f"y{i}"]) for i in range(1, 24)]
g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1024, 1024])], [helper.make_tensor_value_info("y23", TensorProto.FLOAT, [1024, 1024])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
src = os.path.join(d, "src"); os.makedirs(src)
onnx.save_model(m, os.path.join(src, "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0)
del m, g, inits
out = os.path.join(d, "out"); os.makedirs(out)
tracemalloc.start()
size = export_graph.externalize(os.path.join(src, "model.onnx"), os.path.join(out, "model.onnx"), chunk=1 << 20)
peak = tracemalloc.get_traced_memory()[1]
import onnxruntime as ort
s = ort.InferenceSession(os.path.join(out, "model.onnx"))
y = s.run(None, {"x": np.zeros((1024, 1024), np.float32)})[0]
import json
print(json.dumps({"size": size, "peak": peak, "y": float(y[0, 0]), "files": sorted(os.listdir(out))}))`], { env: { TMPDIR: dir } }); // its temporary files go with the suite's folder
    ok(r, 'externalize');
    const got = JSON.parse(r.stdout) as { size: number; peak: number; y: number; files: string[] };
    expect(got.size).toBeGreaterThanOrEqual(24 * 4 * 1024 * 1024);
    expect(got.peak).toBeLessThan(16 * 1024 * 1024);
    expect(got.y).toBe((23 * 24) / 2);
    expect(got.files).toEqual(['model.onnx', 'model.onnx_data']);
  }, 300_000);
});

describe.skipIf(!runsTorchSuites())(`docs/building.md: from a Hugging Face folder to dtr compare, as written${SKIP}`, () => {
  const doc = readFileSync(join(ROOT, 'docs/building.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### From a Hugging Face folder to `dtr compare`'), doc.indexOf('### What the exporter does'));
  const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2]! }));

  it('runs every command in a fresh folder and prints what the page shows', () => {
    const commands = blocks[0]!.body.trim().split('\n');
    expect(commands[0]).toBe(`${TORCH_SETUP}`);
    const work = tempDir('dtr-bridge-doc-');
    // What a clone has that the commands read.
    for (const p of ['node_modules', 'notebooks', 'test', 'trees', 'heads', 'dist', 'package.json']) symlinkSync(join(ROOT, p), join(work, p));
    const shown = { exporter: blocks[1]!.body.trim().split('\n'), compare: blocks[2]!.body.trim().split('\n') };
    let exporterErr = '';
    let compareOut = '';
    for (const line of commands.slice(1)) {
      const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
      let r;
      if (words[0] === '.venv/bin/python') r = runTorchPython(words.slice(1), { cwd: work });
      else {
        expect(words.slice(0, 2)).toEqual(['npx', 'dtr']);
        const res = spawnSync(process.execPath, [CLI, ...words.slice(2)], { cwd: work, encoding: 'utf8' });
        r = { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
        compareOut = r.stdout;
      }
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      if (line.includes('dtr_export.py')) {
        exporterErr = r.stderr;
        expect(r.stdout.trim()).toBe('wrote models/tiny-llama');
      }
    }
    // Every line the page shows, with the measured differences (and the transformers version) as any number.
    // (The numbers are swapped for placeholders before escaping: escaping puts a backslash in "2\.34e-07".)
    const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = (s: string): RegExp =>
      new RegExp(`^${s.split(/(?<== )[0-9.e+-]+(?= \(limit)|(?<=transformers )[0-9.]+(?= forward)/).map(escape).join('\\S+')}$`, 'm');
    for (const l of shown.exporter) expect(exporterErr).toMatch(pattern(l));
    for (const l of shown.compare) expect(compareOut).toContain(l);
  }, 300_000);
});
