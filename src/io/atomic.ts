/**
 * Atomic writes: a temporary file beside the target, fsynced and renamed, so no reader ever sees a partial
 * artifact.
 *
 * May import: its own folder (io/) and the layers below it: util/ and the top-level attributes.ts, errors.ts,
 * version.ts. Never anything above (provenance.ts ... cli/) (test/import-graph.test.ts).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DtrError } from '../errors.js';

/**
 * Writes a file atomically: the data goes to a temporary file beside the target, is flushed,
 * then renamed over it. Readers see the old file or the new one, never a partial one, and a
 * crash leaves no half-written artifact (the temp file is removed on failure).
 *
 * @example
 * ```ts
 * writeFileAtomic('trees/mine.json', JSON.stringify(tree.toJSON()));
 * ```
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (cause) {
    removeQuietly(tmp);
    throw new DtrError('E_IO', `could not write ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Name of a sibling temporary path for incremental writers that rename at the end. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // The temp file was never created (e.g. its folder is not a directory): nothing to clean.
  }
}
