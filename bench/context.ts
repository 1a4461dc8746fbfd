import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What every benchmark module receives. */
export interface BenchContext {
  /** Prints a line of the benchmark report. */
  print(line?: string): void;
  /** Debian's python with numpy/sklearn, or null when missing (peers are then reported as unavailable). */
  python: string | null;
  /**
   * A second Python for peers Debian does not package (LightGBM): $DTR_BENCH_PYTHON, else the
   * checkout's .venv/bin/python; null when neither exists. Its packages: bench/python/requirements.txt.
   */
  venvPython: string | null;
  /** ../shared/data when present beside the checkout, else null (benchmarks on real data then skip, saying so). */
  sharedData: string | null;
  /** Repository root. */
  root: string;
  /** True with `npm run bench -- --quick`: smaller sizes for a smoke run. */
  quick: boolean;
}

/** A benchmark module: `export default async function (ctx) { ... }` in bench/<name>.bench.ts. */
export type Bench = (ctx: BenchContext) => Promise<void>;

export function makeContext(quick: boolean): BenchContext {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const python = '/usr/bin/python3';
  const hasPython = existsSync(python) && spawnSync(python, ['-c', 'import numpy, sklearn'], { stdio: 'ignore' }).status === 0;
  const shared = fileURLToPath(new URL('../../shared/data/', import.meta.url));
  const venv = process.env.DTR_BENCH_PYTHON ?? fileURLToPath(new URL('../.venv/bin/python', import.meta.url));
  return {
    print: (line = '') => console.log(line),
    python: hasPython ? python : null,
    venvPython: existsSync(venv) ? venv : null,
    sharedData: existsSync(shared) ? shared : null,
    root,
    quick,
  };
}

/** Median of timings in ms. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times `fn` `runs` times after `warmup` untimed runs; returns every timing in ms. */
export async function timeRuns(fn: () => unknown | Promise<unknown>, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}
