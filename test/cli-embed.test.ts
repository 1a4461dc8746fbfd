/**
 * dtr embed: rated responses -> embeddings file on the fixture model. Values are checked against
 * RewardModel.embedMany (itself checked against the float64 reference in reward-model.test.ts),
 * labels against the fixture's ratings; resuming is checked by interrupting runs (an AbortSignal
 * in the library, SIGINT and SIGKILL on the real binary) and comparing with an uninterrupted run.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES, DtrError, embedToFile, readRatedResponses, RewardModel } from '../src/index.js';
import { modelIdentity, parseRatings, sha256File } from '../src/advanced.js';
import { readEmbeddingsFile, readSafetensors } from '../src/safetensors.js';
import { toBfloat16Bits } from '../src/io/safetensors.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const RESPONSES = fileURLToPath(new URL('./fixtures/helpsteer2-responses-80.jsonl', import.meta.url));
const MULTITURN = fileURLToPath(new URL('./fixtures/helpsteer2-multiturn.jsonl', import.meta.url));
const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** What parseRatings throws for rows of a file named r.jsonl. */
function parseRatingsError(rows: Parameters<typeof parseRatings>[0]): unknown {
  try {
    parseRatings(rows, 'r.jsonl');
  } catch (e) {
    return e;
  }
  return null;
}

let work: string;
beforeAll(() => {
  work = tempDir('dtr-embed-');
  writeFixtureModel(join(work, 'model'));
  copyFileSync(RESPONSES, join(work, 'responses.jsonl'));
});

/** Embeddings and metadata of a finished file. */
function read(path: string): {
  emb: Float64Array;
  labels: Float64Array;
  rows: number;
  h: number;
  meta: Record<string, string>;
  raw: Uint8Array;
} {
  const f = readEmbeddingsFile(path);
  const emb = new Float64Array(f.rows * f.hiddenSize);
  f.embeddings.decodeRows(0, f.rows, emb);
  return {
    emb,
    labels: f.labels!,
    rows: f.rows,
    h: f.hiddenSize,
    meta: f.metadata,
    raw: readSafetensors(path).tensors.get('embeddings')!.bytes,
  };
}

/** `n` synthetic rated rows, long enough to take a while on the fixture backbone. */
function syntheticRows(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += `${JSON.stringify({ prompt: `Question ${i}: what is ${i} plus ${i % 7}? Explain briefly.`, response: `It is ${i + (i % 7)}.${' Indeed.'.repeat(i % 13)}`, helpfulness: i % 5, correctness: (i * 3) % 5, coherence: 4, complexity: i % 3, verbosity: i % 4 === 0 ? null : i % 4 })}\n`;
  }
  return s;
}

