/**
 * CART fitting and prediction speed, against scikit-learn (Debian's python3-sklearn, timed in the
 * same run on the same data), LightGBM (a single depth-3 tree with its histogram method; from
 * $DTR_BENCH_PYTHON or .venv, see bench/python/requirements.txt) and ml-cart (the JS baseline
 * named in the design).
 * Goals (issue: Preference trees; issue 12): 80,000 pairs x 5 attributes, depth 3, log_loss,
 * fitted in at most half of scikit-learn's time, warm and as the first fit in a fresh process;
 * predict + path >= 1M pairs/s. Fits are timed in fresh processes on both sides (a user's script:
 * import, then fit), alternately, several rounds; the SDK side imports the built package (dist/).
 * Also: 100 bootstrap refits (bootstrapImportances) against scikit-learn refitting 100 resamples.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DecisionTreeClassifier } from 'ml-cart';
import { ATTRIBUTE_COUNT } from '../src/attributes.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { SeededRandom } from '../src/util/random.js';
import { median, timeRuns, type BenchContext } from './context.js';

function data(n: number, seed: number): { deltas: Float64Array; labels: Uint8Array } {
  const rng = new SeededRandom(seed);
  const deltas = new Float64Array(n * ATTRIBUTE_COUNT);
  const labels = new Uint8Array(n);
  const w = [1.5, 0.8, 0.3, -0.2, 0.1];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
      const v = Math.fround(rng.normal());
      deltas[i * ATTRIBUTE_COUNT + k] = v;
      s += w[k]! * v;
    }
    labels[i] = s + 0.8 * rng.normal() > 0 ? 1 : 0;
  }
  return { deltas, labels };
}

/**
 * The SDK side of a fresh-process measurement, as a user's script: import the package, read
 * the data, fit (`fit`: RUNS times, the first timed apart) or refit bootstrap resamples.
 */
const NODE_CHILD = `
const t0 = performance.now();
const [entry, xPath, yPath, mode, runs] = process.argv.slice(1);
const sdk = await import(entry);
const importMs = performance.now() - t0;
const { readFileSync } = await import('node:fs');
const xb = readFileSync(xPath); const yb = readFileSync(yPath);
const X = new Float64Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.length));
const y = new Uint8Array(yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.length));
const out = { importSeconds: importMs / 1000, times: [] };
if (mode === 'fit') {
  for (let r = 0; r < Number(runs); r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    const tree = sdk.PreferenceTree.fitArrays(X, y, { criterion: 'log_loss', maxDepth: 3 });
    out.times.push(performance.now() - t);
    if (r === 0) {
      const u = process.cpuUsage(c);
      out.firstCpu = (u.user + u.system) / 1000;
      out.features = Array.from(tree.arrays.feature, (f) => (f < 0 ? -2 : f));
    }
  }
} else {
  const t = performance.now();
  const b = sdk.bootstrapImportances(X, y, { refits: Number(runs), seed: 0, maxDepth: 3, criterion: 'log_loss' });
  out.times.push(performance.now() - t);
  out.mean = Object.values(b.mean);
}
console.log(JSON.stringify(out));
`;

interface PeerRun {
  importSeconds: number;
  times: number[];
  /** CPU milliseconds of the first fit (all threads: V8's compiler and GC threads count). */
  firstCpu?: number;
  version?: string;
  features?: number[];
  thresholds?: number[];
  threads?: number | string;
  mean?: number[];
}

function spawnJson(cmd: string, args: string[]): PeerRun {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout) as PeerRun;
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const ratio = (x: number, ref: number | null): string => (ref === null ? 'n/a' : (x / ref).toFixed(3));
const range = (xs: number[]): string => (xs.length > 1 ? `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}` : xs[0]!.toFixed(0));

