/**
 * The dataset report built from plain data: many pairs through a tree, with leaves, subsets, labels,
 * calibration, style and a second tree (`buildDatasetReport`).
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, attributeIndex, fromVector, type Attribute } from '../attributes.js';
import { NO_LABEL } from '../data/pairs.js';
import { pairMetrics, positionConsistency, reliability } from '../eval/metrics.js';
import { preferenceOfMargin, symmetricMargin, type Preference } from '../tree/decision.js';
import { bootstrapImportances } from '../tree/importance.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import { PACKAGE_ID } from '../version.js';
import type { ReportOptions } from './comparison.js';
import { reportProvenance } from './provenance.js';
import { leafTests, reportTree, testsText } from './tree-view.js';
import {
  REPORT_FORMAT,
  REPORT_FORMAT_VERSION,
  STYLE_ATTRIBUTES,
  type DatasetInput,
  type DatasetReport,
  type DecisionCounts,
  type LeafRow,
  type ReportExample,
  type SplitDifference,
  type StyleMatrix,
  type ReportTree,
  type SubsetRow,
  type TreeComparison,
} from './types.js';

/**
 * Options of {@link buildDatasetReport}.
 *
 * @example
 * ```ts
 * buildDatasetReport(tree, input, { compareTree: PreferenceTree.load('helpsteer2-human'), bootstrap: 100, seed: 0, hardest: 10 });
 * ```
 */
export interface DatasetReportOptions extends ReportOptions {
  /** A second tree to compare decisions with (`--compare-tree`). */
  compareTree?: PreferenceTree;
  /** Bootstrap refits for importance intervals on the labelled pairs (default 100, as the RLHFlow blog; 0 = none). */
  bootstrap?: number;
  /** Seed of the bootstrap resampling (default 0). */
  seed?: number;
  /** How many hardest disagreements to list (default 10). */
  hardest?: number;
  /** How many tree disagreements to list with `compareTree` (default 10). */
  examples?: number;
  /** Reliability-diagram bins (default 10). */
  bins?: number;
  /** Called after each bootstrap refit: drive a progress bar. */
  onBootstrapProgress?: (done: number, total: number) => void;
}

const CODE: readonly Preference[] = ['b', 'a', 'tie'];
const code = (p: Preference): number => (p === 'b' ? 0 : p === 'a' ? 1 : 2);
const ratio = (k: number, n: number): number => (n > 0 ? k / n : 0);
const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);

/**
 * The bootstrap refits a dataset report makes: the `requested` number, or none with fewer than
 * two labelled pairs (nothing to refit on). The one statement of that rule (`dtr report` sizes
 * its progress bar with it).
 *
 * @example
 * ```ts
 * bootstrapRefits(1, 100); // 0
 * ```
 */
export function bootstrapRefits(labelled: number, requested: number): number {
  return labelled >= 2 ? requested : 0;
}

/**
 * Builds a dataset report: how a tree decides a set of pairs. Accuracy (overall, per leaf, per
 * subset), calibration, bootstrap importances and the hardest disagreements use the labelled
 * pairs; path frequencies, "decided by style", position consistency and the comparison with a
 * second tree need no labels. Pure and synchronous; render it with {@link renderReport}.
 *
 * @throws TypeError/RangeError naming every problem of `input` at once.
 *
 * @example
 * ```ts
 * const pairs = readAttributePairs('pairs.jsonl');
 * const report = buildDatasetReport(PreferenceTree.load('helpsteer2-human'), { ...pairs, source: 'pairs.jsonl' }, {
 *   compareTree: PreferenceTree.load('rlhflow-llama-3.1-8b'),
 * });
 * report.decisions;              // { a: 480, b: 505, tie: 15, meanProbability: 0.49 }
 * report.comparison?.agreement;  // 0.87
 * writeReport('dataset.html', report);
 * ```
 */
