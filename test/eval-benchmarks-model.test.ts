/**
 * `dtr eval --model` on RM-Bench, RewardBench 2 and JudgeBench files, with the fixture model
 * (test/support/fixture-model.ts: a tiny deterministic ONNX backbone, the real Llama-3
 * tokenizer, the rlhflow-llama-3.1-8b tree). Its rewards are arbitrary, so every result is
 * checked against `model.compare` on the same two texts, and every aggregate against one
 * recomputed here from those per-comparison decisions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES } from '../src/attributes.js';
import { readEvalSet, type EvalSet } from '../src/data/datasets.js';
import { scoreWithModel, type PairComparer } from '../src/eval/evaluate.js';
import { readPairResults, type PairResultRow } from '../src/eval/results.js';
import { RM_BENCH_DOMAINS, rmBenchDomainOf } from '../src/eval/rmbench.js';
import { RewardModel } from '../src/model/reward-model.js';
import type { CompareResult } from '../src/model/types.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel, type FixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const F = 'test/fixtures/eval';
const TOL = 1e-5; // onnxruntime float32: batched and single runs agree to this
let fixture: FixtureModel;
let model: RewardModel;
const dir = tempDir('dtr-eval-bench-');

beforeAll(async () => {
  fixture = writeFixtureModel(tempDir('dtr-eval-bench-fixture-'));
  model = await RewardModel.load({ dir: fixture.dir, tokenizeInWorker: false });
});
afterAll(async () => {
  await model.dispose();
});

/** `dtr eval --model` on a file, with its results and the direct model.compare of every comparison. */
async function run(
  file: string,
): Promise<{ doc: Record<string, any>; stderr: string; rows: PairResultRow[]; direct: CompareResult[]; set: EvalSet; out: string }> {
  const out = join(dir, `${file}.results.jsonl`);
  const r = await dtr(['eval', '--model', fixture.dir, '--data', `${F}/${file}`, '--out', out, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const set = readEvalSet(`${F}/${file}`);
  const direct: CompareResult[] = [];
  for (const item of set.items) direct.push(await model.compare(item.prompt!, item.a as string, item.b as string));
  return { doc: JSON.parse(r.stdout), stderr: r.stderr, rows: readPairResults(out), direct, set, out };
}

function sameAsCompare(rows: readonly PairResultRow[], direct: readonly CompareResult[]): void {
  expect(rows).toHaveLength(direct.length);
  rows.forEach((r, i) => {
    const c = direct[i]!;
    for (const k of ATTRIBUTES) {
      expect(Math.abs(r.rewards!.a[k] - c.rewards.a[k])).toBeLessThan(TOL);
      expect(Math.abs(r.rewards!.b[k] - c.rewards.b[k])).toBeLessThan(TOL);
    }
    expect(r.probability).toBeCloseTo(c.probability, 6);
    expect(r.preference).toBe(c.preference);
    expect(r.path!.map((s) => s.attribute)).toEqual(c.path.map((s) => s.attribute));
    expect(r.swappedProbability).toBeCloseTo(1 - r.probability!, 12); // symmetric rule: mirrors exactly
  });
}

const credit = (r: PairResultRow): number => (r.preference === 'tie' ? 0.5 : r.preference === (r.label ?? 'a') ? 1 : 0);

describe('dtr eval --model on RM-Bench', () => {
  let res: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    res = await run('rm-bench-sample.jsonl');
  }, 120_000);

  it('compares all nine chosen/rejected pairs of every prompt, a = chosen, as model.compare does', () => {
    expect(res.rows).toHaveLength(45);
    expect(res.rows.slice(0, 9).map((r) => [r.id, r.chosenStyle, r.rejectedStyle, r.label])).toEqual(
      [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => ['chat-1', i, j, 'a'])),
    );
    sameAsCompare(res.rows, res.direct);
  });

  it('scores each of the six responses of a prompt once (30 for 45 comparisons), and says so on stderr', async () => {
    expect(res.stderr).toMatch(/eval \[#+\] 30\/30 responses/);
    let scored = 0;
    const counting: PairComparer = {
      tree: model.tree,
      compareStream: (items, options) => model.compareStream(items, options),
      scoreStream: (items, options) => {
        const list = [...items];
        scored += list.length;
        return model.scoreStream(list, options);
      },
    };
    const again = await scoreWithModel(counting, res.set.items);
    expect(scored).toBe(30);
    again.forEach((r, i) => expect(r.preference).toBe(res.rows[i]!.preference));
  });

  it('reports the matrix and hard / normal / easy recomputed from those decisions', () => {
    for (const domain of RM_BENCH_DOMAINS) {
      const rows = res.rows.filter((r) => rmBenchDomainOf(r.subset!) === domain);
      const cell = (i: number, j: number): number => {
        const xs = rows.filter((r) => r.chosenStyle === i && r.rejectedStyle === j).map(credit);
        return (100 * xs.reduce((s, x) => s + x, 0)) / xs.length;
      };
      const m = [0, 1, 2].map((i) => [0, 1, 2].map((j) => cell(i, j)));
      const d = res.doc.domains[domain];
      m.forEach((row, i) => row.forEach((x, j) => expect(d.matrix[i][j]).toBeCloseTo(x, 10)));
      expect(d.hard).toBeCloseTo((m[0]![1]! + m[0]![2]! + m[1]![2]!) / 3, 10);
      expect(d.normal).toBeCloseTo((m[0]![0]! + m[1]![1]! + m[2]![2]!) / 3, 10);
      expect(d.easy).toBeCloseTo((m[1]![0]! + m[2]![0]! + m[2]![1]!) / 3, 10);
      expect(d.n).toBe(new Set(rows.map((r) => r.id)).size);
    }
    expect(res.doc.domains.safety.n).toBe(2); // safety-refuse + safety-response
    const avg = RM_BENCH_DOMAINS.map((d) => res.doc.domains[d].average);
    expect(res.doc.overall.average).toBeCloseTo(avg.reduce((s: number, x: number) => s + x, 0) / 4, 10);
    expect(res.doc.source.model).toEqual({ dir: fixture.dir, name: fixture.options.name, provider: 'cpu' });
  });

  it('--scores re-aggregates the written results to the same report without the model', async () => {
    const again = JSON.parse((await dtr(['eval', '--scores', res.out, '--json'])).stdout);
    for (const key of ['format', 'domains', 'overall', 'subsets', 'metrics', 'ties']) expect(again[key]).toEqual(res.doc[key]);
  });

  it('dtr report on the results draws the style matrix from the same decisions', async () => {
    const out = join(dir, 'rm-report.json');
    const r = await dtr(['report', '--tree', 'rlhflow-llama-3.1-8b', '--pairs', res.out, '--bootstrap', '0', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const m = report.style.matrix;
    expect(m.n).toBe(45);
    for (const i of [0, 1, 2]) {
      for (const j of [0, 1, 2]) {
        const xs = res.rows.filter((x) => x.chosenStyle === i && x.rejectedStyle === j).map(credit);
        expect(m.cells[i][j].n).toBe(xs.length);
        expect(m.cells[i][j].accuracy).toBeCloseTo(xs.reduce((s, x) => s + x, 0) / xs.length, 10);
      }
    }
  });
});

describe('dtr eval --model on RewardBench 2', () => {
  it('compares the chosen response with every rejected one; Ties gives its accuracy terms only', async () => {
    const res = await run('rewardbench2-sample.jsonl');
    expect(res.rows.map((r) => [r.id, r.chosenIndex, r.rejectedIndex]).slice(0, 3)).toEqual([
      ['fact-1', 0, 0],
      ['fact-1', 0, 1],
      ['fact-1', 0, 2],
    ]);
    sameAsCompare(res.rows, res.direct);
    const prompt = (id: string): number => {
      const rs = res.rows.filter((r) => r.id === id);
      return rs.some((r) => r.preference === 'b') ? 0 : 1 / (1 + rs.filter((r) => r.preference === 'tie').length);
    };
    expect(res.doc.subsets.Factuality.accuracy).toBeCloseTo(100 * prompt('fact-1'), 10);
    expect(res.doc.subsets.Math.accuracy).toBeCloseTo(100 * prompt('math-1'), 10);
    expect(res.doc.tiesSubset).toMatchObject({ scoring: 'pairwise', score: null, refPrompts: 1, tiedPrompts: 1 });
    expect(res.doc.overall).toBeNull();
    expect(res.stderr).toMatch(/warning: Ties: no score without scalar scores/);
  }, 120_000);
});

describe('dtr eval --model on JudgeBench', () => {
  it('scores A against B, with the label from "A>B" / "B>A", per category', async () => {
    const res = await run('judgebench-sample.jsonl');
    sameAsCompare(res.rows, res.direct);
    expect(res.rows.map((r) => r.label)).toEqual(['a', 'b', 'a', 'b']);
    const right = res.rows.map(credit);
    expect(res.doc.categories.knowledge.accuracy).toBe(100 * right[0]!);
    expect(res.doc.categories.coding.accuracy).toBe(100 * right[3]!);
    expect(res.doc.overall).toBeCloseTo((100 * right.reduce((s, x) => s + x, 0)) / 4, 10);
    expect(res.doc.bothOrders).toBe(4);
  }, 120_000);
});

describe('the new layouts elsewhere', () => {
  it('dtr train-tree --model trains on chosen-first layouts in both orders, and without --model says a model is needed', async () => {
    const out = join(dir, 'rm-tree.json');
    const r = await dtr(['train-tree', '--model', fixture.dir, '--pairs', `${F}/rm-bench-sample.jsonl`, '--out', out, '--no-cache']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/swap augmentation: .*45 pairs -> 90 rows/); // not one class, not a single leaf
    const texts = await dtr(['train-tree', '--pairs', `${F}/rewardbench2-sample.jsonl`, '--out', join(dir, 'never.json')]);
    expect(texts.code).toBe(2);
    expect(texts.stderr).toMatch(/holds response texts \(rewardbench-2 rows\), which a model must score first: give --model DIR/);
  }, 120_000);
});
