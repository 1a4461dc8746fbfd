/**
 * Tree files (trees/*.json): a versioned, self-describing JSON format for preference trees.
 *
 * Loading never executes anything: the file is parsed as JSON, checked against a zod schema,
 * then checked for meaning (child indices, cycles, attribute names, probabilities). Every
 * problem is reported at once, each with its JSON path.
 *
 * May import: its own folder (tree/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never head/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { z } from 'zod';
import { ATTRIBUTES, type Attribute } from '../attributes.js';
import type { Issue } from '../errors.js';
import { provenanceSchema, type Provenance } from '../provenance.js';

/** Format id written in every tree file. */
export const TREE_FORMAT = 'decision-tree-reward/tree';
/** The tree-file version this package writes and reads. */
export const TREE_FORMAT_VERSION = 1;

/** What a node's numbers mean, stated in every file. */
export const TREE_SEMANTICS =
  'features are attribute(a) - attribute(b); x <= threshold goes left; value = [P(response b preferred), P(response a preferred)]; probability = P(response a preferred); samples = weighted training pairs reaching the node, share = samples / root samples';

/** One node of a tree file. Leaves have `feature`, `threshold`, `left` and `right` all null. */
export interface TreeFileNode {
  id: number;
  feature: Attribute | null;
  threshold: number | null;
  left: number | null;
  right: number | null;
  /** Weighted training pairs reaching the node; null when unknown (a tree transcribed from a figure). */
  samples: number | null;
  /** Share of the root's weighted training pairs, in [0, 1]. */
  share: number;
  /** `[P(b preferred), P(a preferred)]` at the node. */
  value: [number, number];
  /** Impurity under the criterion; null when unknown. */
  impurity: number | null;
}

/** Fitting parameters recorded in a tree file (null where unknown). */
export interface TreeFileParams {
  maxDepth: number | null;
  minSamplesSplit: number | null;
  minSamplesLeaf: number | null;
  minImpurityDecrease: number | null;
  weighted: boolean;
}

/** Training/validation figures recorded with a fitted tree. */
export interface TreeFileMetrics {
  n: number;
  trainAccuracy: number | null;
  validationAccuracy: number | null;
  validationN: number | null;
  [key: string]: number | null;
}

/** The JSON document of a tree file, version 1. */
export interface TreeFile {
  format: typeof TREE_FORMAT;
  version: typeof TREE_FORMAT_VERSION;
  name: string;
  description: string;
  attributes: Attribute[];
  classes: ['b', 'a'];
  semantics: string;
  criterion: 'log_loss' | 'gini';
  params: TreeFileParams;
  /** Range of each training delta, [min, max]; counterfactuals stay inside it. */
  ranges: Record<Attribute, [number, number]> | null;
  importances: Record<Attribute, number>;
  metrics: TreeFileMetrics | null;
  nodes: TreeFileNode[];
  provenance: Provenance;
}

const finite = z.number();
const attributeName = z.string().refine((s) => (ATTRIBUTES as readonly string[]).includes(s), {
  message: `must be one of ${ATTRIBUTES.join(', ')}`,
});
const probability = finite.min(0, 'probability must be >= 0').max(1, 'probability must be <= 1');

const nodeSchema = z.strictObject({
  id: z.number().int().min(0),
  feature: attributeName.nullable(),
  threshold: finite.nullable(),
  left: z.number().int().nullable(),
  right: z.number().int().nullable(),
  samples: finite.min(0).nullable(),
  share: finite.min(0).max(1),
  value: z.tuple([probability, probability]),
  impurity: finite.min(0).nullable(),
});

const perAttribute = <T extends z.ZodType>(inner: T) => z.record(z.string(), inner);

