/**
 * A backbone on an inference engine, behind the same {@link Backbone} interface as onnxruntime
 * (ort.ts): the SDK keeps the template, the tokenizer, truncation, the head, the tree and the
 * explanation; the engine receives token ids and returns the pooled last-token state.
 *
 * Two protocols, as the engines document them:
 * - `openai-embeddings` (vLLM's OpenAI-compatible server, a pooling model served with
 *   `--runner pooling --convert embed` and `"pooling_type": "LAST", "normalize": false`):
 *   `POST {base}/embeddings {"model", "input": [[ids...], ...], "encoding_format"}` answers
 *   `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}`;
 *   an embedding is a float list, or with `"base64"` the little-endian float32 bytes in base64
 *   (vllm/entrypoints/openai/protocol.py: EmbeddingCompletionRequest, EmbeddingResponseData).
 * - `kserve-v2` (Triton Inference Server, KServe): `POST {base}/v2/models/NAME/infer` with INT64
 *   tensors `{"name", "shape", "datatype", "data"}` (row-major, flat) and outputs asked for by name;
 *   the JSON form of the protocol (Triton's binary-data extension is not used).
 *   `GET {base}/v2/models/NAME` gives the model's inputs and outputs, checked like an ONNX graph's.
 *
 * Several batches are in flight at once ({@link Backbone.maxInFlight}); each goes to the URL with
 * the least outstanding work that has room under its bound on in-flight tokens. 429, 503, a
 * refused or reset connection and a timeout are retried (a bounded number of times, on another
 * URL when there is one); a URL that failed is taken out and probed again later. A batch is sent
 * again only when no answer to it was used, so no conversation is lost or scored twice.
 */
import { DtrError } from '../errors.js';
import type { Backbone, BackboneBatch, BackboneBinding, BackboneOutputs, OutputTensor, ValueInfo } from './types.js';

/** The wire protocol of an inference engine. */
export type RemoteProtocol = 'openai-embeddings' | 'kserve-v2';

/** The protocols {@link createRemoteBackbone} speaks. */
export const REMOTE_PROTOCOLS: readonly RemoteProtocol[] = Object.freeze(['openai-embeddings', 'kserve-v2']);

/** How a graph output or the checkpoint's score was pooled (dtr.json `outputPooling`). */
export type ScalarRule = 'last-token' | 'last-non-pad-token' | 'first-pad-minus-one';

/** The checkpoint's own score layer (Skywork kind), applied here to the engine's pooled state. */
export interface ScoreLayer {
  /** [hidden] weights of the one-label score layer. */
  weight: Float64Array;
  bias: number;
  /** The token the checkpoint's score is read at (dtr.json `outputPooling` of the reward output). */
  rule: ScalarRule;
  /** The pad token id that rule skips (dtr.json `padTokenId`). */
  padTokenId: number | null;
}

/** Options of {@link createRemoteBackbone}. */
export interface RemoteBackboneOptions {
  protocol: RemoteProtocol;
  /** Engine base URLs: the OpenAI-style base (`http://host:8000/v1`) or the KServe root (`http://host:8000`). */
  urls: readonly string[];
  /** The served model's name (vLLM `--served-model-name`; the Triton model repository's folder). */
  model: string;
  /** Sent as `Authorization: Bearer TOKEN` when given. */
  token?: string | null;
  /** openai-embeddings: `base64` (default: 4 bytes a float, exact) or `float` (JSON numbers). */
  encoding?: 'base64' | 'float';
  /** One request's limit in milliseconds (default 120000): past it, the request counts as failed and is retried. */
  timeoutMs?: number;
  /** Retries of one batch after 429/503/connection errors/timeouts (default 4). */
  retries?: number;
  /** Padded tokens in flight per URL (default 65536); a larger batch still runs alone on an idle URL. */
  maxTokensInFlight?: number;
  /** Batches in flight per URL (default 4). */
  maxBatchesPerUrl?: number;
  /** A failed URL is probed again after this many milliseconds (default 2000, doubling to 30 s). */
  probeAfterMs?: number;
  /** Token ids of a tiny conversation sent once at start to learn each URL's vector size. */
  probeIds: readonly number[];
  /** openai-embeddings: the checkpoint's score layer, for the backbone's own reward (null: none). */
  scoreLayer?: ScoreLayer | null;
  /** Called with warnings (a URL taken out, a scalar absent for a conversation). */
  onWarning?: (message: string) => void;
}

