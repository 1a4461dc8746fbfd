/**
 * RewardModel: text in, attribute rewards and explained preferences out.
 *
 * prompt + response ─ chat template ─ tokenizer ─ ONNX backbone ─ pooling ─ linear head ─ 5 rewards
 * and for two responses: rewards(a) − rewards(b) ─ tree ─ preference, probability, path, sentence.
 *
 * Following a prompt through {@link RewardModel.compare}: the encoder renders and tokenizes both
 * conversations (text/), the batcher runs them through the backbone with whatever else is queued
 * (batcher.ts: batching and pooling in backbone/, the head in head/), and the rewards' difference
 * goes through the tree (explain/). Loading and its checks are in load.ts; the options and
 * results are declared in types.ts.
 *
 * May import: its own folder (model/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * eval/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTE_COUNT, fromVector } from '../attributes.js';
import type { PaddingSide } from '../backbone/types.js';
import { DtrError } from '../errors.js';
import { explain } from '../explain/explain.js';
import type { LinearHead } from '../head/head.js';
import { checkEngineVectors, type EngineCheckReport } from './remote.js';
import type { ConversationEncoder, EncodedConversation, TextParams, TruncationInfo } from '../text/encoder.js';
import { checkText, promptMessages, type ChatMessage, type Prompt } from '../text/prompt.js';
import type { TextTokenizer } from '../text/tokenizer.js';
import type { EncodeRequest } from '../text/worker-client.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import { Batcher, mapWindows, type ResolvedBatch, type WindowOutput } from './batcher.js';
import type { ModelConfig } from './config.js';
import type { ModelFolder } from './folder.js';
import { loadModelParts, type ModelParts } from './load.js';
import type {
  BatchOptions,
  CompareItem,
  CompareOptions,
  CompareResult,
  EmbedChunk,
  EmbedResult,
  LoadOptions,
  ScoreItem,
  ScoreResult,
  SelfCheckCase,
  SelfCheckReport,
} from './types.js';

/**
 * A reward model loaded from a folder: tokenizer, chat template, ONNX backbone, head and tree.
 *
 * @example
 * ```ts
 * import { RewardModel } from 'decision-tree-reward';
 * const model = await RewardModel.load('models/skywork-dtr');
 * const r = await model.compare('Jane has 12 apples...', response1, response2);
 * r.preference;  // 'a'
 * r.probability; // 0.986
 * r.sentence;    // 'A is preferred with probability 0.986: helpfulness difference +1.791 > 0.019, then ...'
 * await model.dispose();
 * ```
 */
export class RewardModel {
  /** The model folder (absolute). */
  readonly dir: string;
  /** dtr.json with load options applied. */
  readonly config: Readonly<ModelConfig>;
  readonly tokenizer: TextTokenizer;
  readonly encoder: ConversationEncoder;
  /** Warnings raised while loading (CUDA fallback, a head fitted on another backbone id), also sent to `onWarning`. */
  readonly warnings: readonly string[];
  private readonly treeValue: PreferenceTree;
  private readonly headValue: LinearHead | null;
  private readonly folder: ModelFolder;
  private readonly batcher: Batcher;

  private constructor(parts: ModelParts) {
    this.folder = parts.folder;
    this.dir = parts.folder.dir;
    this.config = parts.folder.config;
    this.tokenizer = parts.tokenizer;
    this.encoder = parts.encoder;
    this.treeValue = parts.folder.tree;
    this.headValue = parts.folder.head;
    this.warnings = Object.freeze([...parts.warnings]);
    this.batcher = new Batcher(parts);
  }

  /**
   * Loads a model folder, checking everything up front: every missing or inconsistent piece
   * (files, dtr.json, head, tree, chat template, the ONNX graph's inputs and outputs) is listed
   * at once in one `E_MODEL` error (`E_SHAPE` when the only problem is a hidden-size mismatch).
   *
   * @example
   * ```ts
   * const model = await RewardModel.load({ dir: 'models/skywork-dtr', provider: 'cpu', maxLength: 2048 });
   * ```
   */
  static async load(dirOrOptions: string | LoadOptions): Promise<RewardModel> {
    return new RewardModel(await loadModelParts(dirOrOptions));
  }

  /** The preference tree used by {@link compare}. */
  get tree(): PreferenceTree {
    return this.treeValue;
  }

