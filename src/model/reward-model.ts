/**
 * RewardModel: text in, attribute rewards and explained preferences out.
 *
 * prompt + response ─ chat template ─ tokenizer ─ ONNX backbone ─ pooling ─ linear head ─ 5 rewards
 * and for two responses: rewards(a) − rewards(b) ─ tree ─ preference, probability, path, sentence.
 *
 * Batching sorts conversations by length inside windows, caps rows and padded tokens per batch
 * and pads each batch only to its own longest row; pooling reads each row's last real token, so
 * a conversation's scores do not depend on what it is batched with (checked by {@link RewardModel.selfCheck}).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, fromVector, type AttributeScores } from '../attributes.js';
import { DtrError, formatIssues } from '../errors.js';
import { explain, type Explanation } from '../explain/explain.js';
import type { DecisionOptions } from '../tree/decision.js';
import type { LinearHead } from '../head/head.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import { createOrtBackbone, type SessionOptions } from '../backbone/ort.js';
import { DEFAULT_BATCH_LIMITS, checkLimits, padBatch, planBatches } from '../backbone/batching.js';
import { poolLastToken, rowsOf } from '../backbone/pooling.js';
import type { Backbone, BackboneBatch, BackboneBinding, BackboneOutputs, PaddingSide, ProviderPreference } from '../backbone/types.js';
import { ConversationEncoder, type EncodedConversation, type TextParams, type TruncationInfo } from '../text/encoder.js';
import { promptMessages, checkText, type Prompt } from '../text/prompt.js';
import { ChatTemplate } from '../text/template.js';
import { TextTokenizer } from '../text/tokenizer.js';
import { EncoderWorker, type EncodeRequest } from '../text/worker-client.js';
import type { ModelConfig } from './config.js';
import { inspectModelFolder, type FolderIssue, type ModelFolder } from './folder.js';

/** Options of {@link RewardModel.load}. Everything but `dir` overrides dtr.json. */
export interface LoadOptions {
  /** The model folder. */
  dir: string;
  /** Execution provider policy (dtr.json `provider`, default `auto`: CUDA, else CPU with one warning). */
  provider?: ProviderPreference;
  /** onnxruntime session options, passed through (e.g. `intraOpNumThreads`, `graphOptimizationLevel`). */
  sessionOptions?: SessionOptions;
  maxLength?: number;
  paddingSide?: PaddingSide;
  batchSize?: number;
  maxTokensPerBatch?: number;
  /**
   * A head (object, file path or name) instead of the folder's. `null` loads the backbone alone
   * (e.g. a folder exported without a head): {@link RewardModel.embedMany} and
   * {@link RewardModel.embedStream} work, scoring throws `E_MODEL`.
   */
  head?: string | LinearHead | null;
  /** A tree (object, file path or name) instead of dtr.json's. */
  tree?: string | PreferenceTree;
  /** A chat template instead of tokenizer_config.json's. */
  chatTemplate?: string;
  /**
   * Receives warnings (CUDA fallback; a head fitted on another backbone id); default: one line on
   * stderr. They are also kept in `model.warnings`.
   */
  onWarning?: (message: string) => void;
  /**
   * A backbone to use instead of onnxruntime on model.onnx (another runtime, or a test double).
   * A function receives the input/output binding from dtr.json.
   */
  backbone?: Backbone | ((binding: BackboneBinding) => Promise<Backbone>);
  /**
   * Tokenize in a worker thread so the next window is tokenized while the backbone runs
   * (default `auto`: for runs of 128 conversations or more).
   */
  tokenizeInWorker?: boolean | 'auto';
}

/** A prompt and one response. */
export interface ScoreItem {
  prompt: Prompt;
  response: string;
}

/** A prompt and two responses to compare. */
export interface CompareItem {
  prompt: Prompt;
  a: string;
  b: string;
}

