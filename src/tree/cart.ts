/**
 * The CART engine: a binary-classification decision tree with scikit-learn's semantics
 * (`DecisionTreeClassifier`, dense splitter "best", no max_features, no random feature order).
 *
 * What matches scikit-learn 1.2 exactly:
 * - depth-first building with pre-order node ids (left subtree before right);
 * - a node becomes a leaf when depth >= maxDepth, samples < minSamplesSplit,
 *   samples < 2 * minSamplesLeaf, impurity <= machine epsilon, no valid split exists, or the
 *   split's weighted impurity decrease + epsilon < minImpurityDecrease;
 * - candidate thresholds lie between consecutive distinct sorted values (values closer than
 *   1e-7 count as equal), at the midpoint `v[p-1]/2 + v[p]/2`; `x <= threshold` goes left;
 * - the split maximises scikit-learn's proxy `-wR * impurity(R) - wL * impurity(L)`;
 *   log_loss impurity uses log base 2, as scikit-learn's entropy does.
 *
 * What differs, by design:
 * - Ties: features are tried in attribute order and a candidate must beat the best so far
 *   strictly, so among equal gains the lowest feature index wins, then the lowest threshold.
 *   (scikit-learn breaks ties by a random feature permutation.)
 * - Inputs stay float64; scikit-learn casts X to float32 first, so on data that is not exactly
 *   representable in float32 its thresholds differ by float32 rounding (~1e-7 relative).
 *
 * Speed: each feature is argsorted once (radix sort); a node's samples occupy the same segment
 * in every feature's sorted order, and splitting stably partitions those segments, so no node
 * ever re-sorts. With integer weights (the usual case) log_loss uses a table of k*log2(k).
 *
 * May import: its own folder (tree/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never head/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { assembleModule, F64, forRange, I32, instantiate, presortColumns, radixWasm, w as op } from './argsort.js';

/** Split criterion: `log_loss` (entropy, base 2; the published trees' criterion) or `gini`. */
export type Criterion = 'log_loss' | 'gini';

/** Fitting parameters, with scikit-learn's meanings. */
export interface CartParams {
  criterion: Criterion;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minImpurityDecrease: number;
}

/** A fitted tree as parallel arrays indexed by node id (pre-order; 0 is the root). */
export interface TreeArrays {
  nodeCount: number;
  /** Left child id, or -1 for a leaf. */
  left: Int32Array;
  /** Right child id, or -1 for a leaf. */
  right: Int32Array;
  /** Feature index tested at the node, or -1 for a leaf. */
  feature: Int32Array;
  /** `x[feature] <= threshold` goes left; NaN for a leaf. */
  threshold: Float64Array;
  /** Training rows reaching the node (NaN when unknown, e.g. a tree transcribed from a figure). */
  count: Float64Array;
  /** Weighted training rows reaching the node (NaN when unknown). */
  weight: Float64Array;
  /** Share of the root's weighted rows, in [0, 1]. */
  share: Float64Array;
  /** P(class 1) at the node: the weighted share of class-1 rows. */
  value: Float64Array;
  /** Node impurity under the criterion (NaN when unknown). */
  impurity: Float64Array;
}

const FEATURE_THRESHOLD = 1e-7;
const EPSILON = 2.220446049250313e-16;
const LOG2 = Math.LN2;
const TABLE_LIMIT = 1 << 24;

/** Impurity of a node with weighted size `w` and weighted class-1 mass `c1`, as scikit-learn computes it. */
export function impurityOf(criterion: Criterion, w: number, c1: number): number {
  if (!(w > 0)) return 0;
  const c0 = w - c1;
  if (criterion === 'gini') return 1 - (c0 * c0 + c1 * c1) / (w * w);
  let h = 0;
  if (c0 > 0) {
    const p = c0 / w;
    h -= p * (Math.log(p) / LOG2);
  }
  if (c1 > 0) {
    const p = c1 / w;
    h -= p * (Math.log(p) / LOG2);
  }
  return h;
}

