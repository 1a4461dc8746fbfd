/**
 * Linear heads (heads/*.json): the map from a backbone's pooled hidden state to the five
 * attribute rewards, `rewards = weight · pooled + bias`, stored self-describing like tree files
 * (format, version, attribute names, hidden size, pooling, backbone id, provenance) and
 * validated on load with every problem reported at once.
 *
 * May import: its own folder (head/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never tree/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ATTRIBUTES, ATTRIBUTE_COUNT, fromVector, type Attribute, type AttributeScores } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import { decodeUtf8 } from '../io/utf8.js';
import { writeFileAtomic } from '../io/atomic.js';
import { provenanceSchema, type Provenance } from '../provenance.js';

export const HEAD_FORMAT = 'decision-tree-reward/head';
export const HEAD_FORMAT_VERSION = 1;
export const HEAD_SEMANTICS =
  'rewards[k] = sum_j weight[k][j] * pooled[j] + bias[k]; rows of weight and entries of bias follow `attributes`; pooled is the backbone hidden state named by `pooling`';

/** Which hidden state the head reads. `last-token`: the final non-padding token's last-layer state. */
export type Pooling = 'last-token';

/** The JSON document of a head file, version 1. */
export interface HeadFile {
  format: typeof HEAD_FORMAT;
  version: typeof HEAD_FORMAT_VERSION;
  name: string;
  description: string;
  attributes: Attribute[];
  hiddenSize: number;
  pooling: Pooling;
  /** The backbone the head was fitted on (e.g. `Skywork/Skywork-Reward-Llama-3.1-8B-v0.2`). */
  backbone: string;
  semantics: string;
  /** attributes x hiddenSize. */
  weight: number[][];
  bias: number[];
  /** Held-out figures per attribute (R², MSE), when fitted here. */
  metrics: Record<string, number | null | Record<string, number | null>> | null;
  provenance: Provenance;
}

const fileSchema = z.strictObject({
  format: z.literal(HEAD_FORMAT),
  version: z.literal(HEAD_FORMAT_VERSION),
  name: z.string().min(1),
  description: z.string(),
  attributes: z.array(z.string()),
  hiddenSize: z.number().int().min(1),
  pooling: z.literal('last-token'),
  backbone: z.string(),
  semantics: z.string(),
  weight: z.array(z.array(z.number())),
  bias: z.array(z.number()),
  metrics: z.record(z.string(), z.union([z.number(), z.null(), z.record(z.string(), z.number().nullable())])).nullable(),
  provenance: provenanceSchema,
});

/** Validates a parsed head file; never throws. */
export function validateHeadFile(json: unknown): { success: true; file: HeadFile } | { success: false; issues: Issue[] } {
  const parsed = fileSchema.safeParse(json);
  const issues: Issue[] = [];
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      // Point at the first bad weight only: a wrong 4096-wide row would otherwise produce thousands of lines.
      if (i.path[0] === 'weight' && issues.some((x) => x.path.startsWith('weight'))) continue;
      issues.push({
        path:
          i.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '') || '(root)',
        message: i.message,
      });
    }
  }
  const doc = (json ?? {}) as Record<string, unknown>;
  if (Array.isArray(doc.attributes)) {
    const names = doc.attributes as unknown[];
    names.forEach((n, i) => {
      if (!(ATTRIBUTES as readonly unknown[]).includes(n))
        issues.push({ path: `attributes[${i}]`, message: `unknown attribute ${JSON.stringify(n)}` });
    });
    for (const a of ATTRIBUTES) if (!names.includes(a)) issues.push({ path: 'attributes', message: `missing attribute '${a}'` });
    if (new Set(names).size !== names.length) issues.push({ path: 'attributes', message: 'an attribute is listed twice' });
  }
  const h = typeof doc.hiddenSize === 'number' ? doc.hiddenSize : null;
  if (Array.isArray(doc.weight)) {
    if (doc.weight.length !== ATTRIBUTE_COUNT)
      issues.push({ path: 'weight', message: `expected ${ATTRIBUTE_COUNT} rows (one per attribute), got ${doc.weight.length}` });
    (doc.weight as unknown[]).forEach((row, k) => {
      if (Array.isArray(row) && h !== null && row.length !== h)
        issues.push({ path: `weight[${k}]`, message: `row has ${row.length} values but hiddenSize is ${h}` });
      if (Array.isArray(row)) {
        const bad = row.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
        if (bad >= 0 && !issues.some((x) => x.path.startsWith(`weight[${k}]`)))
          issues.push({ path: `weight[${k}][${bad}]`, message: `must be a finite number, got ${String(row[bad])}` });
      }
    });
  }
  if (Array.isArray(doc.bias) && doc.bias.length !== ATTRIBUTE_COUNT)
    issues.push({ path: 'bias', message: `expected ${ATTRIBUTE_COUNT} values, got ${doc.bias.length}` });
  if (issues.length > 0) return { success: false, issues };
  return { success: true, file: parsed.data as unknown as HeadFile };
}

