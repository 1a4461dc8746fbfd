/**
 * Contracts of the backbone layer, apart from the onnxruntime implementation (ort.ts), so tests
 * and other runtimes can swap the backbone: a batch of padded token ids goes in, the configured
 * output (hidden states, pooled states or rewards) and the backbone's own reward come out.
 *
 * May import: its own folder (backbone/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never text/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */

/**
 * What the backbone's main output is:
 * - `last_hidden_state`: [batch, tokens, hidden] (a plain feature-extraction export); the SDK pools
 *   the last non-padding token,
 * - `pooled`: [batch, hidden], pooling done in the graph,
 * - `rewards`: [batch, 5], the linear head fused in the graph.
 */
export type BackboneKind = 'last_hidden_state' | 'pooled' | 'rewards';

/** Where padding goes in a batch. Both pool correctly; the choice must match how positions are fed. */
export type PaddingSide = 'left' | 'right';

/**
 * Execution provider preference: `auto` tries CUDA and falls back to CPU with one warning;
 * `cuda` fails with `E_PROVIDER` when CUDA cannot be used; `cpu` never tries CUDA.
 */
export type ProviderPreference = 'auto' | 'cuda' | 'cpu';

/** One padded batch, laid out row-major (`batch x length`). */
export interface BackboneBatch {
  batch: number;
  length: number;
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding. */
  attentionMask: Uint8Array;
  /** 0, 1, 2... over the real tokens of each row (padding positions hold 1, as Hugging Face fills them). */
  positionIds: Int32Array;
  /** Real tokens in each row. */
  lengths: Int32Array;
  paddingSide: PaddingSide;
}

/** A float output tensor, converted to float32 whatever the model emitted. */
export interface OutputTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array;
}

/** What one forward pass returns. */
export interface BackboneOutputs {
  /** The configured main output (see {@link BackboneKind}). */
  main: OutputTensor;
  /** The backbone's own scalar reward (e.g. Skywork's `logits` [batch, 1]), when configured. */
  reward: OutputTensor | null;
  /**
   * Rows whose `reward` is absent (1), when the backbone computes it from the pooled state and
   * the checkpoint reads its score at another token (remote.ts); undefined: every row has one.
   */
  rewardAbsent?: Uint8Array;
}

/** A graph input or output as the model declares it (dims: numbers, named dynamic axes, or null). */
export interface ValueInfo {
  name: string;
  type: string | null;
  shape: ReadonlyArray<number | string | null> | null;
}

/**
 * A loaded backbone. `run` may be called again after it resolves; `release` frees the session
 * and is idempotent.
 */
export interface Backbone {
  /** The execution provider actually in use (`cuda`, `cpu`...). */
  readonly provider: string;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /**
   * Batches the caller may run at once (default 1: onnxruntime runs one at a time; an inference
   * engine serves several, on several URLs).
   */
  readonly maxInFlight?: number;
  run(batch: BackboneBatch): Promise<BackboneOutputs>;
  release(): Promise<void>;
}

/** Which graph inputs and outputs to use, by name (from dtr.json). */
export interface BackboneBinding {
  inputIds: string;
  attentionMask: string | null;
  positionIds: string | null;
  output: string;
  rewardOutput: string | null;
}
