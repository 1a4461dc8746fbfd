/**
 * `PreferenceTree`: the fitted tree over attribute differences a − b (fit, predictProba, apply, decisionPath,
 * exportText, files), and the shipped trees by name.
 *
 * May import: its own folder (tree/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never head/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ATTRIBUTES,
  ATTRIBUTE_COUNT,
  attributeIndex,
  checkAttributeScores,
  fromVector,
  type Attribute,
  type AttributeScores,
} from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import { decodeUtf8 } from '../io/utf8.js';
import { writeFileAtomic } from '../io/atomic.js';
import { makeProvenance, type Provenance } from '../provenance.js';
import { fitCart, impurityOf, type CartParams, type Criterion, type TreeArrays } from './cart.js';
import {
  serializeTreeFile,
  TREE_FORMAT,
  TREE_FORMAT_VERSION,
  TREE_SEMANTICS,
  validateTreeFile,
  type TreeFile,
  type TreeFileMetrics,
  type TreeFileNode,
  type TreeFileParams,
} from './file.js';
import { exportText, type ExportTextOptions } from './export-text.js';

/** A labelled pair of attribute-score vectors: `label` says which response was preferred. */
export interface PreferencePair {
  a: AttributeScores;
  b: AttributeScores;
  label: 'a' | 'b';
}

/** Options of {@link PreferenceTree.fit} and {@link PreferenceTree.fitArrays}. Defaults follow the published trees. */
export interface FitOptions {
  /** Split criterion (default `log_loss`, as the published trees). */
  criterion?: Criterion;
  /** Maximum depth (default 3). */
  maxDepth?: number;
  /** Minimum rows to split a node (default 2). */
  minSamplesSplit?: number;
  /** Minimum rows in each leaf (default 1). */
  minSamplesLeaf?: number;
  /** A split must decrease weighted impurity by at least this much (default 0). */
  minImpurityDecrease?: number;
  /** Non-negative weight per row. */
  sampleWeight?: ArrayLike<number>;
  /** Name written into the tree file (default `unnamed`). */
  name?: string;
  description?: string;
  /** How the tree was made; defaults to "fitted through the API". */
  provenance?: Provenance;
  /** Figures to record with the tree (accuracy, log loss...). */
  metrics?: TreeFileMetrics;
}

/** One test on a root-to-leaf path. */
export interface PathStep {
  /** Node id (pre-order; 0 is the root). */
  node: number;
  attribute: Attribute;
  /** The input's difference `a - b` for this attribute. */
  delta: number;
  threshold: number;
  /** `left` when `delta <= threshold`. */
  went: 'left' | 'right';
  /** Weighted training pairs at the node (null when unknown). */
  samples: number | null;
  /** Share of training pairs at the node. */
  share: number;
  /** P(a preferred) at the node, before this test. */
  probability: number;
}

/** The leaf a path ends in. */
export interface LeafInfo {
  node: number;
  samples: number | null;
  share: number;
  /** P(a preferred) at the leaf. */
  probability: number;
}

const DEFAULTS = { criterion: 'log_loss' as Criterion, maxDepth: 3, minSamplesSplit: 2, minSamplesLeaf: 1, minImpurityDecrease: 0 };

/**
 * A fitted, immutable preference tree over attribute differences `a - b`.
 * `x <= threshold` goes left; probabilities are P(response a preferred).
 *
 * @example
 * ```ts
 * const tree = PreferenceTree.load('rlhflow-llama-3.1-8b');
 * const delta = { helpfulness: 1.79, correctness: 1.77, coherence: 0.65, complexity: 0.11, verbosity: 0.03 };
 * tree.predictProba(delta); // 0.986
 * tree.decisionPath(delta).map((s) => `${s.attribute} ${s.went === 'left' ? '<=' : '>'} ${s.threshold}`);
 * // ['helpfulness > 0.019', 'correctness > 0.303', 'helpfulness > 1.121']
 * ```
 */
export class PreferenceTree {
  readonly name: string;
  readonly description: string;
  readonly criterion: Criterion;
  readonly params: Readonly<TreeFileParams>;
  readonly ranges: Readonly<Record<Attribute, readonly [number, number]>> | null;
  readonly metrics: Readonly<TreeFileMetrics> | null;
  readonly provenance: Readonly<Provenance>;
  /** Warnings from fitting (e.g. only one class in the data). */
  readonly warnings: readonly string[];
  /** Node arrays (read-only by convention; indices are attribute positions in {@link ATTRIBUTES}). */
  readonly arrays: Readonly<TreeArrays>;
  private readonly value0: Float64Array;
  private readonly importances: AttributeScores;