/**
 * A linear head: five attribute rewards from a pooled hidden state.
 *
 * @example
 * ```ts
 * const head = LinearHead.load('heads/mine.json');
 * head.apply(pooled); // { helpfulness: 3.2, correctness: 3.1, ... }
 * ```
 */
export class LinearHead {
  readonly name: string;
  readonly description: string;
  readonly hiddenSize: number;
  readonly pooling: Pooling;
  readonly backbone: string;
  readonly metrics: HeadFile['metrics'];
  readonly provenance: Provenance;
  /** attributes x hiddenSize, row-major, rows in {@link ATTRIBUTES} order. */
  readonly weight: Float64Array;
  /** Bias per attribute in {@link ATTRIBUTES} order. */
  readonly bias: Float64Array;

  constructor(init: {
    name: string;
    description?: string;
    hiddenSize: number;
    pooling?: Pooling;
    backbone: string;
    weight: Float64Array;
    bias: Float64Array;
    metrics?: HeadFile['metrics'];
    provenance: Provenance;
  }) {
    if (!Number.isInteger(init.hiddenSize) || init.hiddenSize < 1)
      throw new RangeError(`hiddenSize must be a positive integer, got ${init.hiddenSize}`);
    if (init.weight.length !== ATTRIBUTE_COUNT * init.hiddenSize) {
      throw new RangeError(`weight has ${init.weight.length} values, expected ${ATTRIBUTE_COUNT} x ${init.hiddenSize}`);
    }
    if (init.bias.length !== ATTRIBUTE_COUNT) throw new RangeError(`bias has ${init.bias.length} values, expected ${ATTRIBUTE_COUNT}`);
    const bad = [...init.weight, ...init.bias].findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new RangeError(`weight/bias value ${bad} is not finite`);
    this.name = init.name;
    this.description = init.description ?? '';
    this.hiddenSize = init.hiddenSize;
    this.pooling = init.pooling ?? 'last-token';
    this.backbone = init.backbone;
    this.weight = init.weight;
    this.bias = init.bias;
    this.metrics = init.metrics ?? null;
    this.provenance = init.provenance;
  }

  /** Builds a head from a head-file object. @throws DtrError `E_INVALID_ARTIFACT` listing every problem. */
  static fromJSON(json: unknown, source = 'head'): LinearHead {
    const r = LinearHead.safeFromJSON(json);
    if (!r.success)
      throw new DtrError(
        'E_INVALID_ARTIFACT',
        `${source} is not a valid head file (${r.issues.length} problem${r.issues.length === 1 ? '' : 's'})`,
        { issues: r.issues },
      );
    return r.head;
  }

  /** Non-throwing twin of {@link fromJSON}. */
  static safeFromJSON(json: unknown): { success: true; head: LinearHead } | { success: false; issues: Issue[] } {
    const check = validateHeadFile(json);
    if (!check.success) return check;
    const f = check.file;
    const weight = new Float64Array(ATTRIBUTE_COUNT * f.hiddenSize);
    const bias = new Float64Array(ATTRIBUTE_COUNT);
    // Rows are stored by name: place each in canonical attribute order.
    f.attributes.forEach((name, row) => {
      const k = ATTRIBUTES.indexOf(name);
      weight.set(f.weight[row]!, k * f.hiddenSize);
      bias[k] = f.bias[row]!;
    });
    return {
      success: true,
      head: new LinearHead({
        name: f.name,
        description: f.description,
        hiddenSize: f.hiddenSize,
        pooling: f.pooling,
        backbone: f.backbone,
        weight,
        bias,
        metrics: f.metrics,
        provenance: f.provenance,
      }),
    };
  }

