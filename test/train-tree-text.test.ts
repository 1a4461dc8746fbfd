/**
 * dtr train-tree --model: text pairs in the three published layouts, scored with the fixture
 * model through the on-disk reward cache, then fitted exactly as attribute pairs are.
 */
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES, PreferenceTree, readEvalSet, RewardModel, scoreTextPairs } from '../src/index.js';
import {
  createOrtBackbone,
  modelIdentity,
  RewardCache,
  scoreWithCache,
  sha256File,
  type Backbone,
  type BackboneBinding,
} from '../src/advanced.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const PAIRS = fileURLToPath(new URL('./fixtures/helpsteer2-pairs-40.jsonl', import.meta.url));
const AGAINST = fileURLToPath(new URL('./fixtures/eval/rewardbench-sample.jsonl', import.meta.url));

let work: string;
let modelDir: string;
beforeAll(() => {
  work = tempDir('dtr-train-text-');
  modelDir = join(work, 'model');
  writeFixtureModel(modelDir);
  copyFileSync(PAIRS, join(work, 'pairs.jsonl'));
});

/** The fixture pairs file rewritten in another layout (ties where the layout has them). */
function layout(kind: 'chosen-rejected' | 'helpsteer2-preference'): string {
  const rows = readFileSync(PAIRS, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; prompt: string; a: string; b: string; label: string });
  const out = rows.flatMap((r): Array<Record<string, unknown>> => {
    if (kind === 'chosen-rejected') {
      if (r.label === 'tie') return [];
      return [{ prompt: r.prompt, chosen: r.label === 'a' ? r.a : r.b, rejected: r.label === 'a' ? r.b : r.a }];
    }
    return [{ prompt: r.prompt, response_1: r.a, response_2: r.b, preference_strength: r.label === 'a' ? -2 : r.label === 'b' ? 1 : 0 }];
  });
  return out.map((x) => JSON.stringify(x)).join('\n');
}

/** A backbone that counts its forward passes (onnxruntime underneath). */
async function countingModel(dir: string): Promise<{ model: RewardModel; runs: () => number }> {
  let runs = 0;
  const model = await RewardModel.load({
    dir,
    backbone: async (binding: BackboneBinding): Promise<Backbone> => {
      const inner = await createOrtBackbone(join(dir, 'model.onnx'), { provider: 'cpu', binding });
      return {
        inputs: inner.inputs,
        outputs: inner.outputs,
        provider: inner.provider,
        run: (batch) => {
          runs++;
          return inner.run(batch);
        },
        release: () => inner.release(),
      };
    },
  });
  return { model, runs: () => runs };
}