/**
 * Fits a tree. `X` is n x nFeatures row-major and finite, `y` holds 0/1, `w` (optional) finite
 * non-negative weights with a positive sum. Callers validate; this function trusts its input.
 * `ranges`, when given (2 x nFeatures), receives each feature's [min, max], cheaply, from the presort.
 *
 * Shaped for the first fit in a fresh process as much as the hundredth: every pass over the
 * samples is a small function of its own with one array type per argument (V8 then optimises
 * it early and whole, where an on-stack replacement into one large function kept bailing out on
 * code below the loop that had not run yet), results come back through a scratch array, not
 * fresh objects, and the node loop itself only orchestrates.
 */
export function fitCart(X: Float64Array, nFeatures: number, y: Uint8Array, w: Float64Array | null, params: CartParams, ranges?: Float64Array): TreeArrays {
  const n = y.length;
  const { criterion, maxDepth, minSamplesSplit, minSamplesLeaf, minImpurityDecrease } = params;

  const two = new Float64Array(2); // results of the helpers below
  let totalWeight = n;
  let integerWeights = true;
  if (w !== null) {
    integerWeights = weightTotal(w, n, two);
    totalWeight = two[0]!;
  }
  // k*log2(k) for every reachable integer mass: turns the log-loss proxy into table lookups.
  let xlx: Float64Array | null = null;
  if (criterion === 'log_loss' && integerWeights && totalWeight <= TABLE_LIMIT) xlx = xlog2xTable(Math.round(totalWeight) + 1);

  // Presort once: per feature, sample indices in ascending value order and the values beside them.
  // With WebAssembly they are in its memory, beside room for the labels, the partition scratch
  // and the table, and the passes over the samples below run as its kernels (same arithmetic).
  const at = { y: 0, goesLeft: n, tmpVal: 8 * Math.ceil((2 * n) / 8), tmpIdx: 0, xlx: 0, out: 0, end: 0 };
  at.tmpIdx = at.tmpVal + 8 * n;
  at.xlx = 8 * Math.ceil((at.tmpIdx + 4 * n) / 8);
  at.out = at.xlx + 8 * (xlx ? xlx.length : 0);
  at.end = at.out + 8;
  const pre = presortColumns(X, nFeatures, n, at.end);
  const sIdx = pre.orders;
  const sVal = pre.sorted;
  const kern = pre.memory ? cartKernels() : null;
  const base = pre.extraAt;
  let scanBest: Float64Array | null = null;
  if (kern) {
    new Uint8Array(pre.memory!, base + at.y, n).set(y);
    if (xlx) new Float64Array(pre.memory!, base + at.xlx, xlx.length).set(xlx);
    scanBest = new Float64Array(pre.memory!, base + at.out, 1);
  }
  const { goesLeft, tmpIdx, tmpVal } = kern ? { goesLeft: null, tmpIdx: null, tmpVal: null } : workspace(n);
  // Each feature's range, from its sorted values (before partitioning reorders them), as a
  // first-seen min/max scan over the rows would give it: where the extreme is a zero, which
  // zero (-0 or +0) that scan meets first decides, so those few features are scanned.
  if (ranges) {
    for (let f = 0; f < nFeatures; f++) {
      const lo = sVal[f]![0]!;
      const hi = sVal[f]![n - 1]!;
      ranges[2 * f] = lo === 0 ? columnExtreme(X, nFeatures, f, n, -1) : lo;
      ranges[2 * f + 1] = hi === 0 ? columnExtreme(X, nFeatures, f, n, 1) : hi;
    }
  }

  const cap = Math.max(1, 2 ** Math.min(maxDepth + 1, 20));
  const out = {
    left: new Int32Array(cap),
    right: new Int32Array(cap),
    feature: new Int32Array(cap),
    threshold: new Float64Array(cap),
    count: new Float64Array(cap),
    weight: new Float64Array(cap),
    share: new Float64Array(cap),
    value: new Float64Array(cap),
    impurity: new Float64Array(cap),
  };
  let nodeCount = 0;
  const grow = (): void => {
    for (const key of Object.keys(out) as Array<keyof typeof out>) {
      const old = out[key];
      const bigger = new (old.constructor as Int32ArrayConstructor | Float64ArrayConstructor)(old.length * 2);
      bigger.set(old as never);
      (out as Record<string, Int32Array | Float64Array>)[key] = bigger;
    }
  };

  // The depth-first stack, as parallel arrays of numbers (one shape, no objects).
  const stStart: number[] = [0];
  const stEnd: number[] = [n];
  const stDepth: number[] = [0];
  const stParent: number[] = [-1];
  const stLeft: number[] = [0];
  const stImpurity: number[] = [Infinity];
  const stStats: number[] = [0];
  let first = true;

  while (stStart.length > 0) {
    const start = stStart.pop()!;
    const end = stEnd.pop()!;
    const depth = stDepth.pop()!;
    const parent = stParent.pop()!;
    const isLeft = stLeft.pop()! === 1;
    const frameImpurity = stImpurity.pop()!;
    const statsFeature = stStats.pop()!;
    const nodeSamples = end - start;

    // Weighted size and class-1 mass of the node, from a feature whose segment holds exactly
    // this node's samples (all of them do, unless the parent skipped partitioning: see below).
    const idx0 = sIdx[statsFeature]!;
    let wNode: number;
    let c1Node: number;
    if (w === null) {
      wNode = nodeSamples;
      c1Node = kern ? kern.classOnes(idx0.byteOffset, base + at.y, start, end) : classOnes(idx0, y, start, end);
    } else {
      weightedMass(idx0, y, w, start, end, two);
      wNode = two[0]!;
      c1Node = two[1]!;
    }

    let isLeaf = depth >= maxDepth || nodeSamples < minSamplesSplit || nodeSamples < 2 * minSamplesLeaf;
    // The root's impurity is computed here; a child's comes from its parent's split, as in scikit-learn.
    const impurity = first ? impurityOf(criterion, wNode, c1Node) : frameImpurity;
    first = false;
    isLeaf = isLeaf || impurity <= EPSILON;

    let bestFeature = -1;
    let bestPos = end;
    let bestThreshold = NaN;
    let impLeft = 0;
    let impRight = 0;
    if (!isLeaf) {
      let bestProxy = -Infinity;
      for (let f = 0; f < nFeatures; f++) {
        const vals = sVal[f]!;
        const idx = sIdx[f]!;
        if (vals[end - 1]! <= vals[start]! + FEATURE_THRESHOLD) continue; // constant here
        // The common case (no weights, log_loss) gets its own tight loop: table lookups only.
        let pos: number;
        if (w === null && xlx !== null) {
          if (kern) {
            pos = kern.scan(vals.byteOffset, idx.byteOffset, base + at.y, base + at.xlx, start, end, minSamplesLeaf, wNode, c1Node, bestProxy, base + at.out);
            scanProxy = scanBest![0]!;
          } else pos = scanUnweightedTable(vals, idx, y, xlx, start, end, minSamplesLeaf, wNode, c1Node, bestProxy);
        } else pos = scanGeneral(vals, idx, y, w, xlx, criterion, start, end, minSamplesLeaf, wNode, c1Node, bestProxy);
        if (pos >= 0) {
          bestProxy = scanProxy;
          bestFeature = f;
          bestPos = pos;
          let t = vals[pos - 1]! / 2 + vals[pos]! / 2;
          if (t === vals[pos]! || !Number.isFinite(t)) t = vals[pos - 1]!;
          bestThreshold = t;
        }
      }
      if (bestPos < end) {
        const idx = sIdx[bestFeature]!;
        let wL: number;
        let cL: number;
        if (w === null) {
          wL = bestPos - start;
          cL = kern ? kern.classOnes(idx.byteOffset, base + at.y, start, bestPos) : classOnes(idx, y, start, bestPos);
        } else {
          weightedMass(idx, y, w, start, bestPos, two);
          wL = two[0]!;
          cL = two[1]!;
        }
        const wR = wNode - wL;
        impLeft = impurityOf(criterion, wL, cL);
        impRight = impurityOf(criterion, wR, c1Node - cL);
        const improvement = (wNode / totalWeight) * (impurity - (wR / wNode) * impRight - (wL / wNode) * impLeft);
        if (improvement + EPSILON < minImpurityDecrease) isLeaf = true;
      } else {
        isLeaf = true;
      }
    }

    if (nodeCount === out.left.length) grow();
    const id = nodeCount++;
    if (parent >= 0) {
      if (isLeft) out.left[parent] = id;
      else out.right[parent] = id;
    }
    out.left[id] = -1;
    out.right[id] = -1;
    out.feature[id] = isLeaf ? -1 : bestFeature;
    out.threshold[id] = isLeaf ? NaN : bestThreshold;
    out.count[id] = nodeSamples;
    out.weight[id] = wNode;
    out.share[id] = wNode / totalWeight;
    out.value[id] = wNode > 0 ? c1Node / wNode : 0.5;
    out.impurity[id] = impurity;

    if (!isLeaf) {
      // Stable partition of every feature's segment into [left | right]. When both children are
      // certain to be leaves, only the split feature's segment (already partitioned) is needed.
      const leftLeaf = depth + 1 >= maxDepth || bestPos - start < Math.max(minSamplesSplit, 2 * minSamplesLeaf);
      const rightLeaf = depth + 1 >= maxDepth || end - bestPos < Math.max(minSamplesSplit, 2 * minSamplesLeaf);
      if (!(leftLeaf && rightLeaf)) {
        if (kern) {
          kern.markSides(sIdx[bestFeature]!.byteOffset, base + at.goesLeft, start, end, bestPos);
          for (let f = 0; f < nFeatures; f++) {
            if (f !== bestFeature) kern.partition(sIdx[f]!.byteOffset, sVal[f]!.byteOffset, base + at.goesLeft, start, end, base + at.tmpIdx, base + at.tmpVal);
          }
        } else {
          markSides(sIdx[bestFeature]!, goesLeft!, start, end, bestPos);
          for (let f = 0; f < nFeatures; f++) {
            if (f !== bestFeature) partitionSegment(sIdx[f]!, sVal[f]!, goesLeft!, start, end, tmpIdx!, tmpVal!);
          }
        }
      }
      stStart.push(bestPos, start);
      stEnd.push(end, bestPos);
      stDepth.push(depth + 1, depth + 1);
      stParent.push(id, id);
      stLeft.push(0, 1);
      stImpurity.push(impRight, impLeft);
      stStats.push(bestFeature, bestFeature);
    }
  }

  const trim = <T extends Int32Array | Float64Array>(a: T): T => a.slice(0, nodeCount) as T;
  return {
    nodeCount,
    left: trim(out.left),
    right: trim(out.right),
    feature: trim(out.feature),
    threshold: trim(out.threshold),
    count: trim(out.count),
    weight: trim(out.weight),
    share: trim(out.share),
    value: trim(out.value),
    impurity: trim(out.impurity),
  };
}

