/**
 * notebooks/python/export_steps.py: the pure-Python helpers of notebooks/04-export.ipynb, which
 * CI cannot run (it needs a GPU and the weights). They are imported here with Debian's python3
 * and checked against the SDK itself: folders the SDK loads pass the Python check and broken ones
 * are reported, manifests hash as the SDK does, and the `dtr compare` command the notebook prints
 * runs with the SDK's command line.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_COUNT } from '../src/attributes.js';
import { LinearHead } from '../src/head/head.js';
import { sha256File } from '../src/io/hash.js';
import { inspectModelFolder } from '../src/model/folder.js';
import { makeProvenance } from '../src/provenance.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { PYTHON } from './support/python.js';
import { need, skipNote } from './support/needs.js';
import { tempDir } from './support/temp.js';

const helpers = fileURLToPath(new URL('../notebooks/python/', import.meta.url));
const notebook = fileURLToPath(new URL('../notebooks/04-export.ipynb', import.meta.url));
const python3 = need('python3');

/** Runs Python code with export_steps imported as `es`; returns its JSON stdout. */
function py<T>(code: string): T {
  const r = spawnSync(
    PYTHON,
    ['-c', `import sys, json\nsys.path.insert(0, ${JSON.stringify(helpers)})\nimport export_steps as es\n${code}`],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Runs Python code that must fail; returns the last line of its stderr (the exception). */
function pyError(code: string): string {
  const r = spawnSync(PYTHON, ['-c', `import sys\nsys.path.insert(0, ${JSON.stringify(helpers)})\nimport export_steps as es\n${code}`], {
    encoding: 'utf8',
  });
  expect(r.status).not.toBe(0);
  return r.stderr.trim().split('\n').at(-1)!;
}

const check = (dir: string, hidden?: number): string[] =>
  py<string[]>(`print(json.dumps(es.check_model_folder(${JSON.stringify(dir)}${hidden === undefined ? '' : `, hidden_size=${hidden}`})))`);

/** A folder laid out as dtr_export.py writes it (heads/NAME.json, trees/NAME.json, export.json), around the SDK's fixture backbone. */
function exportedLayout(): string {
  const { dir } = writeFixtureModel(tempDir('dtr-export-'), { hiddenSize: 16 });
  const config = JSON.parse(readFileSync(join(dir, 'dtr.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(join(dir, 'heads'));
  mkdirSync(join(dir, 'trees'));
  const head = LinearHead.load(join(dir, 'head.json'));
  const weight = Float64Array.from({ length: ATTRIBUTE_COUNT * 16 }, (_, i) => head.weight[i]!);
  new LinearHead({
    name: 'exported-head',
    hiddenSize: 16,
    backbone: head.backbone,
    weight,
    bias: Float64Array.from(head.bias),
    provenance: makeProvenance('test', [], null),
  }).save(join(dir, 'heads', 'exported-head.json'));
  PreferenceTree.load('rlhflow-llama-3.1-8b')
    .with({ name: 'exported-tree' })
    .save(join(dir, 'trees', 'exported-tree.json'));
  rmSync(join(dir, 'head.json'));
  writeFileSync(
    join(dir, 'dtr.json'),
    JSON.stringify({ ...config, head: 'heads/exported-head.json', tree: 'trees/exported-tree.json' }, null, 2),
  );
  return dir;
}

describe.skipIf(!python3.present)(`notebooks/python/export_steps.py${skipNote(python3)}`, () => {
  it('passes the folders the SDK loads: its fixture model, and the exporter layout (heads/, trees/)', () => {
    const { dir } = writeFixtureModel(tempDir('dtr-export-'));
    expect(check(dir)).toEqual([]);
    const exported = exportedLayout();
    const inspected = inspectModelFolder(exported);
    expect(inspected.success ? [] : inspected.issues).toEqual([]);
    expect(check(exported, 16)).toEqual([]);
    const { dir: fused } = writeFixtureModel(tempDir('dtr-export-'), { kind: 'rewards' });
    expect(check(fused)).toEqual([]); // head in the graph: no head file to look for
  });

  it('reports every missing or mismatched piece at once', () => {
    expect(check(tempDir('dtr-export-empty-'))).toEqual([
      'dtr.json: missing',
      'model.onnx: missing',
      'tokenizer.json: missing',
      'tokenizer_config.json: missing',
      "head.json: missing (put the head in head.json or heads/, or name it in dtr.json 'head')",
    ]);
    const dir = exportedLayout();
    expect(check(dir, 4096)).toEqual(["heads/exported-head.json: hidden size 16 does not match the backbone's 4096"]);
    const head = JSON.parse(readFileSync(join(dir, 'heads/exported-head.json'), 'utf8')) as { attributes: string[] };
    head.attributes = ['correctness', 'helpfulness', 'coherence', 'complexity', 'verbosity'];
    writeFileSync(join(dir, 'heads/exported-head.json'), JSON.stringify(head));
    writeFileSync(join(dir, 'trees/exported-tree.json'), JSON.stringify({ format: 'something/else' }));
    writeFileSync(join(dir, 'model.onnx'), '');
    const problems = check(dir);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe('model.onnx: empty (0 bytes)');
    expect(problems[1]).toMatch(
      /^heads\/exported-head\.json: attributes must be \['helpfulness', 'correctness'.*got \['correctness', 'helpfulness'/,
    );
    expect(problems[2]).toBe("trees/exported-tree.json: not a tree file (format must be 'decision-tree-reward/tree')");
  });

  it("checks the chat template the SDK will render with against dtr.json's chatTemplateSha256", () => {
    const dir = exportedLayout();
    const cfgPath = join(dir, 'dtr.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    const template = (JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string }).chat_template;
    cfg.chatTemplateSha256 = createHash('sha256').update(template, 'utf8').digest('hex');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    expect(check(dir)).toEqual([]);
    writeFileSync(join(dir, 'chat_template.jinja'), `${template} `);
    expect(check(dir)).toEqual([
      'chat_template.jinja: not the chat template the model was exported with (sha256 differs from dtr.json chatTemplateSha256)',
    ]);
  });

  it('makes a manifest that hashes as the SDK does, and finds a truncated or missing copy', () => {
    const dir = exportedLayout();
    type Row = { path: string; bytes: number; sha256: string };
    const manifest = py<Row[]>(`print(json.dumps(es.folder_manifest(${JSON.stringify(dir)})))`);
    expect(manifest.map((r) => r.path)).toEqual([
      'dtr.json',
      'heads/exported-head.json',
      'model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
      'trees/exported-tree.json',
    ]);
    for (const row of manifest) expect(row.sha256).toBe(sha256File(join(dir, row.path)));
    const size = manifest.find((r) => r.path === 'model.onnx')!.bytes;
    writeFileSync(join(dir, 'model.onnx'), readFileSync(join(dir, 'model.onnx')).subarray(0, 100));
    rmSync(join(dir, 'tokenizer_config.json'));
    const problems = py<string[]>(
      `m = json.loads(${JSON.stringify(JSON.stringify(manifest))})\nprint(json.dumps(es.compare_manifests(m, es.folder_manifest(${JSON.stringify(dir)}))))`,
    );
    expect(problems).toEqual(['tokenizer_config.json: missing', `model.onnx: 100 bytes, expected ${size}`]);
  });

  it('compares rewards attribute by attribute, and refuses anything but the five', () => {
    const card = { helpfulness: 3.9603815, correctness: 3.9727726, coherence: 3.8582935, complexity: 0.9909791, verbosity: 1.4901903 };
    const got = { ...card, correctness: 3.9027726 };
    expect(
      py<string[]>(`print(json.dumps(es.check_rewards(${JSON.stringify(card)}, ${JSON.stringify(got)}, 0.05, "response 1")))`),
    ).toEqual(['response 1: correctness 3.9728 expected, 3.9028 got (difference 0.0700 > 0.05)']);
    expect(py<string[]>(`print(json.dumps(es.check_rewards(${JSON.stringify(card)}, [3.96, 3.97, 3.86, 0.99, 1.49], 0.05)))`)).toEqual([]);
    expect(py<number>(`print(json.dumps(round(es.max_difference(${JSON.stringify(card)}, ${JSON.stringify(got)}), 9)))`)).toBe(0.07);
    expect(pyError(`es.check_rewards(${JSON.stringify(card)}, [1, 2, 3], 0.05)`)).toBe(
      'ValueError: expected 5 rewards (helpfulness, correctness, coherence, complexity, verbosity), got 3',
    );
    expect(pyError(`es.check_rewards({"helpfulness": 1}, [1, 2, 3, 4, 5], 0.05)`)).toMatch(
      /^ValueError: rewards need exactly .*missing \['correctness'/,
    );
    expect(pyError(`es.check_rewards([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], float("nan"))`)).toBe(
      'ValueError: tolerance must be a finite number >= 0, got nan',
    );
  });

  it('reads what the exporter recorded in export.json, and says when --check did not run', () => {
    const dir = tempDir('dtr-export-json-');
    const rewards = [
      { helpfulness: 3.95, correctness: 3.97, coherence: 3.86, complexity: 0.99, verbosity: 1.49 },
      { helpfulness: 2.17, correctness: 2.2, coherence: 3.2, complexity: 0.88, verbosity: 1.46 },
    ];
    // The fields dtr_export.py writes: assemble()'s, plus run()'s report with export_check.run_check's result.
    const exportJson = {
      exporter: 'decision-tree-reward@0.1.0 notebooks/python/dtr_export.py',
      source: 'RLHFlow/Decision-Tree-Reward-Llama-3.1-8B',
      date: '2026-01-01T00:00:00Z',
      files: ['dtr.json', 'model.onnx', 'model.onnx_data'],
      outputs: ['rewards', 'pooled', 'logits'],
      dtype: 'fp16',
      opset: 17,
      hiddenSize: 4096,
      versions: { torch: '2.5.1', transformers: '4.45.2' },
      check: {
        ok: true,
        dtype: 'fp16',
        conversations: 7,
        worst: {
          rewards: { maxAbsDiff: 0.0123, limit: 0.05, finite: true, ok: true },
          pooled: { maxAbsDiff: 0.0456, limit: 0.06, finite: true, ok: true },
          logits: { maxAbsDiff: 0.0078, limit: 0.02, finite: true, ok: true },
        },
        cardRewards: rewards,
      },
    };
    writeFileSync(join(dir, 'export.json'), JSON.stringify(exportJson));
    expect(py<string[]>(`print(json.dumps(es.export_summary(${JSON.stringify(dir)})))`)).toEqual([
      'source: RLHFlow/Decision-Tree-Reward-Llama-3.1-8B',
      'weights: fp16, opset 17, hidden size 4096',
      'outputs: rewards, pooled, logits',
      'versions: torch 2.5.1, transformers 4.45.2',
      'check: passed (7 conversations, fp16, against transformers)',
      'check logits: max |onnxruntime - transformers| = 0.0078 (limit 0.02)',
      'check pooled: max |onnxruntime - transformers| = 0.0456 (limit 0.06)',
      'check rewards: max |onnxruntime - transformers| = 0.0123 (limit 0.05)',
      'card response 1: helpfulness 3.9500, correctness 3.9700, coherence 3.8600, complexity 0.9900, verbosity 1.4900',
      'card response 2: helpfulness 2.1700, correctness 2.2000, coherence 3.2000, complexity 0.8800, verbosity 1.4600',
    ]);
    expect(py<unknown>(`print(json.dumps(es.card_rewards(${JSON.stringify(dir)})))`)).toEqual(rewards);
    // Exports since --reference-dtype record the reference's dtype.
    writeFileSync(join(dir, 'export.json'), JSON.stringify({ ...exportJson, check: { ...exportJson.check, referenceDtype: 'bf16' } }));
    expect(py<string[]>(`print(json.dumps(es.export_summary(${JSON.stringify(dir)})))`)[4]).toBe(
      'check: passed (7 conversations, fp16, against transformers in bf16)',
    );
    const { check: _, ...unchecked } = exportJson;
    writeFileSync(join(dir, 'export.json'), JSON.stringify(unchecked));
    expect(py<string[]>(`print(json.dumps(es.export_summary(${JSON.stringify(dir)})))`).at(-1)).toBe(
      'check: not run (export with --check to compare onnxruntime with transformers)',
    );
    expect(pyError(`es.card_rewards(${JSON.stringify(dir)})`)).toMatch(
      /^ValueError: .*export\.json has no card rewards: export with --check \(and a head\)$/,
    );
  });

  it('writes the comparison files and a `dtr compare` command line that runs, reading the same texts', async () => {
    const { dir } = writeFixtureModel(tempDir('dtr-export-model-'));
    const files = join(tempDir('dtr-export-card-'), 'card-example');
    const prompt = 'Jane has 12 apples. She gives 4 to Mark, buys 1 more, and splits them among 3 people. How many does each get?';
    const [a, b] = ['Each person gets 3 apples.', 'Each person gets 4 apples.\nThat is 4.5 rounded down.'];
    const args = py<string[]>(
      `print(json.dumps(es.compare_command(${JSON.stringify(dir)}, ${JSON.stringify(files)}, ${JSON.stringify(prompt)}, ${JSON.stringify(a)}, ${JSON.stringify(b)})))`,
    );
    expect(args).toEqual([
      'compare',
      '--model',
      dir,
      '--self-check',
      '--prompt',
      `@${files}/prompt.txt`,
      '--a',
      `@${files}/a.txt`,
      '--b',
      `@${files}/b.txt`,
    ]);
    expect(readFileSync(join(files, 'b.txt'), 'utf8')).toBe(b);
    const fromFiles = await dtr([...args, '--json']);
    expect(fromFiles.code).toBe(0);
    const direct = await dtr(['compare', '--model', dir, '--prompt', prompt, '--a', a, '--b', b, '--json']);
    expect(direct.code).toBe(0);
    const rewardsOf = (stdout: string): unknown => (JSON.parse(stdout) as { rewards: unknown }).rewards;
    expect(rewardsOf(fromFiles.stdout)).toEqual(rewardsOf(direct.stdout));
  });

  it("uses only what the exporter (dtr_export.py) defines, and the exporter accepts the notebook's command line", () => {
    const out = join(tempDir('dtr-export-args-'), 'models', 'dtr-llama-3.1-8b');
    const result = py<{ missing: string[]; used: string[]; model: string; args: Record<string, unknown> }>(`
import ast
import dtr_export
nb = json.load(open(${JSON.stringify(notebook)}, encoding="utf-8"))
code = "\\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
tree = ast.parse(code)
used = sorted({n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "dtr_export"})
model = next(n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "MODEL")
call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "main")
argv = [e.value if isinstance(e, ast.Constant) else {"MODEL": model, "str(OUT)": ${JSON.stringify(out)}, "DTYPE": "fp16"}[ast.unparse(e)] for e in call.args[0].elts]
args = dtr_export.parse_args(argv)
print(json.dumps({"used": used, "missing": [u for u in used if not hasattr(dtr_export, u)], "model": model,
                  "args": {"model": args.model, "out": args.out, "check": args.check, "trust": args.trust_remote_code, "kind": args.kind, "preset": model in dtr_export.PRESETS}}))
`);
    expect(result.used).toEqual(['ATTRIBUTES', 'CARD_PROMPT', 'CARD_RESPONSES', 'CARD_REWARDS_LLAMA_8B', 'PRESETS', 'main']);
    expect(result.missing).toEqual([]);
    expect(result.args).toEqual({
      model: 'RLHFlow/Decision-Tree-Reward-Llama-3.1-8B',
      out,
      check: true,
      trust: true,
      kind: 'pooled',
      preset: true,
    });
  });

  it('the notebook imports only names the helpers define, and every code cell compiles', () => {
    const result = py<{ missing: string[]; imported: string[]; cells: number }>(`
import ast
nb = json.load(open(${JSON.stringify(notebook)}, encoding="utf-8"))
assert nb["metadata"]["kernelspec"]["name"] == "python3", nb["metadata"]["kernelspec"]
imported, cells = [], 0
for cell in nb["cells"]:
    if cell["cell_type"] != "code":
        continue
    cells += 1
    src = "".join(cell["source"])
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.ImportFrom) and node.module == "export_steps":
            imported += [a.name for a in node.names]
print(json.dumps({"imported": imported, "missing": [n for n in imported if not hasattr(es, n)], "cells": cells}))
`);
    expect(result.cells).toBeGreaterThan(5);
    expect(result.imported).toEqual([
      'card_rewards',
      'check_model_folder',
      'check_rewards',
      'compare_command',
      'export_summary',
      'folder_manifest',
      'max_difference',
    ]);
    expect(result.missing).toEqual([]);
  });
});