  private constructor(init: {
    name: string;
    description: string;
    criterion: Criterion;
    params: TreeFileParams;
    ranges: Record<Attribute, [number, number]> | null;
    metrics: TreeFileMetrics | null;
    provenance: Provenance;
    arrays: TreeArrays;
    value0: Float64Array;
    importances?: AttributeScores;
    warnings?: string[];
  }) {
    this.name = init.name;
    this.description = init.description;
    this.criterion = init.criterion;
    this.params = Object.freeze({ ...init.params });
    this.ranges = init.ranges;
    this.metrics = init.metrics;
    this.provenance = init.provenance;
    this.arrays = init.arrays;
    this.value0 = init.value0;
    this.importances = init.importances ?? computeImportances(init.arrays, init.criterion);
    this.warnings = Object.freeze([...(init.warnings ?? [])]);
  }

  /**
   * Fits a tree on labelled pairs; features are `a - b`.
   * @throws TypeError/RangeError naming the bad pair (`pairs[3].a: missing attribute 'verbosity'`).
   *
   * @example
   * ```ts
   * const tree = PreferenceTree.fit([
   *   { a: { helpfulness: 4, correctness: 4, coherence: 4, complexity: 2, verbosity: 2 },
   *     b: { helpfulness: 1, correctness: 2, coherence: 3, complexity: 2, verbosity: 1 }, label: 'a' },
   *   // ...
   * ], { maxDepth: 3 });
   * ```
   */
  static fit(pairs: readonly PreferencePair[], options: FitOptions = {}): PreferenceTree {
    if (!Array.isArray(pairs)) throw new TypeError(`pairs must be an array of {a, b, label}, got ${typeof pairs}`);
    if (pairs.length === 0) throw new RangeError('pairs is empty: at least one labelled pair is needed');
    const n = pairs.length;
    const deltas = new Float64Array(n * ATTRIBUTE_COUNT);
    const labels = new Uint8Array(n);
    pairs.forEach((pair, i) => {
      if (pair === null || typeof pair !== 'object') throw new TypeError(`pairs[${i}] must be an object {a, b, label}`);
      for (const side of ['a', 'b'] as const) {
        const problems = checkAttributeScores(pair[side]);
        if (problems.length > 0) {
          const msg = `pairs[${i}].${side}: ${problems.map((p) => p.message).join('; ')}`;
          throw problems.every((p) => p.message.includes('must be finite')) ? new RangeError(msg) : new TypeError(msg);
        }
      }
      if (pair.label !== 'a' && pair.label !== 'b')
        throw new TypeError(`pairs[${i}].label must be 'a' or 'b', got ${JSON.stringify(pair.label)}`);
      for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
        const name = ATTRIBUTES[k]!;
        deltas[i * ATTRIBUTE_COUNT + k] = pair.a[name] - pair.b[name];
      }
      labels[i] = pair.label === 'a' ? 1 : 0;
    });
    return PreferenceTree.fitArrays(deltas, labels, options);
  }

  /**
   * Fast path: fits on typed arrays. `deltas` is n x 5 row-major (`a - b`, attributes in
   * {@link ATTRIBUTES} order); `labels[i]` is 1 when a was preferred, 0 when b was.
   *
   * @example
   * ```ts
   * const tree = PreferenceTree.fitArrays(new Float64Array([1, 1, 0, 0, 0, -1, -1, 0, 0, 0]), new Uint8Array([1, 0]));
   * tree.predictProba([0.5, 0.5, 0, 0, 0]); // 1
   * ```
   */
  static fitArrays(deltas: Float64Array, labels: Uint8Array, options: FitOptions = {}): PreferenceTree {
    const params = checkFitOptions(options);
    const n = checkArrays(deltas, labels);
    let weights: Float64Array | null = null;
    if (options.sampleWeight !== undefined) {
      const sw = options.sampleWeight;
      if (sw === null || typeof sw !== 'object' || typeof sw.length !== 'number')
        throw new TypeError('sampleWeight must be an array of numbers');
      if (sw.length !== n) throw new RangeError(`sampleWeight has ${sw.length} values but there are ${n} rows`);
      weights = new Float64Array(n);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const v = sw[i];
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
          throw new RangeError(`sampleWeight[${i}] must be a finite number >= 0, got ${v}`);
        weights[i] = v;
        total += v;
      }
      if (!(total > 0)) throw new RangeError('sampleWeight sums to 0: at least one row needs a positive weight');
    }
    const warnings: string[] = [];
    let ones = 0;
    for (let i = 0; i < n; i++) ones += labels[i]!;
    if (ones === 0 || ones === n) {
      warnings.push(`every pair has label '${ones === 0 ? 'b' : 'a'}': only one class, so the tree is a single leaf`);
    }
    // scikit-learn leaves zero-weight rows out of a tree entirely (no thresholds next to them,
    // not counted in samples); so does this engine.
    let x = deltas;
    let y = labels;
    if (weights !== null && weights.includes(0)) {
      const keep: number[] = [];
      for (let i = 0; i < n; i++) if (weights[i]! > 0) keep.push(i);
      x = new Float64Array(keep.length * ATTRIBUTE_COUNT);
      y = new Uint8Array(keep.length);
      const w = new Float64Array(keep.length);
      keep.forEach((i, j) => {
        x.set(deltas.subarray(i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT), j * ATTRIBUTE_COUNT);
        y[j] = labels[i]!;
        w[j] = weights![i]!;
      });
      weights = w;
    }
    const extremes = new Float64Array(2 * ATTRIBUTE_COUNT); // each attribute's [min, max] over the rows, from the engine's presort
    const arrays = fitCart(x, ATTRIBUTE_COUNT, y, weights, params, extremes);
    const ranges = {} as Record<Attribute, [number, number]>;
    ATTRIBUTES.forEach((name, k) => (ranges[name] = [extremes[2 * k]!, extremes[2 * k + 1]!]));
    const value0 = new Float64Array(arrays.nodeCount);
    for (let i = 0; i < arrays.nodeCount; i++) value0[i] = 1 - arrays.value[i]!;
    return new PreferenceTree({
      name: options.name ?? 'unnamed',
      description: options.description ?? '',
      criterion: params.criterion,
      params: {
        maxDepth: params.maxDepth,
        minSamplesSplit: params.minSamplesSplit,
        minSamplesLeaf: params.minSamplesLeaf,
        minImpurityDecrease: params.minImpurityDecrease,
        weighted: weights !== null,
      },
      ranges,
      metrics: options.metrics ?? null,
      provenance: options.provenance ?? makeProvenance('fitted through the PreferenceTree API', [], null),
      arrays,
      value0,
      warnings,
    });
  }

  /**
   * Builds a tree from a tree-file object (e.g. `JSON.parse` of trees/*.json).
   * @throws DtrError `E_INVALID_ARTIFACT` listing every problem with its JSON path.
   */
  static fromJSON(json: unknown, source = 'tree'): PreferenceTree {
    const result = PreferenceTree.safeFromJSON(json);
    if (!result.success) {
      throw new DtrError(
        'E_INVALID_ARTIFACT',
        `${source} is not a valid tree file (${result.issues.length} problem${result.issues.length === 1 ? '' : 's'})`,
        {
          issues: result.issues,
        },
      );
    }
    return result.tree;
  }

  /** Non-throwing twin of {@link fromJSON}: `{ success: true, tree }` or `{ success: false, issues }`. */
  static safeFromJSON(json: unknown): { success: true; tree: PreferenceTree } | { success: false; issues: Issue[] } {
    const check = validateTreeFile(json);
    if (!check.success) return check;
    const file = check.file;
    const n = file.nodes.length;
    const arrays: TreeArrays = {
      nodeCount: n,
      left: new Int32Array(n),
      right: new Int32Array(n),
      feature: new Int32Array(n),
      threshold: new Float64Array(n),
      count: new Float64Array(n).fill(NaN),
      weight: new Float64Array(n),
      share: new Float64Array(n),
      value: new Float64Array(n),
      impurity: new Float64Array(n),
    };
    const value0 = new Float64Array(n);
    file.nodes.forEach((node, i) => {
      arrays.left[i] = node.left ?? -1;
      arrays.right[i] = node.right ?? -1;
      arrays.feature[i] = node.feature === null ? -1 : attributeIndex(node.feature);
      arrays.threshold[i] = node.threshold ?? NaN;
      arrays.weight[i] = node.samples ?? NaN;
      arrays.share[i] = node.share;
      arrays.value[i] = node.value[1];
      value0[i] = node.value[0];
      arrays.impurity[i] = node.impurity ?? NaN;
    });
    const ranges =
      file.ranges === null
        ? null
        : (Object.fromEntries(ATTRIBUTES.map((a) => [a, file.ranges![a]])) as Record<Attribute, [number, number]>);
    const importances = Object.fromEntries(ATTRIBUTES.map((a) => [a, file.importances[a]])) as AttributeScores;
    return {
      success: true,
      tree: new PreferenceTree({
        name: file.name,
        description: file.description,
        criterion: file.criterion,
        params: file.params,
        ranges,
        metrics: file.metrics,
        provenance: file.provenance,
        arrays,
        value0,
        importances,
      }),
    };
  }

  /**
   * Loads a tree by shipped name (`rlhflow-llama-3.1-8b`, see {@link listTrees}) or by file path.
   * @throws DtrError `E_NOT_FOUND` (listing the shipped names) or `E_INVALID_ARTIFACT`.
   */
  static load(nameOrPath: string, cwd = process.cwd()): PreferenceTree {
    if (typeof nameOrPath !== 'string' || nameOrPath.trim() === '')
      throw new TypeError('nameOrPath must be a tree name or a path to a tree file');
    const path = resolveTreePath(nameOrPath, cwd);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (cause) {
      throw new DtrError('E_IO', `could not read tree file ${path}: ${(cause as Error).message}`, { cause });
    }
    const text = decodeUtf8(bytes, path);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new DtrError('E_INVALID_ARTIFACT', `${path} is not JSON: ${(cause as Error).message}`, { cause });
    }
    return PreferenceTree.fromJSON(json, path);
  }

  /** Number of nodes. */
  get nodeCount(): number {
    return this.arrays.nodeCount;
  }

  /** Depth of the deepest leaf (a single leaf has depth 0). */
  get depth(): number {
    const { left, right } = this.arrays;
    const walk = (i: number): number => (left[i] === -1 ? 0 : 1 + Math.max(walk(left[i]!), walk(right[i]!)));
    return walk(0);
  }

  /** Ids of the leaves, in pre-order. */
  leaves(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.arrays.nodeCount; i++) if (this.arrays.left[i] === -1) out.push(i);
    return out;
  }

  /** Leaf id that `delta` (an attribute object or a 5-vector in {@link ATTRIBUTES} order) falls into. */
  apply(delta: AttributeScores | ArrayLike<number>): number {
    return this.applyVector(toDeltaVector(delta), 0);
  }

  /** P(a preferred) for one difference vector `a - b`. */
  predictProba(delta: AttributeScores | ArrayLike<number>): number {
    return this.arrays.value[this.apply(delta)]!;
  }

  /**
   * P(a preferred) for n rows of `deltas` (n x 5 row-major).
   * @throws RangeError naming the first non-finite value.
   */
  predictProbaBatch(deltas: Float64Array): Float64Array {
    const n = checkDeltaMatrix(deltas);
    const out = new Float64Array(n);
    const value = this.arrays.value;
    for (let i = 0; i < n; i++) out[i] = value[this.applyVector(deltas, i * ATTRIBUTE_COUNT)]!;
    return out;
  }

  /** Leaf ids for n rows of `deltas` (n x 5 row-major). */
  applyBatch(deltas: Float64Array): Int32Array {
    const n = checkDeltaMatrix(deltas);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.applyVector(deltas, i * ATTRIBUTE_COUNT);
    return out;
  }

  /** The tests met from the root to the leaf, in order (the leaf itself is {@link leafInfo}). */
  decisionPath(delta: AttributeScores | ArrayLike<number>): PathStep[] {
    const x = toDeltaVector(delta);
    const { left, right, feature, threshold, weight, share, value } = this.arrays;
    const steps: PathStep[] = [];
    let node = 0;
    while (left[node] !== -1) {
      const f = feature[node]!;
      const t = threshold[node]!;
      const goLeft = x[f]! <= t;
      steps.push({
        node,
        attribute: ATTRIBUTES[f]!,
        delta: x[f]!,
        threshold: t,
        went: goLeft ? 'left' : 'right',
        samples: Number.isNaN(weight[node]!) ? null : weight[node]!,
        share: share[node]!,
        probability: value[node]!,
      });
      node = goLeft ? left[node]! : right[node]!;
    }
    return steps;
  }

  /** Samples, share and P(a preferred) of a node (usually a leaf from {@link apply}). */
  leafInfo(node: number): LeafInfo {
    if (!Number.isInteger(node) || node < 0 || node >= this.arrays.nodeCount) {
      throw new RangeError(`node must be an integer in [0, ${this.arrays.nodeCount - 1}], got ${node}`);
    }
    const w = this.arrays.weight[node]!;
    return { node, samples: Number.isNaN(w) ? null : w, share: this.arrays.share[node]!, probability: this.arrays.value[node]! };
  }

  /** Impurity-based feature importances (mean decrease in impurity), normalised to sum to 1. */
  featureImportances(): AttributeScores {
    return this.importances;
  }

  /** The thresholds the tree tests on `attribute`, ascending. */
  thresholdsOf(attribute: Attribute): number[] {
    const f = attributeIndex(attribute);
    const out: number[] = [];
    for (let i = 0; i < this.arrays.nodeCount; i++) if (this.arrays.feature[i] === f) out.push(this.arrays.threshold[i]!);
    return out.sort((a, b) => a - b);
  }

  /**
   * The tree as text, in scikit-learn `export_text` style with attribute names and classes `a`/`b`.
   * @example
   * ```ts
   * console.log(PreferenceTree.load('rlhflow-llama-3.1-8b').exportText());
   * // |--- helpfulness <= 0.019
   * // |   |--- helpfulness <= -0.364
   * // ...
   * ```
   */
  exportText(options: ExportTextOptions = {}): string {
    return exportText(this, options);
  }

  /** `[P(b preferred), P(a preferred)]` of a node, exactly as stored. */
  nodeValue(node: number): [number, number] {
    return [this.value0[node]!, this.arrays.value[node]!];
  }

  /** The tree as a tree-file object (see {@link TreeFile}); `JSON.stringify` it or use {@link save}. */
  toJSON(): TreeFile {
    const { left, right, feature, threshold, weight, share, impurity, nodeCount } = this.arrays;
    const nodes: TreeFileNode[] = [];
    for (let i = 0; i < nodeCount; i++) {
      const leaf = left[i] === -1;
      nodes.push({
        id: i,
        feature: leaf ? null : ATTRIBUTES[feature[i]!]!,
        threshold: leaf ? null : threshold[i]!,
        left: leaf ? null : left[i]!,
        right: leaf ? null : right[i]!,
        samples: Number.isNaN(weight[i]!) ? null : weight[i]!,
        share: share[i]!,
        value: this.nodeValue(i),
        impurity: Number.isNaN(impurity[i]!) ? null : impurity[i]!,
      });
    }
    return {
      format: TREE_FORMAT,
      version: TREE_FORMAT_VERSION,
      name: this.name,
      description: this.description,
      attributes: [...ATTRIBUTES],
      classes: ['b', 'a'],
      semantics: TREE_SEMANTICS,
      criterion: this.criterion,
      params: { ...this.params },
      ranges:
        this.ranges === null
          ? null
          : (Object.fromEntries(ATTRIBUTES.map((a) => [a, [...this.ranges![a]]])) as Record<Attribute, [number, number]>),
      importances: { ...this.importances },
      metrics: this.metrics === null ? null : { ...this.metrics },
      nodes,
      provenance: structuredClone(this.provenance) as Provenance,
    };
  }

  /** The tree-file text: deterministic, so the same tree always gives the same bytes. */
  serialize(): string {
    return serializeTreeFile(this.toJSON());
  }

  /** Writes the tree file atomically (temp file + rename): never a partial file. */
  save(path: string): void {
    writeFileAtomic(path, this.serialize());
  }

  /** A copy with other name, description, provenance or metrics. */
  with(changes: { name?: string; description?: string; provenance?: Provenance; metrics?: TreeFileMetrics | null }): PreferenceTree {
    return new PreferenceTree({
      name: changes.name ?? this.name,
      description: changes.description ?? this.description,
      criterion: this.criterion,
      params: { ...this.params },
      ranges: this.ranges as Record<Attribute, [number, number]> | null,
      metrics: changes.metrics === undefined ? this.metrics : changes.metrics,
      provenance: changes.provenance ?? this.provenance,
      arrays: this.arrays,
      value0: this.value0,
      importances: this.importances,
      warnings: [...this.warnings],
    });
  }

  private applyVector(x: ArrayLike<number>, offset: number): number {
    const { left, right, feature, threshold } = this.arrays;
    let node = 0;
    while (left[node] !== -1) node = x[offset + feature[node]!]! <= threshold[node]! ? left[node]! : right[node]!;
    return node;
  }
}

