/**
 * Text to an embeddings file: the library behind `dtr embed`. Every row's conversation goes
 * through the model's chat template, tokenizer and backbone; the pooled last-token state (what
 * the head reads) and the row's five ratings are appended to an {@link EmbeddingsWriter}, which
 * checkpoints shards atomically, so an interrupted run resumes where it stopped and the output
 * file appears only when complete.
 *
 * May import: its own folder (workflows/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/. Never anything above (serve/ ... cli/) (test/import-graph.test.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ATTRIBUTE_COUNT, type Attribute } from '../attributes.js';
import { ratedPerAttribute } from '../data/ratings.js';
import { DtrError } from '../errors.js';
import { readUtf8File } from '../io/utf8.js';
import { EmbeddingsWriter, type EmbeddingsFile } from '../io/embeddings.js';
import type { WritableDtype } from '../io/safetensors.js';
import type { RatedResponses } from '../data/responses.js';
import { MODEL_CONFIG_FILE, validateModelConfig, type ModelConfig } from '../model/config.js';
import { canonicalJson, modelIdentity } from '../model/identity.js';
import type { RewardModel } from '../model/reward-model.js';
import type { BatchOptions } from '../model/types.js';

/** Options of {@link embedToFile}. */
export interface EmbedToFileOptions {
  /** Storage type of `embeddings` (default F32; BF16 as RLHFlow stores them, F16, F64). */
  dtype?: WritableDtype;
  /** Rows per checkpoint shard (default 256). */
  shardRows?: number;
  batchSize?: number;
  maxTokensPerBatch?: number;
  paddingSide?: BatchOptions['paddingSide'];
  /** Replace a finished file at the output path (default false: `E_IO`). */
  overwrite?: boolean;
  /** Stops between batches; the rows done so far are checkpointed first, so a rerun resumes. */
  signal?: AbortSignal;
  /** Called as rows are done: rows done (resumed ones included) and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Called once when rows of an interrupted run are found: how many. */
  onResume?: (rows: number) => void;
  /** More fingerprint entries: a resumed run must match them (e.g. `{ data: sha256 of the file }`). */
  fingerprint?: Readonly<Record<string, string>>;
  /** More `__metadata__` strings (e.g. `provenance`). */
  metadata?: Readonly<Record<string, string>>;
}

/** What {@link embedToFile} wrote. */
export interface EmbedToFileResult {
  path: string;
  rows: number;
  hiddenSize: number;
  dtype: WritableDtype;
  /** Rows found done by an interrupted run (not recomputed). */
  resumedRows: number;
  /** Rows run through the backbone by this call. */
  computedRows: number;
  /** Rows with at least one rating. */
  ratedRows: number;
  /** Rows with a rating, per attribute. */
  ratedPerAttribute: Record<Attribute, number>;
  /** Indices (0-based) of rows whose conversation was truncated to the model's `maxLength`. */
  truncatedRows: number[];
  /** The model identity the file was made with (the `model_identity` metadata). */
  modelIdentity: string;
  /** The file's `__metadata__`. */
  metadata: Record<string, string>;
}

/**
 * Embeds rated responses into an embeddings file (`embeddings` [N, H], `labels` [N, 5], as
 * RLHFlow's get_embeddings.py writes them), resumably. `__metadata__` records the model (name,
 * backbone id, identity hash), `max_length`, the truncated rows, and whatever `metadata` adds.
 *
 * @throws DtrError `E_RESUME` when `OUT.parts/` holds a run with another model, data or dtype;
 *   `E_IO` when OUT exists (without `overwrite`); the signal's reason when aborted (after a checkpoint).
 * @example
 * ```ts
 * const model = await RewardModel.load({ dir: 'models/fixture', head: null });
 * const data = readRatedResponses('helpsteer2.jsonl');
 * const r = await embedToFile(model, data, 'emb.safetensors', { dtype: 'BF16' });
 * r.rows; r.truncatedRows.length; // 6, 0
 * ```
 */
