/** docs/eval.md's commands run as written on a fresh clone, and print what the page shows. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { importFromSources } from './support/package-imports.js';

const page = readFileSync(new URL('../docs/eval.md', import.meta.url), 'utf8');
// Commands write their outputs (results.jsonl, judge.json...) into a scratch copy, never the checkout.
const work = mkdtempSync(join(tmpdir(), 'dtr-docs-eval-'));
cpSync(new URL('../docs/examples/', import.meta.url), join(work, 'docs/examples'), { recursive: true });
cpSync(new URL('../test/fixtures/', import.meta.url), join(work, 'test/fixtures'), { recursive: true });
// The page makes its model folder with `npx tsx scripts/make-fixture-model.ts models/fixture` (not a `dtr` line): the same folder.
writeFixtureModel(join(work, 'models/fixture'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The `dtr ...` lines of the page's ```sh blocks, in order. */
function commands(): string[] {
  const out: string[] = [];
  for (const block of page.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) if (line.startsWith('dtr ')) out.push(line);
  }
  return out;
}

/** Splits a command line as a POSIX shell would for these simple lines (single quotes only). */
function argv(line: string): string[] {
  // A trailing `# comment` is the shell's, not an argument.
  return [...line.replace(/\s+#.*$/, '').matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
}

describe('docs/eval.md', () => {
  const lines = commands();

  it('has the commands this test expects', () => {
    expect(lines.length).toBeGreaterThanOrEqual(8);
  });

  it('every command runs, in page order (later ones read what earlier ones wrote)', async () => {
    for (const line of lines) {
      const r = await dtr(argv(line), { cwd: work });
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
    }
    // The report on the audit's tree: a real page, right on half of the labelled pairs as the page says.
    const rb = 'dtr report --tree docs/examples/rewardbench-tree.json --asymmetric --pairs docs/examples/rewardbench-results.jsonl --out rewardbench.html';
    expect(lines).toContain(rb);
    expect((await dtr(argv(rb), { cwd: work })).stdout).toMatch(/26 pairs with rewardbench-fixture, .*accuracy 0\.654/);
    const report = 'dtr report --tree judge.json --pairs docs/examples/judged-pairs.jsonl --out judge.html';
    expect(lines).toContain(report);
    expect((await dtr(argv(report), { cwd: work })).stdout).toMatch(/8 pairs with judge, .*accuracy 0\.500/);
    expect(readFileSync(join(work, 'judge.html'), 'utf8')).toMatch(/<svg class="tree"[\s\S]*verbosity/);
    // The RM-Bench report on the model's results: the style matrix beside "decided by style", 45 comparisons.
    expect(lines).toContain('dtr report --tree rlhflow-llama-3.1-8b --pairs rm-bench-results.jsonl --out rm-bench.html');
    expect(readFileSync(join(work, 'rm-bench.html'), 'utf8')).toMatch(/Decided by style[\s\S]*<h3>RM-Bench style matrix<\/h3><p>45 labelled comparisons/);
    expect(readFileSync(join(work, 'rm-bench-results.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(45);
  });

  it("the RM-Bench --json shape and numbers are the page's", async () => {
    const doc = JSON.parse((await dtr(argv('dtr eval --scores docs/examples/rm-bench-results.jsonl --json'), { cwd: work })).stdout);
    expect(page).toContain('{ "format": "rm-bench", "n": 54, "prompts": 6,');
    expect(doc).toMatchObject({ format: 'rm-bench', n: 54, prompts: 6, missingDomains: [] });
    expect(doc.domains.chat).toMatchObject({ easy: 100, average: 75, n: 2, comparisons: 18, ties: 1, matrix: [[100, 50, 0], [100, 75, 50], [100, 100, 100]] });
    expect(doc.overall).toMatchObject({ easy: 62.5, n: 6, comparisons: 54 });
    expect(String(doc.overall.hard)).toMatch(/^58\.33/);
    expect(String(doc.overall.average)).toMatch(/^72\.91/);
  });

  it('shows the current output of each example in full', async () => {
    const shown = async (line: string): Promise<string> => (await dtr(argv(line), { cwd: work })).stdout.trimEnd();
    for (const line of [
      'dtr eval --scores docs/examples/rewardbench-results.jsonl',
      'dtr eval --scores docs/examples/rm-bench-results.jsonl',
      'dtr eval --scores docs/examples/rewardbench2-results.jsonl',
      'dtr eval --scores docs/examples/other-scorer-results.jsonl',
      'dtr eval --tree helpsteer2-human --data docs/examples/attribute-pairs.jsonl --out results.jsonl',
      'dtr decontaminate --train docs/examples/train-prompts.jsonl --against docs/examples/rewardbench-sample.jsonl --out train.clean.jsonl',
      'dtr audit --verdicts docs/examples/judge-verdicts.jsonl --pairs docs/examples/judged-pairs.jsonl --out judge.json',
      'dtr export-text --tree judge.json',
    ]) {
      expect(lines).toContain(line);
      expect(page).toContain(await shown(line));
    }
    const compared = await dtr(argv('dtr eval --scores results.jsonl --compare llama.jsonl'), { cwd: work });
    expect(page).toContain(compared.stdout.slice(compared.stdout.indexOf('compared with')).trimEnd());
    const warn = await dtr(argv('dtr train-tree --pairs docs/examples/attribute-pairs.jsonl --against docs/examples/rewardbench-sample.jsonl --out mine.json'), { cwd: work });
    expect(page).toContain(warn.stderr.trimEnd());
    const rb = await dtr(argv('dtr eval --scores docs/examples/rewardbench-results.jsonl'), { cwd: work });
    for (const w of page.match(/^dtr eval: warning: .*$/gm)!) expect(rb.stderr).toContain(w);
  });

  it('the TypeScript scoreWithModel example runs as written, and matches dtr eval --model', async () => {
    const ts = /### Scoring response texts with a model\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(page)![1]!;
    writeFileSync(
      join(work, 'eval-model.mts'),
      `${importFromSources(ts)}\nconsole.log(JSON.stringify({ format: report.format, n: report.n, overall: report.overall, steps: results[0]!.path.length }));\n`,
    );
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const r = spawnSync(tsx, ['eval-model.mts'], { cwd: work, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const cli = await dtr(argv('dtr eval --model models/fixture --data test/fixtures/eval/rewardbench-sample.jsonl --json'), { cwd: work });
    const doc = JSON.parse(cli.stdout);
    expect(out).toMatchObject({ format: 'rewardbench', n: 7 });
    expect(out.overall).toBe(doc.overall);
    expect(out.steps).toBeGreaterThan(0);
    expect(readFileSync(join(work, 'results-ts.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(7);
  }, 60_000);

  it('the TypeScript example of results from any scorer runs as written and prints what its comments say', () => {
    const ts = /### Results from any scorer\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(page)![1]!;
    // Each commented expression is printed, so the comments can be checked against what it gives.
    const body = importFromSources(ts)
      .split('\n')
      .map((line) => (/^[a-z].*;\s+\/\/ /.test(line) && !line.startsWith('const ') ? `console.log(JSON.stringify(${line.slice(0, line.indexOf(';'))}));` : line))
      .join('\n');
    writeFileSync(join(work, 'any-scorer.mts'), body);
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const r = spawnSync(tsx, ['any-scorer.mts'], { cwd: work, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [format, matrix, average, cell, ties] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(format).toBe('rm-bench');
    expect(matrix).toEqual([[100, 50, 0], [100, 75, 50], [100, 100, 100]]);
    expect(String(average)).toMatch(/^72\.91/);
    expect(cell).toBe(0);
    expect(String(ties)).toMatch(/^54\.54/);
  });

  it('the example files are the test fixtures they were copied from', () => {
    for (const f of [
      'rewardbench-results.jsonl',
      'rewardbench-tree.json',
      'rewardbench-sample.jsonl',
      'train-prompts.jsonl',
      'judge-verdicts.jsonl',
      'judged-pairs.jsonl',
      'rm-bench-sample.jsonl',
      'rm-bench-results.jsonl',
      'rewardbench2-sample.jsonl',
      'rewardbench2-results.jsonl',
      'judgebench-sample.jsonl',
      'other-scorer-results.jsonl',
    ]) {
      expect(readFileSync(new URL(`../docs/examples/${f}`, import.meta.url), 'utf8')).toBe(readFileSync(new URL(`./fixtures/eval/${f}`, import.meta.url), 'utf8'));
    }
  });
});