export function buildDatasetReport(tree: PreferenceTree, input: DatasetInput, options: DatasetReportOptions = {}): DatasetReport {
  const opts = checkDatasetOptions(options);
  const n = checkDatasetInput(input, 'input');
  const { symmetric, tieBand } = opts;
  const deltas = new Float64Array(n * ATTRIBUTE_COUNT);
  for (let i = 0; i < deltas.length; i++) deltas[i] = input.a[i]! - input.b[i]!;
  const negated = deltas.map((x) => -x);
  const primary = decide(tree, deltas, negated, symmetric, tieBand);
  const labels = input.labels ?? null;
  const labelledIdx: number[] = [];
  if (labels) for (let i = 0; i < n; i++) if (labels[i] !== NO_LABEL) labelledIdx.push(i);
  const nl = labelledIdx.length;
  const view = reportTree(tree);
  const tests = leafTests(view);
  const notes: string[] = [...(input.notes ?? [])];
  const warnings: string[] = [];

  // Decisions.
  const decisions = { a: 0, b: 0, tie: 0, meanProbability: 0 };
  for (let i = 0; i < n; i++) {
    decisions[CODE[primary.pref[i]!]!]++;
    decisions.meanProbability += primary.p[i]!;
  }
  decisions.meanProbability /= n;

  // Correctness of each labelled decision: 1, ½ for a tie (as pairMetrics), 0.
  const score = (i: number): number => (primary.pref[i] === 2 ? 0.5 : primary.pref[i] === labels![i] ? 1 : 0);

  let accuracy: DatasetReport['accuracy'] = null;
  let calibration: DatasetReport['calibration'] = null;
  if (nl > 0) {
    const p = Float64Array.from(labelledIdx, (i) => primary.p[i]!);
    const pub = Float64Array.from(labelledIdx, (i) => primary.forward[i]!);
    const y = Uint8Array.from(labelledIdx, (i) => labels![i]!);
    const m = pairMetrics(p, y, tieBand);
    accuracy = {
      labelled: nl,
      accuracy: m.accuracy,
      publishedAccuracy: pairMetrics(pub, y, tieBand).accuracy,
      logLoss: m.logLoss,
      brier: m.brier,
      ece: m.ece,
    };
    const bins = reliability(p, y, opts.bins).map((b) => ({
      lo: b.lo,
      hi: b.hi,
      n: b.n,
      meanPredicted: orNull(b.meanPredicted),
      observed: orNull(b.observed),
    }));
    calibration = { bins, ece: m.ece, brier: m.brier, logLoss: m.logLoss, labelled: nl };
    if (nl < n)
      notes.push(
        `${nl.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} pairs have a label: accuracy, calibration, bootstrap importances and the hardest disagreements use those ${nl.toLocaleString('en-US')}.`,
      );
  } else {
    notes.push(
      `Accuracy (overall, per leaf, per subset), calibration, bootstrap importances and the hardest disagreements need labels: none of the ${n.toLocaleString('en-US')} pairs has one. Add "label": "a" or "b" to the rows to see them.`,
    );
  }

  // Style: which rows' paths test a style attribute.
  const styleBits = STYLE_ATTRIBUTES.map((a) => attributeIndex(a));
  const rowStyle = styleOfRows(view, primary, symmetric);
  const neutral = Float64Array.from(deltas);
  for (let i = 0; i < n; i++) for (const k of styleBits) neutral[i * ATTRIBUTE_COUNT + k] = 0;
  const neutralDecision = decide(
    tree,
    neutral,
    neutral.map((x) => -x),
    symmetric,
    tieBand,
  );
  let styled = 0;
  let neutralChanged = 0;
  const byAttr = STYLE_ATTRIBUTES.map(() => 0);
  let styledScore = 0;
  let styledLabelled = 0;
  let otherScore = 0;
  let otherLabelled = 0;
  for (let i = 0; i < n; i++) {
    if (rowStyle[i]) styled++;
    styleBits.forEach((_, k) => {
      if (rowStyle[i]! & (1 << k)) byAttr[k]!++;
    });
    if (neutralDecision.pref[i] !== primary.pref[i]) neutralChanged++;
    if (labels && labels[i] !== NO_LABEL) {
      if (rowStyle[i]) {
        styledScore += score(i);
        styledLabelled++;
      } else {
        otherScore += score(i);
        otherLabelled++;
      }
    }
  }

  const matrix = input.styles ? styleMatrix(input.styles, labels, primary.pref, rowStyle) : null;

  // Comparison with a second tree (decisions first: leaves and subsets report disagreements).
  const other = opts.compareTree ? decide(opts.compareTree, deltas, negated, symmetric, tieBand) : null;

  // Leaves: path frequencies and per-leaf accuracy.
  const leafIndex = new Map<number, LeafRow>();
  const leaves: LeafRow[] = [];
  for (const node of view.nodes) {
    if (node.feature !== null) continue;
    const ts = tests.get(node.id)!;
    const row: LeafRow = {
      node: node.id,
      tests: ts,
      pathText: testsText(ts),
      trainingShare: node.share,
      probability: node.probability,
      count: 0,
      share: 0,
      mirrorCount: 0,
      decisions: { a: 0, b: 0, tie: 0 },
      labelled: 0,
      accuracy: null,
      observedA: null,
      differ: other ? 0 : null,
    };
    leaves.push(row);
    leafIndex.set(node.id, row);
  }
  const leafScore = new Map<number, { score: number; a: number }>();
  for (let i = 0; i < n; i++) {
    const row = leafIndex.get(primary.leaf[i]!)!;
    row.count++;
    row.decisions[CODE[primary.pref[i]!]!]++;
    if (symmetric) leafIndex.get(primary.mirrorLeaf[i]!)!.mirrorCount++;
    if (other && other.pref[i] !== primary.pref[i]) row.differ!++;
    if (labels && labels[i] !== NO_LABEL) {
      row.labelled++;
      const s = leafScore.get(row.node) ?? { score: 0, a: 0 };
      s.score += score(i);
      s.a += labels[i]!;
      leafScore.set(row.node, s);
    }
  }
  for (const row of leaves) {
    row.share = row.count / n;
    const s = leafScore.get(row.node);
    if (s && row.labelled > 0) {
      row.accuracy = s.score / row.labelled;
      row.observedA = s.a / row.labelled;
    }
  }

  // Subsets.
  const subsets: SubsetRow[] = [];
  const names = new Set<string>();
  if (input.subsets) for (const s of input.subsets) if (s !== null) names.add(s);
  const subsetNames = [...names].sort();
  if (subsetNames.length > 0) {
    const rows = new Map<string, SubsetRow & { score: number; styled: number; agree: number }>();
    const empty = (name: string): SubsetRow & { score: number; styled: number; agree: number } => ({
      name,
      n: 0,
      labelled: 0,
      accuracy: null,
      decisions: { a: 0, b: 0, tie: 0 },
      styleShare: 0,
      agreement: null,
      score: 0,
      styled: 0,
      agree: 0,
    });
    for (const name of subsetNames) rows.set(name, empty(name));
    if (input.subsets!.some((s) => s === null)) rows.set('(none)', empty('(none)'));
    for (let i = 0; i < n; i++) {
      const r = rows.get(input.subsets![i] ?? '(none)')!;
      r.n++;
      r.decisions[CODE[primary.pref[i]!]!]++;
      if (rowStyle[i]) r.styled++;
      if (other && other.pref[i] === primary.pref[i]) r.agree++;
      if (labels && labels[i] !== NO_LABEL) {
        r.labelled++;
        r.score += score(i);
      }
    }
    for (const r of rows.values()) {
      subsets.push({
        name: r.name,
        n: r.n,
        labelled: r.labelled,
        accuracy: r.labelled > 0 ? r.score / r.labelled : null,
        decisions: r.decisions,
        styleShare: ratio(r.styled, r.n),
        agreement: other ? ratio(r.agree, r.n) : null,
      });
    }
  }

  // Importances.
  let bootstrap: DatasetReport['importances']['bootstrap'] = null;
  if (bootstrapRefits(nl, opts.bootstrap) > 0) {
    const d = new Float64Array(nl * ATTRIBUTE_COUNT);
    const y = new Uint8Array(nl);
    labelledIdx.forEach((i, j) => {
      d.set(deltas.subarray(i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT), j * ATTRIBUTE_COUNT);
      y[j] = labels![i]!;
    });
    bootstrap = bootstrapImportances(d, y, {
      refits: opts.bootstrap,
      seed: opts.seed,
      criterion: tree.criterion,
      maxDepth: tree.params.maxDepth ?? tree.depth,
      ...(tree.params.minSamplesLeaf !== null ? { minSamplesLeaf: tree.params.minSamplesLeaf } : {}),
      ...(tree.params.minSamplesSplit !== null ? { minSamplesSplit: tree.params.minSamplesSplit } : {}),
      ...(options.onBootstrapProgress ? { onProgress: options.onBootstrapProgress } : {}),
    });
  } else if (opts.bootstrap === 0 && nl >= 2) {
    notes.push('Bootstrap importances were not computed (bootstrap: 0).');
  }

  // Position consistency: the published rule, and the rule in use.
  const swappedRule = new Float64Array(n);
  for (let i = 0; i < n; i++)
    swappedRule[i] = symmetric ? 0.5 + symmetricMargin(primary.swapped[i]!, primary.forward[i]!) : primary.swapped[i]!;
  const published = positionConsistency(primary.forward, primary.swapped, tieBand);

  // Hardest disagreements: labelled pairs decided the other way, most confident first.
  const wrong = labelledIdx.filter((i) => primary.pref[i] !== 2 && primary.pref[i] !== labels![i]);
  wrong.sort((i, j) => Math.abs(primary.p[j]! - 0.5) - Math.abs(primary.p[i]! - 0.5) || i - j);
  const pathOf = new Map<number, string>([...tests].map(([leaf, ts]) => [leaf, testsText(ts)]));
  const example = (i: number): ReportExample => makeExample(input, i, primary, symmetric, pathOf, other, opts.compareTree);
  const hardest = wrong.slice(0, opts.hardest).map(example);
  const hardestTotal = wrong.length;

  let comparison: TreeComparison | null = null;
  if (other && opts.compareTree) {
    comparison = compareDecisions(tree, opts.compareTree, primary, other, deltas, negated, {
      symmetric,
      tieBand,
      labels,
      labelledIdx,
      examples: opts.examples,
      example,
    });
  }

  // Warnings: truncation and differences outside the training range.
  let truncated: { a: number; b: number; unknownSide: number } | null = null;
  if (input.truncated) {
    truncated = { a: 0, b: 0, unknownSide: 0 };
    for (let i = 0; i < n; i++) {
      if (input.truncated[i]! & 1) truncated.a++;
      if (input.truncated[i]! & 2) truncated.b++;
      if (input.truncated[i]! & 4) truncated.unknownSide++;
    }
    if (truncated.a + truncated.b > 0) {
      warnings.push(
        `${truncated.a} A response${truncated.a === 1 ? ' was' : 's were'} and ${truncated.b} B response${truncated.b === 1 ? ' was' : 's were'} truncated to fit the model's context: their rewards describe only the part the model read.`,
      );
    }
    if (truncated.unknownSide > 0) {
      warnings.push(
        `${truncated.unknownSide} pair${truncated.unknownSide === 1 ? ' had a conversation' : 's had conversations'} truncated to fit the model's context (which response is not recorded).`,
      );
    }
  }
  if (tree.ranges) {
    const outside: string[] = [];
    ATTRIBUTES.forEach((name, k) => {
      const [lo, hi] = tree.ranges![name];
      let c = 0;
      for (let i = 0; i < n; i++) {
        const d = deltas[i * ATTRIBUTE_COUNT + k]!;
        if (d < lo || d > hi) c++;
      }
      if (c > 0) outside.push(`${name} ${c}`);
    });
    if (outside.length > 0)
      warnings.push(`Some differences lie outside the range ${tree.name} was trained on (pairs per attribute: ${outside.join(', ')}).`);
  }
  for (const w of tree.warnings) warnings.push(`Tree: ${w}`);

  const hasTexts = input.texts
    ? input.texts.prompt.some((t) => t !== null) || input.texts.a.some((t) => t !== null) || input.texts.b.some((t) => t !== null)
    : false;
  return {
    format: REPORT_FORMAT,
    version: REPORT_FORMAT_VERSION,
    generator: PACKAGE_ID,
    title: opts.title ?? `How ${tree.name} decides ${n.toLocaleString('en-US')} pair${n === 1 ? '' : 's'}`,
    provenance: reportProvenance('buildDatasetReport', tree, opts.compareTree, options.provenance),
    kind: 'dataset',
    tree: view,
    rule: { symmetric, tieBand },
    data: { n, source: input.source ?? null, labelled: nl, subsets: subsetNames, truncated, hasTexts },
    decisions,
    accuracy,
    leaves,
    subsets,
    importances: { impurity: tree.featureImportances(), bootstrap },
    style: {
      attributes: [...STYLE_ATTRIBUTES],
      count: styled,
      share: styled / n,
      byAttribute: STYLE_ATTRIBUTES.map((attribute, k) => ({ attribute, count: byAttr[k]!, share: byAttr[k]! / n })),
      neutralChanged,
      neutralChangedShare: neutralChanged / n,
      accuracyStyled: styledLabelled > 0 ? styledScore / styledLabelled : null,
      accuracyOther: otherLabelled > 0 ? otherScore / otherLabelled : null,
      ...(matrix ? { matrix } : {}),
    },
    calibration,
    positionConsistency: {
      published,
      rule: positionConsistency(primary.p, swappedRule, tieBand),
      inconsistent: Math.round((1 - published) * n),
    },
    hardest,
    hardestTotal,
    comparison,
    notes,
    warnings,
  };
}

