/** The CART engine's own semantics, on data small enough to check by hand. */
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES } from '../src/attributes.js';
import { argsortFloat64 } from '../src/tree/argsort.js';
import { fitCart, impurityOf } from '../src/tree/cart.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { SeededRandom } from '../src/util/random.js';
import { syntheticDeltas } from './support/data.js';

/** Rows of [helpfulness delta, label]; the other four deltas are 0. */
function oneFeature(rows: Array<[number, 0 | 1]>): { deltas: Float64Array; labels: Uint8Array } {
  const deltas = new Float64Array(rows.length * 5);
  rows.forEach(([h], i) => (deltas[i * 5] = h));
  return { deltas, labels: Uint8Array.from(rows.map(([, y]) => y)) };
}

describe('argsortFloat64', () => {
  it('sorts negatives, zeros, tiny and huge values, stably', () => {
    const v = Float64Array.from([3, -1, 0, -0, 1e-300, -1e300, 2.5, -1, 1e300, -2.5e-10]);
    const order = Array.from(argsortFloat64(v));
    const sorted = order.map((i) => v[i]!);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! >= sorted[i - 1]!).toBe(true);
    expect(order.indexOf(1)).toBeLessThan(order.indexOf(7)); // equal -1s keep index order
    expect(order.indexOf(3)).toBeLessThan(order.indexOf(2)); // -0 before +0
  });

  it('agrees with a comparator sort on random data', () => {
    const rng = new SeededRandom(3);
    const v = Float64Array.from({ length: 5000 }, () => (rng.next() < 0.2 ? Math.round(rng.normal() * 3) : rng.normal() * 1e3));
    const mine = Array.from(argsortFloat64(v));
    const negZero = (i: number): number => (Object.is(v[i], -0) ? 1 : 0);
    const ref = Array.from(v.keys()).sort((a, b) => v[a]! - v[b]! || negZero(b) - negZero(a) || a - b);
    expect(mine).toEqual(ref);
  });
});

