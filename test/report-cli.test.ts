import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { buildComparisonReport } from '../src/report/comparison.js';
import { renderHtml } from '../src/report/html.js';
import { validateReport } from '../src/report/schema.js';
import { PreferenceTree, shippedTreesDir } from '../src/tree/preference-tree.js';
import { sha256File } from '../src/io/hash.js';
import { treeFileRecord } from '../src/report/provenance.js';
import { PACKAGE_ID } from '../src/version.js';
import { CARD, SMALL_PAIRS, captureIO, tempDir } from './support/report-fixtures.js';

let tmp: { dir: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(tmp.dir);
  const code = await runCli(['report', ...argv], io);
  return { code, out: io.out, err: io.err };
}

const A = JSON.stringify(CARD.a);
const B = JSON.stringify(CARD.b);
const read = (name: string): string => readFileSync(join(tmp.dir, name), 'utf8');

describe('dtr report: one comparison', () => {
  it('writes the model card example as HTML, Markdown and JSON', async () => {
    for (const name of ['why.html', 'why.md', 'why.json']) {
      const { code, out, err } = await run('--example', '--out', name);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toMatch(
        new RegExp(
          `^wrote ${name.replace('.', '\\.')} \\((html|md|json), [\\d.]+ KB\\): A preferred, P\\(A\\) = 0\\.986 with rlhflow-llama-3\\.1-8b \\(leaf 14\\)\\n$`,
        ),
      );
    }
    expect(read('why.html')).toContain('<b class="p-main">0.986</b>');
    expect(read('why.md')).toContain('**A preferred**: P(A preferred) = **0.986**');
    const json = JSON.parse(read('why.json'));
    expect(validateReport(json).success).toBe(true);
    expect(json.texts.prompt).toBe(CARD.prompt);
  });

  it('takes --a/--b rewards, texts from flags and files, and a label', async () => {
    writeFileSync(join(tmp.dir, 'a.txt'), 'the first answer');
    const { code } = await run(
      '--tree',
      'helpsteer2-human',
      '--a',
      A,
      '--b',
      `@b.json`,
      '--prompt',
      'a question',
      '--a-text',
      '@a.txt',
      '--b-text',
      'second',
      '--label',
      'b',
      '--out',
      'r.json',
      '--asymmetric',
    );
    expect(code).toBe(1); // b.json does not exist yet
    writeFileSync(join(tmp.dir, 'b.json'), B);
    const ok = await run(
      '--tree',
      'helpsteer2-human',
      '--a',
      A,
      '--b',
      `@b.json`,
      '--prompt',
      'a question',
      '--a-text',
      '@a.txt',
      '--b-text',
      'second',
      '--label',
      'b',
      '--out',
      'r.json',
      '--asymmetric',
    );
    expect(ok.code).toBe(0);
    const r = JSON.parse(read('r.json'));
    expect(r.tree.name).toBe('helpsteer2-human');
    expect(r.texts).toEqual({ prompt: 'a question', a: 'the first answer', b: 'second' });
    expect(r.rule.symmetric).toBe(false);
    expect(r.label).toBe('b');
    expect(r.decision.agreesWithLabel).toBe(false);
  });

  it('prints a JSON summary with --json', async () => {
    const { code, out } = await run('--example', '--out', 'why.html', '--json');
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc).toMatchObject({
      out: 'why.html',
      format: 'html',
      kind: 'comparison',
      summary: { tree: 'rlhflow-llama-3.1-8b', preference: 'a', leaf: 14 },
    });
    expect(doc.bytes).toBe(Buffer.byteLength(read('why.html')));
  });

  it('reads a `dtr compare --json` document (rewards, per-side truncation), with texts from flags', async () => {
    // The shape `dtr compare --json` prints: model, provider, tree, then the CompareResult.
    const compare = {
      model: 'fixture',
      provider: 'cpu',
      tree: 'rlhflow-llama-3.1-8b',
      preference: 'a',
      probability: 0.986,
      publishedProbability: 0.986,
      symmetric: true,
      tieBand: 0,
      rewards: { a: CARD.a, b: CARD.b },
      truncated: true,
      truncation: {
        a: null,
        b: {
          maxLength: 64,
          originalTokens: 90,
          tokens: 64,
          droppedMessages: 0,
          promptTokensCut: 0,
          responseTokensCut: 26,
          responseTruncated: true,
          summary: 'cut 26 tokens from the end of the response',
        },
      },
      tokens: { a: 40, b: 64 },
    };
    writeFileSync(join(tmp.dir, 'compare.json'), JSON.stringify(compare));
    const { code, err } = await run(
      '--from',
      'compare.json',
      '--prompt',
      CARD.prompt!,
      '--a-text',
      CARD.responseA!,
      '--b-text',
      CARD.responseB!,
      '--out',
      'r.json',
    );
    expect(code).toBe(0);
    expect(err).toBe(
      "dtr report: warning: Response B was truncated to fit the model's context (cut 26 tokens from the end of the response): its rewards describe only the part the model read.\n",
    );
    const r = JSON.parse(read('r.json'));
    expect(r.truncated).toEqual({ a: false, b: true });
    expect(r.truncationNotes).toEqual({ a: null, b: 'cut 26 tokens from the end of the response' });
    expect(r.texts.a).toBe(CARD.responseA);
    expect(r.source).toBe('compare.json');
    expect(r.decision.probability).toBeCloseTo(0.986, 12);
  });

  it('warns when a --from document has no texts, saying how to add them', async () => {
    writeFileSync(join(tmp.dir, 'bare.json'), JSON.stringify({ rewards: { a: CARD.a, b: CARD.b } }));
    const none = await run('--from', 'bare.json', '--out', 'r.md');
    expect(none.code).toBe(0);
    expect(none.err).toBe(
      'dtr report: warning: bare.json holds no prompt or response texts, so the report will show none: give them with --prompt, --a-text and --b-text (a text, or @file to read one); `dtr compare --json` output carries them, `dtr explain --json` output does not\n',
    );
    expect(read('r.md')).not.toContain('## Prompt and responses');
    const some = await run('--from', 'bare.json', '--prompt', 'p', '--out', 'r.md');
    expect(some.err).toBe(
      'dtr report: warning: bare.json holds no text for response A or response B, so the report will not show them: give --a-text and --b-text (a text, or @file to read one)\n',
    );
    const one = await run('--from', 'bare.json', '--a-text', 'x', '--b-text', 'y', '--out', 'r.md');
    expect(one.err).toBe(
      'dtr report: warning: bare.json holds no text for the prompt, so the report will not show it: give --prompt (a text, or @file to read one)\n',
    );
    expect((await run('--from', 'bare.json', '--prompt', 'p', '--a-text', 'x', '--b-text', 'y', '--out', 'r.md')).err).toBe('');
  });

  it('reads older or hand-written documents: texts inside, truncation as booleans', async () => {
    writeFileSync(
      join(tmp.dir, 'c1.json'),
      JSON.stringify({ prompt: 'p', a: 'x', b: 'y', rewards: { a: CARD.a, b: CARD.b }, truncated: { a: true, b: false } }),
    );
    expect((await run('--from', 'c1.json', '--out', 'c1.json.md')).code).toBe(0);
    expect(read('c1.json.md')).toContain('**Response A (truncated: the model read only part of it) (1 character)**');
    writeFileSync(join(tmp.dir, 'c2.json'), JSON.stringify({ rewards: { a: CARD.a, b: CARD.b }, truncated: true }));
    const r = await run('--from', 'c2.json', '--prompt', 'p', '--a-text', 'x', '--b-text', 'y', '--out', 'c2.json.json');
    expect(r.code).toBe(0);
    expect(r.err).toContain("c2.json says a conversation was truncated to fit the model's context, but not which");
    expect(JSON.parse(read('c2.json.json')).truncated).toEqual({ a: null, b: null });
  });

  it('uses the tree a --from document names, and warns when its probability does not match', async () => {
    writeFileSync(join(tmp.dir, 'explain.json'), JSON.stringify({ tree: 'helpsteer2-human', a: CARD.a, b: CARD.b, probability: 0.5 }));
    const { code, err } = await run('--from', 'explain.json', '--out', 'r.md');
    expect(code).toBe(0);
    expect(read('r.md')).toContain('Tree **helpsteer2-human**');
    expect(err).toContain('explain.json records P(A) = 0.500 but helpsteer2-human gives');
  });

  it('re-renders a saved report JSON as it is', async () => {
    expect((await run('--example', '--out', 'why.json')).code).toBe(0);
    expect((await run('--from', 'why.json', '--out', 'again.html')).code).toBe(0);
    const check = validateReport(JSON.parse(read('why.json')));
    expect(check.success && renderHtml(check.report)).toBe(read('again.html'));
  });
});

