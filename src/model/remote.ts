/**
 * A model folder's backbone on an inference engine: dtr.json `backbone.remote` merged with what
 * the caller gave (`RewardModel.load({ remote })`, `--backbone-url`), the checkpoint's score
 * layer (score-layer.json, written by the exporter beside the head) for the backbone's own
 * reward, and the engine check against the vectors the exporter recorded in export.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REMOTE_PROTOCOLS, type RemoteProtocol, type ScoreLayer } from '../backbone/remote.js';
import type { RemoteBackboneOptions } from '../backbone/remote.js';
import { DtrError } from '../errors.js';
import { REMOTE_DEFAULTS, type ModelConfig } from './config.js';

/** The score layer file's name inside a model folder. */
export const SCORE_LAYER_FILE = 'score-layer.json';

/** What a caller may give about the engine (each field overrides dtr.json `backbone.remote`). */
export interface RemoteOptions {
  /** Engine base URLs (`http://host:8000/v1` for vLLM, `http://host:8000` for Triton). */
  urls?: readonly string[];
  protocol?: RemoteProtocol;
  /** The served model's name (default: dtr.json's `backbone.remote.model`, else `backbone.id` / `name`). */
  model?: string;
  /** A bearer token (default: the environment variable dtr.json `backbone.remote.tokenEnv` names). */
  token?: string;
  /** One request's limit in milliseconds (default: dtr.json's, else 120000). */
  timeoutMs?: number;
  /** Retries of a batch after 429/503, connection errors and timeouts (default: dtr.json's, else 4). */
  retries?: number;
  /** Padded tokens in flight per URL (default: dtr.json's, else 65536). */
  maxTokensInFlight?: number;
  /** Batches in flight per URL (default: dtr.json's, else 4). */
  maxBatchesPerUrl?: number;
  /** A failed URL is probed again after this many milliseconds (default 2000). */
  probeAfterMs?: number;
}

/** Whether a load uses an engine: options given, or dtr.json names one. */
export function usesRemote(config: ModelConfig | null, remote: RemoteOptions | undefined): boolean {
  return remote !== undefined || (config?.backbone.remote ?? null) !== null;
}

/**
 * The engine's options from dtr.json and the caller's, checked (a RangeError names the option),
 * without the probe ids and score layer (added by the loader).
 *
 * @example
 * ```ts
 * resolveRemote(config, { urls: ['http://gpu1:8000/v1'] }); // { protocol: 'openai-embeddings', model: config.backbone.id, ... }
 * ```
 */