  /** Loads a head by shipped name (heads/NAME.json) or path. */
  static load(nameOrPath: string, cwd = process.cwd()): LinearHead {
    const path = resolveHeadPath(nameOrPath, cwd);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (cause) {
      throw new DtrError('E_INVALID_ARTIFACT', `${path} is not readable JSON: ${(cause as Error).message}`, { cause });
    }
    const text = decodeUtf8(bytes, path);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new DtrError('E_INVALID_ARTIFACT', `${path} is not readable JSON: ${(cause as Error).message}`, { cause });
    }
    return LinearHead.fromJSON(json, path);
  }

  /** Throws `E_SHAPE` stating both sizes when a backbone's hidden size differs from this head's. */
  checkHiddenSize(backboneHiddenSize: number, backboneName = 'backbone'): void {
    if (backboneHiddenSize !== this.hiddenSize) {
      throw new DtrError(
        'E_SHAPE',
        `head '${this.name}' expects hidden size ${this.hiddenSize} but ${backboneName} gives ${backboneHiddenSize}`,
        {
          hint: 'use a head fitted on this backbone (dtr fit-head)',
        },
      );
    }
  }

  /** Rewards for one pooled state (length hiddenSize, or read at `offset` in a larger array). */
  apply(pooled: ArrayLike<number>, offset = 0): AttributeScores {
    return fromVector(this.applyVector(pooled, offset));
  }

  /** Rewards for one pooled state as a 5-vector in {@link ATTRIBUTES} order. */
  applyVector(pooled: ArrayLike<number>, offset = 0): Float64Array {
    const h = this.hiddenSize;
    if (pooled.length - offset < h)
      throw new RangeError(`pooled state has ${pooled.length - offset} values from offset ${offset}, head expects ${h}`);
    const out = new Float64Array(ATTRIBUTE_COUNT);
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
      let s = this.bias[k]!;
      const base = k * h;
      for (let j = 0; j < h; j++) s += this.weight[base + j]! * pooled[offset + j]!;
      if (!Number.isFinite(s)) throw new RangeError(`reward for ${ATTRIBUTES[k]} is not finite: the pooled state holds NaN or huge values`);
      out[k] = s;
    }
    return out;
  }

  /** Rewards for n pooled states (n x hiddenSize, row-major) as n x 5, row-major. */
  applyBatch(pooled: ArrayLike<number>): Float64Array {
    const h = this.hiddenSize;
    if (pooled.length % h !== 0) throw new RangeError(`pooled has ${pooled.length} values, not a multiple of hiddenSize ${h}`);
    const n = pooled.length / h;
    const out = new Float64Array(n * ATTRIBUTE_COUNT);
    for (let i = 0; i < n; i++) out.set(this.applyVector(pooled, i * h), i * ATTRIBUTE_COUNT);
    return out;
  }

  toJSON(): HeadFile {
    const h = this.hiddenSize;
    return {
      format: HEAD_FORMAT,
      version: HEAD_FORMAT_VERSION,
      name: this.name,
      description: this.description,
      attributes: [...ATTRIBUTES],
      hiddenSize: h,
      pooling: this.pooling,
      backbone: this.backbone,
      semantics: HEAD_SEMANTICS,
      weight: ATTRIBUTES.map((_, k) => Array.from(this.weight.subarray(k * h, (k + 1) * h))),
      bias: Array.from(this.bias),
      metrics: this.metrics,
      provenance: this.provenance,
    };
  }

  /** Deterministic text of the head file (each weight row on one line). */
  serialize(): string {
    const doc = this.toJSON();
    const { weight, ...rest } = doc;
    const text = JSON.stringify({ ...rest, weight: '__WEIGHT__' }, null, 2);
    const rows = weight.map((r) => `    ${JSON.stringify(r)}`).join(',\n');
    return `${text.replace('"__WEIGHT__"', `[\n${rows}\n  ]`)}\n`;
  }

  /** Writes the head file atomically. */
  save(path: string): void {
    writeFileAtomic(path, this.serialize());
  }
}

/**
 * The types of {@link LinearHead}, by name on the class: `LinearHead.File` (a head file's JSON),
 * `LinearHead.Pooling`.
 *
 * @example
 * ```ts
 * import { LinearHead } from 'decision-tree-reward';
 * const file: LinearHead.File = LinearHead.load('out/heads/mine.json').toJSON();
 * ```
 */
export declare namespace LinearHead {
  export type { HeadFile as File, Pooling };
}

/** The heads/ folder shipped with this package. */
export function shippedHeadsDir(): string {
  return fileURLToPath(new URL('../../heads/', import.meta.url));
}

/** Names of the heads shipped in heads/. */
export function listHeads(): string[] {
  const dir = shippedHeadsDir();
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -5))
        .sort()
    : [];
}

/** Resolves a head name or path; throws `E_NOT_FOUND` listing shipped heads. */
export function resolveHeadPath(nameOrPath: string, cwd = process.cwd()): string {
  if (typeof nameOrPath !== 'string' || nameOrPath.trim() === '')
    throw new TypeError('nameOrPath must be a head name or a path to a head file');
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.includes('\\') || nameOrPath.endsWith('.json') || isAbsolute(nameOrPath);
  const candidates = looksLikePath
    ? [resolve(cwd, nameOrPath)]
    : [resolve(shippedHeadsDir(), `${nameOrPath}.json`), resolve(cwd, nameOrPath)];
  for (const c of candidates) if (existsSync(c) && !statSync(c).isDirectory()) return c;
  throw new DtrError('E_NOT_FOUND', `no head ${looksLikePath ? `file at ${nameOrPath}` : `named '${nameOrPath}'`}`, {
    hint: `shipped heads: ${listHeads().join(', ') || '(none)'}; or give a path to a head file`,
  });
}
