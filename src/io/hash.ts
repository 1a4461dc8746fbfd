/**
 * SHA-256 of bytes and files (streamed), the content hashes of provenance and model identity.
 *
 * May import: its own folder (io/) and the layers below it: util/ and the top-level attributes.ts, errors.ts,
 * version.ts. Never anything above (provenance.ts ... cli/) (test/import-graph.test.ts).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** sha256 of a file's bytes, as lowercase hex (read in 4 MiB pieces: a large file is never held whole). */
export function sha256File(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 22);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** sha256 of a string (UTF-8) or bytes, as lowercase hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

// The worker hashes in 4 MiB reads: no copy of a large file is ever held whole.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
try {
  const fd = openSync(workerData, 'r');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 22);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  parentPort.postMessage({ hex: hash.digest('hex') });
} catch (e) {
  parentPort.postMessage({ error: String(e && e.message || e) });
}
`;

/**
 * sha256 of a file's bytes, as lowercase hex, computed on a worker thread: the caller goes on
 * (reading the same file, fitting) while the other core hashes. Files under 16 MiB are hashed
 * in place (a worker's start-up would cost more).
 *
 * @example
 * ```ts
 * const pending = sha256FileAsync('emb.safetensors'); // starts now
 * const fit = await fitRidge(...);                     // runs meanwhile
 * record.sha256 = await pending;
 * ```
 */
export function sha256FileAsync(path: string): Promise<string> {
  try {
    if (statSync(path).size < 1 << 24) return Promise.resolve(sha256File(path));
  } catch (e) {
    return Promise.reject(e as Error);
  }
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: path });
    w.once('message', (m: { hex?: string; error?: string }) => (m.hex !== undefined ? resolve(m.hex) : reject(new Error(m.error))));
    w.once('error', reject);
  });
}