/** RM-Bench's style names, by index (as src/eval/rmbench.ts). */
const STYLE_NAMES = ['concise', 'detailed plain', 'detailed markdown'];

/**
 * RM-Bench's 3 x 3 matrix on the tree's decisions (THU-KEG/RM-Bench `compute_accuracy`): row =
 * the chosen (labelled) response's style, column = the rejected one's; hard / normal / easy =
 * the upper triangle, the diagonal, the lower triangle. Each cell also says how many of its
 * decisions went through a style attribute: where style decides, and whether it decides right.
 */
function styleMatrix(
  styles: NonNullable<DatasetInput['styles']>,
  labels: Uint8Array | null,
  pref: Uint8Array,
  rowStyle: Uint8Array,
): StyleMatrix | null {
  const n = [0, 1, 2].map(() => [0, 0, 0]);
  const credit = [0, 1, 2].map(() => [0, 0, 0]);
  const styled = [0, 1, 2].map(() => [0, 0, 0]);
  let total = 0;
  for (let i = 0; i < pref.length; i++) {
    if (!labels || labels[i] === NO_LABEL) continue;
    const chosen = labels[i] === 1 ? styles.a[i] : styles.b[i];
    const rejected = labels[i] === 1 ? styles.b[i] : styles.a[i];
    if (chosen === null || chosen === undefined || rejected === null || rejected === undefined) continue;
    total++;
    n[chosen]![rejected]!++;
    credit[chosen]![rejected]! += pref[i] === 2 ? 0.5 : pref[i] === labels[i] ? 1 : 0;
    if (rowStyle[i]) styled[chosen]![rejected]!++;
  }
  if (total === 0) return null;
  const cells = n.map((row, i) =>
    row.map((k, j) => ({ n: k, accuracy: k > 0 ? credit[i]![j]! / k : null, styleShare: k > 0 ? styled[i]![j]! / k : null })),
  );
  const mean = (pairs: [number, number][]): number | null => {
    const xs = pairs.map(([i, j]) => cells[i]![j]!.accuracy);
    return xs.every((x): x is number => x !== null) ? xs.reduce((a, x) => a + x, 0) / xs.length : null;
  };
  return {
    styles: [...STYLE_NAMES],
    cells,
    hard: mean([
      [0, 1],
      [0, 2],
      [1, 2],
    ]),
    normal: mean([
      [0, 0],
      [1, 1],
      [2, 2],
    ]),
    easy: mean([
      [1, 0],
      [2, 0],
      [2, 1],
    ]),
    n: total,
  };
}

