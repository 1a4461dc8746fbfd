/**
 * `dtr.json`: the small config that makes a Hugging Face style folder a reward model for this
 * SDK. It says which ONNX output to read and what it holds, the hidden size, pooling, maximum
 * length, padding side, provider preference, and which head and tree to use. Everything else
 * (tokenizer, chat template) comes from the folder's own Hugging Face files.
 *
 * May import: its own folder (model/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * eval/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { z } from 'zod';
import { ATTRIBUTES, type Attribute } from '../attributes.js';
import type { Issue } from '../errors.js';
import type { Provenance } from '../provenance.js';
import type { BackboneKind, PaddingSide, ProviderPreference } from '../backbone/types.js';

/**
 * Format id, version and file name of dtr.json.
 *
 * @example
 * ```ts
 * const doc = { format: MODEL_CONFIG_FORMAT, version: MODEL_CONFIG_VERSION, name: 'm', ... };
 * writeFileAtomic(join(dir, MODEL_CONFIG_FILE), serializeModelConfig(doc));
 * ```
 */
export const MODEL_CONFIG_FORMAT = 'decision-tree-reward/model';
/** The dtr.json version this package reads and writes (see {@link MODEL_CONFIG_FORMAT}). */
export const MODEL_CONFIG_VERSION = 1;
/** The config file's name inside a model folder (see {@link MODEL_CONFIG_FORMAT}). */
export const MODEL_CONFIG_FILE = 'dtr.json';

/** The backbone section of dtr.json. */
export interface BackboneConfig {
  /** What the backbone is, e.g. `Skywork/Skywork-Reward-Llama-3.1-8B-v0.2` (heads record the same id). */
  id: string;
  /** ONNX file inside the folder (default `model.onnx`; external data `model.onnx_data` sits beside it). */
  file: string;
  kind: BackboneKind;
  /** Name of the graph output to read (e.g. `last_hidden_state`). */
  output: string;
  /** Width of the pooled state; required unless kind is `rewards`. */
  hiddenSize: number | null;
  /** Name of the backbone's own scalar reward output (Skywork's `logits`), or null. */
  rewardOutput: string | null;
  /** For kind `rewards`: the attribute of each output column (default: the SDK's order). */
  attributes: Attribute[] | null;
  /** Graph input names; null for an input the graph does not take. */
  inputs: { inputIds: string; attentionMask: string | null; positionIds: string | null };
  /**
   * Which token each graph output was pooled at, by output name (written by dtr_export.py):
   * `last-token` (the last token of the unpadded conversation: what the attribute heads were
   * fitted on, and where transformers reads the score of a checkpoint without a pad token),
   * `last-non-pad-token` (the rightmost token that is not {@link padTokenId}: transformers >= 4.49)
   * or `first-pad-minus-one` (the token before the first {@link padTokenId}, else the last:
   * transformers < 4.49); the exporter writes the rule of the transformers it ran, so the
   * checkpoint's own score matches its forward.
   * Informational: the graph does the pooling; empty when unknown.
   */
  outputPooling: Record<string, OutputPooling>;
  /** The checkpoint's pad token id, which a `last-non-pad-token` output skips; null when none or unknown. */
  padTokenId: number | null;
  /** Weight type of the exported graph (`fp32`, `fp16`, `mixed`, `bf16`), when recorded. */
  dtype: string | null;
  /** The backbone on an inference engine instead of model.onnx (docs/scaling.md), or null. */
  remote: RemoteBackboneConfig | null;
}

/**
 * dtr.json `backbone.remote`: the backbone served by an inference engine (vLLM's embeddings API
 * or a KServe v2 server such as Triton); the folder then needs no model.onnx.
 */
export interface RemoteBackboneConfig {
  protocol: 'openai-embeddings' | 'kserve-v2';
  /** Engine base URLs (`http://host:8000/v1` for vLLM, `http://host:8000` for Triton). */
  urls: string[];
  /** The served model's name; null: dtr.json `backbone.id` (openai-embeddings) or `name` (kserve-v2). */
  model: string | null;
  /** Name of the environment variable holding a bearer token (the token itself never goes in the file). */
  tokenEnv: string | null;
  /** openai-embeddings: `base64` (exact float32) or `float`. */
  encoding: 'base64' | 'float';
  /** One request's limit in milliseconds; past it the request is retried. */
  timeoutMs: number;
  /** Retries of a batch after 429/503, connection errors and timeouts. */
  retries: number;
  /** Padded tokens in flight per URL. */
  maxTokensInFlight: number;
  /** Batches in flight per URL. */
  maxBatchesPerUrl: number;
}

