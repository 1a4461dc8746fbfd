/**
 * The bounded queue between HTTP requests and the model.
 *
 * Requests are split into units (one response to score, or one pair to compare) and wait here
 * in arrival order. A dispatcher hands the model one window at a time: about `window`
 * conversations (the model's batch size), all submitted in the same tick through the model's
 * public `score`/`compare`, so they share the RewardModel's micro-batch. The next window goes
 * when this one is done: onnxruntime-node's `run` holds the main thread anyway, and waiting
 * here (rather than inside the model's own queue) is what lets a timed-out or abandoned request
 * leave before it costs a forward pass.
 *
 * The queue is bounded in conversations (waiting + in the model): a request that does not fit
 * is refused at once (`E_QUEUE_FULL`, with a `Retry-After` estimated from the recent rate), never
 * parked. Every request has a deadline; when it passes, its waiting units are dropped and it
 * fails with `E_TIMEOUT` (units already in the model finish, and their results are discarded).
 *
 * May import: its own folder (serve/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/. Never cli/ (test/import-graph.test.ts).
 */
import { DtrError } from '../errors.js';
import type { RewardModel } from '../model/reward-model.js';
import type { CompareOptions, CompareResult, ScoreResult } from '../model/types.js';
import type { CompareRequestItem, ScoreRequestItem } from './requests.js';
import { ServeError } from './errors.js';

/** One piece of model work: a response to score or a pair to compare. */
export type Unit = { kind: 'score'; item: ScoreRequestItem } | { kind: 'compare'; item: CompareRequestItem; options: CompareOptions };

/** What a unit gives back. */
export type UnitResult = ScoreResult | CompareResult;

/** A request in the queue: its results, and a way to give up on it (the client went away). */
export interface Submission {
  /** The units' results in order; rejects with a {@link ServeError} (`E_TIMEOUT`, `E_INTERNAL`, ...). */
  result: Promise<UnitResult[]>;
  /** Drops the units still waiting and settles `result` with `reason` (or quietly, with none). */
  cancel(reason?: ServeError): void;
}

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  /** Most conversations accepted and not yet scored (waiting + in the model). */
  capacity: number;
  /** Conversations handed to the model at once (its batch size). */
  window: number;
  /** Per-request deadline, from submission to the last result, in ms. */
  timeoutMs: number;
  /** Called after each window with its conversations, seconds, and results (for metrics). */
  onWindow?: (conversations: number, seconds: number, results: readonly UnitResult[]) => void;
}

interface Ticket {
  results: UnitResult[];
  left: number;
  settled: boolean;
  resolve: (r: UnitResult[]) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | null;
  jobs: Job[];
}

interface Job {
  ticket: Ticket;
  index: number;
  unit: Unit;
  conversations: number;
  state: 'queued' | 'running' | 'done' | 'dropped';
}

/**
 * A bounded FIFO of model work with per-request deadlines, feeding the model window by window.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler(model, { capacity: 1024, window: 8, timeoutMs: 60_000 });
 * const { result } = scheduler.submit([{ kind: 'score', item: { prompt: 'Hi', response: 'Hello!' } }]);
 * const [r] = await result; // a ScoreResult
 * ```
 */
