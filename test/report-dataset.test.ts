import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, ATTRIBUTE_COUNT, fromVector, type AttributeScores } from '../src/attributes.js';
import { NO_LABEL, readAttributePairs } from '../src/data/pairs.js';
import { reliability } from '../src/eval/metrics.js';
import { explain } from '../src/explain/explain.js';
import { type Preference } from '../src/tree/decision.js';
import { buildDatasetReport } from '../src/report/dataset.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { hardestWords, largestWords, shownWords, splitsWords } from '../src/report/words.js';
import { datasetInputFromRows } from '../src/report/input.js';
import { parsePairRows } from '../src/data/text-rows.js';
import type { DatasetInput } from '../src/report/types.js';
import { readJsonl } from '../src/io/jsonl.js';
import { bootstrapImportances } from '../src/tree/importance.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { TREE_FORMAT, TREE_SEMANTICS } from '../src/tree/file.js';
import { SMALL_PAIRS } from './support/report-fixtures.js';

const llama = PreferenceTree.load('rlhflow-llama-3.1-8b');
const human = PreferenceTree.load('helpsteer2-human');
const input: DatasetInput = datasetInputFromRows(
  parsePairRows(readJsonl(SMALL_PAIRS), 'pairs-small.jsonl', { need: 'scores' }),
  'pairs-small.jsonl',
);
const row = (x: Float64Array, i: number): AttributeScores => fromVector(x.subarray(i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT));
const label = (i: number): Preference | null => (input.labels![i] === NO_LABEL ? null : input.labels![i] === 1 ? 'a' : 'b');

/** Independent reference: every row through explain(), one at a time. */
const explained = Array.from({ length: input.n }, (_, i) => explain(llama, row(input.a, i), row(input.b, i)));