/**
 * Per row, bit k set when the path (either reading under the symmetric rule) tests
 * STYLE_ATTRIBUTES[k].
 */
function styleOfRows(view: ReportTree, d: Decisions, symmetric: boolean): Uint8Array {
  const styleBits = STYLE_ATTRIBUTES.map((a) => attributeIndex(a));
  const leafStyle = new Uint8Array(view.nodes.length);
  for (const [leaf, ts] of leafTests(view)) {
    for (const t of ts) {
      const k = styleBits.indexOf(attributeIndex(t.attribute));
      if (k >= 0) leafStyle[leaf] = leafStyle[leaf]! | (1 << k);
    }
  }
  const n = d.leaf.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = leafStyle[d.leaf[i]!]! | (symmetric ? leafStyle[d.mirrorLeaf[i]!]! : 0);
  return out;
}

/** A tree's decisions on every row: leaves of both readings, probabilities, preference codes. */
interface Decisions {
  leaf: Int32Array;
  mirrorLeaf: Int32Array;
  /** f(a − b). */
  forward: Float64Array;
  /** f(b − a): P(b preferred) as the published rule reads the swapped pair. */
  swapped: Float64Array;
  /** P(a preferred) under the rule. */
  p: Float64Array;
  /** 0 = b, 1 = a, 2 = tie. */
  pref: Uint8Array;
}

