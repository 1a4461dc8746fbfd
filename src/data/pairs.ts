/**
 * Attribute pairs: the labelled attribute-score pairs trees are fitted on (JSONL in, parallel arrays out),
 * their selection and swap augmentation.
 *
 * May import: its own folder (data/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/. Never explain/, anything
 * above (eval/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, checkAttributeScores, type AttributeScores } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import { readJsonl, type JsonlRow } from '../io/jsonl.js';

/** Attribute pairs read from a JSONL file, as typed arrays plus per-row extras. */
export interface AttributePairs {
  n: number;
  /** a scores, n x 5 row-major in {@link ATTRIBUTES} order. */
  a: Float64Array;
  /** b scores, n x 5 row-major. */
  b: Float64Array;
  /** a − b, n x 5 row-major. */
  deltas: Float64Array;
  /** 1 = a preferred, 0 = b preferred; 255 when the row has no label. */
  labels: Uint8Array;
  /** Whether every row has a label. */
  labelled: boolean;
  /** Optional `id` per row (null when absent). */
  ids: (string | null)[];
  /** Optional `subset` (or `category`) per row (null when absent). */
  subsets: (string | null)[];
  /** 1-based line number of each row in the file. */
  lines: number[];
}

/** Label value for a row without a label. */
export const NO_LABEL = 255;

/**
 * Reads attribute pairs: one JSON object per line,
 * `{"a": {"helpfulness": 3.1, ...}, "b": {...}, "label": "a" | "b"}` (optional `id`, `subset`;
 * other fields are ignored).
 * Every bad row is reported at once with its line number (`E_DATA`).
 *
 * @example
 * ```ts
 * const pairs = readAttributePairs('pairs.jsonl', { requireLabels: true });
 * PreferenceTree.fitArrays(pairs.deltas, pairs.labels);
 * ```
 */
export function readAttributePairs(path: string, options: { requireLabels?: boolean } = {}): AttributePairs {
  return parseAttributePairs(readJsonl(path), path, options);
}

/** {@link readAttributePairs} on rows already read. */
export function parseAttributePairs(rows: readonly JsonlRow[], source: string, options: { requireLabels?: boolean } = {}): AttributePairs {
  const requireLabels = options.requireLabels ?? false;
  const n = rows.length;
  if (n === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  const out: AttributePairs = {
    n,
    a: new Float64Array(n * ATTRIBUTE_COUNT),
    b: new Float64Array(n * ATTRIBUTE_COUNT),
    deltas: new Float64Array(n * ATTRIBUTE_COUNT),
    labels: new Uint8Array(n),
    labelled: true,
    ids: [],
    subsets: [],
    lines: [],
  };
  const issues: Issue[] = [];
  rows.forEach(({ line, value }, i) => {
    const where = `${source}:${line}`;
    out.lines.push(line);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: where, message: 'expected an object {"a": {...}, "b": {...}, "label": "a"|"b"}' });
      out.ids.push(null);
      out.subsets.push(null);
      return;
    }
    const row = value as Record<string, unknown>;
    for (const side of ['a', 'b'] as const) {
      const problems = checkAttributeScores(row[side]);
      for (const p of problems) issues.push({ path: where, message: `${side}${p.key ? `.${p.key}` : ''}: ${p.message}` });
      if (problems.length === 0) {
        const scores = row[side] as AttributeScores;
        const target = side === 'a' ? out.a : out.b;
        ATTRIBUTES.forEach((name, k) => {
          target[i * ATTRIBUTE_COUNT + k] = scores[name];
        });
      }
    }
    for (let k = 0; k < ATTRIBUTE_COUNT; k++)
      out.deltas[i * ATTRIBUTE_COUNT + k] = out.a[i * ATTRIBUTE_COUNT + k]! - out.b[i * ATTRIBUTE_COUNT + k]!;
    const label = row.label;
    if (label === 'a' || label === 'b') out.labels[i] = label === 'a' ? 1 : 0;
    else if (label === undefined || label === null) {
      out.labels[i] = NO_LABEL;
      out.labelled = false;
      if (requireLabels) issues.push({ path: where, message: 'missing "label" ("a" or "b")' });
    } else {
      issues.push({ path: where, message: `label must be "a" or "b", got ${JSON.stringify(label)}` });
    }
    out.ids.push(typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : null);
    const subset = row.subset ?? row.category;
    out.subsets.push(typeof subset === 'string' ? subset : null);
  });
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new DtrError(
      'E_DATA',
      `${source}: ${issues.length} bad value${issues.length === 1 ? '' : 's'}; first at ${first.path}: ${first.message}`,
      { issues },
    );
  }
  return out;
}

/** Keeps the rows at `indices` (in that order). */
export function selectPairs(pairs: AttributePairs, indices: ArrayLike<number>): AttributePairs {
  const m = indices.length;
  const pick = (src: Float64Array): Float64Array => {
    const dst = new Float64Array(m * ATTRIBUTE_COUNT);
    for (let j = 0; j < m; j++)
      dst.set(src.subarray(indices[j]! * ATTRIBUTE_COUNT, (indices[j]! + 1) * ATTRIBUTE_COUNT), j * ATTRIBUTE_COUNT);
    return dst;
  };
  const labels = new Uint8Array(m);
  const ids: (string | null)[] = [];
  const subsets: (string | null)[] = [];
  const lines: number[] = [];
  for (let j = 0; j < m; j++) {
    const i = indices[j]!;
    labels[j] = pairs.labels[i]!;
    ids.push(pairs.ids[i]!);
    subsets.push(pairs.subsets[i]!);
    lines.push(pairs.lines[i]!);
  }
  return {
    n: m,
    a: pick(pairs.a),
    b: pick(pairs.b),
    deltas: pick(pairs.deltas),
    labels,
    labelled: labels.every((l) => l !== NO_LABEL),
    ids,
    subsets,
    lines,
  };
}

/** Each pair plus its mirror (b, a) with the label flipped: 2n rows. */
export function augmentSwaps(pairs: AttributePairs): AttributePairs {
  const n = pairs.n;
  const twice = (x: Float64Array, y: Float64Array): Float64Array => {
    const out = new Float64Array(2 * n * ATTRIBUTE_COUNT);
    out.set(x, 0);
    out.set(y, n * ATTRIBUTE_COUNT);
    return out;
  };
  const negated = pairs.deltas.map((x) => -x);
  const labels = new Uint8Array(2 * n);
  labels.set(pairs.labels, 0);
  for (let i = 0; i < n; i++) labels[n + i] = pairs.labels[i] === NO_LABEL ? NO_LABEL : 1 - pairs.labels[i]!;
  return {
    n: 2 * n,
    a: twice(pairs.a, pairs.b),
    b: twice(pairs.b, pairs.a),
    deltas: twice(pairs.deltas, negated),
    labels,
    labelled: pairs.labelled,
    ids: [...pairs.ids, ...pairs.ids],
    subsets: [...pairs.subsets, ...pairs.subsets],
    lines: [...pairs.lines, ...pairs.lines],
  };
}
