/**
 * Numbers rounded for display and stored as given. Text output goes through util/format.ts's
 * fixed formats; JSON the command line prints (--json documents, JSONL results, dtr serve's
 * answers) shows no representation noise of arithmetic (`"share": 0.10800000000000001` prints as
 * 0.108: a number whose shortest form needs more than 15 significant digits is rounded to 12),
 * while a value the user typed prints as typed and artifacts (tree files, and trees copied into a
 * document) keep full precision.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exact, JSON_DIGITS, jsonText } from '../src/util/format.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

/** Every number literal in a JSON text with more than 15 significant digits: noise. */
function noisyNumbers(json: string): string[] {
  return [...json.matchAll(/-?\d+\.\d+(?:e[-+]?\d+)?/gi)]
    .map((m) => m[0])
    .filter((s) => s.split(/e/i)[0]!.replace(/[-.]/g, '').replace(/^0+/, '').length > 15);
}

const root = new URL('..', import.meta.url).pathname;

describe('jsonText', () => {
  it('rounds noise to 12 significant digits, keeps typed values, integers and exact() objects', () => {
    expect(JSON_DIGITS).toBe(12);
    expect(jsonText({ share: 0.1 + 0.008, p: 0.5 * (0.797 + 1 - 0.409), sum: 0.1 + 0.2, third: 1 / 3, tiny: 1e-20 / 3 })).toBe(
      '{"share":0.108,"p":0.694,"sum":0.3,"third":0.333333333333,"tiny":3.33333333333e-21}',
    );
    // 15 significant digits is what a double holds exactly: such a value is what someone typed.
    expect(jsonText([3.9603815, 0.123456789012345, 123456789.012345, 1e-7, -0.25, 42, 2 ** 53, 1e21])).toBe(
      '[3.9603815,0.123456789012345,123456789.012345,1e-7,-0.25,42,9007199254740992,1e+21]',
    );
    const tree = { nodes: [{ value: [1 / 3, 2 / 3] }] };
    expect(JSON.parse(jsonText({ tree: exact(tree), copy: tree.nodes[0]!.value.slice() }))).toEqual({
      tree,
      copy: [0.333333333333, 0.666666666667],
    });
    expect(jsonText({ a: [1 / 3] }, 2)).toBe('{\n  "a": [\n    0.333333333333\n  ]\n}');
  });
});

describe('the command line prints numbers without noise', () => {
  it('dtr explain --json: derived values rounded (deltas, shares, probabilities); the scores given echo as typed, every digit', async () => {
    for (const tree of ['rlhflow-llama-3.1-8b', 'rlhflow-gemma-2-27b', 'helpsteer2-human']) {
      const r = await dtr(['explain', '--example', '--tree', tree, '--json']);
      expect(noisyNumbers(r.stdout), tree).toEqual([]);
    }
    const a = {
      helpfulness: 3.9603815078735352,
      correctness: 3.9727726,
      coherence: 3.8582935,
      complexity: 0.123456789012345,
      verbosity: 1.4901903,
    };
    const b = { helpfulness: 2.1698856, correctness: 2.2035594, coherence: 3.2032843, complexity: 0.8786768, verbosity: 1.4569137 };
    const r = await dtr(['explain', '--a', JSON.stringify(a), '--b', JSON.stringify(b), '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc.a).toEqual(a);
    expect(doc.b).toEqual(b);
    expect(doc.delta.helpfulness).toBe(Number((a.helpfulness - b.helpfulness).toPrecision(12)));
    const card = JSON.parse((await dtr(['explain', '--example', '--json'])).stdout);
    expect(card.delta.helpfulness).toBe(1.7904959); // 3.9603815 - 2.1698856 = 1.7904958999999998 in doubles
    expect(card.counterfactual.probability).toBe(0.293);
  });

  it('dtr eval --json, report --json, audit --json and compare --json / --file: no noise', async () => {
    const docs = (p: string): string => join(root, 'docs/examples', p);
    const dir = tempDir('dtr-json-');
    const model = writeFixtureModel(tempDir('dtr-json-model-')).dir;
    writeFileSync(
      join(dir, 'pairs.jsonl'),
      '{"prompt": "How many apples?", "a": "Three each.", "b": "Four each."}\n{"prompt": "Name a prime.", "a": "7", "b": "8"}\n',
    );
    const runs: string[][] = [
      ['eval', '--scores', docs('rewardbench-results.jsonl'), '--json'],
      ['eval', '--scores', docs('rm-bench-results.jsonl'), '--json'],
      ['eval', '--scores', docs('rewardbench2-results.jsonl'), '--json'],
      ['eval', '--tree', 'helpsteer2-human', '--data', docs('attribute-pairs.jsonl'), '--json'],
      ['report', '--pairs', docs('attribute-pairs.jsonl'), '--out', 'r.md', '--bootstrap', '5', '--json'],
      ['audit', '--verdicts', docs('judge-verdicts.jsonl'), '--pairs', docs('judged-pairs.jsonl'), '--json'],
      ['compare', '--model', model, '--prompt', 'How many apples?', '--a', 'Three each.', '--b', 'Four each.', '--json'],
      ['compare', '--model', model, '--file', 'pairs.jsonl'],
      ['score', '--model', model, '--prompt', 'Hi', '--response', 'Hello', '--json'],
    ];
    for (const argv of runs) {
      const r = await dtr(argv, { cwd: dir });
      expect(r.code, argv.join(' ')).toBe(0);
      // audit --json carries the judge's tree, exact: its numbers are checked in the next test.
      const printed = argv[0] === 'audit' ? JSON.stringify({ ...JSON.parse(r.stdout), tree: null }) : r.stdout;
      expect(noisyNumbers(printed), argv.join(' ')).toEqual([]);
    }
  }, 120_000);

  it('dtr train-tree --json carries the tree exactly as the file it wrote (full precision)', async () => {
    const dir = tempDir('dtr-json-');
    const r = await dtr(['train-tree', '--pairs', join(root, 'test/fixtures/pairs-small.jsonl'), '--out', 't.json', '--json'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.tree).toEqual(JSON.parse(readFileSync(join(dir, 't.json'), 'utf8')));
    expect(noisyNumbers(JSON.stringify({ ...doc, tree: null }))).toEqual([]);
  });

  it('text output shows fixed decimals only', async () => {
    for (const argv of [
      ['explain', '--example'],
      ['explain', '--example', '--tree', 'helpsteer2-human', '--asymmetric'],
      ['eval', '--scores', join(root, 'docs/examples/rm-bench-results.jsonl')],
    ]) {
      const r = await dtr(argv);
      expect(r.stdout.match(/\d\.\d{4,}/g), argv.join(' ')).toBeNull();
    }
  });
});