function decide(tree: PreferenceTree, deltas: Float64Array, negated: Float64Array, symmetric: boolean, tieBand: number): Decisions {
  const leaf = tree.applyBatch(deltas);
  const mirrorLeaf = tree.applyBatch(negated);
  const value = tree.arrays.value;
  const n = leaf.length;
  const forward = new Float64Array(n);
  const swapped = new Float64Array(n);
  const p = new Float64Array(n);
  const pref = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    forward[i] = value[leaf[i]!]!;
    swapped[i] = value[mirrorLeaf[i]!]!;
    // Decide on the margin P(a) − 0.5, as explain() does: exactly antisymmetric, so ties are exact.
    const margin = symmetric ? symmetricMargin(forward[i]!, swapped[i]!) : forward[i]! - 0.5;
    p[i] = 0.5 + margin;
    pref[i] = code(preferenceOfMargin(margin, tieBand));
  }
  return { leaf, mirrorLeaf, forward, swapped, p, pref };
}

function makeExample(
  input: DatasetInput,
  i: number,
  d: Decisions,
  symmetric: boolean,
  pathOf: Map<number, string>,
  other: Decisions | null,
  otherTree: PreferenceTree | undefined,
): ReportExample {
  const label = input.labels && input.labels[i] !== NO_LABEL ? (input.labels[i] === 1 ? 'a' : 'b') : null;
  const delta = fromVector(
    Array.from({ length: ATTRIBUTE_COUNT }, (_, k) => input.a[i * ATTRIBUTE_COUNT + k]! - input.b[i * ATTRIBUTE_COUNT + k]!),
  );
  let otherInfo: ReportExample['other'] = null;
  if (other && otherTree) {
    const ts = leafTests(reportTree(otherTree)).get(other.leaf[i]!)!;
    otherInfo = { preference: CODE[other.pref[i]!]!, probability: other.p[i]!, pathText: testsText(ts), leaf: other.leaf[i]! };
  }
  const texts = input.texts ? { prompt: input.texts.prompt[i] ?? null, a: input.texts.a[i] ?? null, b: input.texts.b[i] ?? null } : null;
  return {
    index: i,
    id: input.ids?.[i] ?? null,
    line: input.lines?.[i] ?? null,
    subset: input.subsets?.[i] ?? null,
    label,
    preference: CODE[d.pref[i]!]!,
    probability: d.p[i]!,
    pathText: pathOf.get(d.leaf[i]!)!,
    leaf: d.leaf[i]!,
    mirrorLeaf: symmetric ? d.mirrorLeaf[i]! : null,
    delta,
    other: otherInfo,
    texts: texts && (texts.prompt !== null || texts.a !== null || texts.b !== null) ? texts : null,
    truncated: input.truncated ? { a: (input.truncated[i]! & 1) !== 0, b: (input.truncated[i]! & 2) !== 0 } : null,
  };
}

