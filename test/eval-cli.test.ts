import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPairResults } from '../src/eval/results.js';
import { readEvalSet } from '../src/data/datasets.js';
import { DtrError } from '../src/errors.js';
import { dtr } from './support/cli.js';

const F = 'test/fixtures/eval';
const tmp = mkdtempSync(join(tmpdir(), 'dtr-eval-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('dtr eval --scores (re-aggregation)', () => {
  it('prints the leaderboard shape in percent with --json', async () => {
    const r = await dtr(['eval', '--scores', `${F}/rewardbench-results.jsonl`, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    // Hand computation in test/eval-rewardbench.test.ts: (81.25 + 60 + 70 + 45.8333) / 4.
    expect(doc.overall).toBeCloseTo(64.2708333, 6);
    expect(Object.keys(doc.sections)).toEqual(['Chat', 'Chat Hard', 'Safety', 'Reasoning']);
    expect(doc.sections['Chat Hard']).toBeCloseTo(60, 10);
    expect(doc.subsets['math-prm']).toEqual({ accuracy: 25, n: 4, ties: 0, section: 'Reasoning' });
    expect(doc.unknownSubsets).toEqual({ 'my-custom-set': 1 });
    expect(doc.duplicateIds).toEqual(['7']);
    expect(doc.ties).toBe(2);
    expect(doc.metrics.accuracy).toBeCloseTo(17 / 26, 12);
    expect(doc.source.scores.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Warnings go to stderr too, one per line, so they are never silent.
    expect(r.stderr).toMatch(/warning: 1 subset not in RewardBench.*my-custom-set/);
    expect(r.stderr).toMatch(/warning: 1 id appears more than once/);
  });

  it('prints a per-subset table, the four sections and the metrics as text', async () => {
    const r = await dtr(['eval', '--scores', `${F}/rewardbench-results.jsonl`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^rewardbench: 26 pairs, 2 ties \(counted 0.5\)/);
    expect(r.stdout).toMatch(/alpacaeval-easy\s+Chat\s+4\s+75\.0/);
    expect(r.stdout).toMatch(/my-custom-set\s+unknown: not counted\s+1\s+100\.0/);
    // Chat 81.25 -> 81.2 (Python-style rounding, half to even), Chat Hard 60.0, Safety 70.0, Reasoning 45.8, Overall 64.3
    expect(r.stdout).toMatch(/score %\s+81\.2\s+60\.0\s+70\.0\s+45\.8\s+64\.3/);
    expect(r.stdout).toMatch(/position consistency\s+0\.920 \(25 pairs\)/);
  });

  it("uses the official script's fixed table with --weighting leaderboard-table, and says how ties differ", async () => {
    const r = await dtr(['eval', '--scores', `${F}/rewardbench-results.jsonl`, '--weighting', 'leaderboard-table', '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc.weighting).toBe('leaderboard-table');
    expect(doc.sections.Reasoning).toBeCloseTo(31.25, 10); // (0.25*984 + 164) / 1312
    expect(r.stderr).toMatch(/warning: 2 pairs decided tie, each counted as 0\.5 \(the official script counts a tie as wrong/);
    const text = await dtr(['eval', '--scores', `${F}/rewardbench-results.jsonl`, '--weighting', 'leaderboard-table']);
    expect(text.stdout).toMatch(/\(subsets weighted by the official script's fixed table; /);
  });

  it("says in --help what each weighting is: the file's counts, or the official table (exact without ties)", async () => {
    const r = await dtr(['eval', '--help']);
    expect(r.stdout).toMatch(/examples \(default\)\s+subsets weighted by their example counts in the evaluated file/);
    expect(r.stdout).toMatch(/numbers exactly when no pair is a tie/);
    expect(r.stdout).not.toMatch(/official weighting/);
  });

  it('counts and warns about pairs scored from truncated conversations', async () => {
    const path = join(tmp, 'truncated.jsonl');
    const rows = readFileSync(`${F}/rewardbench-results.jsonl`, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(0, 3)
      .map((l) => JSON.parse(l));
    rows[1].truncated = true;
    rows[2].truncated = false;
    writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n'));
    const r = await dtr(['eval', '--scores', path, '--json']);
    expect(JSON.parse(r.stdout).truncated).toBe(1);
    expect(r.stderr).toMatch(/warning: 1 of 3 pairs were scored from conversations shortened to the model's maximum length/);
    rows[0].truncated = 'yes';
    writeFileSync(path, rows.map((x) => JSON.stringify(x)).join('\n'));
    const bad = await dtr(['eval', '--scores', path]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/truncated\.jsonl:1: "truncated" must be true or false, got "yes"/);
  });

  it('reports every bad results row with file:line', async () => {
    const bad = join(tmp, 'bad-results.jsonl');
    writeFileSync(
      bad,
      [
        '{"id": 1, "subset": "hep-go", "preference": "c", "probability": 0.7, "rewards": {"a": {}, "b": {}}, "path": []}',
        '{"id": 2, "subset": "hep-go", "preference": "a", "probability": 1.5, "path": []}',
      ].join('\n'),
    );
    const r = await dtr(['eval', '--scores', bad, '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/E_DATA/);
    expect(r.stderr).toMatch(/bad-results\.jsonl:1: "preference" must be "a", "b" or "tie", got "c"/);
    expect(r.stderr).toMatch(/bad-results\.jsonl:1: rewards\.a\.helpfulness: missing attribute/);
    expect(r.stderr).toMatch(/bad-results\.jsonl:2: "probability" must be a number in \[0, 1\], got 1\.5/);
    // Rewards and path are optional (results of other scorers have none): only the probability is wrong there.
    expect(r.stderr).not.toMatch(/bad-results\.jsonl:2: .*rewards/);
  });
});

// test/fixtures/eval/stump-pairs.jsonl through stump-tree.json (f(d) = 0.9 if d_helpfulness > 0.5, else 0.2):
//   id  subset  d_help  label | published f(d)  f(-d) | symmetric p = (f(d) + 1 - f(-d)) / 2
//   e1  easy     2      a     |   0.9           0.2   |  0.85  -> a  (right)
//   e2  easy    -1      b     |   0.2           0.9   |  0.15  -> b  (right)
//   e3  easy     0      a     |   0.2           0.2   |  0.5   -> tie (0.5)
//   h1  hard     0.5    b     |   0.2           0.2   |  0.5   -> tie (0.5)
//   h2  hard     1      b     |   0.9           0.2   |  0.85  -> a  (wrong)
describe('dtr eval --tree on attribute pairs (hand-computed)', () => {
  it('scores with the symmetric rule, writes results, and --scores re-aggregates them identically', async () => {
    const out = join(tmp, 'stump-results.jsonl');
    const r = await dtr(['eval', '--tree', `${F}/stump-tree.json`, '--data', `${F}/stump-pairs.jsonl`, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.format).toBe('pairs');
    expect(doc.sections).toBeNull();
    // accuracy = (1 + 1 + 0.5 + 0.5 + 0) / 5 = 0.6
    expect(doc.metrics.accuracy).toBeCloseTo(0.6, 12);
    expect(doc.overall).toBeCloseTo(60, 10);
    // easy = 2.5 / 3, hard = 0.5 / 2
    expect(doc.subsets.easy.accuracy).toBeCloseTo(250 / 3, 10);
    expect(doc.subsets.hard).toEqual({ accuracy: 25, n: 2, ties: 1, section: null });
    // log loss = [-ln .85 (e1) - ln(1 - .15) (e2) - ln .5 (e3) - ln .5 (h1) - ln(1 - .85) (h2)] / 5
    expect(doc.metrics.logLoss).toBeCloseTo((-2 * Math.log(0.85) - 2 * Math.log(0.5) - Math.log(0.15)) / 5, 12);
    // Brier = (0.15^2 + 0.15^2 + 0.5^2 + 0.5^2 + 0.85^2) / 5 = 1.2675 / 5
    expect(doc.metrics.brier).toBeCloseTo(1.2675 / 5, 12);
    // ECE: bin [0.8, 0.9): e1, h2 (mean .85, observed .5); bin [0.1, 0.2): e2 (.15 vs 0); bin [0.5, 0.6): e3, h1 (.5 vs .5)
    //   = (2 * 0.35 + 1 * 0.15 + 2 * 0) / 5 = 0.17
    expect(doc.metrics.ece).toBeCloseTo(0.17, 12);
    expect(doc.metrics.tieRate).toBeCloseTo(0.4, 12);
    // The symmetric rule mirrors exactly: position consistency 1.
    expect(doc.metrics.positionConsistency).toBe(1);
    expect(doc.source.rule).toBe('symmetric');

    const rows = readPairResults(out);
    expect(rows.map((x) => [x.id, x.preference])).toEqual([
      ['e1', 'a'],
      ['e2', 'b'],
      ['e3', 'tie'],
      ['h1', 'tie'],
      ['h2', 'a'],
    ]);
    [0.85, 0.15, 0.5, 0.5, 0.85].forEach((p, i) => expect(rows[i]!.probability).toBeCloseTo(p, 12));
    // swapped reading of e1: (0.2 + 1 - 0.9) / 2 = 0.15 = 1 - p, as the symmetric rule guarantees
    expect(rows[0]!.swappedProbability).toBeCloseTo(0.15, 12);
    expect(rows[0]!.path).toEqual([
      expect.objectContaining({ node: 0, attribute: 'helpfulness', delta: 2, threshold: 0.5, went: 'right' }),
    ]);
    expect(rows[0]!.rewards!.a.helpfulness).toBe(4);
    expect(rows[0]!.label).toBe('a');

    const again = await dtr(['eval', '--scores', out, '--json']);
    const redo = JSON.parse(again.stdout);
    for (const key of ['overall', 'subsets', 'metrics', 'ties', 'format']) expect(redo[key]).toEqual(doc[key]);
  });

  it('reproduces the published rule with --asymmetric', async () => {
    const r = await dtr(['eval', '--tree', `${F}/stump-tree.json`, '--data', `${F}/stump-pairs.jsonl`, '--asymmetric', '--json']);
    const doc = JSON.parse(r.stdout);
    // decisions a, b, b, b, a against labels a, b, a, b, b: 3 right
    expect(doc.metrics.accuracy).toBeCloseTo(0.6, 12);
    // log loss = [-ln .9 - ln .8 - ln .2 - ln .8 - ln .1] / 5
    expect(doc.metrics.logLoss).toBeCloseTo(-(Math.log(0.9) + 2 * Math.log(0.8) + Math.log(0.2) + Math.log(0.1)) / 5, 12);
    // e3 and h1 land left both ways round (f(d) = f(-d) = 0.2): b, then b again from the other side: inconsistent
    expect(doc.metrics.positionConsistency).toBeCloseTo(3 / 5, 12);
    expect(doc.ties).toBe(0);
  });
});

describe('dtr eval --compare (hand-computed)', () => {
  // The stump's decisions on stump-pairs.jsonl (labels a, b, a, b, b):
  //   published rule (before): a, b, b, b, a   easy 2/3 = 66.7, hard 1/2 = 50, all 3/5 = 60
  //   symmetric rule (after):  a, b, tie, tie, a   easy 2.5/3 = 83.3, hard 0.5/2 = 25, all 60
  //   e3: b -> tie, label a: neither right: changed; h1: b -> tie, label b: right before: broken
  it('shows score changes and the pairs decided differently', async () => {
    const before = join(tmp, 'asym.jsonl');
    const after = join(tmp, 'sym.jsonl');
    expect(
      (await dtr(['eval', '--tree', `${F}/stump-tree.json`, '--data', `${F}/stump-pairs.jsonl`, '--asymmetric', '--out', before])).code,
    ).toBe(0);
    expect((await dtr(['eval', '--tree', `${F}/stump-tree.json`, '--data', `${F}/stump-pairs.jsonl`, '--out', after])).code).toBe(0);
    const r = await dtr(['eval', '--scores', after, '--compare', before, '--json']);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout).compare;
    expect(c.overall.before).toBeCloseTo(60, 10);
    expect(c.overall.delta).toBeCloseTo(0, 10);
    expect(c.subsets.easy.delta).toBeCloseTo(250 / 3 - 200 / 3, 10);
    expect(c.subsets.hard).toEqual({ before: 50, after: 25, delta: -25 });
    expect(c).toMatchObject({ matched: 5, onlyBefore: [], onlyAfter: [], fixed: 0, broken: 1 });
    expect(c.changed).toEqual([
      { id: 'e3', subset: 'easy', label: 'a', before: 'b', after: 'tie', change: 'changed' },
      { id: 'h1', subset: 'hard', label: 'b', before: 'b', after: 'tie', change: 'broken' },
    ]);
    const text = await dtr(['eval', '--scores', after, '--compare', before]);
    expect(text.stdout).toMatch(/5 pairs in both; 2 decided differently: 0 fixed, 1 broken, 1 other/);
    expect(text.stdout).toMatch(/ {2}hard\s+50\.0\s+25\.0\s+-25\.0/);
    expect(text.stdout).toMatch(/h1 \(hard\): b -> tie \(label b\): broken/);
  });

  it('matches a repeated id by occurrence and warns when the files cover different pairs', async () => {
    const { diffPairResults } = await import('../src/eval/results.js');
    const row = (id: string, preference: 'a' | 'b') => ({
      id,
      subset: null,
      preference,
      probability: 0.5,
      rewards: { a: {} as never, b: {} as never },
      path: [],
    });
    const d = diffPairResults([row('7', 'a'), row('7', 'b'), row('8', 'a')], [row('7', 'a'), row('7', 'a'), row('9', 'a')]);
    expect(d.matched).toBe(2);
    expect(d.changed).toEqual([{ id: '7 (#2)', subset: null, label: 'a', before: 'b', after: 'a', change: 'fixed' }]);
    expect(d.onlyBefore).toEqual(['8']);
    expect(d.onlyAfter).toEqual(['9']);
    const r = await dtr(['eval', '--scores', `${F}/rewardbench-results.jsonl`, '--compare', join(tmp, 'sym.jsonl')]);
    expect(r.stderr).toMatch(/the two results files cover different pairs: 5 only in .*sym\.jsonl, 26 only in the new results/);
  });
});

describe('dtr eval: bad calls and bad input', () => {
  it('needs exactly one of --data and --scores', async () => {
    const none = await dtr(['eval']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give either --data FILE .* or --scores FILE/);
    const both = await dtr(['eval', '--data', 'x', '--scores', 'y']);
    expect(both.code).toBe(2);
  });

  it('says texts need a model, and attribute pairs a tree', async () => {
    const texts = await dtr(['eval', '--data', `${F}/rewardbench-sample.jsonl`]);
    expect(texts.code).toBe(2);
    expect(texts.stderr).toMatch(/rewardbench rows hold response texts, which need a reward model/);
    const noTree = await dtr(['eval', '--data', `${F}/stump-pairs.jsonl`]);
    expect(noTree.code).toBe(2);
    expect(noTree.stderr).toMatch(/give --tree NAME\|PATH/);
  });

  it('refuses to overwrite the data with --out, and writes nothing when the data is bad', async () => {
    const same = await dtr([
      'eval',
      '--tree',
      `${F}/stump-tree.json`,
      '--data',
      `${F}/stump-pairs.jsonl`,
      '--out',
      `${F}/stump-pairs.jsonl`,
    ]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--out must not be the --data file/);
    const bad = join(tmp, 'bad-pairs.jsonl');
    writeFileSync(bad, '{"a": {"helpfulness": 1}, "b": "text", "label": "a"}\n{"id": 2, "label": "c"}\n');
    const out = join(tmp, 'never.jsonl');
    const r = await dtr(['eval', '--tree', `${F}/stump-tree.json`, '--data', bad, '--out', out, '--verbose']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-pairs\.jsonl:1: a\.correctness: missing attribute 'correctness'/);
    expect(r.stderr).toMatch(/bad-pairs\.jsonl:2: label must be "a", "b" or "tie", got the string "c"/);
    expect(r.stderr).toMatch(/bad-pairs\.jsonl:2: a: expected an object of the five attribute rewards \(.*\), missing/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('evaluation set formats', () => {
  it('reads RewardBench rows: a = chosen, label a, the repeated id kept', () => {
    const set = readEvalSet(`${F}/rewardbench-sample.jsonl`);
    expect(set).toMatchObject({ format: 'rewardbench', detected: true, kind: 'text' });
    expect(set.items).toHaveLength(7);
    expect(set.items[0]).toMatchObject({ id: '101', subset: 'alpacaeval-easy', label: 'a', line: 1 });
    expect(set.items[0]!.a).toMatch(/^Leaves drift down/);
    expect(set.items.filter((i) => i.id === '104')).toHaveLength(2);
  });

  it('reads helpsteer2-preference: negative strength = response 1, 0 = equal', () => {
    const path = join(tmp, 'hs2p.jsonl');
    writeFileSync(
      path,
      [
        { prompt: 'p', response_1: 'r1', response_2: 'r2', preference_strength: -2 },
        { prompt: 'p', response_1: 'r1', response_2: 'r2', preference_strength: 3 },
        { prompt: 'p', response_1: 'r1', response_2: 'r2', preference_strength: 0 },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const set = readEvalSet(path);
    expect(set.format).toBe('helpsteer2-preference');
    expect(set.items.map((i) => [i.id, i.label])).toEqual([
      ['L1', 'a'],
      ['L2', 'b'],
      ['L3', 'tie'],
    ]);
  });

  it('reports every missing field of RewardBench rows, and undetectable files', () => {
    const path = join(tmp, 'rb-bad.jsonl');
    writeFileSync(
      path,
      '{"prompt": "p", "chosen": "c", "rejected": 3, "id": 1}\n{"prompt": "p", "chosen": "c", "rejected": "r", "subset": "hep-go"}\n',
    );
    let error: unknown;
    try {
      readEvalSet(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DtrError);
    const e = error as DtrError;
    expect(e.code).toBe('E_DATA');
    expect(e.issues.map((i) => `${i.path.replace(/^.*\//, '')} ${i.message}`)).toEqual([
      'rb-bad.jsonl:1 "rejected" must be a string, got 3',
      'rb-bad.jsonl:1 missing "subset"',
      'rb-bad.jsonl:2 missing "id"',
    ]);
    const odd = join(tmp, 'odd.jsonl');
    writeFileSync(odd, '{"question": "q"}\n');
    expect(() => readEvalSet(odd)).toThrow(/cannot tell the format/);
    expect(() => readEvalSet(odd, 'nope' as never)).toThrow(TypeError);
  });

  it('skips pairs rated equal (label tie) with a warning naming their lines', async () => {
    const path = join(tmp, 'with-equal.jsonl');
    const lines = readFileSync(`${F}/stump-pairs.jsonl`, 'utf8').trimEnd().split('\n');
    lines.push(lines[0]!.replace('"label": "a"', '"label": "tie"').replace('"e1"', '"e9"'));
    writeFileSync(path, `${lines.join('\n')}\n`);
    const r = await dtr(['eval', '--tree', `${F}/stump-tree.json`, '--data', path, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.n).toBe(5); // the equal pair (line 6) is not scored...
    expect(doc.metrics.accuracy).toBeCloseTo(0.6, 12); // ...so the figures are those of the 5 others
    expect(doc.warnings[0]).toBe('1 pair rated equal (label "tie") not scored: no response is preferred (lines 6)');
    expect(r.stderr).toMatch(/warning: 1 pair rated equal/);
  });
});