describe('dtr report: provenance', () => {
  it("records the data files (sha256, rows), the trees (their files' sha256 and sources), the command line and the package", async () => {
    writeFileSync(join(tmp.dir, 'my pairs.jsonl'), readFileSync(SMALL_PAIRS));
    const { code } = await run('--pairs', 'my pairs.jsonl', '--compare-tree', 'helpsteer2-human', '--bootstrap', '0', '--out', 'd.json');
    expect(code).toBe(0);
    const r = JSON.parse(read('d.json'));
    expect(r.provenance).toEqual({
      source: 'dtr report',
      data: [{ path: 'my pairs.jsonl', sha256: sha256File(SMALL_PAIRS), rows: 30, role: 'pairs' }],
      trees: [
        {
          role: 'tree',
          name: 'rlhflow-llama-3.1-8b',
          file: 'trees/rlhflow-llama-3.1-8b.json',
          sha256: sha256File(join(shippedTreesDir(), 'rlhflow-llama-3.1-8b.json')),
          source: PreferenceTree.load('rlhflow-llama-3.1-8b').provenance.source,
        },
        {
          role: 'compare-tree',
          name: 'helpsteer2-human',
          file: 'trees/helpsteer2-human.json',
          sha256: sha256File(join(shippedTreesDir(), 'helpsteer2-human.json')),
          source: PreferenceTree.load('helpsteer2-human').provenance.source,
        },
      ],
      model: null,
      command: "dtr report --pairs 'my pairs.jsonl' --compare-tree helpsteer2-human --bootstrap 0 --out d.json",
      package: PACKAGE_ID,
    });
    expect(validateReport(r).success).toBe(true);
    // The same in the HTML and Markdown footers.
    expect((await run('--pairs', 'my pairs.jsonl', '--bootstrap', '0', '--out', 'd.md')).code).toBe(0);
    const md = read('d.md');
    expect(md).toContain(`<sub>**Data**: my pairs.jsonl (pairs, 30 rows) · sha256 ${sha256File(SMALL_PAIRS)}</sub>`);
    expect(md).toContain("<sub>**Command**: dtr report --pairs 'my pairs.jsonl' --bootstrap 0 --out d.md</sub>");
    expect((await run('--pairs', 'my pairs.jsonl', '--bootstrap', '0', '--out', 'd.html')).code).toBe(0);
    const footer = read('d.html').split('<footer>')[1]!;
    expect(footer).toContain(`sha256 <code class="hash">${sha256File(SMALL_PAIRS)}</code>`);
    expect(footer).toContain('<code><bdi class="u">trees/rlhflow-llama-3.1-8b.json</bdi></code>');
    expect(footer).toContain(PACKAGE_ID);
  });

  it('records tree files given by path and texts and rewards read from @files', async () => {
    const tree = PreferenceTree.load('helpsteer2-human').with({ name: 'mine' });
    mkdirSync(join(tmp.dir, 'trees'));
    tree.save(join(tmp.dir, 'trees/mine.json'));
    writeFileSync(join(tmp.dir, 'b.json'), B);
    writeFileSync(join(tmp.dir, 'answer.txt'), 'the first answer');
    const { code } = await run('--tree', 'trees/mine.json', '--a', A, '--b', '@b.json', '--a-text', '@answer.txt', '--out', 'r.json');
    expect(code).toBe(0);
    const p = JSON.parse(read('r.json')).provenance;
    expect(p.data).toEqual([
      { path: 'b.json', sha256: sha256File(join(tmp.dir, 'b.json')), role: '--b' },
      { path: 'answer.txt', sha256: sha256File(join(tmp.dir, 'answer.txt')), role: '--a-text' },
    ]);
    expect(p.trees).toEqual([
      {
        role: 'tree',
        name: 'mine',
        file: 'trees/mine.json',
        sha256: sha256File(join(tmp.dir, 'trees/mine.json')),
        source: tree.provenance.source,
      },
    ]);
  });

  it('a re-rendered report keeps the provenance it was made with', async () => {
    expect((await run('--example', '--out', 'why.json')).code).toBe(0);
    expect((await run('--from', 'why.json', '--out', 'again.md')).code).toBe(0);
    expect(read('again.md')).toContain('<sub>**Command**: dtr report --example --out why.json</sub>');
  });

  it('the API records what it is given, and checks it', () => {
    const tree = PreferenceTree.load('rlhflow-llama-3.1-8b');
    expect(buildComparisonReport(tree, CARD).provenance).toEqual({
      source: 'buildComparisonReport through the API',
      data: [],
      trees: [{ role: 'tree', name: tree.name, file: null, sha256: null, source: tree.provenance.source }],
      model: null,
      command: null,
      package: PACKAGE_ID,
    });
    expect(() =>
      buildComparisonReport(tree, CARD, { provenance: { data: [{ path: 'x', sha256: 'abc' }], treeFile: { file: 3 } } as never }),
    ).toThrow(
      new TypeError(
        'options.provenance.data[0].sha256 must be a sha256 (64 lowercase hex digits); options.provenance.treeFile.file must be a string; options.provenance.treeFile.sha256 must be a sha256 (64 lowercase hex digits)',
      ),
    );
  });
});

