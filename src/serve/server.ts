/**
 * The reward model as an HTTP service: `POST /v1/compare`, `POST /v1/score` (one item or a
 * batch), `GET /healthz`, `GET /metrics`.
 *
 * Built on Node's own `http` server: five routes, JSON in and out, and the parts that matter
 * here (a body limit enforced while reading, a bounded queue, graceful shutdown with
 * `closeIdleConnections`) are each a few lines on top of it, with no dependency to keep up with.
 *
 * Life cycle: {@link RewardServer.start} listens at once and loads (or awaits) the model;
 * `/healthz` answers 503 until the model is ready, then 200, and 503 again once
 * {@link RewardServer.close} has begun (so a load balancer stops sending). Closing stops
 * accepting connections, answers every request already received, then resolves.
 *
 * May import: its own folder (serve/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/. Never cli/ (test/import-graph.test.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { planBatches } from '../backbone/batching.js';
import { DtrError } from '../errors.js';
import type { RewardModel } from '../model/reward-model.js';
import type { CompareOptions, CompareResult, ScoreResult } from '../model/types.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import { jsonText } from '../util/format.js';
import { VERSION } from '../version.js';
import { ServeError } from './errors.js';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE, type Counter, type Histogram } from './metrics.js';
import { BodyReads, ClientGone, discardBody, readBody } from './body.js';
import {
  REQUEST_LIMIT_DEFAULTS,
  parseJsonBody,
  parseRequest,
  type CompareRequestItem,
  type ScoreRequestItem,
  type ServeRoute,
} from './requests.js';
import { Scheduler, type Unit, type UnitResult } from './scheduler.js';
import { answerGetReward, answerRewards } from './rewards.js';
import { defaultRewardChoice, type RewardChoice } from '../model/reward-choice.js';
import type { PolicyFormat } from '../text/policy-template.js';

/** Options of {@link RewardServer.start}. */
export interface ServeOptions {
  /** Address to bind (default `127.0.0.1`: this machine only). */
  host?: string;
  /** Port (default 8000; 0 picks a free one, see {@link RewardServer.port}). */
  port?: number;
  /** When set, every route but `/healthz` needs `Authorization: Bearer <token>`. Never logged. */
  token?: string | null;
  /** Most conversations accepted and not yet scored (waiting + running; a pair counts 2). Default 1024. */
  queueSize?: number;
  /** Per-request timeout in ms, from the body's arrival to the response (default 60,000). */
  timeoutMs?: number;
  /** Largest request body in bytes (default 16 MiB). */
  maxBodyBytes?: number;
  /** Time for a request's body to arrive, in ms from its headers (default 30,000): `408 E_BODY_TIMEOUT` after it. */
  bodyTimeoutMs?: number;
  /** Most messages in one prompt (default 1024): a `messages` array, or a string's `<extra_id_1>` turns. */
  maxMessages?: number;
  /** Deepest nesting of arrays and objects in a body (default 32; a request needs 4). */
  maxJsonDepth?: number;
  /** Most problems listed in an error's `issues` (default 20); the rest are counted in `moreIssues`. */
  maxIssues?: number;
  /**
   * After an error answered before the body has arrived (413, 401, ...), bytes of it read and
   * dropped so the client, still sending, reads the answer (default 64 MiB); past them the
   * connection is closed.
   */
  maxDiscardBytes?: number;
  /** On {@link RewardServer.close}, ms given to requests still sending their body before they are ended (default 2,000). */
  shutdownGraceMs?: number;
  /** Decision defaults for `/v1/compare` (a request's `symmetric` / `tieBand` override them). */
  compare?: CompareOptions;
  /** Receives one line for each request that failed inside the model (500): default stderr. */
  onError?: (message: string) => void;
  /** The scalar of `/v1/rewards` and `/get_reward` (default: the backbone's where the folder has one, else helpfulness). */
  reward?: RewardChoice;
  /** How `/get_reward` reads the policy's rendering (default `auto`: Llama-3, ChatML or Gemma by their markers). */
  policyTemplate?: PolicyFormat | 'auto';
}