describe('buildDatasetReport on labelled pairs', () => {
  const r = buildDatasetReport(llama, input, { bootstrap: 10, seed: 3 });

  it('counts decisions and labels as explain() decides them one by one', () => {
    expect(r.data).toMatchObject({
      n: 30,
      labelled: 28,
      subsets: ['chat', 'reasoning', 'safety'],
      source: 'pairs-small.jsonl',
      hasTexts: true,
      truncated: null,
    });
    const count = (p: Preference): number => explained.filter((e) => e.preference === p).length;
    expect([r.decisions.a, r.decisions.b, r.decisions.tie]).toEqual([count('a'), count('b'), count('tie')]);
    let score = 0;
    let n = 0;
    explained.forEach((e, i) => {
      const y = label(i);
      if (y === null) return;
      n++;
      score += e.preference === 'tie' ? 0.5 : e.preference === y ? 1 : 0;
    });
    expect(r.accuracy!.labelled).toBe(n);
    expect(r.accuracy!.accuracy).toBeCloseTo(score / n, 12);
    expect(r.notes).toEqual([
      '28 of 30 pairs have a label: accuracy, calibration, bootstrap importances and the hardest disagreements use those 28.',
    ]);
  });

  it('gives one row per leaf whose counts add up, with per-leaf accuracy', () => {
    expect(r.leaves.map((l) => l.node)).toEqual(llama.leaves());
    expect(r.leaves.reduce((s, l) => s + l.count, 0)).toBe(30);
    expect(r.leaves.reduce((s, l) => s + l.mirrorCount, 0)).toBe(30);
    for (const l of r.leaves) {
      const here = explained.map((e, i) => ({ e, i })).filter(({ e }) => e.leaf.node === l.node);
      expect(l.count).toBe(here.length);
      expect(l.mirrorCount).toBe(explained.filter((e) => e.mirror!.leaf.node === l.node).length);
      const lab = here.filter(({ i }) => label(i) !== null);
      expect(l.labelled).toBe(lab.length);
      if (lab.length > 0) {
        const acc = lab.reduce((s, { e, i }) => s + (e.preference === 'tie' ? 0.5 : e.preference === label(i) ? 1 : 0), 0) / lab.length;
        expect(l.accuracy).toBeCloseTo(acc, 12);
        expect(l.observedA).toBeCloseTo(lab.filter(({ i }) => label(i) === 'a').length / lab.length, 12);
      } else expect(l.accuracy).toBeNull();
    }
    expect(r.leaves.find((l) => l.node === 14)!.pathText).toBe('helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121');
  });

  it('measures "decided by style" from both readings and by zeroing the style differences', () => {
    const styled = explained.filter((e) =>
      [...e.path, ...e.mirror!.path].some((s) => s.attribute === 'verbosity' || s.attribute === 'complexity'),
    );
    expect(r.style.count).toBe(styled.length);
    expect(r.style.share).toBeCloseTo(styled.length / 30, 12);
    for (const { attribute, count } of r.style.byAttribute) {
      expect(count).toBe(explained.filter((e) => [...e.path, ...e.mirror!.path].some((s) => s.attribute === attribute)).length);
    }
    const changed = explained.filter((e, i) => {
      const a = { ...row(input.a, i), verbosity: 0, complexity: 0 };
      const b = { ...row(input.b, i), verbosity: 0, complexity: 0 };
      return explain(llama, a, b).preference !== e.preference;
    });
    expect(r.style.neutralChanged).toBe(changed.length);
  });

  it('measures position consistency of the published rule by swapping A and B', () => {
    let same = 0;
    for (let i = 0; i < 30; i++) {
      const f = explain(llama, row(input.a, i), row(input.b, i), { symmetric: false }).preference;
      const s = explain(llama, row(input.b, i), row(input.a, i), { symmetric: false }).preference;
      if (f === (s === 'a' ? 'b' : s === 'b' ? 'a' : 'tie')) same++;
    }
    expect(r.positionConsistency.published).toBeCloseTo(same / 30, 12);
    expect(r.positionConsistency.inconsistent).toBe(30 - same);
    expect(r.positionConsistency.rule).toBe(1);
  });

  it('bins calibration as eval/metrics does, on the labelled pairs', () => {
    const idx = explained.map((_, i) => i).filter((i) => label(i) !== null);
    const bins = reliability(
      idx.map((i) => explained[i]!.probability),
      idx.map((i) => (label(i) === 'a' ? 1 : 0)),
    );
    expect(r.calibration!.bins.map((b) => b.n)).toEqual(bins.map((b) => b.n));
    r.calibration!.bins.forEach((b, k) => {
      if (bins[k]!.n === 0) expect(b.meanPredicted).toBeNull();
      else expect(b.observed).toBeCloseTo(bins[k]!.observed, 12);
    });
  });

  it('lists the hardest disagreements, most confident first', () => {
    expect(r.hardest.length).toBeGreaterThan(0);
    const conf = r.hardest.map((x) => Math.abs(x.probability - 0.5));
    expect([...conf].sort((x, y) => y - x)).toEqual(conf);
    for (const x of r.hardest) {
      expect(x.label).not.toBeNull();
      expect(x.preference).not.toBe(x.label);
      expect(x.preference).toBe(explained[x.index]!.preference);
      expect(x.line).toBe(x.index + 1);
      expect(x.id).toBe(`p${String(x.index + 1).padStart(2, '0')}`);
    }
  });

  it('counts every disagreement it could list (hardestTotal), and lists at most `hardest`', () => {
    const wrong = explained.filter((e, i) => label(i) !== null && e.preference !== 'tie' && e.preference !== label(i)).length;
    expect(r.hardestTotal).toBe(wrong);
    expect(r.hardest).toHaveLength(Math.min(10, wrong));
    const two = buildDatasetReport(llama, input, { bootstrap: 0, hardest: 2 });
    expect(two.hardest).toEqual(r.hardest.slice(0, 2));
    expect(two.hardestTotal).toBe(wrong);
  });

  it('reports per-subset figures that add up', () => {
    expect(r.subsets.map((s) => s.name)).toEqual(['chat', 'reasoning', 'safety']);
    expect(r.subsets.reduce((s, x) => s + x.n, 0)).toBe(30);
    expect(r.subsets.reduce((s, x) => s + x.labelled, 0)).toBe(28);
    expect(r.subsets.every((s) => s.agreement === null)).toBe(true);
  });

  it('bootstraps importances on the labelled pairs only, reproducibly', () => {
    const pairs = readAttributePairs(SMALL_PAIRS);
    const keep = Array.from({ length: pairs.n }, (_, i) => i).filter((i) => pairs.labels[i] !== NO_LABEL);
    const d = new Float64Array(keep.length * ATTRIBUTE_COUNT);
    keep.forEach((i, j) => d.set(pairs.deltas.subarray(i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT), j * ATTRIBUTE_COUNT));
    const y = Uint8Array.from(keep, (i) => pairs.labels[i]!);
    const direct = bootstrapImportances(d, y, { refits: 10, seed: 3, maxDepth: 3, criterion: 'log_loss' });
    expect(r.importances.bootstrap).toEqual(direct);
    expect(r.importances.impurity).toEqual(llama.featureImportances());
  });
});

