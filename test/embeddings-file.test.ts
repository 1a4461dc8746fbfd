import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, DtrError } from '../src/index.js';
import { EmbeddingsWriter, readEmbeddingsFile, readSafetensors, serializeSafetensors, writeSafetensors } from '../src/safetensors.js';
import { tempDir } from './support/temp.js';

const tmp = (): string => tempDir('dtr-emb-');

function rows(n: number, h: number, from = 0): { emb: Float32Array; lab: Float32Array } {
  const emb = Float32Array.from({ length: n * h }, (_, i) => Math.fround(Math.sin((from * h + i) * 0.37) * 4));
  const lab = Float32Array.from({ length: n * 5 }, (_, i) => ((from * 5 + i) % 11 === 3 ? NaN : (from * 5 + i) % 5));
  return { emb, lab };
}

function catchDtr(fn: () => unknown): DtrError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DtrError) return e;
    throw e;
  }
  throw new Error('expected a DtrError');
}

describe('EmbeddingsWriter (resumable dtr embed output)', () => {
  it('writes shards, merges them into one file and removes the parts folder', () => {
    const dir = tmp();
    const out = join(dir, 'emb.safetensors');
    const w = EmbeddingsWriter.open(out, { rows: 10, hiddenSize: 3, shardRows: 4, fingerprint: { data: 'abc', model: 'm1' } });
    const all = rows(10, 3);
    w.append(all.emb.subarray(0, 9), all.lab.subarray(0, 15));
    w.append(all.emb.subarray(9, 30), all.lab.subarray(15, 50));
    expect(readdirSync(w.partsDir).filter((f) => f.endsWith('.safetensors'))).toEqual([
      'rows-00000000-00000003.safetensors',
      'rows-00000004-00000007.safetensors',
    ]);
    expect(existsSync(out)).toBe(false);
    w.finish();
    expect(existsSync(w.partsDir)).toBe(false);
    const f = readEmbeddingsFile(out);
    expect(f.rows).toBe(10);
    expect(f.hiddenSize).toBe(3);
    expect(Array.from(f.embeddings.toFloat32())).toEqual(Array.from(all.emb));
    expect(Array.from(f.labels!).map((v) => (Number.isNaN(v) ? null : v))).toEqual(
      Array.from(all.lab).map((v) => (Number.isNaN(v) ? null : v)),
    );
    expect(f.metadata.attributes).toBe(ATTRIBUTES.join(','));
    expect(f.metadata.format).toBe('decision-tree-reward/embeddings');
  });

  it('resumes an interrupted run after the last complete shard', () => {
    const dir = tmp();
    const out = join(dir, 'emb.safetensors');
    const opts = { rows: 9, hiddenSize: 2, shardRows: 3, dtype: 'BF16' as const, fingerprint: { data: 'd1' } };
    const all = rows(9, 2);
    const first = EmbeddingsWriter.open(out, opts);
    first.append(all.emb.subarray(0, 10), all.lab.subarray(0, 25)); // 5 rows: one shard of 3 written, 2 pending
    // The process dies here: the 2 pending rows are lost, the shard is safe. A crashed temp file lies around.
    writeFileSync(join(first.partsDir, '.rows-00000003-00000005.safetensors.123.abcd.tmp'), 'half a shard');
    const second = EmbeddingsWriter.open(out, opts);
    expect(second.resumedRows).toBe(3);
    expect(second.rowsDone).toBe(3);
    second.append(all.emb.subarray(6), all.lab.subarray(15));
    second.finish();
    const f = readSafetensors(out);
    expect(f.tensors.get('embeddings')!.dtype).toBe('BF16');
    const back = f.tensors.get('embeddings')!.toFloat32();
    for (let i = 0; i < all.emb.length; i++) expect(Math.abs(back[i]! - all.emb[i]!)).toBeLessThanOrEqual(Math.abs(all.emb[i]!) * 2 ** -8);
  });

  it('refuses to resume a run made from other inputs, naming every difference', () => {
    const dir = tmp();
    const out = join(dir, 'emb.safetensors');
    const w = EmbeddingsWriter.open(out, { rows: 6, hiddenSize: 2, shardRows: 2, fingerprint: { data: 'd1', model: 'm1' } });
    const r = rows(2, 2);
    w.append(r.emb, r.lab);
    const e = catchDtr(() =>
      EmbeddingsWriter.open(out, { rows: 6, hiddenSize: 2, dtype: 'F16', fingerprint: { data: 'd2', model: 'm1' } }),
    );
    expect(e.code).toBe('E_RESUME');
    expect(e.issues.map((i) => i.path)).toEqual(['dtype', 'fingerprint.data']);
    expect(e.hint).toMatch(/delete .*emb\.safetensors\.parts to start over/);
  });

  it('never leaves a partial output, refuses to overwrite, and checks rows', () => {
    const dir = tmp();
    const out = join(dir, 'emb.safetensors');
    const w = EmbeddingsWriter.open(out, { rows: 4, hiddenSize: 2, fingerprint: {} });
    const r = rows(3, 2);
    w.append(r.emb, r.lab);
    expect(() => w.finish()).toThrow(/finish\(\) with 3 of the 4 declared rows/);
    expect(existsSync(out)).toBe(false);
    expect(() => w.append(new Float32Array(4), new Float32Array(10))).toThrow(/more than the 4 declared/);
    expect(() => w.append(Float32Array.from([1, NaN]), new Float32Array(5))).toThrow(/row 3 has a non-finite value \(NaN\) at column 1/);
    w.append(Float32Array.from([1, 2]), new Float32Array(5));
    w.finish();
    expect(catchDtr(() => EmbeddingsWriter.open(out, { rows: 4, hiddenSize: 2, fingerprint: {} })).code).toBe('E_IO');
    expect(() => EmbeddingsWriter.open(out, { rows: 0, hiddenSize: 2, fingerprint: {} })).toThrow(
      /options.rows must be a positive integer/,
    );
  });
});