  /**
   * The files the model was loaded from (absolute paths; `head`/`tree` null when given as objects
   * or, for `head`, when there is none).
   *
   * @example
   * ```ts
   * model.files.onnx; // '/models/skywork-dtr/model.onnx'
   * ```
   */
  get files(): Readonly<ModelFolder['paths']> {
    return this.folder.paths;
  }

  /** The linear head, or null when the backbone outputs rewards itself (kind `rewards`) or was loaded with `head: null`. */
  get head(): LinearHead | null {
    return this.headValue;
  }

  /** Width of the pooled hidden state (null for kind `rewards`). */
  get hiddenSize(): number | null {
    return this.batcher.hiddenSize;
  }

  /** The execution provider in use (`cuda` or `cpu`). */
  get provider(): string {
    return this.batcher.provider;
  }

  get maxLength(): number {
    return this.config.maxLength;
  }

  /** True after {@link dispose}. */
  get isDisposed(): boolean {
    return this.batcher.disposed;
  }

  /**
   * The token ids the backbone would read for a prompt and response, and how they were
   * truncated: for inspecting the template and truncation.
   *
   * @example
   * ```ts
   * model.encode('Hello', 'Hi there').ids; // Int32Array [128000, 128006, 882, ...]
   * ```
   */
  encode(prompt: Prompt, response: string): EncodedConversation {
    this.checkAlive();
    return this.encoder.encode(prompt, response);
  }

  /**
   * The five attribute rewards of one response to a prompt. Concurrent calls are batched together.
   *
   * @example
   * ```ts
   * const { rewards, truncated } = await model.score('Hi', 'Hello! How can I help?');
   * rewards.helpfulness; // e.g. 3.1
   * ```
   */
  async score(prompt: Prompt, response: string): Promise<ScoreResult> {
    this.checkScorable();
    const conv = this.encoder.encode(prompt, response);
    const { out, row } = await this.batcher.enqueue(conv);
    return this.scoreResult(out, row, conv);
  }

  /**
   * Compares two responses to one prompt: both rewards, their difference, and the tree's
   * preference with its path, sentence and counterfactual (see `explain`).
   *
   * @example
   * ```ts
   * const r = await model.compare(prompt, response1, response2);
   * console.log(r.preference, r.probability, r.sentence);
   * ```
   */
  async compare(prompt: Prompt, a: string, b: string, options: CompareOptions = {}): Promise<CompareResult> {
    this.checkScorable();
    checkCompareOptions(options);
    const ca = this.encoder.encode(prompt, a, { response: 'a' });
    const cb = this.encoder.encode(prompt, b, { response: 'b' });
    const [ra, rb] = await Promise.all([this.batcher.enqueue(ca), this.batcher.enqueue(cb)]);
    return this.compareResult(this.scoreResult(ra.out, ra.row, ca), this.scoreResult(rb.out, rb.row, cb), options);
  }

  /**
   * Scores many responses, batched (sorted by length, rows and padded tokens capped).
   * Results come back in input order.
   *
   * @example
   * ```ts
   * const results = await model.scoreMany(items, { batchSize: 16, onProgress: (d, n) => console.log(d, n) });
   * ```
   */
  async scoreMany(items: readonly ScoreItem[], options: BatchOptions = {}): Promise<ScoreResult[]> {
    this.checkScorable();
    const requests = scoreRequests(items, 'items');
    const results: ScoreResult[] = [];
    for await (const r of this.scoreStream(requests, { ...options, total: requests.length, checked: true })) results.push(r);
    return results;
  }

  /**
   * Compares many pairs, batched; results in input order.
   *
   * @example
   * ```ts
   * const results = await model.compareMany([{ prompt, a, b }, ...], { batchSize: 16 });
   * ```
   */
  async compareMany(items: readonly CompareItem[], options: BatchOptions & CompareOptions = {}): Promise<CompareResult[]> {
    this.checkScorable();
    checkCompareOptions(options);
    if (!Array.isArray(items)) throw new TypeError(`items must be an array of {prompt, a, b}, got ${typeof items}`);
    items.forEach((it, i) => checkCompareItem(it, `items[${i}]`));
    const results: CompareResult[] = [];
    for await (const r of this.compareStream(items, { ...options, total: items.length })) results.push(r);
    return results;
  }