/** What {@link RewardServer.close} reports. */
export interface ServeSummary {
  /** Requests answered, by status code (`499`: the client left before the answer). */
  responses: Record<string, number>;
  /** Conversations scored. */
  conversations: number;
  /** Of those, conversations that were truncated to `maxLength`. */
  truncated: number;
  /** Requests whose client went away before the answer. */
  abandoned: number;
}

/** What {@link RewardServer.start} serves: a model, its promise, or a function that loads it. */
export type ModelSource = RewardModel | Promise<RewardModel> | (() => Promise<RewardModel>);

/** Where a server is in its life. */
export type ServeState = 'loading' | 'ready' | 'failed' | 'draining' | 'stopped';

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  queueSize: 1024,
  timeoutMs: 60_000,
  maxBodyBytes: 16 * 1024 * 1024,
  bodyTimeoutMs: 30_000,
  maxMessages: REQUEST_LIMIT_DEFAULTS.maxMessages,
  maxJsonDepth: REQUEST_LIMIT_DEFAULTS.maxJsonDepth,
  maxIssues: REQUEST_LIMIT_DEFAULTS.maxIssues,
  maxDiscardBytes: 64 * 1024 * 1024,
  shutdownGraceMs: 2_000,
};
const ROUTES: Record<string, { methods: readonly string[] }> = {
  '/v1/compare': { methods: ['POST'] },
  '/v1/score': { methods: ['POST'] },
  '/v1/rewards': { methods: ['POST'] },
  '/get_reward': { methods: ['POST'] },
  '/healthz': { methods: ['GET', 'HEAD'] },
  '/metrics': { methods: ['GET', 'HEAD'] },
};
const LATENCY_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BATCH_BOUNDS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/**
 * Conversations handed to the model at once, in batches of its batch size: four, as
 * compareMany's windows. Sorting by length inside a window pads less, and fewer, larger windows
 * cost less per pair (1.5-2x the throughput of one batch at a time on the fixture model); a
 * timed-out request still leaves the queue at the next window.
 */
const WINDOW_BATCHES = 4;

/**
 * The reward model behind HTTP. Results are the JSON of `dtr compare --json` / `dtr score --json`;
 * concurrent requests share the model's micro-batches, and a conversation's result does not
 * depend on what it was batched with.
 *
 * @example
 * ```ts
 * import { RewardModel, RewardServer } from 'decision-tree-reward';
 * const server = await RewardServer.start(RewardModel.load('models/fixture'), { port: 0 });
 * await server.ready();
 * const res = await fetch(`${server.url}/v1/compare`, { method: 'POST', body: JSON.stringify({ prompt: 'Hi', a: 'Hello!', b: 'Go away.' }) });
 * (await res.json()).preference; // 'a'
 * await server.close();          // answers what was accepted, then stops
 * ```
 */
export class RewardServer {
  /** The address bound (as given, e.g. `127.0.0.1`). */
  readonly host: string;
  /** The port bound (the one picked, with `port: 0`). */
  readonly port: number;
  private readonly http: Server;
  private readonly options: Required<
    Omit<ServeOptions, 'token' | 'compare' | 'onError' | 'host' | 'port' | 'reward' | 'policyTemplate'>
  > & {
    reward: RewardChoice | null;
    policyTemplate: PolicyFormat | 'auto';
    compare: CompareOptions;
    onError: (m: string) => void;
  };
  private readonly tokenDigest: Buffer | null;
  private model: RewardModel | null = null;
  private scheduler: Scheduler | null = null;
  private stateValue: ServeState = 'loading';
  private loadError: unknown = null;
  private readonly loaded: Promise<RewardModel>;
  private open = 0;
  private readonly responses: Record<string, number> = {};
  private closing: Promise<ServeSummary> | null = null;
  private markStopped!: (summary: ServeSummary) => void;
  /**
   * Resolves with the {@link summary} once the server has stopped (by {@link close} or
   * {@link destroy}, whoever called it).
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void server.close());
   * const { responses } = await server.stopped;
   * ```
   */
  readonly stopped: Promise<ServeSummary>;
  private drained: (() => void) | null = null;
  /** Bodies being read or discarded, so close() can end those still going after its grace. */
  private readonly reads = new BodyReads();
  /** Set once close()'s grace has passed: a body still arriving is not waited for. */
  private graceOver = false;
  private readonly registry = new MetricsRegistry();
  private readonly requests: Counter;
  private readonly latency: Histogram;
  private readonly windows: Histogram;
  private readonly batches: Histogram;
  private readonly conversations: Counter;
  private readonly truncations: Counter;
  private readonly abandoned: Counter;