export function resolveRemote(
  config: ModelConfig,
  remote: RemoteOptions | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Omit<RemoteBackboneOptions, 'probeIds'> {
  const file = config.backbone.remote;
  const given = remote ?? {};
  if (given === null || typeof given !== 'object') throw new TypeError('remote must be an object {urls, protocol, model, ...}');
  const protocol = given.protocol ?? file?.protocol ?? 'openai-embeddings';
  if (!REMOTE_PROTOCOLS.includes(protocol))
    throw new RangeError(`remote.protocol must be one of ${REMOTE_PROTOCOLS.join(', ')}, got ${String(protocol)}`);
  const urls = given.urls ?? file?.urls;
  if (!urls || urls.length === 0)
    throw new RangeError('remote.urls must list at least one engine URL (dtr.json backbone.remote.urls or the urls option)');
  let token: string | null = given.token ?? null;
  if (token === null && file?.tokenEnv) {
    token = env[file.tokenEnv] ?? null;
    if (token === null || token === '')
      throw new DtrError('E_REMOTE', `dtr.json backbone.remote.tokenEnv names ${file.tokenEnv}, which is not set`, {
        hint: `export ${file.tokenEnv}=... (the engine's API key), or remove tokenEnv`,
      });
  }
  return {
    protocol,
    urls: [...urls],
    model: given.model ?? file?.model ?? (protocol === 'kserve-v2' ? config.name : config.backbone.id),
    token,
    encoding: file?.encoding ?? REMOTE_DEFAULTS.encoding,
    timeoutMs: given.timeoutMs ?? file?.timeoutMs ?? REMOTE_DEFAULTS.timeoutMs,
    retries: given.retries ?? file?.retries ?? REMOTE_DEFAULTS.retries,
    maxTokensInFlight: given.maxTokensInFlight ?? file?.maxTokensInFlight ?? REMOTE_DEFAULTS.maxTokensInFlight,
    maxBatchesPerUrl: given.maxBatchesPerUrl ?? file?.maxBatchesPerUrl ?? REMOTE_DEFAULTS.maxBatchesPerUrl,
    ...(given.probeAfterMs !== undefined ? { probeAfterMs: given.probeAfterMs } : {}),
  };
}

/**
 * The checkpoint's score layer for the backbone's own reward over an embeddings engine, or why
 * there is none: the folder has no score-layer.json, or dtr.json does not say where the score is read.
 *
 * @example
 * ```ts
 * const r = scoreLayerOf('models/skywork', config); // { layer: { weight, bias, rule: 'last-non-pad-token', padTokenId } }
 * ```
 */
export function scoreLayerOf(dir: string, config: ModelConfig): { layer: ScoreLayer } | { absent: string } {
  const bb = config.backbone;
  if (bb.rewardOutput === null) return { absent: 'the model has no reward output' };
  const rule = bb.outputPooling[bb.rewardOutput];
  if (rule === undefined) return { absent: `dtr.json backbone.outputPooling does not say which token '${bb.rewardOutput}' is read at` };
  const path = join(dir, SCORE_LAYER_FILE);
  if (!existsSync(path))
    return { absent: `the folder has no ${SCORE_LAYER_FILE} (the checkpoint's score layer; exports from this exporter ship it)` };
  let doc: { hiddenSize?: unknown; weight?: unknown; bias?: unknown };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as typeof doc;
  } catch (e) {
    throw new DtrError('E_INVALID_ARTIFACT', `${path}: not valid JSON: ${(e as Error).message}`);
  }
  const weight = doc.weight;
  if (!Array.isArray(weight) || weight.length === 0 || !weight.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new DtrError('E_INVALID_ARTIFACT', `${path}: weight must be a list of finite numbers (the score layer's [hidden] row)`);
  if (typeof doc.bias !== 'number' || !Number.isFinite(doc.bias))
    throw new DtrError('E_INVALID_ARTIFACT', `${path}: bias must be a finite number`);
  const hidden = bb.hiddenSize;
  if (hidden !== null && weight.length !== hidden)
    throw new DtrError('E_SHAPE', `${path}: weight has ${weight.length} values but dtr.json backbone.hiddenSize is ${hidden}`);
  return { layer: { weight: Float64Array.from(weight as number[]), bias: doc.bias, rule, padTokenId: bb.padTokenId } };
}

/** One comparison of {@link EngineCheckReport}. */
export interface EngineCheckCase {
  name: string;
  ok: boolean;
  /** Largest difference found (0 for the token check when every id agrees). */
  maxDiff: number;
  /** The largest difference accepted. */
  limit: number;
  detail: string;
}

/** What {@link checkEngineVectors} found. */
export interface EngineCheckReport {
  ok: boolean;
  conversations: number;
  /** The weight type whose tolerance was applied (dtr.json `backbone.dtype` unless given). */
  dtype: string;
  cases: EngineCheckCase[];
}

/** export.json's `checkVectors` (notebooks/python/export_check.py: check_vectors). */
export interface CheckVectors {
  output: string;
  referenceDtype: string;
  tolerances: Record<string, { atol: number; rtol: number }>;
  conversations: Array<{ messages: Array<{ role: string; content: string }>; inputIds: number[]; pooled: number[]; logits?: number[] }>;
}

/**
 * export.json's check vectors of a model folder.
 * @throws DtrError `E_MODEL` when export.json is missing or has none (an export from before them).
 *
 * @example
 * ```ts
 * readCheckVectors('models/skywork').conversations.length; // 7
 * ```
 */
export function readCheckVectors(dir: string): CheckVectors {
  const path = join(dir, 'export.json');
  const hint = 're-export the model with notebooks/python/dtr_export.py --check (it records the check conversations in export.json)';
  if (!existsSync(path)) throw new DtrError('E_MODEL', `${dir} has no export.json: the engine cannot be checked`, { hint });
  let doc: { checkVectors?: CheckVectors };
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as typeof doc;
  } catch (e) {
    throw new DtrError('E_INVALID_ARTIFACT', `${path}: not valid JSON: ${(e as Error).message}`);
  }
  const cv = doc.checkVectors;
  if (!cv || !Array.isArray(cv.conversations) || cv.conversations.length === 0 || typeof cv.tolerances !== 'object')
    throw new DtrError('E_MODEL', `${path} has no checkVectors (the check conversations' ids and vectors)`, { hint });
  return cv;
}

/** What {@link checkEngineVectors} needs of a model: its encoder, and a forward of token ids to pooled states and scalars. */
export interface EngineCheckInput {
  dir: string;
  config: Readonly<ModelConfig>;
  encode: (messages: ReadonlyArray<{ role: string; content: string }>) => Int32Array;
  forward: (ids: readonly Int32Array[]) => Promise<{ pooled: Float32Array; width: number; scalar: Float64Array | null }>;
}

