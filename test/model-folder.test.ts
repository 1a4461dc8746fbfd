/** Model folders: every missing or inconsistent piece is listed at once, with where it is. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DtrError } from '../src/errors.js';
import { LinearHead } from '../src/head/head.js';
import { validateModelConfig } from '../src/model/config.js';
import { inspectModelFolder } from '../src/model/folder.js';
import { RewardModel } from '../src/model/reward-model.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { dtr } from './support/cli.js';
import { tempDir } from './support/temp.js';

const editJson = (path: string, edit: (j: Record<string, any>) => void): void => {
  const j = JSON.parse(readFileSync(path, 'utf8'));
  edit(j);
  writeFileSync(path, JSON.stringify(j));
};

const loadError = async (dir: string): Promise<DtrError> => {
  const e = await RewardModel.load(dir).then(
    () => {
      throw new Error('expected the load to fail');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DtrError);
  return e as DtrError;
};

describe('model folders', () => {
  it('a complete fixture folder passes inspection', () => {
    const { dir } = writeFixtureModel(tempDir());
    const r = inspectModelFolder(dir);
    expect(r.success).toBe(true);
  });

  it('missing files are all listed at once (E_MODEL)', async () => {
    const { dir } = writeFixtureModel(tempDir());
    rmSync(join(dir, 'tokenizer.json'));
    rmSync(join(dir, 'head.json'));
    rmSync(join(dir, 'model.onnx'));
    const e = await loadError(dir);
    expect(e.code).toBe('E_MODEL');
    expect(e.issues.map((i) => i.path).sort()).toEqual(['head.json', 'model.onnx', 'tokenizer.json']);
    expect(e.message).toMatch(/is not a usable model folder \(3 problems\)/);
    expect(e.issues.find((i) => i.path === 'head.json')!.message).toMatch(/missing: put the linear head in head.json or heads\//);
  });

  it('the template and the ONNX graph are checked in the same pass as missing files', async () => {
    const { dir } = writeFixtureModel(tempDir(), { template: 'bundled' });
    rmSync(join(dir, 'head.json'));
    editJson(join(dir, 'dtr.json'), (j) => (j.backbone.output = 'nope'));
    const e = await loadError(dir);
    expect(e.issues.map((i) => i.path).sort()).toEqual(['dtr.json: backbone.output', 'head.json', 'tokenizer_config.json: chat_template']);
  });

  it('a folder without dtr.json says what is missing', async () => {
    const { dir } = writeFixtureModel(tempDir());
    rmSync(join(dir, 'dtr.json'));
    const e = await loadError(dir);
    expect(e.issues).toContainEqual({ path: 'dtr.json', message: 'missing: every model folder needs a dtr.json (see docs/runtime.md)' });
  });

  it('dtr.json problems come with their JSON paths, together with the other pieces', async () => {
    const { dir } = writeFixtureModel(tempDir());
    editJson(join(dir, 'dtr.json'), (j) => {
      j.backbone.kind = 'hidden';
      j.maxLenght = 100;
      j.tree = 'no-such-tree';
    });
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"broken": ');
    const e = await loadError(dir);
    const paths = e.issues.map((i) => i.path);
    expect(paths).toContain('dtr.json: backbone.kind');
    expect(paths).toContain('dtr.json: (root)'); // unknown key maxLenght
    expect(e.issues.find((i) => i.path === 'dtr.json: (root)')!.message).toMatch(/maxLenght/);
    expect(paths).toContain('tokenizer_config.json');
  });

  it('validateModelConfig: required hidden size, fused head, attribute order', () => {
    const base = {
      format: 'decision-tree-reward/model',
      version: 1,
      name: 'm',
      tree: 't',
      backbone: { id: 'x', kind: 'pooled', output: 'pooled' },
    };
    const r1 = validateModelConfig(base);
    expect(r1.success).toBe(false);
    if (!r1.success)
      expect(r1.issues).toContainEqual({
        path: 'backbone.hiddenSize',
        message: "required when backbone.kind is 'pooled' (the width of the pooled state, e.g. 4096 for Llama-3.1-8B)",
      });
    const r2 = validateModelConfig({
      ...base,
      head: 'h',
      backbone: { id: 'x', kind: 'rewards', output: 'r', attributes: ['helpfulness', 'helpfulness', 'coherence', 'complexity', 'nope'] },
    });
    expect(r2.success).toBe(false);
    if (!r2.success) {
      const msgs = r2.issues.map((i) => `${i.path}: ${i.message}`);
      expect(msgs).toContain("head: backbone.kind 'rewards' already outputs the five rewards (head fused in the graph): remove 'head'");
      expect(msgs).toContain(
        'backbone.attributes[4]: unknown attribute "nope": expected helpfulness, correctness, coherence, complexity, verbosity',
      );
      expect(msgs).toContain("backbone.attributes: missing attribute 'correctness'");
    }
    const ok = validateModelConfig({ ...base, backbone: { ...base.backbone, hiddenSize: 8 } });
    expect(ok.success).toBe(true);
    if (ok.success)
      expect(ok.config).toMatchObject({
        maxLength: 4096,
        paddingSide: 'right',
        provider: 'auto',
        batchSize: 8,
        backbone: { file: 'model.onnx', inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: null } },
      });
  });

  it('a head whose hidden size differs from the backbone is E_SHAPE stating both sizes', async () => {
    const { dir } = writeFixtureModel(tempDir());
    const other = writeFixtureModel(tempDir(), { hiddenSize: 16 });
    copyFileSync(join(other.dir, 'head.json'), join(dir, 'head.json'));
    const e = await loadError(dir);
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toMatch(/head 'fixture-head' expects hidden size 16 but dtr.json backbone.hiddenSize is 32/);
  });

  it('the same mismatch against the ONNX output itself (dtr.json agreeing with the head) is E_SHAPE too', async () => {
    const { dir } = writeFixtureModel(tempDir());
    const other = writeFixtureModel(tempDir(), { hiddenSize: 16 });
    copyFileSync(join(other.dir, 'head.json'), join(dir, 'head.json'));
    editJson(join(dir, 'dtr.json'), (j) => (j.backbone.hiddenSize = 16));
    const e = await loadError(dir);
    expect(e.code).toBe('E_SHAPE');
    expect(e.message).toMatch(/head 'fixture-head' expects hidden size 16 but backbone output 'last_hidden_state' gives 32/);
  });

  it('an ONNX graph whose inputs/outputs do not match dtr.json lists what the graph has', async () => {
    const { dir } = writeFixtureModel(tempDir());
    editJson(join(dir, 'dtr.json'), (j) => {
      j.backbone.output = 'hidden_states';
      j.backbone.inputs = { inputIds: 'ids', attentionMask: 'attention_mask', positionIds: null };
    });
    const e = await loadError(dir);
    expect(e.code).toBe('E_MODEL');
    const text = e.issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    const has = 'the graph has inputs [input_ids, attention_mask, position_ids] and outputs [last_hidden_state, logits]';
    expect(text).toContain(`dtr.json: backbone.inputs.inputIds: 'ids' is not an input of model.onnx: ${has}`);
    expect(text).toContain(`dtr.json: backbone.output: 'hidden_states' is not an output of model.onnx: ${has}`);
    expect(text).toContain("model.onnx needs input 'position_ids', which dtr.json does not map");
  });

  it('a kind that does not fit the output rank is reported', async () => {
    const { dir } = writeFixtureModel(tempDir());
    editJson(join(dir, 'dtr.json'), (j) => (j.backbone.kind = 'pooled'));
    const e = await loadError(dir);
    expect(e.issues.map((i) => i.message)).toContain(
      "'pooled' expects a rank-2 output but 'last_hidden_state' has shape [batch, tokens, 32]",
    );
  });

  it('a corrupt ONNX file is E_BACKBONE; with other problems it joins the list', async () => {
    const { dir } = writeFixtureModel(tempDir());
    writeFileSync(join(dir, 'model.onnx'), Buffer.from([0x08, 0x07, 0xff, 0xff, 0x12]));
    const e = await loadError(dir);
    expect(e.code).toBe('E_BACKBONE');
    expect(e.hint).toMatch(/not a valid ONNX model/);
    rmSync(join(dir, 'tokenizer.json'));
    const e2 = await loadError(dir);
    expect(e2.code).toBe('E_MODEL');
    expect(e2.issues.map((i) => i.path).sort()).toEqual(['model.onnx', 'tokenizer.json']);
  });

  it("a template that appends a generation prompt regardless (the package's bundled Llama-3.0 one) is refused", async () => {
    const { dir } = writeFixtureModel(tempDir(), { template: 'bundled' });
    const e = await loadError(dir);
    expect(e.issues[0]!.path).toBe('tokenizer_config.json: chat_template');
    expect(e.issues[0]!.message).toMatch(/appends a new assistant header after the response even without add_generation_prompt/);
    // A dtr.json chatTemplate (or a load option) fixes it.
    const m = await RewardModel.load({
      dir,
      chatTemplate:
        "{% for m in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' + m['content'] | trim + '<|eot_id|>' }}{% endfor %}",
    });
    expect(Array.from(m.encode('Hello', 'Hi there').ids).at(-1)).toBe(128009);
    await m.dispose();
  });

  it('ambiguous or misplaced heads are reported', async () => {
    const { dir } = writeFixtureModel(tempDir());
    mkdirSync(join(dir, 'heads'));
    copyFileSync(join(dir, 'head.json'), join(dir, 'heads', 'a.json'));
    let e = await loadError(dir);
    expect(e.issues[0]!.message).toMatch(/ambiguous: both head.json and heads\/ \(a.json\) exist/);
    // Naming it resolves the ambiguity; a name under heads/ works.
    editJson(join(dir, 'dtr.json'), (j) => (j.head = 'a'));
    const m = await RewardModel.load(dir);
    expect(m.head!.name).toBe('fixture-head');
    await m.dispose();
    // A fused-head backbone with a head.json beside it.
    const fused = writeFixtureModel(tempDir(), { kind: 'rewards' });
    copyFileSync(join(dir, 'head.json'), join(fused.dir, 'head.json'));
    e = await loadError(fused.dir);
    expect(e.issues[0]!.message).toMatch(/backbone.kind 'rewards' fuses the head in the graph/);
  });

  it('a head fitted on another backbone id loads with a warning naming both ids (not an error: a backbone may be renamed)', async () => {
    const { dir } = writeFixtureModel(tempDir());
    mkdirSync(join(dir, 'heads'));
    const other = JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8'));
    other.name = 'other';
    other.backbone = 'Skywork/Skywork-Reward-Llama-3.1-8B-v0.2';
    writeFileSync(join(dir, 'heads', 'other.json'), JSON.stringify(other));
    const warnings: string[] = [];
    const expected =
      "head 'other' (heads/other.json) was fitted on backbone 'Skywork/Skywork-Reward-Llama-3.1-8B-v0.2' but this model's backbone is 'dtr-fixture-last_hidden_state' (dtr.json backbone.id)";
    const m = await RewardModel.load({ dir, head: 'other', onWarning: (w) => warnings.push(w) });
    try {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(expected);
      expect(warnings[0]).toContain("set the head's \"backbone\" to 'dtr-fixture-last_hidden_state'");
      expect(m.warnings).toEqual(warnings);
      expect(m.head!.name).toBe('other'); // used: scores as its weights say
    } finally {
      await m.dispose();
    }
    // A head object with another id is checked the same way; the folder's own head (same id) is silent.
    const objectWarnings: string[] = [];
    const m2 = await RewardModel.load({
      dir,
      head: LinearHead.fromJSON({ ...other, name: 'obj', backbone: 'elsewhere' }),
      onWarning: (w) => objectWarnings.push(w),
    });
    await m2.dispose();
    expect(objectWarnings).toEqual([
      expect.stringMatching(/^head 'obj' was fitted on backbone 'elsewhere' but this model's backbone is 'dtr-fixture-last_hidden_state'/),
    ]);
    const own: string[] = [];
    const m3 = await RewardModel.load({ dir, head: 'head.json', onWarning: (w) => own.push(w) });
    await m3.dispose();
    expect(own).toEqual([]);
    // The CLI says it on stderr and still scores.
    const r = await dtr(['score', '--model', dir, '--head', 'other', '--prompt', 'Hello', '--response', 'Hi there']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`dtr score: warning: ${expected}`);
  });

  it('no such folder, or a file instead of a folder, is E_NOT_FOUND', async () => {
    const dir = tempDir();
    expect((await loadError(join(dir, 'nope'))).code).toBe('E_NOT_FOUND');
    writeFileSync(join(dir, 'file'), 'x');
    expect((await loadError(join(dir, 'file'))).message).toMatch(/not a folder/);
  });

  it('a tree file in the folder can be named by path; a bad one lists its issues', async () => {
    const { dir } = writeFixtureModel(tempDir());
    mkdirSync(join(dir, 'trees'));
    writeFileSync(join(dir, 'trees', 'mine.json'), JSON.stringify({ format: 'decision-tree-reward/tree', version: 1 }));
    editJson(join(dir, 'dtr.json'), (j) => (j.tree = 'mine'));
    const e = await loadError(dir);
    expect(e.issues.every((i) => i.path.startsWith('trees/mine.json: '))).toBe(true);
    expect(e.issues.length).toBeGreaterThan(3);
  });
});

describe('scripts/make-fixture-model.ts', () => {
  it('writes the fixture folder the tests use, with its command line in the provenance of dtr.json and head.json', () => {
    const work = tempDir();
    const script = fileURLToPath(new URL('../scripts/make-fixture-model.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), script, 'models/fixture', '--seed', '3'], {
      cwd: work,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const command = 'npx tsx scripts/make-fixture-model.ts models/fixture --seed 3';
    const config = JSON.parse(readFileSync(join(work, 'models/fixture/dtr.json'), 'utf8'));
    expect(config.provenance.command).toBe(command);
    expect(JSON.parse(readFileSync(join(work, 'models/fixture/head.json'), 'utf8')).provenance.command).toBe(command);
    // Otherwise the very folder the tests write (which records no command: a test wrote it).
    const same = writeFixtureModel(tempDir(), { seed: 3 });
    expect(readFileSync(join(work, 'models/fixture/model.onnx'))).toEqual(readFileSync(join(same.dir, 'model.onnx')));
    expect({ ...config, provenance: { ...config.provenance, command: null } }).toEqual(
      JSON.parse(readFileSync(join(same.dir, 'dtr.json'), 'utf8')),
    );
  });

  it('replaces a fixture folder it wrote, with what was added to it, and refuses any other folder or a file', () => {
    const work = tempDir();
    const script = fileURLToPath(new URL('../scripts/make-fixture-model.ts', import.meta.url));
    const make = (out: string) =>
      spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), script, out], { cwd: work, encoding: 'utf8' });
    expect(make('models/fixture').stdout).toBe(
      'wrote a last_hidden_state fixture model (hidden 32, seed 7, provider cpu) to models/fixture\n',
    );
    // What docs/building.md's loop adds to a folder: a second head makes loading it ambiguous.
    mkdirSync(join(work, 'models/fixture/heads'));
    writeFileSync(join(work, 'models/fixture/heads/mine.json'), '{}');
    const again = make('models/fixture');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe(
      'wrote a last_hidden_state fixture model (hidden 32, seed 7, provider cpu) to models/fixture (replacing the fixture model there, and what had been added to it: heads/mine.json)\n',
    );
    expect(readdirSync(join(work, 'models/fixture')).sort()).toEqual([
      'dtr.json',
      'head.json',
      'model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(readdirSync(join(work, 'models')).sort()).toEqual(['fixture']); // nothing left beside it
    mkdirSync(join(work, 'models/real'));
    writeFileSync(join(work, 'models/real/dtr.json'), JSON.stringify({ name: 'mine', provenance: { source: 'dtr_export.py' } }));
    const real = make('models/real');
    expect(real.status).toBe(2);
    expect(real.stderr).toBe(
      "make-fixture-model: models/real is not empty and is not a fixture model folder written by this script (its dtr.json does not say 'test fixture'): refusing to replace it; give a new or empty folder\n",
    );
    expect(readdirSync(join(work, 'models/real'))).toEqual(['dtr.json']);
    writeFileSync(join(work, 'models/file'), 'x');
    expect(make('models/file').stderr).toBe('make-fixture-model: models/file is a file, not a folder: give a new or empty folder\n');
    mkdirSync(join(work, 'models/empty'));
    expect(make('models/empty').status).toBe(0);
  });
});

describe('external data (models over 2 GB)', () => {
  it('model.onnx with its weights in model.onnx_data loads by path and scores as the single-file model', async () => {
    const single = writeFixtureModel(tempDir());
    const split = writeFixtureModel(tempDir(), { externalData: true });
    expect(readFileSync(join(split.dir, 'model.onnx')).length).toBeLessThan(20_000); // the weights are not inside
    expect(readFileSync(join(split.dir, 'model.onnx_data')).length).toBeGreaterThan(100_000);
    const [a, b] = await Promise.all([RewardModel.load(single.dir), RewardModel.load(split.dir)]);
    try {
      expect((await b.score('Hello', 'Hi there')).rewards).toEqual((await a.score('Hello', 'Hi there')).rewards);
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it('a missing external data file is a clear E_BACKBONE error', async () => {
    const split = writeFixtureModel(tempDir(), { externalData: true });
    rmSync(join(split.dir, 'model.onnx_data'));
    const e = await loadError(split.dir);
    expect(e.code).toBe('E_BACKBONE');
    expect(e.message).toMatch(/model\.onnx_data/);
    expect(e.hint).toMatch(/external data file \(model\.onnx_data\) sits beside it/);
  });
});