/** The engine's per-sample scratch, kept for the next fit of the same size (bootstrap refits fit 100 trees of one size). */
let work: { n: number; goesLeft: Uint8Array; tmpIdx: Int32Array; tmpVal: Float64Array } | null = null;

function workspace(n: number): NonNullable<typeof work> {
  if (work && work.n === n) return work;
  const w = { n, goesLeft: new Uint8Array(n), tmpIdx: new Int32Array(n), tmpVal: new Float64Array(n) };
  if (n <= 1 << 21) work = w; // kept up to ~27 MB
  return w;
}

/** The first-seen minimum (sign -1) or maximum (sign 1) of column f, as `if (v < lo) lo = v` over the rows. */
function columnExtreme(X: Float64Array, nFeatures: number, f: number, n: number, sign: number): number {
  let e = sign < 0 ? Infinity : -Infinity;
  for (let i = 0; i < n; i++) {
    const v = X[i * nFeatures + f]!;
    if (sign < 0 ? v < e : v > e) e = v;
  }
  return e;
}

/** Writes the weights' sum into out[0]; returns whether every weight is an integer. */
function weightTotal(w: Float64Array, n: number, out: Float64Array): boolean {
  let total = 0;
  let integer = true;
  for (let i = 0; i < n; i++) {
    const wi = w[i]!;
    total += wi;
    if (wi !== Math.floor(wi)) integer = false;
  }
  out[0] = total;
  return integer;
}

