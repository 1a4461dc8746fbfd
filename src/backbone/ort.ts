/**
 * The only module that imports onnxruntime-node. It is loaded lazily, so commands that never
 * touch a model (`dtr explain`, `dtr train-tree` on attribute pairs) never load the native
 * binding. Everything else reaches ONNX Runtime through this module.
 *
 * Sessions are created from a path, never a Buffer, so models over 2 GB with external data
 * (`model.onnx_data` beside `model.onnx`) load. Provider choice: onnxruntime-node 1.30 does not
 * fall back by itself (`executionProviders: ['cuda', 'cpu']` throws when the CUDA library is
 * missing), so `auto` tries CUDA, catches, and retries on CPU with one warning.
 *
 * May import: its own folder (backbone/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never text/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { DtrError } from '../errors.js';
import type { Backbone, BackboneBatch, BackboneBinding, BackboneOutputs, OutputTensor, ProviderPreference, ValueInfo } from './types.js';

/** The onnxruntime-node module's type. */
export type OrtModule = typeof Ort;
/** onnxruntime session options, passed through (execution providers are chosen by `provider`). */
export type SessionOptions = Ort.InferenceSession.SessionOptions;

let loading: Promise<OrtModule> | null = null;

/**
 * The onnxruntime-node module, imported on first use. Its own log lines are turned down to fatal
 * ones (`env.logLevel`, read once, when the first session is created), unless the caller chose
 * another level than the default first: the CUDA attempt of `provider: 'auto'` would print a red
 * native error line for what is only a fallback, which the SDK reports itself (one warning naming
 * the reason). Errors still arrive as exceptions, with onnxruntime's message.
 *
 * @example
 * ```ts
 * const ort = await loadOrt();
 * new ort.Tensor('float32', new Float32Array(4), [2, 2]);
 * ```
 */
export function loadOrt(): Promise<OrtModule> {
  // onnxruntime-node is CommonJS: its exports arrive as the namespace's `default`.
  loading ??= import('onnxruntime-node').then((m) => {
    const ort = (m as unknown as { default?: OrtModule }).default ?? (m as unknown as OrtModule);
    if (ort.env.logLevel === 'warning') ort.env.logLevel = 'fatal';
    return ort;
  });
  return loading;
}

let tempLogRemoved = false;

/**
 * onnxruntime's Linux build carries Microsoft's telemetry SDK, which creates an empty
 * `mat-debug-<pid>.log` in the temporary folder when onnxruntime starts (at a process's first
 * session) and never removes it: one more file per process, for every user. Called after a
 * session is created, it removes that file once: only this process's (the name holds its id),
 * and only while it is empty.
 *
 * @example
 * ```ts
 * const session = await ort.InferenceSession.create(path);
 * removeOrtTempLog();
 * ```
 */
export function removeOrtTempLog(): void {
  if (tempLogRemoved) return;
  tempLogRemoved = true;
  const log = join(tmpdir(), `mat-debug-${process.pid}.log`);
  try {
    if (statSync(log).size === 0) rmSync(log);
  } catch {
    // Absent (another platform or build), or not ours to remove: nothing to do.
  }
}

/**
 * The command that installs onnxruntime-node's CUDA binaries on a CUDA 12 machine. It runs the
 * package's install script through `npm explore`, not `npm rebuild`: npm skips the script of a
 * package its `allowScripts` denies (as the README's CPU-only install records), silently.
 *
 * @example
 * ```ts
 * CUDA_INSTALL_COMMAND; // 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm explore onnxruntime-node -- node script/install'
 * ```
 */
export const CUDA_INSTALL_COMMAND = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm explore onnxruntime-node -- node script/install';