/** Batching options of the `...Many` methods. */
export interface BatchOptions {
  /** Conversations per batch (dtr.json `batchSize`, default 8). */
  batchSize?: number;
  /** Padded tokens per batch (dtr.json `maxTokensPerBatch`, default 16384). */
  maxTokensPerBatch?: number;
  /** Padding side for this call (default: dtr.json's). */
  paddingSide?: PaddingSide;
  /** Called after each batch with items done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Options of {@link RewardModel.compare}: the decision rule, and optionally another tree. */
export interface CompareOptions extends DecisionOptions {
  tree?: PreferenceTree;
}

/** The five attribute rewards of one response. */
export interface ScoreResult {
  rewards: AttributeScores;
  /** The backbone's own scalar reward (e.g. Skywork-Reward's score), when the model outputs one. */
  backboneReward?: number;
  /** True when the conversation was shortened to fit `maxLength` (see `truncation`). */
  truncated: boolean;
  truncation: TruncationInfo | null;
  /** Tokens the backbone read. */
  tokens: number;
}

/** Two responses compared: their rewards, and the tree's explained preference. */
export interface CompareResult extends Explanation {
  rewards: { a: AttributeScores; b: AttributeScores };
  backboneReward?: { a: number; b: number };
  /** True when either conversation was truncated. */
  truncated: boolean;
  truncation: { a: TruncationInfo | null; b: TruncationInfo | null };
  tokens: { a: number; b: number };
}

/** Pooled last-token hidden states (the head's input) for many conversations. */
export interface EmbedResult {
  n: number;
  hiddenSize: number;
  /** n x hiddenSize, row-major, float32. */
  embeddings: Float32Array;
  truncated: boolean[];
  truncation: (TruncationInfo | null)[];
  tokens: Int32Array;
  /** The backbone's own reward per conversation, or null when it has none. */
  backboneRewards: Float64Array | null;
}

/** Pooled states of consecutive conversations, as {@link RewardModel.embedStream} yields them. */
export interface EmbedChunk {
  /** Index (in the input) of the first conversation of this chunk. */
  start: number;
  /** Conversations in this chunk. */
  n: number;
  hiddenSize: number;
  /** n x hiddenSize, row-major, float32, in input order. */
  embeddings: Float32Array;
  truncation: (TruncationInfo | null)[];
  tokens: Int32Array;
  /** The backbone's own reward per conversation, or null when it has none. */
  backboneRewards: Float64Array | null;
}

/** One comparison of {@link SelfCheckReport}. */
export interface SelfCheckCase {
  name: string;
  maxDiff: number;
  ok: boolean;
}

/** Result of {@link RewardModel.selfCheck}. */
export interface SelfCheckReport {
  ok: boolean;
  tolerance: number;
  conversations: number;
  maxDiff: number;
  cases: SelfCheckCase[];
}

interface WindowOutput {
  rewards: Float64Array;
  pooled: Float32Array | null;
  backbone: Float64Array | null;
}

interface ResolvedBatch {
  batchSize: number;
  maxTokensPerBatch: number;
  paddingSide: PaddingSide;
}

const WORKER_THRESHOLD = 128;

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
  private readonly backbone: Backbone;
  private readonly treeValue: PreferenceTree;
  private readonly headValue: LinearHead | null;
  private readonly folder: ModelFolder;
  private readonly tokenizeInWorker: boolean | 'auto';
  private disposed = false;
  private running: Promise<unknown> = Promise.resolve();
  private worker: Promise<EncoderWorker> | null = null;
  private queue: Array<{ conv: EncodedConversation; resolve: (r: { out: WindowOutput; row: number }) => void; reject: (e: unknown) => void }> = [];
  private flushScheduled = false;

