/**
 * An on-disk cache of attribute rewards, keyed by content: the model's identity
 * ({@link modelIdentity}: backbone files, tokenizer, template, maxLength, head) and the
 * conversation (the checked chat messages, response last). A second `dtr train-tree --model`
 * run over the same pairs with other tree parameters reads every reward from here and runs no
 * backbone forward pass at all.
 *
 * ```
 * .dtr-cache/rewards/<rewards identity>/
 *   identity.json                         what the identity covers (for people; written once, atomically)
 *   seg-<time>-<pid>-<random>.jsonl       entries, one file per flush, each written atomically
 * ```
 *
 * Segments are only ever created whole (temp file + rename) and never rewritten, so concurrent
 * runs can share a folder without locks: each adds its own segments, and readers see a segment
 * entirely or not at all. An interrupted run keeps what it flushed. When a folder holds many
 * segments, a run merges the ones it read into one new segment and deletes only those (never one
 * written by another run meanwhile). Values are stored as JSON numbers, which round-trip float64
 * exactly: a cached reward is bit-identical to a fresh one.
 *
 * May import: its own folder (workflows/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/. Never anything above (serve/ ... cli/) (test/import-graph.test.ts).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { ATTRIBUTES, ATTRIBUTE_COUNT } from '../attributes.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ChatMessage } from '../text/prompt.js';
import type { TruncationInfo } from '../text/encoder.js';
import { PACKAGE_ID } from '../version.js';
import { canonicalJson, type ModelIdentity } from '../model/identity.js';
import type { RewardModel } from '../model/reward-model.js';
import type { BatchOptions, ScoreItem, ScoreResult } from '../model/types.js';

/**
 * `format` of a cache segment's first line.
 *
 * @example
 * ```ts
 * JSON.parse(readFileSync(segment, 'utf8').split('\n')[0]).format === REWARD_CACHE_FORMAT; // true
 * ```
 */
export const REWARD_CACHE_FORMAT = 'decision-tree-reward/reward-cache';
const CACHE_VERSION = 1;
/** Segments merged into one when a folder holds more than this many. */
const COMPACT_ABOVE = 32;

/** One cached score: what {@link ScoreResult} holds, as stored. */
export interface CachedScore {
  /** The five rewards in ATTRIBUTES order. */
  rewards: Float64Array;
  tokens: number;
  truncation: TruncationInfo | null;
  backboneReward: number | null;
}

/** Options of {@link RewardCache.open}. */
export interface RewardCacheOptions {
  /** Receives a line for each unreadable segment (skipped, never fatal: its rewards are recomputed). */
  onWarning?: (message: string) => void;
}

/**
 * The reward cache of one model identity, in a cache root folder (default `.dtr-cache`).
 *
 * @example
 * ```ts
 * const cache = RewardCache.open('.dtr-cache', modelIdentity(model));
 * const key = RewardCache.key(model.encoder.checkedConversation(prompt, response));
 * cache.get(key) ?? cache.put(key, { rewards, tokens, truncation: null, backboneReward: null });
 * cache.flush(); // one new segment, written atomically
 * ```
 */
export class RewardCache {
  /** The folder of this identity: `<root>/rewards/<identity.rewards>`. */
  readonly dir: string;
  /** Entries read when the cache was opened. */
  readonly loaded: number;
  private readonly entries = new Map<string, CachedScore>();
  private pending: Array<[string, CachedScore]> = [];
  private readonly readSegments: string[];
  private readonly identity: ModelIdentity;

  private constructor(dir: string, identity: ModelIdentity, segments: string[]) {
    this.dir = dir;
    this.identity = identity;
    this.readSegments = segments;
    this.loaded = 0;
  }

  /**
   * Opens (creating if needed) the cache folder of a model identity under `root` and reads its
   * segments. Unreadable segments are skipped with a warning.
   */
  static open(root: string, identity: ModelIdentity, options: RewardCacheOptions = {}): RewardCache {
    if (typeof root !== 'string' || root === '') throw new TypeError('root must be the path of a cache folder');
    if (identity === null || typeof identity !== 'object' || !/^[0-9a-f]{64}$/.test(identity.rewards))
      throw new TypeError('identity must be a ModelIdentity (modelIdentity(model))');
    const dir = join(resolve(root), 'rewards', identity.rewards);
    const warn = options.onWarning ?? ((m: string) => void process.stderr.write(`dtr: warning: ${m}\n`));
    const idPath = join(dir, 'identity.json');
    if (!existsSync(idPath))
      writeFileAtomic(
        idPath,
        `${JSON.stringify({ format: `${REWARD_CACHE_FORMAT}-identity`, version: CACHE_VERSION, ...identity, writer: PACKAGE_ID }, null, 2)}\n`,
      );
    const segments = readdirSync(dir)
      .filter((f) => f.startsWith('seg-') && f.endsWith('.jsonl'))
      .sort();
    const cache = new RewardCache(dir, identity, []);
    let loaded = 0;
    for (const file of segments) {
      const n = cache.readSegment(join(dir, file), warn);
      if (n !== null) {
        cache.readSegments.push(file);
        loaded += n;
      }
    }
    (cache as { loaded: number }).loaded = loaded;
    return cache;
  }

