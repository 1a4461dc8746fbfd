/**
 * The provenance of a report: which data files, trees and model made it, with which command and
 * package. The builders take what the caller knows ({@link ReportProvenanceOptions}: an API
 * caller may have no files at all) and fill in the rest from the trees themselves.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { basename, dirname, resolve } from 'node:path';
import { sha256File } from '../io/hash.js';
import type { DataFileRecord } from '../provenance.js';
import { resolveTreePath, shippedTreesDir, type PreferenceTree } from '../tree/preference-tree.js';
import { PACKAGE_ID } from '../version.js';
import type { ReportModelRecord, ReportProvenance, ReportTreeRecord } from './types.js';

/**
 * The file a tree was loaded from, as {@link treeFileRecord} describes it.
 *
 * @example
 * ```ts
 * const file: TreeFileRecord = { file: 'trees/mine.json', sha256: 'a3f9…' };
 * ```
 */
export interface TreeFileRecord {
  /** The path as given, or `trees/NAME.json` for a shipped tree. */
  file: string;
  /** sha256 of the file's bytes. */
  sha256: string;
}

/**
 * What a caller knows about how a report is made, for the `provenance` option of
 * {@link buildComparisonReport} and {@link buildDatasetReport}. Everything is optional: the
 * report records the trees' names and sources in any case, and null for what it is not told.
 *
 * @example
 * ```ts
 * buildDatasetReport(tree, input, {
 *   provenance: {
 *     data: [dataFileRecord('pairs.jsonl', { rows: input.n, role: 'pairs' })],
 *     treeFile: treeFileRecord('rlhflow-llama-3.1-8b'),
 *     command: currentCommandLine(),
 *   },
 * });
 * ```
 */
export interface ReportProvenanceOptions {
  /** One line on how the report was made (default: the builder's name, "through the API"). */
  source?: string;
  /** The input data files (`dataFileRecord(path, { rows, role })`). */
  data?: readonly DataFileRecord[];
  /** The file the report's tree was loaded from ({@link treeFileRecord}). */
  treeFile?: TreeFileRecord | null;
  /** The file the compared tree (`compareTree`) was loaded from. */
  compareTreeFile?: TreeFileRecord | null;
  /** The model folder that scored the texts. */
  model?: ReportModelRecord | null;
  /** The command line (`currentCommandLine(argv)`); null or absent through the API. */
  command?: string | null;
}

/**
 * Describes the file a tree name or path loads from: a shipped tree as `trees/NAME.json`, any
 * other file as the path given, with the sha256 of its bytes.
 * @throws DtrError `E_NOT_FOUND` as {@link PreferenceTree.load} for an unknown name or a missing file.
 *
 * @example
 * ```ts
 * treeFileRecord('helpsteer2-human'); // { file: 'trees/helpsteer2-human.json', sha256: '…' }
 * treeFileRecord('out/mine.json');    // { file: 'out/mine.json', sha256: '…' }
 * ```
 */
export function treeFileRecord(nameOrPath: string, cwd = process.cwd()): TreeFileRecord {
  if (typeof nameOrPath !== 'string' || nameOrPath.trim() === '')
    throw new TypeError('nameOrPath must be a tree name or a path to a tree file');
  const path = resolveTreePath(nameOrPath, cwd);
  const shipped = resolve(dirname(path)) === resolve(shippedTreesDir());
  return { file: shipped ? `trees/${basename(path)}` : nameOrPath, sha256: sha256File(path) };
}

/**
 * The report's provenance record from what the caller gave and the trees used (internal to the
 * builders, which record the trees' names and sources whatever the caller knows).
 *
 * @example
 * ```ts
 * reportProvenance('buildDatasetReport', tree, undefined, { command: 'dtr report ...' }).trees[0]!.source;
 * ```
 */
export function reportProvenance(
  builder: string,
  tree: PreferenceTree,
  compareTree: PreferenceTree | undefined,
  given: ReportProvenanceOptions | undefined,
): ReportProvenance {
  const p = checkProvenanceOptions(given);
  const record = (role: ReportTreeRecord['role'], t: PreferenceTree, file: TreeFileRecord | null | undefined): ReportTreeRecord => ({
    role,
    name: t.name,
    file: file?.file ?? null,
    sha256: file?.sha256 ?? null,
    source: t.provenance.source,
  });
  const trees = [record('tree', tree, p.treeFile)];
  if (compareTree) trees.push(record('compare-tree', compareTree, p.compareTreeFile));
  return {
    source: p.source ?? `${builder} through the API`,
    data: (p.data ?? []).map((d) => ({ ...d })),
    trees,
    model: p.model ? { ...p.model } : null,
    command: p.command ?? null,
    package: PACKAGE_ID,
  };
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Checks the `provenance` option; throws one TypeError naming every problem. */
function checkProvenanceOptions(p: ReportProvenanceOptions | undefined): ReportProvenanceOptions {
  if (p === undefined) return {};
  if (p === null || typeof p !== 'object' || Array.isArray(p))
    throw new TypeError('options.provenance must be an object {data?, treeFile?, compareTreeFile?, model?, command?}');
  const problems: string[] = [];
  const str = (v: unknown, where: string, nullable: boolean): void => {
    if (v === undefined || (nullable && v === null)) return;
    if (typeof v !== 'string')
      problems.push(`options.provenance.${where} must be a string${nullable ? ' or null' : ''}, got ${v === null ? 'null' : typeof v}`);
  };
  const hash = (v: unknown, where: string): void => {
    if (typeof v !== 'string' || !SHA256.test(v)) problems.push(`options.provenance.${where} must be a sha256 (64 lowercase hex digits)`);
  };
  str(p.source, 'source', false);
  str(p.command, 'command', true);
  if (p.data !== undefined) {
    if (!Array.isArray(p.data)) problems.push('options.provenance.data must be an array of data file records {path, sha256, rows?, role?}');
    else
      p.data.forEach((d, i) => {
        if (d === null || typeof d !== 'object')
          return void problems.push(`options.provenance.data[${i}] must be an object {path, sha256, rows?, role?}`);
        str(d.path, `data[${i}].path`, false);
        if (typeof d.path !== 'string') problems.push(`options.provenance.data[${i}].path is required`);
        hash(d.sha256, `data[${i}].sha256`);
        if (d.rows !== undefined && (typeof d.rows !== 'number' || !Number.isInteger(d.rows) || d.rows < 0))
          problems.push(`options.provenance.data[${i}].rows must be a non-negative integer`);
        str(d.role, `data[${i}].role`, false);
      });
  }
  for (const key of ['treeFile', 'compareTreeFile'] as const) {
    const f = p[key];
    if (f === undefined || f === null) continue;
    if (typeof f !== 'object') problems.push(`options.provenance.${key} must be {file, sha256} (treeFileRecord(nameOrPath)) or null`);
    else {
      if (typeof f.file !== 'string') problems.push(`options.provenance.${key}.file must be a string`);
      hash(f.sha256, `${key}.sha256`);
    }
  }
  const m = p.model;
  if (m !== undefined && m !== null) {
    if (typeof m !== 'object') problems.push('options.provenance.model must be {path, name, identity, provider} or null');
    else {
      for (const k of ['path', 'name', 'provider'] as const)
        if (typeof m[k] !== 'string') problems.push(`options.provenance.model.${k} must be a string`);
      hash(m.identity, 'model.identity');
    }
  }
  if (problems.length > 0) throw new TypeError(problems.join('; '));
  return p;
}