  private constructor(http: Server, host: string, port: number, model: ModelSource, options: ServeOptions) {
    this.http = http;
    this.stopped = new Promise((resolve) => (this.markStopped = resolve));
    this.host = host;
    this.port = port;
    this.options = {
      queueSize: options.queueSize ?? DEFAULTS.queueSize,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
      maxMessages: options.maxMessages ?? DEFAULTS.maxMessages,
      maxJsonDepth: options.maxJsonDepth ?? DEFAULTS.maxJsonDepth,
      maxIssues: options.maxIssues ?? DEFAULTS.maxIssues,
      maxDiscardBytes: options.maxDiscardBytes ?? DEFAULTS.maxDiscardBytes,
      shutdownGraceMs: options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
      compare: options.compare ?? {},
      onError: options.onError ?? ((m) => void process.stderr.write(`dtr serve: ${m}\n`)),
      reward: options.reward ?? null,
      policyTemplate: options.policyTemplate ?? 'auto',
    };
    // Digests have one length whatever the token, so comparing them in constant time leaks neither the token nor its length.
    this.tokenDigest = options.token ? digest(Buffer.from(options.token, 'utf8')) : null;
    this.requests = this.registry.counter('dtr_serve_requests_total', 'HTTP requests answered, by route and status code.');
    this.latency = this.registry.histogram(
      'dtr_serve_request_duration_seconds',
      'Time from a request arriving to its answer, by route.',
      LATENCY_BOUNDS,
    );
    this.windows = this.registry.histogram(
      'dtr_serve_window_conversations',
      'Conversations handed to the model together (one window, up to 4 batches of --batch-size).',
      BATCH_BOUNDS,
    );
    this.batches = this.registry.histogram(
      'dtr_serve_batch_size',
      'Conversations per backbone forward pass (the batches the model plans for each window: --batch-size and --max-tokens-per-batch).',
      BATCH_BOUNDS,
    );
    this.registry.gauge('dtr_serve_queue_depth', 'Conversations accepted and waiting for the model.', () => this.scheduler?.queued ?? 0);
    this.registry.gauge('dtr_serve_running_conversations', 'Conversations in the model now.', () => this.scheduler?.running ?? 0);
    this.registry.gauge(
      'dtr_serve_queue_capacity',
      'Most conversations accepted and not yet scored (--queue-size).',
      () => this.options.queueSize,
    );
    this.registry.gauge('dtr_serve_requests_in_flight', 'HTTP requests received and not yet answered.', () => this.open);
    this.conversations = this.registry.counter('dtr_serve_conversations_total', 'Conversations scored.');
    this.truncations = this.registry.counter(
      'dtr_serve_truncated_conversations_total',
      "Conversations shortened to the model's maxLength (each result says how).",
    );
    this.abandoned = this.registry.counter(
      'dtr_serve_abandoned_requests_total',
      'Requests whose client closed the connection before the answer (their waiting work was dropped).',
    );
    this.registry.gauge('dtr_serve_ready', '1 when the model is loaded and the server accepts work.', () =>
      this.stateValue === 'ready' ? 1 : 0,
    );
    this.registry.gauge('dtr_serve_info', 'The model served (value always 1).', () =>
      this.model
        ? [
            {
              labels: { model: this.model.config.name, provider: this.model.provider, tree: this.treeOf().name, version: VERSION },
              value: 1,
            },
          ]
        : [],
    );
    // A load function starts on the next macrotask: RewardModel.load does seconds of synchronous
    // work (tokenizer files) first, and the caller should be able to announce the address before.
    const source = typeof model === 'function' ? new Promise<void>((resolve) => setImmediate(resolve)).then(model) : Promise.resolve(model);
    this.loaded = source.then(
      (m) => {
        this.model = m;
        this.scheduler = new Scheduler(m, {
          capacity: this.options.queueSize,
          window: m.config.batchSize * WINDOW_BATCHES,
          timeoutMs: this.options.timeoutMs,
          onWindow: (n, _seconds, results) => this.countWindow(n, results),
        });
        if (this.stateValue === 'loading') this.stateValue = 'ready';
        return m;
      },
      (e) => {
        this.loadError = e;
        if (this.stateValue === 'loading') this.stateValue = 'failed';
        throw e;
      },
    );
    this.loaded.catch(() => undefined); // surfaced by ready()
    http.on('request', (req, res) => void this.handle(req, res).catch(() => res.destroy()));
    http.on('error', (e) => this.options.onError(`server error: ${describeError(e)}`));
  }

