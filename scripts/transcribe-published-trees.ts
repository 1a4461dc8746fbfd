/**
 * Writes trees/rlhflow-llama-3.1-8b.json, trees/rlhflow-gemma-2-27b.json and
 * trees/helpsteer2-human.json from the published figures of the RLHFlow blog post
 * "Interpreting Language Model Preferences Through the Lens of Decision Trees" (2025-01-22),
 * transcribed by hand in pre-order (rows below). Run: npx tsx scripts/transcribe-published-trees.ts [REFERENCE_DIR]
 *
 * The figures print thresholds and probabilities to 3 decimals and sample shares to 0.1%, so
 * the files hold those rounded numbers; per-node sample counts were not published (null).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sha256File } from '../src/io/hash.js';
import { makeProvenance } from '../src/provenance.js';
import { computeImportances, PreferenceTree } from '../src/tree/preference-tree.js';
import { TREE_FORMAT, TREE_FORMAT_VERSION, TREE_SEMANTICS, type TreeFile, type TreeFileNode } from '../src/tree/file.js';
import { ATTRIBUTES, type Attribute } from '../src/attributes.js';

type Row = [test: `${Attribute} <= ${number}` | 'leaf', sharePercent: number, p0: number, p1: number];

const PUBLISHED: Array<{ name: string; figure: string; description: string; rows: Row[] }> = [
  {
    name: 'rlhflow-llama-3.1-8b',
    figure: 'tree-reward-model-Llama-3.1-8B.png',
    description:
      'RLHFlow Decision-Tree-Reward-Llama-3.1-8B: depth-3 log-loss tree on Skywork-Reward-Llama-3.1-8B-v0.2 attribute rewards (HelpSteer2-Preference train split)',
    rows: [
      ['helpfulness <= 0.019', 100.0, 0.497, 0.503],
      ['helpfulness <= -0.364', 49.5, 0.905, 0.095],
      ['helpfulness <= -1.001', 37.6, 0.962, 0.038],
      ['leaf', 18.7, 0.986, 0.014],
      ['leaf', 18.9, 0.939, 0.061],
      ['verbosity <= 0.053', 11.9, 0.722, 0.278],
      ['leaf', 7.4, 0.804, 0.196],
      ['leaf', 4.6, 0.591, 0.409],
      ['correctness <= 0.303', 50.5, 0.096, 0.904],
      ['complexity <= 0.001', 10.8, 0.283, 0.717],
      ['leaf', 4.7, 0.39, 0.61],
      ['leaf', 6.2, 0.203, 0.797],
      ['helpfulness <= 1.121', 39.6, 0.045, 0.955],
      ['leaf', 22.4, 0.069, 0.931],
      ['leaf', 17.2, 0.014, 0.986],
    ],
  },
  {
    name: 'rlhflow-gemma-2-27b',
    figure: 'tree-reward-model-Gemma-2-27B.png',
    description:
      'RLHFlow Decision-Tree-Reward-Gemma-2-27B: depth-3 log-loss tree on Skywork-Reward-Gemma-2-27B-v0.2 attribute rewards (HelpSteer2-Preference train split)',
    rows: [
      ['helpfulness <= 0.03', 100.0, 0.497, 0.503],
      ['helpfulness <= -0.482', 50.7, 0.85, 0.15],
      ['correctness <= -1.023', 29.1, 0.957, 0.043],
      ['leaf', 14.7, 0.988, 0.012],
      ['leaf', 14.4, 0.925, 0.075],
      ['helpfulness <= -0.213', 21.6, 0.707, 0.293],
      ['leaf', 10.4, 0.807, 0.193],
      ['leaf', 11.2, 0.612, 0.388],
      ['helpfulness <= 0.488', 49.3, 0.133, 0.867],
      ['helpfulness <= 0.12', 19.6, 0.273, 0.727],
      ['leaf', 4.7, 0.445, 0.555],
      ['leaf', 14.8, 0.218, 0.782],
      ['helpfulness <= 0.924', 29.8, 0.042, 0.958],
      ['leaf', 11.4, 0.085, 0.915],
      ['leaf', 18.4, 0.014, 0.986],
    ],
  },
  {
    name: 'helpsteer2-human',
    figure: 'Human_tree_helpsteer2.png',
    description:
      'Human preferences on HelpSteer2-Preference from human attribute ratings: depth-3 log-loss tree (2,000 sampled train pairs; depth chosen on 448 validation pairs)',
    rows: [
      ['helpfulness <= 0.5', 100.0, 0.497, 0.503],
      ['helpfulness <= -0.5', 57.2, 0.851, 0.149],
      ['correctness <= -0.5', 41.5, 0.979, 0.021],
      ['leaf', 37.7, 0.986, 0.014],
      ['leaf', 3.8, 0.906, 0.094],
      ['coherence <= 0.5', 15.8, 0.516, 0.484],
      ['leaf', 14.4, 0.545, 0.455],
      ['leaf', 1.4, 0.213, 0.787],
      ['correctness <= 0.5', 42.8, 0.022, 0.978],
      ['coherence <= 0.5', 4.1, 0.097, 0.903],
      ['leaf', 2.1, 0.159, 0.841],
      ['leaf', 2.0, 0.03, 0.97],
      ['helpfulness <= 2.5', 38.6, 0.014, 0.986],
      ['leaf', 25.0, 0.019, 0.981],
      ['leaf', 13.6, 0.003, 0.997],
    ],
  },
];

/** Turns pre-order rows into nodes with child links. */
function buildNodes(rows: Row[]): TreeFileNode[] {
  const nodes: TreeFileNode[] = [];
  let next = 0;
  const visit = (): number => {
    const id = next++;
    const [test, share, p0, p1] = rows[id]!;
    const node: TreeFileNode = {
      id,
      feature: null,
      threshold: null,
      left: null,
      right: null,
      samples: null,
      share: share / 100,
      value: [p0, p1],
      impurity: null,
    };
    nodes[id] = node;
    if (test !== 'leaf') {
      const [feature, , threshold] = test.split(' ');
      node.feature = feature as Attribute;
      node.threshold = Number(threshold);
      node.left = visit();
      node.right = visit();
    }
    return id;
  };
  visit();
  if (next !== rows.length) throw new Error(`rows left over: used ${next} of ${rows.length}`);
  return nodes;
}

