/**
 * The contract of the reward model: the options, items and results of {@link RewardModel}'s
 * methods, apart from the class that implements them (reward-model.ts), as onnxruntime keeps
 * `inference-session.ts` beside `inference-session-impl.ts`. Read this file to know what goes in
 * and what comes out; read reward-model.ts for how.
 *
 * May import: its own folder (model/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * eval/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import type { AttributeScores } from '../attributes.js';
import type { SessionOptions } from '../backbone/ort.js';
import type { Backbone, BackboneBinding, PaddingSide, ProviderPreference } from '../backbone/types.js';
import type { Explanation } from '../explain/explain.js';
import type { LinearHead } from '../head/head.js';
import type { TruncationInfo } from '../text/encoder.js';
import type { Prompt } from '../text/prompt.js';
import type { DecisionOptions } from '../tree/decision.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import type { RemoteOptions } from './remote.js';

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
   * Run the backbone on an inference engine (vLLM's embeddings API, or KServe v2 / Triton)
   * instead of onnxruntime; each field overrides dtr.json `backbone.remote`. The folder then
   * needs no model.onnx (docs/scaling.md).
   */
  remote?: RemoteOptions;
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
