/**
 * Helpers for the `dtr serve` tests: a plain HTTP client on loopback (node:http, so a test
 * controls connections, bodies and headers exactly), the built binary as a child process, and a
 * "gate" around the real onnxruntime backbone that holds forward passes until the test lets
 * them go (to fill the queue or pass a deadline deterministically).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { RewardModel, type LoadOptions } from '../../src/index.js';
import { createOrtBackbone, type Backbone } from '../../src/advanced.js';

/** An HTTP answer. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (throws when it is not). */
  json: any;
}

/** Options of {@link call}. */
export interface CallOptions {
  method?: string;
  /** A value to send as JSON, or the raw body (string / Buffer) as is. */
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
  agent?: Agent;
}

/**
 * One HTTP request to `base` + `path`; resolves with the answer (any status).
 * @example const r = await call(url, '/v1/compare', { body: { prompt: 'Hi', a: 'x', b: 'y' } }); r.status; // 200
 */
export function call(base: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const method = options.method ?? (body === undefined ? 'GET' : 'POST');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...options.headers,
        },
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            get json() {
              return JSON.parse(text);
            },
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Runs `tasks` with at most `limit` in flight at once; results in order. */
export async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

/** Waits until `cond()` holds (polling every 5 ms), or throws after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await cond())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The value of an unlabelled sample (or one whose labels match `labels`) in a Prometheus page. */
export function metric(page: string, name: string, labels = ''): number {
  const line = page
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (labels === '' && l.startsWith(`${name} `)));
  if (line === undefined) throw new Error(`no sample ${name}${labels ? `{${labels}}` : ''} in:\n${page}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A backbone gate: while held, forward passes wait (the real onnxruntime run follows on release). */
export interface Gate {
  hold(): void;
  release(): void;
  /** Forward passes started (held or not). */
  readonly runs: number;
  /** Makes the next forward pass throw this error (once). */
  failNext(error: Error): void;
}

/**
 * Loads the fixture folder with its real onnxruntime backbone behind a {@link Gate}.
 * @example const { model, gate } = await gatedModel(dir); gate.hold(); ...; gate.release();
 */
export async function gatedModel(
  dir: string,
  options: Omit<LoadOptions, 'dir' | 'backbone'> = {},
): Promise<{ model: RewardModel; gate: Gate }> {
  let held: Promise<void> | null = null;
  let open: (() => void) | null = null;
  let runs = 0;
  let failure: Error | null = null;
  const gate: Gate = {
    hold() {
      if (held) return;
      held = new Promise((r) => (open = r));
    },
    release() {
      open?.();
      held = null;
      open = null;
    },
    get runs() {
      return runs;
    },
    failNext(error) {
      failure = error;
    },
  };
  const model = await RewardModel.load({
    dir,
    ...options,
    backbone: async (binding) => {
      const real = await createOrtBackbone(join(dir, 'model.onnx'), { provider: 'cpu', binding });
      const wrapped: Backbone = {
        provider: real.provider,
        inputs: real.inputs,
        outputs: real.outputs,
        async run(batch) {
          runs++;
          while (held) await held;
          if (failure) {
            const e = failure;
            failure = null;
            throw e;
          }
          return real.run(batch);
        },
        release: () => real.release(),
      };
      return wrapped;
    },
  });
  return { model, gate };
}

const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const children = new Set<ChildProcessWithoutNullStreams>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

/** A `dtr serve` child process (the built binary). */
export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  /** From the first stdout line. */
  url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number when killed by a signal). */
  exited: Promise<number>;
}

/**
 * Starts `node dist/cli/main.js serve ARGS` and resolves once its first stdout line names the
 * address. The process is killed after the test file if a test left it running.
 */
export async function spawnServe(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<ServeProcess> {
  if (!existsSync(BIN)) throw new Error('dist/cli/main.js is missing: npm test builds it (or run npm run build)');
  const child = spawn(process.execPath, [BIN, 'serve', ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 1));
    }),
  );
  await Promise.race([
    until(() => out.includes('\n'), 'the first stdout line', 30_000),
    exited.then((code) => Promise.reject(new Error(`dtr serve exited with ${code}: ${err}`))),
  ]);
  const first = out.split('\n')[0]!;
  const m = /(http:\/\/[^\s"]+)/.exec(first);
  if (!m) throw new Error(`unexpected first line: ${first}`);
  return { child, url: m[1]!, stdout: () => out, stderr: () => err, exited };
}

/** Waits until `GET /healthz` says ready. */
export async function waitReady(url: string): Promise<void> {
  await until(async () => (await call(url, '/healthz').catch(() => ({ status: 0 }))).status === 200, `${url}/healthz to be ready`, 60_000);
}
