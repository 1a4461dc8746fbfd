/** The CART presort: the WebAssembly radix sort against the JavaScript one and a comparator sort. */
import { describe, expect, it } from 'vitest';
import { argsortFloat64, assembleRadixWasm, presortColumns, RADIX_WASM, sortColumn } from '../src/tree/argsort.js';
import { assembleCartWasm, CART_WASM } from '../src/tree/cart.js';
import { SeededRandom } from '../src/util/random.js';

function reference(values: Float64Array): number[] {
  const negZero = (i: number): number => (Object.is(values[i], -0) ? 1 : 0);
  return Array.from(values.keys()).sort((a, b) => values[a]! - values[b]! || negZero(b) - negZero(a) || a - b);
}

describe('presortColumns', () => {
  it('sorts every column of a row-major matrix as sortColumn (JavaScript) and a comparator sort do, values included', () => {
    const rng = new SeededRandom(9);
    const n = 3000;
    const k = 6;
    const x = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      x[i * k] = rng.normal(); // general doubles: all six passes
      x[i * k + 1] = Math.fround(rng.normal()); // float32 values: the low passes are skipped
      x[i * k + 2] = Math.round(rng.normal() * 3); // many ties
      x[i * k + 3] = 2.5; // constant: no pass at all
      x[i * k + 4] = rng.next() < 0.3 ? (rng.next() < 0.5 ? -0 : 0) : rng.normal() * 1e-300; // signed zeros, tiny values
      x[i * k + 5] = (rng.next() - 0.5) * 1e300;
    }
    const { orders, sorted } = presortColumns(x, k, n);
    for (let f = 0; f < k; f++) {
      const col = Float64Array.from({ length: n }, (_, i) => x[i * k + f]!);
      const order = new Int32Array(n);
      const vals = new Float64Array(n);
      sortColumn(x, k, f, n, order, vals);
      expect(Array.from(orders[f]!), `column ${f}`).toEqual(Array.from(order));
      expect(Array.from(orders[f]!)).toEqual(reference(col));
      for (let p = 0; p < n; p++) expect(Object.is(sorted[f]![p], col[orders[f]![p]!]) && Object.is(vals[p], col[order[p]!])).toBe(true);
    }
  });

  it('argsortFloat64 returns its own copy; empty and one-element inputs', () => {
    const a = argsortFloat64(Float64Array.from([3, 1, 2]));
    argsortFloat64(Float64Array.from([1, 2, 3]));
    expect(Array.from(a)).toEqual([1, 2, 0]);
    expect(Array.from(argsortFloat64(new Float64Array(0)))).toEqual([]);
    expect(Array.from(argsortFloat64(Float64Array.from([7])))).toEqual([0]);
  });

  it('the stored WebAssembly modules are what the assemblers in argsort.ts and cart.ts make (after editing a kernel: UPDATE_WASM=1 npx vitest run test/presort.test.ts)', async () => {
    const made = {
      RADIX_WASM: Buffer.from(assembleRadixWasm()).toString('base64'),
      CART_WASM: Buffer.from(assembleCartWasm()).toString('base64'),
    };
    if (process.env.UPDATE_WASM === '1') {
      const { readFileSync, writeFileSync } = await import('node:fs');
      const { fileURLToPath } = await import('node:url');
      for (const [name, file] of [
        ['RADIX_WASM', 'argsort.ts'],
        ['CART_WASM', 'cart.ts'],
      ] as const) {
        const path = fileURLToPath(new URL(`../src/tree/${file}`, import.meta.url));
        writeFileSync(path, readFileSync(path, 'utf8').replace(new RegExp(`(export const ${name} =\\s*')[^']*'`), `$1${made[name]}'`));
      }
      return;
    }
    expect(made.RADIX_WASM).toBe(RADIX_WASM);
    expect(made.CART_WASM).toBe(CART_WASM);
  });
});

describe('the JavaScript fallback (a Node without WebAssembly)', () => {
  it('fits the same trees and bootstrap importances as the WebAssembly kernels', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { PreferenceTree } = await import('../src/tree/preference-tree.js');
    const { bootstrapImportances } = await import('../src/tree/importance.js');
    const script = `
      const { PreferenceTree } = await import(${JSON.stringify(fileURLToPath(new URL('../src/tree/preference-tree.ts', import.meta.url)))});
      const { bootstrapImportances } = await import(${JSON.stringify(fileURLToPath(new URL('../src/tree/importance.ts', import.meta.url)))});
      const { cases } = await import(${JSON.stringify(fileURLToPath(new URL('./support/tree-cases.ts', import.meta.url)))});
      console.log(JSON.stringify({ wasm: typeof WebAssembly, out: cases(PreferenceTree, bootstrapImportances) }));`;
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url));
    const r = spawnSync(process.execPath, ['--no-expose-wasm', '--import', tsx, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { cases } = await import('./support/tree-cases.js');
    const child = JSON.parse(r.stdout.trim().split('\n').pop()!) as { wasm: string; out: string[] };
    expect(child.wasm).toBe('undefined');
    expect(child.out).toEqual(cases(PreferenceTree, bootstrapImportances));
  }, 60_000);
});
