/**
 * JudgeBench and results from any scorer: labelled pairs `{question, response_A, response_B,
 * label}`, categories by source prefix, the two-order vote of ScalerLab/JudgeBench
 * `utils/metrics.py`, and `--scores` / `--compare` on results that carry only
 * `{id, subset, preference}` or a scalar reward model's `{scoreChosen, scoreRejected}`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEvalSet, readEvalSet } from '../src/data/datasets.js';
import { summarizeResults } from '../src/eval/evaluate.js';
import { judgeBenchCategoryOf, scoreJudgeBench } from '../src/eval/judgebench.js';
import { parsePairResults } from '../src/eval/results.js';
import { DtrError } from '../src/errors.js';
import { dtr } from './support/cli.js';
import { tempDir } from './support/temp.js';

const F = 'test/fixtures/eval';
const write = (name: string, rows: unknown[]): string => {
  const path = join(tempDir(), name);
  writeFileSync(path, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return path;
};

describe('reading JudgeBench pairs', () => {
  it('maps A>B to a and B>A to b; the subset is the source, the id the pair_id', () => {
    const set = readEvalSet(`${F}/judgebench-sample.jsonl`);
    expect(set).toMatchObject({ format: 'judgebench', detected: true, kind: 'text', rows: 4 });
    expect(set.items.map((i) => [i.id, i.subset, i.label])).toEqual([
      ['jb-1', 'mmlu-pro-law', 'a'],
      ['jb-2', 'livebench-reasoning', 'b'],
      ['jb-3', 'livebench-math', 'a'],
      ['jb-4', 'livecodebench', 'b'],
    ]);
    expect(set.items[3]).toMatchObject({ prompt: 'Write a Python expression that reverses the string s.', a: 's.reverse()', b: 's[::-1]' });
  });

  it('names every bad row', () => {
    let error: unknown;
    try {
      parseEvalSet(
        [
          { line: 1, value: { question: 'q', response_A: 'x', response_B: 'y', label: 'A=B' } },
          { line: 2, value: { question: 'q', response_A: 3, response_B: 'y' } },
        ],
        'jb.jsonl',
        'judgebench',
      );
    } catch (e) {
      error = e;
    }
    expect((error as DtrError).issues.map((i) => `${i.path} ${i.message}`)).toEqual([
      'jb.jsonl:1 "label" must be "A>B" or "B>A", got "A=B"',
      'jb.jsonl:2 "response_A" must be a string, got 3',
      'jb.jsonl:2 missing "label" ("A>B" or "B>A")',
    ]);
  });
});

describe('JudgeBench scoring', () => {
  it('groups sources into the four categories by prefix; overall is every pair', () => {
    expect(
      ['mmlu-pro-computer science', 'livebench-reasoning', 'livebench-math', 'livecodebench', 'mt-bench'].map(judgeBenchCategoryOf),
    ).toEqual(['knowledge', 'reasoning', 'math', 'coding', null]);
    const s = scoreJudgeBench([
      { subset: 'mmlu-pro-law', preference: 'a', label: 'a' },
      { subset: 'mmlu-pro-law', preference: 'b', label: 'a' },
      { subset: 'livebench-math', preference: 'b', label: 'b' },
      { subset: 'other', preference: 'a', label: 'a' },
    ]);
    expect(s.categories).toEqual({ knowledge: { accuracy: 50, n: 2, ties: 0 }, math: { accuracy: 100, n: 1, ties: 0 } });
    expect(s.overall).toEqual({ accuracy: 75, n: 4, ties: 0 });
    expect(s.otherSources).toEqual({ other: 1 });
  });

  it('votes over both orders: right when the readings favour the label, 0.5 when they cancel', () => {
    // swappedProbability is P(first = b preferred) on (b, a): 0.8 means the swapped reading picks b.
    const s = scoreJudgeBench([
      { subset: 'livecodebench', preference: 'a', label: 'a', swappedProbability: 0.2 }, // a, a: +2 right
      { subset: 'livecodebench', preference: 'a', label: 'a', swappedProbability: 0.8 }, // a, b: 0 -> 0.5
      { subset: 'livecodebench', preference: 'tie', label: 'a', swappedProbability: 0.2 }, // tie, a: +1 right
      { subset: 'livecodebench', preference: 'tie', label: 'b', swappedProbability: 0.5 }, // tie, tie: 0 -> 0.5
      { subset: 'livecodebench', preference: 'b', label: 'a', swappedProbability: 0.6 }, // b, b: -2 wrong
    ]);
    expect(s.categories.coding).toEqual({ accuracy: 60, n: 5, ties: 2 }); // (1 + .5 + 1 + .5 + 0) / 5
    expect(s.bothOrders).toBe(5);
    expect(s.warnings).toContain(
      '2 pairs whose readings cancel out (they disagree, or tie), each counted as 0.5 (the official JudgeBench code counts them as wrong)',
    );
    const mixed = scoreJudgeBench([
      { subset: 'livecodebench', preference: 'a', label: 'a', swappedProbability: 0.2 },
      { subset: 'livecodebench', preference: 'a', label: 'a' },
    ]);
    expect(mixed.warnings).toEqual(['1 of 2 pairs judged in one order only (no swapped reading recorded), the others in both']);
  });
});

describe('results from any scorer', () => {
  it('needs only {id, subset, preference}: no rewards, path or probability', async () => {
    const path = write('other.jsonl', [
      { id: 'jb-1', subset: 'mmlu-pro-law', preference: 'a' },
      { id: 'jb-2', subset: 'livebench-reasoning', preference: 'a', label: 'b' },
      { id: 'jb-3', subset: 'livebench-math', preference: 'a' },
      { id: 'jb-4', subset: 'livecodebench', preference: 'tie', label: 'b' },
    ]);
    const r = await dtr(['eval', '--scores', path, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.format).toBe('judgebench'); // every subset is a JudgeBench source
    expect(doc.overall).toBeCloseTo(62.5, 12); // (1 + 0 + 1 + 0.5) / 4
    expect(doc.categories.reasoning).toEqual({ accuracy: 0, n: 1, ties: 0 });
    expect(doc.metrics).toMatchObject({ n: 4, logLoss: null, brier: null, ece: null, probabilityN: 0, positionConsistency: null });
    expect(r.stderr).not.toMatch(/one order only/); // a scorer without a swapped reading has one order, as --single_game
    expect(r.stderr).toMatch(/warning: no result records a probability/);
    // The same file under the generic rules: plain accuracy per subset.
    const generic = JSON.parse((await dtr(['eval', '--scores', path, '--format', 'pairs', '--json'])).stdout);
    expect(generic.overall).toBeCloseTo(62.5, 12);
    expect(generic.subsets['livecodebench']).toEqual({ accuracy: 50, n: 1, ties: 1, section: null });
  });

  it("takes a scalar reward model's scoreChosen / scoreRejected: the higher score wins", () => {
    const rows = parsePairResults(
      [
        { line: 1, value: { id: '1', subset: 'hep-go', scoreChosen: 1.25, scoreRejected: -0.5 } },
        { line: 2, value: { id: '2', subset: 'hep-go', scoreChosen: 0.1, scoreRejected: 0.1 } },
        { line: 3, value: { id: '3', subset: 'hep-go', scoreChosen: -2, scoreRejected: 3, label: 'b' } },
      ],
      'scalar.jsonl',
    );
    expect(rows.map((r) => r.preference)).toEqual(['a', 'tie', 'a']); // label b: the chosen response is b, which lost
    expect(rows[0]).toMatchObject({ scoreChosen: 1.25, scoreRejected: -0.5 });
    const report = summarizeResults(rows);
    expect(report.format).toBe('rewardbench');
    expect(report.subsets['hep-go']!.accuracy).toBeCloseTo(50, 10); // (1 + 0.5 + 0) / 3: the third chose a against label b
  });

  it('says what is wrong with a row, with its line', async () => {
    const path = write('bad.jsonl', [
      { id: '1', subset: 's', scoreChosen: 'high', scoreRejected: 1 },
      { id: '2', subset: 's', scoreChosen: 1 },
      { id: '3', subset: 's', preference: 'b', scoreChosen: 2, scoreRejected: 1 },
      { id: '4', subset: 's' },
      { id: '5', subset: 's', preference: 'a', rewards: 'none' },
    ]);
    const r = await dtr(['eval', '--scores', path, '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /bad\.jsonl: 5 bad values in results; first at .*bad\.jsonl:1: "scoreChosen" must be a finite number, got "high"/,
    );
    expect(r.stderr).toMatch(/bad\.jsonl:2: "scoreRejected" is missing: give both scoreChosen and scoreRejected, or neither/);
    expect(r.stderr).toMatch(/bad\.jsonl:3: "preference" is "b" but scoreChosen 2 and scoreRejected 1 give "a"/);
    expect(r.stderr).toMatch(/bad\.jsonl:4: missing "preference" \("a", "b" or "tie"\), or "scoreChosen" and "scoreRejected"/);
    expect(r.stderr).toMatch(/bad\.jsonl:5: "rewards" must be an object/);
  });

  it('--compare diffs two scorers pair by pair', async () => {
    const before = write('scorer-1.jsonl', [
      { id: 'q1', subset: 'x', preference: 'a' },
      { id: 'q2', subset: 'x', preference: 'b' },
      { id: 'q3', subset: 'y', scoreChosen: 0.2, scoreRejected: 0.9 },
    ]);
    const after = write('scorer-2.jsonl', [
      { id: 'q1', subset: 'x', preference: 'b' },
      { id: 'q2', subset: 'x', preference: 'a' },
      { id: 'q3', subset: 'y', scoreChosen: 1.5, scoreRejected: 0.9 },
      { id: 'q4', subset: 'y', preference: 'a' },
    ]);
    const r = await dtr(['eval', '--scores', after, '--compare', before, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout).compare;
    expect(c).toMatchObject({ matched: 3, fixed: 2, broken: 1, onlyBefore: [], onlyAfter: ['q4'] });
    expect(c.overall.before).toBeCloseTo(100 / 3, 10);
    expect(c.overall.after).toBeCloseTo(75, 10);
    expect(r.stderr).toMatch(/the two results files cover different pairs: 0 only in .*scorer-1\.jsonl, 1 only in the new results/);
  });

  it("--compare reads a file whose labelled response is on the other side in the later file's sides", async () => {
    const { diffPairResults } = await import('../src/eval/results.js');
    // A JudgeBench result (a = response A, label b: B was right) against a scalar scorer's (a = its chosen response).
    const judge = [{ id: 'jb-2', subset: 'livebench-reasoning', label: 'b' as const, preference: 'b' as const }];
    const scalar = [{ id: 'jb-2', subset: 'livebench-reasoning', preference: 'b' as const, scoreChosen: 0.25, scoreRejected: 1 }];
    expect(diffPairResults(judge, scalar)).toMatchObject({
      matched: 1,
      fixed: 0,
      broken: 1,
      changed: [{ id: 'jb-2', label: 'a', before: 'a', after: 'b', change: 'broken' }],
    });
    expect(diffPairResults(judge, [{ ...scalar[0]!, preference: 'a' as const }]).changed).toEqual([]); // both right: no change
  });
});