interface Endpoint {
  url: string;
  tokens: number;
  batches: number;
  /** While down: when it may be probed again. */
  downUntil: number;
  failures: number;
  lastError: string | null;
}

/** A retryable failure (429/503, connection refused or reset, timeout). */
class Transient extends Error {}

const DEFAULTS = { timeoutMs: 120_000, retries: 4, maxTokensInFlight: 65_536, maxBatchesPerUrl: 4, probeAfterMs: 2_000 };

/**
 * Connects to the engines: checks each URL with a probe request (and, for KServe, the model's
 * metadata), learns the vector size, and returns the backbone. URLs that fail at start are taken
 * out with a warning (probed again later); when none answers it throws.
 * @throws DtrError `E_REMOTE` when no URL answers or they disagree on the vector size.
 *
 * @example
 * ```ts
 * const backbone = await createRemoteBackbone(binding, { protocol: 'openai-embeddings', urls: ['http://gpu1:8000/v1'], model: 'skywork', probeIds: [128000, 9906] });
 * backbone.outputs; // [{ name: 'pooled', type: 'float32', shape: [null, 4096] }]
 * ```
 */
export async function createRemoteBackbone(binding: BackboneBinding, options: RemoteBackboneOptions): Promise<Backbone> {
  checkOptions(options);
  const backbone = new RemoteBackbone(binding, options);
  await backbone.start();
  return backbone;
}