/** The k*log2(k) table, kept between fits (entries never change; repeated fits of one size, e.g. bootstrap refits, reuse it). */
let xlxCache: Float64Array | null = null;

/** k*log2(k) for k = 0 .. size-1 (at least). */
function xlog2xTable(size: number): Float64Array {
  if (xlxCache && xlxCache.length >= size) return xlxCache;
  const t = new Float64Array(size);
  for (let k = 1; k < size; k++) t[k] = k * (Math.log(k) / LOG2);
  if (size <= 1 << 20) xlxCache = t; // keep at most 8 MB
  return t;
}

/** Class-1 rows among positions [start, end) of a feature's order. */
function classOnes(idx: Int32Array, y: Uint8Array, start: number, end: number): number {
  let c = 0;
  for (let p = start; p < end; p++) c += y[idx[p]!]!;
  return c;
}

/** Weighted size (out[0]) and class-1 mass (out[1]) of positions [start, end). */
function weightedMass(idx: Int32Array, y: Uint8Array, w: Float64Array, start: number, end: number, out: Float64Array): void {
  let wSum = 0;
  let c1 = 0;
  for (let p = start; p < end; p++) {
    const i = idx[p]!;
    wSum += w[i]!;
    c1 += w[i]! * y[i]!;
  }
  out[0] = wSum;
  out[1] = c1;
}

