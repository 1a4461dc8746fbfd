import { readFileSync, writeFileSync, existsSync, readdirSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DtrError } from '../src/index.js';
import {
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  SafetensorsStreamWriter,
  serializeSafetensors,
  writeSafetensors,
} from '../src/safetensors.js';
import { toBfloat16Bits, toFloat16Bits } from '../src/io/safetensors.js';
import { supportScript, runPython } from './support/python.js';
import { need, skipNote } from './support/needs.js';
import { tempDir } from './support/temp.js';

const tmp = (): string => tempDir('dtr-st-');

function catchError(fn: () => unknown): DtrError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DtrError) return e;
    throw e;
  }
  throw new Error('expected a DtrError');
}

describe('safetensors round trip', () => {
  it('writes and reads back F64, F32, F16 and BF16 with metadata', () => {
    const dir = tmp();
    const path = join(dir, 'x.safetensors');
    const f64 = Float64Array.from([1.5, -2.25, Math.PI, 1e-300, NaN, -Infinity]);
    const f32 = Float32Array.from([0.1, 2, -3, NaN]);
    const halfExact = Float32Array.from([0, -0, 1, -2.5, 65504, 2 ** -24, 0.5, 1024]);
    const bf16Exact = Float32Array.from([0, -0, 1, -2.5, 65536, 2 ** -130, 0.5, 3.3895313892515355e38]);
    writeSafetensors(
      path,
      {
        a: { dtype: 'F64', shape: [2, 3], data: f64 },
        b: { dtype: 'F32', shape: [4], data: f32 },
        c: { dtype: 'F16', shape: [2, 4], data: halfExact },
        d: { dtype: 'BF16', shape: [8], data: bf16Exact },
        empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
      },
      { attributes: 'helpfulness,correctness', note: 'ünïcode ok' },
    );
    const f = readSafetensors(path);
    expect(f.metadata).toEqual({ attributes: 'helpfulness,correctness', note: 'ünïcode ok' });
    expect([...f.tensors.keys()]).toEqual(['a', 'b', 'c', 'd', 'empty']);
    expect(Array.from(f.tensors.get('a')!.toFloat64())).toEqual(Array.from(f64));
    expect(f.tensors.get('a')!.shape).toEqual([2, 3]);
    expect(Array.from(f.tensors.get('b')!.toFloat32())).toEqual(Array.from(f32));
    expect(Array.from(f.tensors.get('c')!.toFloat64())).toEqual(Array.from(halfExact));
    expect(Array.from(f.tensors.get('d')!.toFloat64())).toEqual(Array.from(bf16Exact));
    expect(f.tensors.get('empty')!.size).toBe(0);
    // The data starts 8-byte aligned, as the reference writer pads the header.
    expect(f.header.dataStart % 8).toBe(0);
    // Nothing but the file in the folder: the atomic write left no temp file.
    expect(readdirSync(dir)).toEqual(['x.safetensors']);
  });

  it('decodes row ranges into a larger buffer', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);
    const f = parseSafetensors(serializeSafetensors({ x: { dtype: 'BF16', shape: [4, 3], data } }));
    const out = new Float64Array(8).fill(-1);
    f.tensors.get('x')!.decodeRows(1, 2, out, 1);
    expect(Array.from(out)).toEqual([-1, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1]);
    expect(() => f.tensors.get('x')!.decodeRows(3, 2, out)).toThrow(RangeError);
  });

  it('a lazy tensor reads only the rows asked for, as the eager one decodes them', () => {
    const dir = tmp();
    const path = join(dir, 'lazy.safetensors');
    const vals = Float32Array.from({ length: 7 * 3 }, (_, i) => i * 0.25 - 2);
    writeSafetensors(path, {
      a: { dtype: 'F32', shape: [7, 3], data: vals },
      b: { dtype: 'BF16', shape: [7, 3], data: vals },
      c: { dtype: 'F64', shape: [7, 3], data: vals },
    });
    const eager = readSafetensors(path);
    const lazy = readSafetensors(path, { lazy: true });
    for (const name of ['a', 'b', 'c']) {
      const e = eager.tensors.get(name)!;
      const l = lazy.tensors.get(name)!;
      expect(l.view()).toBeNull(); // nothing in memory
      for (const out of [new Float32Array(2 * 3 + 1), new Float64Array(2 * 3 + 1)]) {
        const want = new (out.constructor as Float32ArrayConstructor)(out.length);
        e.decodeRows(4, 2, want, 1);
        l.decodeRows(4, 2, out, 1);
        expect(Array.from(out)).toEqual(Array.from(want));
      }
      expect(Array.from(l.toFloat64())).toEqual(Array.from(e.toFloat64())); // reads the whole tensor on demand
    }
    expect(eager.tensors.get('a')!.view()).toBeInstanceOf(Float32Array);
    expect(() => lazy.tensors.get('a')!.decodeRows(6, 2, new Float32Array(6))).toThrow(RangeError);
  });

  it('rounds to nearest even like torch/numpy when encoding BF16 and F16', () => {
    // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0).
    const bf = toBfloat16Bits(Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, -0, NaN, Infinity, 3.4e38]));
    expect(Array.from(bf)).toEqual([0x3f80, 0x3f82, 0x8000, 0x7fc0, 0x7f80, 0x7f80]);
    const h = toFloat16Bits(Float32Array.from([65520, 65519, 2 ** -25, 2 ** -25 * 1.0001, 2 ** -14, 1 + 2 ** -11, NaN, -Infinity]));
    expect(Array.from(h)).toEqual([0x7c00, 0x7bff, 0x0000, 0x0001, 0x0400, 0x3c00, 0x7e00, 0xfc00]);
  });

  it('streams tensors in pieces and refuses to finish an incomplete file', () => {
    const dir = tmp();
    const path = join(dir, 's.safetensors');
    const w = new SafetensorsStreamWriter(path, [
      { name: 'x', dtype: 'F32', shape: [2, 2] },
      { name: 'y', dtype: 'F64', shape: [1] },
    ]);
    w.write('x', new Uint8Array(Float32Array.from([1, 2]).buffer));
    expect(() => w.write('y', new Uint8Array(8))).toThrow(/expected bytes of tensor 'x'/);
    w.write('x', new Uint8Array(Float32Array.from([3, 4]).buffer));
    w.write('y', new Uint8Array(Float64Array.from([9]).buffer));
    w.close();
    const f = readSafetensors(path);
    expect(Array.from(f.tensors.get('x')!.toFloat64())).toEqual([1, 2, 3, 4]);

    const partial = join(dir, 'p.safetensors');
    const w2 = new SafetensorsStreamWriter(partial, [{ name: 'x', dtype: 'F32', shape: [4] }]);
    w2.write('x', new Uint8Array(8));
    const e = catchError(() => w2.close());
    expect(e.code).toBe('E_INTERNAL');
    expect(existsSync(partial)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['s.safetensors']);
  });

  it('rejects bad calls with TypeError/RangeError naming the parameter', () => {
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      /tensors.x: 3 values for shape \[2, 2\]/,
    );
    expect(() => serializeSafetensors({ x: { dtype: 'F32', shape: [1], data: new Uint16Array(1) } })).toThrow(TypeError);
    expect(() => serializeSafetensors({}, { n: 3 as unknown as string })).toThrow(/metadata.n must be a string/);
  });
});

