/**
 * The forward machinery behind {@link RewardModel}: encoded conversations in, the five rewards
 * (and pooled states, and the backbone's own reward) of each out, in input order.
 *
 *   single calls ─ enqueue ─ (one turn of the event loop) ─ flush ─┐
 *   streams ─ windows of requests ─ pipeline (tokenize next window) ─┴─ forwardWindow
 *   forwardWindow: planBatches ─ padBatch ─ backbone.run ─ pooledRows (backbone/) ─ head rows (head/)
 *
 * Batching sorts conversations by length inside windows, caps rows and padded tokens per batch
 * and pads each batch only to its own longest row; pooling reads each row's last real token, so
 * a conversation's scores do not depend on what it is batched with (`RewardModel.selfCheck`).
 * The batcher owns the backbone session and the tokenizer worker, and releases both on dispose.
 *
 * May import: its own folder (model/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * eval/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT } from '../attributes.js';
import { DEFAULT_BATCH_LIMITS, checkLimits, padBatch, planBatches } from '../backbone/batching.js';
import { pooledRows, rowsOf } from '../backbone/pooling.js';
import type { Backbone, BackboneBatch, BackboneOutputs, PaddingSide } from '../backbone/types.js';
import { DtrError } from '../errors.js';
import type { LinearHead } from '../head/head.js';
import { applyHeadToRows, fusedRewardRows } from '../head/rows.js';
import type { ConversationEncoder, EncodedConversation } from '../text/encoder.js';
import { EncoderWorker, type EncodeRequest } from '../text/worker-client.js';
import type { ModelConfig } from './config.js';
import type { ModelParts } from './load.js';
import type { BatchOptions } from './types.js';

/** What a window of conversations gives: rewards (n x 5), pooled states (n x hidden) when asked for, the backbone's reward. */
export interface WindowOutput {
  rewards: Float64Array;
  pooled: Float32Array | null;
  backbone: Float64Array | null;
}

/** Batch options with the model's defaults filled in. */
export interface ResolvedBatch {
  batchSize: number;
  maxTokensPerBatch: number;
  paddingSide: PaddingSide;
}

/** Runs of at least this many conversations tokenize in a worker thread (`tokenizeInWorker: 'auto'`). */
const WORKER_THRESHOLD = 128;

const DISPOSED_MESSAGE = 'this RewardModel was disposed: it can no longer score';