describe('dtr embed', () => {
  it('writes embeddings [N, H] and labels [N, 5] equal to embedMany and the ratings, with provenance in the metadata', async () => {
    const r = await dtr(['embed', '--model', 'model', '--data', 'responses.jsonl', '--out', 'emb.safetensors'], { cwd: work });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('embedded 80 rows x 32 (F32) with fixture-last_hidden_state (cpu) from responses.jsonl');
    expect(r.stdout).toContain(
      'ratings: 80 of 80 rows rated (labels [80, 5] F32, NaN = missing)\n  rated per attribute: helpfulness 80, correctness 80, coherence 80, complexity 80, verbosity 80\n',
    );
    expect(r.stdout).toContain('truncated: 0 of 80 conversations (maxLength 512)');
    expect(r.stderr).toMatch(/embed \[#+\] 80\/80 rows 100% [\d.]+ rows\/s in /);
    expect(readdirSync(work).filter((f) => f.startsWith('emb'))).toEqual(['emb.safetensors']); // no parts folder left

    const file = read(join(work, 'emb.safetensors'));
    expect([file.rows, file.h]).toEqual([80, 32]);
    const data = readRatedResponses(RESPONSES);
    const model = await RewardModel.load(join(work, 'model'));
    try {
      const want = await model.embedMany(data.items);
      for (let i = 0; i < want.embeddings.length; i++) expect(file.emb[i]).toBe(want.embeddings[i]); // F32 stored exactly
      const lines = readFileSync(RESPONSES, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, number>);
      lines.forEach((row, i) => ATTRIBUTES.forEach((a, k) => expect(file.labels[i * 5 + k]).toBe(row[a])));
      expect(file.meta).toMatchObject({
        format: 'decision-tree-reward/embeddings',
        backbone: 'dtr-fixture-last_hidden_state',
        model: 'fixture-last_hidden_state',
        model_identity: modelIdentity(model).backbone,
        max_length: '512',
        data_file: 'responses.jsonl',
        data_sha256: sha256File(RESPONSES),
        command: 'dtr embed --model model --data responses.jsonl --out emb.safetensors',
        truncated: '0',
        truncated_rows: '[]',
        rated_rows: '80',
      });
      const provenance = JSON.parse(file.meta.provenance!);
      expect(provenance.data).toEqual([{ path: 'responses.jsonl', sha256: sha256File(RESPONSES), rows: 80, role: 'rated responses' }]);
      expect(provenance.package).toMatch(/^decision-tree-reward@/);
    } finally {
      await model.dispose();
    }
  });

  it('--dtype bf16 stores bfloat16 (rounded as torch does); --json prints one document', async () => {
    const r = await dtr(
      ['embed', '--model', 'model', '--data', 'responses.jsonl', '--out', 'emb-bf16.safetensors', '--dtype', 'bf16', '--json'],
      { cwd: work },
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      out: 'emb-bf16.safetensors',
      rows: 80,
      hiddenSize: 32,
      dtype: 'BF16',
      resumedRows: 0,
      computedRows: 80,
      ratedRows: 80,
      truncated: { count: 0, rows: [] },
    });
    expect(doc.ratedPerAttribute).toEqual({ helpfulness: 80, correctness: 80, coherence: 80, complexity: 80, verbosity: 80 });
    expect(doc.model.identity).toMatch(/^[0-9a-f]{64}$/);
    const f32 = read(join(work, 'emb.safetensors'));
    const bf16 = readSafetensors(join(work, 'emb-bf16.safetensors')).tensors.get('embeddings')!;
    expect(bf16.dtype).toBe('BF16');
    expect(new Uint16Array(bf16.bytes.buffer.slice(bf16.bytes.byteOffset, bf16.bytes.byteOffset + bf16.bytes.byteLength))).toEqual(
      toBfloat16Bits(f32.emb),
    );
  });

  it('accepts chat messages, nested ratings, missing and absent ratings (NaN), and counts truncation', async () => {
    const dir = tempDir();
    const rows = [
      { prompt: 'What is 2 + 2?', response: '4.', helpfulness: 4, correctness: 4, coherence: 4, complexity: 0, verbosity: 0 },
      {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Name a prime.' },
        ],
        response: '7',
        ratings: { helpfulness: 3, verbosity: null },
      },
      { prompt: 'Say hi.', response: 'Hi!', helpfulness: null, id: 'x', other: [1, 2] },
      {
        prompt: `Summarise this. ${'All work and no play makes Jack a dull boy. '.repeat(40)}`,
        response: 'Jack works too much.',
        coherence: 2,
      },
    ];
    writeFileSync(join(dir, 'rows.jsonl'), rows.map((x) => JSON.stringify(x)).join('\n'));
    const r = await dtr(['embed', '--model', join(work, 'model'), '--data', 'rows.jsonl', '--out', 'e.safetensors', '--max-length', '64'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ratings: 3 of 4 rows rated');
    expect(r.stdout).toContain('rated per attribute: helpfulness 2, correctness 1, coherence 2, complexity 1, verbosity 1');
    expect(r.stderr).not.toMatch(/scale/); // all within 0-4
    expect(r.stdout).toContain('truncated: 1 of 4 conversations (maxLength 64)');
    expect(r.stderr).toContain(
      "dtr embed: warning: 1 of 4 conversations were truncated to 64 tokens (rows 4; all recorded in the file's truncated_rows metadata)",
    );
    const f = read(join(dir, 'e.safetensors'));
    expect(Array.from(f.labels.subarray(0, 5))).toEqual([4, 4, 4, 0, 0]);
    expect(Array.from(f.labels.subarray(5, 10))).toEqual([3, NaN, NaN, NaN, NaN]);
    expect(Array.from(f.labels.subarray(10, 15))).toEqual([NaN, NaN, NaN, NaN, NaN]);
    expect(Array.from(f.labels.subarray(15, 20))).toEqual([NaN, NaN, 2, NaN, NaN]);
    expect(f.meta).toMatchObject({ truncated: '1', truncated_rows: '[3]', max_length: '64', rated_rows: '3' });
  });

  it('warns when no row has a rating', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'rows.jsonl'), `${JSON.stringify({ prompt: 'Hi', response: 'Hello' })}\n`);
    const r = await dtr(['embed', '--model', join(work, 'model'), '--data', 'rows.jsonl', '--out', 'e.safetensors'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'dtr embed: warning: no row of rows.jsonl has a rating: every label is NaN (give dtr fit-head --ratings FILE.jsonl)',
    );
  });

  it('embeds HelpSteer2 multi-turn prompts as chat turns (the same states as the split conversation)', async () => {
    const dir = tempDir();
    const r = await dtr(['embed', '--model', join(work, 'model'), '--data', MULTITURN, '--out', 'e.safetensors'], { cwd: dir });
    expect(r.code).toBe(0);
    const f = read(join(dir, 'e.safetensors'));
    const first = JSON.parse(readFileSync(MULTITURN, 'utf8').split('\n')[0]!) as { prompt: string; response: string };
    const turns = first.prompt.split('\n<extra_id_1>');
    const messages = [
      { role: 'user', content: turns[0]! },
      ...turns
        .slice(1)
        .map((t) => ({ role: t.startsWith('Assistant') ? 'assistant' : 'user', content: t.replace(/^(Assistant|User)\n/, '') })),
    ];
    const model = await RewardModel.load(join(work, 'model'));
    try {
      const want = await model.embedMany([{ prompt: messages, response: first.response }]);
      for (let j = 0; j < 32; j++) expect(f.emb[j]).toBe(want.embeddings[j]);
    } finally {
      await model.dispose();
    }
  });

  it('a folder exported without a head embeds (the head is not needed)', async () => {
    const dir = tempDir();
    writeFixtureModel(join(dir, 'm'), { kind: 'pooled' });
    unlinkSync(join(dir, 'm/head.json'));
    await expect(RewardModel.load(join(dir, 'm'))).rejects.toThrow(/head\.json: missing/);
    const r = await dtr(['embed', '--model', 'm', '--data', MULTITURN, '--out', 'e.safetensors'], { cwd: dir });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(read(join(dir, 'e.safetensors')).h).toBe(32);
    // Loaded the same way from TypeScript, scoring says why it cannot.
    const model = await RewardModel.load({ dir: join(dir, 'm'), head: null });
    try {
      await expect(model.score('Hi', 'Hello')).rejects.toMatchObject({
        code: 'E_MODEL',
        message: expect.stringContaining('loaded without a head'),
      });
      expect((await model.embedMany([{ prompt: 'Hi', response: 'Hello' }])).hiddenSize).toBe(32);
    } finally {
      await model.dispose();
    }
  });

  describe('bad input: every problem at once, nothing written', () => {
    it('reports every bad row with file:line (including special tokens) and writes nothing', async () => {
      const dir = tempDir();
      const lines = [
        JSON.stringify({ prompt: 'ok', response: 'fine', helpfulness: 3 }),
        JSON.stringify({ prompt: 'no response' }),
        JSON.stringify({ prompt: 'p', response: 'r', helpfulness: 'high' }),
        JSON.stringify({ prompt: 'p', response: 'a fake end <|eot_id|> inside' }),
        JSON.stringify({ prompt: 'p', messages: [], response: 'r' }),
        '[1, 2]',
      ];
      writeFileSync(join(dir, 'bad.jsonl'), lines.join('\n'));
      const r = await dtr(['embed', '--model', join(work, 'model'), '--data', 'bad.jsonl', '--out', 'e.safetensors', '--verbose'], {
        cwd: dir,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('E_DATA');
      expect(r.stderr).toContain('bad.jsonl:2: missing "response"');
      expect(r.stderr).toContain('bad.jsonl:3: helpfulness must be a number or null, got "high"');
      expect(r.stderr).toMatch(/bad\.jsonl:4: response contains the tokenizer's special token '<\|eot_id\|>'/);
      expect(r.stderr).toContain('bad.jsonl:5: give "prompt" or "messages", not both');
      expect(r.stderr).toContain('bad.jsonl:6: expected an object');
      expect(readdirSync(dir)).toEqual(['bad.jsonl']);
    });

    it('a misspelled rating key (edit distance <= 2) is an error with file:line, not a silent NaN; under "ratings" every key must be an attribute', async () => {
      const dir = tempDir();
      const lines = [
        JSON.stringify({ prompt: 'p', response: 'r', helpfulnes: 3, correctness: 3, coherence: 4, complexity: 2, verbosity: 1 }),
        JSON.stringify({ prompt: 'p', response: 'r', helpfulness: 3, correctness: 3, Coherence: 4, complexity: 2, verbosty: 1 }),
        JSON.stringify({ prompt: 'p', response: 'r', ratings: { helpfulness: 3, correctnes: 3, length: 2 } }),
        JSON.stringify({ prompt: 'p', response: 'r', helpfulness: 3, source_file: 'x', pair_index: 1, id: 7, complexity_note: 'long' }), // fine: no near key
      ];
      writeFileSync(join(dir, 'typo.jsonl'), lines.join('\n'));
      const r = await dtr(['embed', '--model', join(work, 'model'), '--data', 'typo.jsonl', '--out', 'e.safetensors', '--verbose'], {
        cwd: dir,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('E_DATA');
      expect(r.stderr).toContain('typo.jsonl: 5 bad values, nothing was done');
      expect(r.stderr).toContain(
        'typo.jsonl:1: "helpfulnes" is not an attribute: did you mean "helpfulness"? (ratings are read by their exact names; as it is, this rating would be missing)',
      );
      expect(r.stderr).toContain('typo.jsonl:2: "Coherence" is not an attribute: did you mean "coherence"?');
      expect(r.stderr).toContain('typo.jsonl:2: "verbosty" is not an attribute: did you mean "verbosity"?');
      expect(r.stderr).toContain('typo.jsonl:3: "ratings.correctnes" is not an attribute: did you mean "correctness"?');
      expect(r.stderr).toContain(
        'typo.jsonl:3: "ratings" holds only the attributes helpfulness, correctness, coherence, complexity, verbosity; unknown key "ratings.length"',
      );
      expect(r.stderr).not.toContain('typo.jsonl:4');
      expect(readdirSync(dir)).toEqual(['typo.jsonl']);
    });

    it('ratings outside 0-4 are used as given, with one warning naming the rows', async () => {
      const dir = tempDir();
      const rows = Array.from({ length: 14 }, (_, i) => ({
        prompt: `q${i}`,
        response: `a${i}`,
        helpfulness: 2,
        correctness: 2,
        coherence: 2,
        complexity: 2,
        verbosity: 2,
      }));
      rows[2]!.helpfulness = 7;
      rows[5]!.verbosity = -2;
      rows[5]!.coherence = 4.5;
      writeFileSync(join(dir, 'scale.jsonl'), rows.map((x) => JSON.stringify(x)).join('\n'));
      const r = await dtr(['embed', '--model', join(work, 'model'), '--data', 'scale.jsonl', '--out', 'e.safetensors'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(
        "dtr embed: warning: scale.jsonl: 2 of 14 rows have ratings outside HelpSteer2's 0–4 scale (lines 3: helpfulness 7; 6: coherence 4.5, verbosity -2): used as given (right for another scale, e.g. model rewards; otherwise fix those rows)",
      );
      const f = read(join(dir, 'e.safetensors'));
      expect(f.labels[2 * 5]).toBe(7);
      expect(f.labels[5 * 5 + 4]).toBe(-2);
      // The same rules for dtr fit-head --ratings (readRatings).
      const typo = parseRatingsError([{ line: 4, value: { helpfulnes: 3 } }]);
      expect(typo).toMatchObject({ code: 'E_DATA' });
      expect((typo as DtrError).message).toContain('r.jsonl:4: "helpfulnes" is not an attribute: did you mean "helpfulness"?');
      const scaled = parseRatings(
        [
          { line: 1, value: { helpfulness: 9, correctness: 1 } },
          { line: 2, value: { helpfulness: 3, prompt: 'x' } },
        ],
        'r.jsonl',
      );
      expect(scaled.warnings).toEqual([
        "r.jsonl: 1 of 2 rows has ratings outside HelpSteer2's 0–4 scale (line 1: helpfulness 9): used as given (right for another scale, e.g. model rewards; otherwise fix those rows)",
      ]);
      expect(scaled.ratedPerAttribute).toEqual({ helpfulness: 2, correctness: 1, coherence: 0, complexity: 0, verbosity: 0 });
    });

    it('refuses a finished output (E_IO) unless --overwrite; a rewards-only backbone (E_MODEL); bad flags (exit 2)', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'e.safetensors'), 'keep me');
      const r = await dtr(['embed', '--model', join(work, 'model'), '--data', MULTITURN, '--out', 'e.safetensors'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('e.safetensors already exists');
      expect(readFileSync(join(dir, 'e.safetensors'), 'utf8')).toBe('keep me');
      expect(
        (await dtr(['embed', '--model', join(work, 'model'), '--data', MULTITURN, '--out', 'e.safetensors', '--overwrite'], { cwd: dir }))
          .code,
      ).toBe(0);
      expect(read(join(dir, 'e.safetensors')).rows).toBe(6);

      writeFixtureModel(join(dir, 'fused'), { kind: 'rewards' });
      const fused = await dtr(['embed', '--model', 'fused', '--data', MULTITURN, '--out', 'f.safetensors'], { cwd: dir });
      expect(fused.code).toBe(1);
      expect(fused.stderr).toContain("backbone.kind is 'rewards' (head fused in the graph), so there are no hidden states to embed");
      expect(existsSync(join(dir, 'f.safetensors.parts'))).toBe(false);

      expect((await dtr(['embed', '--model', 'm', '--data', 'x.jsonl', '--out', 'e.npy'], { cwd: dir })).stderr).toContain(
        '--out must name a .safetensors file',
      );
      expect(
        (await dtr(['embed', '--model', 'm', '--data', 'x.jsonl', '--out', 'e.safetensors', '--dtype', 'f8'], { cwd: dir })).code,
      ).toBe(2);
      expect(
        (await dtr(['embed', '--model', 'm', '--data', 'x.jsonl', '--out', 'e.safetensors', '--shard-rows', '0'], { cwd: dir })).code,
      ).toBe(2);
    });
  });

  describe('resuming', () => {
    it('an aborted run (AbortSignal) keeps its rows; the rerun computes only the rest and equals an uninterrupted run', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'rows.jsonl'), syntheticRows(120));
      const data = readRatedResponses(join(dir, 'rows.jsonl'));
      const model = await RewardModel.load(join(work, 'model'));
      try {
        await embedToFile(model, data, join(dir, 'whole.safetensors'), { shardRows: 16, batchSize: 4 });
        const controller = new AbortController();
        const stopped = embedToFile(model, data, join(dir, 'resumed.safetensors'), {
          shardRows: 16,
          batchSize: 4,
          signal: controller.signal,
          onProgress: (done) => {
            if (done >= 50) controller.abort(new DtrError('E_INTERRUPTED', 'test stop'));
          },
        });
        await expect(stopped).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
        expect(existsSync(join(dir, 'resumed.safetensors'))).toBe(false); // never a partial output
        const shards = readdirSync(join(dir, 'resumed.safetensors.parts')).filter((f) => f.startsWith('rows-'));
        expect(shards.length).toBeGreaterThanOrEqual(3);
        const resumed: number[] = [];
        const r = await embedToFile(model, data, join(dir, 'resumed.safetensors'), {
          shardRows: 16,
          batchSize: 8,
          onResume: (n) => resumed.push(n),
        });
        expect(resumed).toEqual([r.resumedRows]);
        expect(r.resumedRows).toBeGreaterThanOrEqual(50); // the checkpoint kept every row appended before the stop
        expect(r.resumedRows + r.computedRows).toBe(120);
        const a = read(join(dir, 'whole.safetensors'));
        const b = read(join(dir, 'resumed.safetensors'));
        expect(b.raw).toEqual(a.raw); // byte-identical embeddings, though batched differently
        expect(b.labels).toEqual(a.labels);
        expect(b.meta).toEqual(a.meta);
        expect(existsSync(join(dir, 'resumed.safetensors.parts'))).toBe(false);
      } finally {
        await model.dispose();
      }
    });

    it('never mixes runs: other data in the same parts folder is E_RESUME naming what differs', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'rows.jsonl'), syntheticRows(40));
      const model = await RewardModel.load(join(work, 'model'));
      try {
        const controller = new AbortController();
        await expect(
          embedToFile(model, readRatedResponses(join(dir, 'rows.jsonl')), join(dir, 'e.safetensors'), {
            shardRows: 8,
            batchSize: 4,
            signal: controller.signal,
            onProgress: (done) => done >= 20 && controller.abort(new DtrError('E_INTERRUPTED', 'stop')),
          }),
        ).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
      } finally {
        await model.dispose();
      }
      writeFileSync(join(dir, 'rows.jsonl'), syntheticRows(40).replace('Question 3:', 'Question three:'));
      const r = await dtr(
        ['embed', '--model', join(work, 'model'), '--data', 'rows.jsonl', '--out', 'e.safetensors', '--shard-rows', '8', '--verbose'],
        { cwd: dir },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('E_RESUME');
      expect(r.stderr).toMatch(/fingerprint\.rows: the interrupted run used "[0-9a-f]{64}", this run "[0-9a-f]{64}"/);
      const dtype = await dtr(
        ['embed', '--model', join(work, 'model'), '--data', 'rows.jsonl', '--out', 'e.safetensors', '--dtype', 'bf16', '--verbose'],
        { cwd: dir },
      );
      expect(dtype.stderr).toMatch(/dtype: the interrupted run used "F32", this run "BF16"/);
      expect(existsSync(join(dir, 'e.safetensors'))).toBe(false);
    });

    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      it(`the real binary stopped by ${signal} mid-run resumes to the same file as an uninterrupted run`, async () => {
        expect(existsSync(BIN), 'npm test builds dist/ first (npm run build)').toBe(true);
        const dir = tempDir();
        writeFileSync(join(dir, 'rows.jsonl'), syntheticRows(600));
        const args = ['embed', '--model', join(work, 'model'), '--data', 'rows.jsonl', '--shard-rows', '16'];
        // Slow batches of one for the run to stop; the resumed and the reference runs batch by 8.
        const child = spawn(process.execPath, [BIN, ...args, '--batch-size', '1', '--out', 'e.safetensors'], {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
        const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
        const parts = join(dir, 'e.safetensors.parts');
        const started = Date.now();
        // Wait for two complete shards, then stop the process in the middle of its work.
        while (!(existsSync(parts) && readdirSync(parts).filter((f) => f.startsWith('rows-')).length >= 2)) {
          if (Date.now() - started > 60_000 || child.exitCode !== null) break;
          await new Promise((res) => setTimeout(res, 10));
        }
        child.kill(signal);
        const code = await exited;
        expect(existsSync(join(dir, 'e.safetensors')), 'the run finished before it could be stopped: make it longer').toBe(false);
        if (signal === 'SIGINT') {
          expect(code).toBe(1);
          expect(stderr).toMatch(
            /dtr: dtr embed: stopped by SIGINT after \d+ rows; rerun the same command to resume \(the finished rows are kept in e\.safetensors\.parts\/\)/,
          );
        }
        const kept = readdirSync(parts).filter((f) => f.startsWith('rows-')).length;
        expect(kept).toBeGreaterThanOrEqual(2);

        const resumed = await dtr([...args, '--batch-size', '8', '--out', 'e.safetensors'], { cwd: dir });
        expect(resumed.code).toBe(0);
        expect(resumed.stderr).toMatch(/dtr embed: resuming after \d+ of 600 rows done by an interrupted run \(e\.safetensors\.parts\/\)/);
        expect(resumed.stdout).toMatch(/resumed: \d+ rows from an interrupted run, \d+ computed now/);
        const whole = await dtr([...args, '--batch-size', '8', '--out', 'whole.safetensors'], { cwd: dir });
        expect(whole.code).toBe(0);
        const a = read(join(dir, 'whole.safetensors'));
        const b = read(join(dir, 'e.safetensors'));
        expect(b.raw).toEqual(a.raw);
        expect(b.labels).toEqual(a.labels);
        const { command: c1, provenance: p1, ...m1 } = a.meta;
        const { command: c2, provenance: p2, ...m2 } = b.meta;
        expect(m2).toEqual(m1); // everything but the output name in the command line
        expect(c2).toBe(c1!.replace('whole.safetensors', 'e.safetensors'));
        expect(JSON.parse(p2!).data).toEqual(JSON.parse(p1!).data);
        rmSync(dir, { recursive: true, force: true });
      }, 120_000);
    }
  });
});
