/**
 * `dtr report --model DIR`: texts scored by a real (tiny) model folder, then reported. The
 * fixture model (test/support/fixture-model.ts) runs a deterministic ONNX backbone through
 * onnxruntime-node with the real Llama-3 tokenizer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { RewardModel } from '../src/model/reward-model.js';
import { modelIdentity } from '../src/model/identity.js';
import { sha256File } from '../src/io/hash.js';
import { currentCommandLine } from '../src/provenance.js';
import { PACKAGE_ID } from '../src/version.js';
import { buildComparisonReport } from '../src/report/comparison.js';
import { comparisonInputFromCompared } from '../src/report/input.js';
import { validateReport } from '../src/report/schema.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { captureIO } from './support/report-fixtures.js';
import { tempDir } from './support/temp.js';

const PAIRS = [
  {
    id: 'p1',
    subset: 'math',
    prompt: 'How many apples does each person get?',
    a: 'Three each: 9 apples shared by 3 people.',
    b: 'Four each.',
    label: 'a',
  },
  { id: 'p2', subset: 'math', prompt: 'What is 7 times 8?', a: '54', b: '7 times 8 is 56.', label: 'b' },
  {
    id: 'p3',
    subset: 'chat',
    messages: [
      { role: 'user', content: 'Say hi.' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'Again, politely.' },
    ],
    a: 'Hello, nice to meet you.',
    b: 'hi',
    label: 'a',
  },
  { id: 'p4', subset: 'chat', prompt: 'Name a colour.', a: 'Blue.', b: 'Blue is a colour often associated with the sky and the sea.' },
];

let dir: string;
let work: string;
let model: RewardModel;

beforeAll(async () => {
  dir = writeFixtureModel(tempDir('dtr-report-model-')).dir;
  work = tempDir('dtr-report-work-');
  writeFileSync(join(work, 'pairs.jsonl'), PAIRS.map((p) => JSON.stringify(p)).join('\n'));
  model = await RewardModel.load(dir);
});
afterAll(async () => {
  await model?.dispose();
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(work);
  const code = await runCli(['report', '--model', dir, ...argv], io);
  return { code, out: io.out, err: io.err };
}
const read = (name: string): unknown => JSON.parse(readFileSync(join(work, name), 'utf8'));

describe('dtr report --model: one comparison', () => {
  it('scores the two texts and reports what RewardModel.compare decides, with the model tree', async () => {
    const { code, out, err } = await run('--prompt', PAIRS[0]!.prompt!, '--a', PAIRS[0]!.a, '--b', PAIRS[0]!.b, '--out', 'one.json');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(
      /^wrote one\.json \(json, [\d.]+ KB\): (A preferred|B preferred|tie), P\(A\) = \d\.\d{3} with rlhflow-llama-3\.1-8b \(leaf \d+\)\n$/,
    );
    const r = read('one.json') as ReturnType<typeof buildComparisonReport>;
    expect(validateReport(r).success).toBe(true);
    const direct = await model.compare(PAIRS[0]!.prompt!, PAIRS[0]!.a, PAIRS[0]!.b);
    expect(r.rewards.a).toEqual(direct.rewards.a);
    expect(r.rewards.b).toEqual(direct.rewards.b);
    expect(r.decision.probability).toBe(direct.probability);
    expect(r.path).toEqual(direct.path);
    expect(r.texts).toEqual({ prompt: PAIRS[0]!.prompt, a: PAIRS[0]!.a, b: PAIRS[0]!.b });
    expect(r.truncated).toEqual({ a: false, b: false });
    expect(r.source).toBe(`scored by ${model.config.name} on cpu`);
    // The same report as the API gives from the model's result.
    const api = buildComparisonReport(
      model.tree,
      comparisonInputFromCompared(direct, {
        prompt: PAIRS[0]!.prompt!,
        responseA: PAIRS[0]!.a,
        responseB: PAIRS[0]!.b,
        source: `scored by ${model.config.name} on cpu`,
      }),
    );
    expect({ ...JSON.parse(JSON.stringify(api)), provenance: r.provenance }).toEqual(r);
    // What made it: the model folder by identity (the reward cache's key) and its tree's file.
    expect(r.provenance).toEqual({
      source: 'dtr report',
      data: [],
      trees: [
        {
          role: 'tree',
          name: 'rlhflow-llama-3.1-8b',
          file: 'trees/rlhflow-llama-3.1-8b.json',
          sha256: sha256File(model.files.tree!),
          source: model.tree.provenance.source,
        },
      ],
      model: { path: dir, name: model.config.name, identity: modelIdentity(model).rewards, provider: 'cpu' },
      command: currentCommandLine([
        'report',
        '--model',
        dir,
        '--prompt',
        PAIRS[0]!.prompt!,
        '--a',
        PAIRS[0]!.a,
        '--b',
        PAIRS[0]!.b,
        '--out',
        'one.json',
      ]),
      package: PACKAGE_ID,
    });
  });

  it('reports real `dtr compare --json` output with its prompt and responses (--from), warning about nothing', async () => {
    for (const [name, promptArgs, shown] of [
      ['compare.json', ['--prompt', PAIRS[0]!.prompt!], PAIRS[0]!.prompt!],
      [
        'compare-chat.json',
        ['--messages', JSON.stringify(PAIRS[2]!.messages)],
        'user: Say hi.\n\nassistant: Hi!\n\nuser: Again, politely.',
      ],
    ] as const) {
      const io = captureIO(work);
      expect(await runCli(['compare', '--model', dir, ...promptArgs, '--a', PAIRS[0]!.a, '--b', PAIRS[0]!.b, '--json'], io)).toBe(0);
      const compared = JSON.parse(io.out) as Record<string, unknown>;
      expect(compared.a).toBe(PAIRS[0]!.a);
      expect(compared.b).toBe(PAIRS[0]!.b);
      if (promptArgs[0] === '--prompt') expect(compared.prompt).toBe(PAIRS[0]!.prompt);
      else expect(compared.messages).toEqual(PAIRS[2]!.messages);
      writeFileSync(join(work, name), io.out);
      const rep = captureIO(work);
      expect(await runCli(['report', '--from', name, '--out', `${name}.report.json`], rep)).toBe(0);
      expect(rep.err).toBe('');
      const r = read(`${name}.report.json`) as ReturnType<typeof buildComparisonReport>;
      expect(r.texts).toEqual({ prompt: shown, a: PAIRS[0]!.a, b: PAIRS[0]!.b });
      expect(r.decision.probability).toBe(compared.probability);
      expect(r.provenance!.data).toEqual([{ path: name, sha256: sha256File(join(work, name)), role: 'comparison' }]);
      expect(readFileSync(join(work, name), 'utf8')).toBe(io.out);
    }
  });

  it("reports truncation per response with the model's summary, and takes --tree and chat --messages", async () => {
    const long = 'word '.repeat(400);
    const messages = JSON.stringify(PAIRS[2]!.messages);
    const { code, err } = await run(
      '--messages',
      messages,
      '--a',
      long,
      '--b',
      'short',
      '--max-length',
      '64',
      '--tree',
      'helpsteer2-human',
      '--label',
      'b',
      '--out',
      'trunc.json',
    );
    expect(code).toBe(0);
    expect(err).toMatch(
      /^dtr report: warning: Response A was truncated to fit the model's context \(.+\): its rewards describe only the part the model read\.\n$/,
    );
    const r = read('trunc.json') as {
      truncated: unknown;
      truncationNotes: { a: string | null };
      tree: { name: string };
      texts: { prompt: string };
      label: string;
    };
    expect(r.truncated).toEqual({ a: true, b: false });
    expect(r.truncationNotes.a).toMatch(/tokens/);
    expect(r.tree.name).toBe('helpsteer2-human');
    expect(r.texts.prompt).toBe('user: Say hi.\n\nassistant: Hi!\n\nuser: Again, politely.');
    expect(r.label).toBe('b');
  });

  it('runs the model self-check first with --self-check', async () => {
    const { code, err } = await run('--self-check', '--prompt', 'p', '--a', 'x', '--b', 'y', '--out', 'checked.md');
    expect(code).toBe(0);
    expect(err).toMatch(/^dtr report: self-check on \d+ conversations/);
    expect(err).not.toContain('FAIL');
  });

  it('scores the model card example with --example', async () => {
    const { code } = await run('--example', '--out', 'card.md');
    expect(code).toBe(0);
    expect(readFileSync(join(work, 'card.md'), 'utf8')).toContain('Jane has 12 apples.');
  });
});

describe('dtr report --model --pairs: a dataset of text pairs', () => {
  it('scores every pair and reports accuracy, subsets and the comparison with another tree', async () => {
    const { code, err } = await run(
      '--pairs',
      'pairs.jsonl',
      '--compare-tree',
      'helpsteer2-human',
      '--bootstrap',
      '5',
      '--out',
      'data.json',
    );
    expect(code).toBe(0);
    expect(err).toMatch(/score \[#+\] 4\/4 pairs 100%/);
    const r = read('data.json') as {
      data: { n: number; labelled: number; subsets: string[]; source: string; hasTexts: boolean; truncated: unknown };
      accuracy: { labelled: number; accuracy: number };
      comparison: { otherName: string };
      hardest: Array<{ index: number; texts: { a: string } }>;
    };
    expect(r.data).toMatchObject({
      n: 4,
      labelled: 3,
      subsets: ['chat', 'math'],
      source: `pairs.jsonl, scored by ${model.config.name} on cpu`,
      hasTexts: true,
      truncated: { a: 0, b: 0, unknownSide: 0 },
    });
    const results = await model.compareMany(PAIRS.map((p) => ({ prompt: (p.messages ?? p.prompt)!, a: p.a, b: p.b })));
    const score = results.slice(0, 3).reduce((s, x, i) => s + (x.preference === 'tie' ? 0.5 : x.preference === PAIRS[i]!.label ? 1 : 0), 0);
    expect(r.accuracy.accuracy).toBeCloseTo(score / 3, 12);
    expect(r.comparison.otherName).toBe('helpsteer2-human');
    for (const h of r.hardest) expect(h.texts.a).toBe(PAIRS[h.index]!.a);
    const p = (read('data.json') as { provenance: { data: unknown; model: { identity: string }; trees: Array<{ role: string }> } })
      .provenance;
    expect(p.data).toEqual([{ path: 'pairs.jsonl', sha256: sha256File(join(work, 'pairs.jsonl')), rows: 4, role: 'text pairs' }]);
    expect(p.model.identity).toBe(modelIdentity(model).rewards);
    expect(p.trees.map((t) => t.role)).toEqual(['tree', 'compare-tree']);
  });

  it('lists every text the model cannot take, with its line, and scores nothing', async () => {
    writeFileSync(
      join(work, 'bad.jsonl'),
      [
        JSON.stringify({ prompt: 'p', a: '', b: 'ok' }),
        JSON.stringify({ prompt: 'p', a: 'ok' }),
        JSON.stringify({ prompt: 'p', a: 'x\u0000y', b: 'ok' }),
      ].join('\n'),
    );
    const { code, err } = await run('--pairs', 'bad.jsonl', '--out', 'bad.html', '--verbose');
    expect(code).toBe(1);
    expect(err).toContain('bad.jsonl:2: missing the response text "b" (a string)');
    writeFileSync(
      join(work, 'bad2.jsonl'),
      [JSON.stringify({ prompt: 'p', a: '', b: 'ok' }), JSON.stringify({ prompt: 'p', a: 'x\u0000y', b: 'ok' })].join('\n'),
    );
    const texts = await run('--pairs', 'bad2.jsonl', '--out', 'bad.html', '--verbose');
    expect(texts.code).toBe(1);
    expect(texts.err).toContain('E_DATA: bad2.jsonl: 2 problems with the texts, nothing was scored');
    expect(texts.err).toMatch(/bad2\.jsonl:1: .*a/);
    expect(texts.err).toMatch(/bad2\.jsonl:2: .*NUL/i);
  });
});

describe('dtr report --model: bad calls', () => {
  it('refuses flags that do not go with a model', async () => {
    const from = await run('--from', 'x.json', '--out', 'x.html');
    expect(from.code).toBe(2);
    expect(from.err).toContain('--from reads rewards already computed: it takes no --model');
    const texts = await run('--a', 'x', '--b', 'y', '--a-text', 'z', '--out', 'x.html');
    expect(texts.code).toBe(2);
    expect(texts.err).toContain('with --model, --a and --b are the response texts');
    const half = await run('--prompt', 'p', '--a', 'x', '--out', 'x.html');
    expect(half.code).toBe(2);
    expect(half.err).toContain('--b is missing: with --model give both response texts');
    const noPrompt = await run('--a', 'x', '--b', 'y', '--out', 'x.html');
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.err).toContain('--prompt (or --messages) is required');
  });

  it('--messages needs --model', async () => {
    const io = captureIO(work);
    expect(await runCli(['report', '--example', '--messages', '[]', '--out', 'x.html'], io)).toBe(2);
    expect(io.err).toContain('--messages is the prompt a model scores: use it with --model');
  });

  it('names a missing model folder', async () => {
    const io = captureIO(work);
    expect(await runCli(['report', '--model', join(work, 'nope'), '--prompt', 'p', '--a', 'x', '--b', 'y', '--out', 'x.html'], io)).toBe(1);
    expect(io.err).toMatch(/nope/);
    expect(PreferenceTree.load('rlhflow-llama-3.1-8b').name).toBe('rlhflow-llama-3.1-8b');
  });
});