  /**
   * The cache key of a conversation: sha256 of its canonical JSON (the checked messages, response
   * last, e.g. from `model.encoder.checkedConversation(prompt, response)`).
   *
   * @example
   * ```ts
   * RewardCache.key([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }]); // '9c1e…'
   * ```
   */
  static key(messages: readonly ChatMessage[]): string {
    return createHash('sha256')
      .update(canonicalJson(messages.map((m) => ({ role: m.role, content: m.content }))))
      .digest('hex');
  }

  /** Distinct conversations cached (read plus added). */
  get size(): number {
    return this.entries.size;
  }

  /** Entries added since the last flush. */
  get unflushed(): number {
    return this.pending.length;
  }

  /** The cached score of a conversation key, if any. */
  get(key: string): CachedScore | undefined {
    return this.entries.get(key);
  }

  /** Adds a score (kept in memory until {@link flush}). */
  put(key: string, value: CachedScore): void {
    if (value.rewards.length !== ATTRIBUTE_COUNT)
      throw new RangeError(`value.rewards must hold ${ATTRIBUTE_COUNT} numbers, got ${value.rewards.length}`);
    if (this.entries.has(key)) return;
    this.entries.set(key, value);
    this.pending.push([key, value]);
  }

  /** Writes the entries added since the last flush as one new segment (atomically). */
  flush(): void {
    if (this.pending.length === 0) return;
    const file = segmentName();
    writeFileAtomic(join(this.dir, file), this.serialize(this.pending));
    this.readSegments.push(file);
    this.pending = [];
  }

  /**
   * Flushes, then, when the folder holds more than 32 segments, merges the segments this cache
   * read or wrote into one and deletes them. Segments other runs wrote meanwhile are kept.
   */
  close(): void {
    this.flush();
    const all = readdirSync(this.dir).filter((f) => f.startsWith('seg-') && f.endsWith('.jsonl'));
    if (all.length <= COMPACT_ABOVE || this.readSegments.length < 2) return;
    const merged = segmentName();
    writeFileAtomic(join(this.dir, merged), this.serialize([...this.entries]));
    for (const f of this.readSegments) rmSync(join(this.dir, f), { force: true });
    this.readSegments.length = 0;
    this.readSegments.push(merged);
  }

  private serialize(entries: ReadonlyArray<readonly [string, CachedScore]>): string {
    const lines = [JSON.stringify({ format: REWARD_CACHE_FORMAT, version: CACHE_VERSION, identity: this.identity.rewards })];
    for (const [k, v] of entries)
      lines.push(JSON.stringify({ k, r: Array.from(v.rewards), t: v.tokens, x: v.truncation, b: v.backboneReward }));
    return `${lines.join('\n')}\n`;
  }

  /** Reads one segment into the map; null (with a warning) when it is not a valid segment of this identity. */
  private readSegment(path: string, warn: (m: string) => void): number | null {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      // Another run compacted it away between the listing and the read: its entries are in the merged segment.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      warn(`reward cache: cannot read ${path} (${(e as Error).message}); its rewards will be recomputed`);
      return null;
    }
    const lines = text.split('\n').filter((l) => l !== '');
    const bad = (why: string): null => {
      warn(`reward cache: skipping ${path}: ${why}; its rewards will be recomputed`);
      return null;
    };
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    } catch {
      return bad('no valid header line');
    }
    if (header.format !== REWARD_CACHE_FORMAT || header.version !== CACHE_VERSION)
      return bad(`not a version ${CACHE_VERSION} cache segment`);
    if (header.identity !== this.identity.rewards) return bad(`made for model identity ${String(header.identity)}`);
    const parsed: Array<[string, CachedScore]> = [];
    for (let i = 1; i < lines.length; i++) {
      let e: { k?: unknown; r?: unknown; t?: unknown; x?: unknown; b?: unknown };
      try {
        e = JSON.parse(lines[i]!) as typeof e;
      } catch {
        return bad(`line ${i + 1} is not valid JSON`);
      }
      const ok =
        typeof e.k === 'string' &&
        /^[0-9a-f]{64}$/.test(e.k) &&
        Array.isArray(e.r) &&
        e.r.length === ATTRIBUTE_COUNT &&
        e.r.every((v) => typeof v === 'number' && Number.isFinite(v)) &&
        typeof e.t === 'number' &&
        (e.b === null || typeof e.b === 'number') &&
        (e.x === null || (typeof e.x === 'object' && !Array.isArray(e.x)));
      if (!ok) return bad(`line ${i + 1} is not a cache entry`);
      parsed.push([
        e.k as string,
        {
          rewards: Float64Array.from(e.r as number[]),
          tokens: e.t as number,
          truncation: e.x as TruncationInfo | null,
          backboneReward: e.b as number | null,
        },
      ]);
    }
    for (const [k, v] of parsed) if (!this.entries.has(k)) this.entries.set(k, v);
    return parsed.length;
  }
}