describe('CART engine', () => {
  it('splits at the midpoint between consecutive distinct values; <= goes left', () => {
    const { deltas, labels } = oneFeature([
      [-2, 0],
      [-1, 0],
      [1, 1],
      [3, 1],
    ]);
    const tree = PreferenceTree.fitArrays(deltas, labels, { maxDepth: 1 });
    expect(tree.toJSON().nodes[0]).toMatchObject({ feature: 'helpfulness', threshold: 0, left: 1, right: 2 });
    expect(tree.predictProba([0, 0, 0, 0, 0])).toBe(0); // exactly on the threshold: left
    expect(tree.predictProba([1e-12, 0, 0, 0, 0])).toBe(1);
  });

  it('keeps weighted samples, share and class probabilities on every node', () => {
    const { deltas, labels } = oneFeature([
      [-2, 0],
      [-1, 1],
      [1, 1],
      [2, 1],
      [3, 0],
    ]);
    const tree = PreferenceTree.fitArrays(deltas, labels, { maxDepth: 1, sampleWeight: [1, 1, 2, 2, 1] });
    const [root, left, right] = tree.toJSON().nodes;
    expect(root).toMatchObject({ samples: 7, share: 1, value: [2 / 7, 5 / 7] });
    expect(left!.samples! + right!.samples!).toBe(7);
    expect(left!.share + right!.share).toBeCloseTo(1, 15);
    expect(root!.impurity).toBeCloseTo(impurityOf('log_loss', 7, 5), 15);
  });

  it('stops at maxDepth, minSamplesSplit, minSamplesLeaf and minImpurityDecrease', () => {
    const data = syntheticDeltas(500, 1);
    expect(PreferenceTree.fitArrays(data.deltas, data.labels, { maxDepth: 2 }).depth).toBe(2);
    const leafy = PreferenceTree.fitArrays(data.deltas, data.labels, { maxDepth: 10, minSamplesLeaf: 40 });
    for (const id of leafy.leaves()) expect(leafy.toJSON().nodes[id]!.samples).toBeGreaterThanOrEqual(40);
    const split = PreferenceTree.fitArrays(data.deltas, data.labels, { maxDepth: 10, minSamplesSplit: 200 });
    for (const n of split.toJSON().nodes) if (n.left !== null) expect(n.samples).toBeGreaterThanOrEqual(200);
    const shallow = PreferenceTree.fitArrays(data.deltas, data.labels, { maxDepth: 10, minImpurityDecrease: 1 });
    expect(shallow.nodeCount).toBe(1);
  });

  it('breaks exact gain ties by attribute order, then by the lowest threshold', () => {
    // helpfulness and verbosity separate the classes equally well: helpfulness (first) wins.
    const deltas = new Float64Array(4 * 5);
    const values = [-1, -1, 1, 1];
    values.forEach((v, i) => {
      deltas[i * 5 + 0] = v;
      deltas[i * 5 + 4] = v * 2;
    });
    const tree = PreferenceTree.fitArrays(deltas, Uint8Array.from([0, 0, 1, 1]), { maxDepth: 1 });
    expect(tree.toJSON().nodes[0]!.feature).toBe('helpfulness');
    // One feature, two equally good positions: the lower threshold wins.
    const { deltas: d2, labels: y2 } = oneFeature([
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 1],
    ]);
    const t2 = PreferenceTree.fitArrays(d2, y2, { maxDepth: 1 });
    expect(t2.toJSON().nodes[0]!.threshold).toBe(0.5);
  });

  it('treats values closer than 1e-7 as equal (no threshold between them), as scikit-learn', () => {
    const { deltas, labels } = oneFeature([
      [1, 0],
      [1 + 5e-8, 1],
      [2, 1],
    ]);
    const tree = PreferenceTree.fitArrays(deltas, labels, { maxDepth: 1 });
    expect(tree.toJSON().nodes[0]!.threshold).toBeCloseTo(1.5 + 2.5e-8, 12);
  });

  it('is deterministic: the same data gives the same bytes', () => {
    const data = syntheticDeltas(2000, 2);
    const a = PreferenceTree.fitArrays(data.deltas, data.labels).serialize();
    const b = PreferenceTree.fitArrays(Float64Array.from(data.deltas), Uint8Array.from(data.labels)).serialize();
    expect(a).toBe(b);
  });

  it('fits a single leaf, with a warning, when only one class is present', () => {
    const data = syntheticDeltas(50, 3);
    const tree = PreferenceTree.fitArrays(data.deltas, new Uint8Array(50).fill(1));
    expect(tree.nodeCount).toBe(1);
    expect(tree.predictProba([5, 5, 5, 5, 5])).toBe(1);
    expect(tree.warnings[0]).toMatch(/only one class/);
  });

  it('gini and log_loss impurities match their definitions', () => {
    expect(impurityOf('gini', 4, 1)).toBeCloseTo(1 - (0.75 ** 2 + 0.25 ** 2), 15);
    expect(impurityOf('log_loss', 4, 1)).toBeCloseTo(-(0.75 * Math.log2(0.75) + 0.25 * Math.log2(0.25)), 15);
    expect(impurityOf('log_loss', 4, 0)).toBe(0);
  });

  it('fitCart on raw arrays builds pre-order node ids', () => {
    const data = syntheticDeltas(300, 4);
    const t = fitCart(data.deltas, 5, data.labels, null, {
      criterion: 'log_loss',
      maxDepth: 3,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      minImpurityDecrease: 0,
    });
    // Pre-order: a left child always directly follows its parent.
    for (let i = 0; i < t.nodeCount; i++) if (t.left[i] !== -1) expect(t.left[i]).toBe(i + 1);
  });
});

describe('PreferenceTree.fit on named pairs', () => {
  it('fits on a - b and agrees with fitArrays', () => {
    const rng = new SeededRandom(5);
    const pairs = Array.from({ length: 200 }, () => {
      const a = Object.fromEntries(ATTRIBUTES.map((k) => [k, Math.round(rng.next() * 4)])) as Record<(typeof ATTRIBUTES)[number], number>;
      const b = Object.fromEntries(ATTRIBUTES.map((k) => [k, Math.round(rng.next() * 4)])) as Record<(typeof ATTRIBUTES)[number], number>;
      return { a, b, label: (a.helpfulness >= b.helpfulness ? 'a' : 'b') as 'a' | 'b' };
    });
    const tree = PreferenceTree.fit(pairs);
    const deltas = new Float64Array(pairs.flatMap((p) => ATTRIBUTES.map((k) => p.a[k] - p.b[k])));
    const labels = Uint8Array.from(pairs.map((p) => (p.label === 'a' ? 1 : 0)));
    expect(tree.serialize()).toBe(PreferenceTree.fitArrays(deltas, labels).serialize());
    expect(tree.toJSON().nodes[0]!.feature).toBe('helpfulness');
  });
});

describe('fit options', () => {
  it('refuses unknown option names instead of silently using defaults', () => {
    const data = syntheticDeltas(50, 12);
    expect(() => PreferenceTree.fitArrays(data.deltas, data.labels, { max_depth: 2 } as never)).toThrowError(
      new TypeError(
        "unknown fit option 'max_depth': expected criterion, maxDepth, minSamplesSplit, minSamplesLeaf, minImpurityDecrease, sampleWeight, name, description, provenance, metrics",
      ),
    );
  });
});
