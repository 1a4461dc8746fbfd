import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, LinearHead, readRatings } from '../src/index.js';
import { SeededRandom } from '../src/advanced.js';
import { writeSafetensors } from '../src/safetensors.js';
import { dtr } from './support/cli.js';
import { tempDir } from './support/temp.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/helpsteer2-ratings-24.jsonl', import.meta.url));

/** A folder with an embeddings file whose labels follow a linear map of the embeddings, plus noise. */
function workspace(opts: { rows?: number; hidden?: number; labels?: boolean; backbone?: boolean } = {}): {
  dir: string;
  rows: number;
  hidden: number;
} {
  const rows = opts.rows ?? 60;
  const hidden = opts.hidden ?? 8;
  const dir = tempDir('dtr-fit-head-');
  const rng = new SeededRandom(3);
  const x = Float32Array.from({ length: rows * hidden }, () => rng.normal());
  const y = new Float32Array(rows * 5);
  for (let i = 0; i < rows; i++)
    for (let a = 0; a < 5; a++) y[i * 5 + a] = 2 + x[i * hidden + a]! - 0.5 * x[i * hidden + ((a + 1) % hidden)]! + rng.normal() * 0.1;
  y[3 * 5 + 4] = NaN;
  writeSafetensors(
    join(dir, 'emb.safetensors'),
    {
      embeddings: { dtype: 'BF16', shape: [rows, hidden], data: x },
      ...(opts.labels === false ? {} : { labels: { dtype: 'F32', shape: [rows, 5], data: y } }),
    },
    opts.backbone === false ? {} : { backbone: 'tiny-test-backbone', attributes: ATTRIBUTES.join(',') },
  );
  return { dir, rows, hidden };
}

