/**
 * JSONL files: read (every bad line reported with its `file:line`), streamed, and written.
 *
 * May import: its own folder (io/) and the layers below it: util/ and the top-level attributes.ts, errors.ts,
 * version.ts. Never anything above (provenance.ts ... cli/) (test/import-graph.test.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { DtrError } from '../errors.js';
import { readUtf8File, readUtf8Lines } from './utf8.js';

/** One parsed JSONL row with its 1-based line number in the file. */
export interface JsonlRow {
  line: number;
  value: unknown;
}

function checkReadable(path: string): void {
  if (!existsSync(path)) throw new DtrError('E_NOT_FOUND', `no such file: ${path}`);
  if (statSync(path).isDirectory()) throw new DtrError('E_IO', `${path} is a directory, expected a JSONL file`);
}

function parseLine(text: string, path: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new DtrError('E_DATA', `${path}:${line}: malformed JSON line (${(cause as Error).message}): ${shown}`, {
      issues: [{ path: `${path}:${line}`, message: 'malformed JSON' }],
      cause,
    });
  }
}

/**
 * Reads a whole JSONL file (one JSON value per line; blank lines are skipped).
 * A malformed line throws a {@link DtrError} `E_DATA` naming the line; an empty file throws `E_EMPTY`;
 * bytes that are not UTF-8 throw `E_ENCODING` naming the line.
 *
 * @example
 * ```ts
 * for (const { line, value } of readJsonl('pairs.jsonl')) console.log(line, value);
 * ```
 */
export function readJsonl(path: string): JsonlRow[] {
  checkReadable(path);
  // A UTF-8 byte order mark (common from Windows editors) is not part of the first row: readUtf8File drops it.
  const text = readUtf8File(path);
  const rows: JsonlRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    rows.push({ line: i + 1, value: parseLine(raw, path, i + 1) });
  }
  if (rows.length === 0) throw new DtrError('E_EMPTY', `${path} has no rows`);
  return rows;
}

/**
 * Streams a JSONL file row by row, for files too big to hold in memory.
 * Same errors as {@link readJsonl}; `E_EMPTY` is thrown at the end if no row was seen.
 */
export async function* streamJsonl(path: string): AsyncGenerator<JsonlRow> {
  checkReadable(path);
  let seen = 0;
  for await (const { line, text } of readUtf8Lines(path)) {
    if (text.trim() === '') continue;
    seen++;
    yield { line, value: parseLine(text, path, line) };
  }
  if (seen === 0) throw new DtrError('E_EMPTY', `${path} has no rows`);
}

/** Serialises rows as JSONL text (one compact JSON value per line, trailing newline). */
export function toJsonl(values: Iterable<unknown>): string {
  let out = '';
  for (const v of values) out += `${JSON.stringify(v)}\n`;
  return out;
}