export class Scheduler {
  private readonly queue: Job[] = [];
  private head = 0;
  private queuedConversations = 0;
  private runningConversations = 0;
  private busy = false;
  /** Conversations per second over recent windows (exponential average), for Retry-After. */
  private rate = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly model: RewardModel,
    private readonly options: SchedulerOptions,
  ) {}

  /** Conversations waiting for the model. */
  get queued(): number {
    return this.queuedConversations;
  }

  /** Conversations in the model now. */
  get running(): number {
    return this.runningConversations;
  }

  /** Most conversations accepted and not yet scored. */
  get capacity(): number {
    return this.options.capacity;
  }

  /** Seconds a refused client should wait before retrying: the backlog at the recent rate (1-60). */
  retryAfter(): number {
    const backlog = this.queuedConversations + this.runningConversations;
    if (this.rate <= 0) return 1;
    return Math.min(60, Math.max(1, Math.ceil(backlog / this.rate)));
  }

  /**
   * Queues a request's units. Throws `E_QUEUE_FULL` (with `retry-after`) when they do not fit.
   * `conversations` is their total (two per compared pair).
   */
  submit(units: readonly Unit[], conversations = units.reduce((n, u) => n + (u.kind === 'compare' ? 2 : 1), 0)): Submission {
    const outstanding = this.queuedConversations + this.runningConversations;
    if (outstanding + conversations > this.options.capacity) {
      throw new ServeError(
        'E_QUEUE_FULL',
        `the queue is full (${outstanding} of ${this.options.capacity} conversations waiting or running; this request has ${conversations}): retry after a moment, or send it to another replica`,
        {
          headers: { 'retry-after': String(this.retryAfter()) },
        },
      );
    }
    let resolve!: (r: UnitResult[]) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<UnitResult[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const ticket: Ticket = {
      results: new Array<UnitResult>(units.length),
      left: units.length,
      settled: false,
      resolve,
      reject,
      timer: null,
      jobs: [],
    };
    ticket.jobs = units.map((unit, index) => ({
      ticket,
      index,
      unit,
      conversations: unit.kind === 'compare' ? 2 : 1,
      state: 'queued' as const,
    }));
    this.queue.push(...ticket.jobs);
    this.queuedConversations += conversations;
    ticket.timer = setTimeout(() => {
      this.fail(
        ticket,
        new ServeError(
          'E_TIMEOUT',
          `the request took longer than the server's timeout (${formatSeconds(this.options.timeoutMs)}) waiting for and running on the model; it was dropped: retry, send smaller batches, or raise --timeout`,
        ),
      );
    }, this.options.timeoutMs);
    setImmediate(() => this.pump());
    return { result, cancel: (reason) => this.fail(ticket, reason ?? null) };
  }

  /** Resolves when nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.queuedConversations === 0 && this.runningConversations === 0) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  /** Settles a ticket with an error (null: quietly) and drops its waiting units. */
  private fail(ticket: Ticket, error: unknown): void {
    if (ticket.settled) return;
    ticket.settled = true;
    if (ticket.timer) clearTimeout(ticket.timer);
    for (const job of ticket.jobs) {
      if (job.state !== 'queued') continue;
      job.state = 'dropped';
      this.queuedConversations -= job.conversations;
    }
    if (error === null) ticket.resolve([]);
    else ticket.reject(error);
    this.checkIdle();
  }

  private take(): Job[] {
    const window: Job[] = [];
    let conversations = 0;
    while (
      this.head < this.queue.length &&
      (window.length === 0 || conversations + this.queue[this.head]!.conversations <= this.options.window)
    ) {
      const job = this.queue[this.head++]!;
      if (job.state !== 'queued') continue;
      window.push(job);
      conversations += job.conversations;
    }
    // Drop the consumed prefix now and then, so the array does not grow without end.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return window;
  }

  private pump(): void {
    if (this.busy) return;
    const window = this.take();
    if (window.length === 0) return;
    this.busy = true;
    let conversations = 0;
    for (const job of window) {
      job.state = 'running';
      conversations += job.conversations;
    }
    this.queuedConversations -= conversations;
    this.runningConversations += conversations;
    const started = performance.now();
    // Every call is made in this same tick: the model's queue puts them in one micro-batch.
    const calls = window.map((job) =>
      job.unit.kind === 'score'
        ? this.model.score(job.unit.item.prompt, job.unit.item.response)
        : this.model.compare(job.unit.item.prompt, job.unit.item.a, job.unit.item.b, job.unit.options),
    );
    void Promise.allSettled(calls).then((settled) => {
      const seconds = (performance.now() - started) / 1000;
      this.runningConversations -= conversations;
      this.busy = false;
      if (seconds > 0) this.rate = this.rate === 0 ? conversations / seconds : 0.7 * this.rate + 0.3 * (conversations / seconds);
      const done: UnitResult[] = [];
      settled.forEach((s, k) => {
        const job = window[k]!;
        job.state = 'done';
        if (s.status === 'fulfilled') {
          done.push(s.value);
          const t = job.ticket;
          if (t.settled) return;
          t.results[job.index] = s.value;
          if (--t.left === 0) {
            t.settled = true;
            if (t.timer) clearTimeout(t.timer);
            t.resolve(t.results);
          }
        } else {
          this.fail(job.ticket, modelFailure(s.reason));
        }
      });
      this.options.onWindow?.(conversations, seconds, done);
      this.checkIdle();
      this.pump();
    });
  }

  private checkIdle(): void {
    if (this.queuedConversations !== 0 || this.runningConversations !== 0) return;
    for (const res of this.idleWaiters.splice(0)) res();
  }
}

/** A model error as the HTTP error a client gets. */
function modelFailure(e: unknown): ServeError {
  if (e instanceof ServeError) return e;
  // Texts are checked before they are queued, so a caller mistake here is a check that missed.
  if (e instanceof TypeError || e instanceof RangeError) return new ServeError('E_BAD_REQUEST', e.message, { cause: e });
  if (e instanceof DtrError && e.code === 'E_DISPOSED')
    return new ServeError('E_SHUTTING_DOWN', 'the model was released while the request waited: the server is stopping', { cause: e });
  const what = e instanceof DtrError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  return new ServeError('E_INTERNAL', `the model failed on this request: ${what}`, { cause: e });
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(3).replace(/0+$/, '')} s`;
}