describe('safetensors corrupt and truncated files', () => {
  const good = serializeSafetensors({
    embeddings: { dtype: 'BF16', shape: [3, 4], data: new Float32Array(12).fill(1) },
    labels: { dtype: 'F32', shape: [3, 5], data: new Float32Array(15) },
  });

  it('names the byte offset where a truncated file ends', () => {
    const dir = tmp();
    const path = join(dir, 't.safetensors');
    writeFileSync(path, good.subarray(0, good.length - 10));
    const e = catchError(() => readSafetensors(path));
    expect(e.code).toBe('E_FORMAT');
    expect(e.message).toMatch(/truncated/);
    expect(e.issues.some((i) => i.path === "tensor 'labels'" && /past the end of the file at byte offset \d+/.test(i.message))).toBe(true);
    expect(e.message).toContain(String(good.length - 10));
  });

  it('reports a file cut inside the header and one shorter than 8 bytes', () => {
    const dir = tmp();
    const path = join(dir, 't.safetensors');
    writeFileSync(path, good.subarray(0, 20));
    expect(catchError(() => readSafetensorsHeader(path)).message).toMatch(
      /truncated: the header length at byte offset 0 says the JSON header spans bytes 8\.\.\d+, but the file ends at byte offset 20/,
    );
    writeFileSync(path, good.subarray(0, 5));
    expect(catchError(() => readSafetensorsHeader(path)).message).toMatch(/truncated at byte offset 5/);
  });

  it('reports malformed JSON with its byte offset, and a non-safetensors file', () => {
    const bad = good.slice();
    bad[8 + 1] = '}'.charCodeAt(0);
    const e = catchError(() => parseSafetensors(bad, 'bad.safetensors'));
    expect(e.code).toBe('E_FORMAT');
    expect(e.message).toMatch(/^bad.safetensors: the JSON header is malformed at byte offset \d+/);
    const text = new TextEncoder().encode('hello world, this is not a tensor file');
    expect(catchError(() => parseSafetensors(text, 'x')).message).toMatch(/more than the 100000000 allowed|does not start with/);
  });

  it('lists every problem of a corrupt header at once', () => {
    const header = JSON.stringify({
      a: { dtype: 'F33', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [3], data_offsets: [8, 16] },
      c: { dtype: 'F32', shape: [-1], data_offsets: [16, 20] },
      __metadata__: { n: 3 },
    });
    const bytes = new Uint8Array(8 + header.length + 20);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const e = catchError(() => parseSafetensors(bytes, 'c.safetensors'));
    const paths = e.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["tensor 'a'.dtype", "tensor 'b'", "tensor 'c'.shape", '__metadata__.n']));
    expect(e.issues.find((i) => i.path === "tensor 'b'")!.message).toMatch(/F32 \[3\] needs 12 bytes but data_offsets \[8, 16\] span 8/);
  });

  it('detects holes and trailing bytes', () => {
    const header = JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } });
    const bytes = new Uint8Array(8 + header.length + 12);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(new TextEncoder().encode(header), 8);
    const e = catchError(() => parseSafetensors(bytes, 'h'));
    expect(e.issues[0]!.message).toMatch(/a hole: bytes \d+\.\.\d+ of the file belong to no tensor/);
  });

  it('names the tensors a file has when one is missing', () => {
    const dir = tmp();
    const path = join(dir, 'm.safetensors');
    writeFileSync(path, good);
    expect(catchError(() => readSafetensors(path, { only: ['pooled'] })).message).toMatch(
      /has no tensor 'pooled'; it has 'embeddings', 'labels'/,
    );
    expect(catchError(() => readSafetensors(join(dir, 'nope.safetensors'))).code).toBe('E_NOT_FOUND');
  });

  it('a file truncated on disk after a good write is caught on read', () => {
    const dir = tmp();
    const path = join(dir, 'g.safetensors');
    writeFileSync(path, good);
    truncateSync(path, statSync(path).size - 1);
    expect(catchError(() => readSafetensors(path)).code).toBe('E_FORMAT');
  });
});

