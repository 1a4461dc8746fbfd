/**
 * The retraining loop end to end on the fixture backbone, through the command line:
 * dtr embed -> dtr fit-head --model -> the head in the model folder -> dtr compare --head, and
 * dtr train-tree --model with the new head; plus fit-head's checks against the model folder.
 */
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES, LinearHead, PreferenceTree, RewardModel } from '../src/index.js';
import { sha256File } from '../src/advanced.js';
import { readEmbeddingsFile } from '../src/safetensors.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const RESPONSES = fileURLToPath(new URL('./fixtures/helpsteer2-responses-80.jsonl', import.meta.url));
const PAIRS = fileURLToPath(new URL('./fixtures/helpsteer2-pairs-40.jsonl', import.meta.url));
const PROMPT =
  'Jane has 12 apples. She gives 4 apples to her friend Mark, then buys 1 more apple, and finally splits all her apples equally among herself and her 2 siblings. How many apples does each person get?';

let work: string;
beforeAll(() => {
  work = tempDir('dtr-loop-');
  writeFixtureModel(join(work, 'models/fixture'));
  copyFileSync(RESPONSES, join(work, 'responses.jsonl'));
  copyFileSync(PAIRS, join(work, 'pairs.jsonl'));
});

describe('the retraining loop on the fixture backbone', () => {
  it('embed -> fit-head --model -> compare --head -> train-tree --model', async () => {
    const run = async (argv: string[]): Promise<string> => {
      const r = await dtr(argv, { cwd: work });
      expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    await run(['embed', '--model', 'models/fixture', '--data', 'responses.jsonl', '--out', 'emb.safetensors']);
    const fitted = await run([
      'fit-head',
      '--embeddings',
      'emb.safetensors',
      '--model',
      'models/fixture',
      '--out',
      'models/fixture/heads/mine.json',
    ]);
    expect(fitted).toContain('fitted a ridge head on 80 rows x 32 (F32) from emb.safetensors');
    expect(fitted).toContain('wrote models/fixture/heads/mine.json (5 x 32, backbone dtr-fixture-last_hidden_state)');
    expect(fitted).toContain('use it: dtr compare --model models/fixture --head mine ... (or set "head" in models/fixture/dtr.json)');

    const head = LinearHead.load(join(work, 'models/fixture/heads/mine.json'));
    expect(head.backbone).toBe('dtr-fixture-last_hidden_state');
    expect(head.provenance.data).toEqual([
      { path: 'emb.safetensors', sha256: sha256File(join(work, 'emb.safetensors')), rows: 80, role: 'embeddings' },
      { path: 'models/fixture/dtr.json', sha256: sha256File(join(work, 'models/fixture/dtr.json')), role: 'model config' },
    ]);
    expect(head.provenance.command).toBe(
      'dtr fit-head --embeddings emb.safetensors --model models/fixture --out models/fixture/heads/mine.json',
    );

    // The refitted head scores: compare's rewards are the new head applied to the pooled state.
    const compared = JSON.parse(
      await run([
        'compare',
        '--model',
        'models/fixture',
        '--head',
        'mine',
        '--prompt',
        PROMPT,
        '--a',
        'Each person gets 3 apples.',
        '--b',
        'Each person gets 4.5 apples.',
        '--json',
      ]),
    );
    const model = await RewardModel.load({ dir: join(work, 'models/fixture'), head: null });
    try {
      const { embeddings } = await model.embedMany([{ prompt: PROMPT, response: 'Each person gets 3 apples.' }]);
      const want = head.apply(embeddings);
      for (const a of ATTRIBUTES) expect(compared.rewards.a[a]).toBeCloseTo(want[a], 10);
    } finally {
      await model.dispose();
    }
    // A head given by path works too, and without --head the folder (head.json + heads/) is ambiguous, as documented.
    await run(['score', '--model', 'models/fixture', '--head', 'models/fixture/heads/mine.json', '--prompt', 'Hi', '--response', 'Hello']);
    const ambiguous = await dtr(['score', '--model', 'models/fixture', '--prompt', 'Hi', '--response', 'Hello'], { cwd: work });
    expect(ambiguous.stderr).toContain("ambiguous: both head.json and heads/ (mine.json) exist; name the head in dtr.json 'head'");

    // A tree on text pairs scored with the new head, then used by compare.
    const trained = await run([
      'train-tree',
      '--model',
      'models/fixture',
      '--head',
      'mine',
      '--pairs',
      'pairs.jsonl',
      '--out',
      'trees/mine.json',
      '--max-depth',
      '2',
    ]);
    expect(trained).toContain(
      'scored with fixture-last_hidden_state (cpu, backbone dtr-fixture-last_hidden_state, head mine), cache .dtr-cache:',
    );
    expect(trained).toContain(
      'pairs.jsonl: 25 pairs (50 distinct conversations): 0 from the cache, 50 run through the backbone; 15 ties skipped; 0 truncated',
    );
    const tree = PreferenceTree.load(join(work, 'trees/mine.json'));
    expect(tree.provenance.data.find((d) => d.role === 'model head')).toEqual({
      path: 'models/fixture/heads/mine.json',
      sha256: sha256File(join(work, 'models/fixture/heads/mine.json')),
      role: 'model head',
    });
    const final = await run([
      'compare',
      '--model',
      'models/fixture',
      '--head',
      'mine',
      '--tree',
      'trees/mine.json',
      '--prompt',
      PROMPT,
      '--a',
      'Each person gets 3 apples.',
      '--b',
      'Each person gets 4.5 apples.',
    ]);
    expect(final).toContain('tree: mine (fitted by dtr train-tree)');
  });
});

describe('dtr fit-head --model checks the embeddings against the model folder first', () => {
  it('a hidden size that does not match is E_SHAPE stating both sizes, and nothing is written', async () => {
    const dir = tempDir();
    writeFixtureModel(join(dir, 'wide'), { hiddenSize: 48 });
    writeFixtureModel(join(dir, 'narrow'));
    expect((await dtr(['embed', '--model', 'wide', '--data', RESPONSES, '--out', 'wide.safetensors'], { cwd: dir })).code).toBe(0);
    expect(readEmbeddingsFile(join(dir, 'wide.safetensors')).hiddenSize).toBe(48);
    const r = await dtr(
      ['fit-head', '--embeddings', 'wide.safetensors', '--model', 'narrow', '--out', 'narrow/heads/mine.json', '--verbose'],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('E_SHAPE');
    expect(r.stderr).toContain(
      "wide.safetensors holds hidden states of size 48 but narrow's backbone (dtr-fixture-last_hidden_state) gives 32 (dtr.json backbone.hiddenSize)",
    );
    expect(r.stderr).toContain('hint: make the embeddings with this model: dtr embed --model narrow');
    expect(existsSync(join(dir, 'narrow/heads'))).toBe(false);
  });

  it('embeddings of another backbone (same size) are refused (E_MODEL); so are a fused-head model and a conflicting --backbone', async () => {
    const dir = tempDir();
    writeFixtureModel(join(dir, 'pooled'), { kind: 'pooled' });
    writeFixtureModel(join(dir, 'plain'));
    writeFixtureModel(join(dir, 'fused'), { kind: 'rewards' });
    expect((await dtr(['embed', '--model', 'pooled', '--data', RESPONSES, '--out', 'p.safetensors'], { cwd: dir })).code).toBe(0);
    const other = await dtr(['fit-head', '--embeddings', 'p.safetensors', '--model', 'plain', '--out', 'h.json'], { cwd: dir });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(
      "p.safetensors was made with backbone 'dtr-fixture-pooled' but plain's backbone is 'dtr-fixture-last_hidden_state'",
    );
    const fused = await dtr(['fit-head', '--embeddings', 'p.safetensors', '--model', 'fused', '--out', 'h.json'], { cwd: dir });
    expect(fused.stderr).toContain("fused: backbone.kind is 'rewards' (head fused in the graph), so a fitted head cannot be used with it");
    const conflict = await dtr(['fit-head', '--embeddings', 'p.safetensors', '--model', 'pooled', '--backbone', 'x', '--out', 'h.json'], {
      cwd: dir,
    });
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain("--backbone 'x' is not the backbone of --model pooled ('dtr-fixture-pooled')");
    const missing = await dtr(['fit-head', '--embeddings', 'p.safetensors', '--model', 'nowhere', '--out', 'h.json'], { cwd: dir });
    expect(missing.stderr).toContain('nowhere is not a model folder: it has no dtr.json');
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toEqual([]);
    // The matching folder fits, and the head loads into it.
    expect(
      (
        await dtr(['fit-head', '--embeddings', 'p.safetensors', '--model', 'pooled', '--out', 'pooled/heads/refit.json', '--folds', '4'], {
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    const m = await RewardModel.load({ dir: join(dir, 'pooled'), head: 'refit' });
    try {
      expect(m.head!.name).toBe('refit');
    } finally {
      await m.dispose();
    }
  });
});
