/**
 * Provenance: how an artifact was made (data files with their sha256, the command line, the package version),
 * and its schema.
 *
 * May import: nothing of src/ at its own level and the layers below it: util/ and the top-level
 * attributes.ts, errors.ts, version.ts; io/. Never anything above (text/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { z } from 'zod';
import { sha256File } from './io/hash.js';
import { PACKAGE_ID } from './version.js';

/** A data file an artifact was made from, identified by content. */
export interface DataFileRecord {
  /** The path as the user gave it. */
  path: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** Rows used from it, when counted. */
  rows?: number;
  /** What the file was used for: `train`, `validation`, `embeddings`... */
  role?: string;
}

/**
 * How an artifact (tree, head) was made. Every shipped artifact carries one, so a reader can
 * tell which data, command and package version produced it.
 */
export interface Provenance {
  /** One line on where the artifact comes from. */
  source: string;
  data: DataFileRecord[];
  /** The command line that made it, or null when made through the API. */
  command: string | null;
  /** `name@version` of the package that wrote it. */
  package: string;
  notes?: string;
}

/** Describes a data file for provenance: its path, sha256 and optional row count and role. */
export function dataFileRecord(
  path: string,
  extra: { rows?: number; role?: string; readFrom?: string; sha256?: string } = {},
): DataFileRecord {
  // `path` is recorded as the user wrote it; `readFrom` (when given) is where the bytes are;
  // `sha256`, when the caller hashed them already (e.g. on a worker, while reading).
  const rec: DataFileRecord = { path, sha256: extra.sha256 ?? sha256File(extra.readFrom ?? path) };
  if (extra.rows !== undefined) rec.rows = extra.rows;
  if (extra.role !== undefined) rec.role = extra.role;
  return rec;
}

/**
 * A command line as a user would retype it in a shell: `dtr train-tree --pairs 'my pairs.jsonl' ...`.
 * @param args the arguments after `dtr` (default: this process's arguments).
 */
export function currentCommandLine(args: readonly string[] = process.argv.slice(2), program = 'dtr'): string {
  const quoted = args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return [program, ...quoted].join(' ');
}

/** A provenance record for something made by this package now. */
export function makeProvenance(source: string, data: DataFileRecord[], command: string | null, notes?: string): Provenance {
  const p: Provenance = { source, data, command, package: PACKAGE_ID };
  if (notes !== undefined) p.notes = notes;
  return p;
}

/** The zod schema of a {@link Provenance} record, shared by every artifact format. */
export const provenanceSchema = z.object({
  source: z.string(),
  data: z.array(
    z.object({
      path: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
      rows: z.number().int().min(0).optional(),
      role: z.string().optional(),
    }),
  ),
  command: z.string().nullable(),
  package: z.string(),
  notes: z.string().optional(),
});
