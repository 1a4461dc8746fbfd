/** docs/building.md's examples, run as written. */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LinearHead, PreferenceTree } from '../src/index.js';
import { compileTarget } from '../src/advanced.js';
import { dtr } from './support/cli.js';
import { writeSyntheticEmbeddings } from './support/embeddings.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';
import { importFromSources } from './support/package-imports.js';

const doc = readFileSync(new URL('../docs/building.md', import.meta.url), 'utf8');

describe('docs/building.md', () => {
  it('shows the current output of its dtr fit-head example (all but the timing line)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtr-docs-'));
    writeSyntheticEmbeddings(join(dir, 'embeddings.safetensors'));
    const r = await dtr(['fit-head', '--embeddings', 'embeddings.safetensors', '--out', 'heads/synthetic.json', '--target', 'helpfulness + 0.5*correctness'], { cwd: dir });
    expect(r.code).toBe(0);
    const shown = r.stdout.trimEnd().split('\n').filter((l) => !l.startsWith('time:'));
    for (const line of shown) expect(doc).toContain(line);
    expect(LinearHead.load(join(dir, 'heads/synthetic.json')).hiddenSize).toBe(256);
  });

  it('lists the functions formulas may use', () => {
    expect(doc).toContain('`abs min max sqrt exp log`');
    expect(compileTarget('min(helpfulness, correctness) - 0.1*verbosity').attributes).toEqual(['helpfulness', 'correctness', 'verbosity']);
  });
});

/** The section of the page under a `## ` heading. */
function section(heading: string): string {
  const start = doc.indexOf(`## ${heading}`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const end = doc.indexOf('\n## ', start + 3);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** Splits a command line as a POSIX shell would for these simple lines (single quotes only). */
function argv(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1);
}

/** A scratch copy of what a fresh clone has: the fixtures and the fixture model folder. */
function scratch(): string {
  const dir = tempDir('dtr-docs-loop-');
  cpSync(fileURLToPath(new URL('./fixtures/', import.meta.url)), join(dir, 'test/fixtures'), { recursive: true });
  writeFixtureModel(join(dir, 'models/fixture')); // what `npx tsx scripts/make-fixture-model.ts models/fixture` writes
  return dir;
}

describe('docs/building.md: the retraining loop', () => {
  const loop = section('The retraining loop, end to end');

  it('runs every command of the walk-through, in order, and prints what the page shows', async () => {
    const sh = /```sh\n([\s\S]*?)```/.exec(loop)![1]!;
    const lines = sh.split('\n').filter((l) => l.startsWith('dtr '));
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['embed', 'fit-head', 'train-tree', 'train-tree', 'compare']);
    expect(sh).toContain('npx tsx scripts/make-fixture-model.ts models/fixture');
    const dir = scratch();
    const out: Array<{ stdout: string; stderr: string }> = [];
    for (const line of lines) {
      const r = await dtr(argv(line), { cwd: dir });
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      out.push(r);
    }
    const [embed, fit, first, second, compare] = out as [typeof out[0], typeof out[0], typeof out[0], typeof out[0], typeof out[0]];
    expect(loop).toContain(embed.stdout.trimEnd());
    expect(embed.stderr).toMatch(/embed \[#+\] 80\/80 rows 100% [\d.]+ rows\/s in/);
    expect(loop).toContain(fit.stdout.split('\n').filter((l) => !l.startsWith('time:')).join('\n').trimEnd());
    expect(loop).toContain(first.stdout.trimEnd());
    for (const w of first.stderr.split('\n').filter((l) => l.startsWith('dtr train-tree: warning:'))) expect(loop).toContain(w);
    expect(loop).toContain(second.stdout.split('\n').slice(0, 2).join('\n'));
    expect(second.stdout).toContain('validated on 5');
    expect(loop).toContain(compare.stdout.trimEnd());
    expect(PreferenceTree.load(join(dir, 'models/fixture/trees/mine.json')).name).toBe('mine');
  });

  it('the TypeScript version runs as written', () => {
    const ts = /### From TypeScript\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(loop)![1]!;
    const dir = scratch();
    const script = `${importFromSources(ts)}
console.log(JSON.stringify({ truncated: emb.truncatedRows.length, resumed: emb.resumedRows, dtype: emb.dtype, hits: scored.cacheHits, computed: scored.computed, ties: scored.ties.length, n: report.trainN }));
`;
    writeFileSync(join(dir, 'loop.mts'), script);
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const run = (): Record<string, unknown> => {
      const r = spawnSync(tsx, ['loop.mts'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    expect(run()).toEqual({ truncated: 0, resumed: 0, dtype: 'BF16', hits: 0, computed: 50, ties: 15, n: 20 });
    // The comments' second-time figures: the refitted head is the same (same embeddings), so all 50 come from the cache.
    writeFileSync(join(dir, 'loop.mts'), script.replace("'emb.safetensors', { dtype", "'emb2.safetensors', { dtype").replace("readEmbeddingsFile('emb.safetensors')", "readEmbeddingsFile('emb2.safetensors')"));
    expect(run()).toMatchObject({ hits: 50, computed: 0, ties: 15 });
  }, 60_000);
});