/**
 * The option and part types of {@link PreferenceTree}, by name on the class:
 * `PreferenceTree.FitOptions`, `PreferenceTree.Pair` (a labelled attribute pair), `PreferenceTree.PathStep` ...
 *
 * @example
 * ```ts
 * import { PreferenceTree } from 'decision-tree-reward';
 * const options: PreferenceTree.FitOptions = { maxDepth: 3, seed: 0 };
 * ```
 */
export declare namespace PreferenceTree {
  export type { FitOptions, PreferencePair as Pair, PathStep, LeafInfo, TreeFile as File };
}

/** Impurity-based importances, as scikit-learn's `feature_importances_` (normalised mean decrease in impurity). */
export function computeImportances(arrays: TreeArrays, criterion: Criterion): AttributeScores {
  const { left, right, feature, weight, share, value, impurity, nodeCount } = arrays;
  // Transcribed trees know only shares and probabilities: those suffice, as importances are normalised.
  const w = (i: number): number => (Number.isNaN(weight[i]!) ? share[i]! : weight[i]!);
  const imp = (i: number): number => (Number.isNaN(impurity[i]!) ? impurityOf(criterion, 1, value[i]!) : impurity[i]!);
  const total = new Float64Array(ATTRIBUTE_COUNT);
  for (let i = 0; i < nodeCount; i++) {
    if (left[i] === -1) continue;
    const l = left[i]!;
    const r = right[i]!;
    total[feature[i]!] += w(i) * imp(i) - w(l) * imp(l) - w(r) * imp(r);
  }
  let sum = 0;
  for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
    total[k] = total[k]! / w(0);
    sum += total[k]!;
  }
  if (sum > 0) for (let k = 0; k < ATTRIBUTE_COUNT; k++) total[k] = total[k]! / sum;
  return fromVector(total);
}

