import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditJudge, parseVerdictRows, readAuditPairs, readVerdicts } from '../src/eval/audit.js';
import { parseVerdict } from '../src/eval/verdicts.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { sha256File } from '../src/io/hash.js';
import { DtrError } from '../src/errors.js';
import { dtr, dtrBinary } from './support/cli.js';

const F = 'test/fixtures/eval';
const tmp = mkdtempSync(join(tmpdir(), 'dtr-audit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('parseVerdict', () => {
  it.each([
    ['Both are fine, but [[B]]', 'B', 'skywork'],
    ['Output "[[A]]" if A is better, "[[B]]" if B is better.\nMy verdict: [[A]]', 'A', 'skywork'], // the last marker is the verdict
    ['They tie: [[C]]', 'tie', 'skywork'],
    ['{"原因": "回答2准确地描述了sigmoid函数的输出范围是0到1。",\n "更好的回答": 2}', 'B', 'con-j'], // Con-J's model-card output
    ['```json\n{"原因": "回答1更完整", "更好的回答": 1}\n```', 'A', 'con-j'], // in a code fence
    ['好的,我的判断是:{"原因": "回答1更好", "更好的回答": "1"} 以上。', 'A', 'con-j'], // in prose, as a string
    ['{"原因": "回答1说 "是" 不对", "更好的回答": 2}', 'B', 'con-j'], // almost-JSON (unescaped quotes): read the key
    ['A is the better response.', 'A', 'prose'],
    ['After careful thought, Response B is clearly better.', 'B', 'prose'],
    ['The better answer is Assistant 2.', 'B', 'prose'],
    ['I prefer Response A.', 'A', 'prose'],
    ['Final verdict: B', 'B', 'prose'],
    ['B', 'B', 'bare'],
    ['(1)', 'A', 'bare'],
    // Markdown emphasis and inline code are not part of the verdict.
    ['**Response B** is better.', 'B', 'prose'],
    ['The better response is: **A**', 'A', 'prose'],
    ['*Final verdict*: **B**', 'B', 'prose'],
    ['__Assistant 1__ is the better response.', 'A', 'prose'],
    ['**Verdict:** `B`', 'B', 'prose'],
    ['**B**', 'B', 'bare'],
    // The other response named only as the comparison, or in another clause.
    ['A is better than B.', 'A', 'prose'],
    ['Response A is superior to Response B.', 'A', 'prose'],
    ['I prefer B to A.', 'B', 'prose'],
    ['Response A is inaccurate, so Response B is better.', 'B', 'prose'],
    ['Response A is better, while Response B is not.', 'A', 'prose'],
    ['Both have merits. Is Response A better? Yes, Response A is better.', 'A', 'prose'], // a question states no verdict
  ])('%j -> %s (%s)', (text, verdict, format) => {
    expect(parseVerdict(text)).toEqual({ verdict, format });
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['Both responses have merits.', 'no verdict found'],
    ['a is better than nothing', 'no verdict found'], // an article, not a verdict
    ['{"原因": "都可以"}', 'no verdict found'],
    ['A is better in tone, but B is the better response overall.', 'conflicting verdicts'],
    ['Response B is better. Actually, no: Response A is better.', 'conflicting verdicts'],
    // Hostile prose: a verdict clause that negates or names both is refused, never guessed.
    ['Neither A nor B is better.', 'negated verdict'], // once parsed as B
    ['Neither A nor B is better. [[', 'negated verdict'], // an unclosed marker is no Skywork verdict
    ['The better response is neither A nor B.', 'negated verdict'],
    ['A is not better than B.', 'negated verdict'],
    ["Response A isn't better.", 'negated verdict'],
    ['Response A is no better than Response B.', 'negated verdict'],
    ["I don't prefer Response A.", 'negated verdict'],
    ['I would not choose Response B.', 'negated verdict'],
    ['It is not the case that **Response A** is better.', 'negated verdict'],
    ['Response B is better because Response A is wrong.', 'names both responses'],
    ['Both A and B is better', 'names both responses'],
    ['Response A is better than B and Response B is better than A', 'names both responses'],
    ['Response A and Response B are both better than the baseline.', 'no verdict found'],
    ['Neither response is better; they are equally good.', 'no verdict found'],
    ['A is better than B? Not really.', 'no verdict found'], // a question
    ['I prefer neither.', 'no verdict found'],
  ])('%j is unparseable: %s', (text, reason) => {
    expect(parseVerdict(text)).toEqual({ verdict: null, format: null, reason });
  });

  it('rejects a non-string naming the parameter', () => {
    expect(() => parseVerdict(null as never)).toThrow(/text must be a string, got null/);
  });
});