/** The error of every call on (or still running at) a disposed model; `cause`: what the release made fail. */
function disposedError(cause?: unknown): DtrError {
  return new DtrError('E_DISPOSED', DISPOSED_MESSAGE, {
    hint: 'load it again with RewardModel.load',
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** True for the error {@link disposedError} makes (not one it wraps). */
function isDisposedError(e: unknown): boolean {
  return e instanceof DtrError && e.code === 'E_DISPOSED' && e.message === DISPOSED_MESSAGE;
}

/**
 * Batches and runs conversations through the backbone and the head (see the module comment).
 *
 * @example
 * ```ts
 * const batcher = new Batcher(await loadModelParts('models/fixture'));
 * const { out, row } = await batcher.enqueue(encoder.encode('Hi', 'Hello'));
 * out.rewards.subarray(row * 5, row * 5 + 5); // the five rewards
 * ```
 */
export class Batcher {
  private readonly backbone: Backbone;
  private readonly encoder: ConversationEncoder;
  private readonly padId: number;
  private readonly config: Readonly<ModelConfig>;
  private readonly head: LinearHead | null;
  private readonly paths: ModelParts['folder']['paths'];
  private readonly tokenizeInWorker: boolean | 'auto';
  private disposedValue = false;
  private running: Promise<unknown> = Promise.resolve();
  private worker: Promise<EncoderWorker> | null = null;
  private queue: Array<{
    conv: EncodedConversation;
    resolve: (r: { out: WindowOutput; row: number }) => void;
    reject: (e: unknown) => void;
  }> = [];
  private flushScheduled = false;

  constructor(parts: ModelParts) {
    this.backbone = parts.backbone;
    this.encoder = parts.encoder;
    this.padId = parts.tokenizer.padId;
    this.config = parts.folder.config;
    this.head = parts.folder.head;
    this.paths = parts.folder.paths;
    this.tokenizeInWorker = parts.tokenizeInWorker;
  }

  /** True after {@link dispose}. */
  get disposed(): boolean {
    return this.disposedValue;
  }

  /** The execution provider in use (`cuda` or `cpu`). */
  get provider(): string {
    return this.backbone.provider;
  }

  /** Batches run at once: 1 for onnxruntime, more for an inference engine ({@link Backbone.maxInFlight}). */
  get maxInFlight(): number {
    const n = this.backbone.maxInFlight;
    return n !== undefined && Number.isInteger(n) && n > 1 ? n : 1;
  }

  /** Width of the pooled hidden state (null for kind `rewards`). */
  get hiddenSize(): number | null {
    return this.head?.hiddenSize ?? this.config.backbone.hiddenSize;
  }

  /** Throws `E_DISPOSED` once the batcher is disposed. */
  checkAlive(): void {
    if (this.disposedValue) throw disposedError();
  }

  /** Checks a call's batch options and fills in dtr.json's (then the defaults) for what it leaves out. */
  resolve(options: BatchOptions): ResolvedBatch {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    checkLimits(options);
    if (options.paddingSide !== undefined && options.paddingSide !== 'left' && options.paddingSide !== 'right') {
      throw new RangeError(`paddingSide must be 'left' or 'right', got ${String(options.paddingSide)}`);
    }
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('onProgress must be a function');
    return {
      batchSize: options.batchSize ?? this.config.batchSize ?? DEFAULT_BATCH_LIMITS.batchSize,
      maxTokensPerBatch: options.maxTokensPerBatch ?? this.config.maxTokensPerBatch ?? DEFAULT_BATCH_LIMITS.maxTokensPerBatch,
      paddingSide: options.paddingSide ?? this.config.paddingSide,
    };
  }

  /** Single calls wait one turn of the event loop so concurrent ones share a batch. */
  enqueue(conv: EncodedConversation): Promise<{ out: WindowOutput; row: number }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ conv, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const jobs = this.queue.splice(0);
    if (jobs.length === 0) return;
    try {
      this.checkAlive();
      const out = await this.forwardWindow(
        jobs.map((j) => j.conv),
        this.resolve({}),
        false,
      );
      jobs.forEach((j, row) => j.resolve({ out, row }));
    } catch (e) {
      const error = this.disposedValue && !isDisposedError(e) ? disposedError(e) : e;
      for (const j of jobs) j.reject(error);
    }
  }

  /**
   * Windows of requests in, encoded windows and their outputs out. The next window is gathered
   * and handed to the tokenizer before the current window runs: with the worker, it is
   * tokenized while the backbone holds the main thread.
   */
  async *pipeline(
    windows: AsyncIterable<EncodeRequest[]>,
    limits: ResolvedBatch,
    wantPooled: boolean,
    expected: number | undefined,
    onBatch: (conversations: number) => void,
    signal?: AbortSignal,
  ): AsyncGenerator<{ encoded: EncodedConversation[]; out: WindowOutput }> {
    const useWorker =
      this.tokenizeInWorker === true || (this.tokenizeInWorker === 'auto' && expected !== undefined && expected >= WORKER_THRESHOLD);
    const it = windows[Symbol.asyncIterator]();
    let worker: EncoderWorker | null = null;
    // Posts to the worker synchronously, so the request is under way before the forward pass starts.
    const start = (requests: EncodeRequest[]): Promise<EncodedConversation[]> => {
      if (worker) return worker.encode(requests);
      try {
        return Promise.resolve(requests.map((r) => this.encoder.encode(r.prompt, r.response, r.params ?? {})));
      } catch (e) {
        return Promise.reject(e);
      }
    };
    try {
      if (useWorker) worker = await this.encoderWorker();
      const first = await it.next();
      let pending: Promise<EncodedConversation[]> | null = first.done ? null : start(first.value);
      while (pending !== null) {
        const encoded = await pending;
        this.checkAlive();
        const next = await it.next();
        this.checkAlive();
        pending = next.done ? null : start(next.value);
        pending?.catch(() => undefined); // surfaced when awaited on the next turn
        const out = await this.forwardWindow(encoded, limits, wantPooled, onBatch, signal);
        yield { encoded, out };
      }
    } catch (e) {
      // dispose() during the run stops the worker and the session under it: whatever that makes
      // fail (a stopped worker, a released session) is reported as what it is, E_DISPOSED.
      // Caller mistakes (TypeError, RangeError) keep their kind.
      if (this.disposedValue && !(e instanceof TypeError) && !(e instanceof RangeError) && !isDisposedError(e)) {
        throw disposedError(e);
      }
      throw e;
    } finally {
      await it.return?.();
    }
  }

  private async encoderWorker(): Promise<EncoderWorker> {
    this.checkAlive(); // never start a worker that dispose() would not stop
    this.worker ??= EncoderWorker.start({
      tokenizerPath: this.paths.tokenizer,
      tokenizerConfigPath: this.paths.tokenizerConfig,
      chatTemplate: this.encoder.template.source,
      templateVariables: this.config.templateVariables,
      maxLength: this.config.maxLength,
    });
    return this.worker;
  }

  /** Runs encoded conversations through the backbone in planned batches; rewards in input order. */
  async forwardWindow(
    encoded: readonly EncodedConversation[],
    limits: ResolvedBatch,
    wantPooled: boolean,
    onBatch?: (n: number) => void,
    signal?: AbortSignal,
  ): Promise<WindowOutput> {
    const n = encoded.length;
    const h = this.hiddenSize;
    const rewards = new Float64Array(n * ATTRIBUTE_COUNT);
    const pooled = wantPooled && h !== null ? new Float32Array(n * h) : null;
    const backbone = this.config.backbone.rewardOutput ? new Float64Array(n) : null;
    const plan = planBatches(
      encoded.map((e) => e.ids.length),
      limits,
    );
    const one = async (rows: number[]): Promise<void> => {
      this.checkAlive();
      signal?.throwIfAborted();
      const batch = padBatch(
        rows.map((i) => encoded[i]!.ids),
        limits.paddingSide,
        this.padId,
      );
      const out = await this.backbone.run(batch);
      this.consume(out, batch, rows, rewards, pooled, backbone);
      onBatch?.(rows.length);
    };
    const inFlight = Math.min(plan.length, this.maxInFlight);
    if (inFlight <= 1) {
      for (const rows of plan) {
        const run = one(rows);
        this.running = run;
        await run;
      }
    } else {
      // A remote backbone serves several batches at once: keep `inFlight` of them running (each
      // fills its own rows, so the result does not depend on which finishes first). The first
      // failure stops new batches; the ones running finish before it is reported.
      let next = 0;
      let failed = false;
      const lane = async (): Promise<void> => {
        while (next < plan.length && !failed) {
          const rows = plan[next++]!;
          try {
            await one(rows);
          } catch (e) {
            failed = true;
            throw e;
          }
        }
      };
      const lanes = Array.from({ length: inFlight }, lane);
      const all = Promise.allSettled(lanes);
      this.running = all;
      const settled = await all;
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    }
    return { rewards, pooled, backbone };
  }

  /** One batch's outputs into the window's arrays: row r of the batch is conversation `rows[r]`. */
  private consume(
    out: BackboneOutputs,
    batch: BackboneBatch,
    rows: readonly number[],
    rewards: Float64Array,
    pooled: Float32Array | null,
    backbone: Float64Array | null,
  ): void {
    const bb = this.config.backbone;
    const main = pooledRows(out.main, batch, bb.kind);
    if (bb.kind === 'rewards') {
      fusedRewardRows(main.data, bb.attributes ?? ATTRIBUTES, rows, rewards);
    } else {
      const head = this.head;
      if (head) {
        if (main.width !== head.hiddenSize) head.checkHiddenSize(main.width, `backbone output '${out.main.name}'`);
        applyHeadToRows(head, main.data, main.width, rows, rewards);
      } else {
        if (bb.hiddenSize !== null && main.width !== bb.hiddenSize) {
          throw new DtrError(
            'E_SHAPE',
            `dtr.json backbone.hiddenSize is ${bb.hiddenSize} but backbone output '${out.main.name}' gives ${main.width}`,
          );
        }
        // Without a head (embeddings only) the rewards stay NaN; scoring refuses such a model up front.
        for (const i of rows) rewards.fill(NaN, i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT);
      }
      if (pooled) rows.forEach((i, r) => pooled.set(main.data.subarray(r * main.width, (r + 1) * main.width), i * main.width));
    }
    if (backbone && out.reward) {
      const { data, width } = rowsOf(out.reward, batch.batch, null, 'the backbone reward');
      // NaN marks a conversation whose own reward the backbone could not give (results leave it out).
      rows.forEach((i, r) => {
        backbone[i] = out.rewardAbsent?.[r] === 1 ? NaN : data[r * width]!;
      });
    } else if (backbone) {
      throw new DtrError('E_BACKBONE', `the backbone returned no '${bb.rewardOutput}' output`);
    }
  }

  /**
   * Stops everything: queued calls reject with `E_DISPOSED`, the batch in flight finishes, the
   * tokenizer worker stops, the session is released. Idempotent.
   */
  async dispose(): Promise<void> {
    if (this.disposedValue) return;
    this.disposedValue = true;
    const error = disposedError();
    for (const q of this.queue.splice(0)) q.reject(error);
    await this.running.catch(() => undefined);
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.then((w) => w.terminate()).catch(() => undefined);
    await this.backbone.release();
  }
}

/**
 * Groups an (async) iterable into windows of requests: the first window is one batch (so the
 * backbone starts at once: nothing can overlap its tokenization), later ones four batches
 * (sorted by length inside, and tokenized while the previous window runs).
 *
 * @example
 * ```ts
 * for await (const window of mapWindows(items, 8, (it) => [{ prompt: it.prompt, response: it.response }])) window.length; // 8, then 32 ...
 * ```
 *
 * @param windowBatches Batches in a later window (default 4; more for a backbone that runs
 *   several batches at once, so a window keeps all of them busy).
 */
export async function* mapWindows<T>(
  items: Iterable<T> | AsyncIterable<T>,
  batchSize: number,
  map: (item: T) => EncodeRequest[],
  windowBatches = 4,
): AsyncGenerator<EncodeRequest[]> {
  let window: EncodeRequest[] = [];
  let size = batchSize;
  for await (const item of items as AsyncIterable<T>) {
    window.push(...map(item));
    if (window.length >= size) {
      yield window;
      window = [];
      size = batchSize * windowBatches;
    }
  }
  if (window.length > 0) yield window;
}