describe('buildDatasetReport without labels', () => {
  const unlabelled: DatasetInput = { n: input.n, a: input.a, b: input.b };
  const r = buildDatasetReport(human, unlabelled);

  it('shows what needs no labels and says what needs them', () => {
    expect(r.accuracy).toBeNull();
    expect(r.calibration).toBeNull();
    expect(r.hardest).toEqual([]);
    expect(r.importances.bootstrap).toBeNull();
    expect(r.leaves.every((l) => l.accuracy === null && l.labelled === 0)).toBe(true);
    expect(r.notes[0]).toMatch(
      /^Accuracy \(overall, per leaf, per subset\), calibration, bootstrap importances and the hardest disagreements need labels: none of the 30 pairs has one/,
    );
    expect(r.decisions.a + r.decisions.b + r.decisions.tie).toBe(30);
    expect(r.subsets).toEqual([]);
    // The human tree never tests verbosity or complexity.
    expect(r.style.count).toBe(0);
  });
});

/** A one-split tree: helpfulness <= t goes to P(A) = 0.1, else 0.9. */
function stump(name: string, t: number): PreferenceTree {
  return PreferenceTree.fromJSON({
    format: TREE_FORMAT,
    version: 1,
    name,
    description: `stump at ${t}`,
    attributes: [...ATTRIBUTES],
    classes: ['b', 'a'],
    semantics: TREE_SEMANTICS,
    criterion: 'log_loss',
    params: { maxDepth: 1, minSamplesSplit: null, minSamplesLeaf: null, minImpurityDecrease: null, weighted: false },
    ranges: null,
    importances: { helpfulness: 1, correctness: 0, coherence: 0, complexity: 0, verbosity: 0 },
    metrics: null,
    nodes: [
      { id: 0, feature: 'helpfulness', threshold: t, left: 1, right: 2, samples: null, share: 1, value: [0.5, 0.5], impurity: null },
      { id: 1, feature: null, threshold: null, left: null, right: null, samples: null, share: 0.5, value: [0.9, 0.1], impurity: null },
      { id: 2, feature: null, threshold: null, left: null, right: null, samples: null, share: 0.5, value: [0.1, 0.9], impurity: null },
    ],
    provenance: { source: 'written for this test', data: [], command: null, package: 'test' },
  });
}

