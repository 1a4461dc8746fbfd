/** Tree files: validation reports every problem with its JSON path; writes are atomic and byte-stable. */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DtrError } from '../src/errors.js';
import { listTrees, PreferenceTree } from '../src/tree/preference-tree.js';
import { validateTreeFile, type TreeFile } from '../src/tree/file.js';
import { syntheticDeltas } from './support/data.js';
import { tempDir } from './support/temp.js';

const shipped = (): TreeFile =>
  JSON.parse(readFileSync(new URL('../trees/rlhflow-llama-3.1-8b.json', import.meta.url), 'utf8')) as TreeFile;
const issuesOf = (json: unknown): string[] => {
  const r = validateTreeFile(json);
  return r.success ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};

describe('tree file validation', () => {
  it('accepts every shipped tree', () => {
    expect(listTrees()).toEqual(['helpsteer2-human', 'rlhflow-gemma-2-27b', 'rlhflow-llama-3.1-8b']);
    for (const name of listTrees()) expect(PreferenceTree.load(name).nodeCount).toBe(15);
  });

  it('reports every problem at once, each with its JSON path', () => {
    const f = shipped() as unknown as Record<string, any>;
    f.nodes[0].left = 99; // bad child index
    f.nodes[5].threshold = Number.NaN; // NaN threshold
    f.nodes[3].value = [1.2, -0.2]; // probabilities outside [0, 1]
    f.attributes[4] = 'length'; // wrong attribute name
    f.nodes[12].right = 8; // cycle back to an ancestor
    const issues = issuesOf(f);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^nodes\[0\]\.left: child index 99 is not a node/),
        expect.stringMatching(/^nodes\[5\]\.threshold: /),
        expect.stringMatching(/^nodes\[3\]\.value\[0\]: probability must be <= 1/),
        expect.stringMatching(/^nodes\[3\]\.value\[1\]: probability must be >= 0/),
        expect.stringMatching(/^attributes\[4\]: unknown attribute "length"/),
        expect.stringMatching(/^attributes: missing attribute 'verbosity'/),
        expect.stringMatching(/^nodes\[12\]\.right: node 8 already has parent 0 \(cycle or shared child\)/),
      ]),
    );
  });

  it('refuses self-loops, a child pointing at the root, half-leaves and unreachable nodes', () => {
    const f = shipped() as unknown as Record<string, any>;
    f.nodes[2].left = 2;
    f.nodes[9].right = 0;
    f.nodes[14].left = 13;
    const issues = issuesOf(f);
    expect(issues.join('\n')).toMatch(/nodes\[2\]\.left: a node cannot be its own child/);
    expect(issues.join('\n')).toMatch(/nodes\[9\]\.right: the root \(node 0\) cannot be a child/);
    expect(issues.join('\n')).toMatch(/nodes\[14\]: a split node needs both left and right children/);
    expect(issues.join('\n')).toMatch(/nodes\[3\]: node is not reachable from the root/);
  });

  it('refuses wrong format, version, class semantics and unknown keys', () => {
    const f = shipped() as unknown as Record<string, any>;
    f.format = 'sklearn-pickle';
    f.version = 2;
    f.classes = ['a', 'b'];
    f.extra = true;
    const text = issuesOf(f).join('\n');
    expect(text).toMatch(/^format: /m);
    expect(text).toMatch(/^version: /m);
    expect(text).toMatch(/^classes\[0\]: /m);
    expect(text).toMatch(/extra/);
  });

  it('fromJSON throws a coded error carrying all issues; safeFromJSON never throws', () => {
    const f = shipped() as unknown as Record<string, any>;
    f.nodes[0].threshold = 'high';
    f.nodes[1].feature = 'style';
    expect(() => PreferenceTree.fromJSON(f, 'bad.json')).toThrowError(DtrError);
    try {
      PreferenceTree.fromJSON(f, 'bad.json');
    } catch (e) {
      expect((e as DtrError).code).toBe('E_INVALID_ARTIFACT');
      expect((e as DtrError).message).toMatch(/bad\.json is not a valid tree file \(\d+ problems\)/);
      expect((e as DtrError).issues.length).toBeGreaterThanOrEqual(2);
    }
    const r = PreferenceTree.safeFromJSON(null);
    expect(r.success).toBe(false);
  });
});

describe('tree file writing', () => {
  it('round-trips byte for byte and writes identical bytes for identical input', () => {
    const data = syntheticDeltas(1000, 8);
    const tree = PreferenceTree.fitArrays(data.deltas, data.labels, { name: 'rt' });
    const dir = tempDir('dtr-tree-');
    tree.save(join(dir, 'a.json'));
    PreferenceTree.load(join(dir, 'a.json')).save(join(dir, 'b.json'));
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe(readFileSync(join(dir, 'a.json'), 'utf8'));
    for (const name of listTrees()) {
      const text = readFileSync(new URL(`../trees/${name}.json`, import.meta.url), 'utf8');
      expect(PreferenceTree.load(name).serialize()).toBe(text);
    }
  });

  it('fails with a coded error and writes nothing when the folder cannot be created', () => {
    const dir = tempDir('dtr-tree-');
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => PreferenceTree.load('helpsteer2-human').save(join(dir, 'file', 'tree.json'))).toThrowError(/could not write/);
    expect(readdirSync(dir)).toEqual(['file']);
  });

  it('never leaves a temp file beside the target, and replaces the old file atomically', () => {
    const dir = tempDir('dtr-tree-');
    const target = join(dir, 't.json');
    writeFileSync(target, 'old contents');
    PreferenceTree.load('helpsteer2-human').save(target);
    expect(readdirSync(dir)).toEqual(['t.json']);
    expect(PreferenceTree.load(target).name).toBe('helpsteer2-human');
    // A target that is a directory fails without touching it and without leftovers.
    expect(() => PreferenceTree.load('helpsteer2-human').save(dir)).toThrowError(DtrError);
    expect(existsSync(join(dir, 't.json'))).toBe(true);
    expect(readdirSync(dir)).toEqual(['t.json']);
  });

  it('records provenance, importances and ranges in fitted trees', () => {
    const data = syntheticDeltas(500, 9);
    const json = PreferenceTree.fitArrays(data.deltas, data.labels).toJSON();
    expect(json.provenance.package).toMatch(/^decision-tree-reward@/);
    expect(Object.values(json.importances).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(json.ranges!.helpfulness[0]).toBeLessThan(json.ranges!.helpfulness[1]);
    expect(json.semantics).toMatch(/P\(response a preferred\)/);
  });
});

describe('loading by name or path', () => {
  it('lists the shipped trees when a name is unknown', () => {
    try {
      PreferenceTree.load('llama-tree');
      expect.unreachable();
    } catch (e) {
      expect((e as DtrError).code).toBe('E_NOT_FOUND');
      expect((e as DtrError).message).toBe(
        "unknown tree 'llama-tree'; shipped trees: helpsteer2-human, rlhflow-gemma-2-27b, rlhflow-llama-3.1-8b",
      );
      expect((e as DtrError).hint).toBe('or give a path to a tree file');
    }
  });

  it('names a missing path, a non-JSON file and a bad argument', () => {
    expect(() => PreferenceTree.load('nope/tree.json')).toThrowError(/no tree file at nope\/tree\.json/);
    const dir = tempDir('dtr-tree-');
    writeFileSync(join(dir, 'x.json'), '{not json');
    expect(() => PreferenceTree.load(join(dir, 'x.json'))).toThrowError(/is not JSON/);
    expect(() => PreferenceTree.load('')).toThrowError(TypeError);
  });
});