describe('dtr report: a dataset', () => {
  it('reports attribute pairs with --compare-tree', async () => {
    const { code, out, err } = await run(
      '--pairs',
      SMALL_PAIRS,
      '--compare-tree',
      'helpsteer2-human',
      '--bootstrap',
      '5',
      '--out',
      'd.json',
    );
    expect(code).toBe(0);
    expect(out).toBe(
      'wrote d.json (json, ' +
        out.match(/\(json, ([^)]+)\)/)![1] +
        '): 30 pairs with rlhflow-llama-3.1-8b, 60.0% A, accuracy 0.679, decided by style 80.0%, agreement with helpsteer2-human 66.7%\n',
    );
    expect(err).toMatch(/bootstrap \[#+\] 5\/5 refits 100%/);
    const r = JSON.parse(read('d.json'));
    expect(r.kind).toBe('dataset');
    expect(r.importances.bootstrap.refits).toBe(5);
    expect(r.comparison.otherName).toBe('helpsteer2-human');
    expect(r.data.source).toBe('pairs-small.jsonl');
  });

  it('says how many hardest disagreements and tree differences there are, and how many it lists', async () => {
    expect(
      (
        await run(
          '--pairs',
          SMALL_PAIRS,
          '--compare-tree',
          'helpsteer2-human',
          '--bootstrap',
          '0',
          '--hardest',
          '2',
          '--examples',
          '0',
          '--out',
          'd.json',
        )
      ).code,
    ).toBe(0);
    const d = JSON.parse(read('d.json'));
    expect(d.hardest).toHaveLength(2);
    expect(d.hardestTotal).toBe(9);
    expect(d.comparison.examples).toEqual([]);
    expect(d.comparison.examplesTotal).toBe(10);
    for (const name of ['d.md', 'd.html']) {
      expect(
        (
          await run(
            '--pairs',
            SMALL_PAIRS,
            '--compare-tree',
            'helpsteer2-human',
            '--bootstrap',
            '0',
            '--hardest',
            '2',
            '--examples',
            '0',
            '--out',
            name,
          )
        ).code,
      ).toBe(0);
      const text = read(name);
      expect(text).toContain('The 2 most confident of the 9 labelled pairs the tree decides the other way (--hardest N lists more).');
      expect(text).toContain('The two trees decide 10 pairs differently; none is listed here (--examples N lists them).');
    }
    expect((await run('--pairs', SMALL_PAIRS, '--bootstrap', '0', '--hardest', '0', '--out', 'd.md')).code).toBe(0);
    expect(read('d.md')).toContain('The tree decides 9 labelled pairs the other way; none is listed here (--hardest N lists them).');
    expect((await run('--pairs', SMALL_PAIRS, '--bootstrap', '0', '--hardest', '50', '--out', 'd.md')).code).toBe(0);
    expect(read('d.md')).toContain('All 9 labelled pairs the tree decides the other way, the most confident first.');
  });

  it('reads `dtr compare --file` results (rewards and truncation per row)', async () => {
    const rows = [
      { line: 1, id: 'x1', rewards: { a: CARD.a, b: CARD.b }, truncated: false, truncation: { a: null, b: null } },
      {
        line: 2,
        id: 'x2',
        rewards: { a: CARD.b, b: CARD.a },
        truncated: true,
        truncation: { a: { summary: 'dropped 1 oldest prompt message' }, b: null },
      },
    ];
    writeFileSync(join(tmp.dir, 'results.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const { code, err } = await run('--pairs', 'results.jsonl', '--out', 'd.json');
    expect(code).toBe(0);
    expect(err).toContain('1 A response was and 0 B responses were truncated');
    const d = JSON.parse(read('d.json'));
    expect(d.data.truncated).toEqual({ a: 1, b: 0, unknownSide: 0 });
    expect(d.decisions).toMatchObject({ a: 1, b: 1, tie: 0 });
  });

  it('reads `dtr eval --out` results (rewards, labels including "tie", a truncated flag)', async () => {
    const rows = [
      { id: 'q1', subset: 'chat', label: 'a', preference: 'a', probability: 0.9, rewards: { a: CARD.a, b: CARD.b }, path: [] },
      { id: 'q2', subset: 'chat', label: 'tie', preference: 'a', probability: 0.9, rewards: { a: CARD.a, b: CARD.b }, truncated: true },
      { id: 'q3', subset: 'math', label: 'b', preference: 'a', probability: 0.9, rewards: { a: CARD.a, b: CARD.b } },
    ];
    writeFileSync(join(tmp.dir, 'results.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
    const { code, err } = await run('--pairs', 'results.jsonl', '--bootstrap', '0', '--out', 'd.json');
    expect(code).toBe(0);
    expect(err).toContain("1 pair had a conversation truncated to fit the model's context (which response is not recorded)");
    const d = JSON.parse(read('d.json'));
    expect(d.data.labelled).toBe(2);
    expect(d.accuracy.accuracy).toBe(0.5);
    expect(d.notes[0]).toBe('1 pair is labelled "tie" (rated equal): it counts as unlabelled.');
    expect(d.subsets.map((s: { name: string; n: number }) => [s.name, s.n])).toEqual([
      ['chat', 2],
      ['math', 1],
    ]);
  });

  it('reports every bad row at once with its line', async () => {
    const lines = [
      JSON.stringify({ a: CARD.a, b: CARD.b, label: 'a' }),
      JSON.stringify({ a: { ...CARD.a, verbosity: 'x' }, b: CARD.b }),
      JSON.stringify({ a: CARD.a, b: CARD.b, label: 'yes' }),
      JSON.stringify({ prompt: 'p', a: 'text one', b: 'text two' }),
    ];
    writeFileSync(join(tmp.dir, 'bad.jsonl'), `${lines.join('\n')}\n`);
    const { code, err } = await run('--pairs', 'bad.jsonl', '--out', 'd.html', '--verbose');
    expect(code).toBe(1);
    expect(err).toContain('dtr: error E_DATA: bad.jsonl: 3 problems; first at bad.jsonl:2');
    expect(err).toContain('bad.jsonl:2: a.verbosity: \'verbosity\' must be a number, got the string "x"');
    expect(err).toContain('bad.jsonl:3: label must be "a", "b" or "tie", got the string "yes"');
    expect(err).toContain('bad.jsonl:4: the row has response texts but no attribute rewards: score the texts with --model DIR');
    expect(existsSync(join(tmp.dir, 'd.html'))).toBe(false);
  });
});

describe('dtr report: bad calls', () => {
  it('needs exactly one input', async () => {
    const none = await run('--out', 'x.html');
    expect(none.code).toBe(2);
    expect(none.err).toContain('dtr report: say what to report on: --a and --b (or --example), --from FILE.json, or --pairs FILE.jsonl');
    const two = await run('--example', '--pairs', SMALL_PAIRS, '--out', 'x.html');
    expect(two.code).toBe(2);
    expect(two.err).toContain('give one of --a/--b/--example, --pairs, not several');
    const half = await run('--a', A, '--out', 'x.html');
    expect(half.code).toBe(2);
    expect(half.err).toContain('--b is missing');
  });

  it('refuses an output it cannot name the format of, and --compare-tree without --pairs', async () => {
    const ext = await run('--example', '--out', 'x.pdf');
    expect(ext.code).toBe(2);
    expect(ext.err).toContain("cannot tell the report format from 'x.pdf': use a file name ending in .html, .htm, .md, .markdown, .json");
    expect((await run('--example', '--out', 'x.pdf', '--format', 'md')).code).toBe(0);
    expect(read('x.pdf')).toMatch(/^# Why A is preferred over B/);
    const ct = await run('--example', '--compare-tree', 'helpsteer2-human', '--out', 'x.html');
    expect(ct.code).toBe(2);
    expect(ct.err).toContain('--compare-tree compares decisions on a dataset: use it with --pairs');
  });

  it('names unknown trees and bad reward JSON', async () => {
    const tree = await run('--example', '--tree', 'nope', '--out', 'x.html');
    expect(tree.code).toBe(1);
    expect(tree.err).toContain("unknown tree 'nope'");
    const bad = await run('--a', '{"helpfulness": 1}', '--b', B, '--out', 'x.html');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(
      "--a: missing attribute 'correctness'; missing attribute 'coherence'; missing attribute 'complexity'; missing attribute 'verbosity'",
    );
    const notJson = await run('--from', SMALL_PAIRS, '--out', 'x.html');
    expect(notJson.code).toBe(1);
    expect(notJson.err).toContain('is not JSON');
  });

  it('writes atomically: a failed write leaves no file and no temp file, an old report stays whole', async () => {
    writeFileSync(join(tmp.dir, 'blocker'), 'a file where a folder should be');
    const { code, err } = await run('--example', '--out', 'blocker/why.html');
    expect(code).toBe(1);
    expect(err).toContain('could not write');
    expect(readdirSync(tmp.dir)).toEqual(['blocker']);
    // A run that fails before writing leaves the previous report untouched.
    expect((await run('--example', '--out', 'why.html')).code).toBe(0);
    const before = read('why.html');
    writeFileSync(join(tmp.dir, 'bad.jsonl'), '{"a": 1}\n');
    expect((await run('--pairs', 'bad.jsonl', '--out', 'why.html')).code).toBe(1);
    expect(read('why.html')).toBe(before);
    mkdirSync(join(tmp.dir, 'sub'));
    expect(readdirSync(tmp.dir).sort()).toEqual(['bad.jsonl', 'blocker', 'sub', 'why.html']);
  });

  it('the API and the command give the same page (given the same provenance)', async () => {
    expect((await run('--example', '--out', 'why.html')).code).toBe(0);
    const provenance = {
      source: 'dtr report',
      command: 'dtr report --example --out why.html',
      treeFile: treeFileRecord('rlhflow-llama-3.1-8b'),
    };
    const api = buildComparisonReport(PreferenceTree.load('rlhflow-llama-3.1-8b'), CARD, { provenance });
    expect(read('why.html')).toBe(renderHtml(api));
  });
});
