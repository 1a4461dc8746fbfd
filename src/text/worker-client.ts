/**
 * The main-thread side of the encode worker (encode-worker.ts): start it with the model's
 * tokenizer files and template, send windows of conversations, get token ids back (the id
 * buffers are transferred, not copied).
 *
 * May import: its own folder (text/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never backbone/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DtrError, ERROR_CODES, type ErrorCode } from '../errors.js';
import type { EncodedConversation, TextParams, TruncationInfo } from './encoder.js';
import type { Prompt } from './prompt.js';

/** What the worker needs to build the same encoder as the main thread. */
export interface EncoderSpec {
  tokenizerPath: string;
  tokenizerConfigPath: string;
  chatTemplate: string;
  templateVariables: Record<string, unknown>;
  maxLength: number;
}

/** One conversation to encode. */
export interface EncodeRequest {
  prompt: Prompt;
  response: string;
  params?: TextParams;
}

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  hint?: string;
}

/** Messages from the worker. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | {
      type: 'encoded';
      id: number;
      results: Array<{ ok: true; ids: Int32Array; truncation: TruncationInfo | null } | { ok: false; error: SerializedError }>;
    };

/**
 * Turns an error into plain data for postMessage.
 *
 * @example
 * ```ts
 * serializeError(new RangeError('bad')); // { name: 'RangeError', message: 'bad' }
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  const e = error as Error & { code?: string; hint?: string };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(error),
    ...(e?.code ? { code: e.code } : {}),
    ...(e?.hint ? { hint: e.hint } : {}),
  };
}

/**
 * Rebuilds an error of the same kind (TypeError, RangeError, DtrError with its code).
 *
 * @example
 * ```ts
 * deserializeError({ name: 'DtrError', code: 'E_TEMPLATE', message: 'x' }); // DtrError with code E_TEMPLATE
 * ```
 */
export function deserializeError(e: SerializedError): Error {
  if (e.name === 'TypeError') return new TypeError(e.message);
  if (e.name === 'RangeError') return new RangeError(e.message);
  if (e.name === 'DtrError' && e.code && e.code in ERROR_CODES)
    return new DtrError(e.code as ErrorCode, e.message, e.hint ? { hint: e.hint } : {});
  return new Error(e.message);
}

/**
 * A worker thread encoding conversations.
 *
 * @example
 * ```ts
 * const w = await EncoderWorker.start(spec);
 * const encoded = await w.encode([{ prompt: 'Hi', response: 'Hello' }]);
 * await w.terminate();
 * ```
 */
export class EncoderWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: EncodedConversation[]) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  /** Set by {@link terminate}: the exit that follows is expected, not a crash. */
  private stopped = false;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (msg: WorkerReply) => {
      if (msg.type !== 'encoded') return;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (this.waiting.size === 0) this.worker.unref();
      const bad = msg.results.find((r) => !r.ok);
      if (bad && !bad.ok) w.reject(deserializeError(bad.error));
      else
        w.resolve(
          msg.results.map((r) => (r.ok ? { ids: r.ids, truncated: r.truncation !== null, truncation: r.truncation } : (null as never))),
        );
    });
    const fail = (error: Error): void => {
      this.failure = error;
      for (const w of this.waiting.values()) w.reject(error);
      this.waiting.clear();
    };
    worker.on('error', (e) => fail(new DtrError('E_INTERNAL', `the tokenizer worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => {
      // terminate() makes the worker exit with code 1: requests still waiting then were stopped, not failed.
      if (this.stopped) fail(stoppedError());
      else if (code !== 0 && !this.failure) fail(new DtrError('E_INTERNAL', `the tokenizer worker exited with code ${code}`));
    });
  }

  /** Starts a worker and waits until its tokenizer is loaded. */
  static async start(spec: EncoderSpec): Promise<EncoderWorker> {
    // Under the TypeScript sources (tests, tsx) the worker file is .ts: the worker registers
    // tsx's loader (a devDependency) before importing it. Built code (dist/) runs the .js directly.
    const fromTs = import.meta.url.endsWith('.ts');
    const url = new URL(fromTs ? './encode-worker.ts' : './encode-worker.js', import.meta.url);
    const worker = fromTs
      ? new Worker(
          `import(${JSON.stringify(
            pathToFileURL(
              createRequire(import.meta.url)
                .resolve('tsx/esm/api')
                .replace(/\.cjs$/, '.mjs'),
            ).href,
          )}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`,
          { eval: true, workerData: spec },
        )
      : new Worker(url, { workerData: spec });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: WorkerReply): void => {
        if (msg.type === 'ready') {
          cleanup();
          worker.unref();
          resolve();
        } else if (msg.type === 'init-error') {
          cleanup();
          void worker.terminate();
          reject(deserializeError(msg.error));
        }
      };
      const onError = (e: Error): void => {
        cleanup();
        reject(new DtrError('E_INTERNAL', `the tokenizer worker could not start: ${e.message}`, { cause: e }));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
    return new EncoderWorker(worker);
  }

  /** Encodes conversations in the worker; rejects with the first item's error (its original kind). */
  encode(items: readonly EncodeRequest[]): Promise<EncodedConversation[]> {
    if (this.stopped) return Promise.reject(stoppedError());
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Referenced while a reply is due (so the process waits for it), unreferenced when idle.
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, items });
    });
  }

  /** Stops the worker; pending and later requests are rejected with `E_DISPOSED`. */
  async terminate(): Promise<void> {
    this.stopped = true;
    for (const w of this.waiting.values()) w.reject(stoppedError());
    this.waiting.clear();
    await this.worker.terminate();
  }
}

function stoppedError(): DtrError {
  return new DtrError('E_DISPOSED', 'the tokenizer worker was stopped');
}
