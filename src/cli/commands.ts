/**
 * The command registry: every `dtr` command by name with its one-line summary, loaded lazily so `dtr --help`
 * imports no command.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import type { Command, OptionSpecs } from './args.js';

/**
 * Every `dtr` sub-command, loaded lazily so `dtr explain` never pays for loading onnxruntime.
 * Add a command here and in its own file under src/cli/.
 */
export const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<Command<OptionSpecs>> }>> = {
  explain: {
    summary: 'explain one preference: the tree path for two attribute-score vectors',
    load: async () => (await import('./explain.js')).default as unknown as Command<OptionSpecs>,
  },
  'train-tree': {
    summary: 'fit a preference tree on attribute pairs (JSONL) and write a tree file',
    load: async () => (await import('./train-tree.js')).default as unknown as Command<OptionSpecs>,
  },
  embed: {
    summary: 'last-token hidden states of rated responses, with their ratings, as a safetensors file',
    load: async () => (await import('./embed.js')).default as unknown as Command<OptionSpecs>,
  },
  'fit-head': {
    summary: 'fit a linear head (ridge regression) from embeddings and ratings',
    load: async () => (await import('./fit-head.js')).default as unknown as Command<OptionSpecs>,
  },
  'export-text': {
    summary: 'print a tree as text, in scikit-learn export_text style',
    load: async () => (await import('./export-text.js')).default as unknown as Command<OptionSpecs>,
  },
  score: {
    summary: 'the five attribute rewards of a response (or of every row of a JSONL file)',
    load: async () => (await import('./score.js')).default as unknown as Command<OptionSpecs>,
  },
  compare: {
    summary: 'which of two responses the model prefers, with the tree path that explains it',
    load: async () => (await import('./compare.js')).default as unknown as Command<OptionSpecs>,
  },
  eval: {
    summary: 'evaluate on a preference set (RewardBench weighting, accuracy, calibration) or re-aggregate saved results',
    load: async () => (await import('./eval.js')).default as unknown as Command<OptionSpecs>,
  },
  decontaminate: {
    summary: 'find training prompts that share an n-gram run with evaluation prompts; write the filtered set',
    load: async () => (await import('./decontaminate.js')).default as unknown as Command<OptionSpecs>,
  },
  audit: {
    summary: 'audit an LLM judge: parse its verdicts, fit a depth-3 tree of its preferences, compare with a reference tree',
    load: async () => (await import('./audit.js')).default as unknown as Command<OptionSpecs>,
  },
  report: {
    summary: 'write an explanation report (HTML, Markdown or JSON) for one comparison or a dataset',
    load: async () => (await import('./report.js')).default as unknown as Command<OptionSpecs>,
  },
  serve: {
    summary: 'serve the model over HTTP: POST /v1/compare and /v1/score, GET /healthz and /metrics',
    load: async () => (await import('./serve.js')).default as unknown as Command<OptionSpecs>,
  },
};
