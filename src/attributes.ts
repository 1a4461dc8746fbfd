/**
 * The attributes: `ATTRIBUTES`, the one source of truth for the five HelpSteer2 attribute names and their
 * order, the `Attribute` type derived from it, score checks and vector helpers.
 *
 * May import: nothing of src/ at its own level (the bottom layer): node: built-ins and the dependencies only.
 * Never util/, errors.ts, version.ts, anything above (io/ ... cli/) (test/import-graph.test.ts).
 */
/**
 * The five HelpSteer2 attributes, in the one order this SDK uses everywhere.
 *
 * This tuple is the single source of truth: types derive from it, vectors are laid out in its
 * order, and every artifact (tree, head, embeddings file) stores the names so loading can check
 * them. Never use a bare index where a name is meant.
 *
 * @example
 * ```ts
 * import { ATTRIBUTES } from 'decision-tree-reward';
 * ATTRIBUTES; // ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity']
 * ```
 */
export const ATTRIBUTES = ['helpfulness', 'correctness', 'coherence', 'complexity', 'verbosity'] as const;

/** One of the five attribute names. */
export type Attribute = (typeof ATTRIBUTES)[number];

/** Number of attributes (5). */
export const ATTRIBUTE_COUNT = ATTRIBUTES.length;

/**
 * A score for each of the five attributes, by name.
 *
 * @example
 * ```ts
 * const a: AttributeScores = { helpfulness: 3.96, correctness: 3.97, coherence: 3.86, complexity: 0.99, verbosity: 1.49 };
 * ```
 */
export type AttributeScores = Readonly<Record<Attribute, number>>;

const INDEX: ReadonlyMap<string, number> = new Map(ATTRIBUTES.map((name, i) => [name, i]));

/** True when `name` is one of the five attribute names. */
export function isAttribute(name: unknown): name is Attribute {
  return typeof name === 'string' && INDEX.has(name);
}

/**
 * Position of an attribute in {@link ATTRIBUTES}.
 * @throws TypeError when `name` is not an attribute.
 */
export function attributeIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) {
    throw new TypeError(`unknown attribute '${name}': expected one of ${ATTRIBUTES.join(', ')}`);
  }
  return i;
}

/** A problem found in an attribute-score object: where it is and what is wrong. */
export interface ScoreProblem {
  /** Attribute name or other key the problem is about ('' for the whole object). */
  key: string;
  message: string;
}

/**
 * Checks that `value` is an object with exactly the five attributes as finite numbers.
 * Returns every problem found (empty when valid); never throws.
 */
export function checkAttributeScores(value: unknown): ScoreProblem[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [{ key: '', message: `expected an object with ${ATTRIBUTES.join(', ')}, got ${describe(value)}` }];
  }
  const problems: ScoreProblem[] = [];
  const record = value as Record<string, unknown>;
  for (const name of ATTRIBUTES) {
    const v = record[name];
    if (v === undefined) problems.push({ key: name, message: `missing attribute '${name}'` });
    else if (typeof v !== 'number') problems.push({ key: name, message: `'${name}' must be a number, got ${describe(v)}` });
    else if (!Number.isFinite(v)) problems.push({ key: name, message: `'${name}' must be finite, got ${v}` });
  }
  for (const key of Object.keys(record)) {
    if (!INDEX.has(key)) {
      problems.push({ key, message: `unknown attribute '${key}': expected only ${ATTRIBUTES.join(', ')}` });
    }
  }
  return problems;
}

/**
 * Validates caller-supplied scores and returns them as a vector in {@link ATTRIBUTES} order.
 * @param param The parameter name used in error messages (e.g. `'a'`).
 * @throws TypeError for a non-object, missing/unknown attribute or non-number; RangeError for NaN/Infinity.
 */
export function toVector(scores: unknown, param: string): Float64Array {
  const problems = checkAttributeScores(scores);
  if (problems.length > 0) {
    const message = `${param}: ${problems.map((p) => p.message).join('; ')}`;
    const onlyRange = problems.every((p) => p.message.includes('must be finite'));
    throw onlyRange ? new RangeError(message) : new TypeError(message);
  }
  const record = scores as AttributeScores;
  const v = new Float64Array(ATTRIBUTE_COUNT);
  for (let i = 0; i < ATTRIBUTE_COUNT; i++) v[i] = record[ATTRIBUTES[i]!];
  return v;
}

/** The inverse of {@link toVector}: a vector in attribute order as a named object. */
export function fromVector(vector: ArrayLike<number>): AttributeScores {
  if (vector.length !== ATTRIBUTE_COUNT) {
    throw new RangeError(`vector: expected ${ATTRIBUTE_COUNT} values (${ATTRIBUTES.join(', ')}), got ${vector.length}`);
  }
  const out = {} as Record<Attribute, number>;
  ATTRIBUTES.forEach((name, i) => {
    out[name] = vector[i]!;
  });
  return out;
}

/**
 * Attribute-wise difference `a - b`, the feature vector a preference tree reads.
 *
 * @example
 * ```ts
 * difference(a, b).helpfulness; // a.helpfulness - b.helpfulness
 * ```
 */
export function difference(a: AttributeScores, b: AttributeScores): AttributeScores {
  const va = toVector(a, 'a');
  const vb = toVector(b, 'b');
  for (let i = 0; i < ATTRIBUTE_COUNT; i++) va[i] = va[i]! - vb[i]!;
  return fromVector(va);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
