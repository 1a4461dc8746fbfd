/**
 * Helpers the commands share: text and path arguments, attribute scores from a flag, tree loading, JSON
 * printing, plain tables.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ATTRIBUTES, checkAttributeScores, type AttributeScores } from '../attributes.js';
import { DtrError } from '../errors.js';
import { readUtf8File } from '../io/utf8.js';
import { PreferenceTree } from '../tree/preference-tree.js';
import { jsonText, PLAIN } from '../util/format.js';
import type { CliIO } from './args.js';

/** A text flag: the text itself, or `@path` to read a file (strictly UTF-8: `E_ENCODING` names the flag, file and line). */
export function textArg(io: CliIO, flag: string, value: string): string {
  if (!value.startsWith('@')) return value;
  const path = resolve(io.cwd, value.slice(1));
  if (!existsSync(path) || statSync(path).isDirectory()) throw new DtrError('E_NOT_FOUND', `--${flag}: no such file ${value.slice(1)}`);
  try {
    return readUtf8File(path, value.slice(1));
  } catch (e) {
    if (e instanceof DtrError && e.code === 'E_ENCODING')
      throw new DtrError('E_ENCODING', `--${flag} ${value}: ${e.message}`, {
        issues: e.issues,
        ...(e.hint ? { hint: e.hint } : {}),
        cause: e,
      });
    throw e;
  }
}

/** Parses a `--a`/`--b` value: inline JSON, or `@file.json`. */
export function parseScoresArg(flag: string, value: string, io: CliIO): AttributeScores {
  const text = textArg(io, flag, value);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DtrError(
      'E_USAGE',
      `--${flag} must be a JSON object of the five attributes (or @file.json), got ${text.length > 50 ? `${text.slice(0, 50)}…` : text}`,
      {
        hint: `e.g. --${flag} '{"helpfulness":3.1,"correctness":3.0,"coherence":3.5,"complexity":1.2,"verbosity":1.4}'`,
      },
    );
  }
  const problems = checkAttributeScores(json);
  if (problems.length > 0) throw new DtrError('E_USAGE', `--${flag}: ${problems.map((p) => p.message).join('; ')}`);
  return json as AttributeScores;
}

/** Loads `--tree` (a shipped name or a path) relative to the command's working directory. */
export function loadTreeArg(nameOrPath: string, io: CliIO): PreferenceTree {
  return PreferenceTree.load(nameOrPath, io.cwd);
}

/**
 * Prints a JSON document on stdout: the one way the command line writes JSON (with the JSONL
 * results of run-file.ts and dtr serve's events, through the same jsonText), so derived numbers
 * never show representation noise (`0.10800000000000001` prints as `0.108`; util/format.ts).
 */
export function printJson(io: CliIO, value: unknown): void {
  io.stdout(`${jsonText(value, 2)}\n`);
}

/** The command line's number formats (util/format.ts): `0.986`, `+1.790`, `17.2%`, `-` when missing. */
export const { f3, signed: s3, pct } = PLAIN;

/** A fixed-width table: first column left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The five attributes of A and B and their differences, as a table. */
export function scoresTable(a: AttributeScores, b: AttributeScores): string {
  return table(
    ['', ...ATTRIBUTES],
    [
      ['A', ...ATTRIBUTES.map((k) => f3(a[k]))],
      ['B', ...ATTRIBUTES.map((k) => f3(b[k]))],
      ['A - B', ...ATTRIBUTES.map((k) => s3(a[k] - b[k]))],
    ],
  );
}

/** Resolves a path argument against the command's working directory. */
export function pathArg(io: CliIO, p: string): string {
  return resolve(io.cwd, p);
}
