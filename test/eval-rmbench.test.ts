/**
 * RM-Bench scoring, hand-computed on test/fixtures/eval/rm-bench-results.jsonl: 6 prompts x 9
 * comparisons from "another scorer" (only {id, subset, chosenStyle, rejectedStyle, preference}).
 * M[i][j] is the share of prompts where the chosen response in style i beat the rejected one in
 * style j (0 concise, 1 detailed plain, 2 detailed markdown). The decisions, per prompt:
 *
 *   c1 chat             right iff i >= j           [[1,0,0],[1,1,0],[1,1,1]]
 *   c2 chat             right except (0,2) wrong,  [[1,1,0],[1,½,1],[1,1,1]]
 *                       (1,1) tie
 *   m1 math             always right               all 1
 *   k1 code             right iff i == j           identity
 *   s1 safety-refuse    right iff i <= j           [[1,1,1],[0,1,1],[0,0,1]]
 *   s2 safety-response  always right               all 1
 *
 * chat   M = [[100,50,0],[100,75,50],[100,100,100]]: hard (50+0+50)/3 = 33.33, normal (100+75+100)/3
 *        = 91.67, easy 100, average (33.33+91.67+100)/3 = 75
 * math   hard = normal = easy = average = 100
 * code   hard 0, normal 100, easy 0, average 33.33
 * safety M = [[100,100,100],[50,100,100],[50,50,100]]: hard 100, normal 100, easy 50, average 83.33
 * overall hard (33.33+100+0+100)/4 = 58.33, normal (91.67+100+100+100)/4 = 97.92, easy
 *        (100+100+0+50)/4 = 62.5, average (75+100+33.33+83.33)/4 = 72.92
 * pairwise over all 54: 6 + 7.5 + 9 + 3 + 6 + 9 = 40.5 right, 0.75
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEvalSet, readEvalSet } from '../src/data/datasets.js';
import { detectResultsFormat, summarizeResults } from '../src/eval/evaluate.js';
import { readPairResults } from '../src/eval/results.js';
import { RM_BENCH_DOMAINS, rmBenchDomainOf, scoreRmBench, styleAccuracies } from '../src/eval/rmbench.js';
import { DtrError } from '../src/errors.js';
import { dtr } from './support/cli.js';
import { tempDir } from './support/temp.js';

const F = 'test/fixtures/eval';
const results = readPairResults(`${F}/rm-bench-results.jsonl`);

describe('RM-Bench scoring (hand-computed on rm-bench-results.jsonl)', () => {
  it('is detected from the style fields, and each domain has the matrix and hard / normal / easy', () => {
    expect(detectResultsFormat(results)).toBe('rm-bench');
    const r = summarizeResults(results);
    expect(r.format).toBe('rm-bench');
    const rm = r.rmBench!;
    expect(rm.domains.chat!.matrix).toEqual([
      [100, 50, 0],
      [100, 75, 50],
      [100, 100, 100],
    ]);
    expect(rm.domains.chat!.hard).toBeCloseTo(100 / 3, 10);
    expect(rm.domains.chat!.normal).toBeCloseTo(275 / 3, 10);
    expect(rm.domains.chat!.easy).toBe(100);
    expect(rm.domains.chat!.average).toBeCloseTo(75, 10);
    expect(rm.domains.chat).toMatchObject({ n: 2, comparisons: 18, ties: 1 });
    expect(rm.domains.math).toMatchObject({ hard: 100, normal: 100, easy: 100, average: 100, n: 1 });
    expect(rm.domains.code).toMatchObject({ hard: 0, normal: 100, easy: 0, n: 1 });
    expect(rm.domains.code!.average).toBeCloseTo(100 / 3, 10);
    // safety-refuse and safety-response are one domain (prefix "safety", as split_dataset_by_domain).
    expect(rm.domains.safety!.matrix).toEqual([
      [100, 100, 100],
      [50, 100, 100],
      [50, 50, 100],
    ]);
    expect(rm.domains.safety).toMatchObject({ hard: 100, normal: 100, easy: 50, n: 2 });
  });

  it('averages over the four domains as the paper reports, in percent', () => {
    const rm = summarizeResults(results).rmBench!;
    expect(rm.overall!.hard).toBeCloseTo(175 / 3, 10); // (33.33 + 100 + 0 + 100) / 4
    expect(rm.overall!.normal).toBeCloseTo(97.9166666667, 8);
    expect(rm.overall!.easy).toBeCloseTo(62.5, 10);
    expect(rm.overall!.average).toBeCloseTo(72.9166666667, 8);
    // The mean of the domain averages equals the mean of the overall hard, normal and easy.
    expect(rm.overall!.average).toBeCloseTo((rm.overall!.hard! + rm.overall!.normal! + rm.overall!.easy!) / 3, 10);
    expect(rm.overall).toMatchObject({ n: 6, comparisons: 54 });
    expect(summarizeResults(results).overall).toBe(rm.overall!.average);
  });

  it('gives the pairwise metrics over all comparisons; without probabilities calibration is not measured', () => {
    const r = summarizeResults(results);
    expect(r.metrics.accuracy).toBeCloseTo(40.5 / 54, 12);
    expect(r.metrics.logLoss).toBeNull();
    expect(r.metrics.probabilityN).toBe(0);
    expect(r.ties).toBe(1);
    expect(r.subsets['safety-refuse']!.accuracy).toBeCloseTo(600 / 9, 10);
    expect(r.warnings).toContain('1 comparison decided tie, each counted as 0.5 (the official RM-Bench code counts a tie as wrong)');
  });

  it('reports a domain with no rows as absent, not zero, and then gives no overall', () => {
    const noCode = results.filter((x) => x.subset !== 'code');
    const rm = summarizeResults(noCode).rmBench!;
    expect(Object.keys(rm.domains)).toEqual(['chat', 'math', 'safety']);
    expect(rm.domains.code).toBeUndefined();
    expect(rm.missingDomains).toEqual(['code']);
    expect(rm.overall).toBeNull();
    expect(rm.warnings).toContain('no overall score: domain code has no rows (the overall is the mean of all four)');
  });

  it('leaves a figure out when a cell it needs is empty, and names the cell', () => {
    const partial = results.filter((x) => !(x.subset === 'math' && x.chosenStyle === 0 && x.rejectedStyle === 2));
    const rm = summarizeResults(partial).rmBench!;
    expect(rm.domains.math!.matrix[0]![2]).toBeNull();
    expect(rm.domains.math!.hard).toBeNull();
    expect(rm.domains.math!.normal).toBe(100);
    expect(rm.overall!.hard).toBeNull();
    expect(rm.overall!.normal).not.toBeNull();
    expect(rm.warnings[0]).toBe(
      'math: 1 of 9 style pairs have no comparisons (concise vs detailed markdown): the figures that need them are not given',
    );
  });

  it('counts subsets outside the four domains apart, and repeated comparisons', () => {
    const s = scoreRmBench([
      { id: '1', subset: 'chat', chosenStyle: 0, rejectedStyle: 0, preference: 'a' },
      { id: '1', subset: 'chat', chosenStyle: 0, rejectedStyle: 0, preference: 'b' },
      { id: '2', subset: 'Chat', chosenStyle: 0, rejectedStyle: 0, preference: 'a' },
    ]);
    expect(s.domains.chat!.matrix[0]![0]).toBe(50);
    expect(s.unknownSubsets).toEqual({ Chat: 1 }); // case-sensitive, as upstream's startswith
    expect(s.duplicateComparisons).toEqual(['1 [chosen 0 vs rejected 0]']);
    expect(s.warnings.some((w) => w.startsWith('1 subset not in any RM-Bench domain'))).toBe(true);
  });

  it('maps subsets to domains by prefix, and computes the triangles of any matrix', () => {
    expect(RM_BENCH_DOMAINS).toEqual(['chat', 'math', 'code', 'safety']);
    expect(['chat', 'math', 'code', 'safety-refuse', 'safety-response', 'Math', 'reasoning'].map(rmBenchDomainOf)).toEqual([
      'chat',
      'math',
      'code',
      'safety',
      'safety',
      null,
      null,
    ]);
    const a = styleAccuracies([
      [90, 60, 30],
      [95, 80, 50],
      [99, 97, 85],
    ]);
    expect(a.hard).toBeCloseTo(140 / 3, 10);
    expect(a.normal).toBeCloseTo(85, 10);
    expect(a.easy).toBeCloseTo(97, 10);
    expect(a.average).toBeCloseTo((140 / 3 + 85 + 97) / 3, 10);
    expect(() => styleAccuracies([[1, 2]])).toThrow(TypeError);
    expect(() => scoreRmBench([{ subset: 'chat', chosenStyle: 3, rejectedStyle: 0, preference: 'a' }])).toThrow(
      /chosenStyle must be 0, 1 or 2/,
    );
  });
});

describe('dtr eval --scores on RM-Bench results', () => {
  it('prints the domain table, the overall and one matrix per domain', async () => {
    const r = await dtr(['eval', '--scores', `${F}/rm-bench-results.jsonl`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rm-bench: 6 prompts, 54 comparisons, 1 tie \(counted 0\.5\)/);
    expect(r.stdout).toMatch(/chat\s+2\s+33\.3\s+91\.7\s+100\.0\s+75\.0/);
    expect(r.stdout).toMatch(/code\s+1\s+0\.0\s+100\.0\s+0\.0\s+33\.3/);
    expect(r.stdout).toMatch(/overall\s+6\s+58\.3\s+97\.9\s+62\.5\s+72\.9/);
    expect(r.stdout).toMatch(
      /safety: % of comparisons won[^\n]*\n[^\n]*\nconcise\s+100\.0\s+100\.0\s+100\.0\ndetailed plain\s+50\.0\s+100\.0\s+100\.0/,
    );
    expect(r.stdout).toMatch(/log loss\s+not measured/);
  });

  it('--json has {domains: {NAME: {easy, normal, hard, average, n}}, overall} in percent', async () => {
    const r = await dtr(['eval', '--scores', `${F}/rm-bench-results.jsonl`, '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc.format).toBe('rm-bench');
    expect(Object.keys(doc.domains)).toEqual(['chat', 'math', 'code', 'safety']);
    expect(doc.domains.safety).toMatchObject({ hard: 100, normal: 100, easy: 50, n: 2 });
    expect(doc.domains.safety.average).toBeCloseTo(250 / 3, 10);
    expect(doc.overall.average).toBeCloseTo(72.9166666667, 8);
    expect(doc.overall.n).toBe(6);
    expect(doc.prompts).toBe(6);
    expect(doc.styles).toEqual(['concise', 'detailed plain', 'detailed markdown']);
    expect(doc.metrics.logLoss).toBeNull();
  });

  it('--format rm-bench refuses results without styles, naming the lines', async () => {
    const path = join(tempDir(), 'no-styles.jsonl');
    writeFileSync(
      path,
      '{"id": "1", "subset": "chat", "preference": "a"}\n{"id": "1", "subset": "chat", "chosenStyle": 0, "rejectedStyle": 1, "preference": "b"}\n',
    );
    const bad = await dtr(['eval', '--scores', path, '--format', 'rm-bench']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/rm-bench results need chosenStyle and rejectedStyle .* on every row; 1 row lacks them \(line 1\)/);
    const odd = join(tempDir(), 'bad-style.jsonl');
    writeFileSync(
      odd,
      '{"id": "1", "subset": "chat", "chosenStyle": 3, "rejectedStyle": 1, "preference": "b"}\n{"id": "2", "subset": "chat", "chosenStyle": 1, "preference": "b"}\n',
    );
    const r2 = await dtr(['eval', '--scores', odd, '--verbose']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(
      /bad-style\.jsonl:1: "chosenStyle" must be 0 \(concise\), 1 \(detailed plain\) or 2 \(detailed markdown\), got 3/,
    );
    expect(r2.stderr).toMatch(/bad-style\.jsonl:2: "rejectedStyle" is missing: give both chosenStyle and rejectedStyle, or neither/);
  });

  it("refuses RewardBench's --weighting table on RM-Bench results (exit 2, naming the flag)", async () => {
    const r = await dtr(['eval', '--scores', `${F}/rm-bench-results.jsonl`, '--weighting', 'leaderboard-table']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--weighting leaderboard-table weights RewardBench's subsets; these are rm-bench results/);
  });

  it('--compare matches comparisons by id and styles', async () => {
    const after = join(tempDir(), 'after.jsonl');
    // c1 now also wins its three hard comparisons: chat hard 33.3 -> 83.3, three pairs fixed.
    const rows = results.map(({ line: _line, ...x }) =>
      x.id === 'c1' && x.chosenStyle! < x.rejectedStyle! ? { ...x, preference: 'a' } : x,
    );
    writeFileSync(after, rows.map((x) => JSON.stringify(x)).join('\n'));
    const r = await dtr(['eval', '--scores', after, '--compare', `${F}/rm-bench-results.jsonl`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout).compare;
    expect(c).toMatchObject({ matched: 54, fixed: 3, broken: 0, onlyBefore: [], onlyAfter: [] });
    expect(c.changed.map((x: { id: string }) => x.id)).toEqual([
      'c1 [chosen 0 vs rejected 1]',
      'c1 [chosen 0 vs rejected 2]',
      'c1 [chosen 1 vs rejected 2]',
    ]);
    expect(c.scores.hard.delta).toBeCloseTo(50 / 4, 10); // chat hard +50, over four domains
    expect(c.scores.chat.after).toBeCloseTo((250 / 3 + 275 / 3 + 100) / 3, 10);
    const text = await dtr(['eval', '--scores', after, '--compare', `${F}/rm-bench-results.jsonl`]);
    expect(text.stdout).toMatch(/hard\s+58\.3\s+70\.8\s+\+12\.5/);
    expect(text.stdout).toMatch(/c1 \[chosen 0 vs rejected 2\] \(chat\): b -> a \(label a\): fixed/);
  });
});

describe('reading RM-Bench data', () => {
  it('turns each row into its 9 chosen-vs-rejected comparisons, a = chosen', () => {
    const set = readEvalSet(`${F}/rm-bench-sample.jsonl`);
    expect(set).toMatchObject({ format: 'rm-bench', detected: true, kind: 'text', rows: 5 });
    expect(set.items).toHaveLength(45);
    const first = set.items.slice(0, 9);
    expect(first.map((i) => [i.chosenStyle, i.rejectedStyle])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
      [2, 0],
      [2, 1],
      [2, 2],
    ]);
    expect(first.every((i) => i.id === 'chat-1' && i.label === 'a' && i.subset === 'chat' && i.line === 1)).toBe(true);
    expect(first[5]!.a).toMatch(/^A thermostat measures the temperature/); // chosen, detailed plain
    expect(first[5]!.b).toMatch(/^A thermostat measures energy use\.\n\n\*\*How/); // rejected, markdown
  });

  it('reads the JSON arrays RM-Bench publishes, with their "domain" field, naming elements in errors', () => {
    const dir = tempDir();
    const row = { id: 7, prompt: 'p', domain: 'safety-refuse', chosen: ['a', 'b', 'c'], rejected: ['d', 'e', 'f'] };
    writeFileSync(join(dir, 'total_dataset.json'), JSON.stringify([row, { ...row, id: 8, chosen: ['a', 'b'] }]));
    let error: unknown;
    try {
      readEvalSet(join(dir, 'total_dataset.json'), undefined, 'total_dataset.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DtrError);
    expect((error as DtrError).issues).toEqual([
      { path: 'total_dataset.json[1]', message: '"chosen" must hold 3 responses (concise, detailed plain, detailed markdown), got 2' },
    ]);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify([row]));
    const set = readEvalSet(join(dir, 'ok.json'));
    expect(set.items.map((i) => i.subset)).toEqual(Array(9).fill('safety-refuse'));
    writeFileSync(join(dir, 'broken.json'), '[{"id": 1},');
    expect(() => readEvalSet(join(dir, 'broken.json'))).toThrow(/starts with '\[' but is not a JSON array/);
  });

  it('reports every bad row at once with file:line', () => {
    const bad = parse([
      { prompt: 'p', subset: 'chat', chosen: ['a', 'b', 'c'], rejected: ['d', 'e', 'f'] },
      { id: 2, prompt: 'p', chosen: ['a', 'b', 'c'], rejected: ['d', 'e', 5] },
    ]);
    expect(bad).toEqual([
      'rm.jsonl:1 missing "id"',
      'rm.jsonl:2 missing "subset" (or "domain"): chat, math, code, safety-refuse or safety-response',
      'rm.jsonl:2 rejected[2] must be a string, got 5',
    ]);
  });
});

/** The issues of parsing rows as rm-bench (their `path message`). */
function parse(values: unknown[]): string[] {
  try {
    parseEvalSet(
      values.map((value, i) => ({ line: i + 1, value })),
      'rm.jsonl',
      'rm-bench',
    );
  } catch (e) {
    if (e instanceof DtrError) return e.issues.map((i) => `${i.path} ${i.message}`);
    throw e;
  }
  return [];
}

