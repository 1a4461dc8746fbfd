/**
 * The shape of src/: no import cycle between modules, and folders layered so data flows one way
 * (text ─ backbone ─ head ─ tree ─ explain ─ report, with workflows/ making artifacts and cli/ on
 * top). Every import counts, `import type` included: a cycle of types is still a knot to read.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Every module of src/ (path relative to src/, `.ts`) and the src/ modules it imports. */
function importGraph(): Map<string, string[]> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) files.push(path);
    }
  };
  walk(SRC);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // Static imports and re-exports (`import ... from`, `export ... from`, types too) and lazy `import('...')`.
    const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm)].map(
      (m) => (m[1] ?? m[2])!,
    );
    graph.set(
      relative(SRC, file),
      specifiers.map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts')))),
    );
  }
  return graph;
}

/** The cycles found by a depth-first walk (each as a closed path of modules). */
function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

/**
 * Folders (and top-level modules) from the bottom up: each may import only what is in an earlier
 * layer or in itself. The entry points (index.ts, advanced.ts ...) sit above everything.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util', 'attributes.ts', 'errors.ts', 'version.ts'],
  ['io'],
  ['provenance.ts'],
  ['text', 'backbone'],
  ['tree', 'head'],
  ['explain', 'data'],
  ['eval', 'model'],
  ['report'],
  ['workflows'],
  ['serve'],
  ['cli'],
];

const unitOf = (module: string): string => (module.includes('/') ? module.split('/')[0]! : module);
const layerOf = (module: string): number => LAYERS.findIndex((layer) => layer.includes(unitOf(module)));

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('reads every module, and every relative import names a module that exists', () => {
    expect(graph.size).toBeGreaterThan(90);
    const missing = [...graph].flatMap(([from, to]) => to.filter((t) => !graph.has(t)).map((t) => `${from} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('is layered: a folder imports only from folders below it (tree/ never from explain/ or eval/)', () => {
    const entries = [...graph.keys()].filter((m) => layerOf(m) < 0);
    // Only the entry points stand outside the layers.
    expect(entries.every((m) => !m.includes('/'))).toBe(true);
    const upward = [...graph].flatMap(([from, to]) =>
      layerOf(from) < 0 ? [] : to.filter((t) => unitOf(t) !== unitOf(from) && !(layerOf(t) < layerOf(from))).map((t) => `${from} -> ${t}`),
    );
    expect(upward).toEqual([]);
  });

  it('catches a cycle and an upward import when there is one (the checks above can fail)', () => {
    const knotted = new Map([
      ['tree/a.ts', ['explain/b.ts']],
      ['explain/b.ts', ['tree/a.ts']],
    ]);
    expect(cycles(knotted)).toEqual([['tree/a.ts', 'explain/b.ts', 'tree/a.ts']]);
    expect(layerOf('tree/a.ts') < layerOf('explain/b.ts')).toBe(true);
  });
});