function checkOptions(o: RemoteBackboneOptions): void {
  if (!REMOTE_PROTOCOLS.includes(o.protocol))
    throw new RangeError(`protocol must be one of ${REMOTE_PROTOCOLS.join(', ')}, got ${String(o.protocol)}`);
  if (!Array.isArray(o.urls) || o.urls.length === 0) throw new RangeError('urls must list at least one engine URL');
  for (const u of o.urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new RangeError(`urls: ${JSON.stringify(u)} is not a URL (e.g. http://host:8000/v1)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RangeError(`urls: ${u} must be http:// or https://`);
  }
  if (typeof o.model !== 'string' || o.model === '') throw new RangeError('model must name the served model');
  const ints: Array<[string, number | undefined, number]> = [
    ['timeoutMs', o.timeoutMs, 1],
    ['retries', o.retries, 0],
    ['maxTokensInFlight', o.maxTokensInFlight, 1],
    ['maxBatchesPerUrl', o.maxBatchesPerUrl, 1],
    ['probeAfterMs', o.probeAfterMs, 1],
  ];
  for (const [name, v, min] of ints)
    if (v !== undefined && (!Number.isInteger(v) || v < min))
      throw new RangeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
  if (o.encoding !== undefined && o.encoding !== 'base64' && o.encoding !== 'float')
    throw new RangeError(`encoding must be 'base64' or 'float', got ${String(o.encoding)}`);
  if (!o.probeIds || o.probeIds.length === 0) throw new RangeError('probeIds must hold at least one token id');
}

/** `http://h/v1/` → `http://h/v1` */
function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

class RemoteBackbone implements Backbone {
  readonly provider: string;
  inputs: readonly ValueInfo[] = [];
  outputs: readonly ValueInfo[] = [];
  readonly maxInFlight: number;
  private readonly o: Required<Omit<RemoteBackboneOptions, 'token' | 'scoreLayer' | 'onWarning'>> & RemoteBackboneOptions;
  private readonly binding: BackboneBinding;
  private readonly endpoints: Endpoint[];
  private readonly waiters: Array<() => void> = [];
  private width: number | null = null;
  private released = false;
  private warnedScalar = false;

  constructor(binding: BackboneBinding, options: RemoteBackboneOptions) {
    this.binding = binding;
    this.o = { ...DEFAULTS, encoding: 'base64', ...options } as RemoteBackbone['o'];
    this.endpoints = options.urls.map((u) => ({ url: trimSlash(u), tokens: 0, batches: 0, downUntil: 0, failures: 0, lastError: null }));
    this.provider = `remote:${options.protocol}`;
    this.maxInFlight = this.endpoints.length * this.o.maxBatchesPerUrl;
  }

  /** The URLs, with how many tokens and batches each has in flight and whether it is taken out. */
  get status(): Array<{ url: string; tokens: number; batches: number; down: boolean; lastError: string | null }> {
    const now = Date.now();
    return this.endpoints.map((e) => ({
      url: e.url,
      tokens: e.tokens,
      batches: e.batches,
      down: e.downUntil > now,
      lastError: e.lastError,
    }));
  }

  async start(): Promise<void> {
    const ids = Int32Array.from(this.o.probeIds);
    const probe: BackboneBatch = {
      batch: 1,
      length: ids.length,
      inputIds: ids,
      attentionMask: new Uint8Array(ids.length).fill(1),
      positionIds: Int32Array.from(ids, (_, i) => i),
      lengths: Int32Array.of(ids.length),
      paddingSide: 'right',
    };
    const widths: Array<{ url: string; width: number }> = [];
    const failures: string[] = [];
    let metadata: { inputs: ValueInfo[]; outputs: ValueInfo[] } | null = null;
    for (const e of this.endpoints) {
      try {
        if (this.o.protocol === 'kserve-v2') metadata ??= await this.kserveMetadata(e);
        // A busy engine (429/503) is asked again a few times before it counts as down.
        let out: BackboneOutputs | null = null;
        for (let attempt = 0; out === null; attempt++) {
          try {
            out = await this.send(e, probe);
          } catch (err) {
            if (!(err instanceof Transient) || !/^HTTP (429|503)/.test(err.message) || attempt >= Math.min(this.o.retries, 3)) throw err;
            await new Promise((r) => setTimeout(r, this.o.probeAfterMs));
          }
        }
        widths.push({ url: e.url, width: out.main.dims[out.main.dims.length - 1]! });
      } catch (err) {
        if (err instanceof DtrError && err.code !== 'E_REMOTE') throw err;
        const message = (err as Error).message;
        failures.push(`${e.url}: ${message}`);
        this.markDown(e, message);
      }
    }
    if (widths.length === 0) {
      throw new DtrError('E_REMOTE', `no inference engine answered (${this.o.protocol}, model '${this.o.model}'): ${failures.join('; ')}`, {
        hint:
          this.o.protocol === 'openai-embeddings'
            ? 'the URL is the OpenAI-style base (http://host:8000/v1) of `vllm serve MODEL --runner pooling --convert embed --pooler-config \'{"pooling_type": "LAST", "normalize": false}\'`'
            : 'the URL is the KServe v2 root (http://host:8000) of a Triton server with the model loaded (docs/scaling.md)',
      });
    }
    const sizes = new Set(widths.map((w) => w.width));
    if (sizes.size > 1) {
      throw new DtrError(
        'E_REMOTE',
        `the engines disagree on the vector size: ${widths.map((w) => `${w.url} gives ${w.width}`).join(', ')}`,
        {
          hint: 'every URL must serve the same model',
        },
      );
    }
    this.width = widths[0]!.width;
    if (metadata) {
      this.inputs = metadata.inputs;
      this.outputs = metadata.outputs;
    } else {
      this.inputs = [
        { name: this.binding.inputIds, type: 'int64', shape: [null, null] },
        ...(this.binding.attentionMask ? [{ name: this.binding.attentionMask, type: 'int64', shape: [null, null] }] : []),
        ...(this.binding.positionIds ? [{ name: this.binding.positionIds, type: 'int64', shape: [null, null] }] : []),
      ];
      this.outputs = [
        { name: this.binding.output, type: 'float32', shape: [null, this.width] },
        ...(this.binding.rewardOutput && this.o.scoreLayer ? [{ name: this.binding.rewardOutput, type: 'float32', shape: [null, 1] }] : []),
      ];
    }
  }

  async run(batch: BackboneBatch): Promise<BackboneOutputs> {
    const tokens = batch.batch * batch.length;
    let lastError = '';
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (this.released) throw new DtrError('E_DISPOSED', 'the remote backbone was released');
      const e = await this.acquire(tokens);
      try {
        const out = await this.send(e, batch);
        e.failures = 0;
        e.lastError = null;
        return out;
      } catch (err) {
        if (!(err instanceof Transient)) throw err;
        lastError = `${e.url}: ${err.message}`;
        this.markDown(e, err.message);
      } finally {
        this.releaseSlot(e, tokens);
      }
    }
    throw new DtrError(
      'E_REMOTE',
      `a batch of ${batch.batch} x ${batch.length} tokens failed ${this.o.retries + 1} times; last: ${lastError}`,
      {
        hint: 'the engines are overloaded or down: check them, or raise retries / timeoutMs (dtr.json backbone.remote)',
      },
    );
  }

  async release(): Promise<void> {
    this.released = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for the URL with the least outstanding work that has room for `tokens`. */
  private async acquire(tokens: number): Promise<Endpoint> {
    for (;;) {
      if (this.released) throw new DtrError('E_DISPOSED', 'the remote backbone was released');
      const now = Date.now();
      const up = this.endpoints.filter((e) => e.downUntil <= now);
      const fits = up.filter(
        (e) => e.batches < this.o.maxBatchesPerUrl && (e.batches === 0 || e.tokens + tokens <= this.o.maxTokensInFlight),
      );
      if (fits.length > 0) {
        const e = fits.reduce((best, x) => (x.tokens < best.tokens || (x.tokens === best.tokens && x.batches < best.batches) ? x : best));
        e.tokens += tokens;
        e.batches += 1;
        return e;
      }
      // Nothing has room: wait for a slot, or (all taken out) for the first probe time.
      const wake = up.length > 0 ? Infinity : Math.min(...this.endpoints.map((e) => e.downUntil)) - now;
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(wake) ? setTimeout(done, Math.max(1, wake)) : null;
        function done(): void {
          if (timer) clearTimeout(timer);
          resolve();
        }
        this.waiters.push(done);
      });
    }
  }

  private releaseSlot(e: Endpoint, tokens: number): void {
    e.tokens -= tokens;
    e.batches -= 1;
    for (const w of this.waiters.splice(0)) w();
  }

  private markDown(e: Endpoint, message: string): void {
    e.failures += 1;
    e.lastError = message;
    // The first failure waits probeAfterMs; each further one doubles it, up to 30 s. The next
    // request to it after that is the probe: a success puts it back.
    e.downUntil = Date.now() + Math.min(30_000, this.o.probeAfterMs * 2 ** Math.min(e.failures - 1, 10));
    if (this.endpoints.length > 1 && e.failures === 1)
      this.o.onWarning?.(`inference engine ${e.url} failed (${message}); taken out, probed again later`);
  }

  /** One request to one URL: the batch's outputs, or Transient (retry) / DtrError (a wrong answer). */
  private async send(e: Endpoint, batch: BackboneBatch): Promise<BackboneOutputs> {
    return this.o.protocol === 'openai-embeddings' ? this.sendEmbeddings(e, batch) : this.sendKserve(e, batch);
  }

  private async post(url: string, body: unknown): Promise<unknown> {
    return this.request(url, { method: 'POST', body: JSON.stringify(body) });
  }

  private async request(url: string, init: { method: string; body?: string }): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(this.o.timeoutMs) });
      text = await res.text();
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new Transient(`no answer within ${this.o.timeoutMs} ms`);
      throw new Transient(`connection failed (${cause?.code ?? cause?.message ?? (err as Error).message})`);
    }
    if (res.status === 429 || res.status === 503) throw new Transient(`HTTP ${res.status} ${excerpt(text)}`);
    if (!res.ok) {
      throw new DtrError('E_REMOTE', `${url} answered HTTP ${res.status}: ${excerpt(text)}`, {
        hint: res.status === 404 ? `check the URL and the model name ('${this.o.model}')` : 'see the engine log',
      });
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new DtrError('E_REMOTE', `${url} answered with something that is not JSON: ${excerpt(text)}`);
    }
  }

  private async sendEmbeddings(e: Endpoint, batch: BackboneBatch): Promise<BackboneOutputs> {
    const rows = unpadded(batch);
    const url = `${e.url}/embeddings`;
    const doc = (await this.post(url, {
      model: this.o.model,
      input: rows.map((r) => Array.from(r)),
      encoding_format: this.o.encoding,
    })) as { data?: unknown };
    const data = Array.isArray(doc?.data) ? (doc.data as Array<{ index?: unknown; embedding?: unknown }>) : null;
    if (data === null || data.length !== batch.batch)
      throw new DtrError(
        'E_REMOTE',
        `${url}: expected ${batch.batch} embeddings in 'data', got ${data === null ? 'no data list' : data.length}`,
      );
    const vectors: Float32Array[] = new Array(batch.batch);
    for (const item of data) {
      const index = item?.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= batch.batch || vectors[index] !== undefined)
        throw new DtrError(
          'E_REMOTE',
          `${url}: an embedding has index ${JSON.stringify(index)}; expected each of 0..${batch.batch - 1} once`,
        );
      vectors[index] = decodeEmbedding(item.embedding, url);
    }
    const width = vectors[0]!.length;
    const expected = this.width ?? width;
    const main = new Float32Array(batch.batch * expected);
    vectors.forEach((v, r) => {
      if (v.length !== expected)
        throw new DtrError('E_SHAPE', `${url} returned a vector of ${v.length} values for row ${r}; the model's vectors have ${expected}`, {
          hint: 'every URL must serve the model this folder was exported from',
        });
      main.set(v, r * expected);
    });
    checkNotNormalised(main, batch.batch, expected, url);
    const out: BackboneOutputs = { main: { name: this.binding.output, dims: [batch.batch, expected], data: main }, reward: null };
    const layer = this.o.scoreLayer;
    if (layer && this.binding.rewardOutput) {
      const reward = new Float32Array(batch.batch);
      const absent = new Uint8Array(batch.batch);
      for (let r = 0; r < batch.batch; r++) {
        if (!sameToken(rows[r]!, layer)) {
          absent[r] = 1;
          continue;
        }
        let s = layer.bias;
        for (let j = 0; j < expected; j++) s += layer.weight[j]! * main[r * expected + j]!;
        reward[r] = s;
      }
      if (absent.some((x) => x === 1) && !this.warnedScalar) {
        this.warnedScalar = true;
        this.o.onWarning?.(
          `the backbone's own reward is absent for a conversation: the checkpoint reads its score at the ${layer.rule} (pad token ${layer.padTokenId}), which is not the conversation's last token the engine pools`,
        );
      }
      out.reward = { name: this.binding.rewardOutput, dims: [batch.batch, 1], data: reward };
      out.rewardAbsent = absent;
    }
    return out;
  }

  private async kserveMetadata(e: Endpoint): Promise<{ inputs: ValueInfo[]; outputs: ValueInfo[] }> {
    const url = `${e.url}/v2/models/${encodeURIComponent(this.o.model)}`;
    const doc = (await this.request(url, { method: 'GET' })) as { inputs?: unknown; outputs?: unknown };
    const tensors = (list: unknown): ValueInfo[] =>
      Array.isArray(list)
        ? list.map((t: { name?: unknown; datatype?: unknown; shape?: unknown }) => ({
            name: String(t?.name),
            type: typeof t?.datatype === 'string' ? kserveType(t.datatype) : null,
            shape: Array.isArray(t?.shape) ? t.shape.map((d: unknown) => (typeof d === 'number' && d >= 0 ? d : null)) : null,
          }))
        : [];
    return { inputs: tensors(doc?.inputs), outputs: tensors(doc?.outputs) };
  }

  private async sendKserve(e: Endpoint, batch: BackboneBatch): Promise<BackboneOutputs> {
    const url = `${e.url}/v2/models/${encodeURIComponent(this.o.model)}/infer`;
    const shape = [batch.batch, batch.length];
    const tensor = (name: string, values: ArrayLike<number>) => ({ name, shape, datatype: 'INT64', data: Array.from(values) });
    const inputs = [tensor(this.binding.inputIds, batch.inputIds)];
    if (this.binding.attentionMask) inputs.push(tensor(this.binding.attentionMask, batch.attentionMask));
    if (this.binding.positionIds) inputs.push(tensor(this.binding.positionIds, batch.positionIds));
    const names = [this.binding.output, ...(this.binding.rewardOutput ? [this.binding.rewardOutput] : [])];
    const doc = (await this.post(url, { inputs, outputs: names.map((name) => ({ name })) })) as { outputs?: unknown };
    const outputs = Array.isArray(doc?.outputs) ? (doc.outputs as Array<Record<string, unknown>>) : [];
    const get = (name: string): OutputTensor => {
      const t = outputs.find((o) => o?.name === name);
      if (!t)
        throw new DtrError(
          'E_REMOTE',
          `${url}: the answer has no output '${name}' (it has ${outputs.map((o) => String(o?.name)).join(', ') || 'none'})`,
        );
      const dims = Array.isArray(t.shape) ? (t.shape as unknown[]).map(Number) : [];
      const data = Float32Array.from(flatten(t.data), Number);
      const count = dims.reduce((a, b) => a * b, 1);
      if (dims.some((d) => !Number.isInteger(d) || d < 0) || count !== data.length)
        throw new DtrError('E_REMOTE', `${url}: output '${name}' has shape [${dims.join(', ')}] but ${data.length} values`);
      return { name, dims, data };
    };
    const main = get(this.binding.output);
    if (this.width !== null && main.dims[main.dims.length - 1] !== this.width)
      throw new DtrError(
        'E_SHAPE',
        `${url} returned '${main.name}' with shape [${main.dims.join(', ')}]; the model's vectors have ${this.width} values`,
      );
    return { main, reward: this.binding.rewardOutput ? get(this.binding.rewardOutput) : null };
  }
}

