/**
 * `dtr explain`: one preference between two attribute-score vectors, with its path, sentence and
 * counterfactual (explain/).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import type { AttributeScores } from '../attributes.js';
import { CARD_EXAMPLE } from './card-example.js';
import { DtrError } from '../errors.js';
import { describePath, explain, type Explanation } from '../explain/explain.js';
import { exact } from '../util/format.js';
import { defineCommand } from './args.js';
import { f3, loadTreeArg, parseScoresArg, pct, printJson, s3, scoresTable } from './shared.js';

export default defineCommand({
  name: 'explain',
  summary: 'explain one preference: the tree path for two attribute-score vectors',
  description: `Runs two attribute-score vectors through a preference tree and prints the decision,
its probability P(A preferred), the root-to-leaf path and the smallest one-attribute change
that would flip it. By default the symmetric rule p = 1/2[f(a-b) + 1 - f(b-a)] is used, so
swapping A and B mirrors the answer; --asymmetric reproduces the published models exactly.`,
  options: {
    tree: { type: 'string', valueName: 'NAME|PATH', description: 'shipped tree name or tree file', default: 'rlhflow-llama-3.1-8b' },
    a: { type: 'string', valueName: 'JSON', description: "response A's attribute scores (JSON object or @file.json)" },
    b: { type: 'string', valueName: 'JSON', description: "response B's attribute scores (JSON object or @file.json)" },
    example: { type: 'boolean', description: "use the model card's worked example (Jane's apples) for A and B" },
    asymmetric: { type: 'boolean', description: 'use the published rule p = f(a-b) instead of the symmetric one' },
    'tie-band': { type: 'number', min: 0, below: 0.5, valueName: 'X', description: 'call it a tie when |p - 0.5| <= X', default: 0 },
  },
  examples: [
    'dtr explain --example',
    `dtr explain --tree helpsteer2-human --a '{"helpfulness":3,"correctness":3,"coherence":4,"complexity":2,"verbosity":2}' --b '{"helpfulness":2,"correctness":3,"coherence":4,"complexity":1,"verbosity":1}'`,
  ],
  async run(opts, io) {
    let a: AttributeScores;
    let b: AttributeScores;
    if (opts.example) {
      if (opts.a !== undefined || opts.b !== undefined)
        throw new DtrError('E_USAGE', 'dtr explain: give either --example or --a and --b, not both');
      ({ a, b } = CARD_EXAMPLE);
    } else {
      if (opts.a === undefined || opts.b === undefined) {
        throw new DtrError('E_USAGE', 'dtr explain: --a and --b are required (or --example)', {
          hint: "run 'dtr explain --help' for usage",
        });
      }
      a = parseScoresArg('a', opts.a, io);
      b = parseScoresArg('b', opts.b, io);
    }
    const tree = loadTreeArg(opts.tree, io);
    const e = explain(tree, a, b, { symmetric: !opts.asymmetric, tieBand: opts['tie-band'] });
    if (opts.json) {
      printJson(io, { tree: tree.name, a: exact(a), b: exact(b), ...e }); // the scores given, as given
      return 0;
    }
    io.stdout(renderExplanation(tree.name, tree.provenance.source, a, b, e));
    return 0;
  },
});

/** The human-readable explanation printed by `dtr explain`. */
export function renderExplanation(treeName: string, treeSource: string, a: AttributeScores, b: AttributeScores, e: Explanation): string {
  const lines: string[] = [];
  lines.push(`tree: ${treeName} (${treeSource})`, '');
  lines.push(scoresTable(a, b), '');
  const who = e.preference === 'a' ? 'A preferred' : e.preference === 'b' ? 'B preferred' : 'neither preferred';
  lines.push(`preference: ${e.preference} (${who})`);
  const rule = e.symmetric ? 'symmetric rule' : 'published (asymmetric) rule';
  lines.push(
    `probability: ${f3(e.probability)} (P(A preferred), ${rule}${e.symmetric && e.publishedProbability !== e.probability ? `; as published: ${f3(e.publishedProbability)}` : ''})`,
  );
  lines.push(`path: ${e.path.length ? `${describePath(e.path)} → ` : ''}leaf ${e.leaf.node}`, '');
  for (const s of e.path) {
    lines.push(
      `  node ${String(s.node).padEnd(3)} ${s.attribute.padEnd(11)} ${s3(s.delta).padStart(7)} ${s.went === 'left' ? '<=' : '> '} ${f3(s.threshold).padStart(6)}   (${pct(s.share)} of pairs, P(A) ${f3(s.probability)})`,
    );
  }
  lines.push(
    `  leaf ${String(e.leaf.node).padEnd(3)} P(A) = ${f3(e.leaf.probability)}   (${pct(e.leaf.share)} of pairs${e.leaf.samples === null ? '' : `, ${Math.round(e.leaf.samples)} pairs`})`,
  );
  if (e.mirror && e.mirror.leaf.node !== e.leaf.node) {
    lines.push(
      `  mirrored (B - A): ${e.mirror.path.length ? `${describePath(e.mirror.path)} → ` : ''}leaf ${e.mirror.leaf.node}, P(B first) = ${f3(e.mirror.probability)}`,
    );
  }
  lines.push('', e.sentence);
  lines.push(
    `what would flip it: ${e.counterfactual ? e.counterfactual.sentence : 'no single-attribute change within the data range flips this decision'}`,
  );
  return `${lines.join('\n')}\n`;
}
