/**
 * `dtr score`: the five attribute rewards of a response (or of every row of a JSONL file, through
 * run-file.ts).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import { DtrError } from '../errors.js';
import type { ScoreResult } from '../model/types.js';
import { defineCommand } from './args.js';
import { MODEL_OPTIONS, TEXT_OPTIONS, fmtReward, loadModelArg, promptArg, responseArg, runSelfCheck } from './model-args.js';
import { runFile } from './run-file.js';
import { printJson, table } from './shared.js';

export default defineCommand({
  name: 'score',
  summary: 'the five attribute rewards of a response (or of every row of a JSONL file)',
  description: `Renders the prompt and response with the model's chat template, runs the ONNX backbone
and the linear head, and prints the five HelpSteer2 attribute rewards (plus the backbone's own
reward when it has one). Over the model's maximum length, the oldest prompt turns are dropped
first, then the start of the prompt; the response is cut only when it alone does not fit, and
the result says so.

With --file, each line is {"prompt": "...", "response": "..."} ("messages": [...] may replace
"prompt"; an "id" is copied through); every row is checked before any scoring, and results
stream out as JSONL (to stdout, or atomically to --out), with a progress bar on stderr.`,
  options: {
    ...MODEL_OPTIONS,
    prompt: TEXT_OPTIONS.prompt,
    messages: TEXT_OPTIONS.messages,
    response: { type: 'string', valueName: 'TEXT|@FILE', description: 'the response to score' },
    file: { type: 'string', valueName: 'FILE.jsonl', description: 'score every row of a JSONL file' },
    out: TEXT_OPTIONS.out,
  },
  examples: [
    "dtr score --model models/fixture --prompt 'What is 2 + 2?' --response 'It is 4.'",
    'dtr score --model models/fixture --file rows.jsonl --out scores.jsonl',
  ],
  async run(opts, io) {
    if (opts.file !== undefined) {
      if (opts.prompt !== undefined || opts.messages !== undefined || opts.response !== undefined)
        throw new DtrError('E_USAGE', 'dtr score: --file replaces --prompt/--messages/--response');
      const r = await runFile(opts, io, 'score');
      if (r.truncated > 0)
        io.stderr(
          `dtr score: warning: ${r.truncated} of ${r.total} conversations were truncated to ${r.model.maxLength} tokens (see "truncation" in their results)\n`,
        );
      if (opts.out !== undefined) {
        if (opts.json)
          printJson(io, { rows: r.total, out: opts.out, truncated: r.truncated, model: r.model.name, provider: r.model.provider });
        else
          io.stdout(
            `scored ${r.total} rows with ${r.model.name} (${r.model.provider}); wrote ${opts.out}${r.truncated ? `; ${r.truncated} truncated` : ''}\n`,
          );
      }
      return 0;
    }
    if (opts.out !== undefined) throw new DtrError('E_USAGE', 'dtr score: --out needs --file');
    const prompt = promptArg(io, 'score', opts.prompt, opts.messages);
    if (opts.response === undefined)
      throw new DtrError('E_USAGE', 'dtr score: --response is required (or --file)', { hint: "run 'dtr score --help' for usage" });
    const response = responseArg(io, 'score', 'response', opts.response);
    const model = await loadModelArg(opts, io, 'score');
    try {
      if (opts['self-check']) await runSelfCheck(model, [{ prompt, response }], opts.tolerance, io, 'score');
      const r = await model.score(prompt, response);
      if (r.truncated) io.stderr(`dtr score: warning: truncated: ${r.truncation!.summary}\n`);
      if (opts.json) {
        printJson(io, { model: model.config.name, provider: model.provider, ...r });
        return 0;
      }
      io.stdout(renderScore(model.config.name, model.provider, r));
      return 0;
    } finally {
      await model.dispose();
    }
  },
});

/** The human-readable result of `dtr score`. */
export function renderScore(modelName: string, provider: string, r: ScoreResult): string {
  const rows = ATTRIBUTES.map((a) => [a, fmtReward(r.rewards[a])]);
  if (r.backboneReward !== undefined) rows.push(['(backbone reward)', fmtReward(r.backboneReward)]);
  const lines = [
    `model: ${modelName} (${provider})`,
    '',
    table(['attribute', 'reward'], rows),
    '',
    `tokens: ${r.tokens}${r.truncated ? ` (truncated: ${r.truncation!.summary})` : ''}`,
  ];
  return `${lines.join('\n')}\n`;
}