  /**
   * Listens on `host:port` at once, and serves the model when it is loaded: pass a model, the
   * promise of `RewardModel.load`, or a function returning one (called once listening, so the
   * address is taken before the slow load). `/healthz` says `loading` meanwhile. The caller
   * keeps ownership of the model: dispose it after {@link close}.
   * @throws DtrError `E_LISTEN` when the address cannot be bound (in use, not this machine's);
   *   RangeError / TypeError for bad options.
   *
   * @example
   * ```ts
   * const server = await RewardServer.start(model, { host: '127.0.0.1', port: 0, queueSize: 256, timeoutMs: 30_000 });
   * console.log(server.url); // http://127.0.0.1:41523
   * ```
   */
  static async start(model: ModelSource, options: ServeOptions = {}): Promise<RewardServer> {
    checkServeOptions(options);
    if (model === null || (typeof model !== 'object' && typeof model !== 'function'))
      throw new TypeError('model must be a RewardModel, a promise of one, or a function returning one');
    const host = options.host ?? DEFAULTS.host;
    const port = options.port ?? DEFAULTS.port;
    const http = createServer();
    // Idle keep-alive connections outlive a load balancer's (60 s on most), so the balancer never
    // reuses one the server has just closed; closing the server closes idle ones at once anyway.
    http.keepAliveTimeout = 65_000;
    http.headersTimeout = 66_000;
    await new Promise<void>((resolve, reject) => {
      http.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, host, port)));
      http.listen(port, host, () => resolve());
    });
    const bound = (http.address() as AddressInfo).port;
    return new RewardServer(http, host, bound, model, options);
  }

  /** `http://HOST:PORT` (IPv6 hosts in brackets). */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** `loading`, `ready`, `failed` (the model did not load), `draining` (closing) or `stopped`. */
  get state(): ServeState {
    return this.stateValue;
  }

  /**
   * Resolves with the model once it is loaded; rejects with the load's error.
   *
   * @example
   * ```ts
   * const model = await server.ready();
   * ```
   */
  ready(): Promise<RewardModel> {
    return this.loaded;
  }

  /**
   * The metrics page (`GET /metrics`): Prometheus text format.
   *
   * @example
   * ```ts
   * server.metrics().includes('dtr_serve_queue_depth 0'); // true when idle
   * ```
   */
  metrics(): string {
    return this.registry.render();
  }

  /**
   * Stops gracefully: no new connections, `/healthz` 503, new requests on open connections
   * 503 `E_SHUTTING_DOWN`; every request already received is answered (within the per-request
   * timeout), then the server closes. Idempotent.
   *
   * @example
   * ```ts
   * const summary = await server.close();
   * summary.responses; // { '200': 412, '400': 3 }
   * ```
   */
  close(): Promise<ServeSummary> {
    this.closing ??= (async () => {
      this.stateValue = 'draining';
      const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.http.closeIdleConnections();
      // A request still sending its body after the grace is answered 503 and its connection closed:
      // one slow client must not hold the shutdown for minutes.
      const grace = setTimeout(() => {
        this.graceOver = true;
        this.reads.abortAll(
          new ServeError('E_SHUTTING_DOWN', 'the server is stopping and the request body had not arrived: send it to another replica', {
            headers: { 'retry-after': '1' },
          }),
        );
      }, this.options.shutdownGraceMs);
      if (this.open > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      clearTimeout(grace);
      await this.scheduler?.idle();
      // Connections still open hold no request (or one that arrived as we closed, already answered).
      this.http.closeAllConnections();
      await closed;
      this.stateValue = 'stopped';
      const summary = this.summary();
      this.markStopped(summary);
      return summary;
    })();
    return this.closing;
  }

  /**
   * Closes every connection now, answered or not (a second Ctrl-C).
   *
   * @example
   * ```ts
   * server.destroy();
   * ```
   */
  destroy(): void {
    this.stateValue = 'stopped';
    this.http.closeAllConnections();
    this.http.close();
    this.markStopped(this.summary());
  }

  /** Counts so far (what {@link close} returns). */
  summary(): ServeSummary {
    return {
      responses: { ...this.responses },
      conversations: this.conversations.get(),
      truncated: this.truncations.get(),
      abandoned: this.abandoned.get(),
    };
  }

  // ── requests ───────────────────────────────────────────────────────────────────────────

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    // Received before close() began: it is answered normally (that is what "finish what was accepted" means).
    const accepted = this.stateValue !== 'draining' && this.stateValue !== 'stopped';
    const deadline = started + this.options.bodyTimeoutMs;
    const path = pathOf(req.url);
    const route = routeOf(path);
    const label = route ?? 'other';
    this.open++;
    res.on('close', () => {
      this.open--;
      // 499 (nginx's "client closed request"): the client left before the answer was sent.
      const gone = !res.writableFinished;
      if (gone) this.abandoned.inc();
      const code = gone ? '499' : String(res.statusCode);
      this.responses[code] = (this.responses[code] ?? 0) + 1;
      this.requests.inc({ route: label, code });
      this.latency.observe((performance.now() - started) / 1000, { route: label });
      if (this.open === 0 && this.drained) this.drained();
    });
    try {
      if (route === null)
        throw new ServeError(
          'E_NOT_FOUND',
          `no route ${req.method} ${shown(path)}: the routes are POST /v1/compare, POST /v1/score, POST /v1/rewards, POST /get_reward, GET /healthz, GET /metrics`,
        );
      const { methods } = ROUTES[route]!;
      if (!methods.includes(req.method ?? '')) {
        throw new ServeError('E_METHOD', `${route} takes ${methods.join(' or ')}, not ${req.method}`, {
          headers: { allow: methods.join(', ') },
        });
      }
      if (route === '/healthz') return this.health(res);
      this.authorize(req);
      if (route === '/metrics') return send(res, 200, this.metrics(), PROMETHEUS_CONTENT_TYPE, this.closingHeaders());
      if (!accepted)
        throw new ServeError('E_SHUTTING_DOWN', 'the server is stopping and accepts no new requests: send it to another replica', {
          headers: { 'retry-after': '1' },
        });
      if (this.stateValue === 'loading')
        throw new ServeError('E_NOT_READY', 'the model is still loading: retry shortly (GET /healthz says when it is ready)', {
          headers: { 'retry-after': '1' },
        });
      if (!this.model || !this.scheduler) throw new ServeError('E_INTERNAL', `the model failed to load: ${describeError(this.loadError)}`);
      if (route === '/v1/rewards' || route === '/get_reward') await this.reward(route, req, res, deadline);
      else await this.score(route === '/v1/compare' ? 'compare' : 'score', req, res, deadline);
    } catch (e) {
      this.fail(req, res, e, deadline);
    }
  }

  private async score(route: ServeRoute, req: IncomingMessage, res: ServerResponse, deadline: number): Promise<void> {
    const model = this.model!;
    const scheduler = this.scheduler!;
    const o = this.options;
    const body = await this.jsonBody(req, deadline);
    const check = (prompt: unknown, response: unknown, params: { prompt: string; response: string }): void =>
      void model.encoder.checkedConversation(prompt, response, params);
    const request = parseRequest(route, body, check, {
      maxConversations: scheduler.capacity,
      maxMessages: o.maxMessages,
      maxIssues: o.maxIssues,
    });
    const compareOptions: CompareOptions = { ...this.options.compare, ...request.options };
    const units: Unit[] = request.items.map((item) =>
      route === 'compare'
        ? { kind: 'compare', item: item as CompareRequestItem, options: compareOptions }
        : { kind: 'score', item: item as ScoreRequestItem },
    );
    const submission = scheduler.submit(units, request.conversations);
    // A client that hangs up takes its waiting work with it.
    res.on('close', () => {
      if (!res.writableFinished) submission.cancel();
    });
    const results = await submission.result;
    if (res.destroyed) return;
    const tree = compareOptions.tree ?? model.tree;
    const bodies = results.map((r, i) =>
      route === 'compare'
        ? this.compareJson(request.items[i] as CompareRequestItem, r as CompareResult, tree)
        : this.scoreJson(request.items[i] as ScoreRequestItem, r as ScoreResult),
    );
    sendJson(res, 200, request.batch ? { items: bodies } : bodies[0], this.closingHeaders());
  }

  /** The request's body under the server's limits (size, deadline, nesting), parsed. */
  private async jsonBody(req: IncomingMessage, deadline: number): Promise<unknown> {
    const o = this.options;
    const text = await readBody(req, { maxBytes: o.maxBodyBytes, deadline, timeoutSeconds: o.bodyTimeoutMs / 1000 }, this.reads);
    return parseJsonBody(text, o.maxJsonDepth);
  }

  /** The reward routes (rewards.ts), scored through the same queue. */
  private async reward(route: '/v1/rewards' | '/get_reward', req: IncomingMessage, res: ServerResponse, deadline: number): Promise<void> {
    const model = this.model!;
    const scheduler = this.scheduler!;
    const body = await this.jsonBody(req, deadline);
    const ctx = {
      model,
      reward: this.options.reward ?? defaultRewardChoice(model.config.backbone.rewardOutput !== null).choice,
      policy: this.options.policyTemplate,
      tree: this.treeOf(),
      symmetric: this.options.compare.symmetric ?? true,
      capacity: scheduler.capacity,
      score: async (items: ScoreRequestItem[]) => {
        const submission = scheduler.submit(items.map((item) => ({ kind: 'score' as const, item })));
        res.on('close', () => {
          if (!res.writableFinished) submission.cancel();
        });
        return (await submission.result) as ScoreResult[];
      },
    };
    const urlReward = new URL(req.url ?? '/', 'http://localhost').searchParams.get('reward');
    const answer = route === '/v1/rewards' ? await answerRewards(body, ctx) : await answerGetReward(body, ctx, urlReward);
    if (!res.destroyed) sendJson(res, 200, answer, this.closingHeaders());
  }

  /** As `dtr compare --json` prints it (the texts last), with the item's `id` first. */
  private compareJson(item: CompareRequestItem, r: CompareResult, tree: PreferenceTree): unknown {
    const m = this.model!;
    return {
      ...(item.id !== undefined ? { id: item.id } : {}),
      model: m.config.name,
      provider: m.provider,
      tree: tree.name,
      ...r,
      ...(typeof item.prompt === 'string' ? { prompt: item.prompt } : { messages: item.prompt }),
      a: item.a,
      b: item.b,
    };
  }

  /** As `dtr score --json` prints it, with the item's `id` first. */
  private scoreJson(item: ScoreRequestItem, r: ScoreResult): unknown {
    const m = this.model!;
    return { ...(item.id !== undefined ? { id: item.id } : {}), model: m.config.name, provider: m.provider, ...r };
  }

  private health(res: ServerResponse): void {
    const state = this.stateValue;
    if (state === 'ready') {
      const m = this.model!;
      return sendJson(
        res,
        200,
        { status: 'ready', model: m.config.name, provider: m.provider, tree: this.treeOf().name, version: VERSION },
        this.closingHeaders(),
      );
    }
    const body: Record<string, unknown> = { status: state };
    if (state === 'failed') body.error = describeError(this.loadError);
    sendJson(res, 503, body, { 'retry-after': state === 'loading' ? '1' : '5', ...this.closingHeaders() });
  }

  private authorize(req: IncomingMessage): void {
    if (this.tokenDigest === null) return;
    const header = req.headers.authorization;
    const challenge = { 'www-authenticate': 'Bearer realm="dtr"' };
    if (header === undefined)
      throw new ServeError('E_UNAUTHORIZED', 'this server needs a token: send the header "Authorization: Bearer <token>"', {
        headers: challenge,
      });
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) throw new ServeError('E_UNAUTHORIZED', 'the Authorization header must be "Bearer <token>"', { headers: challenge });
    // Node reads header bytes as Latin-1, one character per byte: back to the bytes sent, compared
    // with the token's UTF-8 bytes (a client sending the token in Latin-1 sends other bytes).
    if (!timingSafeEqual(digest(Buffer.from(m[1]!, 'latin1')), this.tokenDigest))
      throw new ServeError('E_UNAUTHORIZED', 'wrong token', { headers: challenge });
  }

  /** Answers an error; never throws (when even the answer cannot be written, the connection is closed). */
  private fail(req: IncomingMessage, res: ServerResponse, e: unknown, deadline: number): void {
    try {
      this.answerError(req, res, e, deadline);
    } catch {
      res.destroy();
    }
  }

  private answerError(req: IncomingMessage, res: ServerResponse, e: unknown, deadline: number): void {
    const error =
      e instanceof ServeError
        ? e
        : e instanceof ClientGone
          ? null
          : new ServeError('E_INTERNAL', `internal error: ${describeError(e)}`, { cause: e });
    if (error === null || res.destroyed) return;
    if (error.status >= 500 && error.code === 'E_INTERNAL') this.options.onError(error.message);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const text = `${jsonText(error.body())}\n`;
    const headers = { ...error.headers, ...this.closingHeaders() };
    if (req.complete) return send(res, error.status, text, JSON_TYPE, headers);
    // The body is still arriving: answer now, and close once the client has sent the rest (read
    // and dropped, up to a bound and the body deadline), so a client that writes its whole body
    // before reading reads this answer instead of a reset. A late or stopped body is not waited for.
    res.shouldKeepAlive = false;
    writeHead(res, error.status, text, JSON_TYPE, { ...headers, connection: 'close' });
    res.write(text);
    if (error.code === 'E_BODY_TIMEOUT' || this.graceOver) {
      res.end();
      return;
    }
    void discardBody(req, this.options.maxDiscardBytes, deadline, this.reads).then((complete) => {
      res.end();
      if (!complete) res.destroy();
    });
  }

  /** While draining, every answer says `Connection: close`, so clients reconnect elsewhere. */
  private closingHeaders(): Record<string, string> {
    return this.stateValue === 'draining' ? { connection: 'close' } : {};
  }

  private treeOf(): PreferenceTree {
    return this.options.compare.tree ?? this.model!.tree;
  }

  private countWindow(n: number, results: readonly UnitResult[]): void {
    this.windows.observe(n);
    this.conversations.inc({}, n);
    let truncated = 0;
    const lengths: number[] = [];
    for (const r of results) {
      if ('preference' in r) {
        truncated += (r.truncation.a !== null ? 1 : 0) + (r.truncation.b !== null ? 1 : 0);
        lengths.push(r.tokens.a, r.tokens.b);
      } else {
        if (r.truncated) truncated++;
        lengths.push(r.tokens);
      }
    }
    if (truncated > 0) this.truncations.inc({}, truncated);
    // The model plans a window's batches with planBatches on the token counts and its limits:
    // the same plan here gives the forward passes' sizes without reaching into the model.
    const { batchSize, maxTokensPerBatch } = this.model!.config;
    for (const rows of planBatches(lengths, { batchSize, maxTokensPerBatch })) this.batches.observe(rows.length);
  }
}