function segmentName(): string {
  return `seg-${Date.now().toString().padStart(14, '0')}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`;
}

/** What {@link scoreWithCache} did. */
export interface CachedScoring {
  /** One score per input item, in input order. */
  scores: CachedScore[];
  /** Items given. */
  conversations: number;
  /** Distinct conversations among them. */
  distinct: number;
  /** Distinct conversations found in the cache. */
  cacheHits: number;
  /** Distinct conversations run through the backbone. */
  computed: number;
  /** Items whose conversation was truncated to `maxLength`. */
  truncated: number;
}

/** Options of {@link scoreWithCache}. */
export interface ScoreWithCacheOptions extends BatchOptions {
  /** The cache (null: score everything, still once per distinct conversation). */
  cache: RewardCache | null;
  /** Flush the cache every this many new scores (default 256), so an interruption keeps them. */
  flushEvery?: number;
}

/**
 * Scores conversations through a {@link RewardCache}: each distinct conversation once, cached
 * ones without the backbone; new scores are added to the cache and flushed as they come.
 * `onProgress` counts the conversations run through the backbone.
 *
 * @example
 * ```ts
 * const cache = RewardCache.open('.dtr-cache', modelIdentity(model));
 * const r = await scoreWithCache(model, items, { cache });
 * r.cacheHits; r.computed;    // e.g. 0 and 40 the first time, 40 and 0 the second
 * r.scores[0].rewards;        // Float64Array of the five rewards, ATTRIBUTES order
 * ```
 */
export async function scoreWithCache(
  model: RewardModel,
  items: readonly ScoreItem[],
  options: ScoreWithCacheOptions,
): Promise<CachedScoring> {
  if (!Array.isArray(items)) throw new TypeError('items must be an array of {prompt, response}');
  if (options === null || typeof options !== 'object' || options.cache === undefined)
    throw new TypeError('options.cache must be a RewardCache or null');
  const flushEvery = options.flushEvery ?? 256;
  if (!Number.isSafeInteger(flushEvery) || flushEvery < 1)
    throw new RangeError(`options.flushEvery must be a positive integer, got ${String(flushEvery)}`);
  const cache = options.cache;
  const keys = items.map((it, i) =>
    RewardCache.key(
      model.encoder.checkedConversation(it?.prompt, it?.response, { prompt: `items[${i}].prompt`, response: `items[${i}].response` }),
    ),
  );
  const local = new Map<string, CachedScore>();
  const missing: Array<{ key: string; item: ScoreItem }> = [];
  let hits = 0;
  for (const [i, key] of keys.entries()) {
    if (local.has(key)) continue;
    const cached = cache?.get(key);
    if (cached) {
      local.set(key, cached);
      hits++;
    } else {
      local.set(key, PLACEHOLDER);
      missing.push({ key, item: items[i]! });
    }
  }
  let computed = 0;
  if (missing.length > 0) {
    const { onProgress, batchSize, maxTokensPerBatch, paddingSide } = options;
    const batch: BatchOptions = {
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(maxTokensPerBatch !== undefined ? { maxTokensPerBatch } : {}),
      ...(paddingSide !== undefined ? { paddingSide } : {}),
      ...(onProgress ? { onProgress } : {}),
    };
    try {
      for await (const r of model.scoreStream(
        missing.map((m) => m.item),
        { ...batch, total: missing.length, checked: true },
      )) {
        const score = toCached(r);
        const key = missing[computed]!.key;
        local.set(key, score);
        cache?.put(key, score);
        computed++;
        if (cache && cache.unflushed >= flushEvery) cache.flush();
      }
    } finally {
      cache?.flush();
    }
  }
  const scores = keys.map((k) => local.get(k)!);
  return {
    scores,
    conversations: items.length,
    distinct: local.size,
    cacheHits: hits,
    computed,
    truncated: scores.filter((s) => s.truncation !== null).length,
  };
}

const PLACEHOLDER: CachedScore = {
  rewards: new Float64Array(ATTRIBUTE_COUNT).fill(NaN),
  tokens: 0,
  truncation: null,
  backboneReward: null,
};

function toCached(r: ScoreResult): CachedScore {
  return {
    rewards: Float64Array.from(ATTRIBUTES, (a) => r.rewards[a]),
    tokens: r.tokens,
    truncation: r.truncation,
    backboneReward: r.backboneReward ?? null,
  };
}
