/**
 * What every command that loads a model shares: the model flags, loading the model with
 * warnings on stderr, the batch flags, reading text flags (`@file` reads a file), the prompt from
 * `--prompt` or `--messages`, and the `--self-check` report. (`--file` runs: run-file.ts.)
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { resolve } from 'node:path';
import { DtrError } from '../errors.js';
import { RewardModel } from '../model/reward-model.js';
import type { BatchOptions, LoadOptions, ScoreItem, SelfCheckReport } from '../model/types.js';
import { checkText, promptMessages, type ChatMessage, type Prompt } from '../text/prompt.js';
import { flagError, type CliIO, type OptionSpecs } from './args.js';
import { f3, textArg } from './shared.js';

/** The flags that put the backbone on an inference engine (docs/scaling.md); every model command has them. */
export const BACKBONE_OPTIONS = {
  'backbone-url': {
    type: 'string',
    valueName: 'URL[,URL...]',
    description:
      "run the backbone on an inference engine at these URLs (vLLM: http://host:8000/v1; Triton: http://host:8000) instead of model.onnx (default: dtr.json's backbone.remote)",
  },
  'backbone-protocol': {
    type: 'string',
    choices: ['openai-embeddings', 'kserve-v2'],
    description: "the engine's protocol (default: dtr.json's backbone.remote, else openai-embeddings)",
  },
  'backbone-model': {
    type: 'string',
    valueName: 'NAME',
    description: "the served model's name (default: dtr.json's backbone.remote.model, else backbone.id; kserve-v2: the model name)",
  },
} as const satisfies OptionSpecs;

/** Flags of every command that loads a model folder. */
export const MODEL_OPTIONS = {
  model: {
    type: 'string',
    valueName: 'DIR',
    description: 'model folder (dtr.json, model.onnx, tokenizer files, head, tree)',
    required: true,
  },
  head: {
    type: 'string',
    valueName: 'NAME|PATH',
    description: "use this head instead of the folder's (a file, or a name: DIR/heads/NAME.json, then shipped heads)",
  },
  provider: {
    type: 'string',
    choices: ['auto', 'cuda', 'cpu'],
    description: "execution provider (default: dtr.json's, usually auto = CUDA else CPU)",
  },
  'max-length': {
    type: 'integer',
    min: 2,
    valueName: 'N',
    description: "truncate conversations to N tokens (default: dtr.json's maxLength)",
  },
  'batch-size': { type: 'integer', min: 1, valueName: 'N', description: "conversations per batch (default: dtr.json's)" },
  'max-tokens-per-batch': { type: 'integer', min: 1, valueName: 'N', description: "padded tokens per batch (default: dtr.json's)" },
  'padding-side': { type: 'string', choices: ['right', 'left'], description: "padding side (default: dtr.json's)" },
  threads: {
    type: 'integer',
    min: 1,
    valueName: 'N',
    description: 'onnxruntime intra-op threads (default: every core this process may use)',
  },
  'self-check': {
    type: 'boolean',
    description: 'first check that scores do not depend on batch composition, order or padding (fails with exit 1 otherwise)',
  },
  tolerance: { type: 'number', min: 0, valueName: 'X', description: 'largest reward difference --self-check accepts', default: 1e-5 },
  ...BACKBONE_OPTIONS,
} as const satisfies OptionSpecs;

/** The prompt flags of `dtr score` and `dtr compare`, and where `--file` results go. */
export const TEXT_OPTIONS = {
  prompt: {
    type: 'string',
    valueName: 'TEXT|@FILE',
    description: 'the prompt (HelpSteer2 <extra_id_1> multi-turn strings are split into turns)',
  },
  messages: { type: 'string', valueName: 'JSON|@FILE', description: 'the prompt as a JSON array of {"role", "content"} chat messages' },
  out: { type: 'string', valueName: 'FILE.jsonl', description: 'with --file: write results here (atomically) instead of stdout' },
} as const satisfies OptionSpecs;

/** The model flags shared by every command that loads a model folder. */
export type ModelFlags = {
  model: string;
  head?: string | undefined;
  provider?: string | undefined;
  'max-length'?: number | undefined;
  'batch-size'?: number | undefined;
  'max-tokens-per-batch'?: number | undefined;
  'padding-side'?: string | undefined;
  threads?: number | undefined;
  'backbone-url'?: string | undefined;
  'backbone-protocol'?: string | undefined;
  'backbone-model'?: string | undefined;
};