describe('dtr train-tree --model', () => {
  it('scores {prompt, a, b, label} text pairs, skips ties, fits, and records the data, the model and the command', async () => {
    const r = await dtr(['train-tree', '--model', 'model', '--pairs', 'pairs.jsonl', '--out', 'tree.json', '--cache', 'cache1'], {
      cwd: work,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'scored with fixture-last_hidden_state (cpu, backbone dtr-fixture-last_hidden_state, head fixture-head), cache cache1:',
    );
    expect(r.stdout).toContain(
      '  pairs.jsonl: 25 pairs (50 distinct conversations): 0 from the cache, 50 run through the backbone; 15 ties skipped; 0 truncated',
    );
    expect(r.stdout).toMatch(/fitted tree: log_loss, max depth 3, \d+ leaves, on 25 pairs/);
    const tieLines = readFileSync(PAIRS, 'utf8')
      .trim()
      .split('\n')
      .flatMap((l, i) => (JSON.parse(l).label === 'tie' ? [i + 1] : []));
    expect(tieLines.length).toBe(15);
    expect(r.stderr).toContain(
      `dtr train-tree: warning: pairs.jsonl: 15 pairs rated equal (tie) skipped: no response is preferred (lines ${tieLines.slice(0, 10).join(', ')}, …)`,
    );
    expect(r.stderr).toMatch(/scoring pairs\.jsonl \[#+\] 50\/50 conversations 100%/);
    const tree = PreferenceTree.load(join(work, 'tree.json'));
    const model = await RewardModel.load(modelDir);
    try {
      const identity = modelIdentity(model).rewards;
      expect(tree.provenance.data).toEqual([
        { path: 'pairs.jsonl', sha256: sha256File(PAIRS), rows: 25, role: 'train' },
        { path: 'model', sha256: identity, role: 'model (content identity: backbone files, tokenizer, chat template, maxLength, head)' },
        { path: 'model/dtr.json', sha256: sha256File(join(modelDir, 'dtr.json')), role: 'model config' },
        { path: 'model/head.json', sha256: sha256File(join(modelDir, 'head.json')), role: 'model head' },
      ]);
      expect(tree.provenance.command).toBe('dtr train-tree --model model --pairs pairs.jsonl --out tree.json --cache cache1');
      expect(tree.provenance.notes).toContain(
        `identity sha256 ${identity} over model.onnx, tokenizer.json, tokenizer_config.json, chat template, maxLength 512, head`,
      );
      expect(tree.provenance.notes).toContain('pairs.jsonl: 25 pairs scored, 15 ties skipped, 0 truncated');

      // Exactly attribute-pair training: the same tree as train-tree on the rewards written out as attribute pairs.
      const set = readEvalSet(PAIRS);
      const labelled = set.items.filter((i) => i.label !== 'tie');
      const scored = await model.compareMany(labelled.map((i) => ({ prompt: i.prompt!, a: i.a as string, b: i.b as string })));
      writeFileSync(
        join(work, 'attribute-pairs.jsonl'),
        scored.map((s, k) => JSON.stringify({ a: s.rewards.a, b: s.rewards.b, label: labelled[k]!.label })).join('\n'),
      );
      expect(
        (await dtr(['train-tree', '--pairs', 'attribute-pairs.jsonl', '--out', 'tree-attr.json', '--name', 'tree'], { cwd: work })).code,
      ).toBe(0);
      const attr = PreferenceTree.load(join(work, 'tree-attr.json')).toJSON();
      expect(tree.toJSON().nodes).toEqual(attr.nodes);
      expect(tree.toJSON().importances).toEqual(attr.importances);
    } finally {
      await model.dispose();
    }
  });

  it('a second run with other tree parameters reads every reward from the cache (no backbone run) and gives the same rewards', async () => {
    const first = await dtr(
      ['train-tree', '--model', 'model', '--pairs', 'pairs.jsonl', '--out', 'a.json', '--cache', 'cache2', '--json'],
      { cwd: work },
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).scoring.train).toMatchObject({
      pairs: 25,
      ties: 15,
      conversations: 50,
      distinct: 50,
      cacheHits: 0,
      computed: 50,
      truncatedPairs: 0,
    });
    const second = await dtr(
      [
        'train-tree',
        '--model',
        'model',
        '--pairs',
        'pairs.jsonl',
        '--out',
        'b.json',
        '--cache',
        'cache2',
        '--max-depth',
        '2',
        '--criterion',
        'gini',
        '--json',
      ],
      { cwd: work },
    );
    expect(second.code).toBe(0);
    const doc = JSON.parse(second.stdout);
    expect(doc.scoring.train).toMatchObject({ cacheHits: 50, computed: 0 });
    expect(doc.scoring.cache).toMatchObject({ dir: 'cache2', entries: 50 });
    expect(doc.tree.params.maxDepth).toBe(2);
    expect(second.stderr).not.toMatch(/scoring pairs\.jsonl \[/); // no backbone progress: nothing ran
    // Cached rewards are bit-identical: the same parameters give the same tree with or without the cache.
    const cached = await dtr(
      ['train-tree', '--model', 'model', '--pairs', 'pairs.jsonl', '--out', 'c.json', '--cache', 'cache2', '--name', 'a'],
      { cwd: work },
    );
    const fresh = await dtr(['train-tree', '--model', 'model', '--pairs', 'pairs.jsonl', '--out', 'd.json', '--no-cache', '--name', 'a'], {
      cwd: work,
    });
    expect(fresh.stdout).toContain('cache off:');
    expect(fresh.stdout).toContain('0 from the cache, 50 run through the backbone');
    expect(cached.stdout).toContain('50 from the cache, 0 run through the backbone');
    expect(PreferenceTree.load(join(work, 'c.json')).toJSON().nodes).toEqual(PreferenceTree.load(join(work, 'd.json')).toJSON().nodes);
    expect(PreferenceTree.load(join(work, 'c.json')).toJSON().nodes).toEqual(PreferenceTree.load(join(work, 'a.json')).toJSON().nodes);
  });

  it('reads RewardBench-style {prompt, chosen, rejected} (no subset or id needed, trained on both orders) and HelpSteer2-Preference rows', async () => {
    writeFileSync(join(work, 'chosen.jsonl'), layout('chosen-rejected'));
    writeFileSync(join(work, 'hs2p.jsonl'), layout('helpsteer2-preference'));
    const cr = await dtr(['train-tree', '--model', 'model', '--pairs', 'chosen.jsonl', '--out', 'cr.json', '--cache', 'cache3', '--json'], {
      cwd: work,
    });
    expect(cr.code, cr.stderr).toBe(0);
    expect(JSON.parse(cr.stdout).scoring.train).toMatchObject({ pairs: 25, ties: 0, cacheHits: 0, computed: 50 });
    const hs = await dtr(['train-tree', '--model', 'model', '--pairs', 'hs2p.jsonl', '--out', 'hs.json', '--cache', 'cache3', '--json'], {
      cwd: work,
    });
    expect(hs.code, hs.stderr).toBe(0);
    // The same conversations in another layout: all from the cache (content keys, not files).
    expect(JSON.parse(hs.stdout).scoring.train).toMatchObject({ pairs: 25, ties: 15, cacheHits: 50, computed: 0 });
    expect(hs.stderr).toContain('15 pairs rated equal (tie) skipped');
    // chosen is always a, so alone every label would be a (one class, a single leaf): the pairs are
    // trained in both orders, automatically, and that is said and recorded.
    const doc = JSON.parse(cr.stdout);
    const note =
      'chosen.jsonl holds {prompt, chosen, rejected} rows, whose labels are all a (chosen first): trained on each pair and its mirror (b, a) with the label flipped (automatic swap augmentation, as --augment-swaps; 25 pairs -> 50 rows)';
    expect(cr.stderr).toContain(`dtr train-tree: note: ${note}`);
    expect(cr.stderr).not.toMatch(/only one class/);
    expect(doc.warnings).toEqual([]);
    expect(doc.augmentSwaps).toEqual({ applied: true, automatic: true });
    expect(doc.n.train).toBe(50);
    expect(doc.tree.provenance.notes).toContain(note);
    const tree = PreferenceTree.load(join(work, 'cr.json'));
    expect(tree.leaves().length).toBeGreaterThan(1);
    expect(new Set(tree.leaves().map((leaf) => (tree.toJSON().nodes[leaf]!.value[1]! > 0.5 ? 'a' : 'b')))).toEqual(new Set(['a', 'b'])); // both classes at the leaves
    // Exactly --augment-swaps: the same tree; given explicitly, it is not called automatic.
    const explicit = await dtr(
      [
        'train-tree',
        '--model',
        'model',
        '--pairs',
        'chosen.jsonl',
        '--out',
        'cr2.json',
        '--cache',
        'cache3',
        '--augment-swaps',
        '--name',
        'cr',
        '--json',
      ],
      { cwd: work },
    );
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(JSON.parse(explicit.stdout).augmentSwaps).toEqual({ applied: true, automatic: false });
    expect(explicit.stderr).not.toContain('automatic swap augmentation');
    expect(PreferenceTree.load(join(work, 'cr2.json')).toJSON().nodes).toEqual(tree.toJSON().nodes);
    // The text report says it too.
    const text = await dtr(['train-tree', '--model', 'model', '--pairs', 'chosen.jsonl', '--out', 'cr3.json', '--cache', 'cache3'], {
      cwd: work,
    });
    expect(text.stdout).toContain(
      'swap augmentation: chosen/rejected rows (every label a), so each pair was also trained mirrored (b, a): 25 pairs -> 50 rows',
    );
    // HelpSteer2-Preference and {prompt, a, b, label} carry real labels (either side): kept as given.
    expect(JSON.parse(hs.stdout).augmentSwaps).toEqual({ applied: false, automatic: false });
    expect(JSON.parse(hs.stdout).n.train).toBe(25);
  });

  it('validation text pairs, --val-fraction, --bootstrap, --augment-swaps and --against work as for attribute pairs', async () => {
    writeFileSync(join(work, 'train.jsonl'), readFileSync(PAIRS, 'utf8').trim().split('\n').slice(0, 28).join('\n'));
    writeFileSync(join(work, 'val.jsonl'), readFileSync(PAIRS, 'utf8').trim().split('\n').slice(28).join('\n'));
    const r = await dtr(
      [
        'train-tree',
        '--model',
        'model',
        '--pairs',
        'train.jsonl',
        '--val',
        'val.jsonl',
        '--out',
        'v.json',
        '--bootstrap',
        '5',
        '--augment-swaps',
        '--cache',
        'cache4',
        '--json',
      ],
      { cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.n.train).toBe(2 * doc.scoring.train.pairs);
    expect(doc.n.validation).toBe(doc.scoring.validation.pairs);
    expect(doc.scoring.train.pairs + doc.scoring.train.ties).toBe(28);
    expect(doc.scoring.validation.pairs + doc.scoring.validation.ties).toBe(12);
    expect(doc.bootstrap.refits).toBe(5);
    expect(doc.tree.provenance.data.map((d: { role: string }) => d.role)).toEqual([
      'train',
      'validation',
      'model (content identity: backbone files, tokenizer, chat template, maxLength, head)',
      'model config',
      'model head',
    ]);
    const frac = await dtr(
      [
        'train-tree',
        '--model',
        'model',
        '--pairs',
        'pairs.jsonl',
        '--out',
        'f.json',
        '--val-fraction',
        '0.2',
        '--cache',
        'cache4',
        '--against',
        AGAINST,
        '--json',
      ],
      { cwd: work },
    );
    expect(frac.code, frac.stderr).toBe(0);
    const fdoc = JSON.parse(frac.stdout);
    expect(fdoc.n).toEqual({ train: 20, validation: 5 });
    expect(fdoc.contamination).toMatchObject({ ngram: 13, checked: 40, contaminated: 0 });
  });

  it('counts and reports truncated conversations', async () => {
    const r = await dtr(
      ['train-tree', '--model', 'model', '--pairs', 'pairs.jsonl', '--out', 't.json', '--max-length', '96', '--cache', 'cache5', '--json'],
      { cwd: work },
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).scoring;
    expect(s.model.maxLength).toBe(96);
    expect(s.train.truncatedPairs).toBeGreaterThan(0);
    expect(r.stderr).toContain(
      `pairs.jsonl: ${s.train.truncatedPairs} of 25 pairs had a conversation truncated to 96 tokens (lines ${s.train.truncatedLines.slice(0, 10).join(', ')}`,
    );
    expect(JSON.parse(r.stdout).tree.provenance.notes).toContain(`${s.train.truncatedPairs} truncated`);
    // maxLength is part of the model identity: the 512-token rewards of other runs are not reused.
    expect(s.train.cacheHits).toBe(0);
  });

  describe('usage errors', () => {
    it('text pairs without --model, attribute pairs with --model, model flags without --model', async () => {
      const noModel = await dtr(['train-tree', '--pairs', 'pairs.jsonl', '--out', 'x.json'], { cwd: work });
      expect(noModel.code).toBe(2);
      expect(noModel.stderr).toContain(
        'dtr train-tree: pairs.jsonl holds response texts (pairs rows), which a model must score first: give --model DIR',
      );
      writeFileSync(
        join(work, 'attr.jsonl'),
        JSON.stringify({
          a: Object.fromEntries(ATTRIBUTES.map((a) => [a, 3])),
          b: Object.fromEntries(ATTRIBUTES.map((a) => [a, 2])),
          label: 'a',
        }),
      );
      const attr = await dtr(['train-tree', '--model', 'model', '--pairs', 'attr.jsonl', '--out', 'x.json'], { cwd: work });
      expect(attr.code).toBe(2);
      expect(attr.stderr).toContain('attr.jsonl holds attribute scores, not response texts: drop --model');
      expect((await dtr(['train-tree', '--pairs', 'attr.jsonl', '--out', 'x.json', '--cache', 'c'], { cwd: work })).stderr).toContain(
        '--cache applies to text pairs scored with --model DIR',
      );
      expect(
        (
          await dtr(['train-tree', '--model', 'model', '--pairs', 'pairs.jsonl', '--out', 'x.json', '--cache', 'c', '--no-cache'], {
            cwd: work,
          })
        ).code,
      ).toBe(2);
      writeFileSync(join(work, 'ties.jsonl'), JSON.stringify({ prompt: 'p', a: 'x', b: 'y', label: 'tie' }));
      const ties = await dtr(['train-tree', '--model', 'model', '--pairs', 'ties.jsonl', '--out', 'x.json'], { cwd: work });
      expect(ties.code).toBe(1);
      expect(ties.stderr).toContain('no pair with a preferred response: all 1 pairs are ties');
      expect(readdirSync(work)).not.toContain('x.json');
    });

    it('bad rows are reported at once with file:line before any scoring', async () => {
      writeFileSync(
        join(work, 'bad.jsonl'),
        [
          JSON.stringify({ prompt: 'p', chosen: 'c', rejected: 'r' }),
          JSON.stringify({ prompt: 'p', chosen: 3, rejected: 'r' }),
          JSON.stringify({ chosen: 'c', rejected: 'r' }),
        ].join('\n'),
      );
      const r = await dtr(['train-tree', '--model', 'model', '--pairs', 'bad.jsonl', '--out', 'x.json', '--verbose'], { cwd: work });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('bad.jsonl:2: "chosen" must be a string, got 3');
      expect(r.stderr).toContain('bad.jsonl:3: missing "prompt"');
    });
  });
});

describe('the reward cache', () => {
  it('a second scoring runs no backbone forward pass at all (counted), and each distinct conversation runs once', async () => {
    const dir = tempDir();
    const set = readEvalSet(PAIRS);
    const first = await countingModel(modelDir);
    let firstRewards: Float64Array;
    try {
      const cache = RewardCache.open(dir, modelIdentity(first.model));
      const s = await scoreTextPairs(first.model, set, { cache });
      cache.close();
      expect(first.runs()).toBeGreaterThan(0);
      expect([s.computed, s.cacheHits]).toEqual([50, 0]);
      firstRewards = s.pairs.deltas;
      // Duplicates inside one call are scored once.
      const dup = await scoreWithCache(
        first.model,
        [
          { prompt: 'Hi', response: 'Hello' },
          { prompt: 'Hi', response: 'Hello' },
          { prompt: [{ role: 'user', content: 'Hi' }], response: 'Hello' },
        ],
        { cache: null },
      );
      expect([dup.conversations, dup.distinct, dup.computed]).toEqual([3, 1, 1]);
    } finally {
      await first.model.dispose();
    }
    const second = await countingModel(modelDir);
    try {
      const cache = RewardCache.open(dir, modelIdentity(second.model));
      expect(cache.loaded).toBe(50);
      const s = await scoreTextPairs(second.model, set, { cache });
      expect(second.runs()).toBe(0);
      expect([s.computed, s.cacheHits]).toEqual([0, 50]);
      expect(s.pairs.deltas).toEqual(firstRewards);
    } finally {
      await second.model.dispose();
    }
  });

  it('compacts a folder of many segments into one, keeping every entry (and segments it did not read)', async () => {
    const dir = tempDir();
    const m = await RewardModel.load(modelDir);
    try {
      const id = modelIdentity(m);
      const items = Array.from({ length: 34 }, (_, i) => ({ prompt: `Question ${i}`, response: `Answer ${i}` }));
      const cache = RewardCache.open(dir, id);
      const first = await scoreWithCache(m, items, { cache, flushEvery: 1 });
      const folder = join(dir, 'rewards', id.rewards);
      const segments = (): string[] => readdirSync(folder).filter((f) => f.startsWith('seg-'));
      expect(segments().length).toBe(34);
      // Another run's segment, written after this cache was opened: never deleted by this run's compaction.
      const other = RewardCache.open(dir, id);
      await scoreWithCache(m, [{ prompt: 'Other run', response: 'Its answer' }], { cache: other });
      cache.close();
      expect(segments().length).toBe(2);
      const reopened = RewardCache.open(dir, id);
      expect(reopened.size).toBe(35);
      const again = await scoreWithCache(m, items, { cache: reopened });
      expect([again.cacheHits, again.computed]).toEqual([34, 0]);
      again.scores.forEach((sc, i) => expect(sc.rewards).toEqual(first.scores[i]!.rewards));
    } finally {
      await m.dispose();
    }
  });

  it('another head is another identity (no stale rewards); unreadable segments are skipped with a warning; concurrent runs share a folder', async () => {
    const dir = tempDir();
    const m = await RewardModel.load(modelDir);
    let id: ReturnType<typeof modelIdentity>;
    try {
      id = modelIdentity(m);
      const items = [
        { prompt: 'Hi', response: 'Hello' },
        { prompt: 'Hi', response: 'Go away' },
      ];
      // Two runs at once, each writing its own segments: both complete, and the union is readable.
      const [a, b] = [RewardCache.open(dir, id), RewardCache.open(dir, id)];
      await Promise.all([scoreWithCache(m, items.slice(0, 1), { cache: a }), scoreWithCache(m, items, { cache: b })]);
      a.close();
      b.close();
      const segments = readdirSync(join(dir, 'rewards', id.rewards)).filter((f) => f.startsWith('seg-'));
      expect(segments.length).toBe(2);
      writeFileSync(
        join(dir, 'rewards', id.rewards, 'seg-9-broken.jsonl'),
        '{"format": "decision-tree-reward/reward-cache", "version": 1, "identity": "x"}\n{"k": 1}\n',
      );
      const warnings: string[] = [];
      const c = RewardCache.open(dir, id, { onWarning: (w) => warnings.push(w) });
      expect(c.size).toBe(2);
      expect(warnings).toEqual([
        expect.stringMatching(/reward cache: skipping .*seg-9-broken\.jsonl: made for model identity x; its rewards will be recomputed/),
      ]);
      const hit = await scoreWithCache(m, items, { cache: c });
      expect([hit.cacheHits, hit.computed]).toEqual([2, 0]);
    } finally {
      await m.dispose();
    }
    const headPath = join(modelDir, 'head.json');
    const head = JSON.parse(readFileSync(headPath, 'utf8'));
    head.bias[0] += 1;
    const other = join(work, 'other-head.json');
    writeFileSync(other, JSON.stringify(head));
    const m2 = await RewardModel.load({ dir: modelDir, head: other });
    try {
      const id2 = modelIdentity(m2);
      expect(id2.backbone).toBe(id.backbone); // same hidden states...
      expect(id2.rewards).not.toBe(id.rewards); // ...other rewards
      expect(id2.parts.head).not.toBe(id.parts.head);
      const c2 = RewardCache.open(dir, id2);
      expect(c2.size).toBe(0);
      const r = await scoreWithCache(m2, [{ prompt: 'Hi', response: 'Hello' }], { cache: c2 });
      expect(r.computed).toBe(1);
    } finally {
      await m2.dispose();
    }
  });
});
