/**
 * `dtr serve`: the reward model as an HTTP service (serve/server.ts), its flags, token and shutdown.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { DtrError } from '../errors.js';
import type { RewardModel } from '../model/reward-model.js';
import { RewardServer } from '../serve/server.js';
import { PreferenceTree } from '../tree/preference-tree.js';
import { defineCommand, type CliIO } from './args.js';
import { MODEL_OPTIONS, loadModelArg, runSelfCheck } from './model-args.js';
import { jsonText } from '../util/format.js';
import { textArg } from './shared.js';
import {
  checkRewardChoice,
  defaultRewardChoice,
  formatRewardChoice,
  parseRewardChoice,
  REWARD_CHOICE_SYNTAX,
} from '../model/reward-choice.js';
import { POLICY_FORMATS, policyFormatFromTemplate, type PolicyFormat } from '../text/policy-template.js';
import { readUtf8File } from '../io/utf8.js';

/**
 * The environment variable `dtr serve` reads its token from (when `--token` is not given).
 *
 * @example
 * ```sh
 * DTR_SERVE_TOKEN=$(openssl rand -hex 32) dtr serve --model models/fixture --host 0.0.0.0
 * ```
 */
export const TOKEN_ENV = 'DTR_SERVE_TOKEN';

export default defineCommand({
  name: 'serve',
  summary: 'serve the model over HTTP: POST /v1/compare, /v1/score, /v1/rewards, /get_reward; GET /healthz, /metrics',
  description: `Loads the model and answers HTTP requests, for training loops and data pipelines:
  POST /v1/compare  {"prompt" | "messages", "a", "b", "id"?}     -> the JSON of dtr compare --json
  POST /v1/score    {"prompt" | "messages", "response", "id"?}   -> the JSON of dtr score --json
  both also take a batch {"items": [...]} and answer {"items": [...]} in the same order
  POST /v1/rewards  {"prompts", "completions", "reward"?, "group"?}  -> {"rewards", "attributes"} (TRL's reward functions)
  POST /get_reward  {"query", "prompts", "labels"}             -> {"rewards", "scores", "extra_logs"} (OpenRLHF)
  GET  /healthz     200 when the model is loaded and the server accepts work, else 503
  GET  /metrics     Prometheus text: requests, latency, batch sizes, queue depth, truncations
Errors are {"error": {"code", "message", "field"?}} with a 4xx/5xx status (docs/serving.md).

The first line on stdout is "listening on http://HOST:PORT" (with --port 0, the port picked);
the model loads after it, and /healthz says 503 "loading" until it is ready. Concurrent
requests share the model's micro-batches; at most --queue-size conversations wait or run at
once (a pair counts 2), beyond that requests get 503 with Retry-After. SIGTERM or Ctrl-C stops
accepting, answers what was received, and exits 0; a second signal exits at once.

Binds to 127.0.0.1 (this machine only) by default. To serve other machines, set a token
(--token, or the ${TOKEN_ENV} environment variable, which keeps it out of the process list):
clients then send "Authorization: Bearer <token>" (/healthz stays open for load balancers).`,
  options: {
    ...MODEL_OPTIONS,
    host: {
      type: 'string',
      valueName: 'ADDRESS',
      description: 'address to listen on (0.0.0.0: every interface; needs a token)',
      default: '127.0.0.1',
    },
    port: {
      type: 'integer',
      valueName: 'N',
      description: 'port to listen on (0: a free one, printed on the first line)',
      default: 8000,
      min: 0,
      max: 65535,
    },
    token: {
      type: 'string',
      valueName: 'TOKEN|@FILE',
      description: `require "Authorization: Bearer TOKEN" (default: $${TOKEN_ENV}; @FILE reads it from a file)`,
    },
    'allow-unauthenticated': {
      type: 'boolean',
      description: 'serve a non-loopback --host without a token (e.g. behind a proxy that authenticates)',
    },
    'queue-size': {
      type: 'integer',
      valueName: 'N',
      description: 'most conversations waiting or running at once (a pair counts 2); more get 503',
      default: 1024,
      min: 1,
    },
    timeout: {
      type: 'number',
      valueName: 'SECONDS',
      description: 'per-request timeout, from the body arriving to the answer (504 after it)',
      default: 60,
      above: 0,
    },
    'max-body-bytes': {
      type: 'integer',
      valueName: 'N',
      description: 'largest request body; larger ones get 413',
      default: 16 * 1024 * 1024,
      min: 1,
    },
    'body-timeout': {
      type: 'number',
      valueName: 'SECONDS',
      description: 'time for a request body to arrive once its headers have (408 after it)',
      default: 30,
      above: 0,
      max: 3600,
    },
    'max-messages': {
      type: 'integer',
      valueName: 'N',
      description: "most messages in one prompt (a messages array, or a prompt string's <extra_id_1> turns); more get 400",
      default: 1024,
      min: 2,
      max: 1_000_000,
    },
    'max-json-depth': {
      type: 'integer',
      valueName: 'N',
      description: 'deepest nesting of arrays and objects in a body (a request needs 4); deeper gets 400',
      default: 32,
      min: 4,
      max: 1000,
    },
    'max-issues': {
      type: 'integer',
      valueName: 'N',
      description: 'most problems listed in an error\'s "issues" (the rest are counted in "moreIssues")',
      default: 20,
      min: 1,
      max: 10_000,
    },
    'max-discard-bytes': {
      type: 'integer',
      valueName: 'N',
      description: 'after an error answered before its body arrived (413...), bytes read and dropped so the client reads the answer',
      default: 64 * 1024 * 1024,
      min: 0,
      max: 1024 * 1024 * 1024,
    },
    'shutdown-grace': {
      type: 'number',
      valueName: 'SECONDS',
      description: 'on SIGTERM, time given to requests still sending their body before they get 503',
      default: 2,
      min: 0,
      max: 600,
    },
    tree: { type: 'string', valueName: 'NAME|PATH', description: "use this tree instead of the model's for /v1/compare and tree-winrate" },
    reward: {
      type: 'string',
      valueName: 'R',
      description: `the reward of /v1/rewards and /get_reward: ${REWARD_CHOICE_SYNTAX} (default: backbone where the folder has it, else attribute:helpfulness; a request may set "reward")`,
    },
    'policy-template': {
      type: 'string',
      valueName: 'auto|llama-3|chatml|gemma|FILE.jinja',
      description: "how /get_reward reads the policy's rendering (auto: by its markers)",
      default: 'auto',
    },
    asymmetric: { type: 'boolean', description: 'default /v1/compare to the published rule p = f(a-b) (a request may set "symmetric")' },
    'tie-band': {
      type: 'number',
      valueName: 'X',
      description: 'default tie band of /v1/compare (a request may set "tieBand")',
      default: 0,
      min: 0,
      below: 0.5,
    },
  },
  examples: [
    'dtr serve --model models/fixture --port 0',
    `${TOKEN_ENV}=$(openssl rand -hex 32) dtr serve --model models/skywork-8b --host 0.0.0.0 --port 8000`,
  ],
  async run(opts, io) {
    const usage = (message: string): DtrError =>
      new DtrError('E_USAGE', `dtr serve: ${message}`, { hint: "run 'dtr serve --help' for usage" });
    const token = tokenArg(io, opts.token);
    if (token !== null && (token === '' || /\s/.test(token)))
      throw usage(`the token (${opts.token !== undefined ? '--token' : TOKEN_ENV}) must be non-empty and hold no spaces or newlines`);
    if (!isLoopback(opts.host) && token === null && !opts['allow-unauthenticated']) {
      throw usage(
        `--host ${opts.host} is reachable from other machines: set a token (--token, or ${TOKEN_ENV}) so that only your clients can use the model, or pass --allow-unauthenticated`,
      );
    }
    if (token !== null && opts['allow-unauthenticated']) throw usage('--allow-unauthenticated contradicts the token that is set: drop one');
    const tree = opts.tree === undefined ? undefined : PreferenceTree.load(opts.tree, io.cwd);
    let reward;
    try {
      reward = opts.reward === undefined ? undefined : parseRewardChoice(opts.reward, '--reward');
    } catch (e) {
      throw usage((e as Error).message);
    }
    const policyTemplate = policyTemplateArg(io, opts['policy-template'], usage);
    // A mistyped folder fails here, before the address is announced (other load problems come after).
    if (!existsSync(resolve(io.cwd, opts.model))) throw new DtrError('E_NOT_FOUND', `--model ${opts.model}: no such folder`);

    const loadStarted = performance.now();
    let loading: Promise<RewardModel> | null = null;
    // Loaded once the port is bound: a taken port fails in milliseconds, not after the model load.
    const load = async (): Promise<RewardModel> => {
      const model = await loadModelArg(opts, io, 'serve');
      try {
        if (reward) checkRewardChoice(reward, model.config.backbone.rewardOutput !== null, '--reward');
        if (opts['self-check'])
          await runSelfCheck(
            model,
            [
              { prompt: 'Hello', response: 'Hi there' },
              { prompt: 'How many apples does each person get?', response: 'Each person gets 3 apples.' },
            ],
            opts.tolerance,
            io,
            'serve',
          );
      } catch (e) {
        await model.dispose();
        throw e;
      }
      return model;
    };
    let server: RewardServer;
    try {
      server = await RewardServer.start(() => (loading = load()), {
        host: opts.host,
        port: opts.port,
        token,
        queueSize: opts['queue-size'],
        timeoutMs: opts.timeout * 1000,
        maxBodyBytes: opts['max-body-bytes'],
        bodyTimeoutMs: opts['body-timeout'] * 1000,
        maxMessages: opts['max-messages'],
        maxJsonDepth: opts['max-json-depth'],
        maxIssues: opts['max-issues'],
        maxDiscardBytes: opts['max-discard-bytes'],
        shutdownGraceMs: opts['shutdown-grace'] * 1000,
        compare: { symmetric: !opts.asymmetric, tieBand: opts['tie-band'], ...(tree ? { tree } : {}) },
        onError: (m) => io.stderr(`dtr serve: error: ${m}\n`),
        ...(reward ? { reward } : {}),
        policyTemplate,
      });
    } catch (e) {
      await (loading as Promise<RewardModel> | null)?.then(
        (m) => m.dispose(),
        () => undefined,
      );
      throw e;
    }
    const event = (json: Record<string, unknown>, text: string): void => io.stdout(opts.json ? `${jsonText(json)}\n` : `${text}\n`);
    event({ event: 'listening', url: server.url, host: server.host, port: server.port }, `listening on ${server.url}`);

    const removeSignals = stopOnSignals(server, io);
    let model: RewardModel;
    try {
      model = await server.ready();
    } catch (e) {
      removeSignals();
      server.destroy();
      throw e;
    }
    if (server.state === 'ready') {
      const seconds = (performance.now() - loadStarted) / 1000;
      const treeName = (tree ?? model.tree).name;
      const rewardLine = reward
        ? `${formatRewardChoice(reward)} (--reward)`
        : defaultRewardChoice(model.config.backbone.rewardOutput !== null).why;
      event(
        {
          event: 'ready',
          model: model.config.name,
          provider: model.provider,
          tree: treeName,
          reward: formatRewardChoice(reward ?? defaultRewardChoice(model.config.backbone.rewardOutput !== null).choice),
          policyTemplate: typeof policyTemplate === 'string' ? policyTemplate : policyTemplate.name,
          loadSeconds: Number(seconds.toFixed(3)),
        },
        `ready: model ${model.config.name} (${model.provider}), tree ${treeName}, loaded in ${seconds.toFixed(1)} s; POST /v1/compare, POST /v1/score, POST /v1/rewards, POST /get_reward, GET /healthz, GET /metrics\nreward: ${rewardLine}`,
      );
    }
    const summary = await server.stopped;
    removeSignals();
    await model.dispose();
    const answered = Object.values(summary.responses).reduce((a, b) => a + b, 0);
    const codes = Object.entries(summary.responses)
      .map(([c, n]) => `${c}: ${n}`)
      .join(', ');
    event(
      { event: 'stopped', ...summary },
      `stopped: ${answered} request${answered === 1 ? '' : 's'} answered${codes ? ` (${codes})` : ''}, ${summary.conversations} conversations scored${summary.truncated ? `, ${summary.truncated} truncated` : ''}`,
    );
    return 0;
  },
});

