/**
 * `exportText`: a tree as text in scikit-learn's export_text layout (golden-tested against sklearn).
 *
 * May import: its own folder (tree/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never head/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import { formatFixed } from '../util/format.js';
import type { TreeArrays } from './cart.js';

/** Options of {@link exportText} (and `PreferenceTree.exportText`). */
export interface ExportTextOptions {
  /** Digits after the point for thresholds (default 3; scikit-learn's default is 2). */
  decimals?: number;
  /** Prefix leaves with `weights: [P(b), P(a)]`, as scikit-learn's `show_weights` (>= 1.4 prints these fractions; default false). */
  showWeights?: boolean;
  /** Append P(a preferred) and the training share to every leaf (default false: plain scikit-learn text). */
  details?: boolean;
}

/** What {@link exportText} reads of a tree: its node arrays and each node's stored `[P(b), P(a)]` (a `PreferenceTree` is one). */
export interface TextExportable {
  readonly arrays: Readonly<TreeArrays>;
  nodeValue(node: number): [number, number];
}

/**
 * Text rendering in scikit-learn `export_text` layout: `|--- attr <= t` for the left branch,
 * `|--- attr >  t` for the right, `|--- class: a|b` at leaves (argmax of the leaf's value; an
 * exact 50/50 leaf shows `b`, as numpy's argmax picks the first class). It sits beside the tree
 * as scikit-learn's `export_text` sits in sklearn/tree.
 *
 * @example
 * ```ts
 * exportText(PreferenceTree.load('rlhflow-llama-3.1-8b'), { decimals: 2 });
 * // '|--- helpfulness <= 0.02\n|   |--- helpfulness <= -0.36\n...'
 * ```
 */
export function exportText(tree: TextExportable, options: ExportTextOptions = {}): string {
  const decimals = options.decimals ?? 3;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 17)
    throw new RangeError(`decimals must be an integer in [0, 17], got ${decimals}`);
  const { left, right, feature, threshold, share } = tree.arrays;
  let out = '';
  const walk = (node: number, depth: number): void => {
    let indent = `|${' '.repeat(3)}`.repeat(depth + 1);
    indent = `${indent.slice(0, -3)}---`;
    if (left[node] !== -1) {
      const name = ATTRIBUTES[feature[node]!]!;
      const t = formatFixed(threshold[node]!, decimals);
      out += `${indent} ${name} <= ${t}\n`;
      walk(left[node]!, depth + 1);
      out += `${indent} ${name} >  ${t}\n`;
      walk(right[node]!, depth + 1);
      return;
    }
    const [p0, p1] = tree.nodeValue(node);
    let val = '';
    if (options.showWeights) val = ` weights: [${formatFixed(p0, decimals)}, ${formatFixed(p1, decimals)}]`;
    val += ` class: ${p1 > p0 ? 'a' : 'b'}`;
    if (options.details) val += `  (P(a) = ${formatFixed(p1, 3)}, ${formatFixed(share[node]! * 100, 1)}% of pairs)`;
    out += `${indent}${val}\n`;
  };
  walk(0, 0);
  return out;
}
