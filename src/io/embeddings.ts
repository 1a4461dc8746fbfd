/**
 * Embeddings files: the pooled hidden states of many (prompt, response) rows with their
 * attribute ratings, as safetensors, in the layout RLHFlow's `decision_tree/get_embeddings.py`
 * writes: `embeddings` [N, H] (any float dtype, often BF16) and `labels` [N, 5] (F32, NaN for a
 * missing rating), columns in {@link ATTRIBUTES} order. Files written here add `__metadata__`
 * (`format`, `attributes`, `rows`, `hidden_size`, ...), so a reader can check the column names.
 *
 * ## Writing resumably (for `dtr embed`)
 * A safetensors header must list every tensor's final shape before the data, and the data
 * buffer may have no holes, so one file cannot grow row by row and stay valid. The
 * {@link EmbeddingsWriter} therefore checkpoints into a parts folder beside the output:
 *
 * ```
 * OUT.safetensors.parts/
 *   manifest.json                              settings + fingerprint (written once, atomically)
 *   rows-00000000-00000511.safetensors         each shard a complete safetensors file, written atomically
 *   rows-00000512-00001023.safetensors
 * ```
 *
 * Every shard appears whole or not at all (temp file + fsync + rename), so an interrupted run
 * leaves only complete shards; the next run with the same fingerprint (model, data file hash,
 * dtype, row count) continues after the last complete row and never mixes in rows made by other
 * inputs (`E_RESUME`). When every row is in, `finish()` streams the shards into OUT (again via
 * a temp file and rename: OUT is absent or complete, never partial) and removes the folder.
 *
 * May import: its own folder (io/) and the layers below it: util/ and the top-level attributes.ts, errors.ts,
 * version.ts. Never anything above (provenance.ts ... cli/) (test/import-graph.test.ts).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ATTRIBUTES, ATTRIBUTE_COUNT } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import { PACKAGE_ID } from '../version.js';
import { writeFileAtomic } from './atomic.js';
import {
  readSafetensors,
  readSafetensorsHeader,
  SafetensorsStreamWriter,
  serializeSafetensors,
  type SafeTensor,
  type WritableDtype,
} from './safetensors.js';

/**
 * `__metadata__.format` of embeddings files written by this SDK.
 *
 * @example
 * ```ts
 * readEmbeddingsFile('emb.safetensors').metadata.format === EMBEDDINGS_FORMAT;
 * ```
 */
export const EMBEDDINGS_FORMAT = 'decision-tree-reward/embeddings';

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

/** An embeddings file, read and checked. */
export interface EmbeddingsFile {
  path: string;
  /** The `embeddings` tensor, [rows, hiddenSize]; decode rows with `decodeRows`. */
  embeddings: SafeTensor;
  rows: number;
  hiddenSize: number;
  /** rows x 5 ratings in {@link ATTRIBUTES} order (NaN = missing), or null when the file has no `labels`. */
  labels: Float64Array | null;
  metadata: Record<string, string>;
}

/**
 * Reads an embeddings file (RLHFlow's `get_embeddings.py` output or one written by
 * {@link EmbeddingsWriter}) and checks its shapes.
 *
 * When `__metadata__.attributes` names the label columns, they are reordered by name into
 * {@link ATTRIBUTES} order; without it (RLHFlow files) the five columns are taken to be in
 * that order, which is the order `get_embeddings.py` writes.
 *
 * @param options.lazy keep the embeddings in the file: their rows are read when decoded
 *   (`embeddings.decodeRows`), e.g. streamed by `fitRidge`, instead of all of them now.
 * @throws DtrError `E_FORMAT` (corrupt file, no `embeddings`), `E_SHAPE` (pairwise [N, 2, H]
 *   embeddings, labels of another length or width).
 * @example
 * ```ts
 * const f = readEmbeddingsFile('HelpSteer2-train.safetensors');
 * f.rows; f.hiddenSize; // 20324, 4096
 * ```
 */
