/**
 * Ridge head fitting end to end, as a user runs it: `dtr fit-head` spawned on a safetensors
 * embeddings file (20,000 x 4,096 F32 with labels, the size of HelpSteer2 embeddings of an 8B
 * backbone), against a numpy script doing the same work in its own process
 * (bench/python/ridge_peer.py: read the file, centre, the same k-fold cross-validation over the
 * same lambda grid with the same folds, the final fit). Two cases: one lambda (`--lambda 1
 * --folds 0`) and the default (`--lambda auto`, 7 lambdas x 5 folds). Both sides are timed from
 * process start to exit (Node's and Python's start-up and imports included), alternately, keeping
 * each side's best wall time; CPU time (all threads) beside it when /usr/bin/time is there. The
 * command's lambdas, held-out MSE and weights are checked against the peer's.
 * Then, for the record, one Gram product XᵀX at a small size by mathjs, a loop and onnxruntime.
 * `--quick` shrinks everything (4k x 1024, one round).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTRIBUTES } from '../src/attributes.js';
import { assignFolds } from '../src/head/ridge.js';
import { OrtLinalg } from '../src/head/ort-linalg.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { SeededRandom } from '../src/util/random.js';
import type { BenchContext } from './context.js';

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Embedding-like data: correlated features with a few large-mean columns, ratings 0-4 with a linear signal. */
function makeData(n: number, h: number): { x: Float32Array; y: Float32Array } {
  const rng = new SeededRandom(42);
  const x = new Float32Array(n * h);
  const shared = new Float64Array(16);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < 16; q++) shared[q] = rng.normal();
    for (let j = 0; j < h; j++) x[i * h + j] = 0.6 * rng.normal() + shared[j % 16]! * 0.4 + (j % 97 === 0 ? 8 : 0);
  }
  const y = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 5; a++) {
      let v = 2;
      for (let j = a; j < h; j += 37) v += 0.02 * x[i * h + j]!;
      y[i * 5 + a] = Math.min(4, Math.max(0, Math.round(v + 0.5 * rng.normal())));
    }
  }
  return { x, y };
}

interface Run {
  wall: number;
  /** User + system CPU seconds of the process and its threads, in ms; NaN without /usr/bin/time. */
  cpu: number;
  stdout: string;
}

const TIME = '/usr/bin/time';

