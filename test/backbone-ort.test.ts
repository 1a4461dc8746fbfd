/**
 * onnxruntime-node sessions: the CUDA → CPU fallback (onnxruntime-node 1.30 does not fall back by
 * itself), explicit providers, bad files. This machine has no CUDA libraries (package.json's
 * allowScripts denies the install script that downloads them), so asking for CUDA really fails here.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CUDA_INSTALL_COMMAND, createOrtBackbone, createWithFallback, cudaLibraryProblem } from '../src/backbone/ort.js';
import { padBatch } from '../src/backbone/batching.js';
import type { BackboneBinding } from '../src/backbone/types.js';
import { DtrError } from '../src/errors.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const binding: BackboneBinding = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  output: 'last_hidden_state',
  rewardOutput: 'logits',
};
let onnx: string;

beforeAll(() => {
  onnx = join(writeFixtureModel(tempDir()).dir, 'model.onnx');
});

describe('createWithFallback (the provider policy, with a stand-in create)', () => {
  const failingCuda =
    (calls: string[][]) =>
    async (eps: readonly string[]): Promise<string> => {
      calls.push([...eps]);
      if (eps.includes('cuda')) throw new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library');
      return 'session';
    };

  it('auto: a CUDA failure is caught and retried on CPU, with one warning', async () => {
    const calls: string[][] = [];
    const r = await createWithFallback(failingCuda(calls), 'auto', { checkLibraries: false });
    expect(calls).toEqual([['cuda'], ['cpu']]);
    expect(r.provider).toBe('cpu');
    expect(r.warning).toMatch(
      /CUDA execution provider unavailable: onnxruntime could not load CUDA: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library/,
    );
    expect(r.warning).toContain(CUDA_INSTALL_COMMAND);
    expect(r.warning).toMatch(/Running on CPU\.$/);
  });

  it('auto: CUDA that works is used, without a warning', async () => {
    const r = await createWithFallback(async (eps) => eps.join(','), 'auto', { checkLibraries: false });
    expect(r).toEqual({ session: 'cuda', provider: 'cuda', warning: null });
  });

  it('cuda asked for explicitly does not fall back: E_PROVIDER', async () => {
    const calls: string[][] = [];
    await expect(createWithFallback(failingCuda(calls), 'cuda', { checkLibraries: false })).rejects.toMatchObject({ code: 'E_PROVIDER' });
    expect(calls).toEqual([['cuda']]);
  });

  it('cpu never tries CUDA; explicit executionProviders bypass the policy', async () => {
    const calls: string[][] = [];
    expect((await createWithFallback(failingCuda(calls), 'cpu')).provider).toBe('cpu');
    expect((await createWithFallback(failingCuda(calls), 'auto', { explicitProviders: ['cpu'] })).provider).toBe('custom');
    expect(calls).toEqual([['cpu'], ['cpu']]);
  });
});

describe("onnxruntime's temporary log", () => {
  it('a process that loads a model leaves nothing in the temporary folder (onnxruntime creates mat-debug-<pid>.log there)', () => {
    const tmp = tempDir();
    const model = writeFixtureModel(tempDir()).dir;
    const cli = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
    const r = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), cli, 'score', '--model', model, '--prompt', 'Hi', '--response', 'Hello'],
      { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } },
    );
    expect(r.status, r.stderr).toBe(0);
    // Fixed names, rewritten rather than one per process: the telemetry SDK's session file, tsx's cache.
    expect(readdirSync(tmp).filter((f) => f !== '.ses' && !/^tsx-\d+$/.test(f))).toEqual([]);
  });
});

describe('createOrtBackbone (real onnxruntime-node)', () => {
  it('this install has no CUDA provider libraries (the premise of the fallback tests)', () => {
    expect(cudaLibraryProblem()?.library).toMatch(/onnxruntime_providers_(shared|cuda)/);
  });

  it('auto falls back to CPU with exactly one warning naming the missing library and the install command', async () => {
    const warnings: string[] = [];
    const bb = await createOrtBackbone(onnx, { provider: 'auto', binding, onWarning: (w) => warnings.push(w) });
    expect(bb.provider).toBe('cpu');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/libonnxruntime_providers_(shared|cuda)\.so is missing from .*onnxruntime-node/);
    expect(warnings[0]).toContain(CUDA_INSTALL_COMMAND);
    const out = await bb.run(padBatch([Int32Array.of(128000, 9906), Int32Array.of(128000)], 'right', 0));
    expect(out.main.dims).toEqual([2, 2, 32]);
    expect(out.main.data).toBeInstanceOf(Float32Array);
    expect(out.reward!.dims).toEqual([2, 1]);
    await bb.release();
  });

  it("the CUDA attempt prints none of onnxruntime's native log lines: the warning is the report", () => {
    // Native output cannot be captured in-process: a child process makes the attempt and falls back.
    const script = join(tempDir(), 'attempt.mts');
    const ort = new URL('../src/backbone/ort.ts', import.meta.url).href;
    writeFileSync(
      script,
      `import { createOrtBackbone } from ${JSON.stringify(ort)};\n` +
        `const bb = await createOrtBackbone(${JSON.stringify(onnx)}, { provider: 'auto', binding: ${JSON.stringify(binding)}, checkLibraries: false, onWarning: (w) => console.log(w) });\n` +
        'console.log(bb.provider);\n',
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
    expect(r.stdout).toMatch(/^CUDA execution provider unavailable: onnxruntime could not load CUDA: .*Running on CPU\.\ncpu\n$/);
    expect(r.stderr).toBe('');
  }, 60_000);

  it("auto catches onnxruntime's own CUDA failure and retries on CPU (no file pre-check)", async () => {
    const warnings: string[] = [];
    const bb = await createOrtBackbone(onnx, { provider: 'auto', binding, checkLibraries: false, onWarning: (w) => warnings.push(w) });
    expect(bb.provider).toBe('cpu');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/onnxruntime could not load CUDA: .*Failed to load shared library/);
    await bb.release();
  });

  it('cuda asked for explicitly fails with E_PROVIDER naming the library and the fix', async () => {
    const err = await createOrtBackbone(onnx, { provider: 'cuda', binding }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtrError);
    expect((err as DtrError).code).toBe('E_PROVIDER');
    expect((err as DtrError).message).toMatch(/libonnxruntime_providers_(shared|cuda)\.so is missing/);
    expect((err as DtrError).hint).toContain(CUDA_INSTALL_COMMAND);
  });

  it('session options pass through (explicit providers bypass the fallback)', async () => {
    const warnings: string[] = [];
    const bb = await createOrtBackbone(onnx, {
      provider: 'auto',
      binding,
      sessionOptions: { executionProviders: ['cpu'], intraOpNumThreads: 1 },
      onWarning: (w) => warnings.push(w),
    });
    expect(bb.provider).toBe('cpu');
    expect(warnings).toEqual([]);
    expect(bb.inputs.map((v) => v.name)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect(bb.outputs.find((v) => v.name === 'last_hidden_state')?.shape).toEqual(['batch', 'tokens', 32]);
    await bb.release();
    await bb.release(); // idempotent
    await expect(bb.run(padBatch([Int32Array.of(1)], 'right', 0))).rejects.toMatchObject({ code: 'E_DISPOSED' });
  });

  it('bad input: a corrupt file is E_BACKBONE with a hint; a missing one E_NOT_FOUND', async () => {
    const dir = tempDir();
    const corrupt = join(dir, 'model.onnx');
    writeFileSync(corrupt, 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n');
    const err = (await createOrtBackbone(corrupt, { provider: 'cpu', binding }).catch((e: unknown) => e)) as DtrError;
    expect(err.code).toBe('E_BACKBONE');
    expect(err.message).toMatch(/onnxruntime could not load .*model\.onnx: .*protobuf parsing failed/i);
    expect(err.hint).toMatch(/not a valid ONNX model \(corrupt, truncated, or a Git LFS pointer\)/);
    await expect(createOrtBackbone(join(dir, 'nope.onnx'), { provider: 'cpu', binding })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});
