/**
 * Reading request bodies under the server's limits: a size limit enforced while reading, a
 * deadline for the whole body (a client that declares 1,000 bytes and sends 11 is answered
 * `408`, not held for Node's five minutes), and, after an error answer sent before the body has
 * arrived, reading and discarding the rest up to a bound so the client, still writing, reads the
 * answer instead of a reset (`EPIPE`). Every read in progress is registered in a {@link BodyReads}
 * so a closing server can end the ones still going after its grace.
 */
import type { IncomingMessage } from 'node:http';
import { ServeError } from './errors.js';

/** Thrown when the client disconnects while its body is read: there is no one to answer. */
export class ClientGone extends Error {}

/**
 * The body reads in progress (reading or discarding), so a closing server can end them.
 *
 * @example
 * ```ts
 * const reads = new BodyReads();
 * reads.abortAll(new ServeError('E_SHUTTING_DOWN', 'the server is stopping'));
 * ```
 */
export class BodyReads {
  private readonly active = new Set<(error: ServeError) => void>();

  /** Registers a read's abort; returns its remover. */
  add(abort: (error: ServeError) => void): () => void {
    this.active.add(abort);
    return () => this.active.delete(abort);
  }

  /** Ends every read in progress with `error`. */
  abortAll(error: ServeError): void {
    for (const abort of [...this.active]) abort(error);
  }

  /** Reads in progress. */
  get size(): number {
    return this.active.size;
  }
}

/** Limits of {@link readBody}. */
export interface BodyLimits {
  /** Largest body in bytes (`--max-body-bytes`). */
  maxBytes: number;
  /** When the whole body must have arrived, in `performance.now()` milliseconds. */
  deadline: number;
  /** The body deadline in seconds as the user set it (`--body-timeout`), for the message. */
  timeoutSeconds: number;
}

/**
 * Reads a body as UTF-8, refusing it (`E_TOO_LARGE`) once it passes `maxBytes`, or at once when
 * its Content-Length says it will (the rest is left for {@link discardBody}); `E_BODY_TIMEOUT`
 * when it has not all arrived by the deadline.
 *
 * @example
 * ```ts
 * const text = await readBody(req, { maxBytes: 1 << 24, deadline: performance.now() + 30_000, timeoutSeconds: 30 }, reads);
 * ```
 */
export function readBody(req: IncomingMessage, limits: BodyLimits, reads: BodyReads): Promise<string> {
  return new Promise((resolve, reject) => {
    const { maxBytes } = limits;
    const tooLarge = (): ServeError =>
      new ServeError(
        'E_TOO_LARGE',
        `the request body is over the server's limit of ${maxBytes} bytes (--max-body-bytes): send smaller batches`,
      );
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (error: unknown, text?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      remove();
      listen(req, 'off', onData, onEnd, onClose);
      chunks.length = 0;
      if (error === null) resolve(text!);
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) settle(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
      } catch {
        settle(new ServeError('E_BAD_JSON', 'the request body is not valid UTF-8: send JSON text in UTF-8'));
        return;
      }
      settle(null, text);
    };
    const onClose = (): void => {
      if (!req.complete) settle(new ClientGone());
    };
    const timer = setTimeout(() => settle(bodyTimeout(limits.timeoutSeconds)), Math.max(0, limits.deadline - performance.now()));
    const remove = reads.add((e) => settle(e));
    listen(req, 'on', onData, onEnd, onClose);
  });
}

/** The answer to a body that has not all arrived by its deadline. */
export function bodyTimeout(seconds: number): ServeError {
  return new ServeError(
    'E_BODY_TIMEOUT',
    `the request body did not arrive within ${seconds} s (--body-timeout): send the whole body at once, as its Content-Length says`,
  );
}

/**
 * Reads and drops what is left of a request's body, so that a client still writing it finishes
 * and reads the answer already sent. Resolves `true` when the body ended, `false` when the
 * client sent more than `bound` bytes, passed the deadline, hung up, or the read was aborted
 * (the caller then closes the connection).
 *
 * @example
 * ```ts
 * if (!(await discardBody(req, 64 << 20, deadline, reads))) res.destroy();
 * ```
 */
export function discardBody(req: IncomingMessage, bound: number, deadline: number, reads: BodyReads): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  return new Promise((resolve) => {
    let dropped = 0;
    let settled = false;
    const settle = (complete: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      remove();
      listen(req, 'off', onData, onEnd, onClose);
      resolve(complete);
    };
    const onData = (chunk: Buffer): void => {
      dropped += chunk.length;
      if (dropped > bound) settle(false);
    };
    const onEnd = (): void => settle(true);
    const onClose = (): void => settle(req.complete);
    const timer = setTimeout(() => settle(false), Math.max(0, deadline - performance.now()));
    const remove = reads.add(() => settle(false));
    listen(req, 'on', onData, onEnd, onClose);
    req.resume();
  });
}

/** Adds (or removes) one read's listeners: its data, its end, and the close or error that ends it early. */
function listen(req: IncomingMessage, how: 'on' | 'off', onData: (chunk: Buffer) => void, onEnd: () => void, onClose: () => void): void {
  req[how]('data', onData);
  req[how]('end', onEnd);
  req[how]('close', onClose);
  req[how]('error', onClose);
}
