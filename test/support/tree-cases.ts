/** Trees and bootstrap importances over varied data, as JSON strings: for comparing two engines (test/presort.test.ts). */
import { SeededRandom } from '../../src/util/random.js';
import type { PreferenceTree as Tree } from '../../src/tree/preference-tree.js';
import type { bootstrapImportances as Boot } from '../../src/tree/importance.js';

export function cases(PreferenceTree: typeof Tree, bootstrapImportances: typeof Boot): string[] {
  const out: string[] = [];
  const provenance = { source: 'test', data: [], command: null, package: 'test' };
  for (let seed = 0; seed < 12; seed++) {
    const rng = new SeededRandom(seed);
    const n = [40, 700, 3000][seed % 3]!;
    const d = new Float64Array(n * 5);
    const y = new Uint8Array(n);
    for (let i = 0; i < n * 5; i++) d[i] = seed % 4 === 0 ? Math.round(rng.normal() * 2) / 2 : rng.next() < 0.05 ? -0 : rng.normal();
    for (let i = 0; i < n; i++) y[i] = d[i * 5]! + 0.5 * d[i * 5 + 1]! + rng.normal() * 0.5 > 0 ? 1 : 0;
    for (const opts of [
      { criterion: 'log_loss' as const, maxDepth: 3 },
      { criterion: 'gini' as const, maxDepth: 5, minSamplesLeaf: 3 },
      { criterion: 'log_loss' as const, maxDepth: 6, sampleWeight: Array.from({ length: n }, (_, i) => i % 3) },
    ]) {
      const t = PreferenceTree.fitArrays(d, y, { ...opts, provenance });
      out.push(
        JSON.stringify({
          tree: t.toJSON(),
          ranges: Object.values(t.ranges ?? {}).map(([a, b]) => [Object.is(a, -0) ? '-0' : a, Object.is(b, -0) ? '-0' : b]),
        }),
      );
    }
    if (seed % 3 === 1) out.push(JSON.stringify(bootstrapImportances(d, y, { refits: 5, seed })));
  }
  return out;
}
