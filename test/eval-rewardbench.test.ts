import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { difference, toVector } from '../src/attributes.js';
import { readPairResults } from '../src/eval/results.js';
import { summarizeResults } from '../src/eval/evaluate.js';
import {
  REWARDBENCH_SECTIONS,
  REWARDBENCH_SUBSETS,
  REWARDBENCH_TABLE_COUNTS,
  rewardBenchSectionOf,
  scoreRewardBench,
} from '../src/eval/rewardbench.js';
import { preferenceOf, probabilityOf } from '../src/tree/decision.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { REWARDBENCH_FIXTURE_FILES, rewardBenchFixtureTexts } from '../scripts/make-rewardbench-results.js';
import { dtr } from './support/cli.js';
import { tempDir } from './support/temp.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/eval/${name}`, import.meta.url));

// test/fixtures/eval/rewardbench-results.jsonl, 26 synthetic rows (label a = chosen everywhere),
// written by scripts/make-rewardbench-results.ts: rewards per row, decided by rewardbench-tree.json
// with the published rule (P(a) 0.8 / 0.2 / 0.5 at its leaves), so each row's decision,
// probability and path are the tree's on that row's rewards. The decisions:
//   alpacaeval-easy  a a a b      credit 3   / 4 = 75
//   mt-bench-easy    a tie        credit 1.5 / 2 = 75
//   mt-bench-med     a a          credit 2   / 2 = 100
//   mt-bench-hard    a a b        credit 2   / 3 = 66.667
//   llmbar-natural   a b          credit 1   / 2 = 50
//   xstest-should-refuse a a      credit 2   / 2 = 100
//   donotanswer      a tie b      credit 1.5 / 3 = 50
//   math-prm         a b b b      credit 1   / 4 = 25
//   hep-cpp          a a          credit 2   / 2 = 100
//   hep-go           b            credit 0   / 1 = 0
//   my-custom-set    a            credit 1   / 1 = 100   (not a RewardBench subset)
// Ids are unique except "7", which two alpacaeval-easy rows share.
describe('RewardBench scoring (hand-computed on rewardbench-results.jsonl)', () => {
  const results = readPairResults(fixture('rewardbench-results.jsonl'));

  it('weights subsets by example count, Reasoning = mean(math-prm, hep example-weighted)', () => {
    const r = summarizeResults(results);
    expect(r.format).toBe('rewardbench'); // detected from the subset names
    expect(r.n).toBe(26);
    // Chat      = (3 + 1.5 + 2) / (4 + 2 + 2)             = 6.5 / 8 = 81.25
    expect(r.sections!.Chat).toBeCloseTo(81.25, 10);
    // Chat Hard = (2 + 1) / (3 + 2)                       = 60
    expect(r.sections!['Chat Hard']).toBeCloseTo(60, 10);
    // Safety    = (2 + 1.5) / (2 + 3)                     = 70
    expect(r.sections!.Safety).toBeCloseTo(70, 10);
    // Reasoning = mean(math 1/4 = 25, hep (2 + 0)/(2 + 1) = 66.667) = 45.8333
    //   (plain example weighting would give (1 + 2 + 0) / 7 = 42.857: the leaderboard's rule differs)
    expect(r.sections!.Reasoning).toBeCloseTo((25 + 200 / 3) / 2, 10);
    // Overall   = (81.25 + 60 + 70 + 45.8333) / 4         = 64.2708
    expect(r.overall).toBeCloseTo((81.25 + 60 + 70 + (25 + 200 / 3) / 2) / 4, 10);
    expect(r.overall).toBeCloseTo(64.2708, 4);
  });

  it('reports every subset with n and ties, unknown subsets apart, duplicates kept', () => {
    const r = summarizeResults(results);
    expect(r.subsets['alpacaeval-easy']).toEqual({ accuracy: 75, n: 4, ties: 0, section: 'Chat' });
    expect(r.subsets['mt-bench-easy']).toEqual({ accuracy: 75, n: 2, ties: 1, section: 'Chat' });
    expect(r.subsets['mt-bench-hard']!.accuracy).toBeCloseTo(200 / 3, 10);
    expect(r.subsets['hep-go']).toEqual({ accuracy: 0, n: 1, ties: 0, section: 'Reasoning' });
    // The unknown subset is in the table, flagged, and outside every section.
    expect(r.subsets['my-custom-set']).toEqual({ accuracy: 100, n: 1, ties: 0, section: null });
    expect(r.unknownSubsets).toEqual({ 'my-custom-set': 1 });
    expect(r.warnings.join('\n')).toMatch(/my-custom-set \(1 pair\)/);
    // Both rows with id 7 are kept (alpacaeval-easy has n = 4) and the repeat is reported.
    expect(r.duplicateIds).toEqual(['7']);
    expect(r.warnings.join('\n')).toMatch(/1 id appears more than once.*: 7/);
    // Two ties, each 0.5.
    expect(r.ties).toBe(2);
    expect(r.warnings.join('\n')).toMatch(/2 pairs decided tie, each counted as 0.5/);
  });

  it('computes generic metrics from the recorded decisions and probabilities', () => {
    const r = summarizeResults(results);
    const m = r.metrics;
    // 16 rows decided a (p = 0.8), 8 decided b (p = 0.2), 2 ties (p = 0.5); every label is a.
    expect(m.n).toBe(26);
    // accuracy = (16 + 0.5 * 2) / 26 = 17 / 26
    expect(m.accuracy).toBeCloseTo(17 / 26, 12);
    // log loss = [16 (-ln 0.8) + 8 (-ln 0.2) + 2 (-ln 0.5)] / 26 = 0.685851
    expect(m.logLoss).toBeCloseTo((16 * -Math.log(0.8) + 8 * -Math.log(0.2) + 2 * -Math.log(0.5)) / 26, 12);
    expect(m.logLoss).toBeCloseTo(0.685851, 5);
    // Brier = [16 (0.2)^2 + 8 (0.8)^2 + 2 (0.5)^2] / 26 = 6.26 / 26
    expect(m.brier).toBeCloseTo(6.26 / 26, 12);
    // ECE: bins 0.8 (16 rows, |0.8 - 1|), 0.2 (8 rows, |0.2 - 1|), 0.5 (2 rows, |0.5 - 1|)
    //   = (16 * 0.2 + 8 * 0.8 + 2 * 0.5) / 26 = 10.6 / 26
    expect(m.ece).toBeCloseTo(10.6 / 26, 12);
    expect(m.tieRate).toBeCloseTo(2 / 26, 12);
    // 25 rows record swappedProbability; 2 of them (ids 7 and 31: 0.8 both ways) are inconsistent.
    expect(m.positionConsistencyN).toBe(25);
    expect(m.positionConsistency).toBeCloseTo(23 / 25, 12);
    expect(r.warnings.join('\n')).toMatch(/position consistency measured on 25 of 26 pairs/);
  });

  it("weights by the official script's fixed table with leaderboard-table (ties still 0.5, and said so)", () => {
    const r = summarizeResults(results, { weighting: 'leaderboard-table' });
    expect(r.weighting).toBe('leaderboard-table');
    // The official script would count the two ties (mt-bench-easy 11, donotanswer 61) as wrong: said so.
    expect(r.warnings).toContain(
      '2 pairs decided tie, each counted as 0.5 (the official script counts a tie as wrong: published numbers are reproduced only without ties)',
    );
    // Chat      = (0.75*100 + 0.75*28 + 1*40) / (100 + 28 + 40)   = 136 / 168
    expect(r.sections!.Chat).toBeCloseTo((100 * 136) / 168, 10);
    // Chat Hard = (2/3*37 + 0.5*100) / (37 + 100)
    expect(r.sections!['Chat Hard']).toBeCloseTo((100 * ((2 / 3) * 37 + 50)) / 137, 10);
    // Safety    = (1*250 + 0.5*136) / (250 + 136): the table's xstest-should-refuse weight is 250
    expect(r.sections!.Safety).toBeCloseTo((100 * 318) / 386, 10);
    // Reasoning = (0.25*984 + 1*164 + 0*164) / (984 + 164 + 164) = 410 / 1312 = 31.25
    expect(r.sections!.Reasoning).toBeCloseTo(31.25, 10);
    expect(r.overall).toBeCloseTo((13600 / 168 + (100 * ((2 / 3) * 37 + 50)) / 137 + 31800 / 386 + 31.25) / 4, 10);
  });

  it('reproduces the official script exactly when no pair is a tie', () => {
    // The official script: per subset, accuracy = share of chosen > rejected; sections weighted by
    // EXAMPLE_COUNTS. Without ties its per-pair 1/0 equals this package's credit, so the numbers agree.
    const noTies = results.filter((r) => r.preference !== 'tie');
    const r = summarizeResults(noTies, { weighting: 'leaderboard-table' });
    // Chat: alpacaeval-easy 3/4 (100), mt-bench-easy 1/1 (28), mt-bench-med 2/2 (40) = (75 + 28 + 40) / 168
    expect(r.sections!.Chat).toBeCloseTo((100 * 143) / 168, 10);
    // Safety: xstest-should-refuse 2/2 (250), donotanswer 1/2 (136) = (250 + 68) / 386: unchanged, its tie removed
    expect(r.sections!.Safety).toBeCloseTo((100 * 318) / 386, 10);
    expect(r.ties).toBe(0);
    expect(r.warnings.join('\n')).not.toMatch(/official script counts a tie/);
  });
});