/** A JSON answer; numbers as `dtr compare --json` prints them (jsonText: no arithmetic noise). */
function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, `${jsonText(value)}\n`, JSON_TYPE, headers);
}

const JSON_TYPE = 'application/json; charset=utf-8';

function send(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  writeHead(res, status, body, contentType, headers);
  res.end(body);
}

function writeHead(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string>): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
}

/** The path of a request target as sent (the query string aside): no decoding, no normalising. */
function pathOf(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/**
 * The route a path names, or null. Only the exact path: `//x/metrics`, `/v1/x/../score` or a
 * percent-encoded letter name no route, so a proxy's rules by path mean what they say here too.
 */
function routeOf(path: string): string | null {
  return Object.hasOwn(ROUTES, path) ? path : null;
}

/** A path for an error message: as sent, cut to 200 characters. */
function shown(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function digest(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

function describeError(e: unknown): string {
  if (e instanceof DtrError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

function listenError(e: NodeJS.ErrnoException, host: string, port: number): DtrError {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why: Record<string, string> = {
    EADDRINUSE: `${where} is already in use (another server listens there): choose another --port, or --port 0 for a free one`,
    EADDRNOTAVAIL: `${host} is not an address of this machine (--host): use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`,
    EACCES: `no permission to listen on ${where}: ports below 1024 need privileges; choose a port of 1024 or more`,
    ENOTFOUND: `--host ${host} does not resolve to an address`,
  };
  return new DtrError('E_LISTEN', `cannot listen on ${where}: ${why[e.code ?? ''] ?? e.message}`, { cause: e });
}

function checkServeOptions(o: ServeOptions): void {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host.trim() === ''))
    throw new TypeError('host must be a non-empty string such as 127.0.0.1');
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535))
    throw new RangeError(`port must be an integer in [0, 65535], got ${String(o.port)}`);
  if (o.queueSize !== undefined && (!Number.isInteger(o.queueSize) || o.queueSize < 1))
    throw new RangeError(`queueSize must be an integer >= 1, got ${String(o.queueSize)}`);
  if (o.timeoutMs !== undefined && (typeof o.timeoutMs !== 'number' || !(o.timeoutMs > 0) || !Number.isFinite(o.timeoutMs)))
    throw new RangeError(`timeoutMs must be a positive number, got ${String(o.timeoutMs)}`);
  if (o.maxBodyBytes !== undefined && (!Number.isInteger(o.maxBodyBytes) || o.maxBodyBytes < 1))
    throw new RangeError(`maxBodyBytes must be an integer >= 1, got ${String(o.maxBodyBytes)}`);
  const positive = (name: keyof ServeOptions, integer: boolean, min: number): void => {
    const x = o[name];
    if (x === undefined) return;
    if (typeof x !== 'number' || !Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min)
      throw new RangeError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(x)}`);
  };
  positive('bodyTimeoutMs', false, 1);
  positive('maxMessages', true, 2);
  positive('maxJsonDepth', true, 4);
  positive('maxIssues', true, 1);
  positive('maxDiscardBytes', true, 0);
  positive('shutdownGraceMs', false, 0);
  if (o.token !== undefined && o.token !== null && (typeof o.token !== 'string' || o.token === '' || /\s/.test(o.token))) {
    throw new TypeError('token must be a non-empty string without spaces (it is sent as "Authorization: Bearer <token>")');
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') throw new TypeError('onError must be a function');
}
