/**
 * The shipped declarations (dist/*.d.ts) compile in a consumer's project whatever its settings:
 * a tiny consumer importing every entry point is type-checked against the built package with
 * `strict` off and on (and with node10 resolution, which reads no "exports"), declarations of the
 * package and its dependencies included (`skipLibCheck: false`). A compile-time check in a shipped
 * .d.ts once failed with `strict` off.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumerCompilerOptions, ensureBuilt, ROOT as root, tsc } from './support/built-package.js';
import { tempDir } from './support/temp.js';

const CONSUMER = `import { PreferenceTree, RewardModel, explain, validateReport, type CompareResult, type LoadOptions } from 'decision-tree-reward';
import { fitRidge, SeededRandom, type TreeArrays } from 'decision-tree-reward/advanced';
import { readEmbeddingsFile, type SafetensorsFile } from 'decision-tree-reward/safetensors';

const tree = PreferenceTree.load('rlhflow-llama-3.1-8b');
const e = explain(tree, { helpfulness: 3, correctness: 3, coherence: 4, complexity: 2, verbosity: 2 }, { helpfulness: 2, correctness: 3, coherence: 4, complexity: 1, verbosity: 1 });
const options: LoadOptions = { dir: 'models/fixture', provider: 'cpu' };
export async function run(): Promise<CompareResult> {
  const model = await RewardModel.load(options);
  return model.compare('Hi', 'Hello', 'Go away');
}
const arrays: Readonly<TreeArrays> = tree.arrays;
const check = validateReport({});
export { e, arrays, check, fitRidge, SeededRandom, readEmbeddingsFile };
export type { SafetensorsFile };
`;

describe('the built package in a consumer project', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = tempDir('dtr-consumer-');
    mkdirSync(join(dir, 'node_modules'));
    // The package as an installed dependency would be found: by name, through its "exports".
    symlinkSync(root, join(dir, 'node_modules', 'decision-tree-reward'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    writeFileSync(join(dir, 'main.ts'), CONSUMER);
  }, 180_000);

  // node10 resolution (older tools, the notebooks' tslab kernel) reads no "exports": package.json's typesVersions maps the subpaths.
  it.each([
    { strict: false, resolution: 'NodeNext' },
    { strict: true, resolution: 'NodeNext' },
    { strict: false, resolution: 'node10' },
  ])(
    'compiles with strict: $strict, moduleResolution: $resolution',
    ({ strict, resolution }) => {
      // Under node10, zod's own declarations need esModuleInterop (as projects on node10 resolution set it).
      const legacy = resolution === 'node10' ? { module: 'ES2022', esModuleInterop: true } : { module: 'NodeNext' };
      const tsconfig = {
        compilerOptions: consumerCompilerOptions({ ...legacy, moduleResolution: resolution, strict, noEmit: true, skipLibCheck: false }),
        files: ['main.ts'],
      };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
      const r = spawnSync(process.execPath, [...tsc(), '-p', join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
    120_000,
  );
});