export async function embedToFile(
  model: RewardModel,
  data: RatedResponses,
  out: string,
  options: EmbedToFileOptions = {},
): Promise<EmbedToFileResult> {
  if (typeof out !== 'string' || out === '') throw new TypeError('out must be the path of the embeddings file to write');
  if (data === null || typeof data !== 'object' || !Array.isArray(data.items) || !(data.ratings instanceof Float64Array))
    throw new TypeError('data must be RatedResponses (readRatedResponses)');
  if (data.ratings.length !== data.n * ATTRIBUTE_COUNT || data.items.length !== data.n)
    throw new RangeError(
      `data holds ${data.items.length} items and ${data.ratings.length / ATTRIBUTE_COUNT} rating rows for n = ${data.n}`,
    );
  const h = model.hiddenSize;
  if (h === null || model.config.backbone.kind === 'rewards') {
    throw new DtrError(
      'E_MODEL',
      `${model.dir}: backbone.kind is 'rewards' (head fused in the graph), so there are no hidden states to embed`,
      {
        hint: "export the backbone with a 'pooled' or 'last_hidden_state' output (dtr_export.py --kind pooled)",
      },
    );
  }
  const dtype = options.dtype ?? 'F32';
  const identity = modelIdentity(model);
  // The rows themselves, so a resumed run can never mix rows of other data, even through the API.
  const rowsHash = createHash('sha256')
    .update(canonicalJson(data.items))
    .update(new Uint8Array(data.ratings.buffer, data.ratings.byteOffset, data.ratings.byteLength))
    .digest('hex');
  // What made these rows, recorded in the file's metadata and in the result.
  const modelMetadata: Record<string, string> = {
    ...(options.metadata ?? {}),
    backbone: model.config.backbone.id,
    model: model.config.name,
    model_identity: identity.backbone,
    max_length: String(model.maxLength),
  };
  const writer = EmbeddingsWriter.open(out, {
    rows: data.n,
    hiddenSize: h,
    dtype,
    ...(options.shardRows !== undefined ? { shardRows: options.shardRows } : {}),
    ...(options.overwrite ? { overwrite: true } : {}),
    fingerprint: { ...(options.fingerprint ?? {}), model: identity.backbone, rows: rowsHash },
    metadata: modelMetadata,
  });
  const start = writer.rowsDone;
  if (start > 0) options.onResume?.(start);
  const truncated: number[] = [];
  // Rows of the interrupted run: their truncation is re-derived by tokenizing (no backbone).
  for (let i = 0; i < start; i++) if (model.encode(data.items[i]!.prompt, data.items[i]!.response).truncated) truncated.push(i);
  options.onProgress?.(start, data.n);
  const batch: BatchOptions = {
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.maxTokensPerBatch !== undefined ? { maxTokensPerBatch: options.maxTokensPerBatch } : {}),
    ...(options.paddingSide !== undefined ? { paddingSide: options.paddingSide } : {}),
  };
  let computed = 0;
  if (start < data.n) {
    try {
      for await (const chunk of model.embedStream(data.items.slice(start), {
        ...batch,
        total: data.n - start,
        checked: true,
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (done) => options.onProgress?.(start + done, data.n),
      })) {
        const first = start + chunk.start;
        writer.append(chunk.embeddings, data.ratings.subarray(first * ATTRIBUTE_COUNT, (first + chunk.n) * ATTRIBUTE_COUNT));
        chunk.truncation.forEach((t, k) => {
          if (t !== null) truncated.push(first + k);
        });
        computed += chunk.n;
      }
    } catch (e) {
      // Keep every row appended so far: the rerun resumes after them.
      writer.checkpoint();
      throw e;
    }
  }
  const metadata = { truncated: String(truncated.length), truncated_rows: JSON.stringify(truncated), rated_rows: String(ratedRows(data)) };
  writer.finish(metadata);
  return {
    path: out,
    rows: data.n,
    hiddenSize: h,
    dtype,
    resumedRows: start,
    computedRows: computed,
    ratedRows: ratedRows(data),
    ratedPerAttribute: ratedPerAttribute(data.ratings),
    truncatedRows: truncated,
    modelIdentity: identity.backbone,
    metadata: { ...modelMetadata, ...metadata },
  };
}

