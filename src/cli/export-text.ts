/**
 * `dtr export-text`: a tree as text, in scikit-learn's export_text style (tree/export-text.ts).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { defineCommand } from './args.js';
import { loadTreeArg, printJson } from './shared.js';

export default defineCommand({
  name: 'export-text',
  summary: 'print a tree as text, in scikit-learn export_text style',
  description:
    "Prints the tree with attribute names; `x <= threshold` branches first. Leaves show the\npreferred response with P(A preferred) and the share of training pairs (--plain: exactly\nscikit-learn's export_text layout).",
  options: {
    tree: { type: 'string', valueName: 'NAME|PATH', description: 'shipped tree name or tree file', required: true },
    decimals: { type: 'integer', min: 0, max: 17, description: 'digits after the point for thresholds', default: 3 },
    plain: { type: 'boolean', description: "exactly scikit-learn's export_text (no probabilities)" },
    'show-weights': { type: 'boolean', description: 'show [P(b), P(a)] at leaves, as show_weights=True' },
  },
  examples: ['dtr export-text --tree rlhflow-llama-3.1-8b', 'dtr export-text --tree trees/mine.json --plain --decimals 2'],
  async run(opts, io) {
    const tree = loadTreeArg(opts.tree, io);
    const text = tree.exportText({ decimals: opts.decimals, details: !opts.plain, showWeights: opts['show-weights'] });
    if (opts.json) printJson(io, { tree: tree.name, text });
    else io.stdout(text);
    return 0;
  },
});