/** Names of the trees shipped in trees/. */
export function listTrees(): string[] {
  const dir = shippedTreesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The trees/ folder shipped with this package. */
export function shippedTreesDir(): string {
  // src/tree/ and dist/tree/ are both two levels below the package root.
  return fileURLToPath(new URL('../../trees/', import.meta.url));
}

/** Resolves a tree name or path to a file path; throws `E_NOT_FOUND` listing the shipped names. */
export function resolveTreePath(nameOrPath: string, cwd = process.cwd()): string {
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json') || isAbsolute(nameOrPath);
  if (looksLikePath) {
    const p = resolve(cwd, nameOrPath);
    if (!existsSync(p) || statSync(p).isDirectory()) {
      throw new DtrError('E_NOT_FOUND', `no tree file at ${nameOrPath}`, { hint: `shipped trees: ${listTrees().join(', ')}` });
    }
    return p;
  }
  const shipped = resolve(shippedTreesDir(), `${nameOrPath}.json`);
  if (existsSync(shipped)) return shipped;
  const local = resolve(cwd, nameOrPath);
  if (existsSync(local) && !statSync(local).isDirectory()) return local;
  throw new DtrError('E_NOT_FOUND', `unknown tree '${nameOrPath}'; shipped trees: ${listTrees().join(', ')}`, {
    hint: 'or give a path to a tree file',
  });
}

const FIT_OPTION_KEYS: ReadonlySet<string> = new Set([
  'criterion',
  'maxDepth',
  'minSamplesSplit',
  'minSamplesLeaf',
  'minImpurityDecrease',
  'sampleWeight',
  'name',
  'description',
  'provenance',
  'metrics',
]);

function checkFitOptions(options: FitOptions): CartParams {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  // A misspelled option (max_depth for maxDepth) would otherwise fit with the default silently.
  const unknown = Object.keys(options).filter((k) => !FIT_OPTION_KEYS.has(k) && (options as Record<string, unknown>)[k] !== undefined);
  if (unknown.length > 0) {
    throw new TypeError(
      `unknown fit option${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `'${k}'`).join(', ')}: expected ${[...FIT_OPTION_KEYS].join(', ')}`,
    );
  }
  const p = { ...DEFAULTS };
  if (options.criterion !== undefined) {
    if (options.criterion !== 'log_loss' && options.criterion !== 'gini') {
      throw new TypeError(`options.criterion must be 'log_loss' or 'gini', got ${JSON.stringify(options.criterion)}`);
    }
    p.criterion = options.criterion;
  }
  const int = (key: 'maxDepth' | 'minSamplesSplit' | 'minSamplesLeaf', min: number): void => {
    const v = options[key];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`options.${key} must be an integer, got ${String(v)}`);
    if (v < min) throw new RangeError(`options.${key} must be >= ${min}, got ${v}`);
    p[key] = v;
  };
  int('maxDepth', 1);
  int('minSamplesSplit', 2);
  int('minSamplesLeaf', 1);
  if (options.minImpurityDecrease !== undefined) {
    const v = options.minImpurityDecrease;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new RangeError(`options.minImpurityDecrease must be a finite number >= 0, got ${String(v)}`);
    p.minImpurityDecrease = v;
  }
  if (p.maxDepth > 64) throw new RangeError(`options.maxDepth must be <= 64, got ${p.maxDepth}`);
  return p;
}