describe('readEmbeddingsFile', () => {
  it('reorders label columns by the names in __metadata__.attributes', () => {
    const dir = tmp();
    const path = join(dir, 'e.safetensors');
    const perm = ['verbosity', 'helpfulness', 'complexity', 'coherence', 'correctness'];
    writeSafetensors(
      path,
      {
        embeddings: { dtype: 'F32', shape: [1, 2], data: [1, 2] },
        labels: { dtype: 'F32', shape: [1, 5], data: perm.map((a) => ATTRIBUTES.indexOf(a as (typeof ATTRIBUTES)[number])) },
      },
      { attributes: perm.join(',') },
    );
    expect(Array.from(readEmbeddingsFile(path).labels!)).toEqual([0, 1, 2, 3, 4]);
  });

  it('explains pairwise files, wrong label shapes and missing embeddings', () => {
    const dir = tmp();
    const p1 = join(dir, 'pair.safetensors');
    writeFileSync(
      p1,
      serializeSafetensors({
        embeddings: { dtype: 'F32', shape: [3, 2, 4], data: new Float32Array(24) },
        labels: { dtype: 'F32', shape: [3, 2], data: new Float32Array(6) },
      }),
    );
    expect(catchDtr(() => readEmbeddingsFile(p1)).message).toMatch(/pairwise file/);
    const p2 = join(dir, 'bad.safetensors');
    writeFileSync(
      p2,
      serializeSafetensors({
        embeddings: { dtype: 'F32', shape: [3, 4], data: new Float32Array(12) },
        labels: { dtype: 'F32', shape: [2, 4], data: new Float32Array(8) },
      }),
    );
    const e = catchDtr(() => readEmbeddingsFile(p2));
    expect(e.code).toBe('E_SHAPE');
    expect(e.issues.map((i) => i.message)).toEqual([
      expect.stringMatching(/has 2 rows but 'embeddings' has 3/),
      expect.stringMatching(/has 4 columns/),
    ]);
    const p3 = join(dir, 'none.safetensors');
    writeFileSync(p3, serializeSafetensors({ pooled: { dtype: 'F32', shape: [1], data: [0] } }));
    expect(catchDtr(() => readEmbeddingsFile(p3)).message).toMatch(/has no 'embeddings' tensor; it has 'pooled'/);
  });
});