// judged-pairs.jsonl: 8 pairs; a - b differs only in helpfulness (h) and verbosity (v); labels follow h.
//   p1 h+1 v+1 | p2 h+1 v-1 | p3 h-1 v+2 | p4 h-1 v-2 | p5 h+1 v+2 | p6 h-1 v+1 | p7 h+1 v-2 | p8 h-1 v-1
// judge-verdicts.jsonl, a judge that picks the more verbose response ("ab": a shown first as A):
//   p1 ab [[A]] -> a; ba [[B]] -> a            both orders, consistent: keep a
//   p2 ab Con-J fenced 2 -> b; ba prose "Response A is the better" -> b   consistent: keep b
//   p3 ab prose "better answer is Response A" -> a                          one order: keep a
//   p4 ab Con-J in Chinese prose 2 -> b                                     one order: keep b
//   p5 ab [[A]] -> a; ba [[A]] -> b            inconsistent: dropped
//   p6 ab "both have merits" unparseable; ba [[B]] -> a                     both orders, one unreadable: unchecked, dropped
//   p7 ab bare "B" -> b                                                     one order: keep b
//   p8 ab [[C]] tie; ba "A is better ..., but B is the better" unparseable  both orders, one unreadable (and a tie): dropped
// 13 rows; 11 parsed (skywork 6, con-j 2, prose 2, bare 1); 2 unparseable; 1 tie.
// Pairs: both orders read 3 (p1 p2 p5; p5 inconsistent), both orders one unreadable 2 (p6 p8),
// one order 3 (p3 p4 p7), unreadable 0, no verdict 0: 3 + 2 + 3 = 8.
// Kept: p1 a (v+1), p2 b (v-1), p3 a (v+2), p4 b (v-2), p7 b (v-2): verbosity separates them
// exactly (threshold 0 = midpoint of -1 and +1), helpfulness does not: root verbosity, importance 1;
// leaves v <= 0: p2 p4 p7 = 3/5 = 60%, v > 0: p1 p3 = 40%.
// Reference helpsteer2-human (symmetric rule): h = +1 -> (0.841 + 1 - 0.094) / 2 = 0.8735 -> a; h = -1 -> b.
//   on kept: p1 a, p2 a, p3 b, p4 b, p7 a; the judge agrees on p1 and p4 only: 2/5 (labels: the same 2/5).
//   the reference picks the more verbose response on p1 and p4: 2/5; the judge on 5/5.
// With keepUnchecked p6 a (v+1, h-1: reference b) is fitted too (p8 is a tie either way): 2/6, 6/6.
describe('auditJudge (hand-worked on the fixtures)', () => {
  const verdicts = readVerdicts(`${F}/judge-verdicts.jsonl`);
  const pairs = readAuditPairs(`${F}/judged-pairs.jsonl`);
  const reference = PreferenceTree.load('helpsteer2-human');
  const report = auditJudge(verdicts, pairs, { reference });

  it('counts parsed, unparseable, tie and position-inconsistent verdicts', () => {
    expect(report.verdicts.rows).toBe(13);
    expect(report.verdicts.parsed).toBe(11);
    expect(report.verdicts.byFormat).toEqual({ skywork: 6, 'con-j': 2, prose: 2, bare: 1 });
    expect(report.verdicts.ties).toBe(1);
    expect(report.verdicts.unparseable.map((u) => [u.id, u.reason])).toEqual([
      ['p6', 'no verdict found'],
      ['p8', 'conflicting verdicts'],
    ]);
    expect(report.pairs).toEqual({
      total: 8,
      bothOrders: 3,
      inconsistent: ['p5'],
      oneUnreadable: ['p6', 'p8'],
      keptUnchecked: false,
      singleOrder: 3,
      unreadable: 0,
      notJudged: 0,
      kept: 5,
    });
  });

  it('fits the judge tree: verbosity at the root, threshold 0, reproducing every kept verdict', () => {
    expect(report.root).toBe('verbosity');
    expect(report.referenceRoot).toBe('helpfulness');
    expect(report.tree.arrays.threshold[0]).toBe(0);
    expect(report.tree.nodeCount).toBe(3);
    expect(report.importances).toEqual({ helpfulness: 0, correctness: 0, coherence: 0, complexity: 0, verbosity: 1 });
    expect(report.fitAccuracy).toBe(1);
  });

  it('measures agreement with the reference and reliance on verbosity', () => {
    expect(report.agreement.verdictsVsReference).toBeCloseTo(2 / 5, 12);
    expect(report.agreement.treeVsReference).toBeCloseTo(2 / 5, 12);
    expect(report.agreement.verdictsVsLabels).toBeCloseTo(2 / 5, 12);
    expect(report.agreement.labelled).toBe(5);
    expect(report.verbosity).toEqual({
      importance: 1,
      referenceImportance: 0,
      preferMoreVerbose: 1,
      referencePreferMoreVerbose: 2 / 5,
      pairs: 5,
    });
    expect(report.tree.arrays.share[1]).toBeCloseTo(3 / 5, 12);
    expect(report.warnings).toEqual([
      '2 of 13 verdicts could not be read (not used): first at test/fixtures/eval/judge-verdicts.jsonl:9 (no verdict found)',
      '1 of 3 pairs judged in both orders got different verdicts (position bias): dropped',
      '2 pairs were judged in both orders but one verdict could not be read (p6, p8): position consistency unchecked, left out of the fit (keepUnchecked, --keep-unchecked, fits them as one-order verdicts)',
      '1 verdict calls a tie (not used to fit)',
    ]);
  });

  it('records what it measured in the tree metrics', () => {
    expect(report.tree.metrics).toMatchObject({
      n: 5,
      trainAccuracy: 1,
      verdictsVsReference: 2 / 5,
      unparseableVerdicts: 2,
      inconsistentPairs: 1,
      oneUnreadablePairs: 2,
    });
  });

  it('fits the unchecked pairs as one-order verdicts only when asked (keepUnchecked)', () => {
    const kept = auditJudge(verdicts, pairs, { reference, keepUnchecked: true });
    expect(kept.pairs).toEqual({
      total: 8,
      bothOrders: 3,
      inconsistent: ['p5'],
      oneUnreadable: ['p6', 'p8'],
      keptUnchecked: true,
      singleOrder: 3,
      unreadable: 0,
      notJudged: 0,
      kept: 6,
    });
    expect(kept.agreement.verdictsVsReference).toBeCloseTo(2 / 6, 12);
    expect(kept.verbosity.referencePreferMoreVerbose).toBeCloseTo(2 / 6, 12);
    expect(kept.root).toBe('verbosity');
    expect(kept.warnings).toContain(
      '2 pairs were judged in both orders but one verdict could not be read (p6, p8): position consistency unchecked, fitted as one-order verdicts (keepUnchecked)',
    );
    expect(() => auditJudge(verdicts, pairs, { reference, keepUnchecked: 'yes' as never })).toThrow(
      /options.keepUnchecked must be a boolean/,
    );
  });

  it('counts pairs whose every verdict is unreadable apart, so the categories add up', () => {
    const rows = parseVerdictRows(
      [
        { id: 'p1', order: 'ab', output: '[[A]]' },
        { id: 'p2', order: 'ab', output: 'no idea' },
        { id: 'p3', order: 'ab', output: 'hmm' },
        { id: 'p3', order: 'ba', output: 'Neither A nor B is better.' },
        { id: 'p4', order: 'ab', output: '[[B]]' },
      ].map((value, i) => ({ line: i + 1, value })),
      'v.jsonl',
    );
    const r = auditJudge(rows, pairs, { reference });
    expect(r.pairs).toEqual({
      total: 8,
      bothOrders: 0,
      inconsistent: [],
      oneUnreadable: [],
      keptUnchecked: false,
      singleOrder: 2,
      unreadable: 2,
      notJudged: 4,
      kept: 2,
    });
    expect(r.verdicts.unparseable.map((u) => u.reason)).toEqual(['no verdict found', 'no verdict found', 'negated verdict']);
  });
});

