/**
 * The RM-Bench style matrix of dataset reports, hand-computed. A "verbosity tree" fitted here
 * (verbosity difference <= 0 gives P(a) = 0, above it 1) judges nine RM-Bench comparisons of one
 * prompt whose responses differ only in verbosity = their style index (0 concise, 1 detailed
 * plain, 2 detailed markdown), the chosen response always a. Under the symmetric rule:
 *
 *   chosen richer (i > j):   f(d) = 1, f(-d) = 0 -> p = 1: right        (easy = 1)
 *   chosen plainer (i < j):  f(d) = 0, f(-d) = 1 -> p = 0: wrong        (hard = 0)
 *   same style (i = j):      f(0) = 0 both ways  -> p = 0.5: tie, 0.5   (normal = 0.5)
 *
 * and every decision goes through verbosity: decided by style, in every cell.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTE_COUNT, attributeIndex, type AttributeScores } from '../src/attributes.js';
import { buildDatasetReport } from '../src/report/dataset.js';
import { renderHtml } from '../src/report/html.js';
import { datasetInputFromRows } from '../src/report/input.js';
import { parsePairRows } from '../src/data/text-rows.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderJson } from '../src/report/render.js';
import { reportJsonSchema, validateReport } from '../src/report/schema.js';
import type { DatasetInput } from '../src/report/types.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { dtr } from './support/cli.js';
import { tempDir } from './support/temp.js';

const V = attributeIndex('verbosity');
const deltas = new Float64Array(4 * ATTRIBUTE_COUNT);
[1, 1, -1, -1].forEach((d, i) => (deltas[i * ATTRIBUTE_COUNT + V] = d));
const verbosityTree = PreferenceTree.fitArrays(deltas, Uint8Array.from([1, 1, 0, 0]), { maxDepth: 1, name: 'verbosity-lover' });

const scores = (verbosity: number): AttributeScores => ({ helpfulness: 2, correctness: 2, coherence: 3, complexity: 1, verbosity });
const cells = [0, 1, 2].flatMap((i) => [0, 1, 2].map((j) => ({ i, j })));

function input(): DatasetInput {
  const a = new Float64Array(9 * ATTRIBUTE_COUNT);
  const b = new Float64Array(9 * ATTRIBUTE_COUNT);
  cells.forEach(({ i, j }, k) => {
    a.set([2, 2, 3, 1, i], k * ATTRIBUTE_COUNT);
    b.set([2, 2, 3, 1, j], k * ATTRIBUTE_COUNT);
  });
  return {
    n: 9,
    a,
    b,
    labels: new Uint8Array(9).fill(1),
    styles: { a: cells.map((c) => c.i), b: cells.map((c) => c.j) },
    subsets: Array(9).fill('chat'),
  };
}

describe('the style matrix of a dataset report (hand-computed)', () => {
  it('the tree is the verbosity stump the comments describe', () => {
    expect(verbosityTree.exportText()).toMatch(/verbosity <= 0\.000/);
    expect(verbosityTree.predictProba([0, 0, 0, 0, 1])).toBe(1);
    expect(verbosityTree.predictProba([0, 0, 0, 0, 0])).toBe(0);
  });

  const r = buildDatasetReport(verbosityTree, input(), { bootstrap: 0 });
  const m = r.style.matrix!;

  it('puts each comparison in the cell of its chosen and rejected styles', () => {
    expect(m.styles).toEqual(['concise', 'detailed plain', 'detailed markdown']);
    expect(m.n).toBe(9);
    expect(m.cells.map((row) => row.map((c) => c.accuracy))).toEqual([
      [0.5, 0, 0],
      [1, 0.5, 0],
      [1, 1, 0.5],
    ]);
    expect(m.cells.flat().every((c) => c.n === 1 && c.styleShare === 1)).toBe(true);
    expect(m).toMatchObject({ hard: 0, normal: 0.5, easy: 1 });
    // Beside the report's own "decided by style": every decision went through verbosity.
    expect(r.style.share).toBe(1);
  });

  it('is shown in Markdown and HTML, and survives the JSON round trip and the JSON Schema', () => {
    const md = renderMarkdown(r);
    expect(md).toContain('### RM-Bench style matrix');
    expect(md).toContain('| concise | 50.0% (100.0% by style, 1) | 0.0% (100.0% by style, 1) | 0.0% (100.0% by style, 1) |');
    expect(md).toContain(
      'Hard (chosen plainer than rejected, above the diagonal) 0.0%, normal (same style) 50.0%, easy (chosen richer) 100.0%.',
    );
    const html = renderHtml(r);
    expect(html).toMatch(/<h3>RM-Bench style matrix<\/h3>[\s\S]*<table class="subsets style-matrix">/);
    const check = validateReport(JSON.parse(renderJson(r)));
    expect(check.success).toBe(true);
    if (check.success && check.report.kind === 'dataset') expect(check.report.style.matrix).toEqual(m);
    const validate = new Ajv2020.default({ allErrors: true, strict: false }).compile(reportJsonSchema());
    expect(validate(JSON.parse(renderJson(r)))).toBe(true);
  });

  it('is absent without styles, so other reports are unchanged', () => {
    const { styles: _styles, ...plain } = input();
    const report = buildDatasetReport(verbosityTree, plain, { bootstrap: 0 });
    expect('matrix' in report.style).toBe(false);
    expect(renderMarkdown(report)).not.toContain('style matrix');
  });

  it('checks the styles it is given', () => {
    expect(() =>
      buildDatasetReport(verbosityTree, { ...input(), styles: { a: [0, 1, 3, 0, 0, 0, 0, 0, 0], b: Array(9).fill(0) } }),
    ).toThrow(/styles\.a\[2\] must be 0, 1, 2 or null, got 3/);
  });
});

describe('dtr report on RM-Bench results', () => {
  it("reads chosenStyle / rejectedStyle (the chosen response's, whichever side it is on) and draws the matrix", async () => {
    const dir = tempDir();
    const tree = join(dir, 'verbosity.json');
    verbosityTree.save(tree);
    const rows = cells.map(({ i, j }, k) =>
      // The last comparison is written the other way round: b is the chosen response.
      k === 8
        ? {
            id: 'p1',
            subset: 'chat',
            chosenStyle: i,
            rejectedStyle: j,
            label: 'b',
            preference: 'b',
            rewards: { a: scores(j), b: scores(i) },
          }
        : {
            id: 'p1',
            subset: 'chat',
            chosenStyle: i,
            rejectedStyle: j,
            label: 'a',
            preference: 'a',
            rewards: { a: scores(i), b: scores(j) },
          },
    );
    const results = join(dir, 'rm-bench-results.jsonl');
    writeFileSync(results, rows.map((x) => JSON.stringify(x)).join('\n'));
    const parsed = datasetInputFromRows(
      parsePairRows(
        rows.map((value, k) => ({ line: k + 1, value })),
        'x',
        { need: 'scores' },
      ),
      'x',
    );
    expect(parsed.styles).toEqual({ a: [0, 0, 0, 1, 1, 1, 2, 2, 2], b: [0, 1, 2, 0, 1, 2, 0, 1, 2] });
    const out = join(dir, 'report.json');
    const r = await dtr(['report', '--tree', tree, '--pairs', results, '--bootstrap', '0', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.style.matrix.cells.map((row: { accuracy: number }[]) => row.map((c) => c.accuracy))).toEqual([
      [0.5, 0, 0],
      [1, 0.5, 0],
      [1, 1, 0.5],
    ]);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, JSON.stringify({ ...rows[0], chosenStyle: 'concise' }));
    const e = await dtr(['report', '--tree', tree, '--pairs', bad, '--out', join(dir, 'x.json')]);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/bad\.jsonl:1: chosenStyle and rejectedStyle must both be 0, 1 or 2 \(RM-Bench styles\)/);
  });
});