/** goesLeft[sample] for the samples of [start, end): 1 before the split position. */
function markSides(idx: Int32Array, goesLeft: Uint8Array, start: number, end: number, pos: number): void {
  for (let p = start; p < end; p++) goesLeft[idx[p]!] = p < pos ? 1 : 0;
}

/** Stable partition of one feature's segment [start, end) into [left | right] by goesLeft. */
function partitionSegment(idx: Int32Array, vals: Float64Array, goesLeft: Uint8Array, start: number, end: number, tmpIdx: Int32Array, tmpVal: Float64Array): void {
  let l = start;
  let r = 0;
  for (let p = start; p < end; p++) {
    const i = idx[p]!;
    if (goesLeft[i] === 1) {
      idx[l] = i;
      vals[l] = vals[p]!;
      l++;
    } else {
      tmpIdx[r] = i;
      tmpVal[r] = vals[p]!;
      r++;
    }
  }
  idx.set(tmpIdx.subarray(0, r), l);
  vals.set(tmpVal.subarray(0, r), l);
}

/**
 * The proxy of the last scan's best position. A module variable, not an out-parameter: a store
 * below a hot loop has no type feedback when V8 replaces the loop with optimised code on the
 * stack, and every call would bail out there.
 */
let scanProxy = 0;

/**
 * Scans one feature's segment for the best split: unweighted rows, log_loss via the k*log2(k)
 * table. Returns the best position (or -1 when none beats `bestSoFar`), its proxy in `scanProxy`.
 */