export function readEmbeddingsFile(path: string, options: { lazy?: boolean } = {}): EmbeddingsFile {
  const header = readSafetensorsHeader(path);
  const names = Object.keys(header.tensors);
  if (!('embeddings' in header.tensors)) {
    throw new DtrError('E_FORMAT', `${path} has no 'embeddings' tensor; it has ${names.map((n) => `'${n}'`).join(', ') || 'no tensors'}`, {
      hint: "an embeddings file holds 'embeddings' [N, H] and usually 'labels' [N, 5] (dtr embed, or RLHFlow's get_embeddings.py)",
    });
  }
  const e = header.tensors.embeddings!;
  const issues: Issue[] = [];
  if (e.shape.length === 3 && e.shape[1] === 2) {
    throw new DtrError(
      'E_SHAPE',
      `${path}: 'embeddings' is [${e.shape.join(', ')}], a pairwise file (rejected, chosen) as get_embeddings.py writes for reward-bench; a head is fitted on one row per response [N, H] with ratings`,
    );
  }
  if (e.shape.length !== 2)
    issues.push({ path: 'embeddings', message: `expected 2 dimensions [rows, hidden size], got [${e.shape.join(', ')}]` });
  if (!FLOAT_DTYPES.has(e.dtype))
    issues.push({ path: 'embeddings', message: `expected a float dtype (F32, BF16, F16, F64), got ${e.dtype}` });
  const rows = e.shape[0] ?? 0;
  const lab = header.tensors.labels;
  let columns: string[] | null = null;
  if (header.metadata.attributes !== undefined) columns = header.metadata.attributes.split(',').map((s) => s.trim());
  if (lab) {
    if (lab.shape.length !== 2)
      issues.push({ path: 'labels', message: `expected 2 dimensions [rows, attributes], got [${lab.shape.join(', ')}]` });
    else {
      if (lab.shape[0] !== rows) issues.push({ path: 'labels', message: `has ${lab.shape[0]} rows but 'embeddings' has ${rows}` });
      const width = lab.shape[1]!;
      if (columns) {
        if (columns.length !== width)
          issues.push({ path: '__metadata__.attributes', message: `names ${columns.length} columns but 'labels' has ${width}` });
        for (const a of ATTRIBUTES)
          if (!columns.includes(a)) issues.push({ path: '__metadata__.attributes', message: `missing attribute '${a}'` });
      } else if (width !== ATTRIBUTE_COUNT) {
        issues.push({
          path: 'labels',
          message: `has ${width} columns; without __metadata__.attributes naming them, expected the ${ATTRIBUTE_COUNT} attributes ${ATTRIBUTES.join(', ')}`,
        });
      }
    }
  }
  if (issues.length > 0) {
    throw new DtrError('E_SHAPE', `${path} is not a usable embeddings file: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      issues,
    });
  }
  const f = readSafetensors(path, { only: lab ? ['embeddings', 'labels'] : ['embeddings'], lazy: options.lazy === true });
  let labels: Float64Array | null = null;
  if (lab) {
    const raw = f.tensors.get('labels')!.toFloat64(); // small: read now even when lazy
    const width = lab.shape[1]!;
    const order = columns ? ATTRIBUTES.map((a) => columns!.indexOf(a)) : ATTRIBUTES.map((_, k) => k);
    labels = new Float64Array(rows * ATTRIBUTE_COUNT);
    for (let i = 0; i < rows; i++) for (let k = 0; k < ATTRIBUTE_COUNT; k++) labels[i * ATTRIBUTE_COUNT + k] = raw[i * width + order[k]!]!;
  }
  return { path, embeddings: f.tensors.get('embeddings')!, rows, hiddenSize: e.shape[1] ?? 0, labels, metadata: f.metadata };
}

/** Options of {@link EmbeddingsWriter.open}. */
export interface EmbeddingsWriterOptions {
  /** Total rows the finished file will hold. */
  rows: number;
  hiddenSize: number;
  /** Storage type of `embeddings` (default F32; BF16 halves the size, as RLHFlow stores them). */
  dtype?: WritableDtype;
  /** Rows per checkpoint shard (default 256): an interruption loses at most this many rows of work. */
  shardRows?: number;
  /**
   * What makes two runs the same run: e.g. `{ model: 'sha256…', data: 'sha256…' }`. A parts
   * folder made with another fingerprint is never resumed (`E_RESUME`).
   */
  fingerprint: Readonly<Record<string, string>>;
  /** Extra `__metadata__` strings for the finished file. */
  metadata?: Readonly<Record<string, string>>;
  /** Replace an existing finished file at the output path (default false: `E_IO`). */
  overwrite?: boolean;
}

interface Manifest {
  format: string;
  rows: number;
  hiddenSize: number;
  dtype: string;
  fingerprint: Record<string, string>;
}

const SHARD_RE = /^rows-(\d{8})-(\d{8})\.safetensors$/;

/**
 * Writes an embeddings file row by row, resumably (see the module comment for the layout).
 *
 * @example
 * ```ts
 * const w = EmbeddingsWriter.open('emb.safetensors', { rows: data.length, hiddenSize: 4096, dtype: 'BF16',
 *   fingerprint: { model: modelHash, data: dataHash } });
 * for (let i = w.rowsDone; i < data.length; i += 8) {
 *   const { pooled, labels } = await embedBatch(data.slice(i, i + 8));
 *   w.append(pooled, labels); // a shard is checkpointed every `shardRows` rows
 * }
 * w.finish(); // emb.safetensors appears, complete; the parts folder is removed
 * ```
 */
export class EmbeddingsWriter {
  readonly path: string;
  readonly partsDir: string;
  readonly rows: number;
  readonly hiddenSize: number;
  readonly dtype: WritableDtype;
  readonly shardRows: number;
  /** Rows found complete in the parts folder when the writer was opened (the resume point). */
  readonly resumedRows: number;
  private readonly fingerprint: Record<string, string>;
  private readonly metadata: Record<string, string>;
  private done: number;
  private pendingEmb: Float32Array[] = [];
  private pendingLab: Float32Array[] = [];
  private pendingRows = 0;
  private finished = false;

  private constructor(path: string, o: EmbeddingsWriterOptions, resumed: number) {
    this.path = path;
    this.partsDir = `${path}.parts`;
    this.rows = o.rows;
    this.hiddenSize = o.hiddenSize;
    this.dtype = o.dtype ?? 'F32';
    this.shardRows = o.shardRows ?? 256;
    this.fingerprint = { ...o.fingerprint };
    this.metadata = { ...(o.metadata ?? {}) };
    this.resumedRows = resumed;
    this.done = resumed;
  }

  /** Rows stored so far (checkpointed or pending): the next row to append is this index. */
  get rowsDone(): number {
    return this.done + this.pendingRows;
  }

  /**
   * Opens a writer for `path`, resuming from `path.parts/` when it holds shards of the same run.
   *
   * @throws DtrError `E_RESUME` when the parts folder was made with another fingerprint or
   *   settings (every difference listed), `E_IO` when a finished file exists and `overwrite` is not set.
   */
  static open(path: string, options: EmbeddingsWriterOptions): EmbeddingsWriter {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
    const o = options;
    if (!Number.isSafeInteger(o.rows) || o.rows < 1) throw new RangeError(`options.rows must be a positive integer, got ${o.rows}`);
    if (!Number.isSafeInteger(o.hiddenSize) || o.hiddenSize < 1)
      throw new RangeError(`options.hiddenSize must be a positive integer, got ${o.hiddenSize}`);
    if (o.shardRows !== undefined && (!Number.isSafeInteger(o.shardRows) || o.shardRows < 1))
      throw new RangeError(`options.shardRows must be a positive integer, got ${o.shardRows}`);
    if (o.dtype !== undefined && !FLOAT_DTYPES.has(o.dtype))
      throw new RangeError(`options.dtype must be F32, BF16, F16 or F64, got ${String(o.dtype)}`);
    if (o.fingerprint === null || typeof o.fingerprint !== 'object' || Object.values(o.fingerprint).some((v) => typeof v !== 'string')) {
      throw new TypeError('options.fingerprint must be an object of strings');
    }
    const partsDir = `${path}.parts`;
    const manifest: Manifest = {
      format: `${EMBEDDINGS_FORMAT}-parts`,
      rows: o.rows,
      hiddenSize: o.hiddenSize,
      dtype: o.dtype ?? 'F32',
      fingerprint: sortKeys(o.fingerprint),
    };
    if (!existsSync(partsDir)) {
      if (existsSync(path) && !o.overwrite) {
        throw new DtrError('E_IO', `${path} already exists`, {
          hint: 'choose another output path, delete the file, or ask to overwrite it',
        });
      }
      mkdirSync(partsDir, { recursive: true });
      writeFileAtomic(join(partsDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      return new EmbeddingsWriter(path, o, 0);
    }
    return new EmbeddingsWriter(path, o, scanParts(partsDir, manifest));
  }

  /**
   * Appends rows: `embeddings` k x hiddenSize and `labels` k x 5 (ATTRIBUTES order, NaN = missing
   * rating), both row-major. Shards are written, atomically, every `shardRows` rows.
   */
  append(embeddings: Float32Array | Float64Array, labels: Float32Array | Float64Array): void {
    if (this.finished) throw new DtrError('E_IO', `${this.path}: the writer is finished`);
    const h = this.hiddenSize;
    if (embeddings.length % h !== 0) throw new RangeError(`embeddings has ${embeddings.length} values, not a multiple of hiddenSize ${h}`);
    const k = embeddings.length / h;
    if (labels.length !== k * ATTRIBUTE_COUNT)
      throw new RangeError(`labels has ${labels.length} values, expected ${k} rows x ${ATTRIBUTE_COUNT}`);
    if (this.rowsDone + k > this.rows)
      throw new RangeError(`appending ${k} rows would make ${this.rowsDone + k}, more than the ${this.rows} declared`);
    for (let i = 0; i < embeddings.length; i++) {
      if (!Number.isFinite(embeddings[i]!)) {
        throw new RangeError(
          `embeddings row ${this.rowsDone + Math.floor(i / h)} has a non-finite value (${embeddings[i]}) at column ${i % h}: the backbone produced NaN or infinity`,
        );
      }
    }
    this.pendingEmb.push(Float32Array.from(embeddings));
    this.pendingLab.push(Float32Array.from(labels));
    this.pendingRows += k;
    while (this.pendingRows >= this.shardRows) this.flushShard(this.shardRows);
  }

  private flushShard(count: number): void {
    const h = this.hiddenSize;
    const emb = new Float32Array(count * h);
    const lab = new Float32Array(count * ATTRIBUTE_COUNT);
    let filled = 0;
    while (filled < count) {
      const e = this.pendingEmb[0]!;
      const l = this.pendingLab[0]!;
      const take = Math.min(count - filled, e.length / h);
      emb.set(e.subarray(0, take * h), filled * h);
      lab.set(l.subarray(0, take * ATTRIBUTE_COUNT), filled * ATTRIBUTE_COUNT);
      if (take * h === e.length) {
        this.pendingEmb.shift();
        this.pendingLab.shift();
      } else {
        this.pendingEmb[0] = e.subarray(take * h);
        this.pendingLab[0] = l.subarray(take * ATTRIBUTE_COUNT);
      }
      filled += take;
    }
    const first = this.done;
    const bytes = serializeSafetensors(
      {
        embeddings: { dtype: this.dtype, shape: [count, h], data: emb },
        labels: { dtype: 'F32', shape: [count, ATTRIBUTE_COUNT], data: lab },
      },
      {
        format: `${EMBEDDINGS_FORMAT}-shard`,
        first_row: String(first),
        rows: String(count),
        fingerprint: JSON.stringify(sortKeys(this.fingerprint)),
      },
    );
    writeFileAtomic(join(this.partsDir, shardName(first, count)), bytes);
    this.done += count;
    this.pendingRows -= count;
  }

  /**
   * Writes the rows appended since the last shard as a (shorter) shard now, e.g. before stopping
   * on an interruption, so a rerun resumes after every row appended so far.
   *
   * @example
   * ```ts
   * process.once('SIGINT', () => { w.checkpoint(); process.exit(130); });
   * ```
   */
  checkpoint(): void {
    if (this.finished) throw new DtrError('E_IO', `${this.path}: the writer is finished`);
    if (this.pendingRows > 0) this.flushShard(this.pendingRows);
  }

  /**
   * Writes the last shard, then merges every shard into the output file (temp file + rename)
   * and removes the parts folder. `metadata` adds `__metadata__` strings known only at the end
   * (e.g. counts of truncated rows). Throws `RangeError` when rows are missing.
   */
  finish(metadata: Readonly<Record<string, string>> = {}): void {
    if (this.finished) throw new DtrError('E_IO', `${this.path}: the writer is already finished`);
    if (metadata === null || typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string'))
      throw new TypeError('metadata must be an object of strings');
    if (this.pendingRows > 0) this.flushShard(this.pendingRows);
    if (this.done !== this.rows)
      throw new RangeError(
        `finish() with ${this.done} of the ${this.rows} declared rows; append the rest first (the parts folder is kept, so a rerun resumes)`,
      );
    const shards = listShards(this.partsDir);
    const fileMetadata: Record<string, string> = {
      ...this.metadata,
      ...metadata,
      format: EMBEDDINGS_FORMAT,
      attributes: ATTRIBUTES.join(','),
      rows: String(this.rows),
      hidden_size: String(this.hiddenSize),
      fingerprint: JSON.stringify(sortKeys(this.fingerprint)),
      writer: PACKAGE_ID,
    };
    const out = new SafetensorsStreamWriter(
      this.path,
      [
        { name: 'embeddings', dtype: this.dtype, shape: [this.rows, this.hiddenSize] },
        { name: 'labels', dtype: 'F32', shape: [this.rows, ATTRIBUTE_COUNT] },
      ],
      fileMetadata,
    );
    try {
      for (const tensor of ['embeddings', 'labels'] as const) {
        for (const s of shards)
          out.write(tensor, readSafetensors(join(this.partsDir, s.file), { only: [tensor] }).tensors.get(tensor)!.bytes);
      }
      out.close();
    } catch (e) {
      out.abort();
      throw e;
    }
    rmSync(this.partsDir, { recursive: true, force: true });
    this.finished = true;
  }

  /** Deletes the parts folder (start over). The output file, if any, is left alone. */
  discard(): void {
    rmSync(this.partsDir, { recursive: true, force: true });
    this.finished = true;
  }
}

function shardName(first: number, count: number): string {
  return `rows-${String(first).padStart(8, '0')}-${String(first + count - 1).padStart(8, '0')}.safetensors`;
}

function sortKeys(o: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function listShards(dir: string): Array<{ file: string; first: number; last: number }> {
  return readdirSync(dir)
    .map((file) => ({ file, m: SHARD_RE.exec(file) }))
    .filter((x) => x.m !== null)
    .map(({ file, m }) => ({ file, first: Number(m![1]), last: Number(m![2]) }))
    .sort((a, b) => a.first - b.first);
}

/** Checks a parts folder against the run's manifest; returns the rows already complete. */
function scanParts(dir: string, want: Manifest): number {
  const manifestPath = join(dir, 'manifest.json');
  const hint = `delete ${dir} to start over, or rerun with the inputs and settings that made it`;
  let have: Manifest;
  try {
    have = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (cause) {
    throw new DtrError('E_RESUME', `${dir} has no readable manifest.json, so it cannot be resumed: ${(cause as Error).message}`, {
      hint,
      cause,
    });
  }
  const issues: Issue[] = [];
  for (const key of ['rows', 'hiddenSize', 'dtype'] as const) {
    if (have[key] !== want[key])
      issues.push({ path: key, message: `the interrupted run used ${JSON.stringify(have[key])}, this run ${JSON.stringify(want[key])}` });
  }
  const keys = new Set([...Object.keys(have.fingerprint ?? {}), ...Object.keys(want.fingerprint)]);
  for (const k of keys) {
    const a = have.fingerprint?.[k];
    const b = want.fingerprint[k];
    if (a !== b)
      issues.push({
        path: `fingerprint.${k}`,
        message: `the interrupted run used ${a === undefined ? '(none)' : JSON.stringify(a)}, this run ${b === undefined ? '(none)' : JSON.stringify(b)}`,
      });
  }
  if (issues.length > 0) {
    throw new DtrError(
      'E_RESUME',
      `${dir} holds a run with other inputs or settings (${issues.map((i) => i.path).join(', ')} differ); refusing to mix rows`,
      { issues, hint },
    );
  }
  // Temp files of a crashed atomic write are garbage: remove them.
  for (const f of readdirSync(dir)) if (f.startsWith('.') && f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
  let next = 0;
  const fp = JSON.stringify(want.fingerprint);
  for (const s of listShards(dir)) {
    const path = join(dir, s.file);
    if (s.first !== next) {
      throw new DtrError('E_RESUME', `${dir}: rows ${next}..${s.first - 1} are missing before ${s.file}`, { hint });
    }
    const h = readSafetensorsHeader(path);
    const e = h.tensors.embeddings;
    const count = s.last - s.first + 1;
    if (!e || e.shape[0] !== count || e.shape[1] !== want.hiddenSize || h.metadata.fingerprint !== fp || !statSync(path).isFile()) {
      throw new DtrError('E_RESUME', `${path} does not match its name or this run's fingerprint`, { hint });
    }
    next = s.last + 1;
  }
  if (next > want.rows) throw new DtrError('E_RESUME', `${dir} holds ${next} rows, more than the ${want.rows} of this run`, { hint });
  return next;
}