describe('comparing two trees', () => {
  it('finds where the decisions differ and the split that makes the difference', () => {
    // Helpfulness differences -1, 0.5, 2: the trees split at 0 and 1, so only 0.5 falls between them.
    const scores = (h: number): number[] => [h, 0, 0, 0, 0];
    const two: DatasetInput = {
      n: 3,
      a: Float64Array.from([...scores(-1), ...scores(0.5), ...scores(2)]),
      b: new Float64Array(15),
      labels: Uint8Array.from([0, 1, 1]),
    };
    const r = buildDatasetReport(stump('low', 0), two, { compareTree: stump('high', 1), symmetric: false, bootstrap: 0 });
    const c = r.comparison!;
    expect(c).toMatchObject({ otherName: 'high', n: 3, agree: 2, explained: 1 });
    expect(c.cross.a).toEqual({ a: 1, b: 1, tie: 0 });
    expect(c.cross.b).toEqual({ a: 0, b: 1, tie: 0 });
    expect(c.splits).toEqual([
      { tree: 'primary', treeName: 'low', node: 0, attribute: 'helpfulness', threshold: 0, count: 1, share: 1 },
      { tree: 'other', treeName: 'high', node: 0, attribute: 'helpfulness', threshold: 1, count: 1, share: 1 },
    ]);
    expect(c.thresholds.helpfulness).toEqual({ primary: [0], other: [1] });
    expect(c.accuracy).toEqual({ primary: 1, other: 2 / 3, labelled: 3 });
    expect(c.examples.map((x) => [x.index, x.preference, x.other!.preference])).toEqual([[1, 'a', 'b']]);
    expect(r.leaves.map((l) => [l.node, l.count, l.differ])).toEqual([
      [1, 1, 0],
      [2, 2, 1],
    ]);
    expect(c.otherLeaves.map((l) => [l.node, l.count, l.differ])).toEqual([
      [1, 2, 1],
      [2, 1, 0],
    ]);
  });

  it('counts the differences single splits undo as the sentence says: per split, and pairs undone by any', () => {
    // Independent reference: for each differing pair, flip one split at a time (either tree, either reading).
    const flippedLeaf = (t: PreferenceTree, x: readonly number[], forced: number): number => {
      const { left, right, feature, threshold } = t.arrays;
      let node = 0;
      while (left[node] !== -1) {
        const goLeft = x[feature[node]!]! <= threshold[node]! !== (node === forced);
        node = goLeft ? left[node]! : right[node]!;
      }
      return node;
    };
    // On the margin P(A) − ½ = ½[f(a − b) − f(b − a)], as the report decides: exact, so ties stay ties.
    const decide = (margin: number): Preference => (margin > 0 ? 'a' : margin < 0 ? 'b' : 'tie');
    const r = buildDatasetReport(human, input, { compareTree: llama, bootstrap: 0 });
    const c = r.comparison!;
    const perSplit = new Map<string, number>();
    let undone = 0;
    for (let i = 0; i < input.n; i++) {
      const d = Array.from({ length: ATTRIBUTE_COUNT }, (_, k) => input.a[i * ATTRIBUTE_COUNT + k]! - input.b[i * ATTRIBUTE_COUNT + k]!);
      const m = d.map((x) => -x);
      const f = (t: PreferenceTree, x: readonly number[], forced = -1): number => t.arrays.value[flippedLeaf(t, x, forced)]!;
      const p = (t: PreferenceTree, fwd = -1, mir = -1): number => (f(t, d, fwd) - f(t, m, mir)) / 2;
      const mine = decide(p(human));
      const theirs = decide(p(llama));
      if (mine === theirs) continue;
      const hits = new Set<string>();
      for (const [t, which, target] of [
        [human, 'primary', theirs],
        [llama, 'other', mine],
      ] as const) {
        for (let node = 0; node < t.arrays.nodeCount; node++) {
          if (t.arrays.left[node] === -1) continue;
          // A split off the path changes nothing when flipped; one on it sends the pair down the other branch.
          if (decide(p(t, node, -1)) === target && flippedLeaf(t, d, node) !== flippedLeaf(t, d, -1)) hits.add(`${which}:${node}`);
          if (decide(p(t, -1, node)) === target && flippedLeaf(t, m, node) !== flippedLeaf(t, m, -1)) hits.add(`${which}:${node}`);
        }
      }
      if (hits.size > 0) undone++;
      for (const h of hits) perSplit.set(h, (perSplit.get(h) ?? 0) + 1);
    }
    expect(c.explained).toBe(undone);
    expect(new Map(c.splits.map((x) => [`${x.tree}:${x.node}`, x.count]))).toEqual(perSplit);
    expect(Math.max(...c.splits.map((x) => x.count))).toBeLessThanOrEqual(c.explained);
    const differ = c.n - c.agree;
    const md = renderMarkdown(r);
    expect(md).toContain(splitsWords(c.explained, differ));
    expect(md).not.toContain('A single split accounts for');
  });

  it('words the split counts, the lists and their totals without overstating them', () => {
    expect(splitsWords(144, 144)).toBe(
      ' Each of the 144 differences is undone by flipping a single split of either tree (sending the pair the other way at that split alone); the table below shows how many each split undoes.',
    );
    expect(splitsWords(100, 144)).toBe(
      ' 100 of the 144 differences are undone by flipping a single split of either tree (sending the pair the other way at that split alone); the other 44 take more than one split. The table below shows how many each split undoes.',
    );
    expect(splitsWords(0, 3)).toBe(
      ' No single split undoes any of them: making the trees agree takes more than one split sent the other way.',
    );
    expect(hardestWords(10, 68)).toBe(
      'The 10 most confident of the 68 labelled pairs the tree decides the other way (--hardest N lists more).',
    );
    expect(hardestWords(3, 3)).toBe('All 3 labelled pairs the tree decides the other way, the most confident first.');
    expect(hardestWords(0, 0)).toBe('The tree decides no labelled pair the other way.');
    expect(largestWords(10, 144)).toBe('The 10 of the 144 pairs decided differently whose P(A) differ most (--examples N lists more).');
    expect(shownWords(12, 31, 'splits that undo the most differences')).toBe(
      ' The 12 splits that undo the most differences are shown, of 31.',
    );
    expect(shownWords(5, 5, 'x')).toBe('');
  });

  it('compares the human tree with the Llama tree on the fixture pairs', () => {
    const r = buildDatasetReport(human, input, { compareTree: llama, bootstrap: 0 });
    const c = r.comparison!;
    const other = explained;
    const mine = Array.from({ length: 30 }, (_, i) => explain(human, row(input.a, i), row(input.b, i)));
    const agree = mine.filter((e, i) => e.preference === other[i]!.preference).length;
    expect(c.agree).toBe(agree);
    const total = Object.values(c.cross).reduce((s, x) => s + x.a + x.b + x.tie, 0);
    expect(total).toBe(30);
    expect(c.explained).toBeLessThanOrEqual(30 - agree);
    expect(r.subsets.every((s) => s.agreement !== null)).toBe(true);
    expect(c.leafPairs.reduce((s, p) => s + p.count, 0)).toBe(30);
  });
});