function scanUnweightedTable(
  vals: Float64Array,
  idx: Int32Array,
  y: Uint8Array,
  xlx: Float64Array,
  start: number,
  end: number,
  minLeaf: number,
  wNode: number,
  c1Node: number,
  bestSoFar: number,
): number {
  let best = bestSoFar;
  let pos = -1;
  let cL = 0;
  const lo = start + minLeaf;
  const hi = end - minLeaf;
  // One loop (positions before the first allowed one only accumulate): a second loop that
  // rarely runs leaves V8 no type feedback for it, and optimised code would bail out there.
  for (let p = start + 1; p <= hi; p++) {
    cL += y[idx[p - 1]!]!;
    if (p < lo || vals[p]! <= vals[p - 1]! + FEATURE_THRESHOLD) continue;
    const wL = p - start;
    const wR = wNode - wL;
    const cR = c1Node - cL;
    const proxy = -(xlx[wL]! - xlx[wL - cL]! - xlx[cL]!) - (xlx[wR]! - xlx[wR - cR]! - xlx[cR]!);
    if (proxy > best) {
      best = proxy;
      pos = p;
    }
  }
  scanProxy = best;
  return pos;
}

/** Scans one feature's segment for the best split: any weights, any criterion (as {@link scanUnweightedTable}). */
function scanGeneral(
  vals: Float64Array,
  idx: Int32Array,
  y: Uint8Array,
  w: Float64Array | null,
  xlx: Float64Array | null,
  criterion: Criterion,
  start: number,
  end: number,
  minLeaf: number,
  wNode: number,
  c1Node: number,
  bestSoFar: number,
): number {
  let best = bestSoFar;
  let pos = -1;
  let wL = 0;
  let cL = 0;
  for (let p = start + 1; p < end; p++) {
    const i = idx[p - 1]!;
    const wi = w === null ? 1 : w[i]!;
    wL += wi;
    cL += wi * y[i]!;
    if (vals[p]! <= vals[p - 1]! + FEATURE_THRESHOLD) continue;
    if (p - start < minLeaf || end - p < minLeaf) continue;
    const wR = wNode - wL;
    const cR = c1Node - cL;
    const proxy =
      xlx !== null
        ? -(xlx[wL]! - xlx[wL - cL]! - xlx[cL]!) - (xlx[wR]! - xlx[wR - cR]! - xlx[cR]!)
        : -wR * impurityOf(criterion, wR, cR) - wL * impurityOf(criterion, wL, cL);
    if (proxy > best) {
      best = proxy;
      pos = p;
    }
  }
  scanProxy = best;
  return pos;
}

// ---- The passes over the samples as WebAssembly kernels ----------------------------------
//
// For the same reason as the presort (argsort.ts): compiled before their first call, they skip
// the interpreter phase a fresh process spends on each JavaScript loop. They work in the
// presort's memory (imported), on the arrays it leaves there, and do exactly the arithmetic of
// the JavaScript functions above (which remain the fallback): the same integer counts, the
// same float64 operations in the same order, so the trees are identical.

interface CartKernels {
  classOnes(idx: number, y: number, start: number, end: number): number;
  markSides(idx: number, goesLeft: number, start: number, end: number, pos: number): void;
  partition(idx: number, vals: number, goesLeft: number, start: number, end: number, tmpIdx: number, tmpVal: number): void;
  scan(vals: number, idx: number, y: number, xlx: number, start: number, end: number, minLeaf: number, wNode: number, c1Node: number, bestSoFar: number, out: number): number;
}

/** [base + i * 4] (i32 element address). */
const el4 = (base: number, i: number[]): number[] => [...op.get(base), ...i, ...op.c(2), ...op.shl, ...op.add];
/** [base + i * 8] (f64 element address). */
const el8 = (base: number, i: number[]): number[] => [...op.get(base), ...i, ...op.c(3), ...op.shl, ...op.add];

function classOnesKernel(): number[] {
  const [idx, y, start, end, p, c] = [0, 1, 2, 3, 4, 5];
  return [
    ...op.get(start), ...op.set(p),
    ...forRange(p, end, [...op.get(c), ...op.get(y), ...el4(idx, op.get(p)), ...op.load(), ...op.add, ...op.load8(), ...op.add, ...op.set(c)]),
    ...op.get(c),
  ];
}

function markSidesKernel(): number[] {
  const [idx, goesLeft, start, end, pos, p] = [0, 1, 2, 3, 4, 5];
  return [
    ...op.get(start), ...op.set(p),
    ...forRange(p, end, [...op.get(goesLeft), ...el4(idx, op.get(p)), ...op.load(), ...op.add, ...op.get(p), ...op.get(pos), ...op.ltS, ...op.store8()]),
  ];
}

