/**
 * notebooks/python/dtr_export.py, the parts that run without PyTorch: argument handling, head
 * conversion from numpy arrays, head-weight files, dtr.json, and writing the model folder
 * atomically. The ONNX export itself needs torch + transformers on a GPU machine (docs/building.md).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, LinearHead, PreferenceTree } from '../src/index.js';
import { SeededRandom } from '../src/advanced.js';
import { writeSafetensors } from '../src/safetensors.js';
import { validateModelConfig } from '../src/model/config.js';
import { PYTHON, runPython } from './support/python.js';
import { spawnSync } from 'node:child_process';
import { need, skipNote } from './support/needs.js';
import { tempDir } from './support/temp.js';

const BRIDGE = fileURLToPath(new URL('../notebooks/python/', import.meta.url));
const EXPORTER = join(BRIDGE, 'dtr_export.py');

/** Runs Python code with the bridge importable; returns its stdout. */
function py(code: string, cwd?: string): string {
  return runPython(['-c', `import sys; sys.path.insert(0, ${JSON.stringify(BRIDGE)})\n${code}`], cwd ? { cwd } : {});
}

function exporter(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, [EXPORTER, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const tmp = (): string => tempDir('dtr-export-');

const numpy = need('numpy');
const sklearn = need('sklearn');

describe.skipIf(!numpy.present)(`dtr_export.py without PyTorch${skipNote(numpy)}`, () => {
  it('prints help and refuses to run the export without torch, with a clear message', () => {
    const dir = tmp();
    const help = exporter(['--help'], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--head FILE.json \| --head-weights FILE \| --head-key NAME \| --no-head/);
    const r = exporter(['RLHFlow/Decision-Tree-Reward-Llama-3.1-8B', '--out', 'models/x'], dir);
    const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, transformers'], { stdio: 'ignore' }).status === 0;
    if (!hasTorch) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^dtr_export: the ONNX export needs PyTorch and transformers \(torch is missing\)/);
    }
    expect(existsSync(join(dir, 'models/x'))).toBe(false);
  });

  it('checks its arguments: exit 2 naming the flag', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'taken'));
    const cases: Array<[string[], RegExp]> = [
      [['m', '--out', 'taken'], /--out taken already exists; choose another folder or pass --overwrite/],
      [
        ['m', '--out', 'o', '--head-attributes', 'helpfulness,correctness'],
        /--head-attributes must name each of helpfulness, correctness, coherence, complexity, verbosity once/,
      ],
      [['m', '--out', 'o', '--no-head', '--kind', 'rewards'], /--kind rewards needs a head in the graph/],
      [['m', '--out', 'o', '--head', 'h.json', '--no-head'], /argument --no-head: not allowed with argument --head/],
      [['m', '--out', 'o', '--head', 'missing.json'], /--head missing.json: no such file/],
      [['m', '--out', 'o', '--opset', '11'], /--opset must be at least 14/],
      [['m'], /the following arguments are required: --out/],
      [['m', '--out', 'o', '--tolerance', '0.1'], /--tolerance applies to --check; add --check/],
      [['m', '--out', 'o', '--check', '--tolerance', '-1'], /--tolerance must be a positive number/],
      [['m', '--out', 'o', '--dtype', 'int8'], /argument --dtype: invalid choice: 'int8'/],
    ];
    for (const [args, msg] of cases) {
      const r = exporter(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('knows the presets and parses defaults', () => {
    const out = py(`
import json, dtr_export as d
a = d.parse_args(["RLHFlow/Decision-Tree-Reward-Gemma-2-27B", "--out", "/nonexistent-dir/m27", "--head-attributes", "verbosity,helpfulness,correctness,coherence,complexity"])
print(json.dumps({"preset": a.preset, "name": a.name, "kind": a.kind, "dtype": a.dtype, "attrs": a.head_attributes, "opset": a.opset, "backbone": a.backbone_id}))`);
    expect(JSON.parse(out)).toEqual({
      preset: { hidden_size: 4608, max_length: 4096, tree: 'rlhflow-gemma-2-27b', tree_file: 'decision_tree.pkl' },
      name: 'm27',
      kind: 'pooled',
      dtype: 'fp32',
      backbone: 'RLHFlow/Decision-Tree-Reward-Gemma-2-27B',
      attrs: ['verbosity', 'helpfulness', 'correctness', 'coherence', 'complexity'],
      opset: 17,
    });
  });

  it('converts a [5, H] regression layer from numpy into a head file the SDK loads and applies identically', () => {
    const dir = tmp();
    py(
      `
import json, numpy as np, dtr_export as d
rng = np.random.default_rng(0)
w = rng.normal(size=(5, 16)); b = rng.normal(size=5)
order = ["verbosity", "helpfulness", "correctness", "coherence", "complexity"]  # rows as stored in the source
doc = d.head_document(w, b, "fused", "RLHFlow/Decision-Tree-Reward-Llama-3.1-8B", order, description="test")
d.write_json_atomic("head.json", doc)
x = rng.normal(size=16)
expect = {a: float(w[order.index(a)] @ x + b[order.index(a)]) for a in d.ATTRIBUTES}
json.dump({"x": x.tolist(), "expect": expect}, open("check.json", "w"))
`,
      dir,
    );
    const head = LinearHead.load(join(dir, 'head.json'));
    expect(head.hiddenSize).toBe(16);
    expect(head.backbone).toBe('RLHFlow/Decision-Tree-Reward-Llama-3.1-8B');
    const { x, expect: want } = JSON.parse(readFileSync(join(dir, 'check.json'), 'utf8')) as {
      x: number[];
      expect: Record<string, number>;
    };
    const got = head.apply(x);
    for (const a of ATTRIBUTES) expect(got[a]).toBeCloseTo(want[a]!, 12);
    // The document round-trips through head_arrays into SDK order.
    const again = JSON.parse(
      py(
        `
import json, dtr_export as d
w, b = d.head_arrays(json.load(open("head.json")))
print(json.dumps({"shape": list(w.shape), "b": b.tolist()}))`,
        dir,
      ),
    ) as { shape: number[]; b: number[] };
    expect(again.shape).toEqual([5, 16]);
    expect(again.b).toEqual(Array.from(head.bias));
  });

  it('rejects bad head arrays with a message', () => {
    const out = py(`
import numpy as np, dtr_export as d
for w, b, attrs in [(np.zeros((4, 8)), None, d.ATTRIBUTES), (np.zeros((5, 8)), np.zeros(3), d.ATTRIBUTES),
                    (np.full((5, 8), np.nan), None, d.ATTRIBUTES), (np.zeros((5, 8)), None, ["a", "b", "c", "d", "e"])]:
    try:
        d.head_document(w, b, "h", "x", attrs)
    except d.ExportError as e:
        print(e)`);
    expect(out.trim().split('\n')).toEqual([
      'head weight must be [5, hidden size], got [4, 8]',
      'head bias must have 5 values, got [3]',
      'head weights hold NaN or infinite values',
      "head attributes must be ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity'] in some order, got ['a', 'b', 'c', 'd', 'e']",
    ]);
  });

  it('finds the attribute head in a checkpoint by shape, or explains why not', () => {
    const out = py(`
import dtr_export as d
shapes = {"model.embed_tokens.weight": (128256, 4096), "model.norm.weight": (4096,), "score.weight": (1, 4096),
          "regression_layer.weight": (5, 4096), "regression_layer.bias": (5,)}
k = d.find_head_key(shapes, 4096); print(k, d.bias_key_for(k, shapes))
for s, key in [({"score.weight": (1, 4096)}, None), ({"a.weight": (5, 4096), "b.weight": (5, 4096)}, None), (shapes, "score.weight"), (shapes, "nope")]:
    try:
        d.find_head_key(s, 4096, key)
    except d.ExportError as e:
        print(e)`);
    expect(out.trim().split('\n')).toEqual([
      'regression_layer.weight regression_layer.bias',
      'the checkpoint has no [5, 4096] linear layer (no five-attribute head): pass --head FILE.json or --head-weights, or --no-head',
      'several [5, 4096] tensors could be the attribute head: a.weight, b.weight; choose one with --head-key',
      "--head-key 'score.weight' has shape [1, 4096], expected [5, 4096]",
      "--head-key 'nope' is not in the checkpoint; tensors of shape [5, 4096]: regression_layer.weight",
    ]);
  });

  it('reads head weights from .safetensors written by the SDK (BF16 and F32), .npz and .npy', () => {
    const dir = tmp();
    const rng = new SeededRandom(4);
    const w = Float32Array.from({ length: 5 * 6 }, () => rng.normal());
    writeSafetensors(join(dir, 'w.safetensors'), {
      weight: { dtype: 'BF16', shape: [5, 6], data: w },
      bias: { dtype: 'F32', shape: [5], data: [1, 2, 3, 4, 5] },
    });
    const out = JSON.parse(
      py(
        `
import json, numpy as np, dtr_export as d
w, b = d.read_head_weights("w.safetensors")
np.savez("w.npz", weight=w, bias=b); np.save("w.npy", w)
w2, b2 = d.read_head_weights("w.npz"); w3, b3 = d.read_head_weights("w.npy")
print(json.dumps({"w": w.astype(float).ravel().tolist(), "b": b.tolist(), "same": bool((w2 == w).all() and (b2 == b).all() and (w3 == w).all()), "b3": b3}))`,
        dir,
      ),
    ) as { w: number[]; b: number[]; same: boolean; b3: null };
    const bf16 = Array.from(w, (v) => {
      const f = new Float32Array([v]);
      const u = new Uint32Array(f.buffer);
      u[0] = ((u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) >>> 16) << 16;
      return f[0]!;
    });
    expect(out.w).toEqual(bf16);
    expect(out.b).toEqual([1, 2, 3, 4, 5]);
    expect(out.same).toBe(true);
    expect(out.b3).toBeNull();
  });

  it('records how each output is pooled, the pad token, the dtype and the template sha256 in dtr.json', () => {
    const out = JSON.parse(
      py(`
import json, dtr_export as d
a = d.model_config("m", "x", 8, head="heads/h.json", pad_token_id=128009, dtype="fp16", chat_template_sha256="ab" * 32)
b = d.model_config("m", "x", 8, has_score=True)
c = d.model_config("m", "x", 8, kind="rewards", has_score=False)
e = d.model_config("m", "x", 8, pad_token_id=128009, scalar_pooling="first-pad-minus-one")
errors = []
for kw in ({"scalar_pooling": "first-pad-minus-one"}, {"pad_token_id": 5, "scalar_pooling": "middle"}):
    try:
        d.model_config("m", "x", 8, **kw)
    except d.ExportError as err:
        errors.append(str(err))
print(json.dumps([a, b, c, e, errors]))`),
    ) as Array<Record<string, any>>;
    expect(out[0]!.backbone).toMatchObject({
      outputPooling: { pooled: 'last-token', logits: 'last-non-pad-token' },
      padTokenId: 128009,
      dtype: 'fp16',
    });
    expect(out[0]!.chatTemplateSha256).toBe('ab'.repeat(32));
    // Without a pad token, transformers' own score reads the last token too.
    expect(out[1]!.backbone.outputPooling).toEqual({ pooled: 'last-token', logits: 'last-token' });
    expect(out[2]!.backbone.outputPooling).toEqual({ rewards: 'last-token', pooled: 'last-token' });
    // transformers < 4.49's rule, written when the exporter ran with one of those versions.
    expect(out[3]!.backbone.outputPooling).toEqual({ pooled: 'last-token', logits: 'first-pad-minus-one' });
    for (const doc of out.slice(0, 4)) expect(validateModelConfig(doc)).toMatchObject({ success: true });
    expect(out[4]).toEqual([
      "scalar pooling 'first-pad-minus-one' needs the pad token id it skips",
      "scalar pooling must be one of last-token, last-non-pad-token, first-pad-minus-one, got 'middle'",
    ]);
  });

  it('finds the chat template where transformers does: chat_template.jinja, tokenizer_config.json (named: default), chat_template.json', () => {
    const dir = tmp();
    const out = JSON.parse(
      py(
        `
import json, os, dtr_export as d
def folder(name, files):
    os.makedirs(name)
    for rel, text in files.items():
        open(os.path.join(name, rel), "w", newline="").write(text)
    return d.checkpoint_template(name)
print(json.dumps([
    folder("both", {"chat_template.jinja": "J\\r\\nK", "tokenizer_config.json": json.dumps({"chat_template": "C"})}),
    folder("named", {"tokenizer_config.json": json.dumps({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})}),
    folder("legacy", {"tokenizer_config.json": "{}", "chat_template.json": json.dumps({"chat_template": "L"})}),
    folder("none", {"tokenizer_config.json": "{}"}),
    d.template_sha256("\\u00e9"),
]))`,
        dir,
      ),
    ) as unknown[];
    expect(out).toEqual([
      ['J\nK', 'chat_template.jinja'],
      ['D', 'tokenizer_config.json'],
      ['L', 'chat_template.json'],
      [null, null],
      createHash('sha256').update('é', 'utf8').digest('hex'),
    ]);
  });

  it('refuses named chat templates with none named default, naming them, as transformers does (and check_model_folder reports it)', () => {
    const dir = tmp();
    const out = py(
      `
import json, os, dtr_export as d, export_steps as s
for name, t in (("list", [{"name": "tool_use", "template": "T"}, {"name": "rag", "template": "R"}]), ("object", {"rag": "R"})):
    os.makedirs(name)
    json.dump({"chat_template": t}, open(os.path.join(name, "tokenizer_config.json"), "w"))
    try:
        print(d.checkpoint_template(name))
    except d.ExportError as e:
        print(e)
    print(s._check_template(name, {}))`,
      dir,
    );
    expect(out.trim().split('\n')).toEqual([
      'tokenizer_config.json has several chat templates and none named \'default\' (rag, tool_use): transformers refuses to choose one ("multiple chat templates with no default specified"), and so does the SDK; save the one the reward model was trained with as chat_template.jinja in the checkpoint folder',
      '["tokenizer_config.json: named chat templates and none is named \'default\' (available: rag, tool_use); transformers and the SDK refuse to choose one"]',
      'tokenizer_config.json has several chat templates and none named \'default\' (rag): transformers refuses to choose one ("multiple chat templates with no default specified"), and so does the SDK; save the one the reward model was trained with as chat_template.jinja in the checkpoint folder',
      '["tokenizer_config.json: named chat templates and none is named \'default\' (available: rag); transformers and the SDK refuse to choose one"]',
    ]);
  });

  it("picks the SDK's built-in template for a folder with none as the SDK does (builtin_templates.json, by the tokenizer's added tokens)", () => {
    const dir = tmp();
    const out = JSON.parse(
      py(
        `
import json, os, dtr_export as d
def folder(name, tokens):
    os.makedirs(name)
    json.dump({"added_tokens": [{"id": i, "content": t} for i, t in enumerate(tokens)]}, open(os.path.join(name, "tokenizer.json"), "w"))
    t = d.builtin_template(name)
    return t and t["name"]
print(json.dumps([folder("llama", ["<|begin_of_text|>", "<|start_header_id|>", "<|eot_id|>"]), folder("gemma", ["<bos>", "<start_of_turn>", "<end_of_turn>"]),
                  folder("half", ["<|start_header_id|>"]), folder("none", [])]))`,
        dir,
      ),
    ) as unknown[];
    expect(out).toEqual(['llama-3.1-instruct', 'gemma-2-it', null, null]);
  });

  it("prints the card example's rewards beside the published ones (RLHFlow's Llama-3.1-8B card)", () => {
    const out = JSON.parse(
      py(`
import json, dtr_export as d, export_check as c
print(json.dumps(c.card_rewards_table([[3.95, 3.97, 3.86, 0.99, 1.49]], d.CARD_REWARDS["RLHFlow/Decision-Tree-Reward-Llama-3.1-8B"][:1]) + c.card_rewards_table([[1, 2, 3, 4, 5]])))`),
    ) as string[];
    expect(out).toEqual([
      'card response 1: helpfulness 3.9500 (card 3.9604, -0.0104), correctness 3.9700 (card 3.9728, -0.0028), coherence 3.8600 (card 3.8583, +0.0017), complexity 0.9900 (card 0.9910, -0.0010), verbosity 1.4900 (card 1.4902, -0.0002)',
      'card response 1: helpfulness 1.0000, correctness 2.0000, coherence 3.0000, complexity 4.0000, verbosity 5.0000',
    ]);
  });

  it('recognises a preset from a hub id or from a local folder named like one', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'Skywork-Reward-Gemma-2-27B-v0.2'));
    mkdirSync(join(dir, 'my-model'));
    const out = JSON.parse(
      py(
        `
import json, dtr_export as d
print(json.dumps([d.preset_for("Skywork/Skywork-Reward-Gemma-2-27B-v0.2"), d.preset_for("Skywork-Reward-Gemma-2-27B-v0.2"), d.preset_for("my-model"),
                  d.parse_args(["my-model", "--out", "o"]).backbone_id, d.parse_args(["Skywork-Reward-Gemma-2-27B-v0.2", "--out", "o"]).backbone_id]))`,
        dir,
      ),
    ) as unknown[];
    expect(out).toEqual([
      'Skywork/Skywork-Reward-Gemma-2-27B-v0.2',
      'Skywork/Skywork-Reward-Gemma-2-27B-v0.2',
      null,
      'my-model',
      'Skywork/Skywork-Reward-Gemma-2-27B-v0.2',
    ]);
  });

  it('writes dtr.json for both kinds and refuses inconsistent ones', () => {
    const out = JSON.parse(
      py(`
import json, dtr_export as d
p = d.model_config("m", "Skywork/Skywork-Reward-Llama-3.1-8B-v0.2", 4096, head="heads/h.json", tree="rlhflow-llama-3.1-8b")
r = d.model_config("m", "x", 4608, kind="rewards", has_score=False, tree="trees/t.json")
errs = []
for kw in [dict(kind="rewards", head="heads/h.json"), dict(kind="logits"), dict(hidden_size=0)]:
    args = dict(name="m", backbone_id="x", hidden_size=kw.pop("hidden_size", 8)); args.update(kw)
    try:
        d.model_config(**args)
    except d.ExportError as e:
        errs.append(str(e))
print(json.dumps({"p": p, "r": r, "errs": errs}))`),
    ) as { p: Record<string, unknown>; r: Record<string, unknown>; errs: string[] };
    expect(out.p).toMatchObject({
      format: 'decision-tree-reward/model',
      version: 1,
      backbone: {
        id: 'Skywork/Skywork-Reward-Llama-3.1-8B-v0.2',
        file: 'model.onnx',
        kind: 'pooled',
        output: 'pooled',
        hiddenSize: 4096,
        rewardOutput: 'logits',
        attributes: null,
        inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: 'position_ids' },
      },
      pooling: 'last-token',
      paddingSide: 'right',
      head: 'heads/h.json',
      tree: 'rlhflow-llama-3.1-8b',
    });
    expect(out.r).toMatchObject({
      backbone: { kind: 'rewards', output: 'rewards', rewardOutput: null, attributes: [...ATTRIBUTES] },
      head: null,
    });
    // Both are valid for the runtime's schema (src/model/config.ts).
    expect(validateModelConfig(out.p)).toMatchObject({ success: true });
    expect(validateModelConfig(out.r)).toMatchObject({ success: true });
    expect(out.errs).toEqual([
      "kind 'rewards' reads the fused head: dtr.json must not name a head file",
      "kind must be 'pooled' or 'rewards', got 'logits'",
      'hidden size must be a positive integer, got 0',
    ]);
  });

  it('writes the whole folder atomically: head, tree, tokenizer, ONNX files, dtr.json, export.json', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'tok'));
    writeFileSync(join(dir, 'tok/tokenizer.json'), JSON.stringify({ model: { type: 'BPE' } }));
    writeFileSync(join(dir, 'tok/tokenizer_config.json'), JSON.stringify({ chat_template: '{{ messages }}' }));
    writeFileSync(join(dir, 'graph.onnx'), 'not really onnx');
    writeFileSync(join(dir, 'graph.onnx_data'), 'weights');
    const code = (out: string, failAt: string | null) => `
import numpy as np, dtr_export as d
def stop(step):
    if step == ${failAt === null ? 'None' : JSON.stringify(failAt)}:
        raise RuntimeError("interrupted at " + step)
head = d.head_document(np.ones((5, 8)), None, "fused", "tiny")
try:
    d.write_folder(${JSON.stringify(out)}, name="tiny", backbone_id="tiny", hidden_size=8, head_doc=head, tree_ref="rlhflow-llama-3.1-8b",
                   tokenizer_dir="tok", onnx_files={"model.onnx": "graph.onnx", "model.onnx_data": "graph.onnx_data"},
                   report={"outputs": ["rewards", "pooled"]}, command="python3 dtr_export.py tiny", on_step=stop)
    print("ok")
except RuntimeError as e:
    print(e)`;
    expect(py(code('models/tiny', 'onnx'), dir).trim()).toBe('interrupted at onnx');
    expect(existsSync(join(dir, 'models/tiny'))).toBe(false);
    expect(readdirSync(join(dir, 'models'))).toEqual([]); // no partial folder left behind
    expect(py(code('models/tiny', null), dir).trim()).toBe('ok');
    const folder = join(dir, 'models/tiny');
    expect(readdirSync(folder).sort()).toEqual([
      'dtr.json',
      'export.json',
      'heads',
      'model.onnx',
      'model.onnx_data',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const cfg = JSON.parse(readFileSync(join(folder, 'dtr.json'), 'utf8'));
    expect(cfg.head).toBe('heads/fused.json');
    expect(cfg.tree).toBe('rlhflow-llama-3.1-8b');
    expect(cfg.provenance.data).toEqual([{ path: 'heads/fused.json', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), role: 'head' }]);
    expect(cfg.provenance.command).toBe('python3 dtr_export.py tiny');
    expect(LinearHead.load(join(folder, 'heads/fused.json')).hiddenSize).toBe(8);
    expect(PreferenceTree.load(cfg.tree).name).toBe('rlhflow-llama-3.1-8b');
    const report = JSON.parse(readFileSync(join(folder, 'export.json'), 'utf8'));
    expect(report.outputs).toEqual(['rewards', 'pooled']);
    expect(report.files).toContain('model.onnx_data');
    // A second export into the same folder needs overwrite; a head of another width is refused.
    expect(
      py(
        `
import numpy as np, dtr_export as d
for kw in [dict(), dict(overwrite=True, head_doc=d.head_document(np.ones((5, 4)), None, "h", "x"))]:
    args = dict(name="t", backbone_id="tiny", hidden_size=8, tree_ref="x"); args.update(kw)
    try:
        d.write_folder("models/tiny", **args)
    except d.ExportError as e:
        print(e)`,
        dir,
      )
        .trim()
        .split('\n'),
    ).toEqual([
      expect.stringMatching(/models\/tiny already exists \(pass --overwrite to replace it\)/),
      "head 'h' expects hidden size 4 but the backbone's is 8",
    ]);
    expect(readFileSync(join(folder, 'model.onnx'), 'utf8')).toBe('not really onnx');
  });

  it.skipIf(!sklearn.present)(
    `converts decision_tree.pkl through the sklearn converter into trees/, loadable by the SDK${skipNote(sklearn)}`,
    () => {
      const dir = tmp();
      py(
        `
import pickle, numpy as np, dtr_export as d
from sklearn.tree import DecisionTreeClassifier
rng = np.random.RandomState(0)
X = rng.randn(500, 5); y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
pickle.dump(DecisionTreeClassifier(max_depth=3, criterion="entropy", random_state=0).fit(X, y), open("decision_tree.pkl", "wb"))
tree = d.tree_from_pickle("decision_tree.pkl", "converted", "test")
d.write_folder("m", name="m", backbone_id="tiny", hidden_size=8, head_doc=d.head_document(np.ones((5, 8)), None, "h", "tiny"), tree_doc=tree)
`,
        dir,
      );
      const cfg = JSON.parse(readFileSync(join(dir, 'm/dtr.json'), 'utf8'));
      expect(cfg.tree).toBe('trees/converted.json');
      const tree = PreferenceTree.load(join(dir, 'm', cfg.tree));
      expect(tree.provenance.data[0]).toMatchObject({ path: 'decision_tree.pkl', role: 'pickled model' });
      expect(tree.predictProba([2, 0, 0, 0, 0])).toBeGreaterThan(0.9);
      expect(cfg.provenance.data.map((x: { role: string }) => x.role)).toEqual(['head', 'tree']);
    },
  );
});
