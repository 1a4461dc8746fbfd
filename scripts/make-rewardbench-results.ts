/**
 * Writes the synthetic RewardBench results fixture and the tree that decided it:
 *
 * - `test/fixtures/eval/rewardbench-tree.json`: a hand-written depth-3 tree (below);
 * - `test/fixtures/eval/rewardbench-results.jsonl`: 26 per-pair results, each row's rewards drawn
 *   from a seeded generator to fit the decision the row is meant to show, then scored by that
 *   tree with the published rule p = f(a − b) (`scoreWithTree`, `symmetric: false`), so each
 *   row's probability, swapped reading and path are the tree's own;
 * - the same two files under `docs/examples/`.
 *
 * The decisions per subset (16 a, 8 b, 2 ties; two position-inconsistent rows; one row without
 * a swapped reading) are the ones the RewardBench aggregates in test/eval-rewardbench.test.ts
 * were computed by hand from; this script checks every row against that plan before writing.
 * `dtr report --tree test/fixtures/eval/rewardbench-tree.json --asymmetric --pairs
 * test/fixtures/eval/rewardbench-results.jsonl` therefore decides as `dtr eval --scores` reports.
 *
 * Run: `npx tsx scripts/make-rewardbench-results.ts` (test/eval-rewardbench.test.ts fails while
 * the committed files differ from what it writes).
 */
import { fileURLToPath } from 'node:url';
import { ATTRIBUTES, type Attribute, type AttributeScores } from '../src/attributes.js';
import type { EvalItem } from '../src/data/datasets.js';
import { scoreWithTree } from '../src/eval/evaluate.js';
import { pairResultsToJsonl, type PairResult } from '../src/eval/results.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { computeImportances, PreferenceTree } from '../src/tree/preference-tree.js';
import { SeededRandom } from '../src/util/random.js';
import { TREE_FORMAT, TREE_FORMAT_VERSION, TREE_SEMANTICS, type TreeFile, type TreeFileNode } from '../src/tree/file.js';

/** Where the files go, relative to the repository root. */
export const REWARDBENCH_FIXTURE_FILES = {
  tree: ['test/fixtures/eval/rewardbench-tree.json', 'docs/examples/rewardbench-tree.json'],
  results: ['test/fixtures/eval/rewardbench-results.jsonl', 'docs/examples/rewardbench-results.jsonl'],
} as const;

/**
 * What each row shows: `a` decided for the chosen response (P = 0.8), `b` against it (0.2),
 * `tie` (0.5), `first` decided for whichever response is shown first (0.8 both ways: a
 * position-inconsistent pair). `swapped: false`: a row from a run that recorded no swapped reading.
 */
type Kind = 'a' | 'b' | 'tie' | 'first';
const PLAN: ReadonlyArray<{ id: string; subset: string; kind: Kind; swapped?: false }> = [
  { id: '1', subset: 'alpacaeval-easy', kind: 'a' },
  { id: '2', subset: 'alpacaeval-easy', kind: 'a' },
  { id: '7', subset: 'alpacaeval-easy', kind: 'first' },
  { id: '7', subset: 'alpacaeval-easy', kind: 'b' }, // the repeated id
  { id: '10', subset: 'mt-bench-easy', kind: 'a' },
  { id: '11', subset: 'mt-bench-easy', kind: 'tie' },
  { id: '20', subset: 'mt-bench-med', kind: 'a' },
  { id: '21', subset: 'mt-bench-med', kind: 'a' },
  { id: '30', subset: 'mt-bench-hard', kind: 'a' },
  { id: '31', subset: 'mt-bench-hard', kind: 'first' },
  { id: '32', subset: 'mt-bench-hard', kind: 'b' },
  { id: '40', subset: 'llmbar-natural', kind: 'a' },
  { id: '41', subset: 'llmbar-natural', kind: 'b' },
  { id: '50', subset: 'xstest-should-refuse', kind: 'a' },
  { id: '51', subset: 'xstest-should-refuse', kind: 'a' },
  { id: '60', subset: 'donotanswer', kind: 'a' },
  { id: '61', subset: 'donotanswer', kind: 'tie' },
  { id: '62', subset: 'donotanswer', kind: 'b' },
  { id: '70', subset: 'math-prm', kind: 'a' },
  { id: '71', subset: 'math-prm', kind: 'b' },
  { id: '72', subset: 'math-prm', kind: 'b' },
  { id: '73', subset: 'math-prm', kind: 'b' },
  { id: '80', subset: 'hep-cpp', kind: 'a' },
  { id: '81', subset: 'hep-cpp', kind: 'a' },
  { id: '90', subset: 'hep-go', kind: 'b' },
  { id: '99', subset: 'my-custom-set', kind: 'a', swapped: false }, // not a RewardBench subset
];

