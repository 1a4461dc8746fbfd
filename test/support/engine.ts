/**
 * The reference inference engine (notebooks/python/reference_engine.py) as a child process on
 * loopback: started once per suite, its port read from its first line, stopped in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TORCH_PYTHON } from './python.js';
import { tempDir } from './temp.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TINY_LLAMA = join(ROOT, 'test/fixtures/tiny-llama');
const ENGINE = join(ROOT, 'notebooks/python/reference_engine.py');

export interface RunningEngine {
  port: number;
  /** `http://127.0.0.1:PORT` */
  root: string;
  /** `http://127.0.0.1:PORT/v1` (the OpenAI-style base) */
  v1: string;
  process: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts the engine with these arguments (after `--port 0`) and waits for `listening on PORT`. */
export function startEngine(args: readonly string[], timeoutMs = 240_000): Promise<RunningEngine> {
  const tmp = tempDir('dtr-engine-');
  const child = spawn(TORCH_PYTHON, [ENGINE, '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, PYTHONUNBUFFERED: '1', TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the reference engine did not start in ${timeoutMs} ms:\n${err.slice(-3000)}`));
    }, timeoutMs);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          port,
          root: `http://127.0.0.1:${port}`,
          v1: `http://127.0.0.1:${port}/v1`,
          process: child,
          stderr: () => err,
          stop: () => stopChild(child),
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the reference engine exited (${code}) before listening:\n${err.slice(-3000)}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * A copy of test/fixtures/tiny-llama without model.onnx (and its data): the folder a user keeps
 * when the backbone runs on an engine. `dtr` lets a test edit its dtr.json.
 */
export function remoteFolder(edit?: (dtr: Record<string, unknown>) => void): string {
  const dir = join(tempDir('dtr-remote-'), 'tiny-llama');
  cpSync(TINY_LLAMA, dir, { recursive: true });
  rmSync(join(dir, 'model.onnx'));
  rmSync(join(dir, 'model.onnx_data'));
  if (edit) {
    const path = join(dir, 'dtr.json');
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    edit(doc);
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return dir;
}