/** Folder holding onnxruntime-node's native binding and libraries for this platform. */
export function ortBinaryDir(): string | null {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

/**
 * Why CUDA cannot work here, judged from files alone (no native call, so no native error spew):
 * the provider libraries onnxruntime-node loads for CUDA. Null when they are present (CUDA may
 * still fail later on a missing CUDA/cuDNN runtime; that is caught when the session is created).
 *
 * @example
 * ```ts
 * cudaLibraryProblem(); // { library: 'libonnxruntime_providers_cuda.so', dir: '.../linux/x64' } on a CPU-only install
 * ```
 */
export function cudaLibraryProblem(): { library: string; dir: string } | null {
  const dir = ortBinaryDir();
  if (dir === null) return { library: 'onnxruntime-node', dir: '(onnxruntime-node not found)' };
  const names =
    process.platform === 'win32'
      ? ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll']
      : process.platform === 'darwin'
        ? ['libonnxruntime_providers_cuda.dylib']
        : ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
  for (const library of names) if (!existsSync(join(dir, library))) return { library, dir };
  return null;
}

/**
 * The message shown when CUDA cannot be used: the missing library, and how to get CUDA.
 *
 * @example
 * ```ts
 * cudaUnavailableMessage({ library: 'libonnxruntime_providers_cuda.so', dir: '/x' });
 * // 'CUDA execution provider unavailable: libonnxruntime_providers_cuda.so is missing from /x (...). To use ...'
 * ```
 */
export function cudaUnavailableMessage(detail: { library?: string; dir?: string; error?: string }): string {
  const what = detail.library
    ? `${detail.library} is missing from ${detail.dir} (onnxruntime-node was installed without its CUDA binaries)`
    : `onnxruntime could not load CUDA: ${detail.error ?? 'unknown error'} (usually libonnxruntime_providers_cuda.so or one of its CUDA 12 / cuDNN 9 libraries, e.g. libcudart.so.12, libcublasLt.so.12, libcudnn.so.9, is not on the library path)`;
  return `CUDA execution provider unavailable: ${what}. To use an NVIDIA GPU on a CUDA 12 machine run: ${CUDA_INSTALL_COMMAND}`;
}

/** How a session came to be: the provider used and any fallback warning. */
export interface SessionChoice<S> {
  session: S;
  provider: 'cuda' | 'cpu' | 'custom';
  warning: string | null;
}

/**
 * Creates a session with the provider policy (CUDA, CPU, or CUDA falling back to CPU), given a
 * `create(executionProviders)` function. Separated from onnxruntime so the retry logic is
 * testable on its own; {@link createOrtBackbone} passes onnxruntime's own `InferenceSession.create`.
 *
 * @param checkLibraries When true (default), `auto` skips the CUDA attempt if the provider
 *   libraries are missing (avoiding onnxruntime's native error output) and warns right away.
 *
 * @example
 * ```ts
 * const { session, provider, warning } = await createWithFallback((eps) => ort.InferenceSession.create(path, { executionProviders: [...eps] }), 'auto');
 * if (warning) console.warn(warning); // provider === 'cpu'
 * ```
 */
export async function createWithFallback<S>(
  create: (executionProviders: readonly string[]) => Promise<S>,
  provider: ProviderPreference,
  options: { checkLibraries?: boolean; explicitProviders?: readonly string[] } = {},
): Promise<SessionChoice<S>> {
  if (options.explicitProviders !== undefined) {
    return { session: await create(options.explicitProviders), provider: 'custom', warning: null };
  }
  if (provider === 'cpu') return { session: await create(['cpu']), provider: 'cpu', warning: null };
  const problem = options.checkLibraries === false ? null : cudaLibraryProblem();
  if (provider === 'cuda') {
    const hint = `install the CUDA binaries (${CUDA_INSTALL_COMMAND}) or use provider 'cpu' / 'auto'`;
    // Known missing: say so without a native attempt (which prints onnxruntime's own error lines).
    if (problem) throw new DtrError('E_PROVIDER', cudaUnavailableMessage(problem), { hint });
    try {
      return { session: await create(['cuda']), provider: 'cuda', warning: null };
    } catch (cause) {
      const message = (cause as Error).message;
      if (!isProviderError(message)) throw cause;
      throw new DtrError('E_PROVIDER', cudaUnavailableMessage({ error: message }), { cause, hint });
    }
  }
  if (problem) return { session: await create(['cpu']), provider: 'cpu', warning: `${cudaUnavailableMessage(problem)}. Running on CPU.` };
  try {
    return { session: await create(['cuda']), provider: 'cuda', warning: null };
  } catch (cause) {
    // Any CUDA failure: retry on CPU. If the model itself is bad, the CPU attempt says so.
    const session = await create(['cpu']);
    return { session, provider: 'cpu', warning: `${cudaUnavailableMessage({ error: (cause as Error).message })}. Running on CPU.` };
  }
}

function isProviderError(message: string): boolean {
  return /cuda|shared library|provider/i.test(message);
}

/** Options of {@link createOrtBackbone}. */
export interface OrtBackboneOptions {
  provider: ProviderPreference;
  binding: BackboneBinding;
  /** Passed through to `InferenceSession.create` (give `executionProviders` here to bypass the policy). */
  sessionOptions?: SessionOptions;
  /** Called once with the CUDA fallback warning. */
  onWarning?: (message: string) => void;
  /** See {@link createWithFallback}. */
  checkLibraries?: boolean;
}

/**
 * Loads an ONNX backbone from a path with onnxruntime-node.
 * @throws DtrError `E_BACKBONE` (missing, corrupt, unloadable file) or `E_PROVIDER` (explicit CUDA unavailable).
 *
 * @example
 * ```ts
 * const backbone = await createOrtBackbone('model/model.onnx', {
 *   provider: 'auto',
 *   binding: { inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: null, output: 'last_hidden_state', rewardOutput: null },
 * });
 * backbone.provider; // 'cpu' here, with one warning naming the missing CUDA library
 * ```
 */
export async function createOrtBackbone(modelPath: string, options: OrtBackboneOptions): Promise<Backbone> {
  if (!existsSync(modelPath)) throw new DtrError('E_NOT_FOUND', `no ONNX model at ${modelPath}`);
  const ort = await loadOrt();
  const { executionProviders, ...rest } = options.sessionOptions ?? {};
  const explicit = executionProviders?.map((e) => (typeof e === 'string' ? e : e.name));
  let choice: SessionChoice<Ort.InferenceSession>;
  try {
    choice = await createWithFallback(
      // Explicit provider configs (objects with options) are passed as given.
      (eps) => ort.InferenceSession.create(modelPath, { ...rest, executionProviders: explicit ? executionProviders! : [...eps] }),
      options.provider,
      {
        ...(options.checkLibraries === undefined ? {} : { checkLibraries: options.checkLibraries }),
        ...(explicit ? { explicitProviders: explicit } : {}),
      },
    );
  } catch (cause) {
    if (cause instanceof DtrError) throw cause;
    removeOrtTempLog(); // onnxruntime started even though the model did not load
    const message = (cause as Error).message ?? String(cause);
    const corrupt = /protobuf parsing failed|Protobuf parsing failed|invalid model|ModelProto/i.test(message);
    throw new DtrError('E_BACKBONE', `onnxruntime could not load ${modelPath}: ${message}`, {
      cause,
      hint: corrupt
        ? 'the file is not a valid ONNX model (corrupt, truncated, or a Git LFS pointer): re-export or re-download it'
        : 'check that the file is a complete ONNX model and that its external data file (model.onnx_data) sits beside it',
    });
  }
  removeOrtTempLog();
  if (choice.warning) options.onWarning?.(choice.warning);
  return new OrtBackbone(ort, choice.session, choice.provider === 'custom' ? explicit!.join(',') : choice.provider, options.binding);
}

class OrtBackbone implements Backbone {
  readonly provider: string;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  private session: Ort.InferenceSession | null;
  private readonly ort: OrtModule;
  private readonly binding: BackboneBinding;
  private readonly intInputs: ReadonlyMap<string, 'int64' | 'int32'>;

  constructor(ort: OrtModule, session: Ort.InferenceSession, provider: string, binding: BackboneBinding) {
    this.ort = ort;
    this.session = session;
    this.provider = provider;
    this.binding = binding;
    this.inputs = describe(session.inputNames, (session as unknown as { inputMetadata?: unknown[] }).inputMetadata);
    this.outputs = describe(session.outputNames, (session as unknown as { outputMetadata?: unknown[] }).outputMetadata);
    const types = new Map<string, 'int64' | 'int32'>();
    for (const v of this.inputs) types.set(v.name, v.type === 'int32' ? 'int32' : 'int64');
    this.intInputs = types;
  }

  async run(batch: BackboneBatch): Promise<BackboneOutputs> {
    const session = this.session;
    if (session === null) throw new DtrError('E_DISPOSED', 'the backbone session was released');
    const dims = [batch.batch, batch.length];
    const feeds: Record<string, Ort.Tensor> = {};
    const feed = (name: string, values: ArrayLike<number>): void => {
      if (this.intInputs.get(name) === 'int32') feeds[name] = new this.ort.Tensor('int32', Int32Array.from(values), dims);
      else {
        const big = new BigInt64Array(values.length);
        for (let i = 0; i < values.length; i++) big[i] = BigInt(values[i]!);
        feeds[name] = new this.ort.Tensor('int64', big, dims);
      }
    };
    feed(this.binding.inputIds, batch.inputIds);
    if (this.binding.attentionMask) feed(this.binding.attentionMask, batch.attentionMask);
    if (this.binding.positionIds) feed(this.binding.positionIds, batch.positionIds);
    const fetches = [this.binding.output, ...(this.binding.rewardOutput ? [this.binding.rewardOutput] : [])];
    let result: Ort.InferenceSession.ReturnType;
    try {
      result = await session.run(feeds, fetches);
    } catch (cause) {
      throw new DtrError(
        'E_BACKBONE',
        `the ONNX backbone failed on a batch of ${batch.batch} x ${batch.length} tokens: ${(cause as Error).message}`,
        {
          cause,
          hint: 'if it ran out of memory, lower batchSize / maxTokensPerBatch',
        },
      );
    }
    return {
      main: toFloat32(this.binding.output, result[this.binding.output]!),
      reward: this.binding.rewardOutput ? toFloat32(this.binding.rewardOutput, result[this.binding.rewardOutput]!) : null,
    };
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.release();
  }
}

function describe(names: readonly string[], metadata: unknown[] | undefined): ValueInfo[] {
  return names.map((name, i) => {
    const m = (metadata?.[i] ?? {}) as { name?: string; isTensor?: boolean; type?: string; shape?: ReadonlyArray<number | string> };
    const shape = Array.isArray(m.shape)
      ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : null))
      : null;
    return { name, type: typeof m.type === 'string' ? m.type : null, shape };
  });
}

function toFloat32(name: string, t: Ort.Tensor): OutputTensor {
  const dims = [...t.dims];
  const data = t.data as unknown;
  if (data instanceof Float32Array) return { name, dims, data };
  if (data instanceof Float64Array) return { name, dims, data: Float32Array.from(data) };
  if (t.type === 'float16' && data instanceof Uint16Array) return { name, dims, data: halfToFloat(data) };
  if (t.type === 'float16' && typeof (data as { length?: number }).length === 'number')
    return { name, dims, data: Float32Array.from(data as ArrayLike<number>) };
  throw new DtrError('E_BACKBONE', `output '${name}' has element type ${t.type}; expected float32, float16 or float64`);
}

/** IEEE half-precision bits to float32. */
function halfToFloat(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] =
      exp === 0
        ? sign * 2 ** -14 * (frac / 1024)
        : exp === 31
          ? frac
            ? NaN
            : sign * Infinity
          : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}