const referenceDir = resolve(process.argv[2] ?? '../shared/reference');
for (const t of PUBLISHED) {
  const figure = join(referenceDir, t.figure);
  if (!existsSync(figure)) throw new Error(`figure not found: ${figure}`);
  const file: TreeFile = {
    format: TREE_FORMAT,
    version: TREE_FORMAT_VERSION,
    name: t.name,
    description: t.description,
    attributes: [...ATTRIBUTES],
    classes: ['b', 'a'],
    semantics: TREE_SEMANTICS,
    criterion: 'log_loss',
    params: { maxDepth: 3, minSamplesSplit: null, minSamplesLeaf: null, minImpurityDecrease: null, weighted: false },
    ranges: Object.fromEntries(ATTRIBUTES.map((a) => [a, [-4, 4]])) as TreeFile['ranges'],
    importances: Object.fromEntries(ATTRIBUTES.map((a) => [a, 0])) as TreeFile['importances'],
    metrics: null,
    nodes: buildNodes(t.rows),
    provenance: makeProvenance(
      'transcribed from the published figure; thresholds rounded to 3 decimals',
      [{ path: `reference/${t.figure}`, sha256: sha256File(figure), role: 'figure (RLHFlow blog, 2025-01-22)' }],
      'npx tsx scripts/transcribe-published-trees.ts ../shared/reference',
      "Sample shares are the figure's percentages; per-node counts were not published (samples: null). Importances are computed from shares and probabilities. Ranges are the HelpSteer2 rating scale (differences of 0-4 ratings), as the training deltas were not published.",
    ),
  };
  // Importances follow from the nodes: let the tree compute them, then write the complete file.
  const provisional = PreferenceTree.fromJSON(file, t.name);
  const tree = PreferenceTree.fromJSON({ ...file, importances: { ...computeImportances(provisional.arrays, 'log_loss') } }, t.name);
  const out = resolve('trees', `${t.name}.json`);
  tree.save(out);
  console.log(`wrote ${out}`);
}