/** KServe datatypes as onnxruntime names them. */
function kserveType(datatype: string): string {
  return (
    { INT64: 'int64', INT32: 'int32', FP32: 'float32', FP16: 'float16', FP64: 'float64', BF16: 'bfloat16' }[datatype] ??
    datatype.toLowerCase()
  );
}

function flatten(data: unknown): number[] {
  if (!Array.isArray(data)) return [];
  return (data as unknown[]).flat(Infinity as 1) as number[];
}

/** Each row's real tokens, wherever the padding sits. */
function unpadded(batch: BackboneBatch): Int32Array[] {
  const rows: Int32Array[] = [];
  for (let r = 0; r < batch.batch; r++) {
    const n = batch.lengths[r]!;
    const start = r * batch.length + (batch.paddingSide === 'left' ? batch.length - n : 0);
    rows.push(batch.inputIds.subarray(start, start + n));
  }
  return rows;
}

/** Whether the checkpoint's score rule reads the conversation's last token (what the engine pools). */
function sameToken(ids: Int32Array, layer: ScoreLayer): boolean {
  if (layer.rule === 'last-token' || layer.padTokenId === null) return true;
  if (layer.rule === 'last-non-pad-token') return ids[ids.length - 1] !== layer.padTokenId;
  return !ids.includes(layer.padTokenId);
}

