/**
 * Explanations: why a tree prefers one response, in words. The tree's path for `a − b` becomes
 * steps and a sentence, and a search over the tree's thresholds finds the smallest
 * one-attribute change that flips the decision. The decision itself is the tree's
 * (tree/decision.ts); this module only puts it into words.
 *
 * May import: its own folder (explain/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/. Never data/, anything
 * above (eval/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, fromVector, toVector, type Attribute, type AttributeScores } from '../attributes.js';
import {
  checkDecisionOptions,
  preferenceOf,
  preferenceOfMargin,
  probabilityOf,
  symmetricMargin,
  type DecisionOptions,
  type Preference,
} from '../tree/decision.js';
import type { LeafInfo, PathStep, PreferenceTree } from '../tree/preference-tree.js';
import { PLAIN } from '../util/format.js';

/** The smallest one-attribute change that flips the decision. */
export interface Counterfactual {
  attribute: Attribute;
  /** The difference `a − b` now. */
  delta: number;
  /** The difference that flips the decision (the nearest one inside the data's range). */
  newDelta: number;
  /** `newDelta − delta`: the change to A's score (or minus the change to B's). */
  change: number;
  /** The decision after the change. */
  preference: Exclude<Preference, 'tie'>;
  /** P(a preferred) after the change. */
  probability: number;
  /** e.g. "B would win if A's correctness were 1.467 lower (or B's that much higher): correctness difference <= 0.303." */
  sentence: string;
}

/** The other reading of a symmetric decision: the tree applied to `b − a`. */
export interface MirrorReading {
  path: PathStep[];
  leaf: LeafInfo;
  /** f(b − a): the tree's P(first response preferred) with b first, i.e. P(b preferred) as published. */
  probability: number;
}

/** Why the tree prefers one response: the decision, its probability, the path, and what would flip it. */
export interface Explanation {
  preference: Preference;
  /** P(a preferred) under the chosen rule (symmetric by default). */
  probability: number;
  /** P(a preferred) as the published models compute it: f(a − b). */
  publishedProbability: number;
  symmetric: boolean;
  tieBand: number;
  /** `a − b` per attribute. */
  delta: AttributeScores;
  /** Tests on the path of `a − b`, root first. */
  path: PathStep[];
  leaf: LeafInfo;
  /** With the symmetric rule: the path of `b − a`. Null for `symmetric: false`. */
  mirror: MirrorReading | null;
  sentence: string;
  /** Null when no single-attribute change within the data's range flips the decision. */
  counterfactual: Counterfactual | null;
}

/**
 * Explains a preference between two attribute-score vectors with a tree.
 *
 * @example
 * ```ts
 * const tree = PreferenceTree.load('rlhflow-llama-3.1-8b');
 * const e = explain(tree,
 *   { helpfulness: 3.96, correctness: 3.97, coherence: 3.86, complexity: 0.99, verbosity: 1.49 },
 *   { helpfulness: 2.17, correctness: 2.20, coherence: 3.20, complexity: 0.88, verbosity: 1.46 });
 * e.preference;  // 'a'
 * e.probability; // 0.986
 * e.path.map((s) => `${s.attribute} ${s.went === 'left' ? '<=' : '>'} ${s.threshold}`);
 * // ['helpfulness > 0.019', 'correctness > 0.303', 'helpfulness > 1.121']
 * ```
 */
export function explain(tree: PreferenceTree, a: AttributeScores, b: AttributeScores, options: DecisionOptions = {}): Explanation {
  const { symmetric, tieBand } = checkDecisionOptions(options);
  const va = toVector(a, 'a');
  const vb = toVector(b, 'b');
  const d = new Float64Array(ATTRIBUTE_COUNT);
  for (let k = 0; k < ATTRIBUTE_COUNT; k++) d[k] = va[k]! - vb[k]!;
  if (d.some((x) => !Number.isFinite(x))) throw new RangeError('a − b overflows: attribute scores are too large');

  const path = tree.decisionPath(d);
  const leaf = tree.leafInfo(tree.apply(d));
  const published = leaf.probability;
  let mirror: MirrorReading | null = null;
  let margin = published - 0.5;
  if (symmetric) {
    const m = d.map((x) => -x);
    const mLeaf = tree.leafInfo(tree.apply(m));
    mirror = { path: tree.decisionPath(m), leaf: mLeaf, probability: mLeaf.probability };
    margin = symmetricMargin(published, mLeaf.probability);
  }
  const probability = 0.5 + margin;
  const preference = preferenceOfMargin(margin, tieBand);
  const delta = fromVector(d);
  const counterfactual = findCounterfactual(tree, d, preference, symmetric, tieBand);
  return {
    preference,
    probability,
    publishedProbability: published,
    symmetric,
    tieBand,
    delta,
    path,
    leaf,
    mirror,
    sentence: describe(preference, probability, tieBand, path, leaf, mirror),
    counterfactual,
  };
}