/** Defaults of {@link RemoteBackboneConfig}'s tuning fields. */
export const REMOTE_DEFAULTS = Object.freeze({
  encoding: 'base64' as const,
  timeoutMs: 120_000,
  retries: 4,
  maxTokensInFlight: 65_536,
  maxBatchesPerUrl: 4,
});

/** How a graph output was pooled (see {@link BackboneConfig.outputPooling}). */
export type OutputPooling = 'last-token' | 'last-non-pad-token' | 'first-pad-minus-one';

/** A parsed dtr.json, with defaults filled in. */
export interface ModelConfig {
  format: typeof MODEL_CONFIG_FORMAT;
  version: typeof MODEL_CONFIG_VERSION;
  name: string;
  description: string;
  backbone: BackboneConfig;
  pooling: 'last-token';
  /** Longest conversation in tokens; longer ones are truncated, and results say so. */
  maxLength: number;
  paddingSide: PaddingSide;
  provider: ProviderPreference;
  /** Head file (path relative to the folder) or a head name (heads/NAME.json in the folder, then shipped heads). Null: head.json or the only file in heads/. */
  head: string | null;
  /** Tree file (path relative to the folder) or a tree name (trees/NAME.json in the folder, then shipped trees). */
  tree: string;
  /** A chat template that replaces the folder's own (chat_template.jinja / tokenizer_config.json), or null. */
  chatTemplate: string | null;
  /**
   * sha256 (hex, of the UTF-8 text) of the checkpoint's chat template, recorded by the exporter.
   * Loading fails when the folder's template is not this one (edited, or lost in a copy), unless
   * a template is given explicitly (dtr.json `chatTemplate` or the `chatTemplate` option).
   */
  chatTemplateSha256: string | null;
  /** Extra variables for the chat template (e.g. `date_string`). */
  templateVariables: Record<string, unknown>;
  batchSize: number;
  maxTokensPerBatch: number;
  /**
   * Padded tokens per batch when the session runs on CPU (`maxTokensPerBatch` is capped to it). On
   * CPU a batch's [rows, heads, tokens, tokens] attention outgrows the caches: measured on a
   * Llama-3.1-shaped model (hidden 512, 8 layers, 2 cores), 300-1,000-token conversations ran
   * 1.6x faster one at a time than 8 at a time, while 20-80-token ones gained 8% from batches of 8
   * (bench/scoring.bench.ts).
   */
  cpuMaxTokensPerBatch: number;
  provenance: Provenance | null;
}

const provenanceSchema = z.object({
  source: z.string(),
  data: z.array(
    z.object({
      path: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      rows: z.number().int().min(0).optional(),
      role: z.string().optional(),
    }),
  ),
  command: z.string().nullable(),
  package: z.string(),
  notes: z.string().optional(),
});