const fileSchema = z.strictObject({
  format: z.literal(TREE_FORMAT),
  version: z.literal(TREE_FORMAT_VERSION),
  name: z.string().min(1),
  description: z.string(),
  attributes: z.array(z.string()),
  classes: z.tuple([z.literal('b'), z.literal('a')]),
  semantics: z.string(),
  criterion: z.enum(['log_loss', 'gini']),
  params: z.strictObject({
    maxDepth: z.number().int().min(1).nullable(),
    minSamplesSplit: z.number().int().min(2).nullable(),
    minSamplesLeaf: z.number().int().min(1).nullable(),
    minImpurityDecrease: finite.min(0).nullable(),
    weighted: z.boolean(),
  }),
  ranges: perAttribute(z.tuple([finite, finite])).nullable(),
  importances: perAttribute(finite.min(0).max(1)),
  metrics: z.record(z.string(), finite.nullable()).nullable(),
  nodes: z.array(nodeSchema).min(1),
  provenance: provenanceSchema,
});

/** Result of {@link validateTreeFile}: the typed file, or every problem found. */
export type TreeFileCheck = { success: true; file: TreeFile } | { success: false; issues: Issue[] };

/**
 * Validates a parsed tree file: schema first, then meaning. Never throws.
 */
export function validateTreeFile(json: unknown): TreeFileCheck {
  const parsed = fileSchema.safeParse(json);
  const issues: Issue[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) issues.push({ path: formatPath(issue.path), message: issue.message });
  }
  // Semantic checks run on whatever is structurally readable, so one pass reports everything.
  const doc = (json ?? {}) as Record<string, unknown>;
  checkAttributes(doc.attributes, 'attributes', issues);
  for (const key of ['importances', 'ranges'] as const) {
    if (doc[key] !== null && typeof doc[key] === 'object') checkAttributeKeys(doc[key] as Record<string, unknown>, key, issues);
  }
  if (doc.ranges !== null && typeof doc.ranges === 'object') {
    for (const [name, r] of Object.entries(doc.ranges as Record<string, unknown>)) {
      if (Array.isArray(r) && typeof r[0] === 'number' && typeof r[1] === 'number' && r[0] > r[1]) {
        issues.push({ path: `ranges.${name}`, message: `min ${r[0]} is above max ${r[1]}` });
      }
    }
  }
  if (Array.isArray(doc.nodes)) checkNodes(doc.nodes as unknown[], issues);
  if (issues.length > 0) return { success: false, issues: dedupe(issues) };
  return { success: true, file: parsed.data as unknown as TreeFile };
}

function checkAttributes(value: unknown, path: string, issues: Issue[]): void {
  if (!Array.isArray(value)) return;
  const seen = new Set<string>();
  value.forEach((name, i) => {
    if (typeof name !== 'string' || !(ATTRIBUTES as readonly string[]).includes(name)) {
      issues.push({ path: `${path}[${i}]`, message: `unknown attribute ${JSON.stringify(name)}: expected ${ATTRIBUTES.join(', ')}` });
    } else if (seen.has(name)) {
      issues.push({ path: `${path}[${i}]`, message: `attribute '${name}' listed twice` });
    }
    if (typeof name === 'string') seen.add(name);
  });
  for (const name of ATTRIBUTES) if (!seen.has(name)) issues.push({ path, message: `missing attribute '${name}'` });
}

function checkAttributeKeys(record: Record<string, unknown>, path: string, issues: Issue[]): void {
  for (const key of Object.keys(record)) {
    if (!(ATTRIBUTES as readonly string[]).includes(key)) issues.push({ path: `${path}.${key}`, message: `unknown attribute '${key}'` });
  }
  for (const name of ATTRIBUTES) if (!(name in record)) issues.push({ path, message: `missing attribute '${name}'` });
}