  private constructor(init: { folder: ModelFolder; tokenizer: TextTokenizer; encoder: ConversationEncoder; backbone: Backbone; warnings: string[]; tokenizeInWorker: boolean | 'auto' }) {
    this.folder = init.folder;
    this.dir = init.folder.dir;
    this.config = init.folder.config;
    this.tokenizer = init.tokenizer;
    this.encoder = init.encoder;
    this.backbone = init.backbone;
    this.treeValue = init.folder.tree;
    this.headValue = init.folder.head;
    this.warnings = Object.freeze([...init.warnings]);
    this.tokenizeInWorker = init.tokenizeInWorker;
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
    const options: LoadOptions = typeof dirOrOptions === 'string' ? { dir: dirOrOptions } : dirOrOptions;
    if (options === null || typeof options !== 'object') throw new TypeError('RewardModel.load expects a folder path or an options object {dir, ...}');
    if (typeof options.dir !== 'string' || options.dir.trim() === '') throw new TypeError('dir must be the path of a model folder');
    checkLoadOptions(options);
    const onWarning = options.onWarning ?? ((m: string) => void process.stderr.write(`dtr: warning: ${m}\n`));

    const inspected = inspectModelFolder(options.dir, {
      ...(options.head !== undefined ? { head: options.head } : {}),
      ...(options.tree !== undefined ? { tree: options.tree } : {}),
      ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
      ...(options.paddingSide !== undefined ? { paddingSide: options.paddingSide } : {}),
      ...(options.provider !== undefined ? { provider: options.provider } : {}),
      ...(options.chatTemplate !== undefined ? { chatTemplate: options.chatTemplate } : {}),
    });
    const issues: FolderIssue[] = inspected.success ? [] : [...inspected.issues];
    if (!inspected.success && issues.length === 1 && (issues[0]!.message === 'no such folder' || issues[0]!.message.startsWith('not a folder'))) {
      throw new DtrError('E_NOT_FOUND', `${options.dir}: ${issues[0]!.message}`);
    }

    // Text: tokenizer and template, checked on a probe conversation (whenever their files are usable).
    let tokenizer: TextTokenizer | null = null;
    let encoder: ConversationEncoder | null = null;
    const partial = inspected.success ? null : inspected.partial;
    if (inspected.success) {
      if (options.batchSize !== undefined) inspected.folder.config.batchSize = options.batchSize;
      if (options.maxTokensPerBatch !== undefined) inspected.folder.config.maxTokensPerBatch = options.maxTokensPerBatch;
    }
    const tokenizerJson = inspected.success ? inspected.folder.tokenizerJson : partial!.tokenizerJson;
    const tokenizerConfig = inspected.success ? inspected.folder.tokenizerConfig : partial!.tokenizerConfig;
    const chatTemplate = inspected.success ? inspected.folder.chatTemplate : partial!.chatTemplate;
    const cfg = inspected.success ? inspected.folder.config : partial!.config;
    if (tokenizerJson && tokenizerConfig) {
      try {
        tokenizer = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig, 'tokenizer.json');
      } catch (e) {
        issues.push({ path: 'tokenizer.json', message: (e as Error).message });
      }
      const where = (inspected.success ? inspected.folder.chatTemplateFrom : partial!.chatTemplateFrom) ?? 'chat template';
      if (tokenizer && chatTemplate !== null) {
        try {
          const template = new ChatTemplate(chatTemplate, { bos_token: tokenizer.bosToken, eos_token: tokenizer.eosToken, pad_token: tokenizer.padToken, unk_token: tokenizer.unkToken }, cfg?.templateVariables ?? {});
          encoder = new ConversationEncoder(tokenizer, template, { maxLength: cfg?.maxLength ?? 4096 });
          issues.push(...probeTemplate(encoder, where));
        } catch (e) {
          issues.push({ path: where, message: (e as Error).message });
        }
      }
    }

    // Backbone: created whenever dtr.json and the ONNX file are usable, so the graph's own
    // mismatches join the same list as the folder's other problems.
    let backbone: Backbone | null = null;
    const warnings: string[] = [];
    const config = cfg;
    const onnxPath = inspected.success ? inspected.folder.paths.onnx : partial!.onnxPath;
    const head = inspected.success ? inspected.folder.head : partial!.head;
    if (config && (onnxPath || options.backbone)) {
      const bb = config.backbone;
      const binding: BackboneBinding = { inputIds: bb.inputs.inputIds, attentionMask: bb.inputs.attentionMask, positionIds: bb.inputs.positionIds, output: bb.output, rewardOutput: bb.rewardOutput };
      try {
        if (typeof options.backbone === 'function') backbone = await options.backbone(binding);
        else if (options.backbone) backbone = options.backbone;
        else {
          backbone = await createOrtBackbone(onnxPath!, {
            provider: config.provider,
            binding,
            ...(options.sessionOptions ? { sessionOptions: options.sessionOptions } : {}),
            onWarning: (m) => {
              warnings.push(m);
              onWarning(m);
            },
          });
        }
        issues.push(...checkBinding(backbone, config, head, binding));
      } catch (e) {
        if (e instanceof DtrError && (e.code === 'E_PROVIDER' || (e.code === 'E_BACKBONE' && issues.length === 0))) throw e;
        issues.push({ path: bb.file, message: e instanceof DtrError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : (e as Error).message });
      }
    }

