/**
 * `dtr eval --model` on the fixture model (test/support/fixture-model.ts: a tiny deterministic
 * ONNX backbone with the real Llama-3 tokenizer and the rlhflow-llama-3.1-8b tree). The model's
 * rewards are arbitrary, so each result is checked against `model.compare` on the same pair, and
 * the report against an aggregate recomputed here from those per-pair decisions.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES } from '../src/attributes.js';
import { readEvalSet } from '../src/data/datasets.js';
import { readPairResults, type PairResultRow } from '../src/eval/results.js';
import { RewardModel } from '../src/model/reward-model.js';
import type { CompareResult } from '../src/model/types.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { probabilityOf } from '../src/tree/decision.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel, type FixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const F = 'test/fixtures/eval';
const TOL = 1e-5; // onnxruntime float32; batched and single runs agree to this (runtime's self-check tolerance)
let fixture: FixtureModel;
let model: RewardModel;
let direct: CompareResult[];
let rows: PairResultRow[];
let doc: Record<string, any>;
let stderr: string;
const out = join(tempDir('dtr-eval-model-'), 'results.jsonl');
const set = readEvalSet(`${F}/rewardbench-sample.jsonl`);

beforeAll(async () => {
  fixture = writeFixtureModel(tempDir('dtr-eval-fixture-'));
  model = await RewardModel.load({ dir: fixture.dir, tokenizeInWorker: false });
  direct = [];
  for (const item of set.items) direct.push(await model.compare(item.prompt!, item.a as string, item.b as string));
  const r = await dtr(['eval', '--model', fixture.dir, '--data', `${F}/rewardbench-sample.jsonl`, '--out', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  doc = JSON.parse(r.stdout);
  stderr = r.stderr;
  rows = readPairResults(out);
});

afterAll(async () => {
  await model.dispose();
});

describe('dtr eval --model', () => {
  it('writes one result per RewardBench row, a = chosen, matching model.compare pair by pair', () => {
    expect(rows.map((r) => r.id)).toEqual(['101', '102', '103', '104', '104', '105', '106']);
    rows.forEach((r, i) => {
      const c = direct[i]!;
      expect(r.label).toBe('a');
      expect(r.subset).toBe(set.items[i]!.subset);
      for (const k of ATTRIBUTES) {
        expect(Math.abs(r.rewards!.a[k] - c.rewards.a[k])).toBeLessThan(TOL);
        expect(Math.abs(r.rewards!.b[k] - c.rewards.b[k])).toBeLessThan(TOL);
      }
      expect(r.probability).toBeCloseTo(c.probability, 6);
      expect(r.preference).toBe(c.preference);
      expect(r.path!.map((s) => [s.attribute, s.went])).toEqual(c.path.map((s) => [s.attribute, s.went]));
      // The symmetric rule mirrors exactly: the swapped reading is 1 - p.
      expect(r.swappedProbability).toBeCloseTo(1 - r.probability!, 12);
      expect(r.truncated).toBe(false);
    });
  });

  it('reports the aggregate of those decisions with the RewardBench rules', () => {
    // Recomputed here: per subset, 1 per pair decided a (the chosen), 0.5 per tie.
    const credit = new Map<string, number[]>();
    rows.forEach((r) =>
      credit.set(r.subset!, [...(credit.get(r.subset!) ?? []), r.preference === 'a' ? 1 : r.preference === 'tie' ? 0.5 : 0]),
    );
    for (const [subset, xs] of credit) {
      expect(doc.subsets[subset].n).toBe(xs.length);
      expect(doc.subsets[subset].accuracy).toBeCloseTo((100 * xs.reduce((s, x) => s + x, 0)) / xs.length, 10);
    }
    const mean = (names: string[]) => {
      const xs = names.flatMap((n) => credit.get(n) ?? []);
      return (100 * xs.reduce((s, x) => s + x, 0)) / xs.length;
    };
    // Chat = alpacaeval-easy, mt-bench-med, alpacaeval-hard weighted by count; Safety = donotanswer;
    // Reasoning = hep-python only (no math-prm: a warning says so); no Chat Hard pair, so no overall.
    expect(doc.sections.Chat).toBeCloseTo(mean(['alpacaeval-easy', 'mt-bench-med', 'alpacaeval-hard']), 10);
    expect(doc.sections.Safety).toBeCloseTo(mean(['donotanswer']), 10);
    expect(doc.sections.Reasoning).toBeCloseTo(mean(['hep-python']), 10);
    expect(doc.sections['Chat Hard']).toBeNull();
    expect(doc.overall).toBeNull();
    expect(doc.unknownSubsets).toEqual({ 'my-custom-set': 1 });
    expect(doc.duplicateIds).toEqual(['104']);
    expect(doc.metrics.positionConsistency).toBe(1);
    expect(doc.source.model).toEqual({ dir: fixture.dir, name: fixture.options.name, provider: 'cpu' });
    expect(doc.source.tree).toBe('rlhflow-llama-3.1-8b');
    expect(stderr).toMatch(/warning: no overall score: section Chat Hard has no pairs/);
    expect(stderr).toMatch(/warning: Reasoning is hep-\* only/);
  });

  it('re-aggregates the written results to the same report without the model', async () => {
    const again = JSON.parse((await dtr(['eval', '--scores', out, '--json'])).stdout);
    for (const key of ['overall', 'sections', 'subsets', 'metrics', 'ties', 'unknownSubsets', 'duplicateIds'])
      expect(again[key]).toEqual(doc[key]);
  });

  it('decides with another tree and the published rule when asked', async () => {
    const out2 = join(tempDir(), 'human.jsonl');
    const r = await dtr([
      'eval',
      '--model',
      fixture.dir,
      '--data',
      `${F}/rewardbench-sample.jsonl`,
      '--tree',
      'helpsteer2-human',
      '--asymmetric',
      '--out',
      out2,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).source).toMatchObject({ tree: 'helpsteer2-human', rule: 'published' });
    const human = PreferenceTree.load('helpsteer2-human');
    for (const row of readPairResults(out2)) {
      const d = ATTRIBUTES.map((k) => row.rewards!.a[k] - row.rewards!.b[k]);
      expect(row.probability).toBeCloseTo(human.predictProba(d), 12);
      expect(row.swappedProbability).toBeCloseTo(
        probabilityOf(
          human,
          d.map((x) => -x),
          false,
        ),
        12,
      );
    }
  });

  it('records and reports truncation', async () => {
    const out3 = join(tempDir(), 'short.jsonl');
    const r = await dtr([
      'eval',
      '--model',
      fixture.dir,
      '--data',
      `${F}/rewardbench-sample.jsonl`,
      '--max-length',
      '40',
      '--out',
      out3,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const t = readPairResults(out3).filter((x) => x.truncated).length;
    expect(t).toBeGreaterThan(0);
    expect(JSON.parse(r.stdout).truncated).toBe(t);
    expect(r.stderr).toMatch(new RegExp(`warning: ${t} of 7 pairs were scored from conversations shortened`));
  });

  it('scores helpsteer2-preference texts, leaving equal pairs out with a warning', async () => {
    const path = join(tempDir(), 'hs2p.jsonl');
    writeFileSync(
      path,
      [
        { prompt: 'Name a prime.', response_1: '7', response_2: 'Nine.', preference_strength: -2 },
        { prompt: 'Say hi.', response_1: 'hi', response_2: 'Hello there!', preference_strength: 1 },
        { prompt: 'Say hi.', response_1: 'hi', response_2: 'hi', preference_strength: 0 },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const r = await dtr(['eval', '--model', fixture.dir, '--data', path, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.format).toBe('helpsteer2-preference');
    expect(d.n).toBe(2);
    expect(d.sections).toBeNull();
    expect(d.warnings[0]).toBe('1 pair rated equal (preference_strength 0) not scored: no response is preferred (lines 3)');
  });

  it('refuses a model for attribute scores, and a missing model folder', async () => {
    const scores = await dtr(['eval', '--model', fixture.dir, '--data', `${F}/stump-pairs.jsonl`]);
    expect(scores.code).toBe(2);
    expect(scores.stderr).toMatch(/rows hold attribute scores: a tree scores them, no model is needed/);
    const missing = await dtr(['eval', '--model', join(fixture.dir, 'nope'), '--data', `${F}/rewardbench-sample.jsonl`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope/);
  });
});

describe('scoreWithModel (public API)', () => {
  it('is exported with its types, and RewardModel is a PairComparer', async () => {
    const api = await import('../src/index.js');
    const comparer: import('../src/index.js').PairComparer = model; // compile-time: RewardModel fits the contract
    const options: import('../src/index.js').ModelScoringOptions = { batchSize: 2, tree: PreferenceTree.load('helpsteer2-human') };
    const results = await api.scoreWithModel(comparer, set.items, options);
    expect(results).toHaveLength(7);
    // With the human tree instead of the model's: the same rewards, that tree's path.
    expect(results[0]!.path![0]!.attribute).toBe('helpfulness');
    for (const [i, r] of results.entries()) {
      for (const k of ATTRIBUTES) expect(Math.abs(r.rewards!.a[k] - direct[i]!.rewards.a[k])).toBeLessThan(TOL);
    }
  });

  it('scores with any PairComparer, here a stand-in that needs no model', async () => {
    const { scoreWithModel } = await import('../src/index.js');
    const tree = PreferenceTree.load('helpsteer2-human');
    const a = { helpfulness: 3, correctness: 3, coherence: 3, complexity: 1, verbosity: 1 };
    const b = { helpfulness: 1, correctness: 3, coherence: 3, complexity: 1, verbosity: 1 };
    const stub: import('../src/index.js').PairComparer = {
      tree,
      async *compareStream(items) {
        for (const _ of items) {
          const delta = { helpfulness: 2, correctness: 0, coherence: 0, complexity: 0, verbosity: 0 };
          const c: import('../src/index.js').ComparisonLike = {
            rewards: { a, b },
            delta,
            preference: 'a',
            probability: 0.9,
            path: tree.decisionPath(delta),
            truncated: false,
          };
          yield c;
        }
      },
    };
    const items = [{ id: 'x', subset: null, prompt: 'p', a: 'one', b: 'two', label: 'a' as const, line: 1 }];
    const [r] = await scoreWithModel(stub, items);
    expect(r).toMatchObject({ id: 'x', preference: 'a', probability: 0.9, truncated: false });
    expect(r!.swappedProbability).toBeCloseTo(probabilityOf(tree, [-2, 0, 0, 0, 0], true), 12);
    await expect(scoreWithModel(stub, [{ ...items[0]!, a: a as never }])).rejects.toThrow(/has attribute scores, not texts/);
  });
});