/** An embedding as a float list or base64 little-endian float32. */
function decodeEmbedding(value: unknown, url: string): Float32Array {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'base64');
    if (bytes.length % 4 !== 0)
      throw new DtrError('E_REMOTE', `${url}: a base64 embedding has ${bytes.length} bytes, not a whole number of float32`);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
    return out;
  }
  if (Array.isArray(value) && value.every((x) => typeof x === 'number' || x === null)) {
    // JSON has no NaN: an engine that sends null for one is caught as non-finite.
    return Float32Array.from(value, (x) => (x === null ? NaN : x));
  }
  throw new DtrError('E_REMOTE', `${url}: an embedding is neither a list of numbers nor a base64 string`);
}

/**
 * Vectors of norm 1 come from an engine that normalises (vLLM's embed default): a head reads
 * them as other hidden states. Pooled states of a language model are never all of norm 1.
 */
function checkNotNormalised(data: Float32Array, rows: number, width: number, url: string): void {
  if (width < 2) return;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < width; j++) s += data[r * width + j]! ** 2;
    if (!(Math.abs(Math.sqrt(s) - 1) < 1e-3)) return;
  }
  throw new DtrError('E_REMOTE', `${url} returned normalised vectors (every norm is 1): the head needs the raw pooled state`, {
    hint: `start vLLM with --pooler-config '{"pooling_type": "LAST", "normalize": false}' (older releases: --override-pooler-config)`,
  });
}

function excerpt(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}