const fmt = (x: number): string => PLAIN.f3(x);
const { signed } = PLAIN;

/**
 * One test of a path in words.
 *
 * @example
 * ```ts
 * describeStep(e.path[0]); // 'helpfulness difference +1.791 > 0.019'
 * ```
 */
export function describeStep(step: PathStep): string {
  return `${step.attribute} difference ${signed(step.delta)} ${step.went === 'left' ? '<=' : '>'} ${fmt(step.threshold)}`;
}

/**
 * A path's tests on one line.
 *
 * @example
 * ```ts
 * describePath(e.path); // 'helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121'
 * ```
 */
export function describePath(path: readonly PathStep[]): string {
  return path.map((s) => `${s.attribute} ${s.went === 'left' ? '<=' : '>'} ${fmt(s.threshold)}`).join(' → ');
}

function leafText(leaf: LeafInfo, who: 'A' | 'B'): string {
  const p = who === 'A' ? leaf.probability : leaf.probability;
  const count = leaf.samples === null ? '' : `${Math.round(leaf.samples)} pairs, `;
  return `leaf ${leaf.node} (${count}${PLAIN.pct(leaf.share)} of training pairs, P(${who} preferred) = ${fmt(p)})`;
}

function describe(pref: Preference, p: number, tieBand: number, path: PathStep[], leaf: LeafInfo, mirror: MirrorReading | null): string {
  const head =
    pref === 'tie'
      ? `Neither response is preferred: P(A) = ${fmt(p)} is within ${fmt(tieBand)} of 0.5`
      : `${pref === 'a' ? 'A' : 'B'} is preferred with probability ${fmt(pref === 'a' ? p : 1 - p)}`;
  const steps = path.length === 0 ? 'the tree is a single leaf' : path.map(describeStep).join(', then ');
  let text = `${head}: ${steps}, reaching ${leafText(leaf, 'A')}.`;
  if (mirror && mirror.leaf.node !== leaf.node) {
    text += ` Read the other way round (B − A), the tree reaches ${leafText(mirror.leaf, 'B')}; the symmetric probability averages both readings.`;
  }
  return text;
}

function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const bits = buf.getBigUint64(0);
  buf.setBigUint64(0, x > 0 ? bits + 1n : bits - 1n);
  return buf.getFloat64(0);
}

function nextDown(x: number): number {
  return -nextUp(-x);
}

function findCounterfactual(
  tree: PreferenceTree,
  d: Float64Array,
  current: Preference,
  symmetric: boolean,
  tieBand: number,
): Counterfactual | null {
  let best: Counterfactual | null = null;
  const x = Float64Array.from(d);
  ATTRIBUTES.forEach((attribute, k) => {
    const thresholds = tree.thresholdsOf(attribute);
    if (thresholds.length === 0) return;
    // The decision is piecewise constant in d[k]; the nearest point of each piece is one of these edges.
    const candidates: Array<{ value: number; relation: '<=' | '>' | '>=' | '<'; bound: number }> = [];
    for (const t of thresholds) {
      candidates.push({ value: t, relation: '<=', bound: t }, { value: nextUp(t), relation: '>', bound: t });
      if (symmetric) candidates.push({ value: -t, relation: '>=', bound: -t }, { value: nextDown(-t), relation: '<', bound: -t });
    }
    const range = tree.ranges?.[attribute];
    for (const { value: c, relation, bound } of candidates) {
      if (c === d[k]) continue;
      if (range && (c < range[0] || c > range[1])) continue;
      x[k] = c;
      const p = probabilityOf(tree, x, symmetric);
      x[k] = d[k]!;
      const pref = preferenceOf(p, tieBand);
      if (pref === 'tie' || pref === current) continue;
      const change = c - d[k]!;
      if (best === null || Math.abs(change) < Math.abs(best.change)) {
        best = { attribute, delta: d[k]!, newDelta: c, change, preference: pref, probability: p, sentence: `${relation} ${fmt(bound)}` };
      }
    }
  });
  if (best === null) return null;
  const cf = best as Counterfactual;
  const winner = cf.preference === 'a' ? 'A' : 'B';
  const direction = cf.change < 0 ? 'lower' : 'higher';
  const other = cf.change < 0 ? 'higher' : 'lower';
  const bound = cf.sentence; // the relation to the threshold, stashed above
  cf.sentence = `${winner} would win if A's ${cf.attribute} were ${fmt(Math.abs(cf.change))} ${direction} (or B's that much ${other}): ${cf.attribute} difference ${bound}.`;
  return cf;
}
