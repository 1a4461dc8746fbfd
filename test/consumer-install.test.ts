/**
 * A user's install, end to end: the SDK packed as `npm publish` would pack it, installed from the
 * tarball into a fresh project with the README's CPU-only setting, offline, then the README's
 * TypeScript example and `npx dtr explain --example` run from that project. Also: what the
 * tarball holds (LICENSE, the docs the README points to, every link of its Markdown resolving
 * inside it, no source maps or sources).
 *
 * Offline: the consumer project's package-lock.json pins the SDK's dependencies at the versions of
 * this repository's lockfile, which `npm ci` put in npm's cache, so npm resolves nothing and
 * fetches nothing (a plain `npm install <tgz>` would ask the registry for every dependency's
 * version list, which `npm ci` does not cache).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumerCompilerOptions, ensureBuilt, npmEnv, ROOT, tsc } from './support/built-package.js';
import { tempDir } from './support/temp.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string; size: number }>;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = npmEnv()): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

/** The first ```ts block after a README heading. */
function readmeBlock(heading: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  expect(at, `README has no heading '${heading}'`).toBeGreaterThanOrEqual(0);
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, `no TypeScript block after '${heading}'`).not.toBeNull();
  return m![1]!;
}

describe('the SDK installed from its tarball in a new project', () => {
  let work: string;
  let packed: PackResult;
  let tarball: string;
  let consumer: string;
  let install: SpawnSyncReturns<string>;

  beforeAll(() => {
    ensureBuilt();
    work = tempDir('dtr-consumer-install-');
    // --ignore-scripts: dist/ is built already (prepare would rebuild it).
    const p = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
    expect(p.status, p.stderr).toBe(0);
    packed = (JSON.parse(p.stdout) as PackResult[])[0]!;
    tarball = join(work, packed.filename);

    consumer = join(work, 'app');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module' }, null, 2)}\n`);
    // The SDK's dependencies at this repository's locked versions: what `npm ci` cached.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
    };
    const deps = Object.entries(lock.packages).filter(([path, p]) => path !== '' && !p.dev && !p.devOptional);
    writeFileSync(
      join(consumer, 'package-lock.json'),
      JSON.stringify(
        { name: 'app', lockfileVersion: 3, requires: true, packages: { '': { name: 'app' }, ...Object.fromEntries(deps) } },
        null,
        2,
      ),
    );

    // The README's CPU-only install: its install script denied once in package.json (npm with
    // allowScripts), else (npm 10) ONNXRUNTIME_NODE_INSTALL=skip for the install.
    const npmMajor = Number(run('npm', ['--version'], consumer).stdout.split('.')[0]);
    const env = npmEnv();
    delete env.ONNXRUNTIME_NODE_INSTALL;
    if (npmMajor >= 11) {
      const set = run('npm', ['pkg', 'set', 'allowScripts.onnxruntime-node=false', '--json'], consumer);
      expect(set.status, set.stderr).toBe(0);
    } else {
      env.ONNXRUNTIME_NODE_INSTALL = 'skip';
    }
    install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], consumer, env);
  }, 240_000);

  it('packs LICENSE, README, the docs and notebooks it points to, and no sources or source maps', () => {
    const paths = packed.files.map((f) => f.path);
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'docs/runtime.md',
      'docs/report.schema.json',
      'docs/images/report-single.png',
      'trees/rlhflow-llama-3.1-8b.json',
      'notebooks/python/dtr_export.py',
    ]) {
      expect(paths).toContain(f);
    }
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^ +Apache License\n +Version 2\.0, January 2004/);
    expect(paths.filter((p) => /\.map$|^src\/|^test\/|^\.ci\/|^bench\/|__pycache__|node_modules/.test(p))).toEqual([]);
    // No shipped file names a source map (tsconfig.build.json: sourceMap off).
    const js = paths.filter((p) => p.endsWith('.js'));
    expect(js.filter((p) => readFileSync(join(ROOT, p), 'utf8').includes('sourceMappingURL'))).toEqual([]);
  });

  it('every relative link of its Markdown files resolves inside the tarball', () => {
    const paths = new Set(packed.files.map((f) => f.path));
    const dirs = new Set(
      [...paths].flatMap((p) =>
        p
          .split('/')
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
      ),
    );
    const broken: string[] = [];
    for (const md of [...paths].filter((p) => p.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, md), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/.test(target!)) continue;
        const path = normalize(join(dirname(md), target!.replace(/#.*$/, ''))).replace(/\/$/, '');
        if (!paths.has(path) && !dirs.has(path)) broken.push(`${md}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('installs offline with the CPU-only setting, quietly, without the CUDA download', () => {
    expect(install.status, install.stderr).toBe(0);
    // No config warnings; onnxruntime-node's script neither ran nor was reported as pending.
    expect(install.stderr).not.toMatch(/Unknown (project|user) config/);
    expect(install.stderr).not.toContain('onnxruntime-node');
    const bin = join(consumer, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
    expect(readdirSync(bin).filter((f) => f.includes('providers_cuda'))).toEqual([]);
  });

  it("runs the README's TypeScript example from the project", () => {
    expect(install.status, install.stderr).toBe(0);
    const example = readmeBlock('## Use it from TypeScript');
    // The user's own data: files the example reads, at the same relative paths.
    for (const [, path] of example.matchAll(/'([\w./-]+\.jsonl?)'/g)) {
      if (existsSync(join(ROOT, path!)) && !path!.startsWith('/')) cpSync(join(ROOT, path!), join(consumer, path!));
    }
    writeFileSync(join(consumer, 'example.ts'), example);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: consumerCompilerOptions({ outDir: 'out', skipLibCheck: true }), files: ['example.ts'] }),
    );
    const compiled = run(process.execPath, [...tsc(), '-p', 'tsconfig.json'], consumer);
    expect(compiled.stdout + compiled.stderr).toBe('');
    const shipped = readdirSync(join(consumer, 'node_modules', pkg.name, 'trees')).sort();
    const r = run(process.execPath, ['out/example.js'], consumer);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\|--- /); // the fitted tree, printed
    // The installed package is left as it was: nothing is written into its trees/.
    expect(readdirSync(join(consumer, 'node_modules', pkg.name, 'trees')).sort()).toEqual(shipped);
  }, 120_000);

  it('runs `npx dtr explain --example` from the project, printing what the README shows', () => {
    expect(install.status, install.stderr).toBe(0);
    const r = run('npx', ['--offline', 'dtr', 'explain', '--example'], consumer);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^tree: rlhflow-llama-3\.1-8b /);
    expect(readme).toContain(r.stdout.trimEnd());
    const v = run('npx', ['--offline', 'dtr', '--version'], consumer);
    expect(v.stdout.trim()).toBe(pkg.version);
  }, 60_000);
});