describe('scoreRewardBench', () => {
  it('leaves overall null, saying why, when a section has no pairs', () => {
    const s = scoreRewardBench([
      { subset: 'alpacaeval-easy', preference: 'a' },
      { subset: 'alpacaeval-easy', preference: 'tie' },
    ]);
    expect(s.subsets['alpacaeval-easy']!.accuracy).toBe(75);
    expect(s.sections).toEqual({ Chat: 75, 'Chat Hard': null, Safety: null, Reasoning: null });
    expect(s.overall).toBeNull();
    expect(s.warnings.join('\n')).toMatch(/no overall score: sections Chat Hard, Safety, Reasoning have no pairs/);
    expect(s.missingSubsets).toHaveLength(22);
  });

  it('uses math-prm or hep alone for Reasoning when the other is absent, with a warning', () => {
    const s = scoreRewardBench([
      { subset: 'hep-rust', preference: 'a' },
      { subset: 'hep-js', preference: 'b' },
    ]);
    expect(s.sections.Reasoning).toBe(50);
    expect(s.warnings.join('\n')).toMatch(/Reasoning is hep-\* only/);
  });

  it('counts a pair correct against its label (b when the chosen response is b)', () => {
    const s = scoreRewardBench([{ subset: 'donotanswer', preference: 'b', label: 'b' }]);
    expect(s.subsets.donotanswer!.accuracy).toBe(100);
  });

  it('knows the official sections and table', () => {
    expect(REWARDBENCH_SECTIONS).toEqual(['Chat', 'Chat Hard', 'Safety', 'Reasoning']);
    expect(Object.values(REWARDBENCH_SUBSETS).flat()).toHaveLength(23);
    expect(Object.keys(REWARDBENCH_TABLE_COUNTS).sort()).toEqual(Object.values(REWARDBENCH_SUBSETS).flat().sort());
    expect(rewardBenchSectionOf('llmbar-adver-GPTOut')).toBe('Chat Hard');
    expect(rewardBenchSectionOf('llmbar-adver-gptout')).toBeNull(); // names are case-sensitive, as upstream
  });

  it('rejects bad calls naming the parameter', () => {
    expect(() => scoreRewardBench([{ subset: 'x', preference: 'A' as never }])).toThrow(TypeError);
    expect(() => scoreRewardBench([{ subset: 'x', preference: 'A' as never }])).toThrow(/rows\[0\]\.preference/);
    expect(() => scoreRewardBench([], { weighting: 'official' as never })).toThrow(/options.weighting/);
  });
});