/**
 * Loads `--model` with the other model flags; warnings (CUDA fallback) go to stderr. `overrides`
 * replace what the flags say (e.g. `{ head: null }` to load the backbone alone).
 */
export async function loadModelArg(
  opts: ModelFlags,
  io: CliIO,
  command: string,
  overrides: Partial<Omit<LoadOptions, 'dir'>> = {},
): Promise<RewardModel> {
  const dir = resolve(io.cwd, opts.model);
  // A --head given as a path is relative to the working directory; a bare name is looked up in the folder.
  const head = opts.head === undefined ? undefined : /[\\/]|\.json$/.test(opts.head) ? resolve(io.cwd, opts.head) : opts.head;
  try {
    return await RewardModel.load({
      dir,
      ...(head !== undefined ? { head } : {}),
      ...(opts.provider !== undefined ? { provider: opts.provider as 'auto' | 'cuda' | 'cpu' } : {}),
      ...(opts['max-length'] !== undefined ? { maxLength: opts['max-length'] } : {}),
      ...batchFlags(opts),
      ...(opts.threads !== undefined ? { sessionOptions: { intraOpNumThreads: opts.threads } } : {}),
      ...remoteFlags(opts),
      onWarning: (m) => io.stderr(`dtr ${command}: warning: ${m}\n`),
      ...overrides,
    });
  } catch (e) {
    // What the flags' ranges cannot rule out (how many tokens the chat template takes depends on the folder).
    const given = Object.entries(FLAG_OF_OPTION).filter(([, flag]) => opts[flag] !== undefined);
    throw flagError(e, command, Object.fromEntries(given)) ?? e;
  }
}

/**
 * `--backbone-url`, `--backbone-protocol`, `--backbone-model` as the `remote` load option (absent
 * when none is given, so dtr.json's backbone.remote, or model.onnx, applies).
 */
export function remoteFlags(opts: Pick<ModelFlags, 'backbone-url' | 'backbone-protocol' | 'backbone-model'>): Pick<LoadOptions, 'remote'> {
  const url = opts['backbone-url'];
  if (url === undefined && opts['backbone-protocol'] === undefined && opts['backbone-model'] === undefined) return {};
  const urls = url?.split(',').map((u) => u.trim());
  for (const u of urls ?? []) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(u).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new DtrError('E_USAGE', `--backbone-url must be http(s) URLs separated by commas, got ${JSON.stringify(u)}`);
  }
  return {
    remote: {
      ...(urls ? { urls } : {}),
      ...(opts['backbone-protocol'] !== undefined ? { protocol: opts['backbone-protocol'] as 'openai-embeddings' | 'kserve-v2' } : {}),
      ...(opts['backbone-model'] !== undefined ? { model: opts['backbone-model'] } : {}),
    },
  };
}

/** The flag that sets each load option (`--max-length` sets `maxLength`). */
const FLAG_OF_OPTION = {
  maxLength: 'max-length',
  batchSize: 'batch-size',
  maxTokensPerBatch: 'max-tokens-per-batch',
  paddingSide: 'padding-side',
  provider: 'provider',
} as const satisfies Record<string, keyof ModelFlags>;

/**
 * The batch flags (`--batch-size`, `--max-tokens-per-batch`, `--padding-side`) as batch options,
 * leaving out the ones not given (so dtr.json's apply).
 */
export function batchFlags(
  opts: Pick<ModelFlags, 'batch-size' | 'max-tokens-per-batch' | 'padding-side'>,
): Pick<BatchOptions, 'batchSize' | 'maxTokensPerBatch' | 'paddingSide'> {
  return {
    ...(opts['batch-size'] !== undefined ? { batchSize: opts['batch-size'] } : {}),
    ...(opts['max-tokens-per-batch'] !== undefined ? { maxTokensPerBatch: opts['max-tokens-per-batch'] } : {}),
    ...(opts['padding-side'] !== undefined ? { paddingSide: opts['padding-side'] as 'left' | 'right' } : {}),
  };
}

/**
 * The prompt from `--prompt TEXT|@file` or `--messages JSON|@file.json` (exactly one), checked as
 * the model checks it: a bad one is a usage error naming the flag.
 */