function checkNodes(nodes: unknown[], issues: Issue[]): void {
  const n = nodes.length;
  const parentOf = new Array<number>(n).fill(-1);
  const childIndex = (node: Record<string, unknown>, key: 'left' | 'right', i: number): number | null => {
    const c = node[key];
    if (c === null || c === undefined) return null;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c >= n) {
      issues.push({ path: `nodes[${i}].${key}`, message: `child index ${JSON.stringify(c)} is not a node (0..${n - 1})` });
      return null;
    }
    if (c === i) {
      issues.push({ path: `nodes[${i}].${key}`, message: 'a node cannot be its own child (cycle)' });
      return null;
    }
    if (c === 0) {
      issues.push({ path: `nodes[${i}].${key}`, message: 'the root (node 0) cannot be a child (cycle)' });
      return null;
    }
    if (parentOf[c] !== -1) {
      issues.push({ path: `nodes[${i}].${key}`, message: `node ${c} already has parent ${parentOf[c]} (cycle or shared child)` });
      return null;
    }
    parentOf[c] = i;
    return c;
  };
  nodes.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object') return;
    const node = raw as Record<string, unknown>;
    if (typeof node.id === 'number' && node.id !== i)
      issues.push({ path: `nodes[${i}].id`, message: `id ${node.id} does not match its position ${i}` });
    const left = childIndex(node, 'left', i);
    const right = childIndex(node, 'right', i);
    const hasLeft = node.left !== null && node.left !== undefined;
    const hasRight = node.right !== null && node.right !== undefined;
    const isSplit = hasLeft || hasRight || (node.feature !== null && node.feature !== undefined);
    if (isSplit) {
      if (!hasLeft || !hasRight)
        issues.push({ path: `nodes[${i}]`, message: 'a split node needs both left and right children (a leaf has neither)' });
      if (node.feature === null || node.feature === undefined)
        issues.push({ path: `nodes[${i}].feature`, message: 'a split node needs a feature' });
      if (typeof node.threshold !== 'number' || !Number.isFinite(node.threshold)) {
        issues.push({ path: `nodes[${i}].threshold`, message: `a split node needs a finite threshold, got ${String(node.threshold)}` });
      }
      if (left !== null && left === right) issues.push({ path: `nodes[${i}]`, message: 'left and right are the same node' });
    } else if (node.threshold !== null && node.threshold !== undefined) {
      issues.push({ path: `nodes[${i}].threshold`, message: 'a leaf has no threshold (use null)' });
    }
    if (Array.isArray(node.value) && node.value.length === 2 && node.value.every((v) => typeof v === 'number')) {
      const sum = (node.value[0] as number) + (node.value[1] as number);
      if (Math.abs(sum - 1) > 1e-6) issues.push({ path: `nodes[${i}].value`, message: `class probabilities must sum to 1, got ${sum}` });
    }
  });
  // Reachability from the root: every node must hang from node 0 (and cycles were refused above).
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (seen[i]) continue;
    seen[i] = 1;
    const node = nodes[i] as Record<string, unknown> | null;
    if (!node || typeof node !== 'object') continue;
    for (const key of ['left', 'right'] as const) {
      const c = node[key];
      if (typeof c === 'number' && Number.isInteger(c) && c > 0 && c < n && parentOf[c] === i) stack.push(c);
    }
  }
  for (let i = 0; i < n; i++) if (!seen[i]) issues.push({ path: `nodes[${i}]`, message: 'node is not reachable from the root' });
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(root)' : out;
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Serialises a tree file deterministically: identical input gives identical bytes.
 * Keys keep the order of the {@link TreeFile} type; short number arrays stay on one line.
 */
export function serializeTreeFile(file: TreeFile): string {
  const text = JSON.stringify(file, null, 2);
  // Collapse arrays of primitives onto one line: `"value": [0.1, 0.9]`, `"classes": ["b", "a"]`.
  const item = String.raw`(?:-?[\d.eE+-]+|null|true|false|"[\w .+-]*")`;
  const flat = new RegExp(String.raw`\[\s*(${item}(?:,\s*${item})*)\s*\]`, 'g');
  return `${text.replace(flat, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`)}\n`;
}