const numpy = need('numpy');

describe.skipIf(!numpy.present)(`safetensors parity with numpy (files written by hand in Python)${skipNote(numpy)}`, () => {
  const script = supportScript('safetensors_np.py');

  for (const seed of [1, 2]) {
    it(`reads a get_embeddings.py-style file (bf16 embeddings, NaN labels), ${seed % 2 ? 'unpadded' : 'padded'} header`, () => {
      const dir = tmp();
      const path = join(dir, 'py.safetensors');
      const expected = JSON.parse(runPython([script, 'write-fixture', path, String(seed)])) as Record<string, unknown[]>;
      const f = readSafetensors(path);
      expect(f.metadata).toEqual({ format: 'pt' });
      const emb = f.tensors.get('embeddings')!;
      expect(emb.dtype).toBe('BF16');
      expect(emb.shape).toEqual([7, 6]);
      expect(Array.from(emb.toFloat64())).toEqual((expected.embeddings as number[][]).flat());
      const labels = Array.from(f.tensors.get('labels')!.toFloat64()).map((v) => (Number.isNaN(v) ? null : v));
      expect(labels).toEqual((expected.labels as Array<Array<number | null>>).flat());
      expect(Array.from(f.tensors.get('f64')!.toFloat64())).toEqual((expected.f64 as number[][]).flat());
      expect(Array.from(f.tensors.get('f32')!.toFloat64())).toEqual(expected.f32);
      const f16 = Array.from(f.tensors.get('f16')!.toFloat64()).map((v) => (Number.isNaN(v) ? null : Number.isFinite(v) ? v : String(v)));
      expect(f16).toEqual(
        (expected.f16 as Array<number | string | null>).map((v) => (v === 'inf' ? 'Infinity' : v === '-inf' ? '-Infinity' : v)),
      );
      expect(Array.from(f.tensors.get('i64')!.toFloat64())).toEqual((expected.i64 as number[][]).flat());
    });
  }

  it('numpy reads what TypeScript writes, values identical', () => {
    const dir = tmp();
    const path = join(dir, 'ts.safetensors');
    const vals = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i * 1.7) * 10 ** ((i % 7) - 3));
    writeSafetensors(
      path,
      {
        f64: { dtype: 'F64', shape: [4, 6], data: Float64Array.from(vals, (v) => v * Math.E) },
        f32: { dtype: 'F32', shape: [2, 12], data: vals },
        f16: { dtype: 'F16', shape: [24], data: vals },
        bf16: { dtype: 'BF16', shape: [3, 8], data: vals },
      },
      { format: 'pt' },
    );
    const py = JSON.parse(runPython([script, 'read', path])) as {
      metadata: Record<string, string>;
      tensors: Record<string, { shape: number[]; values: number[] }>;
    };
    expect(py.metadata).toEqual({ format: 'pt' });
    const f = readSafetensors(path);
    for (const name of ['f64', 'f32', 'f16', 'bf16']) {
      expect(py.tensors[name]!.shape).toEqual(f.tensors.get(name)!.shape);
      expect(py.tensors[name]!.values).toEqual(Array.from(f.tensors.get(name)!.toFloat64()));
    }
    // The encoders round exactly as numpy does (float16) and as torch does (bfloat16).
    const many = Array.from({ length: 2000 }, (_, i) => Math.fround(Math.sinh((i - 1000) / 60) * (i % 3 === 0 ? 1e-5 : 1)));
    const ref = JSON.parse(runPython([script, 'round'], { input: JSON.stringify(many) })) as { bf16: number[]; f16: number[] };
    expect(Array.from(toBfloat16Bits(Float32Array.from(many)))).toEqual(ref.bf16);
    expect(Array.from(toFloat16Bits(Float32Array.from(many)))).toEqual(ref.f16);
    expect(readFileSync(path).length).toBe(f.header.fileSize);
  });
});