/** The leaf reached when the test at `forced` goes the other way (every other test as usual). */
function forcedLeaf(tree: PreferenceTree, x: Float64Array, offset: number, forced: number): number {
  const { left, right, feature, threshold } = tree.arrays;
  let node = 0;
  while (left[node] !== -1) {
    let goLeft = x[offset + feature[node]!]! <= threshold[node]!;
    if (node === forced) goLeft = !goLeft;
    node = goLeft ? left[node]! : right[node]!;
  }
  return node;
}

/** The split nodes on the path from the root to `leaf`. */
function pathNodes(tree: PreferenceTree, x: Float64Array, offset: number): number[] {
  const { left, right, feature, threshold } = tree.arrays;
  const out: number[] = [];
  let node = 0;
  while (left[node] !== -1) {
    out.push(node);
    node = x[offset + feature[node]!]! <= threshold[node]! ? left[node]! : right[node]!;
  }
  return out;
}

function compareDecisions(
  tree: PreferenceTree,
  otherTree: PreferenceTree,
  primary: Decisions,
  other: Decisions,
  deltas: Float64Array,
  negated: Float64Array,
  ctx: {
    symmetric: boolean;
    tieBand: number;
    labels: Uint8Array | null;
    labelledIdx: number[];
    examples: number;
    example: (i: number) => ReportExample;
  },
): TreeComparison {
  const n = primary.p.length;
  const { symmetric, tieBand } = ctx;
  const cross: Record<Preference, DecisionCounts> = { a: { a: 0, b: 0, tie: 0 }, b: { a: 0, b: 0, tie: 0 }, tie: { a: 0, b: 0, tie: 0 } };
  const pairCounts = new Map<string, { leaf: number; otherLeaf: number; count: number; differ: number }>();
  const otherLeafCounts = new Map<number, { count: number; differ: number }>();
  const splitCounts = new Map<string, SplitDifference>();
  let agree = 0;
  let explained = 0;
  const differing: number[] = [];

  // "Makes the difference": sending the pair the other way at this one split alone makes the two trees agree.
  const tryTree = (t: PreferenceTree, which: 'primary' | 'other', d: Decisions, i: number, target: number, hit: Set<string>): void => {
    const value = t.arrays.value;
    const o = i * ATTRIBUTE_COUNT;
    const check = (node: number, margin: number): void => {
      if (code(preferenceOfMargin(margin, tieBand)) !== target) return;
      const key = `${which}:${node}`;
      hit.add(key);
      if (!splitCounts.has(key)) {
        const f = t.arrays.feature[node]!;
        splitCounts.set(key, {
          tree: which,
          treeName: t.name,
          node,
          attribute: ATTRIBUTES[f]!,
          threshold: t.arrays.threshold[node]!,
          count: 0,
          share: 0,
        });
      }
    };
    for (const node of pathNodes(t, deltas, o)) {
      const leaf = forcedLeaf(t, deltas, o, node);
      check(node, symmetric ? symmetricMargin(value[leaf]!, d.swapped[i]!) : value[leaf]! - 0.5);
    }
    if (symmetric) {
      for (const node of pathNodes(t, negated, o)) {
        const leaf = forcedLeaf(t, negated, o, node);
        check(node, symmetricMargin(d.forward[i]!, value[leaf]!));
      }
    }
  };

  for (let i = 0; i < n; i++) {
    const pp = primary.pref[i]!;
    const op = other.pref[i]!;
    cross[CODE[pp]!][CODE[op]!]++;
    const same = pp === op;
    if (same) agree++;
    else differing.push(i);
    const key = `${primary.leaf[i]}:${other.leaf[i]}`;
    const lp = pairCounts.get(key) ?? { leaf: primary.leaf[i]!, otherLeaf: other.leaf[i]!, count: 0, differ: 0 };
    lp.count++;
    if (!same) lp.differ++;
    pairCounts.set(key, lp);
    const ol = otherLeafCounts.get(other.leaf[i]!) ?? { count: 0, differ: 0 };
    ol.count++;
    if (!same) ol.differ++;
    otherLeafCounts.set(other.leaf[i]!, ol);
    if (!same) {
      const hit = new Set<string>();
      tryTree(tree, 'primary', primary, i, op, hit);
      tryTree(otherTree, 'other', other, i, pp, hit);
      if (hit.size > 0) explained++;
      for (const k of hit) splitCounts.get(k)!.count++;
    }
  }
  const disagreements = n - agree;
  const splits = [...splitCounts.values()]
    .map((s) => ({ ...s, share: ratio(s.count, disagreements) }))
    .sort((x, y) => y.count - x.count || (x.tree === y.tree ? x.node - y.node : x.tree === 'primary' ? -1 : 1));

  const otherView = reportTree(otherTree);
  const otherTests = leafTests(otherView);
  const otherStyled = styleOfRows(otherView, other, symmetric).reduce((k, bits) => k + (bits ? 1 : 0), 0);
  const otherLeaves = otherView.nodes
    .filter((node) => node.feature === null)
    .map((node) => ({
      node: node.id,
      pathText: testsText(otherTests.get(node.id)!),
      count: otherLeafCounts.get(node.id)?.count ?? 0,
      differ: otherLeafCounts.get(node.id)?.differ ?? 0,
    }));

  const thresholds = Object.fromEntries(
    ATTRIBUTES.map((a) => [a, { primary: tree.thresholdsOf(a), other: otherTree.thresholdsOf(a) }]),
  ) as Record<Attribute, { primary: number[]; other: number[] }>;

  let accuracy: TreeComparison['accuracy'] = null;
  if (ctx.labels && ctx.labelledIdx.length > 0) {
    const y = Uint8Array.from(ctx.labelledIdx, (i) => ctx.labels![i]!);
    accuracy = {
      primary: pairMetrics(
        Float64Array.from(ctx.labelledIdx, (i) => primary.p[i]!),
        y,
        tieBand,
      ).accuracy,
      other: pairMetrics(
        Float64Array.from(ctx.labelledIdx, (i) => other.p[i]!),
        y,
        tieBand,
      ).accuracy,
      labelled: ctx.labelledIdx.length,
    };
  }
  differing.sort((i, j) => Math.abs(other.p[j]! - primary.p[j]!) - Math.abs(other.p[i]! - primary.p[i]!) || i - j);
  return {
    otherName: otherTree.name,
    tree: otherView,
    n,
    agree,
    agreement: agree / n,
    cross,
    explained,
    splits,
    leafPairs: [...pairCounts.values()].sort(
      (x, y) => y.differ - x.differ || y.count - x.count || x.leaf - y.leaf || x.otherLeaf - y.otherLeaf,
    ),
    otherLeaves,
    thresholds,
    accuracy,
    otherStyle: { count: otherStyled, share: otherStyled / n },
    examples: differing.slice(0, ctx.examples).map(ctx.example),
    examplesTotal: differing.length,
  };
}