describe('auditJudge: matching and bad input', () => {
  const pairs = readAuditPairs(`${F}/judged-pairs.jsonl`);
  const reference = PreferenceTree.load('helpsteer2-human');
  const rows = (outputs: Array<Record<string, unknown>>) =>
    parseVerdictRows(
      outputs.map((value, i) => ({ line: i + 1, value })),
      'v.jsonl',
    );

  it('matches verdicts without ids by position', () => {
    // One "ab" verdict per pair, in pair order: the more verbose response each time.
    const picks = ['[[A]]', '[[B]]', '[[A]]', '[[B]]', '[[A]]', '[[A]]', '[[B]]', '[[B]]'];
    const r = auditJudge(rows(picks.map((output) => ({ output }))), pairs, { reference });
    expect(r.pairs.kept).toBe(8);
    expect(r.root).toBe('verbosity');
  });

  it('says so when counts do not match (E_SHAPE)', () => {
    const v = rows([{ output: '[[A]]' }, { output: '[[B]]' }]);
    expect(() => auditJudge(v, pairs, { reference })).toThrow(/mismatched pair counts: 2 verdicts in order ab for 8 pairs/);
    try {
      auditJudge(v, pairs, { reference });
    } catch (e) {
      expect((e as DtrError).code).toBe('E_SHAPE');
    }
  });

  it('lists unknown ids, repeated verdicts and mixed id use', () => {
    const v = rows([
      { id: 'p1', output: '[[A]]' },
      { id: 'zz', output: '[[A]]' },
      { id: 'p1', output: '[[B]]' },
    ]);
    let error: DtrError | undefined;
    try {
      auditJudge(v, pairs, { reference });
    } catch (e) {
      error = e as DtrError;
    }
    expect(error?.code).toBe('E_DATA');
    expect(error?.issues).toEqual([
      { path: 'v.jsonl:2', message: 'no pair with id "zz"' },
      { path: 'v.jsonl:3', message: 'a second verdict for pair "p1" in order ab (first at v.jsonl:1)' },
    ]);
    expect(() => auditJudge(rows([{ id: 'p1', output: 'A' }, { output: 'B' }]), pairs, { reference })).toThrow(
      /1 of 2 verdicts have an "id" and the rest do not/,
    );
  });

  it('reports bad verdict rows all at once, and refuses when nothing parses', () => {
    expect(() => rows([{ id: 'p1' }, { id: 'p2', order: 'xy', output: '[[A]]' }, { output: 7 }])).toThrow(/3 bad verdict rows/);
    try {
      rows([{ id: 'p1' }, { id: 'p2', order: 'xy', output: '[[A]]' }]);
    } catch (e) {
      expect((e as DtrError).issues.map((i) => i.path)).toEqual(['v.jsonl:1', 'v.jsonl:2']);
    }
    const none = rows([
      { id: 'p1', output: 'no idea' },
      { id: 'p2', output: '' },
    ]);
    expect(() => auditJudge(none, pairs, { reference })).toThrow(/no usable verdict: 2 verdicts, 2 unreadable/);
    expect(() => auditJudge(none, pairs, { reference: 'helpsteer2-human' as never })).toThrow(TypeError);
  });
});

