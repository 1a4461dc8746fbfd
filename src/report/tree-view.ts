/**
 * The tree as a report draws it (`reportTree`): nodes with their tests and shares, the tests on the way to
 * each leaf.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { formatFixed } from '../util/format.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import type { ReportTest, ReportTree, ReportTreeNode } from './types.js';

/**
 * The tree as a report shows it: identity plus a plain node list (pre-order, `<=` goes left).
 *
 * @example
 * ```ts
 * reportTree(PreferenceTree.load('helpsteer2-human')).nodes[0];
 * // { id: 0, depth: 0, feature: 'helpfulness', threshold: 0.5, left: 1, right: 8, samples: null, share: 1, probability: 0.503 }
 * ```
 */
export function reportTree(tree: PreferenceTree): ReportTree {
  const { left, right, nodeCount } = tree.arrays;
  // Depth from a walk, not from id order: a tree file need not number its nodes in pre-order.
  const depth = new Int32Array(nodeCount);
  const stack = [0];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (left[i] === -1) continue;
    depth[left[i]!] = depth[i]! + 1;
    depth[right[i]!] = depth[i]! + 1;
    stack.push(left[i]!, right[i]!);
  }
  const nodes: ReportTreeNode[] = tree.toJSON().nodes.map((n) => ({
    id: n.id,
    depth: depth[n.id]!,
    feature: n.feature,
    threshold: n.threshold,
    left: n.left,
    right: n.right,
    samples: n.samples,
    share: n.share,
    probability: n.value[1],
  }));
  return { name: tree.name, description: tree.description, source: tree.provenance.source, criterion: tree.criterion, nodes };
}

/**
 * The tests from the root to every leaf, keyed by leaf id.
 *
 * @example
 * ```ts
 * leafTests(reportTree(tree)).get(14); // [{ node: 0, attribute: 'helpfulness', op: '>', threshold: 0.019 }, ...]
 * ```
 */
export function leafTests(tree: ReportTree): Map<number, ReportTest[]> {
  const out = new Map<number, ReportTest[]>();
  const walk = (id: number, tests: ReportTest[]): void => {
    const node = tree.nodes[id]!;
    if (node.left === null || node.right === null || node.feature === null || node.threshold === null) {
      out.set(id, tests);
      return;
    }
    walk(node.left, [...tests, { node: id, attribute: node.feature, op: '<=', threshold: node.threshold }]);
    walk(node.right, [...tests, { node: id, attribute: node.feature, op: '>', threshold: node.threshold }]);
  };
  walk(0, []);
  return out;
}

/**
 * A path's tests as one line (`(root is a leaf)` for a single-leaf tree).
 *
 * @example
 * ```ts
 * testsText(leafTests(reportTree(tree)).get(14)!); // 'helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121'
 * ```
 */
export function testsText(tests: readonly ReportTest[]): string {
  if (tests.length === 0) return '(root is a leaf)';
  return tests.map((t) => `${t.attribute} ${t.op} ${formatFixed(t.threshold, 3)}`).join(' → ');
}