function partitionKernel(): number[] {
  const [idx, vals, goesLeft, start, end, tmpIdx, tmpVal, p, l, r, i, q, v] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  return [
    ...op.get(start), ...op.tee(p), ...op.set(l),
    ...forRange(p, end, [
      ...el4(idx, op.get(p)), ...op.load(), ...op.set(i),
      ...el8(vals, op.get(p)), ...op.f64load(), ...op.set(v),
      ...op.get(goesLeft), ...op.get(i), ...op.add, ...op.load8(),
      ...op.if,
      ...el4(idx, op.get(l)), ...op.get(i), ...op.store(),
      ...el8(vals, op.get(l)), ...op.get(v), ...op.f64store(),
      ...op.get(l), ...op.c(1), ...op.add, ...op.set(l),
      ...op.else,
      ...el4(tmpIdx, op.get(r)), ...op.get(i), ...op.store(),
      ...el8(tmpVal, op.get(r)), ...op.get(v), ...op.f64store(),
      ...op.get(r), ...op.c(1), ...op.add, ...op.set(r),
      ...op.end,
    ]),
    // The right side after the left, in order.
    ...forRange(q, r, [
      ...el4(idx, [...op.get(l), ...op.get(q), ...op.add]), ...el4(tmpIdx, op.get(q)), ...op.load(), ...op.store(),
      ...el8(vals, [...op.get(l), ...op.get(q), ...op.add]), ...el8(tmpVal, op.get(q)), ...op.f64load(), ...op.f64store(),
    ]),
  ];
}