describe('dtr fit-head', () => {
  it('fits with --lambda auto, prints held-out figures and writes a valid head with provenance', async () => {
    const { dir, hidden } = workspace();
    const r = await dtr(['fit-head', '--embeddings', 'emb.safetensors', '--out', 'heads/mine.json', '--folds', '3', '--seed', '1'], {
      cwd: dir,
    });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/fitted a ridge head on 60 rows x 8 \(BF16\) from emb.safetensors/);
    expect(out).toMatch(/held-out MSE by lambda \(\* = chosen\):/);
    expect(out).toMatch(/helpfulness\s+\S+\s+0\.9\d\d/); // R² of a near-linear signal
    expect(out).toMatch(/wrote heads\/mine.json \(5 x 8, backbone tiny-test-backbone\)/);
    expect(r.stderr).toMatch(/cross-validation \[#+\] \d+\/\d+ fits 100% [\d.]+ fits\/s in/);
    const head = LinearHead.load(join(dir, 'heads/mine.json'));
    expect(head.hiddenSize).toBe(hidden);
    expect(head.backbone).toBe('tiny-test-backbone');
    expect(typeof head.provenance.command).toBe('string');
    expect(head.provenance.data[0]).toMatchObject({ path: 'emb.safetensors', rows: 60, role: 'embeddings' });
    expect(head.provenance.data[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((head.metrics!.heldOutR2 as Record<string, number>).helpfulness).toBeGreaterThan(0.9);
    expect(readdirSync(join(dir, 'heads'))).toEqual(['mine.json']);
  });

  it('--json prints one document; --lambda X --folds 0 fits without cross-validation', async () => {
    const { dir } = workspace();
    const r = await dtr(['fit-head', '--embeddings', 'emb.safetensors', '--out', 'h.json', '--lambda', '2.5', '--folds', '0', '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.lambda).toEqual(Object.fromEntries(ATTRIBUTES.map((a) => [a, 2.5])));
    expect(doc.cv).toBeNull();
    expect(doc.heldOut).toBeNull();
    expect(doc.rows).toEqual({
      total: 60,
      used: 60,
      perAttribute: { helpfulness: 60, correctness: 60, coherence: 60, complexity: 60, verbosity: 59 },
    });
  });

  it('--target chooses one lambda and reports the formula held-out figures', async () => {
    const { dir } = workspace();
    const r = await dtr(
      ['fit-head', '--embeddings', 'emb.safetensors', '--out', 'h.json', '--folds', '3', '--target', 'helpfulness + 0.5*correctness'],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/target helpfulness \+ 0\.5\*correctness: lambda \S+, held-out R² 0\.\d+/);
    const head = LinearHead.load(join(dir, 'h.json'));
    expect(new Set(Object.values(head.metrics!.lambda as Record<string, number>)).size).toBe(1);
    expect(head.provenance.notes).toMatch(/one lambda for target "helpfulness \+ 0\.5\*correctness"/);
  });

  it('--ratings reads HelpSteer2-style JSONL rows in place of the labels', async () => {
    const { dir } = workspace({ rows: 24, hidden: 4, labels: false, backbone: false });
    copyFileSync(FIXTURE, join(dir, 'ratings.jsonl'));
    const r = await dtr(
      [
        'fit-head',
        '--embeddings',
        'emb.safetensors',
        '--ratings',
        'ratings.jsonl',
        '--out',
        'h.json',
        '--lambdas',
        '0.1,1,10',
        '--folds',
        '3',
        '--backbone',
        'x',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const head = LinearHead.load(join(dir, 'h.json'));
    expect(head.provenance.data.map((d) => d.role)).toEqual(['embeddings', 'ratings']);
    expect(readRatings(FIXTURE).values.subarray(0, 5)).toEqual(Float64Array.from([4, 4, 4, 1, 2]));
  });
});

describe('dtr fit-head: bad input gives a coded one-line error and no output file', () => {
  const run = async (dir: string, args: string[]): Promise<{ code: number; err: string }> => {
    const r = await dtr(['fit-head', ...args], { cwd: dir });
    return { code: r.code, err: r.stderr };
  };

  it('embeddings and ratings of different lengths', async () => {
    const { dir } = workspace({ rows: 20, labels: false });
    copyFileSync(FIXTURE, join(dir, 'ratings.jsonl'));
    const r = await run(dir, ['--embeddings', 'emb.safetensors', '--ratings', 'ratings.jsonl', '--out', 'h.json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^dtr: ratings.jsonl has 24 rows but emb.safetensors has 20 embeddings/);
    expect(existsSync(join(dir, 'h.json'))).toBe(false);
  });

  it('an all-NaN attribute, and fewer rows than folds', async () => {
    const { dir } = workspace({ rows: 4, labels: false });
    writeFileSync(
      join(dir, 'r.jsonl'),
      Array.from({ length: 4 }, (_, i) =>
        JSON.stringify({ helpfulness: i, correctness: 1, coherence: 2, complexity: null, verbosity: 3 }),
      ).join('\n'),
    );
    const r = await run(dir, ['--embeddings', 'emb.safetensors', '--ratings', 'r.jsonl', '--out', 'h.json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /cannot fit a head: helpfulness: only 4 rated rows, fewer than the 5 folds; .*complexity: every rating is missing \(NaN\)/,
    );
    expect(existsSync(join(dir, 'h.json'))).toBe(false);
  });

  it('lambda <= 0 and other usage mistakes exit 2', async () => {
    const { dir } = workspace();
    for (const [args, msg] of [
      [['--lambda', '0'], /--lambda must be 'auto' or a positive number, got '0'/],
      [['--lambda=-3'], /--lambda must be 'auto' or a positive number, got '-3'/],
      // A negative number after a value-taking flag is its value (util.parseArgs alone says "ambiguous").
      [['--lambda', '-1'], /--lambda must be 'auto' or a positive number, got '-1'/],
      [['--lambda', '-.5'], /--lambda must be 'auto' or a positive number, got '-.5'/],
      [['--lambdas', '-1,2'], /--lambdas must be positive numbers separated by commas, got '-1,2'/],
      [['--folds', '1'], /--folds must be 0 \(no cross-validation\) or an integer >= 2, got 1/],
      [['--folds', '0'], /--folds 0 needs a fixed --lambda/],
      [['--lambdas', '1,x'], /--lambdas must be positive numbers/],
      [['--target', 'helpfulness = 2'], /assignment expressions are not allowed/],
    ] as const) {
      const r = await run(dir, ['--embeddings', 'emb.safetensors', '--out', 'h.json', ...args]);
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/ambiguous/);
      expect(r.code).toBe(2);
    }
    expect(existsSync(join(dir, 'h.json'))).toBe(false);
  });

  it('a truncated safetensors file names the byte offset', async () => {
    const { dir } = workspace();
    const bytes = readFileSync(join(dir, 'emb.safetensors'));
    writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 100));
    const r = await run(dir, ['--embeddings', 'cut.safetensors', '--out', 'h.json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/truncated or corrupt safetensors file .*past the end of the file at byte offset \d+: truncated/);
    expect(existsSync(join(dir, 'h.json'))).toBe(false);
  });

  it('a file without labels and no --ratings; a bad ratings line', async () => {
    const { dir } = workspace({ labels: false });
    expect((await run(dir, ['--embeddings', 'emb.safetensors', '--out', 'h.json'])).err).toMatch(
      /has no 'labels' tensor — give the ratings with --ratings/,
    );
    writeFileSync(join(dir, 'r.jsonl'), '{"helpfulness": "high"}\n');
    expect((await run(dir, ['--embeddings', 'emb.safetensors', '--ratings', 'r.jsonl', '--out', 'h.json'])).err).toMatch(
      /r.jsonl:1: helpfulness must be a number or null, got "high"/,
    );
    // A misspelled key is an error, not a silent NaN; a value outside 0-4 is used, with a warning naming the row.
    const rows = Array.from({ length: 60 }, (_, i) => ({
      helpfulness: i % 5,
      correctness: (i * 3) % 5,
      coherence: 4,
      complexity: i % 3,
      verbosity: i % 4,
    }));
    writeFileSync(join(dir, 'typo.jsonl'), rows.map((r, i) => JSON.stringify(i === 6 ? { ...r, verbosty: r.verbosity } : r)).join('\n'));
    const typo = await run(dir, ['--embeddings', 'emb.safetensors', '--ratings', 'typo.jsonl', '--out', 'h.json']);
    expect(typo.code).toBe(1);
    expect(typo.err).toContain('typo.jsonl:7: "verbosty" is not an attribute: did you mean "verbosity"?');
    writeFileSync(join(dir, 'scale.jsonl'), rows.map((r, i) => JSON.stringify(i === 9 ? { ...r, helpfulness: 12 } : r)).join('\n'));
    const scale = await run(dir, [
      '--embeddings',
      'emb.safetensors',
      '--ratings',
      'scale.jsonl',
      '--out',
      'h.json',
      '--lambda',
      '1',
      '--folds',
      '0',
    ]);
    expect(scale.code, scale.err).toBe(0);
    expect(scale.err).toContain(
      "dtr fit-head: warning: scale.jsonl: 1 of 60 rows has ratings outside HelpSteer2's 0–4 scale (line 10: helpfulness 12): used as given",
    );
  });
});

describe('dtr fit-head as a process', () => {
  it('records the command line in the head provenance', () => {
    const { dir } = workspace();
    const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        main,
        'fit-head',
        '--embeddings',
        'emb.safetensors',
        '--out',
        'h.json',
        '--lambda',
        '3',
        '--folds',
        '0',
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    const head = LinearHead.load(join(dir, 'h.json'));
    expect(head.provenance.command).toBe('dtr fit-head --embeddings emb.safetensors --out h.json --lambda 3 --folds 0');
  });
});