  /**
   * Compares pairs from any (async) iterable, yielding results in input order as batches finish:
   * for files too big to hold in memory. Tokenization of the next window overlaps the running
   * batch (in a worker thread) for long runs.
   *
   * @example
   * ```ts
   * for await (const r of model.compareStream(readPairs('pairs.jsonl'))) console.log(r.preference);
   * ```
   */
  async *compareStream(
    items: Iterable<CompareItem> | AsyncIterable<CompareItem>,
    options: BatchOptions & CompareOptions & { total?: number } = {},
  ): AsyncGenerator<CompareResult> {
    this.checkScorable();
    checkCompareOptions(options);
    const resolved = this.batcher.resolve(options);
    const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
    let index = 0;
    const requests = mapWindows(
      items,
      resolved.batchSize,
      (it) => {
        const where = `items[${index++}]`;
        checkCompareItem(it, where);
        return [
          { prompt: it.prompt, response: it.a, params: { prompt: `${where}.prompt`, response: `${where}.a` } },
          { prompt: it.prompt, response: it.b, params: { prompt: `${where}.prompt`, response: `${where}.b` } },
        ];
      },
      Math.max(4, this.batcher.maxInFlight),
    );
    let done = 0;
    for await (const { encoded, out } of this.batcher.pipeline(
      requests,
      resolved,
      false,
      total === undefined ? undefined : total * 2,
      (n) => {
        done += n;
        if (total !== undefined) options.onProgress?.(Math.floor(done / 2), total);
      },
    )) {
      for (let i = 0; i < encoded.length; i += 2) {
        yield this.compareResult(this.scoreResult(out, i, encoded[i]!), this.scoreResult(out, i + 1, encoded[i + 1]!), options);
      }
    }
  }

  /**
   * Scores responses from any (async) iterable, yielding results in input order.
   *
   * @example
   * ```ts
   * for await (const r of model.scoreStream([{ prompt: 'Hi', response: 'Hello' }])) console.log(r.rewards);
   * ```
   */
  async *scoreStream(
    items: Iterable<ScoreItem> | AsyncIterable<ScoreItem>,
    options: BatchOptions & { total?: number; checked?: boolean } = {},
  ): AsyncGenerator<ScoreResult> {
    this.checkScorable();
    const resolved = this.batcher.resolve(options);
    const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
    const requests = scoreWindows(items, resolved.batchSize, options.checked === true, Math.max(4, this.batcher.maxInFlight));
    let done = 0;
    for await (const { encoded, out } of this.batcher.pipeline(requests, resolved, false, total, (n) => {
      done += n;
      if (total !== undefined) options.onProgress?.(done, total);
    })) {
      for (let i = 0; i < encoded.length; i++) yield this.scoreResult(out, i, encoded[i]!);
    }
  }

  /**
   * Pooled last-token hidden states (the head's input) of many conversations, e.g. to fit a new
   * head (`dtr embed`). Not available when the backbone outputs rewards only.
   *
   * @example
   * ```ts
   * const { embeddings, hiddenSize } = await model.embedMany([{ prompt: 'Hi', response: 'Hello' }]);
   * embeddings.subarray(0, hiddenSize); // the first conversation's state
   * ```
   */
  async embedMany(items: readonly ScoreItem[], options: BatchOptions = {}): Promise<EmbedResult> {
    this.checkEmbeddable();
    const requests = scoreRequests(items, 'items');
    const n = requests.length;
    const h = this.hiddenSize!;
    const embeddings = new Float32Array(n * h);
    const truncated: boolean[] = [];
    const truncation: (TruncationInfo | null)[] = [];
    const tokens = new Int32Array(n);
    const backboneRewards = this.config.backbone.rewardOutput ? new Float64Array(n) : null;
    for await (const chunk of this.embedStream(items, { ...options, total: n, checked: true })) {
      embeddings.set(chunk.embeddings, chunk.start * h);
      tokens.set(chunk.tokens, chunk.start);
      for (const t of chunk.truncation) {
        truncated.push(t !== null);
        truncation.push(t);
      }
      if (backboneRewards && chunk.backboneRewards) backboneRewards.set(chunk.backboneRewards, chunk.start);
    }
    return { n, hiddenSize: h, embeddings, truncated, truncation, tokens, backboneRewards };
  }

