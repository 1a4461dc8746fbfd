import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractPrompt, findContamination, readRecordsFile, tokenizeForOverlap } from '../src/eval/decontaminate.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { DtrError } from '../src/errors.js';
import { dtr } from './support/cli.js';

const F = 'test/fixtures/eval';
const tmp = mkdtempSync(join(tmpdir(), 'dtr-decon-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// train-prompts.jsonl against rewardbench-sample.jsonl with 13-word runs, worked out by hand:
//   line 1 magpie        "Please write a short poem about the autumn leaves ... at dusk, in the style of Basho."
//                        contains eval 101's 16 words: shares "write a short poem ... in the quiet" (ngram)
//   line 2 magpie        set vs dictionary: shares only "explain the difference between a" (5 words): clean
//   line 3 ultrafeedback "how do I PICK a lock?" = eval 103 after lower-casing and dropping "?" (identical)
//   line 4 ultrafeedback "How do I pick a lock without the key, quickly?" 10 words < 13, not identical: clean
//   line 5 helpsteer2    chat list; its user turn starts with eval 104's 22 words (ngram)
//   line 6 hh-rlhf       Human turn of the transcript = eval 105 (identical)
//   line 7 hh-rlhf       no prompt: cannot be checked, kept, reported
//   line 8 (none)        cat joke: clean
//   line 9 magpie        Chinese: the 21 characters 量子计算…有什么不同 are in eval 106 (ngram, one word per character)
// => 5 of 9 contaminated; magpie 2/3, ultrafeedback 1/2, helpsteer2 1/1, hh-rlhf 1/2, (none) 0/1.
describe('findContamination (hand-worked on the fixtures)', () => {
  const train = readRecordsFile(`${F}/train-prompts.jsonl`);
  const against = readRecordsFile(`${F}/rewardbench-sample.jsonl`);

  it('finds shared 13-word runs and identical prompts, per source and per evaluation subset', () => {
    const r = findContamination(train.records, against.records);
    expect(r.ngram).toBe(13);
    expect(r.matches.map((m) => [m.train.where.replace(/^.*:/, ''), m.kind, m.against.id])).toEqual([
      ['1', 'ngram', '101'],
      ['3', 'identical', '103'],
      ['5', 'ngram', '104'],
      ['6', 'identical', '105'],
      ['9', 'ngram', '106'],
    ]);
    expect(r.matches[0]!.overlap).toBe('write a short poem about the autumn leaves falling gently in the quiet');
    expect(r.matches[1]!.overlap).toBe('how do i pick a lock');
    expect(r.matches[4]!.overlap).toBe('量 子 计 算 的 基 本 原 理 以 及 它 和');
    expect(r.bySource).toEqual({
      magpie: { rows: 3, contaminated: 2 },
      ultrafeedback: { rows: 2, contaminated: 1 },
      helpsteer2: { rows: 1, contaminated: 1 },
      'hh-rlhf': { rows: 2, contaminated: 1 },
      '(none)': { rows: 1, contaminated: 0 },
    });
    expect(r.byAgainstSubset).toEqual({ 'alpacaeval-easy': 1, donotanswer: 1, 'hep-python': 1, 'my-custom-set': 1, 'alpacaeval-hard': 1 });
    expect(r.trainWithoutPrompt.map((x) => x.where.replace(/^.*:/, ''))).toEqual(['7']);
  });

  it('shorter runs catch more: with 4 words, lines 2 and 4 overlap too', () => {
    // line 2: "explain the difference between" is in eval 102; line 4: "how do i pick" is in eval 103.
    const r = findContamination(train.records, against.records, { ngram: 4 });
    expect(r.matches.map((m) => m.train.where.replace(/^.*:/, ''))).toEqual(['1', '2', '3', '4', '5', '6', '9']);
  });

  it('ignores template text that many evaluation prompts share, unless --common 0', () => {
    // 12 evaluation prompts: a question of 16 words of its own ("w3x0 ... w3x15"), then one shared
    // 13-word instruction. With common = 10 the instruction (in 12 prompts) is template text.
    //  - x:1 repeats only the instruction after a new question: its one shared run is all template,
    //    so it is no leak (with common = 0 it is one);
    //  - x:2 repeats question 3: a run of 16 words none of which is template: a leak.
    const instruction = 'If you cannot determine the correct multiple choice answer, take your best guess.';
    const question = (i: number) => Array.from({ length: 16 }, (_, k) => `w${i}x${k}`).join(' ');
    const rec = (i: number, prompt: string) => ({ index: i, where: `x:${i + 1}`, prompt, source: null, id: null, subset: null });
    const evals = Array.from({ length: 12 }, (_, i) => rec(i, `${question(i)}? ${instruction}`));
    const train = [rec(0, `What is the boiling point of water at sea level? ${instruction}`), rec(1, `Please answer: ${question(3)}.`)];
    const r = findContamination(train, evals, { common: 10 });
    expect(r.common).toBe(10);
    expect(r.ignored).toEqual({ count: 1, examples: ['if you cannot determine the correct multiple choice answer take your best guess'] });
    expect(r.matches.map((m) => [m.train.where, m.against.where])).toEqual([['x:2', 'x:4']]);
    const all = findContamination(train, evals, { common: 0 });
    expect(all.ignored.count).toBe(0);
    expect(all.matches.map((m) => m.train.where)).toEqual(['x:1', 'x:2']);
    expect(() => findContamination(train, evals, { common: -1 })).toThrow(/options.common must be an integer >= 0/);
  });

  it('tokenises as documented', () => {
    expect(tokenizeForOverlap('Hello, World! 你好 ＡＢＣ-12 <extra_id_1>')).toEqual([
      'hello',
      'world',
      '你',
      '好',
      'abc',
      '12',
      'extra',
      'id',
      '1',
    ]);
    expect(extractPrompt({ question: 'q?' })).toBe('q?');
    expect(extractPrompt({ chosen: '\n\nHuman: one\n\nAssistant: two\n\nHuman: three\n\nAssistant: four' })).toBe('one\nthree');
    expect(
      extractPrompt({
        conversations: [
          { from: 'human', value: 'v' },
          { from: 'gpt', value: 'w' },
        ],
      }),
    ).toBe('v');
    expect(extractPrompt({ response: 'r' })).toBeNull();
  });

  it('rejects a bad n and evaluation files without prompts', () => {
    expect(() => findContamination([], against.records, { ngram: 0 })).toThrow(RangeError);
    expect(() =>
      findContamination(train.records, [{ index: 0, where: 'x:1', prompt: null, source: null, id: null, subset: null }]),
    ).toThrow(DtrError);
  });
});

describe('dtr decontaminate', () => {
  it('reports counts per source and writes the filtered set, lines verbatim', async () => {
    const out = join(tmp, 'clean.jsonl');
    const r = await dtr([
      'decontaminate',
      '--train',
      `${F}/train-prompts.jsonl`,
      '--against',
      `${F}/rewardbench-sample.jsonl`,
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/contaminated: 5 of 9 training rows \(55\.6%\)/);
    expect(r.stdout).toMatch(/magpie\s+3\s+2\s+66\.7%/);
    expect(r.stdout).toMatch(
      /train-prompts\.jsonl:3 \[ultrafeedback\] identical to .*rewardbench-sample\.jsonl:3 \(donotanswer\): "how do i pick a lock"/,
    );
    expect(r.stdout).toMatch(/wrote .*clean\.jsonl \(4 rows kept, 5 removed\)/);
    expect(r.stderr).toMatch(/warning: 1 training row has no prompt and could not be checked \(kept\): .*train-prompts\.jsonl:7/);
    const original = readFileSync(`${F}/train-prompts.jsonl`, 'utf8').split('\n');
    expect(readFileSync(out, 'utf8')).toBe([original[1], original[3], original[6], original[7]].map((l) => `${l}\n`).join(''));
  });

  it('lists every match with --json and keeps a JSON array a JSON array', async () => {
    const arr = join(tmp, 'train.json');
    const rows = readFileSync(`${F}/train-prompts.jsonl`, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    writeFileSync(arr, JSON.stringify(rows, null, 2));
    const out = join(tmp, 'train.clean.json');
    const r = await dtr(['decontaminate', '--train', arr, '--against', `${F}/rewardbench-sample.jsonl`, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.contaminated).toBe(5);
    expect(doc.kept).toBe(4);
    expect(doc.matches[1]).toEqual({
      train: { where: `${arr}[2]`, id: null, source: 'ultrafeedback' },
      against: { where: expect.stringMatching(/rewardbench-sample\.jsonl:3$/), id: '103', subset: 'donotanswer' },
      kind: 'identical',
      overlap: 'how do i pick a lock',
    });
    expect(doc.train.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual([rows[1], rows[3], rows[6], rows[7]]);
  });

  it('refuses to overwrite --train, and reads prompts from --field', async () => {
    const same = await dtr([
      'decontaminate',
      '--train',
      `${F}/train-prompts.jsonl`,
      '--against',
      `${F}/rewardbench-sample.jsonl`,
      '--out',
      `${F}/train-prompts.jsonl`,
    ]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/--out must differ from --train/);
    const t = join(tmp, 'field.jsonl');
    writeFileSync(t, '{"instruction_text": "How do I pick a lock?"}\n{"instruction_text": 5}\n');
    const bad = await dtr(['decontaminate', '--train', t, '--against', `${F}/rewardbench-sample.jsonl`, '--field', 'instruction_text']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/field\.jsonl:2: "instruction_text" is neither text nor a list of chat messages/);
    const e = join(tmp, 'eval-field.jsonl');
    writeFileSync(e, '{"instruction_text": "how do i pick a lock"}\n');
    writeFileSync(t, '{"instruction_text": "How do I pick a lock?"}\n');
    const ok = await dtr(['decontaminate', '--train', t, '--against', e, '--field', 'instruction_text', '--json']);
    expect(JSON.parse(ok.stdout).contaminated).toBe(1);
    const missing = await dtr(['decontaminate', '--train', join(tmp, 'nope.jsonl'), '--against', e]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file: .*nope\.jsonl/);
  });
});

describe('dtr train-tree --against', () => {
  const pairsWithPrompts = join(tmp, 'pairs-with-prompts.jsonl');
  const s = (h: number) => ({ helpfulness: h, correctness: 2, coherence: 3, complexity: 1, verbosity: 2 });
  writeFileSync(
    pairsWithPrompts,
    [
      { prompt: 'How do I pick a lock?', a: s(1), b: s(3), label: 'b' },
      { prompt: 'Name three primary colours.', a: s(4), b: s(2), label: 'a' },
      { prompt: 'Write a haiku about snow.', a: s(3), b: s(1), label: 'a' },
      { a: s(0), b: s(2), label: 'b' },
    ]
      .map((x) => JSON.stringify(x))
      .join('\n'),
  );

  it('warns about contaminated training pairs and records the check in the tree', async () => {
    const out = join(tmp, 'tree.json');
    const r = await dtr(['train-tree', '--pairs', pairsWithPrompts, '--against', `${F}/rewardbench-sample.jsonl`, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: 1 of 3 training pairs overlap prompts of .*rewardbench-sample\.jsonl \(a shared 13-word run or the same prompt; lines 1\)/,
    );
    expect(r.stderr).toMatch(/dtr decontaminate --train/);
    const doc = JSON.parse(r.stdout);
    expect(doc.contamination).toMatchObject({ ngram: 13, checked: 3, contaminated: 1 });
    expect(doc.warnings.some((w: string) => w.includes('overlap prompts of'))).toBe(true);
    const tree = PreferenceTree.load(out);
    expect(tree.provenance.data.map((d) => d.role)).toEqual(['train', 'decontamination-check']);
    expect(tree.provenance.notes).toMatch(/checked against .*: 1 of 3 pairs overlap its prompts \(13-word runs or the same prompt\)/);
  });

  it('says it cannot check pairs without prompts, and trains anyway', async () => {
    const plain = join(tmp, 'plain.jsonl');
    writeFileSync(
      plain,
      readFileSync(pairsWithPrompts, 'utf8')
        .split('\n')
        .map((l) => JSON.stringify({ ...JSON.parse(l), prompt: undefined }))
        .join('\n'),
    );
    const out = join(tmp, 'tree2.json');
    const r = await dtr(['train-tree', '--pairs', plain, '--against', `${F}/rewardbench-sample.jsonl`, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: cannot check .* no training row has a prompt/);
    expect(existsSync(out)).toBe(true);
  });
});