function ratedRows(data: RatedResponses): number {
  let n = 0;
  for (let i = 0; i < data.n; i++) {
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
      if (!Number.isNaN(data.ratings[i * ATTRIBUTE_COUNT + k]!)) {
        n++;
        break;
      }
    }
  }
  return n;
}

/**
 * Checks that embeddings can train a head for a model folder, from its dtr.json alone (nothing
 * is loaded): the folder's backbone must output hidden states of the embeddings' width, and when
 * the file names its backbone (`__metadata__.backbone`, as `dtr embed` writes), the same backbone.
 * Returns the folder's config.
 *
 * @throws DtrError `E_SHAPE` stating both hidden sizes; `E_MODEL` for a backbone with a fused
 *   head (kind `rewards`), another backbone id, or an unreadable dtr.json; `E_NOT_FOUND`.
 * @example
 * ```ts
 * checkEmbeddingsForModel(readEmbeddingsFile('emb.safetensors'), 'models/fixture');
 * // throws E_SHAPE: "emb.safetensors holds hidden states of size 64 but models/fixture's backbone (...) gives 32 ..."
 * ```
 */
export function checkEmbeddingsForModel(
  file: Pick<EmbeddingsFile, 'path' | 'hiddenSize' | 'metadata'>,
  dir: string,
  names: { file?: string; dir?: string } = {},
): ModelConfig {
  if (file === null || typeof file !== 'object' || !Number.isInteger(file.hiddenSize))
    throw new TypeError('file must be an embeddings file (readEmbeddingsFile)');
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be the path of a model folder');
  const fileName = names.file ?? file.path;
  const dirName = names.dir ?? dir;
  const configPath = join(dir, MODEL_CONFIG_FILE);
  if (!existsSync(configPath)) throw new DtrError('E_NOT_FOUND', `${dirName} is not a model folder: it has no ${MODEL_CONFIG_FILE}`);
  const text = readUtf8File(configPath, `${dirName}/${MODEL_CONFIG_FILE}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new DtrError('E_MODEL', `${dirName}/${MODEL_CONFIG_FILE} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const check = validateModelConfig(json);
  if (!check.success) {
    throw new DtrError(
      'E_MODEL',
      `${dirName}/${MODEL_CONFIG_FILE} is not valid: ${check.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues: check.issues },
    );
  }
  const bb = check.config.backbone;
  if (bb.kind === 'rewards' || bb.hiddenSize === null) {
    throw new DtrError(
      'E_MODEL',
      `${dirName}: backbone.kind is 'rewards' (head fused in the graph), so a fitted head cannot be used with it`,
      {
        hint: 'export the backbone with --kind pooled (the head then lives in heads/NAME.json and can be replaced)',
      },
    );
  }
  if (bb.hiddenSize !== file.hiddenSize) {
    throw new DtrError(
      'E_SHAPE',
      `${fileName} holds hidden states of size ${file.hiddenSize} but ${dirName}'s backbone (${bb.id}) gives ${bb.hiddenSize} (dtr.json backbone.hiddenSize): a head fitted on them could not be used with this model`,
      {
        hint: `make the embeddings with this model: dtr embed --model ${dirName} --data FILE.jsonl --out FILE.safetensors`,
      },
    );
  }
  const made = file.metadata.backbone;
  if (made !== undefined && made !== bb.id) {
    throw new DtrError(
      'E_MODEL',
      `${fileName} was made with backbone '${made}' but ${dirName}'s backbone is '${bb.id}': a head fitted on them would read another model's hidden states`,
      {
        hint: `make the embeddings with this model (dtr embed --model ${dirName}), or drop --model`,
      },
    );
  }
  return check.config;
}