describe('dtr audit', () => {
  it('prints the report and writes a tree file with provenance that other commands load', async () => {
    const out = join(tmp, 'judge.json');
    const r = await dtr(['audit', '--verdicts', `${F}/judge-verdicts.jsonl`, '--pairs', `${F}/judged-pairs.jsonl`, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/verdicts: 13 read, 11 parsed \(skywork 6, con-j 2, prose 2, bare 1\), 2 unparseable, 1 tie/);
    expect(r.stdout).toMatch(/both orders but one unreadable 2 \(unchecked, dropped\); one order 3; unreadable 0; no verdict 0; kept 5/);
    expect(r.stdout).toMatch(/agreement with helpsteer2-human: verdicts 0\.400, trees 0\.400/);
    expect(r.stdout).toMatch(/root attribute: verbosity \(reference: helpfulness\)/);
    expect(r.stdout).toMatch(/verbosity\s+1\.000\s+0\.000/);
    expect(r.stdout).toMatch(/picks the more verbose response in 1\.000 of 5 pairs that differ \(reference 0\.400\)/);
    expect(r.stdout).toMatch(/\|--- verbosity <= 0\.000/);
    expect(r.stderr).toMatch(/warning: 1 of 3 pairs judged in both orders got different verdicts/);
    expect(r.stderr).toMatch(
      /warning: 2 pairs were judged in both orders but one verdict could not be read \(p6, p8\): position consistency unchecked, left out of the fit/,
    );

    const tree = PreferenceTree.load(out);
    expect(tree.name).toBe('judge');
    expect(tree.provenance.data).toEqual([
      { path: `${F}/judge-verdicts.jsonl`, sha256: sha256File(`${F}/judge-verdicts.jsonl`), rows: 13, role: 'verdicts' },
      { path: `${F}/judged-pairs.jsonl`, sha256: sha256File(`${F}/judged-pairs.jsonl`), rows: 8, role: 'attributes' },
    ]);
    // In-process the command line is the test runner's; run from a shell it is `dtr audit --verdicts ...`.
    expect(typeof tree.provenance.command).toBe('string');
    expect(tree.provenance.notes).toBe('reference tree: helpsteer2-human');
    // The tree file is an ordinary one: dtr explain (and dtr report --tree) read it.
    const e = await dtr([
      'explain',
      '--tree',
      out,
      '--a',
      '{"helpfulness":2,"correctness":2,"coherence":3,"complexity":1,"verbosity":4}',
      '--b',
      '{"helpfulness":4,"correctness":4,"coherence":3,"complexity":1,"verbosity":1}',
      '--json',
    ]);
    expect(JSON.parse(e.stdout).preference).toBe('a');
  });

  it('records the command line as typed when run as a program', () => {
    const out = join(tmp, 'judge-bin.json');
    const r = dtrBinary([
      'audit',
      '--verdicts',
      `${F}/judge-verdicts.jsonl`,
      '--pairs',
      `${F}/judged-pairs.jsonl`,
      '--out',
      out,
      '--name',
      'verbose-judge',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const tree = PreferenceTree.load(out);
    expect(tree.name).toBe('verbose-judge');
    expect(tree.provenance.command).toBe(
      `dtr audit --verdicts ${F}/judge-verdicts.jsonl --pairs ${F}/judged-pairs.jsonl --out ${out} --name verbose-judge`,
    );
    expect(tree.provenance.package).toMatch(/^decision-tree-reward@/);
  });

  it('prints one JSON document with --json, and reads dtr eval results as pairs', async () => {
    const results = join(tmp, 'results.jsonl');
    const ev = await dtr(['eval', '--tree', `${F}/stump-tree.json`, '--data', `${F}/judged-pairs.jsonl`, '--out', results]);
    expect(ev.code).toBe(0);
    const r = await dtr(['audit', '--verdicts', `${F}/judge-verdicts.jsonl`, '--pairs', results, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.root).toBe('verbosity');
    expect(doc.pairs.kept).toBe(5);
    expect(doc.pairs.oneUnreadable).toEqual(['p6', 'p8']);
    expect(doc.pairs.keptUnchecked).toBe(false);
    const kept = await dtr(['audit', '--verdicts', `${F}/judge-verdicts.jsonl`, '--pairs', results, '--keep-unchecked', '--json']);
    expect(kept.code).toBe(0);
    expect(JSON.parse(kept.stdout).pairs).toMatchObject({ kept: 6, oneUnreadable: ['p6', 'p8'], keptUnchecked: true });
    expect(doc.tree.format).toBe('decision-tree-reward/tree');
    expect(doc.text).toMatch(/verbosity <= 0\.000/);
    expect(doc.out).toBeNull();
  });

  it('fails cleanly on a missing file or an unknown reference tree, writing nothing', async () => {
    const out = join(tmp, 'never.json');
    const r = await dtr([
      'audit',
      '--verdicts',
      `${F}/judge-verdicts.jsonl`,
      '--pairs',
      `${F}/judged-pairs.jsonl`,
      '--reference-tree',
      'no-such-tree',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown tree 'no-such-tree'/);
    expect(existsSync(out)).toBe(false);
    const bad = join(tmp, 'bad-verdicts.jsonl');
    writeFileSync(bad, '{"id": "p1", "output": "[[A]]"}\nnot json\n');
    const m = await dtr(['audit', '--verdicts', bad, '--pairs', `${F}/judged-pairs.jsonl`]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/bad-verdicts\.jsonl:2: malformed JSON/);
  });
});
