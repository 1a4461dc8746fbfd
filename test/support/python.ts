import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's python, which has scikit-learn and numpy (plain `python3` on the dev machine may not). */
export const PYTHON = '/usr/bin/python3';

let cached: boolean | null = null;

/**
 * Whether Debian's python3-sklearn and python3-numpy are installed. CI installs them (.ci/run);
 * on a machine without them the parity tests are skipped and vitest reports them as skipped.
 */
export function hasSklearn(): boolean {
  if (cached === null) cached = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sklearn, numpy'], { stdio: 'ignore' }).status === 0;
  return cached;
}

/** Runs a Python script from test/support with JSON on stdin and returns its JSON stdout. */
export function runPythonJson<T>(script: string, input: unknown): T {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const res = spawnSync(PYTHON, [path], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${script} failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
}

let numpyCached: boolean | null = null;

/** Whether Debian's python3-numpy is installed (the safetensors and ridge parity tests need only numpy). */
export function hasNumpy(): boolean {
  if (numpyCached === null) numpyCached = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
  return numpyCached;
}

/** Path of a script in test/support. */
export function supportScript(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** Runs Debian's python with arguments (and optional stdin); returns stdout, throws with stderr on failure. */
export function runPython(args: readonly string[], options: { input?: string; cwd?: string; env?: Record<string, string> } = {}): string {
  const res = spawnSync(PYTHON, args, {
    input: options.input,
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`python ${args.join(' ')} failed (${res.status}):\n${res.stderr}`);
  return res.stdout;
}

/**
 * The Python that has the export bridge's requirements (notebooks/python/requirements.txt:
 * torch, transformers, onnx, onnxruntime, scikit-learn): $DTR_TORCH_PYTHON, else the repo's
 * .venv, which .ci/run makes (`python3 -m venv .venv && .venv/bin/pip install -r
 * notebooks/python/requirements.txt`).
 */
export const TORCH_PYTHON = process.env.DTR_TORCH_PYTHON ?? fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));

let torchCached: boolean | null = null;

/** Whether {@link TORCH_PYTHON} exists and imports the bridge's requirements. */
export function hasTorch(): boolean {
  if (torchCached === null) {
    torchCached =
      existsSync(TORCH_PYTHON) &&
      spawnSync(TORCH_PYTHON, ['-c', 'import torch, transformers, onnx, onnxruntime, sklearn'], { stdio: 'ignore' }).status === 0;
  }
  return torchCached;
}

/**
 * Whether the export-bridge suites run: when {@link hasTorch}, and always under CI=true (CI
 * installs the requirements, so a missing one must fail there, not skip).
 */
export function runsTorchSuites(): boolean {
  return hasTorch() || process.env.CI === 'true';
}

/** The command that makes the environment the bridge tests need. */
export const TORCH_SETUP = 'python3 -m venv .venv && .venv/bin/pip install -r notebooks/python/requirements.txt';

/** Runs {@link TORCH_PYTHON} with arguments; returns {code, stdout, stderr} (never throws for a non-zero exit). */
export function runTorchPython(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; timeout?: number; input?: string } = {},
): { code: number; stdout: string; stderr: string } {
  const res = spawnSync(TORCH_PYTHON, args, {
    cwd: options.cwd,
    input: options.input,
    env: { ...process.env, PYTHONUNBUFFERED: '1', ...options.env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeout ?? 600_000,
  });
  if (res.error)
    return {
      code: -1,
      stdout: res.stdout ?? '',
      stderr: `${TORCH_PYTHON} did not run: ${res.error.message} (make it with: ${TORCH_SETUP})`,
    };
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}
