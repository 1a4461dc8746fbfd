/**
 * `dtr compare`: which of two responses the model prefers, with the tree path that explains it (one pair from
 * flags, or `--file` rows through run-file.ts).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { DtrError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { CompareResult } from '../model/types.js';
import { PreferenceTree } from '../tree/preference-tree.js';
import { defineCommand } from './args.js';
import { renderExplanation } from './explain.js';
import { MODEL_OPTIONS, TEXT_OPTIONS, fmtReward, loadModelArg, promptArg, responseArg, runSelfCheck } from './model-args.js';
import { runFile } from './run-file.js';
import { jsonText } from '../util/format.js';
import { f3, pathArg, printJson } from './shared.js';

export default defineCommand({
  name: 'compare',
  summary: 'which of two responses the model prefers, with the tree path that explains it',
  description: `Scores both responses with the model (chat template, ONNX backbone, linear head), then
runs the attribute differences A - B through the model's decision tree: the preference, its
probability P(A preferred), the root-to-leaf path and the smallest one-attribute change that
would flip it. By default the symmetric rule p = 1/2[f(a-b) + 1 - f(b-a)] is used, so swapping
A and B mirrors the answer; --asymmetric reproduces the published models exactly. With --json
the result also holds the prompt (or messages) and both responses, so \`dtr report --from\`
can show them; --out FILE.json writes that document to a file instead, atomically (nothing is
written when the comparison fails, unlike a shell redirect, which leaves an empty file).

With --file, each line is {"prompt": "...", "a": "...", "b": "..."} ("messages": [...] may
replace "prompt"; an "id" is copied through); every row is checked first, then results stream
out as JSONL (stdout, or atomically to --out) with a progress bar on stderr.`,
  options: {
    ...MODEL_OPTIONS,
    prompt: TEXT_OPTIONS.prompt,
    messages: TEXT_OPTIONS.messages,
    a: { type: 'string', valueName: 'TEXT|@FILE', description: 'response A' },
    b: { type: 'string', valueName: 'TEXT|@FILE', description: 'response B' },
    file: { type: 'string', valueName: 'FILE.jsonl', description: 'compare every row of a JSONL file' },
    out: {
      ...TEXT_OPTIONS.out,
      valueName: 'FILE',
      description: 'write the results here (atomically): the --json document of one comparison, or the JSONL of --file',
    },
    tree: { type: 'string', valueName: 'NAME|PATH', description: "use this tree instead of the model's" },
    asymmetric: { type: 'boolean', description: 'use the published rule p = f(a-b) instead of the symmetric one' },
    'tie-band': { type: 'number', min: 0, below: 0.5, valueName: 'X', description: 'call it a tie when |p - 0.5| <= X', default: 0 },
  },
  examples: [
    "dtr compare --model models/fixture --prompt 'How many apples?' --a 'Three each.' --b 'Four each.'",
    "dtr compare --model models/fixture --prompt 'How many apples?' --a 'Three each.' --b 'Four each.' --out compare.json",
    'dtr compare --model models/fixture --file pairs.jsonl --out results.jsonl --self-check',
  ],
  async run(opts, io) {
    const tree = opts.tree === undefined ? undefined : PreferenceTree.load(opts.tree, io.cwd);
    const explainOptions = { symmetric: !opts.asymmetric, tieBand: opts['tie-band'], ...(tree ? { tree } : {}) };
    if (opts.file !== undefined) {
      if (opts.prompt !== undefined || opts.messages !== undefined || opts.a !== undefined || opts.b !== undefined)
        throw new DtrError('E_USAGE', 'dtr compare: --file replaces --prompt/--messages/--a/--b');
      const r = await runFile(opts, io, 'compare', explainOptions);
      if (r.truncated > 0)
        io.stderr(
          `dtr compare: warning: ${r.truncated} of ${r.total} pairs had a conversation truncated to ${r.model.maxLength} tokens (see "truncation" in their results)\n`,
        );
      if (opts.out !== undefined) {
        const { a, b, tie } = r.preferences;
        if (opts.json)
          printJson(io, {
            pairs: r.total,
            out: opts.out,
            preferences: r.preferences,
            truncated: r.truncated,
            model: r.model.name,
            provider: r.model.provider,
          });
        else
          io.stdout(
            `compared ${r.total} pairs with ${r.model.name} (${r.model.provider}): A ${a}, B ${b}, tie ${tie}; wrote ${opts.out}${r.truncated ? `; ${r.truncated} truncated` : ''}\n`,
          );
      }
      return 0;
    }
    const prompt = promptArg(io, 'compare', opts.prompt, opts.messages);
    if (opts.a === undefined || opts.b === undefined)
      throw new DtrError('E_USAGE', 'dtr compare: --a and --b are required (or --file)', { hint: "run 'dtr compare --help' for usage" });
    const a = responseArg(io, 'compare', 'a', opts.a);
    const b = responseArg(io, 'compare', 'b', opts.b);
    const model = await loadModelArg(opts, io, 'compare');
    try {
      if (opts['self-check']) {
        await runSelfCheck(
          model,
          [
            { prompt, response: a },
            { prompt, response: b },
          ],
          opts.tolerance,
          io,
          'compare',
        );
      }
      const r = await model.compare(prompt, a, b, explainOptions);
      for (const side of ['a', 'b'] as const) {
        const t = r.truncation[side];
        if (t) io.stderr(`dtr compare: warning: conversation ${side.toUpperCase()} truncated: ${t.summary}\n`);
      }
      const treeUsed = tree ?? model.tree;
      // The texts come last (they can be long): `dtr report --from` shows them with the decision.
      const doc = {
        model: model.config.name,
        provider: model.provider,
        tree: treeUsed.name,
        ...r,
        ...(typeof prompt === 'string' ? { prompt } : { messages: prompt }),
        a,
        b,
      };
      if (opts.out !== undefined) {
        writeFileAtomic(pathArg(io, opts.out), `${jsonText(doc, 2)}\n`);
        const who = r.preference === 'tie' ? 'tie' : `${r.preference.toUpperCase()} preferred`;
        if (opts.json)
          printJson(io, { out: opts.out, preference: r.preference, probability: r.probability, tree: treeUsed.name, leaf: r.leaf.node });
        else io.stdout(`wrote ${opts.out}: ${who}, P(A) = ${f3(r.probability)} with ${treeUsed.name} (leaf ${r.leaf.node})\n`);
        return 0;
      }
      if (opts.json) {
        printJson(io, doc);
        return 0;
      }
      io.stdout(renderCompare(model.config.name, model.provider, treeUsed, r));
      return 0;
    } finally {
      await model.dispose();
    }
  },
});

/** The human-readable result of `dtr compare`: model line, backbone rewards, then the explanation as `dtr explain` prints it. */
export function renderCompare(modelName: string, provider: string, tree: PreferenceTree, r: CompareResult): string {
  const head = [`model: ${modelName} (${provider})`];
  if (r.backboneReward) head.push(`backbone reward: A ${fmtReward(r.backboneReward.a)}, B ${fmtReward(r.backboneReward.b)}`);
  head.push(`tokens: A ${r.tokens.a}${r.truncation.a ? ' (truncated)' : ''}, B ${r.tokens.b}${r.truncation.b ? ' (truncated)' : ''}`);
  return `${head.join('\n')}\n${renderExplanation(tree.name, tree.provenance.source, r.rewards.a, r.rewards.b, r)}`;
}