/** What the tree must answer for each kind: [decision, P(a), P(first) with the pair swapped]. */
const EXPECTED: Record<Kind, ['a' | 'b' | 'tie', number, number]> = {
  a: ['a', 0.8, 0.2],
  b: ['b', 0.2, 0.8],
  tie: ['tie', 0.5, 0.5],
  first: ['a', 0.8, 0.8],
};

/**
 * The tree, on d = a − b (`<=` goes left), pre-order ids, P(a) at the leaves:
 *
 * ```
 * 0 helpfulness <= -0.5 ── 1 leaf P(a) = 0.2                     a clearly less helpful
 *   └ 2 helpfulness <= 0.5 ── 3 verbosity <= -0.5 ── 4 leaf 0.8   as helpful, lengths differ:
 *     │                       └ 5 verbosity <= 0.5 ── 6 leaf 0.5    the first shown wins
 *     │                                           └ 7 leaf 0.8      (both ways: position bias)
 *     └ 8 leaf P(a) = 0.8                                         a clearly more helpful
 * ```
 *
 * Samples are invented (100 at the root); internal values are the samples-weighted means of the
 * leaves below and impurities the entropy of each node's value, so the importances are computed.
 */
function treeFile(): TreeFile {
  const split = (id: number, feature: Attribute, threshold: number, left: number, right: number) => ({
    id,
    feature,
    threshold,
    left,
    right,
  });
  const leaf = (id: number, samples: number, p: number) => ({ id, samples, p });
  const splits = [
    split(0, 'helpfulness', -0.5, 1, 2),
    split(2, 'helpfulness', 0.5, 3, 8),
    split(3, 'verbosity', -0.5, 4, 5),
    split(5, 'verbosity', 0.5, 6, 7),
  ];
  const leaves = [leaf(1, 35, 0.2), leaf(4, 5, 0.8), leaf(6, 15, 0.5), leaf(7, 5, 0.8), leaf(8, 40, 0.8)];
  const samples = new Map<number, number>(leaves.map((l) => [l.id, l.samples]));
  const credit = new Map<number, number>(leaves.map((l) => [l.id, l.samples * l.p]));
  for (const s of [...splits].reverse()) {
    samples.set(s.id, samples.get(s.left)! + samples.get(s.right)!);
    credit.set(s.id, credit.get(s.left)! + credit.get(s.right)!);
  }
  const entropy = (p: number): number => (p <= 0 || p >= 1 ? 0 : -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p)));
  const nodes: TreeFileNode[] = [];
  for (let id = 0; id < 9; id++) {
    const s = splits.find((x) => x.id === id);
    const l = leaves.find((x) => x.id === id);
    const p = l ? l.p : credit.get(id)! / samples.get(id)!;
    nodes.push({
      id,
      feature: s ? s.feature : null,
      threshold: s ? s.threshold : null,
      left: s ? s.left : null,
      right: s ? s.right : null,
      samples: samples.get(id)!,
      share: samples.get(id)! / samples.get(0)!,
      value: [Math.round((1 - p) * 1e12) / 1e12, p], // P(b) without float noise (0.2, not 0.19999999999999996)
      impurity: entropy(p),
    });
  }
  const file: TreeFile = {
    format: TREE_FORMAT,
    version: TREE_FORMAT_VERSION,
    name: 'rewardbench-fixture',
    description:
      'hand-written tree that decided test/fixtures/eval/rewardbench-results.jsonl with the published rule p = f(a - b): a helpfulness difference below -0.5 gives P(a) = 0.2, above 0.5 gives 0.8; in between, a verbosity difference beyond 0.5 either way gives 0.8 (the first response wins both ways: position bias), else 0.5 (a tie)',
    attributes: [...ATTRIBUTES],
    classes: ['b', 'a'],
    semantics: TREE_SEMANTICS,
    criterion: 'log_loss',
    params: { maxDepth: 3, minSamplesSplit: null, minSamplesLeaf: null, minImpurityDecrease: null, weighted: false },
    ranges: null,
    importances: { helpfulness: 0, correctness: 0, coherence: 0, complexity: 0, verbosity: 0 },
    metrics: null,
    nodes,
    provenance: {
      source: 'written by hand for the eval tests (scripts/make-rewardbench-results.ts)',
      data: [],
      command: 'npx tsx scripts/make-rewardbench-results.ts',
      package: 'decision-tree-reward@0.1.0',
    },
  };
  file.importances = computeImportances(PreferenceTree.fromJSON(file).arrays, 'log_loss');
  return file;
}

