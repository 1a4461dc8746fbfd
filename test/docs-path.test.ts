/**
 * The user's path through the documentation, as a new user walks it: README → docs/runtime.md →
 * docs/building.md → docs/reports.md → docs/eval.md → docs/serving.md, every code block run as
 * written, in page order, in ONE fresh copy of the repository (so a block sees what the blocks
 * before it left, and the pages must not break each other), each printed output checked against
 * the block the page shows under it. The conventions (what runs, what an output block is, `…`,
 * varying numbers) are in test/support/doc-blocks.ts and CONTRIBUTING.md.
 *
 * The copy is what a clean clone has after `npm ci`: the files git tracks (and untracked ones
 * not ignored, so work in progress is tested), `dist/` copied from this checkout (built by
 * `npm test`), and `node_modules` linked. `sh` blocks run in bash from the copy's root; `npx dtr`
 * and `npx tsx` are the copy's `dist/cli/main.js` and `node_modules/.bin/tsx`, which is what npx
 * resolves them to (the first block naming each goes through npx itself, the others call them
 * directly: npx costs a second a call, and half a minute the first time, when it links the clone
 * into npm's cache). `ts` blocks run with tsx from the copy's root, where
 * `import ... from 'decision-tree-reward'` resolves to the copy itself (a package may import
 * itself by name). Blocks marked `<!-- not run: why -->` are listed, with why; at the end the copy
 * must be as git found it: the docs write only into ignored folders (out/, models/, .dtr-cache/).
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE, coveredBy, docBlocks, outputMismatch, RUNNABLE, type DocBlock } from './support/doc-blocks.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUTPUTS = join(ROOT, 'test-output/docs-path');
/** The pages, in the order a new user reads them. */
const PAGES = ['README.md', 'docs/runtime.md', 'docs/building.md', 'docs/reports.md', 'docs/eval.md', 'docs/serving.md'];

const blocks = PAGES.flatMap((page) => docBlocks(ROOT, page));
const code = blocks.filter((b) => CODE.has(b.lang));
const toRun = code.filter((b) => b.notRun === null);
const skipped = code.filter((b) => b.notRun !== null);

/** The temporary folder holding the copy (`clone/`) and npm's cache for it (`npm-cache/`). */
let root = '';
let copy = '';
const started = Date.now();

beforeAll(() => {
  // dist/ must be built from the current sources: the blocks run the package as a user has it.
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs),
    );
  expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'dist/ is missing: run `npm run build` (npm test does)').toBe(true);
  expect(
    newest(join(ROOT, 'src')) <= statSync(join(ROOT, 'dist/index.js')).mtimeMs,
    'dist/ is older than src/: run `npm run build` (npm test does)',
  ).toBe(true);

  root = mkdtempSync(join(tmpdir(), 'dtr-docs-path-'));
  copy = join(root, 'clone');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(ROOT, f))) continue; // deleted in the working tree
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(copy, f));
  }
  cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  // Stage everything, so `git status` at the end shows any file a block wrote or changed outside the ignored folders.
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: copy, encoding: 'utf8' });
  git('init', '-q');
  writeFileSync(join(copy, '.git/info/exclude'), '/node_modules\n'); // a link here, a folder in a clone
  git('add', '-A');
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  console.log(`docs path: ${toRun.length} blocks run, ${skipped.length} not run, in ${((Date.now() - started) / 1000).toFixed(0)} s`);
});

/** The first block naming `npx dtr` / `npx tsx` runs npx itself; the others call what it resolves to. */
const realNpx = new Set(
  ['dtr', 'tsx']
    .map((cmd) => toRun.find((b) => b.lang === 'sh' && new RegExp(`\\bnpx ${cmd}\\b`).test(b.body)))
    .filter((b): b is DocBlock => b !== undefined),
);