/** Spawns `cmd args` and measures it from spawn to exit (and its CPU time through /usr/bin/time). */
function timed(cmd: string, args: string[]): Run {
  const useTime = existsSync(TIME);
  const t0 = performance.now();
  const p = useTime
    ? spawnSync(TIME, ['-f', 'dtr-bench-time %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = performance.now() - t0;
  if (p.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${p.status}): ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const m = /dtr-bench-time ([\d.]+) ([\d.]+)/.exec(p.stderr);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, stdout: p.stdout };
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

interface PeerOut {
  seconds: number;
  stages: Record<string, number>;
  solver: string;
  grid: number[];
  lambda: number[];
  cvMse: number[][] | null;
  weight: number[];
  bias: number[];
}

interface HeadJson {
  weight: number[][];
  bias: number[];
}

export default async function (ctx: BenchContext): Promise<void> {
  const n = ctx.quick ? 4000 : 20000;
  const h = ctx.quick ? 1024 : 4096;
  const rounds = ctx.quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-head-'));
  try {
    const file = join(dir, 'emb.safetensors');
    const { x, y } = makeData(n, h);
    writeSafetensors(
      file,
      { embeddings: { dtype: 'F32', shape: [n, h], data: x }, labels: { dtype: 'F32', shape: [n, 5], data: y } },
      { backbone: 'bench', attributes: ATTRIBUTES.join(',') },
    );
    // The command's folds for seed 0 (every row is rated), for the peer.
    const foldsFile = join(dir, 'folds.i32');
    writeFileSync(foldsFile, assignFolds(n, 5, 0));
    const main = join(ctx.root, 'dist/cli/main.js');
    const cases = [
      { name: 'one lambda (--lambda 1 --folds 0)', args: ['--lambda', '1', '--folds', '0'], peer: ['--lambda', '1'] },
      { name: 'auto (default: 7 lambdas x 5-fold CV, then the final fit)', args: [], peer: ['--folds-file', foldsFile] },
    ];
    ctx.print(
      `dtr fit-head on ${n.toLocaleString('en-US')} x ${h} F32 embeddings (+ labels), spawned as a user runs it, vs a numpy process doing the same work`,
    );
    ctx.print(`(wall from spawn to exit, best of ${rounds} alternating rounds; cpu = user + system of all threads)`);
    for (const c of cases) {
      const cmdRuns: Run[] = [];
      const npRuns: Run[] = [];
      const out = join(dir, 'head.json');
      const runCmd = (): void => {
        cmdRuns.push(timed(process.execPath, [main, 'fit-head', '--embeddings', file, '--out', out, ...c.args, '--json']));
      };
      const runPeer = (): void => {
        if (ctx.python) npRuns.push(timed(ctx.python, [join(ctx.root, 'bench/python/ridge_peer.py'), file, ...c.peer]));
      };
      for (let r = 0; r < rounds; r++) {
        if (r % 2 === 0) {
          runCmd();
          runPeer();
        } else {
          runPeer();
          runCmd();
        }
      }
      const best = (runs: Run[]): Run => runs.reduce((a, b) => (b.wall < a.wall ? b : a));
      const all = (runs: Run[]): string => runs.map((r) => (r.wall / 1000).toFixed(2)).join(', ');
      const cmd = best(cmdRuns);
      const doc = JSON.parse(cmd.stdout) as {
        timings: Record<string, number>;
        lambda: Record<string, number>;
        cv: { mse: Record<string, number[]> } | null;
      };
      const st = doc.timings;
      ctx.print('');
      ctx.print(`${c.name}`);
      const cpu = (r: Run): string => (Number.isNaN(r.cpu) ? '' : `  cpu ${s(r.cpu)}`);
      ctx.print(
        `  dtr fit-head   ${s(cmd.wall)}${cpu(cmd)}   [in-process: read ${s(st.read!)}, Gram ${s(st.gram!)}, CV ${s(st.cv!)}, final ${s(st.fit!)}; all runs ${all(cmdRuns)} s]`,
      );
      if (npRuns.length === 0) {
        ctx.print('  numpy peer unavailable (install python3-numpy)');
        continue;
      }
      const np = best(npRuns);
      const peer = JSON.parse(np.stdout) as PeerOut;
      const ps = peer.stages;
      ctx.print(
        `  numpy          ${s(np.wall)}${cpu(np)}   [in-process: read ${s(ps.read! * 1000)}, Gram ${s(ps.gram! * 1000)}, CV ${s(ps.cv! * 1000)}, final ${s(ps.fit! * 1000)} (${peer.solver}); all runs ${all(npRuns)} s]`,
      );
      const ratio = cmd.wall / np.wall;
      ctx.print(
        `  ratio ${ratio.toFixed(2)}x numpy's wall time${Number.isNaN(cmd.cpu) ? '' : `, ${(cmd.cpu / np.cpu).toFixed(2)}x its CPU time`} (goal: <= 1.00 ${ctx.quick ? 'at full size; this smoke size is dominated by start-up costs' : ratio <= 1 ? 'met' : 'NOT met'})`,
      );
      // Same work, same answer: lambdas, held-out MSE, weights.
      const head = JSON.parse(readFileSync(out, 'utf8')) as HeadJson;
      const w = head.weight.flat();
      const lambdasSame = ATTRIBUTES.every((a, k) => doc.lambda[a] === peer.lambda[k]);
      let mseErr = 0;
      if (doc.cv && peer.cvMse) ATTRIBUTES.forEach((a, k) => (mseErr = Math.max(mseErr, relErr(doc.cv!.mse[a]!, peer.cvMse![k]!))));
      ctx.print(
        `  same answer: lambdas ${lambdasSame ? 'equal' : `DIFFER (${ATTRIBUTES.map((a) => doc.lambda[a]).join(',')} vs ${peer.lambda.join(',')})`}` +
          `${doc.cv ? `, held-out MSE max rel diff ${mseErr.toExponential(1)}` : ''}, weights max |Δ|/max|w| ${relErr(w, peer.weight).toExponential(1)}, bias max rel diff ${relErr(head.bias, peer.bias).toExponential(1)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // For the record: one XᵀX at a small size by three means.
  const rn = ctx.quick ? 500 : 2000;
  const rh = ctx.quick ? 128 : 256;
  const rng = new SeededRandom(7);
  const small = Float64Array.from({ length: rn * rh }, () => rng.normal());
  ctx.print('');
  ctx.print(`one Gram product XᵀX, ${rn} x ${rh} (float64)`);
  const math = createRequire(import.meta.url)('mathjs') as {
    matrix: (a: number[][]) => unknown;
    multiply: (a: unknown, b: unknown) => unknown;
    transpose: (a: unknown) => unknown;
  };
  const rows: number[][] = Array.from({ length: rn }, (_, i) => Array.from(small.subarray(i * rh, (i + 1) * rh)));
  const m = math.matrix(rows);
  let t1 = performance.now();
  math.multiply(math.transpose(m), m);
  const tMath = performance.now() - t1;
  t1 = performance.now();
  const g = new Float64Array(rh * rh);
  for (let i = 0; i < rn; i++) {
    const o = i * rh;
    for (let p = 0; p < rh; p++) {
      const v = small[o + p]!;
      const gp = p * rh;
      for (let q = 0; q < rh; q++) g[gp + q]! += v * small[o + q]!;
    }
  }
  const tLoop = performance.now() - t1;
  const la = await OrtLinalg.create();
  const xt = new Float64Array(rh * rn);
  for (let i = 0; i < rn; i++) for (let j = 0; j < rh; j++) xt[j * rn + i] = small[i * rh + j]!;
  await la.gram(xt, rh, rn);
  t1 = performance.now();
  await la.gram(xt, rh, rn);
  const tOrt = performance.now() - t1;
  ctx.print(`  mathjs multiply           ${s(tMath)}`);
  ctx.print(`  plain Float64Array loop   ${s(tLoop)}   (${(tMath / tLoop).toFixed(0)}x faster than mathjs)`);
  ctx.print(`  onnxruntime Gemm          ${s(tOrt)}   (${(tLoop / tOrt).toFixed(0)}x faster than the loop)`);
}