describe('rewardbench-results.jsonl is what its tree decides on its rewards', () => {
  const results = readPairResults(fixture('rewardbench-results.jsonl'));
  const tree = PreferenceTree.load(fixture('rewardbench-tree.json'));

  it('is exactly what scripts/make-rewardbench-results.ts writes, here and in docs/examples', () => {
    const texts = rewardBenchFixtureTexts();
    for (const kind of ['tree', 'results'] as const) {
      for (const path of REWARDBENCH_FIXTURE_FILES[kind]) {
        expect(
          readFileSync(new URL(`../${path}`, import.meta.url), 'utf8'),
          `${path}: run npx tsx scripts/make-rewardbench-results.ts`,
        ).toBe(texts[kind]);
      }
    }
  });

  it('every row: decision, P(a), swapped reading and path follow from its rewards (published rule)', () => {
    for (const r of results) {
      const d = toVector(difference(r.rewards!.a, r.rewards!.b), 'a - b');
      const p = probabilityOf(tree, d, false);
      expect(r.probability, r.id).toBe(p);
      expect(r.preference, r.id).toBe(preferenceOf(p));
      if (r.swappedProbability !== undefined)
        expect(r.swappedProbability, r.id).toBe(probabilityOf(tree, toVector(difference(r.rewards!.b, r.rewards!.a), 'b - a'), false));
      expect(r.path, r.id).toEqual(tree.decisionPath(d));
    }
    // Not all alike: the rows differ in rewards and take four different leaves.
    expect(new Set(results.map((r) => JSON.stringify(r.rewards))).size).toBe(26);
    expect(new Set(results.map((r) => tree.apply(difference(r.rewards!.a, r.rewards!.b)))).size).toBe(4);
  });

  it('dtr report on it with its tree decides as dtr eval --scores reports', async () => {
    const out = `${tempDir('dtr-rb-report-')}/report.json`;
    const r = await dtr([
      'report',
      '--tree',
      fixture('rewardbench-tree.json'),
      '--asymmetric',
      '--pairs',
      fixture('rewardbench-results.jsonl'),
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const ev = summarizeResults(results);
    expect(report.decisions).toMatchObject({ a: 16, b: 8, tie: 2 });
    expect(report.accuracy.accuracy).toBeCloseTo(ev.metrics.accuracy, 12); // 17 / 26
    expect(report.accuracy.logLoss).toBeCloseTo(ev.metrics.logLoss!, 12);
    expect(report.positionConsistency.inconsistent).toBe(2); // ids 7 and 31
  });
});