function runBlock(b: DocBlock): SpawnSyncReturns<string> {
  // npx links the clone into npm's cache on first use: a cache of the run's own, removed with it.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    npm_config_cache: join(root, 'npm-cache'),
    npm_config_update_notifier: 'false',
  };
  delete env.DTR_SERVE_TOKEN;
  if (b.lang === 'ts') {
    const file = join(copy, `.doc-block-${b.line}.mts`);
    writeFileSync(file, b.body);
    try {
      return spawnSync(join(copy, 'node_modules/.bin/tsx'), [file], { cwd: copy, env, encoding: 'utf8', timeout: 300_000 });
    } finally {
      rmSync(file, { force: true });
    }
  }
  const shim = realNpx.has(b)
    ? ''
    : `npx() { case "$1" in dtr) shift; node "$PWD/dist/cli/main.js" "$@";; tsx) shift; "$PWD/node_modules/.bin/tsx" "$@";; *) command npx "$@";; esac; }\n`;
  return spawnSync('bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', shim + b.body], {
    cwd: copy,
    env,
    encoding: 'utf8',
    timeout: 300_000,
  });
}

describe('the docs, followed in order on a fresh clone', () => {
  it(`does not run ${skipped.length} blocks, each marked in its page with why`, () => {
    const lines = skipped.map((b) => `  ${b.page}:${b.line} (${b.lang}): ${b.notRun}`);
    console.log(`not run:\n${lines.join('\n')}`);
    for (const b of skipped) {
      expect(b.notRun!.length, `${b.page}:${b.line}`).toBeGreaterThan(10);
      const other = coveredBy(b.notRun!);
      if (other) expect(existsSync(join(ROOT, other)), `${b.page}:${b.line} names ${other}`).toBe(true);
    }
    for (const b of code)
      expect(
        RUNNABLE.has(b.lang) || b.notRun !== null,
        `${b.page}:${b.line}: a ${b.lang} block the runner cannot run must say why it is not run`,
      ).toBe(true);
    expect(toRun.length).toBeGreaterThan(40);
  });

  for (const b of toRun) {
    const title = `${b.page}:${b.line} ${b.lang}: ${
      b.body
        .split('\n')
        .find((l) => l.trim() && !l.startsWith('//') && !l.startsWith('import'))
        ?.slice(0, 80) ?? ''
    }`;
    it(
      title,
      () => {
        const r = runBlock(b);
        const where = `${b.page}:${b.line}`;
        // What it printed, for whoever updates the page (test-output/ is ignored).
        mkdirSync(OUTPUTS, { recursive: true });
        writeFileSync(join(OUTPUTS, `${b.page.replace(/\//g, '_')}-${b.line}.txt`), `--- stdout\n${r.stdout}--- stderr\n${r.stderr}`);
        expect(
          r.status,
          `${where} exited ${r.status}${r.error ? ` (${r.error.message})` : ''}\n--- stderr:\n${r.stderr}\n--- stdout:\n${r.stdout}`,
        ).toBe(0);
        for (const stream of ['stdout', 'stderr'] as const) {
          const shown = b[stream];
          if (shown)
            expect(outputMismatch(shown, r[stream]), `${where}: ${stream} is not what ${shown.page}:${shown.line} shows`).toBeNull();
        }
        // Never silent, in the docs either: a command that warns shows its warning on the page.
        const warnings = r.stderr.split('\n').filter((l) => /^[\w-]+( [\w-]+)?: warning: /.test(l));
        if (!b.stderr) expect(warnings, `${where} warns, and the page does not show it (a \`text stderr\` block)`).toEqual([]);
      },
      300_000,
    );
  }

  it('the reports the pages made show what the pages say they show', () => {
    // docs/eval.md: the audit's tree drawn; the RM-Bench report's style matrix beside "decided by style".
    expect(readFileSync(join(copy, 'out/judge.html'), 'utf8')).toMatch(/<svg class="tree"[\s\S]*verbosity/);
    expect(readFileSync(join(copy, 'out/rm-bench.html'), 'utf8')).toMatch(
      /Decided by style[\s\S]*<h3>RM-Bench style matrix<\/h3><p>45 labelled comparisons/,
    );
    // docs/building.md: the retrained tree is the one the folder holds.
    expect(readFileSync(join(copy, 'models/retrain/trees/mine.json'), 'utf8')).toContain('"name": "mine"');
  });

  it('leaves the copy as git found it: nothing written outside the ignored folders, trees/ and heads/ untouched', () => {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: copy, encoding: 'utf8' });
    expect(git('diff', '--name-status') + git('ls-files', '--others', '--exclude-standard')).toBe('');
  });
});
