/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written in
 * TypeScript with no dependency:
 *
 * ```
 * bytes 0..8          N, the header length, unsigned 64-bit little-endian
 * bytes 8..8+N        UTF-8 JSON: { "__metadata__": {str: str}?,
 *                                   NAME: { "dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END] }, ... }
 *                     (may end in spaces, used as padding so the data starts 8-byte aligned)
 * bytes 8+N..         the data buffer; BEGIN/END are relative to its start; row-major (C order),
 *                     little-endian; every byte belongs to exactly one tensor (no holes, no overlap)
 * ```
 *
 * Reading validates all of that and reports every problem at once with the byte offset in the
 * file, so a truncated download or a corrupt file gives one clear `E_FORMAT` error instead of
 * garbage numbers. Float dtypes F64, F32, F16 and BF16 decode to float64/float32 (F16 and BF16
 * exactly); the integer dtypes decode too, for token ids and counts.
 *
 * Large files (20k x 4096 embeddings) are read tensor by tensor with positional reads into
 * their own aligned buffers, never as one string or one copy per conversion.
 *
 * May import: its own folder (io/) and the layers below it: util/ and the top-level attributes.ts, errors.ts,
 * version.ts. Never anything above (provenance.ts ... cli/) (test/import-graph.test.ts).
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
  existsSync,
  statSync,
  mkdirSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { DtrError, type Issue } from '../errors.js';
import { tempPathFor } from './atomic.js';

/**
 * Element types of the safetensors format, by their header name, with their size in bytes.
 *
 * @example
 * ```ts
 * SAFETENSORS_DTYPES.BF16; // 2
 * ```
 */
export const SAFETENSORS_DTYPES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
} as const;

/** A safetensors element type name (`F32`, `BF16`, ...). */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** The float dtypes this module can write. */
export type WritableDtype = 'F64' | 'F32' | 'F16' | 'BF16';

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data buffer. */
  dataOffsets: [number, number];
}

/** A parsed and validated safetensors header. */
export interface SafetensorsHeader {
  /** N, the JSON header's length in bytes (padding included). */
  headerLength: number;
  /** File offset of the data buffer (8 + N). */
  dataStart: number;
  /** Size of the whole file (or buffer) in bytes. */
  fileSize: number;
  /** Tensors by name, in the order the header lists them. */
  tensors: Record<string, SafetensorsEntry>;
  /** The `__metadata__` strings ({} when absent). */
  metadata: Record<string, string>;
}

/** Header lengths above this are rejected as corrupt, as the reference implementation does. */
const MAX_HEADER_LENGTH = 100_000_000;

const isDtype = (d: unknown): d is SafetensorsDtype => typeof d === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, d);

function formatError(source: string, message: string, issues: Issue[] = [], hint?: string): DtrError {
  return new DtrError('E_FORMAT', `${source}: ${message}`, {
    issues,
    hint: hint ?? 'the file is truncated or is not a safetensors file; re-create or re-download it',
  });
}

/**
 * Validates a header given its first 8 bytes and JSON bytes, and the total size of the file.
 * Every problem is collected; throws `E_FORMAT` listing them all, each naming its byte offset.
 */
