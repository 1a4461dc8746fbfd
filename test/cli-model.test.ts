/** `dtr score` and `dtr compare` on the fixture model folder, in-process and as a built binary. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CUDA_INSTALL_COMMAND } from '../src/backbone/ort.js';
import { RewardModel } from '../src/model/reward-model.js';
import { jsonText } from '../src/util/format.js';
import { dtr, dtrBinary } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const run = async (argv: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> => {
  const r = await dtr(argv, cwd === undefined ? {} : { cwd });
  return { code: r.code, out: r.stdout, err: r.stderr };
};

let dir: string;
let work: string;

beforeAll(() => {
  dir = writeFixtureModel(tempDir()).dir;
  work = tempDir();
});

describe('dtr score', () => {
  it('prints the five rewards and the backbone reward', async () => {
    const r = await run(['score', '--model', dir, '--prompt', 'Hello', '--response', 'Hi there']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^model: fixture-last_hidden_state \(cpu\)\n\nattribute\s+reward\nhelpfulness\s+-?\d+\.\d{3}\n/);
    expect(r.out).toMatch(/\(backbone reward\)\s+-?\d+\.\d{3}/);
    expect(r.out).toContain('tokens: 14');
    expect(r.err).toBe('');
  });

  it('--json gives the same numbers as the API (noise digits past 15 rounded to 12, util/format.ts jsonText)', async () => {
    const r = await run(['score', '--model', dir, '--prompt', 'Hello', '--response', 'Hi there', '--json']);
    const doc = JSON.parse(r.out);
    const m = await RewardModel.load(dir);
    const api = await m.score('Hello', 'Hi there');
    await m.dispose();
    expect(doc.rewards).toEqual(JSON.parse(jsonText(api.rewards)));
    for (const a of Object.keys(api.rewards) as Array<keyof typeof api.rewards>) expect(doc.rewards[a]).toBeCloseTo(api.rewards[a], 10);
    expect(doc).toMatchObject({ model: 'fixture-last_hidden_state', provider: 'cpu', truncated: false, tokens: 14 });
  });

  it('--threads sets onnxruntime intra-op threads: the same numbers with one thread as with every core', async () => {
    const one = await run(['score', '--model', dir, '--prompt', 'Hello', '--response', 'Hi there', '--threads', '1', '--json']);
    const all = await run(['score', '--model', dir, '--prompt', 'Hello', '--response', 'Hi there', '--json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out)).toEqual(JSON.parse(all.out));
  });

  it('reads text flags from files with @path, and --messages as JSON', async () => {
    writeFileSync(join(work, 'resp.txt'), 'Hi there');
    writeFileSync(join(work, 'msgs.json'), JSON.stringify([{ role: 'user', content: 'Hello' }]));
    const a = await run(['score', '--model', dir, '--messages', '@msgs.json', '--response', '@resp.txt', '--json'], work);
    const b = await run(['score', '--model', dir, '--prompt', 'Hello', '--response', 'Hi there', '--json']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.out).rewards).toEqual(JSON.parse(b.out).rewards);
  });

  it('warns on stderr when a conversation is truncated', async () => {
    const r = await run(['score', '--model', dir, '--max-length', '40', '--prompt', 'Q', '--response', 'word '.repeat(100)]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/dtr score: warning: truncated: .*cut \d+ tokens from the end of the response/);
    expect(r.out).toMatch(/tokens: \d+ \(truncated: /);
  });

  it('--self-check reports each case on stderr', async () => {
    const r = await run(['score', '--model', dir, '--prompt', 'Hello', '--response', 'Hi there', '--self-check']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /self-check on 3 conversations \(1 yours \+ 2 fillers\), tolerance 0.00001:\n  ok   all 3 in one batch \(right padding\)/,
    );
  });

  it('--self-check fails (exit 1, nothing scored) on an export that mishandles left padding', async () => {
    const bad = writeFixtureModel(tempDir(), { positionIds: false }).dir;
    const r = await run(['score', '--model', bad, '--prompt', 'Hello', '--response', 'Hi there', '--self-check']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/FAIL all 3 in one batch \(left padding\)/);
    expect(r.err).toMatch(
      /dtr: self-check failed: rewards changed by up to .* with all 3 in one batch \(left padding\).*set paddingSide in dtr.json to the side that passes/,
    );
  });

  it('usage errors exit 2 with the flag named', async () => {
    expect((await run(['score', '--prompt', 'x', '--response', 'y'])).err).toMatch(/missing required option --model/);
    const r = await run(['score', '--model', dir, '--prompt', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--response is required/);
    expect((await run(['score', '--model', dir, '--file', 'x.jsonl', '--prompt', 'p'])).err).toMatch(/--file replaces --prompt/);
    // --json is accepted with --file (its results are JSON lines either way): the missing file is the error.
    expect((await run(['score', '--model', dir, '--file', 'x.jsonl', '--json'])).err).toMatch(/no such file: .*x\.jsonl/);
  });

  it('a broken model folder is one readable line, exit 1', async () => {
    const r = await run(['score', '--model', work, '--prompt', 'x', '--response', 'y']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^dtr: .* is not a usable model folder \(\d+ problems\): dtr\.json: missing/);
  });
});

describe('dtr compare', () => {
  it('prints the decision, the path and what would flip it', async () => {
    const r = await run(['compare', '--model', dir, '--prompt', 'Jane has 12 apples...', '--a', 'Each gets 3.', '--b', 'Each gets 4.']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^model: fixture-last_hidden_state \(cpu\)\nbackbone reward: A -?\d\.\d{3}, B -?\d\.\d{3}\ntokens: A \d+, B \d+\ntree: rlhflow-llama-3\.1-8b/,
    );
    expect(r.out).toMatch(/\npreference: [ab] \((A|B) preferred\)\n/);
    expect(r.out).toMatch(/\npath: helpfulness (<=|>) 0\.019 → /);
    expect(r.out).toMatch(/\nwhat would flip it: /);
  });

  it('--json, --asymmetric and --tree', async () => {
    const r = await run([
      'compare',
      '--model',
      dir,
      '--prompt',
      'P',
      '--a',
      'A',
      '--b',
      'B',
      '--json',
      '--asymmetric',
      '--tree',
      'helpsteer2-human',
    ]);
    const doc = JSON.parse(r.out);
    expect(doc.tree).toBe('helpsteer2-human');
    expect(doc.symmetric).toBe(false);
    expect(doc.probability).toBe(doc.publishedProbability);
    expect(Object.keys(doc.rewards)).toEqual(['a', 'b']);
  });

  it('--out writes the --json document of one comparison atomically, and nothing when the comparison fails', async () => {
    const r = await run(['compare', '--model', dir, '--prompt', 'P', '--a', 'A', '--b', 'B', '--out', 'out/one.json'], work);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(readFileSync(join(work, 'out/one.json'), 'utf8'));
    expect(doc).toEqual(JSON.parse((await run(['compare', '--model', dir, '--prompt', 'P', '--a', 'A', '--b', 'B', '--json'])).out));
    expect(r.out).toBe(
      `wrote out/one.json: ${doc.preference === 'tie' ? 'tie' : `${doc.preference.toUpperCase()} preferred`}, P(A) = ${doc.probability.toFixed(3)} with rlhflow-llama-3.1-8b (leaf ${doc.leaf.node})\n`,
    );
    const j = await run(['compare', '--model', dir, '--prompt', 'P', '--a', 'A', '--b', 'B', '--out', 'out/two.json', '--json'], work);
    expect(JSON.parse(j.out)).toEqual({
      out: 'out/two.json',
      preference: doc.preference,
      probability: doc.probability,
      tree: 'rlhflow-llama-3.1-8b',
      leaf: doc.leaf.node,
    });
    // A failure writes nothing (a shell redirect would have left an empty file).
    const bad = await run(
      ['compare', '--model', join(work, 'no-such-model'), '--prompt', 'P', '--a', 'A', '--b', 'B', '--out', 'out/three.json'],
      work,
    );
    expect(bad.code).toBe(1);
    expect(existsSync(join(work, 'out/three.json'))).toBe(false);
    expect(readdirSync(join(work, 'out'))).toEqual(['one.json', 'two.json']);
  });

  it('auto provider: one CUDA fallback warning on stderr, then CPU', async () => {
    const auto = writeFixtureModel(tempDir(), { provider: 'auto' }).dir;
    const r = await run(['compare', '--model', auto, '--prompt', 'P', '--a', 'A', '--b', 'B']);
    expect(r.code).toBe(0);
    expect(r.err.match(/warning: CUDA execution provider unavailable/g)).toHaveLength(1);
    expect(r.err).toContain(CUDA_INSTALL_COMMAND);
    expect(r.out).toContain('(cpu)');
  });

  it('--provider cuda without CUDA fails (exit 1) instead of falling back', async () => {
    const r = await run(['compare', '--model', dir, '--provider', 'cuda', '--prompt', 'P', '--a', 'A', '--b', 'B']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^dtr: CUDA execution provider unavailable: libonnxruntime_providers_(shared|cuda)\.so is missing/);
    expect(r.err).toContain(CUDA_INSTALL_COMMAND);
  });

  it('--file streams JSONL results in order (ids and lines kept) with a progress bar on stderr', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: `q${i}`, prompt: `Question ${i}?`, a: `Answer ${i}.`, b: 'I do not know.' }));
    const file = join(work, 'pairs.jsonl');
    writeFileSync(
      file,
      `${rows.map((r) => JSON.stringify(r)).join('\n')}\n\n${JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], a: 'Hello', b: 'Go away' })}\n`,
    );
    const r = await run(['compare', '--model', dir, '--file', 'pairs.jsonl', '--batch-size', '4'], work);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(lines.slice(0, 5).map((l) => l.id)).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
    expect(lines[5].id).toBeUndefined();
    for (const l of lines) expect(['a', 'b', 'tie']).toContain(l.preference);
    expect(r.err).toMatch(/compare \[#+\.*\] \d\/6 pairs .* pairs\/s/);
    // Same numbers as one-at-a-time.
    const one = JSON.parse(
      (await run(['compare', '--model', dir, '--prompt', 'Question 2?', '--a', 'Answer 2.', '--b', 'I do not know.', '--json'])).out,
    );
    expect(lines[2].rewards.a.helpfulness).toBeCloseTo(one.rewards.a.helpfulness, 5);
  });

  it('--out writes atomically and prints a summary; --json then gives one document', async () => {
    const file = join(work, 'p2.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ prompt: 'Q', a: 'A', b: 'B' })}\n${JSON.stringify({ prompt: 'Q', a: 'word '.repeat(200), b: 'B' })}\n`,
    );
    const r = await run(['compare', '--model', dir, '--file', 'p2.jsonl', '--out', 'res.jsonl', '--max-length', '64', '--json'], work);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ pairs: 2, out: 'res.jsonl', truncated: 1 });
    expect(r.err).toMatch(/warning: 1 of 2 pairs had a conversation truncated to 64 tokens/);
    const written = readFileSync(join(work, 'res.jsonl'), 'utf8').trim().split('\n');
    expect(written).toHaveLength(2);
    expect(JSON.parse(written[1]!).truncated).toBe(true);
    expect(readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('bad rows are all reported at once and nothing is written', async () => {
    const file = join(work, 'bad.jsonl');
    writeFileSync(
      file,
      [
        '{"prompt": "Q", "a": "A"}',
        '{"prompt": 3, "a": "A", "b": "B"}',
        'not json',
        '{"prompt": "Q", "a": "A<|eot_id|>", "b": "B"}',
        '{"prompt": "ok", "a": "A", "b": "B"}',
      ].join('\n'),
    );
    const r = await run(['compare', '--model', dir, '--file', 'bad.jsonl', '--out', 'never.jsonl', '--verbose'], work);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.jsonl: 4 bad rows, nothing was scored/);
    // Rows are read by the one pair-row parser (data/text-rows.ts), as `dtr report --pairs` reads them.
    expect(r.err).toMatch(/bad\.jsonl:1: missing the response text "b" \(a string\)/);
    expect(r.err).toMatch(/bad\.jsonl:2: prompt must be a string, got number 3/);
    expect(r.err).toMatch(/bad\.jsonl:3: malformed JSON/);
    expect(r.err).toMatch(/bad\.jsonl:4: a contains the tokenizer's special token '<\|eot_id\|>' at index 1/);
    expect(existsSync(join(work, 'never.jsonl'))).toBe(false);
  });

  it('--self-check on a file samples its rows first', async () => {
    const r = await run(['compare', '--model', dir, '--file', 'pairs.jsonl', '--self-check'], work);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/self-check on 10 conversations \(8 yours \+ 2 fillers\)/);
  });
});

describe('dtr compare as a built binary (dist/, tokenizer worker in plain JS)', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const main = join(root, 'dist', 'cli', 'main.js');
  beforeAll(() => {
    // npm test builds first; a focused run may not have: build once here.
    if (!existsSync(main) || !existsSync(join(root, 'dist', 'text', 'encode-worker.js'))) {
      const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, encoding: 'utf8' });
      if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
    }
  }, 180_000);

  it('compares 70 pairs from a file (140 conversations: tokenized in the worker thread)', () => {
    const file = join(work, 'many.jsonl');
    writeFileSync(
      file,
      Array.from({ length: 70 }, (_, i) => JSON.stringify({ id: i, prompt: `Q${i}`, a: 'yes '.repeat(1 + (i % 7)), b: 'no' })).join('\n'),
    );
    const r = dtrBinary(['compare', '--model', dir, '--file', file]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(r.stderr).toMatch(/compare \[#{24}\] 70\/70 pairs 100%/);
  });
});
