/**
 * What a loaded model *is*, as content hashes: two folders with the same identity turn the same
 * conversation into the same hidden state (and, with the same head, the same rewards), wherever
 * they live. Used as the resume fingerprint of `dtr embed` and as the key of the reward cache of
 * `dtr train-tree --model`, and recorded in the provenance of what they make.
 *
 * The identity covers everything that changes numbers: the ONNX file and its external data
 * files, tokenizer.json, tokenizer_config.json, the chat template in use and its variables,
 * `maxLength` (truncation), the backbone binding in dtr.json (kind, outputs, inputs, hidden
 * size, pooling), and, for `rewards`, the head's weights or the fused head's column order.
 * Batch size, padding side and provider are left out: scores do not depend on them (what
 * `--self-check` verifies).
 *
 * Files up to {@link FULL_HASH_LIMIT} bytes are hashed whole. Larger ones (an 8B model's
 * external data is ~16 GB, minutes to hash) are identified by their size and 64 sampled 1 MiB
 * blocks spread evenly over the file, first and last included: any re-export or re-quantisation
 * changes those, while a full hash would cost more than most cached runs save.
 *
 * May import: its own folder (model/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * eval/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { ATTRIBUTES } from '../attributes.js';
import type { RewardModel } from './reward-model.js';

/**
 * Files larger than this (256 MiB) are identified by size and sampled blocks, not a full hash.
 *
 * @example
 * ```ts
 * statSync('model.onnx_data').size > FULL_HASH_LIMIT; // true for an 8B model: fileIdentity samples it
 * ```
 */
export const FULL_HASH_LIMIT = 256 * 1024 * 1024;
const SAMPLE_BLOCKS = 64;
const SAMPLE_BYTES = 1024 * 1024;

/** The content identity of a loaded model. */
export interface ModelIdentity {
  /** sha256 (hex) of everything that makes a hidden state: backbone files, text processing, binding. */
  backbone: string;
  /** sha256 (hex) of `backbone` plus the head (or the fused head's columns): what makes the rewards. */
  rewards: string;
  /** The pieces, for provenance and for explaining a cache miss: file name -> sha256 (or `sampled:` hash), settings. */
  parts: {
    files: Record<string, string>;
    maxLength: number;
    backboneId: string;
    kind: string;
    head: string | null;
  };
}

/**
 * Content hashes of a loaded model (see the module comment for what they cover).
 *
 * @example
 * ```ts
 * const model = await RewardModel.load('models/fixture');
 * const id = modelIdentity(model);
 * id.rewards;          // 'a3f9…' (64 hex digits): the reward cache's key prefix
 * id.parts.files;      // { 'model.onnx': '…', 'tokenizer.json': '…', 'tokenizer_config.json': '…' }
 * ```
 */
export function modelIdentity(model: RewardModel): ModelIdentity {
  const files: Record<string, string> = {};
  const { onnx, tokenizer, tokenizerConfig } = model.files;
  // On an inference engine the folder may hold no model.onnx: the engine's weights are not the
  // folder's to hash, so the identity names the served model (and export.json, whose check
  // vectors --self-check holds the engine to) instead.
  const remote = model.provider.startsWith('remote:');
  const exportJson = join(dirname(onnx), 'export.json');
  const paths = remote
    ? [
        ...(existsSync(onnx) ? [onnx, ...externalDataFiles(onnx)] : []),
        ...(existsSync(exportJson) ? [exportJson] : []),
        tokenizer,
        tokenizerConfig,
      ]
    : [onnx, ...externalDataFiles(onnx), tokenizer, tokenizerConfig];
  for (const path of paths) files[basename(path)] = fileIdentity(path);
  const cfg = model.config;
  const bb = cfg.backbone;
  const text = {
    chatTemplate: model.encoder.template.source,
    templateVariables: cfg.templateVariables,
    maxLength: cfg.maxLength,
  };
  const binding = {
    id: bb.id,
    file: bb.file,
    kind: bb.kind,
    output: bb.output,
    rewardOutput: bb.rewardOutput,
    attributes: bb.attributes,
    hiddenSize: bb.hiddenSize,
    inputs: bb.inputs,
    pooling: cfg.pooling,
    ...(remote ? { remote: { provider: model.provider, model: bb.remote?.model ?? null } } : {}),
  };
  const backbone = sha256Hex(canonicalJson({ format: 'decision-tree-reward/model-identity', version: 1, files, text, binding }));
  let head: string | null = null;
  const h = model.head;
  if (h) {
    const hash = createHash('sha256');
    hash.update(`${h.hiddenSize}\n${ATTRIBUTES.join(',')}\n`);
    hash.update(new Uint8Array(h.weight.buffer, h.weight.byteOffset, h.weight.byteLength));
    hash.update(new Uint8Array(h.bias.buffer, h.bias.byteOffset, h.bias.byteLength));
    head = hash.digest('hex');
  } else if (bb.kind === 'rewards') {
    head = sha256Hex(`fused:${(bb.attributes ?? ATTRIBUTES).join(',')}`);
  }
  const rewards = sha256Hex(`${backbone}\n${head ?? 'no head'}`);
  return { backbone, rewards, parts: { files, maxLength: cfg.maxLength, backboneId: bb.id, kind: bb.kind, head } };
}

/**
 * sha256 of a file's bytes, or for files over {@link FULL_HASH_LIMIT} `sampled:` + the sha256
 * of its size and 64 evenly spread 1 MiB blocks.
 *
 * @example
 * ```ts
 * fileIdentity('models/fixture/model.onnx'); // '5be0…' (a full sha256: the file is small)
 * ```
 */
export function fileIdentity(path: string): string {
  const size = statSync(path).size;
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    if (size <= FULL_HASH_LIMIT) {
      hashRange(fd, hash, 0, size);
      return hash.digest('hex');
    }
    hash.update(`size ${size}\n`);
    const step = (size - SAMPLE_BYTES) / (SAMPLE_BLOCKS - 1);
    for (let i = 0; i < SAMPLE_BLOCKS; i++) hashRange(fd, hash, Math.round(i * step), SAMPLE_BYTES);
    return `sampled:${hash.digest('hex')}`;
  } finally {
    closeSync(fd);
  }
}

/** `model.onnx_data`, `model.onnx.data` ...: the external weight files beside an ONNX file. */
function externalDataFiles(onnx: string): string[] {
  const dir = dirname(onnx);
  const base = basename(onnx);
  const stem = base.replace(/\.onnx$/, '');
  return readdirSync(dir)
    .filter(
      (f) => f !== base && (f.startsWith(`${base}_`) || f.startsWith(`${base}.`) || f === `${stem}.data` || f === `${stem}.onnx_data`),
    )
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

function hashRange(fd: number, hash: Hash, start: number, length: number): void {
  const buf = Buffer.allocUnsafe(Math.min(length, 4 * 1024 * 1024) || 1);
  let pos = start;
  const end = start + length;
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (n <= 0) break;
    hash.update(buf.subarray(0, n));
    pos += n;
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * JSON with object keys sorted, so equal values hash equally.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }); // '{"a":[{"c":3,"d":2}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