    if (issues.length > 0 || !inspected.success || !tokenizer || !encoder || !backbone) {
      if (backbone) await backbone.release().catch(() => undefined);
      const onlyShape = issues.length > 0 && issues.every((i) => i.shape);
      throw new DtrError(onlyShape ? 'E_SHAPE' : 'E_MODEL', `${options.dir} is not a usable model folder (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${formatIssues(issues, 3)}`, {
        issues: issues.map(({ path, message }) => ({ path, message })),
        hint: 'see docs/runtime.md for the folder layout and dtr.json fields',
      });
    }
    for (const w of inspected.folder.warnings) {
      warnings.push(w);
      onWarning(w);
    }
    // A head fitted on another backbone reads hidden states it was not fitted on. Not a load
    // problem (sizes already agree, checked above, and a renamed backbone is legitimate), but never silent.
    const mismatch = headBackboneWarning(inspected.folder);
    if (mismatch) {
      warnings.push(mismatch);
      onWarning(mismatch);
    }
    return new RewardModel({ folder: inspected.folder, tokenizer, encoder, backbone, warnings, tokenizeInWorker: options.tokenizeInWorker ?? 'auto' });
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
    return this.headValue?.hiddenSize ?? this.config.backbone.hiddenSize;
  }

  /** The execution provider in use (`cuda` or `cpu`). */
  get provider(): string {
    return this.backbone.provider;
  }

  get maxLength(): number {
    return this.config.maxLength;
  }

  /** True after {@link dispose}. */
  get isDisposed(): boolean {
    return this.disposed;
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
    const { out, row } = await this.enqueue(conv);
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
    const [ra, rb] = await Promise.all([this.enqueue(ca), this.enqueue(cb)]);
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
  async *compareStream(items: Iterable<CompareItem> | AsyncIterable<CompareItem>, options: BatchOptions & CompareOptions & { total?: number } = {}): AsyncGenerator<CompareResult> {
    this.checkScorable();
    checkCompareOptions(options);
    const resolved = this.batchOptions(options);
    const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
    let index = 0;
    const requests = mapWindows(items, resolved.batchSize, (it) => {
      const where = `items[${index++}]`;
      checkCompareItem(it, where);
      return [
        { prompt: it.prompt, response: it.a, params: { prompt: `${where}.prompt`, response: `${where}.a` } },
        { prompt: it.prompt, response: it.b, params: { prompt: `${where}.prompt`, response: `${where}.b` } },
      ];
    });
    let done = 0;
    for await (const { encoded, out } of this.pipeline(requests, resolved, false, total === undefined ? undefined : total * 2, (n) => {
      done += n;
      if (total !== undefined) options.onProgress?.(Math.floor(done / 2), total);
    })) {
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
  async *scoreStream(items: Iterable<ScoreItem> | AsyncIterable<ScoreItem>, options: BatchOptions & { total?: number; checked?: boolean } = {}): AsyncGenerator<ScoreResult> {
    this.checkScorable();
    const resolved = this.batchOptions(options);
    const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
    let index = 0;
    const requests = mapWindows(items, resolved.batchSize, (it) => {
      const where = `items[${index++}]`;
      if (!options.checked) checkScoreItem(it, where);
      return [{ prompt: it.prompt, response: it.response, params: { prompt: `${where}.prompt`, response: `${where}.response` } }];
    });
    let done = 0;
    for await (const { encoded, out } of this.pipeline(requests, resolved, false, total, (n) => {
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
    const resolved = this.batchOptions(options);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
    const total = options.total ?? (Array.isArray(items) ? items.length : undefined);
    const h = this.hiddenSize!;
    let index = 0;
    const windows = mapWindows(items, resolved.batchSize, (it) => {
      const where = `items[${index++}]`;
      if (!options.checked) checkScoreItem(it, where);
      return [{ prompt: it.prompt, response: it.response, params: { prompt: `${where}.prompt`, response: `${where}.response` } }];
    });
    let done = 0;
    let start = 0;
    options.signal?.throwIfAborted();
    for await (const { encoded, out } of this.pipeline(windows, resolved, true, total, (k) => {
      done += k;
      options.onProgress?.(done, total ?? done);
    }, options.signal)) {
      const n = encoded.length;
      const tokens = Int32Array.from(encoded, (e) => e.ids.length);
      yield { start, n, hiddenSize: h, embeddings: out.pooled!, truncation: encoded.map((e) => e.truncation), tokens, backboneRewards: out.backbone };
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
    if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) throw new RangeError(`tolerance must be a finite number >= 0, got ${String(tolerance)}`);
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
      const out = await this.forwardWindow(order.map((i) => encoded[i]!), limits, false);
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
      for (let k = 0; k < got.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k]! - reference[k]!));
      cases.push({ name, maxDiff, ok: maxDiff <= tolerance });
    }
    const maxDiff = Math.max(...cases.map((c) => c.maxDiff));
    return { ok: cases.every((c) => c.ok), tolerance, conversations: n, maxDiff, cases };
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
    if (this.disposed) return;
    this.disposed = true;
    const error = disposedError();
    for (const q of this.queue.splice(0)) q.reject(error);
    await this.running.catch(() => undefined);
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.then((w) => w.terminate()).catch(() => undefined);
    await this.backbone.release();
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────

  private checkAlive(): void {
    if (this.disposed) throw disposedError();
  }

  /** Embeddings need hidden states: not a graph that outputs rewards only. */
  private checkEmbeddable(): void {
    this.checkAlive();
    if (this.config.backbone.kind === 'rewards') {
      throw new DtrError('E_MODEL', `${this.dir}: backbone.kind is 'rewards' (head fused in the graph), so there are no hidden states to embed`, {
        hint: "export the backbone with a 'last_hidden_state' or 'pooled' output",
      });
    }
  }

  /** Scoring needs rewards: a head, or a graph that outputs them. */
  private checkScorable(): void {
    this.checkAlive();
    if (this.headValue === null && this.config.backbone.kind !== 'rewards') {
      throw new DtrError('E_MODEL', `${this.dir}: loaded without a head (head: null), so it gives hidden states (embedMany) but no rewards`, {
        hint: 'load it with a head (a head.json or heads/NAME.json in the folder, or the head option / --head), e.g. one fitted with dtr fit-head',
      });
    }
  }

  private batchOptions(options: BatchOptions): ResolvedBatch {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    checkLimits(options);
    if (options.paddingSide !== undefined && options.paddingSide !== 'left' && options.paddingSide !== 'right') {
      throw new RangeError(`paddingSide must be 'left' or 'right', got ${String(options.paddingSide)}`);
    }
    if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('onProgress must be a function');
    return {
      batchSize: options.batchSize ?? this.config.batchSize ?? DEFAULT_BATCH_LIMITS.batchSize,
      maxTokensPerBatch: options.maxTokensPerBatch ?? this.config.maxTokensPerBatch ?? DEFAULT_BATCH_LIMITS.maxTokensPerBatch,
      paddingSide: options.paddingSide ?? this.config.paddingSide,
    };
  }

  /** Single calls wait one turn of the event loop so concurrent ones share a batch. */
  private enqueue(conv: EncodedConversation): Promise<{ out: WindowOutput; row: number }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ conv, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const jobs = this.queue.splice(0);
    if (jobs.length === 0) return;
    try {
      this.checkAlive();
      const out = await this.forwardWindow(jobs.map((j) => j.conv), this.batchOptions({}), false);
      jobs.forEach((j, row) => j.resolve({ out, row }));
    } catch (e) {
      const error = this.disposed && !(e instanceof DtrError && e.code === 'E_DISPOSED' && e.message === DISPOSED_MESSAGE) ? disposedError(e) : e;
      for (const j of jobs) j.reject(error);
    }
  }

  /**
   * Windows of requests in, encoded windows and their outputs out. The next window is gathered
   * and handed to the tokenizer before the current window runs: with the worker, it is
   * tokenized while the backbone holds the main thread.
   */
  private async *pipeline(
    windows: AsyncIterable<EncodeRequest[]>,
    limits: ResolvedBatch,
    wantPooled: boolean,
    expected: number | undefined,
    onBatch: (conversations: number) => void,
    signal?: AbortSignal,
  ): AsyncGenerator<{ encoded: EncodedConversation[]; out: WindowOutput }> {
    const useWorker = this.tokenizeInWorker === true || (this.tokenizeInWorker === 'auto' && expected !== undefined && expected >= WORKER_THRESHOLD);
    const it = windows[Symbol.asyncIterator]();
    let worker: EncoderWorker | null = null;
    // Posts to the worker synchronously, so the request is under way before the forward pass starts.
    const start = (requests: EncodeRequest[]): Promise<EncodedConversation[]> => {
      if (worker) return worker.encode(requests);
      try {
        return Promise.resolve(requests.map((r) => this.encoder.encode(r.prompt, r.response, r.params ?? {})));
      } catch (e) {
        return Promise.reject(e);
      }
    };
    try {
      if (useWorker) worker = await this.encoderWorker();
      const first = await it.next();
      let pending: Promise<EncodedConversation[]> | null = first.done ? null : start(first.value);
      while (pending !== null) {
        const encoded = await pending;
        this.checkAlive();
        const next = await it.next();
        this.checkAlive();
        pending = next.done ? null : start(next.value);
        pending?.catch(() => undefined); // surfaced when awaited on the next turn
        const out = await this.forwardWindow(encoded, limits, wantPooled, onBatch, signal);
        yield { encoded, out };
      }
    } catch (e) {
      // dispose() during the run stops the worker and the session under it: whatever that makes
      // fail (a stopped worker, a released session) is reported as what it is, E_DISPOSED.
      // Caller mistakes (TypeError, RangeError) keep their kind.
      if (this.disposed && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof DtrError && e.code === 'E_DISPOSED' && e.message === DISPOSED_MESSAGE)) {
        throw disposedError(e);
      }
      throw e;
    } finally {
      await it.return?.();
    }
  }

  private async encoderWorker(): Promise<EncoderWorker> {
    this.checkAlive(); // never start a worker that dispose() would not stop
    this.worker ??= EncoderWorker.start({
      tokenizerPath: this.folder.paths.tokenizer,
      tokenizerConfigPath: this.folder.paths.tokenizerConfig,
      chatTemplate: this.encoder.template.source,
      templateVariables: this.config.templateVariables,
      maxLength: this.config.maxLength,
    });
    return this.worker;
  }

  /** Runs encoded conversations through the backbone in planned batches; rewards in input order. */
  private async forwardWindow(encoded: readonly EncodedConversation[], limits: ResolvedBatch, wantPooled: boolean, onBatch?: (n: number) => void, signal?: AbortSignal): Promise<WindowOutput> {
    const n = encoded.length;
    const h = this.hiddenSize;
    const rewards = new Float64Array(n * ATTRIBUTE_COUNT);
    const pooled = wantPooled && h !== null ? new Float32Array(n * h) : null;
    const backbone = this.config.backbone.rewardOutput ? new Float64Array(n) : null;
    const plan = planBatches(
      encoded.map((e) => e.ids.length),
      limits,
    );
    for (const rows of plan) {
      this.checkAlive();
      signal?.throwIfAborted();
      const batch = padBatch(
        rows.map((i) => encoded[i]!.ids),
        limits.paddingSide,
        this.tokenizer.padId,
      );
      const run = this.backbone.run(batch);
      this.running = run;
      const out = await run;
      this.consume(out, batch, rows, rewards, pooled, backbone);
      onBatch?.(rows.length);
    }
    return { rewards, pooled, backbone };
  }

  private consume(out: BackboneOutputs, batch: BackboneBatch, rows: readonly number[], rewards: Float64Array, pooled: Float32Array | null, backbone: Float64Array | null): void {
    const kind = this.config.backbone.kind;
    const b = batch.batch;
    if (kind === 'rewards') {
      const { data } = rowsOf(out.main, b, ATTRIBUTE_COUNT, "kind 'rewards' (one column per attribute)");
      const order = this.config.backbone.attributes ?? [...ATTRIBUTES];
      rows.forEach((i, r) => {
        order.forEach((name, col) => {
          rewards[i * ATTRIBUTE_COUNT + ATTRIBUTES.indexOf(name)] = data[r * ATTRIBUTE_COUNT + col]!;
        });
      });
    } else {
      const head = this.headValue;
      const states = kind === 'last_hidden_state' ? poolLastToken(out.main, batch) : rowsOf(out.main, b, null, "kind 'pooled'").data;
      const width = states.length / b;
      if (head && width !== head.hiddenSize) head.checkHiddenSize(width, `backbone output '${out.main.name}'`);
      const expected = this.config.backbone.hiddenSize;
      if (!head && expected !== null && width !== expected) {
        throw new DtrError('E_SHAPE', `dtr.json backbone.hiddenSize is ${expected} but backbone output '${out.main.name}' gives ${width}`);
      }
      rows.forEach((i, r) => {
        // Without a head (embeddings only) the rewards stay NaN; scoring refuses such a model up front.
        if (head) rewards.set(head.applyVector(states, r * width), i * ATTRIBUTE_COUNT);
        else rewards.fill(NaN, i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT);
        if (pooled) pooled.set(states.subarray(r * width, (r + 1) * width), i * width);
      });
    }
    if (backbone && out.reward) {
      const { data, width } = rowsOf(out.reward, b, null, 'the backbone reward');
      rows.forEach((i, r) => {
        backbone[i] = data[r * width]!;
      });
    } else if (backbone) {
      throw new DtrError('E_BACKBONE', `the backbone returned no '${this.config.backbone.rewardOutput}' output`);
    }
  }

  private scoreResult(out: WindowOutput, row: number, conv: EncodedConversation): ScoreResult {
    const result: ScoreResult = {
      rewards: fromVector(out.rewards.subarray(row * ATTRIBUTE_COUNT, (row + 1) * ATTRIBUTE_COUNT)),
      truncated: conv.truncated,
      truncation: conv.truncation,
      tokens: conv.ids.length,
    };
    if (out.backbone) result.backboneReward = out.backbone[row]!;
    return result;
  }

  private compareResult(a: ScoreResult, b: ScoreResult, options: CompareOptions): CompareResult {
    const { tree, ...explainOptions } = options as CompareOptions & BatchOptions & { total?: number };
    const e = explain(tree ?? this.treeValue, a.rewards, b.rewards, { ...(explainOptions.symmetric !== undefined ? { symmetric: explainOptions.symmetric } : {}), ...(explainOptions.tieBand !== undefined ? { tieBand: explainOptions.tieBand } : {}) });
    const result: CompareResult = {
      ...e,
      rewards: { a: a.rewards, b: b.rewards },
      truncated: a.truncated || b.truncated,
      truncation: { a: a.truncation, b: b.truncation },
      tokens: { a: a.tokens, b: b.tokens },
    };
    if (a.backboneReward !== undefined && b.backboneReward !== undefined) result.backboneReward = { a: a.backboneReward, b: b.backboneReward };
    return result;
  }
}

const DISPOSED_MESSAGE = 'this RewardModel was disposed: it can no longer score';

/** The error of every call on (or still running at) a disposed model; `cause`: what the release made fail. */
function disposedError(cause?: unknown): DtrError {
  return new DtrError('E_DISPOSED', DISPOSED_MESSAGE, { hint: 'load it again with RewardModel.load', ...(cause !== undefined ? { cause } : {}) });
}

/** The warning for a head whose `backbone` is not dtr.json's `backbone.id` (null when they agree). */
function headBackboneWarning(folder: ModelFolder): string | null {
  const head = folder.head;
  const id = folder.config.backbone.id;
  if (!head || head.backbone === id) return null;
  const file = folder.paths.head ? ` (${folder.paths.head.startsWith(`${folder.dir}/`) ? folder.paths.head.slice(folder.dir.length + 1) : folder.paths.head})` : '';
  return (
    `head '${head.name}'${file} was fitted on backbone '${head.backbone}' but this model's backbone is '${id}' (dtr.json backbone.id): ` +
    `its rewards are only meaningful on the hidden states it was fitted on. Use a head fitted on '${id}' (dtr fit-head), ` +
    `or, if it is the same backbone under another name, set the head's "backbone" to '${id}'`
  );
}

/** The probe conversation's checks: BOS exactly once, nothing after the response's end of turn, room for text. */
function probeTemplate(encoder: ConversationEncoder, where: string): FolderIssue[] {
  const issues: FolderIssue[] = [];
  const response = 'PROBE RESPONSE 7f3a';
  let text: string;
  try {
    text = encoder.template.render([
      { role: 'user', content: 'probe prompt' },
      { role: 'assistant', content: response },
    ]);
  } catch (e) {
    return [{ path: where, message: (e as Error).message }];
  }
  const tail = text.slice(text.lastIndexOf(response) + response.length);
  if (text.lastIndexOf(response) < 0) issues.push({ path: where, message: 'the template drops the assistant message: the response would not be scored' });
  else if (/assistant/i.test(tail)) {
    issues.push({
      path: where,
      message: `the template appends a new assistant header after the response even without add_generation_prompt (text after the response: ${JSON.stringify(tail)}); the last token would not be the response's end of turn. Use a template that honours add_generation_prompt (set chatTemplate in dtr.json)`,
    });
  }
  const tok = encoder.tokenizer;
  if (tok.bosId !== null) {
    const ids = tok.encode(text);
    const count = ids.filter((id) => id === tok.bosId).length;
    if (count > 1) issues.push({ path: where, message: `BOS (${tok.bosToken}) appears ${count} times in a rendered conversation; it must appear exactly once` });
    if (count === 1 && ids[0] !== tok.bosId) issues.push({ path: where, message: `BOS (${tok.bosToken}) is not the first token` });
  }
  try {
    const overhead = encoder.overhead();
    if (encoder.maxLength <= overhead + 1) issues.push({ path: 'dtr.json: maxLength', message: `${encoder.maxLength} leaves no room for text: the template alone takes ${overhead} tokens` });
  } catch (e) {
    issues.push({ path: where, message: (e as Error).message });
  }
  return issues;
}

/** dtr.json's inputs/outputs against what the ONNX graph has; lists what it has. */
function checkBinding(backbone: Backbone, config: ModelConfig, head: LinearHead | null, binding: BackboneBinding): FolderIssue[] {
  const issues: FolderIssue[] = [];
  const file = config.backbone.file;
  const inputs = backbone.inputs.map((v) => v.name);
  const outputs = backbone.outputs.map((v) => v.name);
  const has = `the graph has inputs [${inputs.join(', ')}] and outputs [${outputs.join(', ')}]`;
  const wanted: Array<[string, string | null]> = [
    ['backbone.inputs.inputIds', binding.inputIds],
    ['backbone.inputs.attentionMask', binding.attentionMask],
    ['backbone.inputs.positionIds', binding.positionIds],
  ];
  for (const [key, name] of wanted) if (name !== null && !inputs.includes(name)) issues.push({ path: `dtr.json: ${key}`, message: `'${name}' is not an input of ${file}: ${has}` });
  const fed = new Set(wanted.map(([, n]) => n).filter((n): n is string => n !== null));
  for (const name of inputs) if (!fed.has(name)) issues.push({ path: `dtr.json: backbone.inputs`, message: `${file} needs input '${name}', which dtr.json does not map (inputIds / attentionMask / positionIds): ${has}` });
  if (!outputs.includes(binding.output)) issues.push({ path: 'dtr.json: backbone.output', message: `'${binding.output}' is not an output of ${file}: ${has}` });
  if (binding.rewardOutput !== null && !outputs.includes(binding.rewardOutput)) issues.push({ path: 'dtr.json: backbone.rewardOutput', message: `'${binding.rewardOutput}' is not an output of ${file}: ${has}` });
  const main = backbone.outputs.find((v) => v.name === binding.output);
  const kind = config.backbone.kind;
  if (main?.shape) {
    const rank = kind === 'last_hidden_state' ? 3 : 2;
    if (main.shape.length !== rank) {
      issues.push({ path: 'dtr.json: backbone.kind', message: `'${kind}' expects a rank-${rank} output but '${binding.output}' has shape [${main.shape.join(', ')}]` });
    } else {
      const last = main.shape[rank - 1];
      const expected = kind === 'rewards' ? ATTRIBUTE_COUNT : (head?.hiddenSize ?? config.backbone.hiddenSize);
      if (typeof last === 'number' && expected !== null && last !== expected) {
        issues.push({
          path: 'dtr.json: backbone',
          message: kind === 'rewards' ? `output '${binding.output}' has ${last} columns; kind 'rewards' needs ${ATTRIBUTE_COUNT}` : head ? `head '${head.name}' expects hidden size ${expected} but backbone output '${binding.output}' gives ${last}` : `dtr.json backbone.hiddenSize is ${expected} but backbone output '${binding.output}' gives ${last}`,
          shape: kind !== 'rewards',
        });
      }
    }
  }
  return issues;
}

function checkLoadOptions(o: LoadOptions): void {
  if (o.provider !== undefined && !['auto', 'cuda', 'cpu'].includes(o.provider)) throw new RangeError(`provider must be 'auto', 'cuda' or 'cpu', got ${String(o.provider)}`);
  if (o.paddingSide !== undefined && o.paddingSide !== 'left' && o.paddingSide !== 'right') throw new RangeError(`paddingSide must be 'left' or 'right', got ${String(o.paddingSide)}`);
  if (o.maxLength !== undefined && (!Number.isInteger(o.maxLength) || o.maxLength < 2)) throw new RangeError(`maxLength must be an integer >= 2, got ${String(o.maxLength)}`);
  checkLimits(o);
  if (o.onWarning !== undefined && typeof o.onWarning !== 'function') throw new TypeError('onWarning must be a function');
  if (o.tokenizeInWorker !== undefined && o.tokenizeInWorker !== 'auto' && typeof o.tokenizeInWorker !== 'boolean') throw new TypeError("tokenizeInWorker must be true, false or 'auto'");
}

function checkCompareOptions(o: CompareOptions): void {
  if (o === null || typeof o !== 'object') throw new TypeError('options must be an object');
  if (o.tree !== undefined && (o.tree === null || typeof (o.tree as PreferenceTree).predictProba !== 'function')) throw new TypeError('options.tree must be a PreferenceTree');
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
    return { prompt: it.prompt, response: it.response, params: { prompt: `${where}.prompt`, response: `${where}.response` } satisfies TextParams };
  });
}

/**
 * Groups an (async) iterable into windows of requests: the first window is one batch (so the
 * backbone starts at once: nothing can overlap its tokenization), later ones four batches
 * (sorted by length inside, and tokenized while the previous window runs).
 */
async function* mapWindows<T>(items: Iterable<T> | AsyncIterable<T>, batchSize: number, map: (item: T) => EncodeRequest[]): AsyncGenerator<EncodeRequest[]> {
  let window: EncodeRequest[] = [];
  let size = batchSize;
  for await (const item of items as AsyncIterable<T>) {
    window.push(...map(item));
    if (window.length >= size) {
      yield window;
      window = [];
      size = batchSize * 4;
    }
  }
  if (window.length > 0) yield window;
}