describe('bad calls', () => {
  it('names every problem of the input at once', () => {
    const bad = { n: 2, a: new Float64Array(9), b: [1, 2], labels: Uint8Array.from([1]), subsets: ['x'] } as never;
    expect(() => buildDatasetReport(llama, bad)).toThrow(TypeError);
    expect(() => buildDatasetReport(llama, bad)).toThrow(
      'input.a has 9 values; with n = 2 it must have 10; input.b must be a Float64Array (n x 5, row-major); input.labels has 1 entries, expected n = 2; input.subsets has 1 entries, expected n = 2',
    );
  });

  it('refuses non-finite scores naming the rows, and a bad n', () => {
    const a = new Float64Array(10);
    a[7] = Infinity;
    expect(() => buildDatasetReport(llama, { n: 2, a, b: new Float64Array(10) })).toThrow(
      new RangeError('input.a has non-finite scores in rows 1'),
    );
    expect(() => buildDatasetReport(llama, { n: 0, a, b: a })).toThrow('input.n must be a positive integer (the number of pairs), got 0');
  });

  it('checks options', () => {
    expect(() => buildDatasetReport(llama, input, { bootstrap: -1 })).toThrow('options.bootstrap must be >= 0, got -1');
    expect(() => buildDatasetReport(llama, input, { hardest: 1.5 })).toThrow(TypeError);
    expect(() => buildDatasetReport(llama, input, { compareTree: {} as never })).toThrow('options.compareTree must be a PreferenceTree');
  });
});
