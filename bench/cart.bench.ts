/**
 * CART fitting and prediction speed, against scikit-learn (Debian's python3-sklearn, timed in the
 * same run on the same data) and ml-cart (the JS baseline named in the design).
 * Goals (issue: Preference trees): 80,000 pairs x 5 attributes, depth 3, log_loss, fitted in at most
 * half of scikit-learn's time; predict + path >= 1M pairs/s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionTreeClassifier } from 'ml-cart';
import { ATTRIBUTE_COUNT } from '../src/attributes.js';
import { PreferenceTree, type FitOptions } from '../src/tree/preference-tree.js';
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

const SKLEARN_TIMER = `
import sys, time, json
import numpy as np
import sklearn
from sklearn.tree import DecisionTreeClassifier
X = np.fromfile(sys.argv[1], dtype=np.float64).reshape(-1, 5)
y = np.fromfile(sys.argv[2], dtype=np.uint8)
crit, depth, runs = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
times = []
for _ in range(runs):
    t = time.perf_counter()
    clf = DecisionTreeClassifier(criterion=crit, max_depth=depth, random_state=0).fit(X, y)
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"times": times, "version": sklearn.__version__, "features": clf.tree_.feature.tolist()}))
`;

function sklearnTimes(ctx: BenchContext, dir: string, d: { deltas: Float64Array; labels: Uint8Array }, criterion: string, depth: number, runs: number): { times: number[]; version: string; features: number[] } | null {
  if (!ctx.python) return null;
  const x = join(dir, `x-${d.labels.length}.bin`);
  const y = join(dir, `y-${d.labels.length}.bin`);
  writeFileSync(x, d.deltas);
  writeFileSync(y, d.labels);
  const r = spawnSync(ctx.python, ['-c', SKLEARN_TIMER, x, y, criterion, String(depth), String(runs)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sklearn timing failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { times: number[]; version: string; features: number[] };
}

const ms = (x: number): string => `${x.toFixed(1)} ms`;
const ratio = (x: number, ref: number | null): string => (ref === null ? 'n/a' : (x / ref).toFixed(3));

export default async function cart(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-'));
  try {
    const n = ctx.quick ? 20_000 : 80_000;
    const runs = ctx.quick ? 3 : 9;
    const d = data(n, 1);
    const opts: FitOptions = { criterion: 'log_loss', maxDepth: 3 };

    // Cold: the first fit in this process (includes JIT warm-up); then warm runs.
    const t0 = performance.now();
    const first = PreferenceTree.fitArrays(d.deltas, d.labels, opts);
    const cold = performance.now() - t0;
    const warm = await timeRuns(() => PreferenceTree.fitArrays(d.deltas, d.labels, opts), runs, 2);
    const sk = sklearnTimes(ctx, dir, d, 'log_loss', 3, runs);
    const skMedian = sk ? median(sk.times) : null;
    if (sk) {
      const mine = first.toJSON().nodes.map((node) => (node.feature === null ? -2 : ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity'].indexOf(node.feature)));
      if (JSON.stringify(mine) !== JSON.stringify(sk.features)) ctx.print('WARNING: the SDK and scikit-learn trees differ on this data');
    }
    ctx.print(`CART fit: ${n.toLocaleString('en-US')} pairs x 5 attributes, depth 3, log_loss (median of ${runs})`);
    ctx.print(`  ${'engine'.padEnd(28)}${'time'.padStart(10)}   ratio vs scikit-learn`);
    ctx.print(`  ${`scikit-learn ${sk?.version ?? '(unavailable)'}`.padEnd(28)}${(skMedian === null ? 'n/a' : ms(skMedian)).padStart(10)}   1.000`);
    ctx.print(`  ${'dtr (warm)'.padEnd(28)}${ms(median(warm)).padStart(10)}   ${ratio(median(warm), skMedian)}   goal <= 0.500 ${skMedian !== null && median(warm) <= skMedian / 2 ? 'met' : 'NOT met'}`);
    ctx.print(`  ${'dtr (cold: first fit, JIT)'.padEnd(28)}${ms(cold).padStart(10)}   ${ratio(cold, skMedian)}`);

    // ml-cart grows with the square of the rows (issue: 20k rows 90 s): compare at small sizes.
    ctx.print('');
    ctx.print('ml-cart comparison: gini, depth 3 (ml-cart is quadratic in rows, so small sizes only)');
    ctx.print(`  ${'rows'.padStart(6)}${'ml-cart'.padStart(12)}${'dtr'.padStart(10)}${'scikit-learn'.padStart(14)}${'dtr/ml-cart'.padStart(13)}${'dtr/sklearn'.padStart(13)}`);
    for (const m of ctx.quick ? [1000] : [1000, 2000, 5000]) {
      const s = data(m, 2);
      const rows = Array.from({ length: m }, (_, i) => Array.from(s.deltas.subarray(i * 5, i * 5 + 5)));
      const labels = Array.from(s.labels);
      const mlRuns = m >= 5000 ? 1 : 3;
      const ml = median(await timeRuns(() => new DecisionTreeClassifier({ gainFunction: 'gini', maxDepth: 3, minNumSamples: 1, gainThreshold: 0 }).train(rows, labels), mlRuns, 0));
      const ours = median(await timeRuns(() => PreferenceTree.fitArrays(s.deltas, s.labels, { criterion: 'gini', maxDepth: 3 }), 9, 2));
      const skm = sklearnTimes(ctx, dir, s, 'gini', 3, 9);
      const skv = skm ? median(skm.times) : null;
      ctx.print(`  ${String(m).padStart(6)}${ms(ml).padStart(12)}${ms(ours).padStart(10)}${(skv === null ? 'n/a' : ms(skv)).padStart(14)}${ratio(ours, ml).padStart(13)}${ratio(ours, skv).padStart(13)}`);
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
    ctx.print(`  predictProbaBatch: ${((q.labels.length / batch) * 1000 / 1e6).toFixed(2)} M pairs/s`);
    ctx.print(`  predictProba + decisionPath per pair: ${((k / path) * 1000 / 1e6).toFixed(2)} M pairs/s   goal >= 1.00 ${(k / path) * 1000 >= 1e6 ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