function checkArrays(deltas: Float64Array, labels: Uint8Array): number {
  if (!(deltas instanceof Float64Array)) throw new TypeError('deltas must be a Float64Array (n x 5, row-major)');
  if (!(labels instanceof Uint8Array)) throw new TypeError('labels must be a Uint8Array (1 = a preferred, 0 = b preferred)');
  const n = labels.length;
  if (n === 0) throw new RangeError('labels is empty: at least one labelled pair is needed');
  if (deltas.length !== n * ATTRIBUTE_COUNT) {
    throw new RangeError(
      `deltas has ${deltas.length} values; with ${n} labels it must have ${n * ATTRIBUTE_COUNT} (n x ${ATTRIBUTE_COUNT})`,
    );
  }
  checkDeltaMatrix(deltas);
  for (let i = 0; i < n; i++) {
    if (labels[i]! > 1) throw new RangeError(`labels[${i}] must be 0 or 1, got ${labels[i]}`);
  }
  return n;
}

function checkDeltaMatrix(deltas: Float64Array): number {
  if (!(deltas instanceof Float64Array)) throw new TypeError('deltas must be a Float64Array (n x 5, row-major)');
  if (deltas.length % ATTRIBUTE_COUNT !== 0) throw new RangeError(`deltas length ${deltas.length} is not a multiple of ${ATTRIBUTE_COUNT}`);
  for (let i = 0; i < deltas.length; i++) {
    if (!Number.isFinite(deltas[i]!)) {
      const row = Math.floor(i / ATTRIBUTE_COUNT);
      throw new RangeError(`deltas[${i}] (row ${row}, ${ATTRIBUTES[i % ATTRIBUTE_COUNT]}) must be finite, got ${deltas[i]}`);
    }
  }
  return deltas.length / ATTRIBUTE_COUNT;
}

function toDeltaVector(delta: AttributeScores | ArrayLike<number>): ArrayLike<number> {
  if (delta !== null && typeof delta === 'object' && typeof (delta as ArrayLike<number>).length === 'number') {
    const v = delta as ArrayLike<number>;
    if (v.length !== ATTRIBUTE_COUNT)
      throw new RangeError(`delta must have ${ATTRIBUTE_COUNT} values (${ATTRIBUTES.join(', ')}), got ${v.length}`);
    for (let i = 0; i < ATTRIBUTE_COUNT; i++) {
      if (typeof v[i] !== 'number' || !Number.isFinite(v[i]!))
        throw new RangeError(`delta[${i}] (${ATTRIBUTES[i]}) must be a finite number, got ${v[i]}`);
    }
    return v;
  }
  const problems = checkAttributeScores(delta);
  if (problems.length > 0) {
    const msg = `delta: ${problems.map((p) => p.message).join('; ')}`;
    throw problems.every((p) => p.message.includes('must be finite')) ? new RangeError(msg) : new TypeError(msg);
  }
  const rec = delta as AttributeScores;
  return ATTRIBUTES.map((a) => rec[a]);
}