export default async function cart(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-'));
  try {
    const n = ctx.quick ? 20_000 : 80_000;
    const runs = ctx.quick ? 3 : 10;
    const rounds = ctx.quick ? 1 : 5;
    const d = data(n, 1);
    const xPath = join(dir, 'x.bin');
    const yPath = join(dir, 'y.bin');
    writeFileSync(xPath, d.deltas);
    writeFileSync(yPath, d.labels);
    const entry = pathToFileURL(join(ctx.root, 'dist/index.js')).href;
    const peer = join(ctx.root, 'bench/python/tree_peer.py');
    const lgbOk = ctx.venvPython !== null && spawnSync(ctx.venvPython, ['-c', 'import lightgbm'], { stdio: 'ignore' }).status === 0;

    // Fresh processes, alternating sides, several rounds: first fit (JIT cold on the SDK side) and the median of the rest.
    const dtr: PeerRun[] = [];
    const sk: PeerRun[] = [];
    const lgb: PeerRun[] = [];
    for (let r = 0; r < rounds; r++) {
      const sides = [
        () => dtr.push(spawnJson(process.execPath, ['--input-type=module', '-e', NODE_CHILD, entry, xPath, yPath, 'fit', String(runs)])),
        () => ctx.python && sk.push(spawnJson(ctx.python, [peer, 'sklearn', xPath, yPath, String(runs)])),
        () => lgbOk && lgb.push(spawnJson(ctx.venvPython!, [peer, 'lightgbm', xPath, yPath, String(runs)])),
      ];
      (r % 2 === 0 ? sides : [...sides].reverse()).forEach((f) => f());
    }
    const firsts = (xs: PeerRun[]): number[] => xs.map((x) => x.times[0]!);
    const warms = (xs: PeerRun[]): number[] => xs.map((x) => median(x.times.slice(1)));
    const imports = (xs: PeerRun[]): number[] => xs.map((x) => x.importSeconds * 1000);
    const skFirst = sk.length ? median(firsts(sk)) : null;
    const skWarm = sk.length ? median(warms(sk)) : null;
    const dFirst = median(firsts(dtr));
    const dWarm = median(warms(dtr));
    ctx.print(
      `CART fit: ${n.toLocaleString('en-US')} pairs x 5 attributes, depth 3, log_loss; each side in ${rounds} fresh process${rounds > 1 ? 'es' : ''} (import, then ${runs} fits)`,
    );
    ctx.print(`  medians over processes [range]; first = the process's first fit, warm = median of its other fits`);
    ctx.print(`  ${'engine'.padEnd(30)}${'import'.padStart(22)}${'first fit'.padStart(24)}${'warm'.padStart(22)}`);
    const row = (name: string, xs: PeerRun[]): string =>
      `  ${name.padEnd(30)}${`${median(imports(xs)).toFixed(0)} ms [${range(imports(xs))}]`.padStart(22)}${`${ms(median(firsts(xs)))} [${range(firsts(xs))}]`.padStart(24)}${`${ms(median(warms(xs)))} [${range(warms(xs))}]`.padStart(22)}`;
    if (sk.length) ctx.print(row(`scikit-learn ${sk[0]!.version}`, sk));
    else ctx.print('  scikit-learn unavailable (install python3-sklearn)');
    ctx.print(row('dtr (dist/index.js)', dtr));
    if (lgb.length) ctx.print(row(`LightGBM ${lgb[0]!.version} (histograms)`, lgb));
    else
      ctx.print(
        `  LightGBM unavailable (${ctx.venvPython ? `${ctx.venvPython} has no lightgbm` : 'no .venv/bin/python or $DTR_BENCH_PYTHON'}: pip install -r bench/python/requirements.txt)`,
      );
    const goal = (ok: boolean): string => (ctx.quick ? 'judged at full size' : ok ? 'met' : 'NOT met');
    ctx.print(
      `  dtr/scikit-learn: warm ${ratio(dWarm, skWarm)} (goal <= 0.500 ${goal(skWarm !== null && dWarm <= skWarm / 2)}); first fit ${ratio(dFirst, skFirst)} of its first fit, ${ratio(dFirst, skWarm)} of its warm fit (goal <= 0.500 ${goal(skWarm !== null && dFirst <= skWarm / 2)})`,
    );
    if (sk.length) {
      const cpu = (xs: PeerRun[]): number[] => xs.map((x) => x.firstCpu!);
      ctx.print(
        `  first fit, CPU time (all threads; less disturbed by other jobs than wall time): dtr ${ms(median(cpu(dtr)))} [${range(cpu(dtr))}], scikit-learn ${ms(median(cpu(sk)))} [${range(cpu(sk))}], ratio ${ratio(median(cpu(dtr)), median(cpu(sk)))}`,
      );
    }
    if (lgb.length) {
      ctx.print(
        `  dtr/LightGBM: warm ${ratio(dWarm, median(warms(lgb)))}, first fit ${ratio(dFirst, median(firsts(lgb)))} (LightGBM threads: ${lgb[0]!.threads}; it bins features into max_bin=255 histograms and uses a second-order gain, so its thresholds differ)`,
      );
    }
    const mine = dtr[0]!.features!;
    if (sk.length)
      ctx.print(
        `  same tree as scikit-learn: ${JSON.stringify(mine) === JSON.stringify(sk[0]!.features) ? 'yes' : `NO (${JSON.stringify(mine)} vs ${JSON.stringify(sk[0]!.features)})`}`,
      );
    if (lgb.length) {
      const lf = lgb[0]!.features!;
      ctx.print(
        `  LightGBM's tree: split features ${JSON.stringify(lf)} (${JSON.stringify(lf) === JSON.stringify(mine) ? 'same features as dtr' : 'other features than dtr'}), root threshold ${lgb[0]!.thresholds![0]!.toPrecision(6)} vs scikit-learn's ${sk.length ? sk[0]!.thresholds![0]!.toPrecision(6) : 'n/a'}`,
      );
    }

    // Bootstrap importances: 100 refits on resamples, each side in a fresh process.
    const refits = ctx.quick ? 10 : 100;
    const bd = spawnJson(process.execPath, ['--input-type=module', '-e', NODE_CHILD, entry, xPath, yPath, 'bootstrap', String(refits)]);
    const bs = ctx.python ? spawnJson(ctx.python, [peer, 'bootstrap', xPath, yPath, String(refits)]) : null;
    ctx.print('');
    ctx.print(
      `bootstrap importances: ${refits} refits on resamples of the ${n.toLocaleString('en-US')} pairs, depth 3, log_loss (fresh process each, import excluded)`,
    );
    const fmt = (m: number[]): string => m.map((v) => v.toFixed(3)).join(' ');
    ctx.print(`  ${'dtr bootstrapImportances'.padEnd(36)}${ms(bd.times[0]!).padStart(12)}   mean importances ${fmt(bd.mean!)}`);
    if (bs) {
      ctx.print(
        `  ${`scikit-learn, ${refits} fits of resamples`.padEnd(36)}${ms(bs.times[0]!).padStart(12)}   mean importances ${fmt(bs.mean!)} (other resamples)`,
      );
      ctx.print(`  ratio ${ratio(bd.times[0]!, bs.times[0]!)}`);
    }

    // ml-cart grows with the square of the rows (issue: 20k rows 90 s): compare at small sizes.
    ctx.print('');
    ctx.print('ml-cart comparison: gini, depth 3 (ml-cart is quadratic in rows, so small sizes only)');
    ctx.print(
      `  ${'rows'.padStart(6)}${'ml-cart'.padStart(12)}${'dtr'.padStart(10)}${'scikit-learn'.padStart(14)}${'dtr/ml-cart'.padStart(13)}${'dtr/sklearn'.padStart(13)}`,
    );
    for (const m of ctx.quick ? [1000] : [1000, 2000, 5000]) {
      const s = data(m, 2);
      const rows = Array.from({ length: m }, (_, i) => Array.from(s.deltas.subarray(i * 5, i * 5 + 5)));
      const labels = Array.from(s.labels);
      const mlRuns = m >= 5000 ? 1 : 3;
      const ml = median(
        await timeRuns(
          () => new DecisionTreeClassifier({ gainFunction: 'gini', maxDepth: 3, minNumSamples: 1, gainThreshold: 0 }).train(rows, labels),
          mlRuns,
          0,
        ),
      );
      const ours = median(await timeRuns(() => PreferenceTree.fitArrays(s.deltas, s.labels, { criterion: 'gini', maxDepth: 3 }), 9, 2));
      let skv: number | null = null;
      if (ctx.python) {
        const sx = join(dir, `x-${m}.bin`);
        const sy = join(dir, `y-${m}.bin`);
        writeFileSync(sx, s.deltas);
        writeFileSync(sy, s.labels);
        skv = median(spawnJson(ctx.python, [peer, 'sklearn', sx, sy, '9', 'gini', '3']).times);
      }
      ctx.print(
        `  ${String(m).padStart(6)}${ms(ml).padStart(12)}${ms(ours).padStart(10)}${(skv === null ? 'n/a' : ms(skv)).padStart(14)}${ratio(ours, ml).padStart(13)}${ratio(ours, skv).padStart(13)}`,
      );
    }

    // Prediction throughput.
    ctx.print('');
    const tree = PreferenceTree.load('rlhflow-llama-3.1-8b');
    const q = data(ctx.quick ? 200_000 : 1_000_000, 3);
    const batch = median(await timeRuns(() => tree.predictProbaBatch(q.deltas), 5, 1));
    const k = ctx.quick ? 100_000 : 500_000;
    const pathRun = (): number => {
      let s = 0;
      for (let i = 0; i < k; i++) {
        const x = q.deltas.subarray(i * 5, i * 5 + 5);
        s += tree.predictProba(x) + tree.decisionPath(x).length;
      }
      return s;
    };
    const path = median(await timeRuns(pathRun, 5, 1));
    ctx.print(`prediction (published Llama-3.1-8B tree)`);
    ctx.print(`  predictProbaBatch: ${(((q.labels.length / batch) * 1000) / 1e6).toFixed(2)} M pairs/s`);
    ctx.print(
      `  predictProba + decisionPath per pair: ${(((k / path) * 1000) / 1e6).toFixed(2)} M pairs/s   goal >= 1.00 ${(k / path) * 1000 >= 1e6 ? 'met' : 'NOT met'}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