/**
 * Holds a backbone (an inference engine) to the vectors the exporter recorded: the folder's
 * template and tokenizer must give the recorded ids, and the engine must give the recorded
 * pooled states (and scalar) within the dtype's tolerance, `atol + rtol x max|reference|`.
 * Normalised vectors, mean pooling, another checkpoint or a coarser precision fail it.
 *
 * @example
 * ```ts
 * const report = await model.checkEngine();
 * report.ok; // false for an engine started with normalize true
 * ```
 */
export async function checkEngineVectors(input: EngineCheckInput, options: { dtype?: string } = {}): Promise<EngineCheckReport> {
  const cv = readCheckVectors(input.dir);
  const dtype = options.dtype ?? input.config.backbone.dtype ?? 'fp32';
  const tol = cv.tolerances[dtype];
  if (!tol) throw new RangeError(`dtype must be one of ${Object.keys(cv.tolerances).join(', ')}, got ${dtype}`);
  const cases: EngineCheckCase[] = [];
  // 1. The text side: the folder's template and tokenizer give the ids the export was checked on.
  let mismatched = 0;
  let first = '';
  cv.conversations.forEach((c, i) => {
    let ids: Int32Array;
    try {
      ids = input.encode(c.messages);
    } catch (e) {
      mismatched++;
      first ||= `conversation ${i}: ${(e as Error).message}`;
      return;
    }
    const same = ids.length === c.inputIds.length && ids.every((x, k) => x === c.inputIds[k]);
    if (!same) {
      mismatched++;
      const k = ids.findIndex((x, j) => x !== c.inputIds[j]);
      first ||= `conversation ${i}: ${ids.length} tokens against the export's ${c.inputIds.length}, first difference at token ${k < 0 ? Math.min(ids.length, c.inputIds.length) : k}`;
    }
  });
  cases.push({
    name: 'template and tokenizer give the exported token ids',
    ok: mismatched === 0,
    maxDiff: mismatched,
    limit: 0,
    detail: mismatched === 0 ? `${cv.conversations.length} conversations` : `${mismatched} differ (${first})`,
  });
  // 2. The engine: the recorded ids give the recorded vectors.
  const rows = cv.conversations.map((c) => Int32Array.from(c.inputIds));
  const out = await input.forward(rows);
  const width = out.width;
  const refWidth = cv.conversations[0]!.pooled.length;
  if (width !== refWidth) {
    cases.push({
      name: 'pooled state',
      ok: false,
      maxDiff: Infinity,
      limit: 0,
      detail: `${width} values against the export's ${refWidth}`,
    });
  } else {
    let worst = 0;
    let largest = 0;
    let norms = 0;
    cv.conversations.forEach((c, i) => {
      let n = 0;
      c.pooled.forEach((v, j) => {
        largest = Math.max(largest, Math.abs(v));
        const d = Math.abs(out.pooled[i * width + j]! - v);
        worst = Math.max(worst, Number.isNaN(d) ? Infinity : d);
        n += out.pooled[i * width + j]! ** 2;
      });
      norms = Math.max(norms, Math.abs(Math.sqrt(n) - 1));
    });
    const limit = tol.atol + tol.rtol * largest;
    cases.push({
      name: `pooled state within the ${dtype} tolerance`,
      ok: worst <= limit,
      maxDiff: worst,
      limit,
      detail:
        worst <= limit
          ? `${cv.conversations.length} conversations`
          : norms < 1e-3
            ? 'the engine returns vectors of norm 1: it normalises (vLLM: --pooler-config \'{"pooling_type": "LAST", "normalize": false}\')'
            : 'the engine does not compute the exported backbone at the last token (another checkpoint, mean pooling, or a coarser precision)',
    });
  }
  if (out.scalar) {
    let worst = 0;
    let largest = 0;
    let compared = 0;
    cv.conversations.forEach((c, i) => {
      const ref = c.logits?.[0];
      const got = out.scalar![i]!;
      if (ref === undefined || Number.isNaN(got)) return;
      compared++;
      largest = Math.max(largest, Math.abs(ref));
      worst = Math.max(worst, Math.abs(got - ref));
    });
    if (compared > 0) {
      const limit = tol.atol + tol.rtol * largest;
      cases.push({ name: "the checkpoint's own reward", ok: worst <= limit, maxDiff: worst, limit, detail: `${compared} conversations` });
    }
  }
  return { ok: cases.every((c) => c.ok), conversations: cv.conversations.length, dtype, cases };
}
