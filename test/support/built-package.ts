/** The built package (dist/), as the consumer tests use it. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Builds dist/ when a focused run finds it missing (`npm test` builds first). */
export function ensureBuilt(): void {
  if (
    existsSync(join(ROOT, 'dist', 'index.d.ts')) &&
    existsSync(join(ROOT, 'dist', 'advanced.d.ts')) &&
    existsSync(join(ROOT, 'dist', 'cli', 'main.js'))
  )
    return;
  const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8', env: npmEnv() });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr}`);
}

/**
 * The environment for an npm started by a test: without the `npm_*` variables of the `npm test`
 * that may be running the suite (they would make the child npm read this project's config).
 */
export function npmEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

/**
 * The command that compiles TypeScript with this repository's compiler (a consumer's would do the same).
 *
 * @example
 * ```ts
 * spawnSync(process.execPath, [...tsc(), '-p', 'tsconfig.json'], { cwd: dir });
 * ```
 */
export function tsc(): string[] {
  return [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')];
}

/** Compiler options of a consumer project: Node's module rules, this repository's @types/node. */
export function consumerCompilerOptions(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    ...extra,
  };
}