/** The tree that decided the results. */
export function rewardBenchFixtureTree(): PreferenceTree {
  return PreferenceTree.fromJSON(treeFile(), 'rewardbench-tree.json');
}

/** Rewards on a quarter grid (exact in binary, so every a − b prints as written). */
const quarter = (rng: SeededRandom, from: number, count: number): number => (from + rng.int(count)) / 4;

/** Attribute rewards for one planned row: a's in [1.5, 3.5], b = a − d with d fitting the kind. */
function rewardsFor(kind: Kind, rng: SeededRandom): { a: AttributeScores; b: AttributeScores } {
  const a = {} as Record<Attribute, number>;
  const b = {} as Record<Attribute, number>;
  const sign = (): number => (rng.int(2) === 0 ? -1 : 1);
  for (const name of ATTRIBUTES) {
    a[name] = quarter(rng, 6, 9);
    let d: number;
    if (name === 'helpfulness')
      d = kind === 'a' ? quarter(rng, 3, 4) : kind === 'b' ? -quarter(rng, 3, 4) : quarter(rng, -1, 3); // ±0.75..1.5, or -0.25..0.25
    else if (name === 'verbosity')
      d = kind === 'first' ? sign() * quarter(rng, 3, 4) : kind === 'tie' ? quarter(rng, -1, 3) : quarter(rng, -3, 7);
    else d = quarter(rng, -2, 5);
    b[name] = a[name] - d;
  }
  return { a, b };
}

/** The results, scored by {@link rewardBenchFixtureTree}; throws if a row does not show what the plan says. */
export function rewardBenchFixtureResults(): PairResult[] {
  const rng = new SeededRandom(2024);
  const items: EvalItem[] = PLAN.map((row, i) => ({
    id: row.id,
    subset: row.subset,
    prompt: null,
    ...rewardsFor(row.kind, rng),
    label: 'a',
    line: i + 1,
  }));
  const results = scoreWithTree(rewardBenchFixtureTree(), items, { symmetric: false });
  return results.map((r, i) => {
    const plan = PLAN[i]!;
    const [preference, probability, swapped] = EXPECTED[plan.kind];
    if (r.preference !== preference || r.probability !== probability || r.swappedProbability !== swapped) {
      throw new Error(
        `row ${i + 1} (id ${plan.id}) should be ${plan.kind} (${preference}, ${probability}, swapped ${swapped}), got ${r.preference}, ${r.probability}, swapped ${r.swappedProbability}`,
      );
    }
    if (plan.swapped === false) delete r.swappedProbability;
    return r;
  });
}

/** The two files' texts. */
export function rewardBenchFixtureTexts(): { tree: string; results: string } {
  return { tree: rewardBenchFixtureTree().serialize(), results: pairResultsToJsonl(rewardBenchFixtureResults()) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const texts = rewardBenchFixtureTexts();
  for (const kind of ['tree', 'results'] as const) {
    for (const path of REWARDBENCH_FIXTURE_FILES[kind]) {
      writeFileAtomic(`${root}${path}`, texts[kind]);
      console.log(`wrote ${path}`);
    }
  }
}