function scanKernel(): number[] {
  const [vals, idx, y, xlx, start, end, minLeaf, wNode, c1Node, bestSoFar, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [p, cL, lo, last, pos, wL, wR, cR, best, proxy] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  const table = (i: number[]): number[] => [...el8(xlx, i), ...op.f64load()];
  const pm1 = [...op.get(p), ...op.c(1), ...op.sub];
  return [
    ...op.get(bestSoFar), ...op.set(best),
    ...op.c(-1), ...op.set(pos),
    ...op.get(start), ...op.get(minLeaf), ...op.add, ...op.set(lo),
    ...op.get(end), ...op.get(minLeaf), ...op.sub, ...op.c(1), ...op.add, ...op.set(last), // p <= end - minLeaf
    ...op.get(start), ...op.c(1), ...op.add, ...op.set(p),
    ...forRange(p, last, [
      ...op.get(cL), ...op.get(y), ...el4(idx, pm1), ...op.load(), ...op.add, ...op.load8(), ...op.add, ...op.set(cL),
      ...op.get(p), ...op.get(lo), ...op.ltS, 0x0d, 0, // p < lo: next
      ...el8(vals, op.get(p)), ...op.f64load(), ...el8(vals, pm1), ...op.f64load(), ...op.f64(FEATURE_THRESHOLD), ...op.f64add, ...op.f64le, 0x0d, 0, // not a new value: next
      ...op.get(p), ...op.get(start), ...op.sub, ...op.set(wL),
      ...op.get(wNode), ...op.get(wL), ...op.sub, ...op.set(wR),
      ...op.get(c1Node), ...op.get(cL), ...op.sub, ...op.set(cR),
      // -(xlx[wL] - xlx[wL - cL] - xlx[cL]) - (xlx[wR] - xlx[wR - cR] - xlx[cR])
      ...table(op.get(wL)), ...table([...op.get(wL), ...op.get(cL), ...op.sub]), ...op.f64sub, ...table(op.get(cL)), ...op.f64sub, ...op.f64neg,
      ...table(op.get(wR)), ...table([...op.get(wR), ...op.get(cR), ...op.sub]), ...op.f64sub, ...table(op.get(cR)), ...op.f64sub, ...op.f64sub,
      ...op.set(proxy),
      ...op.get(proxy), ...op.get(best), ...op.f64gt,
      ...op.if, ...op.get(proxy), ...op.set(best), ...op.get(p), ...op.set(pos), ...op.end,
    ]),
    ...op.get(out), ...op.get(best), ...op.f64store(),
    ...op.get(pos),
  ];
}

/** The kernels' module bytes; test/presort.test.ts holds {@link CART_WASM} to them. */
export function assembleCartWasm(): Uint8Array {
  const i32s = (k: number): number[] => Array.from({ length: k }, () => I32);
  return assembleModule([
    { name: 'classOnes', params: i32s(4), results: [I32], locals: i32s(2), body: classOnesKernel() },
    { name: 'markSides', params: i32s(5), results: [], locals: i32s(1), body: markSidesKernel() },
    { name: 'partition', params: i32s(7), results: [], locals: [...i32s(5), F64], body: partitionKernel() },
    { name: 'scan', params: [...i32s(9), F64, I32], results: [I32], locals: [...i32s(8), F64, F64], body: scanKernel() },
  ], 'import');
}

/** {@link assembleCartWasm}'s output, stored (base64). */
export const CART_WASM =
  'AGFzbQEAAAABKgRgBH9/f38Bf2AFf39/f38AYAd/f39/f39/AGALf39/f39/f39/fH8BfwIPAQNlbnYGbWVtb3J5AgABAwUEAAECAwcsBAljbGFzc09uZXMAAAltYXJrU2lkZXMAAQlwYXJ0aXRpb24AAgRzY2FuAAMKgAUEPwIBfwF/IAIhBAJAIAQgA0hFDQADQAJAIAUgASAAIARBAnRqKAIAai0AAGohBQsgBEEBaiIEIANIDQALCyAFCzsBAX8gAiEFAkAgBSADSEUNAANAAkAgASAAIAVBAnRqKAIAaiAFIARIOgAACyAFQQFqIgUgA0gNAAsLC+gBBgF/AX8BfwF/AX8BfCADIgchCAJAIAcgBEhFDQADQAJAIAAgB0ECdGooAgAhCiABIAdBA3RqKwMAIQwgAiAKai0AAARAIAAgCEECdGogCjYCACABIAhBA3RqIAw5AwAgCEEBaiEIBSAFIAlBAnRqIAo2AgAgBiAJQQN0aiAMOQMAIAlBAWohCQsLIAdBAWoiByAESA0ACwsCQCALIAlIRQ0AA0ACQCAAIAggC2pBAnRqIAUgC0ECdGooAgA2AgAgASAIIAtqQQN0aiAGIAtBA3RqKwMAOQMACyALQQFqIgsgCUgNAAsLC5cCCgF/AX8BfwF/AX8BfwF/AX8BfAF8IAkhE0F/IQ8gBCAGaiENIAUgBmtBAWohDiAEQQFqIQsCQCALIA5IRQ0AA0ACQCAMIAIgASALQQFrQQJ0aigCAGotAABqIQwgCyANSA0AIAAgC0EDdGorAwAgACALQQFrQQN0aisDAERIr7ya8td6PqBlDQAgCyAEayEQIAcgEGshESAIIAxrIRIgAyAQQQN0aisDACADIBAgDGtBA3RqKwMAoSADIAxBA3RqKwMAoZogAyARQQN0aisDACADIBEgEmtBA3RqKwMAoSADIBJBA3RqKwMAoaEhFCAUIBNkBEAgFCETIAshDwsLIAtBAWoiCyAOSA0ACwsgCiATOQMAIA8L';

let kernels: CartKernels | null | undefined;

/** The kernels, sharing the presort's memory; null where WebAssembly is unavailable. */
function cartKernels(): CartKernels | null {
  if (kernels === undefined) {
    const sort = radixWasm();
    try {
      kernels = sort ? (instantiate(CART_WASM, { env: { memory: sort.memory } }) as CartKernels) : null;
    } catch {
      kernels = null;
    }
  }
  return kernels;
}