export function promptArg(io: CliIO, command: string, prompt: string | undefined, messages: string | undefined): Prompt {
  if (prompt !== undefined && messages !== undefined)
    throw new DtrError('E_USAGE', `dtr ${command}: give --prompt or --messages, not both`);
  if (prompt !== undefined) {
    const text = textArg(io, 'prompt', prompt);
    asUsage(command, () => promptMessages(text, flagName('prompt', prompt)));
    return text;
  }
  if (messages === undefined)
    throw new DtrError('E_USAGE', `dtr ${command}: --prompt (or --messages) is required unless --file is given`, {
      hint: `run 'dtr ${command} --help' for usage`,
    });
  const text = textArg(io, 'messages', messages);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DtrError(
      'E_USAGE',
      `--messages must be a JSON array of {"role", "content"} messages (or @file.json), got ${text.length > 50 ? `${text.slice(0, 50)}…` : text}`,
    );
  }
  asUsage(command, () => promptMessages(json, flagName('messages', messages)));
  return json as ChatMessage[];
}

/** A response text flag (`--response`, `--a`, `--b`: the text, or `@file`), checked as the model checks it. */
export function responseArg(io: CliIO, command: string, flag: string, value: string): string {
  const text = textArg(io, flag, value);
  asUsage(command, () => checkText(text, flagName(flag, value)));
  return text;
}

/** How an error names a text flag: `--a`, or `--a @answer.txt` when it was read from a file. */
function flagName(flag: string, value: string): string {
  return value.startsWith('@') ? `--${flag} ${value}` : `--${flag}`;
}

/** Runs an SDK check whose TypeError / RangeError is about a flag's value: a usage error (exit 2). */
function asUsage<T>(command: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError)
      throw new DtrError('E_USAGE', `dtr ${command}: ${e.message}`, { hint: `run 'dtr ${command} --help' for usage`, cause: e });
    throw e;
  }
}

/** Runs the self-check, prints its report on stderr, and throws `E_SELF_CHECK` when it fails. */
export async function runSelfCheck(
  model: RewardModel,
  items: ScoreItem[],
  tolerance: number,
  io: CliIO,
  command: string,
): Promise<SelfCheckReport> {
  const report = await model.selfCheck(items, { tolerance });
  const lines = [
    `dtr ${command}: self-check on ${report.conversations} conversations (${items.length} yours + 2 fillers), tolerance ${tolerance}:`,
  ];
  for (const c of report.cases) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: max |diff| ${c.maxDiff.toExponential(2)}`);
  io.stderr(`${lines.join('\n')}\n`);
  if (model.provider.startsWith('remote:')) await runEngineCheck(model, io, command);
  if (!report.ok) {
    const failed = report.cases.filter((c) => !c.ok);
    throw new DtrError(
      'E_SELF_CHECK',
      `self-check failed: rewards changed by up to ${report.maxDiff.toExponential(2)} (> ${tolerance}) with ${failed.map((c) => c.name).join('; ')}`,
      {
        issues: failed.map((c) => ({ path: c.name, message: `max |diff| ${c.maxDiff}` })),
        hint: failed.some((c) => c.name.includes('padding'))
          ? 'the export mishandles one padding side (often: no position_ids input): set paddingSide in dtr.json to the side that passes, or export with position_ids'
          : 'the export is not batch-invariant: score with --batch-size 1, and check the ONNX export',
      },
    );
  }
  return report;
}

/**
 * With the backbone on an inference engine, `--self-check` also holds the engine to export.json's
 * check vectors (RewardModel.checkEngine); prints the report on stderr, throws `E_SELF_CHECK` when it fails.
 */
async function runEngineCheck(model: RewardModel, io: CliIO, command: string): Promise<void> {
  const report = await model.checkEngine();
  const lines = [`dtr ${command}: engine check on export.json's ${report.conversations} check conversations (${report.dtype} tolerance):`];
  for (const c of report.cases)
    lines.push(
      `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.limit === 0 && c.name.startsWith('template') ? c.detail : `max |diff| ${c.maxDiff.toExponential(2)} (limit ${c.limit.toExponential(2)}); ${c.detail}`}`,
    );
  io.stderr(`${lines.join('\n')}\n`);
  if (!report.ok) {
    const failed = report.cases.filter((c) => !c.ok);
    throw new DtrError('E_SELF_CHECK', `engine check failed: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`, {
      issues: failed.map((c) => ({ path: c.name, message: c.detail })),
      hint: 'the engine does not serve the backbone this folder was exported from as the exporter checked it: see docs/scaling.md',
    });
  }
}

/** `2.358` (or `-` for missing) */
export function fmtReward(x: number | undefined): string {
  return x === undefined ? '-' : f3(x);
}