function checkDatasetOptions(
  options: DatasetReportOptions,
): Required<Omit<DatasetReportOptions, 'compareTree' | 'onBootstrapProgress' | 'title' | 'provenance'>> &
  Pick<DatasetReportOptions, 'compareTree' | 'title'> {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const symmetric = options.symmetric ?? true;
  if (typeof symmetric !== 'boolean') throw new TypeError(`options.symmetric must be a boolean, got ${typeof symmetric}`);
  const tieBand = options.tieBand ?? 0;
  if (typeof tieBand !== 'number' || !(tieBand >= 0 && tieBand < 0.5))
    throw new RangeError(`options.tieBand must be a number in [0, 0.5), got ${String(tieBand)}`);
  const int = (key: 'bootstrap' | 'seed' | 'hardest' | 'examples' | 'bins', fallback: number, min: number): number => {
    const v = options[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`options.${key} must be an integer, got ${String(v)}`);
    if (v < min) throw new RangeError(`options.${key} must be >= ${min}, got ${v}`);
    return v;
  };
  const ct = options.compareTree;
  if (ct !== undefined && (ct === null || typeof ct !== 'object' || typeof ct.applyBatch !== 'function'))
    throw new TypeError('options.compareTree must be a PreferenceTree');
  return {
    symmetric,
    tieBand,
    bootstrap: int('bootstrap', 100, 0),
    seed: int('seed', 0, 0),
    hardest: int('hardest', 10, 0),
    examples: int('examples', 10, 0),
    bins: int('bins', 10, 1),
    ...(ct ? { compareTree: ct } : {}),
    ...(options.title !== undefined ? { title: options.title } : {}),
  };
}