const schema = z.strictObject({
  format: z.literal(MODEL_CONFIG_FORMAT),
  version: z.literal(MODEL_CONFIG_VERSION),
  name: z.string().min(1),
  description: z.string().default(''),
  backbone: z.strictObject({
    id: z.string().min(1),
    file: z.string().min(1).default('model.onnx'),
    kind: z.enum(['last_hidden_state', 'pooled', 'rewards']),
    output: z.string().min(1),
    hiddenSize: z.number().int().min(1).nullable().default(null),
    rewardOutput: z.string().min(1).nullable().default(null),
    attributes: z.array(z.string()).nullable().default(null),
    inputs: z
      .strictObject({
        inputIds: z.string().min(1).default('input_ids'),
        attentionMask: z.string().min(1).nullable().default('attention_mask'),
        positionIds: z.string().min(1).nullable().default(null),
      })
      .default({ inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: null }),
    outputPooling: z.record(z.string().min(1), z.enum(['last-token', 'last-non-pad-token', 'first-pad-minus-one'])).default({}),
    padTokenId: z.number().int().min(0).nullable().default(null),
    dtype: z.string().min(1).nullable().default(null),
    remote: z
      .strictObject({
        protocol: z.enum(['openai-embeddings', 'kserve-v2']),
        urls: z.array(z.string().url()).min(1),
        model: z.string().min(1).nullable().default(null),
        tokenEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable')
          .nullable()
          .default(null),
        encoding: z.enum(['base64', 'float']).default(REMOTE_DEFAULTS.encoding),
        timeoutMs: z.number().int().min(1).default(REMOTE_DEFAULTS.timeoutMs),
        retries: z.number().int().min(0).default(REMOTE_DEFAULTS.retries),
        maxTokensInFlight: z.number().int().min(1).default(REMOTE_DEFAULTS.maxTokensInFlight),
        maxBatchesPerUrl: z.number().int().min(1).default(REMOTE_DEFAULTS.maxBatchesPerUrl),
      })
      .nullable()
      .default(null),
  }),
  pooling: z.literal('last-token').default('last-token'),
  maxLength: z.number().int().min(2).default(4096),
  paddingSide: z.enum(['right', 'left']).default('right'),
  provider: z.enum(['auto', 'cuda', 'cpu']).default('auto'),
  head: z.string().min(1).nullable().default(null),
  tree: z.string().min(1),
  chatTemplate: z.string().min(1).nullable().default(null),
  chatTemplateSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a sha256 in lowercase hex (64 characters)')
    .nullable()
    .default(null),
  templateVariables: z.record(z.string(), z.unknown()).default({}),
  batchSize: z.number().int().min(1).default(8),
  maxTokensPerBatch: z.number().int().min(1).default(16384),
  cpuMaxTokensPerBatch: z.number().int().min(1).default(1024),
  provenance: provenanceSchema.nullable().default(null),
});

/**
 * Validates a parsed dtr.json: schema, then meaning (a hidden size where one is needed, the
 * attribute order of a fused head). Never throws; every problem comes back with its JSON path.
 *
 * @example
 * ```ts
 * const check = validateModelConfig(JSON.parse(readFileSync('model/dtr.json', 'utf8')));
 * if (!check.success) console.log(check.issues); // [{ path: 'backbone.kind', message: ... }]
 * ```
 */
export function validateModelConfig(json: unknown): { success: true; config: ModelConfig } | { success: false; issues: Issue[] } {
  const parsed = schema.safeParse(json);
  const issues: Issue[] = [];
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const path =
        i.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '') || '(root)';
      issues.push({
        path,
        message: i.code === 'unrecognized_keys' ? `${i.message} (dtr.json fields: ${Object.keys(schema.shape).join(', ')})` : i.message,
      });
    }
  }
  const doc = (json ?? {}) as Record<string, unknown>;
  const bb = (doc.backbone ?? {}) as Record<string, unknown>;
  if ((bb.kind === 'last_hidden_state' || bb.kind === 'pooled') && (bb.hiddenSize === undefined || bb.hiddenSize === null)) {
    issues.push({
      path: 'backbone.hiddenSize',
      message: `required when backbone.kind is '${bb.kind}' (the width of the pooled state, e.g. 4096 for Llama-3.1-8B)`,
    });
  }
  if (bb.kind === 'rewards' && doc.head !== undefined && doc.head !== null) {
    issues.push({
      path: 'head',
      message: "backbone.kind 'rewards' already outputs the five rewards (head fused in the graph): remove 'head'",
    });
  }
  if (Array.isArray(bb.attributes)) {
    const names = bb.attributes as unknown[];
    if (bb.kind !== 'rewards') issues.push({ path: 'backbone.attributes', message: "only used when backbone.kind is 'rewards'" });
    names.forEach((n, i) => {
      if (!(ATTRIBUTES as readonly unknown[]).includes(n))
        issues.push({
          path: `backbone.attributes[${i}]`,
          message: `unknown attribute ${JSON.stringify(n)}: expected ${ATTRIBUTES.join(', ')}`,
        });
    });
    for (const a of ATTRIBUTES) if (!names.includes(a)) issues.push({ path: 'backbone.attributes', message: `missing attribute '${a}'` });
    if (new Set(names).size !== names.length) issues.push({ path: 'backbone.attributes', message: 'an attribute is listed twice' });
  }
  if (issues.length > 0) return { success: false, issues };
  return { success: true, config: parsed.data as unknown as ModelConfig };
}

/**
 * Serialises a dtr.json deterministically (two-space indent, trailing newline).
 *
 * @example
 * ```ts
 * writeFileAtomic('model/dtr.json', serializeModelConfig(config));
 * ```
 */
export function serializeModelConfig(config: ModelConfig | Record<string, unknown>): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
