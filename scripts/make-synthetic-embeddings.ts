/**
 * Writes the synthetic embeddings file of docs/building.md's `dtr fit-head` example into OUT: 2000
 * rows x 256 BF16 embeddings whose columns carry five latent factors, ratings 0-4 driven by those
 * factors plus noise, every 50th verbosity rating missing (writeSyntheticEmbeddings in
 * test/support/embeddings.ts, which the tests use too). Not a real backbone's numbers.
 *
 * Run: npx tsx scripts/make-synthetic-embeddings.ts OUT.safetensors
 */
import { writeSyntheticEmbeddings } from '../test/support/embeddings.js';

const args = process.argv.slice(2);
if (args.length !== 1 || args[0]!.startsWith('-')) {
  process.stderr.write('usage: npx tsx scripts/make-synthetic-embeddings.ts OUT.safetensors\n');
  process.exitCode = 2;
} else {
  writeSyntheticEmbeddings(args[0]!);
  process.stdout.write(`wrote ${args[0]} (2000 rows x 256, BF16, with ratings; synthetic: a planted signal, not a backbone's)\n`);
}
