/**
 * `npm run bench` runs every bench/*.bench.ts module in name order (or those named on the
 * command line: `npm run bench -- cart`). Speed goals are printed as ratios against the peer
 * measured in the same run, never asserted in tests.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { makeContext, type Bench } from './context.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));
const dir = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
const ctx = makeContext(quick);
console.log(
  `benchmarks on ${process.platform}/${process.arch}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores${quick ? ' (quick)' : ''}`,
);
console.log(
  `peers: python ${ctx.python ?? 'unavailable (install python3-sklearn python3-numpy)'}; shared data ${ctx.sharedData ?? 'not found'}`,
);
for (const f of files) {
  console.log(`\n## ${f.replace('.bench.ts', '')}`);
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: Bench };
  await mod.default(ctx);
}