function parseHeader(
  lengthBytes: Uint8Array,
  readJson: (length: number) => Uint8Array,
  fileSize: number,
  source: string,
): SafetensorsHeader {
  if (fileSize < 8) {
    throw formatError(
      source,
      `truncated at byte offset ${fileSize}: a safetensors file starts with an 8-byte header length, but the file has only ${fileSize} byte${fileSize === 1 ? '' : 's'}`,
    );
  }
  const length64 = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8).getBigUint64(0, true);
  if (length64 > BigInt(MAX_HEADER_LENGTH)) {
    throw formatError(
      source,
      `the header length at byte offset 0 is ${length64} bytes, more than the ${MAX_HEADER_LENGTH} allowed: not a safetensors file, or corrupt`,
    );
  }
  const headerLength = Number(length64);
  if (8 + headerLength > fileSize) {
    throw formatError(
      source,
      `truncated: the header length at byte offset 0 says the JSON header spans bytes 8..${8 + headerLength}, but the file ends at byte offset ${fileSize}`,
    );
  }
  const jsonBytes = readJson(headerLength);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(jsonBytes);
  if (!text.startsWith('{')) {
    throw formatError(
      source,
      `the header at byte offset 8 does not start with '{' (got ${JSON.stringify(text.slice(0, 12))}): not a safetensors file, or corrupt`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const msg = (cause as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const at = pos ? 8 + new TextEncoder().encode(text.slice(0, Number(pos[1]))).length : null;
    throw formatError(source, `the JSON header is malformed${at !== null ? ` at byte offset ${at}` : ''}: ${msg}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw formatError(source, 'the JSON header at byte offset 8 is not an object');

  const dataStart = 8 + headerLength;
  const dataSize = fileSize - dataStart;
  const issues: Issue[] = [];
  const tensors: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        issues.push({ path: '__metadata__', message: 'must be an object of strings' });
        continue;
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') issues.push({ path: `__metadata__.${k}`, message: `metadata values must be strings, got ${typeof v}` });
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const path = `tensor '${name}'`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      issues.push({ path, message: 'entry must be an object with dtype, shape and data_offsets' });
      continue;
    }
    const e = raw as Record<string, unknown>;
    const dtypeOk = isDtype(e.dtype);
    if (!dtypeOk)
      issues.push({
        path: `${path}.dtype`,
        message: `unknown dtype ${JSON.stringify(e.dtype)}; expected one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`,
      });
    const shapeOk = Array.isArray(e.shape) && e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
    if (!shapeOk)
      issues.push({ path: `${path}.shape`, message: `must be an array of non-negative integers, got ${JSON.stringify(e.shape)}` });
    const off = e.data_offsets;
    const offOk =
      Array.isArray(off) &&
      off.length === 2 &&
      off.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) &&
      (off[0] as number) <= (off[1] as number);
    if (!offOk)
      issues.push({ path: `${path}.data_offsets`, message: `must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}` });
    if (!dtypeOk || !shapeOk || !offOk) continue;
    const entry: SafetensorsEntry = {
      dtype: e.dtype as SafetensorsDtype,
      shape: [...(e.shape as number[])],
      dataOffsets: [(off as number[])[0]!, (off as number[])[1]!],
    };
    const needed = entry.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPES[entry.dtype];
    const span = entry.dataOffsets[1] - entry.dataOffsets[0];
    if (needed !== span) {
      issues.push({
        path,
        message: `${entry.dtype} [${entry.shape.join(', ')}] needs ${needed} bytes but data_offsets [${entry.dataOffsets.join(', ')}] span ${span}`,
      });
    }
    if (entry.dataOffsets[1] > dataSize) {
      issues.push({
        path,
        message: `its data ends at byte offset ${dataStart + entry.dataOffsets[1]} (data start ${dataStart} + ${entry.dataOffsets[1]}), past the end of the file at byte offset ${fileSize}: truncated`,
      });
    }
    tensors[name] = entry;
  }
  // Every byte of the data buffer must belong to exactly one tensor.
  const byOffset = Object.entries(tensors).sort(
    (a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1],
  );
  let expected = 0;
  for (const [name, e] of byOffset) {
    const [begin, end] = e.dataOffsets;
    if (begin > expected)
      issues.push({
        path: `tensor '${name}'`,
        message: `a hole: bytes ${dataStart + expected}..${dataStart + begin} of the file belong to no tensor`,
      });
    else if (begin < expected)
      issues.push({ path: `tensor '${name}'`, message: `overlaps the previous tensor at byte offset ${dataStart + begin}` });
    expected = Math.max(expected, end);
  }
  if (issues.length === 0 && expected < dataSize) {
    issues.push({
      path: '(data)',
      message: `${dataSize - expected} bytes after the last tensor (byte offsets ${dataStart + expected}..${fileSize}) belong to no tensor`,
    });
  }
  if (issues.length > 0) {
    const truncated = issues.some((i) => i.message.includes('truncated'));
    throw formatError(
      source,
      `${truncated ? 'truncated or corrupt' : 'corrupt'} safetensors file (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${issues[0]!.path}: ${issues[0]!.message}`,
      issues,
    );
  }
  return { headerLength, dataStart, fileSize, tensors, metadata };
}

/**
 * One tensor read from a safetensors file: its raw little-endian bytes plus decoding helpers.
 * A tensor from `readSafetensors(path, { lazy: true })` holds no bytes: {@link decodeRows} reads
 * the rows asked for from the file, and `bytes` reads the whole tensor on first use.
 *
 * @example
 * ```ts
 * const { tensors } = readSafetensors('embeddings.safetensors');
 * const e = tensors.get('embeddings')!; // BF16 [20000, 4096]
 * const row = new Float64Array(e.shape[1]!);
 * e.decodeRows(0, 1, row); // first row as float64
 * ```
 */
export class SafeTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  private data: Uint8Array | null;
  /** Where the bytes are, for a lazy tensor. */
  private readonly file: { path: string; position: number; length: number } | null;

  constructor(name: string, dtype: SafetensorsDtype, shape: readonly number[], bytes: Uint8Array | { path: string; position: number }) {
    const needed = shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPES[dtype];
    if (bytes instanceof Uint8Array) {
      if (bytes.length !== needed)
        throw new RangeError(`tensor '${name}': ${bytes.length} bytes for ${dtype} [${shape.join(', ')}] (needs ${needed})`);
      this.data = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
      this.file = null;
    } else {
      this.data = null;
      this.file = { path: bytes.path, position: bytes.position, length: needed };
    }
    this.name = name;
    this.dtype = dtype;
    this.shape = [...shape];
  }

  /** The tensor's bytes, little-endian, row-major; aligned to 8 bytes (read from the file on first use when lazy). */
  get bytes(): Uint8Array {
    if (!this.data) {
      const b = new Uint8Array(this.file!.length);
      readRange(this.file!.path, b, this.file!.position);
      this.data = b;
    }
    return this.data;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /**
   * Decodes `count` rows (leading-axis slices) starting at `start` into `out` (float64 or float32).
   * Floats decode exactly; integers beyond 2^53 throw. `out` must hold count x rowSize values.
   * A lazy tensor reads just these rows from the file (straight into `out` when the types match).
   */
  decodeRows(start: number, count: number, out: Float64Array | Float32Array, outOffset = 0): void {
    const rowSize = this.shape.length === 0 ? 1 : this.size / Math.max(1, this.shape[0]!);
    const rows = this.shape.length === 0 ? 1 : this.shape[0]!;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
      throw new RangeError(`rows [${start}, ${start + count}) are outside tensor '${this.name}' with ${rows} rows`);
    }
    if (out.length - outOffset < count * rowSize)
      throw new RangeError(`out has room for ${out.length - outOffset} values, needs ${count * rowSize}`);
    if (this.data || count === 0) {
      decodeInto(this.bytes, this.dtype, this.name, start * rowSize, count * rowSize, out, outOffset);
      return;
    }
    const width = SAFETENSORS_DTYPES[this.dtype];
    const position = this.file!.position + start * rowSize * width;
    const length = count * rowSize * width;
    if ((this.dtype === 'F32' && out instanceof Float32Array) || (this.dtype === 'F64' && out instanceof Float64Array)) {
      // Same type: the file's bytes are the values, read in place.
      readRange(this.file!.path, new Uint8Array(out.buffer, out.byteOffset + outOffset * width, length), position);
      return;
    }
    const b = new Uint8Array(length);
    readRange(this.file!.path, b, position);
    decodeInto(b, this.dtype, this.name, 0, count * rowSize, out, outOffset);
  }

  /**
   * The values in place, without a copy, as a Float32Array (F32) or Float64Array (F64) over the
   * tensor's bytes; null for other dtypes (decode those with {@link decodeRows}), and for a lazy
   * tensor (whose bytes are not in memory). The bytes are 8-aligned, so the view is always possible.
   */
  view(): Float32Array | Float64Array | null {
    const b = this.data;
    if (!b) return null;
    if (this.dtype === 'F32') return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
    if (this.dtype === 'F64') return new Float64Array(b.buffer, b.byteOffset, b.length / 8);
    return null;
  }

  /** All values as float64. */
  toFloat64(): Float64Array {
    const out = new Float64Array(this.size);
    decodeInto(this.bytes, this.dtype, this.name, 0, this.size, out, 0);
    return out;
  }

  /** All values as float32 (F64 values are rounded). */
  toFloat32(): Float32Array {
    const out = new Float32Array(this.size);
    decodeInto(this.bytes, this.dtype, this.name, 0, this.size, out, 0);
    return out;
  }
}

/** Reads `into.length` bytes of `path` at `position`. */
function readRange(path: string, into: Uint8Array, position: number): void {
  const fd = openForRead(path);
  try {
    readFully(fd, into, position, path);
  } finally {
    closeSync(fd);
  }
}

let halfTable: Float32Array | null = null;

/** Reused by every BF16 decode (decoding is synchronous, so one buffer suffices). */
const bf16Scratch = new Uint32Array(65536);
const bf16ScratchF32 = new Float32Array(bf16Scratch.buffer);

/** float16 bits -> float32 value, for all 65536 bit patterns (built once, 256 KiB). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac === 0 ? sign * Infinity : NaN;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfTable = t;
  return t;
}

function decodeInto(
  b: Uint8Array,
  dtype: SafetensorsDtype,
  name: string,
  from: number,
  count: number,
  out: Float64Array | Float32Array,
  at: number,
): void {
  const buf = b.buffer;
  const off = b.byteOffset;
  switch (dtype) {
    case 'F64':
      out.set(new Float64Array(buf, off + from * 8, count), at);
      return;
    case 'F32':
      out.set(new Float32Array(buf, off + from * 4, count), at);
      return;
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift the bits into place.
      const src = new Uint16Array(buf, off + from * 2, count);
      const bits = bf16Scratch;
      for (let s = 0; s < count; s += bits.length) {
        const n = Math.min(bits.length, count - s);
        for (let i = 0; i < n; i++) bits[i] = src[s + i]! << 16;
        out.set(bf16ScratchF32.subarray(0, n), at + s);
      }
      return;
    }
    case 'F16': {
      const src = new Uint16Array(buf, off + from * 2, count);
      const table = halfToFloatTable();
      for (let i = 0; i < count; i++) out[at + i] = table[src[i]!]!;
      return;
    }
    case 'I32':
      out.set(new Int32Array(buf, off + from * 4, count), at);
      return;
    case 'U32':
      out.set(new Uint32Array(buf, off + from * 4, count), at);
      return;
    case 'I16':
      out.set(new Int16Array(buf, off + from * 2, count), at);
      return;
    case 'U16':
      out.set(new Uint16Array(buf, off + from * 2, count), at);
      return;
    case 'I8':
      out.set(new Int8Array(buf, off + from, count), at);
      return;
    case 'U8':
    case 'BOOL':
      out.set(new Uint8Array(buf, off + from, count), at);
      return;
    case 'I64':
    case 'U64': {
      const src = dtype === 'I64' ? new BigInt64Array(buf, off + from * 8, count) : new BigUint64Array(buf, off + from * 8, count);
      for (let i = 0; i < count; i++) {
        const v = Number(src[i]!);
        if (!Number.isSafeInteger(v))
          throw new DtrError(
            'E_FORMAT',
            `tensor '${name}': ${dtype} value ${src[i]} at element ${from + i} is beyond 2^53 and cannot be read as a number`,
          );
        out[at + i] = v;
      }
      return;
    }
    default:
      throw new DtrError(
        'E_FORMAT',
        `tensor '${name}' has dtype ${dtype}, which this SDK cannot decode (supported: F64, F32, F16, BF16 and the integer types)`,
      );
  }
}

function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    // readSync reads at most 2 GiB at a time.
    const n = readSync(fd, into, done, Math.min(into.length - done, 1 << 30), position + done);
    if (n === 0)
      throw formatError(
        path,
        `truncated: the file ended at byte offset ${position + done} while ${into.length - done} more bytes were expected`,
      );
    done += n;
  }
}

function openForRead(path: string): number {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  if (!existsSync(path)) throw new DtrError('E_NOT_FOUND', `no such file: ${path}`);
  if (statSync(path).isDirectory()) throw new DtrError('E_IO', `${path} is a directory, expected a .safetensors file`);
  return openSync(path, 'r');
}

/**
 * Reads and validates only the header of a safetensors file: tensor names, dtypes, shapes and
 * the `__metadata__` strings. Cheap for any file size.
 *
 * @throws DtrError `E_FORMAT` (with every problem and its byte offset) for a truncated or corrupt file,
 *   `E_NOT_FOUND` when the file does not exist.
 * @example
 * ```ts
 * const h = readSafetensorsHeader('embeddings.safetensors');
 * h.tensors.embeddings; // { dtype: 'BF16', shape: [20000, 4096], dataOffsets: [0, 163840000] }
 * ```
 */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openForRead(path);
  try {
    const size = fstatSync(fd).size;
    const first = new Uint8Array(8);
    if (size >= 8) readFully(fd, first, 0, path);
    return parseHeader(
      first,
      (n) => {
        const b = new Uint8Array(n);
        readFully(fd, b, 8, path);
        return b;
      },
      size,
      path,
    );
  } finally {
    closeSync(fd);
  }
}

/** A whole safetensors file: validated header, metadata, and the tensors read. */
export interface SafetensorsFile {
  header: SafetensorsHeader;
  metadata: Record<string, string>;
  tensors: Map<string, SafeTensor>;
}

/**
 * Reads a safetensors file (or only the named tensors), validating it first.
 *
 * @param options.only read just these tensors; a missing name throws `E_FORMAT` listing what the file has.
 * @param options.lazy read no tensor data now: each tensor reads its rows from the file when
 *   decoded (`decodeRows`), so a file larger than what should sit in memory can be streamed.
 * @example
 * ```ts
 * const f = readSafetensors('embeddings.safetensors', { only: ['embeddings', 'labels'] });
 * const labels = f.tensors.get('labels')!.toFloat64(); // N x 5, NaN = missing rating
 * ```
 */
export function readSafetensors(path: string, options: { only?: readonly string[]; lazy?: boolean } = {}): SafetensorsFile {
  const header = readSafetensorsHeader(path);
  const names = options.only ?? Object.keys(header.tensors);
  const missing = names.filter((n) => !(n in header.tensors));
  if (missing.length > 0) {
    throw new DtrError(
      'E_FORMAT',
      `${path} has no tensor ${missing.map((m) => `'${m}'`).join(', ')}; it has ${
        Object.keys(header.tensors)
          .map((m) => `'${m}'`)
          .join(', ') || 'no tensors'
      }`,
    );
  }
  const fd = openForRead(path);
  try {
    if (fstatSync(fd).size !== header.fileSize) throw new DtrError('E_IO', `${path} changed while it was being read`);
    const tensors = new Map<string, SafeTensor>();
    for (const name of names) {
      const e = header.tensors[name]!;
      if (options.lazy) {
        tensors.set(name, new SafeTensor(name, e.dtype, e.shape, { path, position: header.dataStart + e.dataOffsets[0] }));
        continue;
      }
      const bytes = new Uint8Array(e.dataOffsets[1] - e.dataOffsets[0]);
      readFully(fd, bytes, header.dataStart + e.dataOffsets[0], path);
      tensors.set(name, new SafeTensor(name, e.dtype, e.shape, bytes));
    }
    return { header, metadata: header.metadata, tensors };
  } finally {
    closeSync(fd);
  }
}

/**
 * Parses a safetensors file held in memory (same validation as {@link readSafetensors}).
 *
 * @example
 * ```ts
 * const f = parseSafetensors(serializeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }));
 * f.tensors.get('w')!.toFloat64(); // Float64Array [1, 2]
 * ```
 */
export function parseSafetensors(bytes: Uint8Array, source = 'safetensors buffer'): SafetensorsFile {
  const header = parseHeader(bytes.subarray(0, 8), (n) => bytes.subarray(8, 8 + n), bytes.length, source);
  const tensors = new Map<string, SafeTensor>();
  for (const [name, e] of Object.entries(header.tensors)) {
    const slice = bytes.subarray(header.dataStart + e.dataOffsets[0], header.dataStart + e.dataOffsets[1]);
    tensors.set(name, new SafeTensor(name, e.dtype, e.shape, slice));
  }
  return { header, metadata: header.metadata, tensors };
}

/** A tensor to write: float values (converted to `dtype`) or, for F16/BF16, raw 16-bit patterns. */
export interface TensorInput {
  dtype: WritableDtype;
  shape: readonly number[];
  data: Float64Array | Float32Array | Uint16Array | readonly number[];
}

/**
 * float32 -> bfloat16 bits, rounding to nearest even (the rounding torch uses); NaN stays NaN.
 * Inputs given as float64 are first rounded to float32.
 *
 * @example
 * ```ts
 * toBfloat16Bits([1, -2.5]); // Uint16Array [0x3f80, 0xc020]
 * ```
 */
export function toBfloat16Bits(values: ArrayLike<number>): Uint16Array {
  const f = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const x = bits[i]!;
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) out[i] = (x >>> 16) | 0x40;
    else out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/**
 * float32 -> IEEE float16 bits, rounding to nearest even, with subnormals, overflow to infinity
 * and NaN kept (bit-identical to numpy's `astype(float16)`). Inputs given as float64 are first
 * rounded to float32.
 *
 * @example
 * ```ts
 * toFloat16Bits([1, 65520]); // Uint16Array [0x3c00, 0x7c00] (65520 rounds up to infinity)
 * ```
 */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const f = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  const bits = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const out = new Uint16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      // Subnormal half: shift the implicit-1 mantissa right, rounding to nearest even.
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rest > half || (rest === half && (m & 1) === 1)) m++;
      out[i] = sign | m;
    } else {
      let h = sign | (e << 10) | (mant >>> 13);
      const rest = mant & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++; // may carry into the exponent: correct
      out[i] = h;
    }
  }
  return out;
}

function encodeTensor(name: string, t: TensorInput): Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new RangeError(`tensors.${name}.shape must be non-negative integers, got [${t.shape.join(', ')}]`);
  if (t.data.length !== n) throw new RangeError(`tensors.${name}: ${t.data.length} values for shape [${t.shape.join(', ')}] (${n})`);
  const raw16 = t.data instanceof Uint16Array;
  if (raw16 && t.dtype !== 'F16' && t.dtype !== 'BF16')
    throw new TypeError(`tensors.${name}: raw 16-bit data (Uint16Array) needs dtype F16 or BF16, got ${t.dtype}`);
  let arr: Float64Array | Float32Array | Uint16Array;
  switch (t.dtype) {
    case 'F64':
      arr = t.data instanceof Float64Array ? t.data : Float64Array.from(t.data as ArrayLike<number>);
      break;
    case 'F32':
      arr = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
      break;
    case 'F16':
      arr = raw16 ? (t.data as Uint16Array) : toFloat16Bits(t.data as ArrayLike<number>);
      break;
    case 'BF16':
      arr = raw16 ? (t.data as Uint16Array) : toBfloat16Bits(t.data as ArrayLike<number>);
      break;
    default:
      throw new TypeError(`tensors.${name}.dtype must be F64, F32, F16 or BF16, got ${String((t as { dtype: unknown }).dtype)}`);
  }
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

/** Builds the header bytes (length prefix + JSON padded with spaces to a multiple of 8). */
function headerBytes(
  entries: ReadonlyArray<{ name: string; dtype: SafetensorsDtype; shape: readonly number[]; bytes: number }>,
  metadata: Readonly<Record<string, string>> | undefined,
): { bytes: Uint8Array; offsets: number[] } {
  const doc: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string')
        throw new TypeError(`metadata.${k} must be a string (safetensors metadata is string to string), got ${typeof v}`);
    doc.__metadata__ = metadata;
  }
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    if (e.name === '__metadata__') throw new TypeError("a tensor cannot be named '__metadata__'");
    doc[e.name] = { dtype: e.dtype, shape: [...e.shape], data_offsets: [at, at + e.bytes] };
    offsets.push(at);
    at += e.bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(doc));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return { bytes: out, offsets };
}

/**
 * Serialises tensors as a safetensors file in memory (tensors in the order given; header padded
 * so the data starts 8-byte aligned, as the reference writer does).
 *
 * @example
 * ```ts
 * const bytes = serializeSafetensors(
 *   { embeddings: { dtype: 'BF16', shape: [2, 3], data: new Float32Array(6) },
 *     labels: { dtype: 'F32', shape: [2, 5], data: new Float32Array(10).fill(NaN) } },
 *   { attributes: 'helpfulness,correctness,coherence,complexity,verbosity' });
 * ```
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, TensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const encoded = Object.entries(tensors).map(([name, t]) => ({
    name,
    dtype: t.dtype as SafetensorsDtype,
    shape: t.shape,
    data: encodeTensor(name, t),
  }));
  const { bytes: head } = headerBytes(
    encoded.map((e) => ({ ...e, bytes: e.data.length })),
    metadata,
  );
  const total = head.length + encoded.reduce((a, e) => a + e.data.length, 0);
  const out = new Uint8Array(total);
  out.set(head, 0);
  let at = head.length;
  for (const e of encoded) {
    out.set(e.data, at);
    at += e.data.length;
  }
  return out;
}

/**
 * Writes tensors as a safetensors file atomically (temp file + rename): readers never see a
 * partial file. For files too big to build in memory use {@link SafetensorsStreamWriter}.
 *
 * @example
 * ```ts
 * writeSafetensors('w.safetensors', { w: { dtype: 'F32', shape: [5, 4096], data: weight } }, { note: 'head weights' });
 * ```
 */
export function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, TensorInput>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  const w = new SafetensorsStreamWriter(
    path,
    Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    metadata,
  );
  try {
    for (const [name, t] of Object.entries(tensors)) w.write(name, encodeTensor(name, t));
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}

/** A tensor declared up front to a {@link SafetensorsStreamWriter}. */
export interface TensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
}

/**
 * Writes a safetensors file whose tensors are declared up front and whose bytes arrive in
 * pieces, in declaration order: for files bigger than memory (merging `dtr embed` shards). The
 * data goes to a temporary file beside `path`; {@link close} checks every byte arrived, flushes
 * and renames it into place; {@link abort} (or any error) removes it. No partial file is ever
 * visible at `path`.
 *
 * @example
 * ```ts
 * const w = new SafetensorsStreamWriter('out.safetensors', [{ name: 'x', dtype: 'F32', shape: [2, 2] }]);
 * w.write('x', new Uint8Array(new Float32Array([1, 2]).buffer));
 * w.write('x', new Uint8Array(new Float32Array([3, 4]).buffer));
 * w.close();
 * ```
 */
export class SafetensorsStreamWriter {
  readonly path: string;
  private readonly tmp: string;
  private fd: number | null;
  private readonly specs: Array<TensorSpec & { bytes: number }>;
  private current = 0;
  private writtenInCurrent = 0;
  private position: number;

  constructor(path: string, tensors: readonly TensorSpec[], metadata?: Readonly<Record<string, string>>) {
    if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
    const names = new Set<string>();
    this.specs = tensors.map((t) => {
      if (!isDtype(t.dtype)) throw new TypeError(`tensor '${t.name}': unknown dtype ${String(t.dtype)}`);
      if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
        throw new RangeError(`tensor '${t.name}': shape must be non-negative integers, got [${t.shape.join(', ')}]`);
      if (names.has(t.name)) throw new TypeError(`tensor '${t.name}' is declared twice`);
      names.add(t.name);
      return { ...t, bytes: t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPES[t.dtype] };
    });
    const head = headerBytes(this.specs, metadata).bytes;
    this.path = path;
    this.tmp = tempPathFor(path);
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(this.tmp, 'w');
      writeSync(this.fd, head, 0, head.length, 0);
    } catch (cause) {
      rmSync(this.tmp, { force: true });
      throw new DtrError('E_IO', `could not write ${path}: ${(cause as Error).message}`, { cause });
    }
    this.position = head.length;
    this.skipEmpty();
  }

  private skipEmpty(): void {
    while (this.current < this.specs.length && this.specs[this.current]!.bytes === this.writtenInCurrent) {
      this.current++;
      this.writtenInCurrent = 0;
    }
  }

  /** Appends the next bytes of tensor `name` (tensors must be filled in declaration order). */
  write(name: string, bytes: Uint8Array): void {
    if (this.fd === null) throw new DtrError('E_IO', `${this.path}: the writer is already closed`);
    if (bytes.length === 0) return;
    const spec = this.specs[this.current];
    if (!spec) throw new RangeError(`every declared tensor is complete; got ${bytes.length} more bytes for '${name}'`);
    if (spec.name !== name)
      throw new RangeError(`expected bytes of tensor '${spec.name}' (tensors are written in declaration order), got '${name}'`);
    if (this.writtenInCurrent + bytes.length > spec.bytes) {
      throw new RangeError(
        `tensor '${name}' takes ${spec.bytes} bytes; ${this.writtenInCurrent} written, ${bytes.length} more would overflow it`,
      );
    }
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, this.position + done);
    } catch (cause) {
      this.abort();
      throw new DtrError('E_IO', `could not write ${this.path}: ${(cause as Error).message}`, { cause });
    }
    this.position += bytes.length;
    this.writtenInCurrent += bytes.length;
    this.skipEmpty();
  }

  /** Checks that every byte arrived, flushes, and renames the file into place. */
  close(): void {
    if (this.fd === null) throw new DtrError('E_IO', `${this.path}: the writer is already closed`);
    if (this.current < this.specs.length) {
      const s = this.specs[this.current]!;
      this.abort();
      throw new DtrError(
        'E_INTERNAL',
        `${this.path}: tensor '${s.name}' got ${this.writtenInCurrent} of its ${s.bytes} bytes; nothing was written`,
      );
    }
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = null;
      renameSync(this.tmp, this.path);
    } catch (cause) {
      this.abort();
      throw new DtrError('E_IO', `could not write ${this.path}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Discards everything written; `path` is left as it was. Safe to call twice. */
  abort(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed by a failed write: nothing more to release
      }
      this.fd = null;
    }
    rmSync(this.tmp, { force: true });
  }
}