/**
 * The first SIGTERM / SIGINT closes the server gracefully; a second exits at once
 * (128 + the signal's number, as a shell reports a process killed by it). Returns the remover.
 */
function stopOnSignals(server: RewardServer, io: CliIO): () => void {
  let first: string | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (first !== null) {
      io.stderr(`dtr serve: ${signal} again: stopping now, without answering the requests still open\n`);
      server.destroy();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    first = signal;
    void server.close(); // first: the listener closes now, before anything else can run
    const again = signal === 'SIGINT' ? 'Ctrl-C' : signal;
    io.stderr(`dtr serve: ${signal}: accepting no more requests, answering the ones received (${again} again stops at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}

/** The token from `--token` (`@file` reads a file, trimmed), else the environment, else none. */
function tokenArg(io: CliIO, flag: string | undefined): string | null {
  if (flag !== undefined) return flag.startsWith('@') ? textArg(io, 'token', flag).trim() : flag;
  const env = process.env[TOKEN_ENV];
  return env === undefined || env === '' ? null : env;
}

/** `--policy-template`: a family's name, `auto`, or a .jinja file read into a format. */
function policyTemplateArg(io: CliIO, value: string, usage: (m: string) => DtrError): PolicyFormat | 'auto' {
  if (value === 'auto') return 'auto';
  if (value in POLICY_FORMATS) return POLICY_FORMATS[value as keyof typeof POLICY_FORMATS];
  if (!value.endsWith('.jinja')) throw usage(`--policy-template must be auto, llama-3, chatml, gemma or a FILE.jinja, got "${value}"`);
  const path = resolve(io.cwd, value);
  if (!existsSync(path)) throw new DtrError('E_NOT_FOUND', `--policy-template ${value}: no such file`);
  try {
    return policyFormatFromTemplate(readUtf8File(path, value), {}, '--policy-template');
  } catch (e) {
    if (e instanceof RangeError) throw usage(e.message);
    throw e;
  }
}

/** Whether an address only this machine can reach. */
function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}