describe('RM-Bench as published: the per-domain files and total_dataset.json', () => {
  const P = `${F}/rm-bench-files`;
  const FILES = ['chat', 'math', 'code', 'safety-refuse', 'safety-response'].map((d) => `${P}/${d}_filtered.json`);
  /** A deterministic stand-in scorer: the same decision for the same comparison, whichever file it came from. */
  const decide = (id: string, i: number, j: number): 'a' | 'b' | 'tie' => (['a', 'b', 'a', 'tie'] as const)[(id.length + 3 * i + j) % 4]!;
  const score = (items: ReturnType<typeof readEvalSet>['items']) =>
    scoreRmBench(
      items.map((it) => ({
        id: it.id,
        subset: it.subset,
        chosenStyle: it.chosenStyle!,
        rejectedStyle: it.rejectedStyle!,
        preference: decide(it.id, it.chosenStyle!, it.rejectedStyle!),
      })),
    );

  it('the per-domain files, whose subset names the source data set, give the figures total_dataset.json gives', () => {
    const total = readEvalSet(`${P}/total_dataset.json`);
    const perFile = FILES.flatMap((f) => readEvalSet(f).items);
    expect(perFile.map((i) => [i.id, i.subset, i.chosenStyle, i.rejectedStyle, i.a, i.b])).toEqual(
      total.items.map((i) => [i.id, i.subset, i.chosenStyle, i.rejectedStyle, i.a, i.b]),
    );
    const fromTotal = score(total.items);
    const fromFiles = score(perFile);
    expect(fromTotal.overall).not.toBeNull();
    expect(fromFiles.domains).toEqual(fromTotal.domains);
    expect(fromFiles.overall).toEqual(fromTotal.overall);
    expect(fromFiles.unknownSubsets).toEqual({});
  });

  it('the domain comes from the file name, else from the known source subsets, else --domain', () => {
    const dir = tempDir();
    // The safety-refuse file's rows under another name: placed by their source subsets.
    const rows = JSON.parse(readFileSync(`${P}/safety-refuse_filtered.json`, 'utf8'));
    const chat = JSON.parse(readFileSync(`${P}/chat_filtered.json`, 'utf8'));
    writeFileSync(join(dir, 'mine.json'), JSON.stringify([...rows, ...chat]));
    expect([...new Set(readEvalSet(join(dir, 'mine.json')).items.map((i) => i.subset))]).toEqual(['safety-refuse', 'chat']);
    // A subset no rule knows stays as it is (reported as outside every domain), unless --domain says.
    writeFileSync(join(dir, 'other.json'), JSON.stringify([{ ...chat[0], subset: 'my-own-set' }]));
    expect(readEvalSet(join(dir, 'other.json')).items[0]!.subset).toBe('my-own-set');
    expect(readEvalSet(join(dir, 'other.json'), undefined, 'other.json', { domain: 'code' }).items[0]!.subset).toBe('code');
  });

  it('dtr eval --domain is checked: a known domain, RM-Bench data only', async () => {
    const bad = await dtr(['eval', '--data', `${F}/rewardbench-sample.jsonl`, '--domain', 'nope', '--tree', `${F}/stump-tree.json`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--domain/);
    const scores = await dtr(['eval', '--scores', `${F}/rm-bench-results.jsonl`, '--domain', 'chat']);
    expect(scores.code).toBe(2);
    expect(scores.stderr).toMatch(/--domain does not apply to --scores/);
  });
});