  /**
   * Pooled states of conversations from any (async) iterable, yielded as consecutive chunks in
   * input order as batches finish: for files too big to hold in memory, and for writers that
   * checkpoint as they go (`dtr embed` appends each chunk to an {@link EmbeddingsWriter}).
   * `signal` stops the stream between batches (it throws the signal's reason).
   *
   * @example
   * ```ts
   * for await (const c of model.embedStream(rows, { total: rows.length })) {
   *   writer.append(c.embeddings, labels.subarray(c.start * 5, (c.start + c.n) * 5));
   * }
   * ```
   */
  async *embedStream(
    items: Iterable<ScoreItem> | AsyncIterable<ScoreItem>,
    options: BatchOptions & { total?: number; checked?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<EmbedChunk> {
    this.checkEmbeddable();
    const resolved = this.batcher.resolve(options);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
      throw new TypeError('options.signal must be an AbortSignal');
    const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
    const h = this.hiddenSize!;
    const windows = scoreWindows(items, resolved.batchSize, options.checked === true, Math.max(4, this.batcher.maxInFlight));
    let done = 0;
    let start = 0;
    options.signal?.throwIfAborted();
    for await (const { encoded, out } of this.batcher.pipeline(
      windows,
      resolved,
      true,
      total,
      (k) => {
        done += k;
        options.onProgress?.(done, total ?? done);
      },
      options.signal,
    )) {
      const n = encoded.length;
      const tokens = Int32Array.from(encoded, (e) => e.ids.length);
      yield {
        start,
        n,
        hiddenSize: h,
        embeddings: out.pooled!,
        truncation: encoded.map((e) => e.truncation),
        tokens,
        backboneRewards: out.backbone,
      };
      start += n;
      options.signal?.throwIfAborted();
    }
  }

  /**
   * Checks that scores do not depend on batch composition, order or padding: each conversation
   * alone, all together, in reverse order in pairs, and with the other padding side (two filler
   * conversations of other lengths force padding). Fails when any reward differs by more than
   * `tolerance` (default 1e-5). Use it on a new export before trusting batched scores.
   *
   * @example
   * ```ts
   * const report = await model.selfCheck([{ prompt: 'Hi', response: 'Hello' }]);
   * report.ok;      // true
   * report.maxDiff; // e.g. 2.4e-7
   * ```
   */
  async selfCheck(items: readonly ScoreItem[], options: { tolerance?: number } = {}): Promise<SelfCheckReport> {
    this.checkScorable();
    const tolerance = options.tolerance ?? 1e-5;
    if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0)
      throw new RangeError(`tolerance must be a finite number >= 0, got ${String(tolerance)}`);
    const requests = scoreRequests(items, 'items');
    if (requests.length === 0) throw new RangeError('items is empty: give at least one {prompt, response}');
    const fillerText = 'Padding filler: the quick brown fox jumps over the lazy dog. ';
    const room = Math.max(1, Math.min(200, Math.floor((this.maxLength - this.encoder.overhead()) / 2)));
    const long = this.encoder.keepStart(fillerText.repeat(Math.ceil(room / 10) + 1), room);
    const all: EncodeRequest[] = [...requests, { prompt: 'Hi', response: 'Ok.' }, { prompt: 'Write a sentence.', response: long || 'Ok.' }];
    const encoded = all.map((r) => this.encoder.encode(r.prompt, r.response, r.params ?? {}));
    const n = encoded.length;
    const side = this.config.paddingSide;
    const other: PaddingSide = side === 'right' ? 'left' : 'right';
    const run = async (order: number[], limits: ResolvedBatch): Promise<Float64Array> => {
      const out = await this.batcher.forwardWindow(
        order.map((i) => encoded[i]!),
        limits,
        false,
      );
      const width = ATTRIBUTE_COUNT + (out.backbone ? 1 : 0);
      const values = new Float64Array(n * width);
      order.forEach((i, k) => {
        values.set(out.rewards.subarray(k * ATTRIBUTE_COUNT, (k + 1) * ATTRIBUTE_COUNT), i * width);
        if (out.backbone) values[i * width + ATTRIBUTE_COUNT] = out.backbone[k]!;
      });
      return values;
    };
    const identity = Array.from({ length: n }, (_, i) => i);
    const unlimited = Number.MAX_SAFE_INTEGER;
    const alone: Float64Array[] = [];
    for (const i of identity) alone.push(await run([i], { batchSize: 1, maxTokensPerBatch: unlimited, paddingSide: side }));
    const reference = new Float64Array(alone[0]!.length);
    const width = reference.length / n;
    identity.forEach((i) => reference.set(alone[i]!.subarray(i * width, (i + 1) * width), i * width));
    const variants: Array<[string, number[], ResolvedBatch]> = [
      [`all ${n} in one batch (${side} padding)`, identity, { batchSize: n, maxTokensPerBatch: unlimited, paddingSide: side }],
      ['reversed order, batches of 2', [...identity].reverse(), { batchSize: 2, maxTokensPerBatch: unlimited, paddingSide: side }],
      [`all ${n} in one batch (${other} padding)`, identity, { batchSize: n, maxTokensPerBatch: unlimited, paddingSide: other }],
    ];
    const cases: SelfCheckCase[] = [];
    for (const [name, order, limits] of variants) {
      const got = await run(order, limits);
      let maxDiff = 0;
      for (let k = 0; k < got.length; k++)
        if (!(Number.isNaN(got[k]!) && Number.isNaN(reference[k]!))) {
          const d = Math.abs(got[k]! - reference[k]!);
          maxDiff = Math.max(maxDiff, Number.isNaN(d) ? Infinity : d);
        }
      cases.push({ name, maxDiff, ok: maxDiff <= tolerance });
    }
    const maxDiff = Math.max(...cases.map((c) => c.maxDiff));
    return { ok: cases.every((c) => c.ok), tolerance, conversations: n, maxDiff, cases };
  }

  /**
   * Holds the backbone (an inference engine above all) to the check conversations the exporter
   * recorded in export.json: the folder's template and tokenizer must give the recorded token
   * ids, the backbone the recorded pooled states (and scalar) within the dtype's tolerance
   * (dtr.json `backbone.dtype` unless `dtype` is given). Catches normalised vectors, mean
   * pooling, another checkpoint, template or tokenizer, and noise beyond the tolerance.
   * @throws DtrError `E_MODEL` when export.json has no check vectors.
   *
   * @example
   * ```ts
   * const model = await RewardModel.load({ dir: 'models/skywork', remote: { urls: ['http://gpu1:8000/v1'] } });
   * (await model.checkEngine()).ok; // true
   * ```
   */
  async checkEngine(options: { dtype?: string } = {}): Promise<EngineCheckReport> {
    this.batcher.checkAlive();
    if (this.config.backbone.kind === 'rewards')
      throw new DtrError('E_MODEL', `${this.dir}: backbone.kind 'rewards' gives no pooled state to check`);
    return checkEngineVectors(
      {
        dir: this.dir,
        config: this.config,
        encode: (messages) => this.encoder.encodeMessages(messages as ChatMessage[]).ids,
        forward: async (ids) => {
          const encoded = ids.map((x) => ({ ids: x, truncated: false, truncation: null }));
          const limits = this.batcher.resolve({});
          const out = await this.batcher.forwardWindow(encoded, limits, true);
          return { pooled: out.pooled!, width: this.hiddenSize!, scalar: out.backbone };
        },
      },
      options,
    );
  }

  /**
   * Releases the ONNX session and the tokenizer worker. Idempotent; any later call throws
   * `E_DISPOSED`, and calls still running (a `compareMany` in the middle of its batches, say)
   * reject with `E_DISPOSED` after the batch in flight.
   *
   * @example
   * ```ts
   * await model.dispose();
   * await model.dispose(); // no-op
   * ```
   */
  async dispose(): Promise<void> {
    await this.batcher.dispose();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────

  private checkAlive(): void {
    this.batcher.checkAlive();
  }

  /** Embeddings need hidden states: not a graph that outputs rewards only. */
  private checkEmbeddable(): void {
    this.checkAlive();
    if (this.config.backbone.kind === 'rewards') {
      throw new DtrError(
        'E_MODEL',
        `${this.dir}: backbone.kind is 'rewards' (head fused in the graph), so there are no hidden states to embed`,
        {
          hint: "export the backbone with a 'last_hidden_state' or 'pooled' output",
        },
      );
    }
  }

  /** Scoring needs rewards: a head, or a graph that outputs them. */
  private checkScorable(): void {
    this.checkAlive();
    if (this.headValue === null && this.config.backbone.kind !== 'rewards') {
      throw new DtrError(
        'E_MODEL',
        `${this.dir}: loaded without a head (head: null), so it gives hidden states (embedMany) but no rewards`,
        {
          hint: 'load it with a head (a head.json or heads/NAME.json in the folder, or the head option / --head), e.g. one fitted with dtr fit-head',
        },
      );
    }
  }

  private scoreResult(out: WindowOutput, row: number, conv: EncodedConversation): ScoreResult {
    const result: ScoreResult = {
      rewards: fromVector(out.rewards.subarray(row * ATTRIBUTE_COUNT, (row + 1) * ATTRIBUTE_COUNT)),
      truncated: conv.truncated,
      truncation: conv.truncation,
      tokens: conv.ids.length,
    };
    // NaN: the backbone could not give this conversation's own reward (a remote engine's pooled
    // state is not at the token the checkpoint reads its score at); the result leaves it out.
    if (out.backbone && !Number.isNaN(out.backbone[row]!)) result.backboneReward = out.backbone[row]!;
    return result;
  }

  private compareResult(a: ScoreResult, b: ScoreResult, options: CompareOptions): CompareResult {
    const { tree, ...explainOptions } = options as CompareOptions & BatchOptions & { total?: number };
    const e = explain(tree ?? this.treeValue, a.rewards, b.rewards, {
      ...(explainOptions.symmetric !== undefined ? { symmetric: explainOptions.symmetric } : {}),
      ...(explainOptions.tieBand !== undefined ? { tieBand: explainOptions.tieBand } : {}),
    });
    const result: CompareResult = {
      ...e,
      rewards: { a: a.rewards, b: b.rewards },
      truncated: a.truncated || b.truncated,
      truncation: { a: a.truncation, b: b.truncation },
      tokens: { a: a.tokens, b: b.tokens },
    };
    if (a.backboneReward !== undefined && b.backboneReward !== undefined)
      result.backboneReward = { a: a.backboneReward, b: b.backboneReward };
    return result;
  }
}

/**
 * The option and result types of {@link RewardModel}, by name on the class (as onnxruntime's
 * `InferenceSession.RunOptions`): `RewardModel.LoadOptions`, `RewardModel.CompareResult` ...
 *
 * @example
 * ```ts
 * import { RewardModel } from 'decision-tree-reward';
 * const options: RewardModel.LoadOptions = { dir: 'models/fixture', provider: 'cpu' };
 * const model = await RewardModel.load(options);
 * ```
 */
export declare namespace RewardModel {
  export type {
    LoadOptions,
    ScoreItem,
    CompareItem,
    BatchOptions,
    CompareOptions,
    ScoreResult,
    CompareResult,
    EmbedResult,
    EmbedChunk,
    SelfCheckReport,
    SelfCheckCase,
  };
}

function checkCompareOptions(o: CompareOptions): void {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  if (o.tree !== undefined && (o.tree === null || typeof (o.tree as PreferenceTree).predictProba !== 'function'))
    throw new TypeError('options.tree must be a PreferenceTree');
}

function checkScoreItem(it: unknown, where: string): asserts it is ScoreItem {
  if (it === null || typeof it !== 'object' || Array.isArray(it)) throw new TypeError(`${where} must be an object {prompt, response}`);
  const { prompt, response } = it as Record<string, unknown>;
  promptMessages(prompt, `${where}.prompt`);
  checkText(response, `${where}.response`);
}

function checkCompareItem(it: unknown, where: string): asserts it is CompareItem {
  if (it === null || typeof it !== 'object' || Array.isArray(it)) throw new TypeError(`${where} must be an object {prompt, a, b}`);
  const { prompt, a, b } = it as Record<string, unknown>;
  promptMessages(prompt, `${where}.prompt`);
  checkText(a, `${where}.a`);
  checkText(b, `${where}.b`);
}

function scoreRequests(items: readonly ScoreItem[], param: string): EncodeRequest[] {
  if (!Array.isArray(items)) throw new TypeError(`${param} must be an array of {prompt, response}, got ${typeof items}`);
  return items.map((it, i) => {
    const where = `${param}[${i}]`;
    checkScoreItem(it, where);
    return {
      prompt: it.prompt,
      response: it.response,
      params: { prompt: `${where}.prompt`, response: `${where}.response` } satisfies TextParams,
    };
  });
}

/** Windows of score requests (one conversation per item), each item checked unless the caller has. */
function scoreWindows(
  items: Iterable<ScoreItem> | AsyncIterable<ScoreItem>,
  batchSize: number,
  checked: boolean,
  windowBatches: number,
): AsyncGenerator<EncodeRequest[]> {
  let index = 0;
  return mapWindows(
    items,
    batchSize,
    (it) => {
      const where = `items[${index++}]`;
      if (!checked) checkScoreItem(it, where);
      return [{ prompt: it.prompt, response: it.response, params: { prompt: `${where}.prompt`, response: `${where}.response` } }];
    },
    windowBatches,
  );
}
