/**
 * The bridge from Hugging Face to the SDK, live: a Hugging Face folder (tiny random Llama-3.1
 * and Gemma-2 checkpoints with real tokenizers and their families' real chat templates, made by
 * notebooks/python/make_tiny_checkpoint.py) → dtr_export.py → model folder → RewardModel and
 * `dtr compare`, held to transformers itself (notebooks/python/hf_reference.py):
 * token ids identical to `apply_chat_template(tokenize=True)`, rewards / pooled / the
 * checkpoint's scalar within 1e-4 (fp32), one at a time and in padded batches on both sides;
 * Gemma-2's soft-capping and sliding window shown to matter far beyond that tolerance; a
 * checkpoint with no chat template (the SDK's built-in one, in the trace and the check too);
 * streaming of external data, and docs/building.md's walk-through as written. The checkpoint
 * kinds, pad rules, failing checks and dtypes are in export-bridge-kinds.test.ts.
 *
 * docs/building.md's commands run as separate processes, as written; they make the Llama-3.1
 * checkpoint and folder the Llama test holds to transformers. The other Python steps run in one
 * process (runSteps in support/bridge.ts), before the tests, which then check their results.
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
import {
  BRIDGE,
  CLI,
  type Checkpoint,
  checkpointAt,
  checkpointStep,
  exportStep,
  GEMMA_ARGS,
  holdToTransformers,
  json,
  LLAMA_TOKENIZER,
  ok,
  referenceStep,
  ROOT,
  runSteps,
  SKIP,
  type StepOutput,
  type StepResult,
  stepOk,
  TOL,
} from './support/bridge.js';
import { readReference } from './support/parity.js';
import { runsTorchSuites, runTorchPython, TORCH_SETUP } from './support/python.js';
import { tempDir } from './support/temp.js';

const doc = readFileSync(join(ROOT, 'docs/building.md'), 'utf8');
const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const section = doc.slice(doc.indexOf('### From a Hugging Face folder to `dtr compare`'), doc.indexOf('### What the exporter does'));
const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2]! }));

/** Runs docs/building.md's walk-through in `work` as written, each command its own process. */
function runWalkThrough(work: string): Array<{ line: string } & StepOutput> {
  // What a clone has that the commands read.
  for (const p of ['node_modules', 'notebooks', 'test', 'trees', 'heads', 'dist', 'package.json'])
    symlinkSync(join(ROOT, p), join(work, p));
  const commands = blocks[0]!.body.trim().split('\n');
  return commands.slice(1).map((line) => {
    const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
    if (words[0] === '.venv/bin/python') return { line, ...runTorchPython(words.slice(1), { cwd: work }) };
    expect(words.slice(0, 2)).toEqual(['npx', 'dtr']);
    const res = spawnSync(process.execPath, [CLI, ...words.slice(2)], { cwd: work, encoding: 'utf8' });
    return { line, code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
  });
}

/** transformers' outputs of a checkpoint with config fields overridden, as JSON on stdout (a step's code). */
function overriddenReferences(hf: string, variants: Record<string, Record<string, unknown>>): string {
  return `
import json, torch, transformers
import dtr_export as d, export_check as c
hf = ${JSON.stringify(hf)}
tok = transformers.AutoTokenizer.from_pretrained(hf)
conversations = c.check_conversations()
def reference(**override):
    config = transformers.AutoConfig.from_pretrained(hf)
    for k, v in override.items():
        setattr(config, k, v)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(hf, config=config, attn_implementation="eager", **d._dtype_kwarg(transformers, torch.float32)).eval()
    return c.transformers_reference(model, tok, conversations)
def worst(a, b, key):
    return max(max(abs(x - y) for x, y in zip(r[key], s[key])) for r, s in zip(a, b))
base = reference()
out = {"lengths": [len(r["inputIds"]) for r in base], "base": base}
for name, override in json.loads(${JSON.stringify(JSON.stringify(variants))}).items():
    other = reference(**override)
    out[name] = {key: worst(base, other, key) for key in ("pooled", "logits")}
print(json.dumps(out))`;
}

describe.skipIf(!runsTorchSuites())(`Hugging Face folder → dtr_export.py → RewardModel, against transformers${SKIP}`, () => {
  const dir = tempDir('dtr-bridge-');
  const work = tempDir('dtr-bridge-doc-');
  // The walk-through's checkpoint and head (make_tiny_checkpoint.py --arch llama --template-in-config).
  const llama: Checkpoint = { hf: join(work, 'models/tiny-llama-hf'), head: join(work, 'models/tiny-head.json') };
  const gemma = checkpointAt(dir, 'tiny-gemma-2-hf', GEMMA_ARGS);
  const bareArgs = ['--arch', 'llama', '--tokenizer', LLAMA_TOKENIZER, '--no-chat-template'];
  const bare = checkpointAt(dir, 'tiny-llama-no-template-hf', bareArgs);
  const named: Checkpoint = { hf: join(dir, 'tiny-llama-named-templates-hf'), head: llama.head };
  let walkThrough: Array<{ line: string } & StepOutput>;
  let steps: Record<string, StepResult>;

  beforeAll(() => {
    walkThrough = runWalkThrough(work);
    steps = runSteps([
      referenceStep('llama reference', llama, join(dir, 'llama-reference.json')),
      checkpointStep(gemma, GEMMA_ARGS),
      exportStep('gemma export', gemma, join(dir, 'gemma-out'), [
        '--tree',
        'rlhflow-gemma-2-27b',
        '--check',
        '--reference-out',
        join(dir, 'gemma-reference.json'),
      ]),
      {
        name: 'gemma without capping, without window',
        code: overriddenReferences(gemma.hf, { softcapping: { attn_logit_softcapping: null }, window: { sliding_window: 1_000_000 } }),
      },
      checkpointStep(bare, bareArgs),
      exportStep('bare export', bare, join(dir, 'bare-out'), ['--tree', 'rlhflow-llama-3.1-8b', '--check']),
      referenceStep('bare reference', bare, join(dir, 'bare-reference.json')),
      {
        // The walk-through's checkpoint with its template as two named templates, neither 'default'.
        name: 'named templates',
        code: `
import json, os, shutil, transformers
shutil.copytree(${JSON.stringify(llama.hf)}, ${JSON.stringify(named.hf)})
path = os.path.join(${JSON.stringify(named.hf)}, "tokenizer_config.json")
config = json.load(open(path))
config["chat_template"] = [{"name": "tool_use", "template": config["chat_template"]}, {"name": "rag", "template": config["chat_template"]}]
json.dump(config, open(path, "w"))
tok = transformers.AutoTokenizer.from_pretrained(${JSON.stringify(named.hf)})
try:
    tok.apply_chat_template([{"role": "user", "content": "Hi"}])
    print("rendered")
except ValueError as e:
    print(e)`,
      },
      exportStep('named templates export', named, join(dir, 'named-out'), ['--tree', 'rlhflow-llama-3.1-8b', '--check']),
    ]);
  }, 2_400_000);

  it('docs/building.md: from a Hugging Face folder to dtr compare, as written: runs every command in a fresh folder and prints what the page shows', () => {
    expect(blocks[0]!.body.trim().split('\n')[0]).toBe(`${TORCH_SETUP}`);
    const shown = { exporter: blocks[1]!.body.trim().split('\n'), compare: blocks[2]!.body.trim().split('\n') };
    for (const r of walkThrough) expect(r.code, `${r.line}\n${r.stderr}`).toBe(0);
    const exporter = walkThrough.find((r) => r.line.includes('dtr_export.py'))!;
    expect(exporter.stdout.trim()).toBe('wrote models/tiny-llama');
    const compareOut = walkThrough.find((r) => r.line.startsWith('npx dtr compare'))!.stdout;
    // Every line the page shows, with what varies by machine as any number: the measured
    // differences, the transformers version, and the card example's rewards (random weights
    // in fp32: their last digits may differ between CPUs).
    // (The numbers are swapped for placeholders before escaping: escaping puts a backslash in "2\.34e-07".)
    const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const varying = /(?<== )[0-9.e+-]+(?= \(limit)|(?<=transformers )[0-9.]+(?= forward)|(?<=^card response \d: .*)-?[0-9]+\.[0-9]+/;
    const pattern = (s: string): RegExp => new RegExp(`^${s.split(new RegExp(varying.source, 'g')).map(escape).join('\\S+')}$`, 'm');
    expect(shown.exporter.filter((l) => l.startsWith('card response '))).toHaveLength(2);
    for (const l of shown.exporter) expect(exporter.stderr).toMatch(pattern(l));
    for (const l of shown.compare) expect(compareOut).toContain(l);
  });

  it('Llama-3.1 (template in tokenizer_config.json): ids identical, rewards, pooled and the scalar within 1e-4, batch 1 and padded both sides', async () => {
    const out = join(work, 'models/tiny-llama');
    const exporter = walkThrough.find((r) => r.line.includes('dtr_export.py'))!;
    ok(exporter, 'dtr_export llama');
    expect(exporter.stderr).toMatch(
      /check: 7 conversations \(\d+-\d+ tokens\), batch 1 and padded batches on both sides, against transformers in fp32/,
    );
    expect(exporter.stderr).toMatch(/check rewards: .* ok/);
    expect(exporter.stderr).toMatch(/check logits: .* ok/);
    stepOk(steps, 'llama reference');
    await holdToTransformers(out, join(dir, 'llama-reference.json'));

    // dtr.json says how every output is pooled, the pad token, the dtype, and which template travelled.
    const cfg = json(join(out, 'dtr.json'));
    expect(cfg.backbone.outputPooling).toEqual({ pooled: 'last-token', logits: 'last-non-pad-token' });
    expect(cfg.backbone.padTokenId).toBe(128004);
    expect(cfg.backbone.dtype).toBe('fp32');
    const template = json(join(llama.hf, 'tokenizer_config.json')).chat_template as string;
    expect(cfg.chatTemplateSha256).toBe(createHash('sha256').update(template, 'utf8').digest('hex'));
    // Byte for byte (by sha256: a deep equality of two 9 MB buffers takes minutes).
    for (const f of ['tokenizer_config.json', 'tokenizer.json']) expect(sha256File(join(out, f)), f).toBe(sha256File(join(llama.hf, f)));

    // Ordinary permissions, weights in model.onnx_data, nothing left beside the folder.
    for (const f of readdirSync(out)) {
      const mode = statSync(join(out, f)).mode & 0o777;
      expect(mode & 0o044, `${f} mode ${mode.toString(8)}`).toBe(0o044);
    }
    expect(statSync(out).mode & 0o755).toBe(0o755);
    expect(statSync(join(out, 'model.onnx')).size).toBeLessThan(1 << 20);
    expect(statSync(join(out, 'model.onnx_data')).size).toBeGreaterThan(8_000_000);
    expect(readdirSync(join(work, 'models')).filter((f) => f.includes('.partial') || f.includes('.replaced'))).toEqual([]);

    // The folder works with `dtr compare` as exported, without edits.
    const cli = spawnSync(
      process.execPath,
      [
        CLI,
        'compare',
        '--model',
        out,
        '--prompt',
        'How many apples does each person get?',
        '--a',
        'Three each.',
        '--b',
        'Four each.',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);
    const result = JSON.parse(cli.stdout) as { preference: string; rewards: { a: Record<string, number> } };
    expect(['a', 'b', 'tie']).toContain(result.preference);
    expect(Object.keys(result.rewards.a)).toEqual([...ATTRIBUTES]);
  }, 300_000);

  it('Gemma-2 (chat_template.jinja, eager soft-capping, a sliding window the long conversation crosses): within 1e-4, and both change the outputs by > 100 x that', async () => {
    const out = join(dir, 'gemma-out');
    const stderr = stepOk(steps, 'gemma export').stderr;
    expect(stderr).toMatch(/check pooled: .* ok/);
    const cfg = json(join(gemma.hf, 'config.json'));
    expect(cfg.sliding_window).toBe(32);
    expect(cfg.attn_logit_softcapping).toBe(1);
    expect(existsSync(join(out, 'chat_template.jinja'))).toBe(true);
    expect(json(join(out, 'dtr.json')).chatTemplateSha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(gemma.hf, 'chat_template.jinja')))
        .digest('hex'),
    );
    await holdToTransformers(out, join(dir, 'gemma-reference.json'));

    // The folder is within TOL of transformers with capping and the window; the same model
    // without either is > 100 x TOL away, so an export that ignored them could not pass.
    const variants = JSON.parse(stepOk(steps, 'gemma without capping, without window').stdout) as {
      lengths: number[];
      base: Array<{ inputIds: number[]; pooled: number[]; logits: number[] }>;
      softcapping: { pooled: number; logits: number };
      window: { pooled: number; logits: number };
    };
    expect(Math.max(...variants.lengths)).toBeGreaterThan(4 * (cfg.sliding_window as number));
    expect(variants.base.map((r) => r.inputIds)).toEqual(readReference(join(dir, 'gemma-reference.json')).rows.map((r) => r.inputIds));
    for (const what of ['softcapping', 'window'] as const) {
      expect(variants[what].pooled, what).toBeGreaterThan(100 * TOL);
      expect(variants[what].logits, what).toBeGreaterThan(100 * TOL);
    }
  }, 300_000);

  it("a checkpoint with no chat template: the export, its --check and hf_reference.py use the SDK's built-in template, and the SDK says which", async () => {
    const out = join(dir, 'bare-out');
    const stderr = stepOk(steps, 'bare export').stderr;
    expect(stderr).toMatch(
      /warning: \S+ has no chat template; the SDK will use its built-in 'llama-3\.1-instruct' template \(Meta's Llama-3\.1 Instruct chat template\), and so do the trace and --check/,
    );
    expect(stderr).toMatch(/check logits: .* ok/);
    expect(stepOk(steps, 'bare reference').stderr).toMatch(/using the SDK's built-in 'llama-3\.1-instruct' template/);
    // Nothing to copy, nothing recorded: the SDK picks the same built-in template from the tokenizer.
    expect(readdirSync(bare.hf).filter((f) => f.includes('chat_template'))).toEqual([]);
    expect(json(join(bare.hf, 'tokenizer_config.json')).chat_template).toBeUndefined();
    expect(json(join(out, 'dtr.json')).chatTemplateSha256).toBeNull();
    expect(json(join(out, 'export.json')).chatTemplate).toBe('built-in: llama-3.1-instruct');
    const warning = /no chat template in the folder .*; using the SDK's built-in 'llama-3\.1-instruct' template/;
    await holdToTransformers(out, join(dir, 'bare-reference.json'), [warning]);
    // The built-in template is Meta's, byte for byte: the ids are those of the checkpoint that ships it.
    expect(readReference(join(dir, 'bare-reference.json')).rows.map((r) => r.inputIds)).toEqual(
      readReference(join(dir, 'llama-reference.json')).rows.map((r) => r.inputIds),
    );

    const cli = spawnSync(
      process.execPath,
      [CLI, 'compare', '--model', out, '--provider', 'cpu', '--prompt', 'How many apples?', '--a', 'Three each.', '--b', 'Four each.'],
      { encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(warning);
    expect(cli.stdout).toMatch(/^model: bare-out \(cpu\)$/m);
  }, 300_000);

  it("named chat templates with none named 'default': transformers refuses to choose, and so does the exporter (before reading the weights), naming them", () => {
    expect(stepOk(steps, 'named templates').stdout).toMatch(
      /multiple chat templates with no default specified!.*Available template names are \['rag', 'tool_use'\]/s,
    );
    const r = steps['named templates export']!;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^dtr_export: tokenizer_config\.json has several chat templates and none named 'default' \(rag, tool_use\): transformers refuses to choose one/m,
    );
    expect(r.stderr).not.toMatch(/loading /);
    expect(existsSync(join(dir, 'named-out'))).toBe(false);
  });

  it('streams external data tensor by tensor: never the whole model in memory', () => {
    const r = runTorchPython(
      [
        '-c',
        `
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
print(json.dumps({"size": size, "peak": peak, "y": float(y[0, 0]), "files": sorted(os.listdir(out))}))`,
      ],
      { env: { TMPDIR: dir } },
    ); // its temporary files go with the suite's folder
    ok(r, 'externalize');
    const got = JSON.parse(r.stdout) as { size: number; peak: number; y: number; files: string[] };
    expect(got.size).toBeGreaterThanOrEqual(24 * 4 * 1024 * 1024);
    expect(got.peak).toBeLessThan(16 * 1024 * 1024);
    expect(got.y).toBe((23 * 24) / 2);
    expect(got.files).toEqual(['model.onnx', 'model.onnx_data']);
  }, 300_000);
});