/**
 * Checks a {@link DatasetInput}; throws one TypeError/RangeError naming every problem. Returns n.
 *
 * @example
 * ```ts
 * checkDatasetInput({ n: 2, a: new Float64Array(9), b: new Float64Array(10) }, 'input');
 * // RangeError: input.a has 9 values; with n = 2 it must have 10
 * ```
 */
export function checkDatasetInput(input: DatasetInput, param: string): number {
  if (input === null || typeof input !== 'object') throw new TypeError(`${param} must be an object {n, a, b, labels?, ...}`);
  const problems: string[] = [];
  let onlyRange = true;
  const bad = (msg: string, range = false): void => {
    problems.push(`${param}.${msg}`);
    if (!range) onlyRange = false;
  };
  const n = input.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`${param}.n must be a positive integer (the number of pairs), got ${String(n)}`);
  }
  for (const side of ['a', 'b'] as const) {
    const v = input[side];
    if (!(v instanceof Float64Array)) bad(`${side} must be a Float64Array (n x 5, row-major)`);
    else if (v.length !== n * ATTRIBUTE_COUNT)
      bad(`${side} has ${v.length} values; with n = ${n} it must have ${n * ATTRIBUTE_COUNT}`, true);
    else {
      const rows: number[] = [];
      for (let i = 0; i < v.length && rows.length < 5; i++) {
        if (!Number.isFinite(v[i]!)) {
          const row = Math.floor(i / ATTRIBUTE_COUNT);
          if (rows.at(-1) !== row) rows.push(row);
        }
      }
      if (rows.length > 0) bad(`${side} has non-finite scores in rows ${rows.join(', ')}`, true);
    }
  }
  if (input.labels !== undefined && input.labels !== null) {
    if (!(input.labels instanceof Uint8Array)) bad('labels must be a Uint8Array (1 = a, 0 = b, 255 = unknown)');
    else if (input.labels.length !== n) bad(`labels has ${input.labels.length} entries, expected n = ${n}`, true);
    else {
      const i = input.labels.findIndex((l) => l !== 0 && l !== 1 && l !== NO_LABEL);
      if (i >= 0) bad(`labels[${i}] must be 0, 1 or 255, got ${input.labels[i]}`, true);
    }
  }
  for (const key of ['ids', 'subsets', 'lines'] as const) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) bad(`${key} must be an array`);
    else if (v.length !== n) bad(`${key} has ${v.length} entries, expected n = ${n}`, true);
  }
  if (input.texts !== undefined && input.texts !== null) {
    for (const key of ['prompt', 'a', 'b'] as const) {
      const v = input.texts[key];
      if (!Array.isArray(v)) bad(`texts.${key} must be an array of strings or nulls`);
      else if (v.length !== n) bad(`texts.${key} has ${v.length} entries, expected n = ${n}`, true);
    }
  }
  if (input.truncated !== undefined && input.truncated !== null) {
    if (!(input.truncated instanceof Uint8Array)) bad('truncated must be a Uint8Array (bit 1 = A, bit 2 = B)');
    else if (input.truncated.length !== n) bad(`truncated has ${input.truncated.length} entries, expected n = ${n}`, true);
  }
  if (input.styles !== undefined && input.styles !== null) {
    for (const key of ['a', 'b'] as const) {
      const v = input.styles[key];
      if (!Array.isArray(v)) bad(`styles.${key} must be an array of style indices (0, 1, 2) or nulls`);
      else if (v.length !== n) bad(`styles.${key} has ${v.length} entries, expected n = ${n}`, true);
      else {
        const i = v.findIndex((x) => x !== null && x !== 0 && x !== 1 && x !== 2);
        if (i >= 0) bad(`styles.${key}[${i}] must be 0, 1, 2 or null, got ${String(v[i])}`, true);
      }
    }
  }
  if (problems.length > 0) {
    const message = problems.join('; ');
    throw onlyRange ? new RangeError(message) : new TypeError(message);
  }
  return n;
}
