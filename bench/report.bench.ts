/**
 * Report speed. Goal (issue: Explanation reports): a 10,000-pair dataset report renders in
 * seconds. Times building (with and without the 100-refit bootstrap and a second tree) and
 * rendering HTML, Markdown and JSON, on synthetic labelled pairs with short texts, and on the
 * HelpSteer2 subset when ../shared/data is present. There is no peer implementation to compare
 * with, so the figures are printed against the goal (2 s for build + HTML without bootstrap).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATTRIBUTES } from '../src/attributes.js';
import { runCli } from '../src/cli/main.js';
import { ATTRIBUTE_COUNT } from '../src/attributes.js';
import { buildComparisonReport } from '../src/report/comparison.js';
import { buildDatasetReport, type DatasetReportOptions } from '../src/report/dataset.js';
import { renderHtml } from '../src/report/html.js';
import { datasetInputFromRows } from '../src/report/input.js';
import { parsePairRows } from '../src/data/text-rows.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderJson } from '../src/report/render.js';
import type { DatasetInput } from '../src/report/types.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { SeededRandom } from '../src/util/random.js';
import { median, timeRuns, type BenchContext } from './context.js';

const GOAL_MS = 2000;

function synthetic(n: number, seed: number): DatasetInput {
  const rng = new SeededRandom(seed);
  const a = new Float64Array(n * ATTRIBUTE_COUNT);
  const b = new Float64Array(n * ATTRIBUTE_COUNT);
  const labels = new Uint8Array(n);
  const subsets: string[] = [];
  const prompt: string[] = [];
  const ta: string[] = [];
  const tb: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
      a[i * ATTRIBUTE_COUNT + k] = 2 + rng.normal();
      b[i * ATTRIBUTE_COUNT + k] = 2 + rng.normal();
      s += [1.5, 0.8, 0.3, 0.1, 0.2][k]! * (a[i * ATTRIBUTE_COUNT + k]! - b[i * ATTRIBUTE_COUNT + k]!);
    }
    labels[i] = s + 0.8 * rng.normal() > 0 ? 1 : 0;
    subsets.push(['chat', 'chat-hard', 'safety', 'reasoning'][i % 4]!);
    prompt.push(`prompt ${i}: ${'why is the sky blue? '.repeat(10)}`);
    ta.push(`answer A ${i}: ${'Rayleigh scattering. '.repeat(40)}`);
    tb.push(`answer B ${i}: ${'Because it reflects the sea. '.repeat(40)}`);
  }
  return {
    n,
    a,
    b,
    labels,
    subsets,
    texts: { prompt, a: ta, b: tb },
    ids: subsets.map((_, i) => `row-${i}`),
    source: `synthetic-${n}.jsonl`,
  };
}

function row(ctx: BenchContext, label: string, ms: number, extra = ''): void {
  ctx.print(`${label.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms${extra}`);
}

export default async function (ctx: BenchContext): Promise<void> {
  const llama = PreferenceTree.load('rlhflow-llama-3.1-8b');
  const human = PreferenceTree.load('helpsteer2-human');
  const runs = ctx.quick ? 2 : 5;
  const n = ctx.quick ? 2000 : 10_000;
  const input = synthetic(n, 1);

  const single = buildComparisonReport(llama, {
    a: { helpfulness: 3.96, correctness: 3.97, coherence: 3.86, complexity: 0.99, verbosity: 1.49 },
    b: { helpfulness: 2.17, correctness: 2.2, coherence: 3.2, complexity: 0.88, verbosity: 1.46 },
  });
  row(
    ctx,
    'single comparison: build + HTML',
    median(await timeRuns(() => renderHtml(buildComparisonReport(llama, { a: single.rewards.a, b: single.rewards.b })), 50, 5)),
  );

  const plain: DatasetReportOptions = { bootstrap: 0, compareTree: human };
  const build = median(await timeRuns(() => buildDatasetReport(llama, input, plain), runs));
  const report = buildDatasetReport(llama, input, plain);
  const html = median(await timeRuns(() => renderHtml(report), runs));
  const md = median(await timeRuns(() => renderMarkdown(report), runs));
  const json = median(await timeRuns(() => renderJson(report), runs));
  const total = build + html;
  row(ctx, `${n} pairs: build (with --compare-tree, no bootstrap)`, build);
  row(ctx, `${n} pairs: render HTML (${(renderHtml(report).length / 1024).toFixed(0)} KB)`, html);
  row(ctx, `${n} pairs: render Markdown`, md);
  row(ctx, `${n} pairs: render JSON`, json);
  row(
    ctx,
    `${n} pairs: build + HTML`,
    total,
    `   goal <= ${GOAL_MS} ms: ${total <= GOAL_MS ? 'met' : 'MISSED'} (${(total / GOAL_MS).toFixed(3)} of the goal)`,
  );
  const boot = median(await timeRuns(() => buildDatasetReport(llama, input, { ...plain, bootstrap: 100 }), ctx.quick ? 1 : 3, 0));
  row(ctx, `${n} pairs: build with 100 bootstrap refits`, boot);

  // End to end: `dtr report --pairs` on a 10k-row JSONL file (read, validate, bootstrap 100, write HTML).
  const dir = mkdtempSync(join(tmpdir(), 'dtr-bench-report-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const side = (x: Float64Array): Record<string, number> =>
        Object.fromEntries(ATTRIBUTES.map((k, j) => [k, x[i * ATTRIBUTE_COUNT + j]!]));
      lines.push(
        JSON.stringify({
          id: `row-${i}`,
          subset: input.subsets![i],
          a: side(input.a),
          b: side(input.b),
          label: input.labels![i] === 1 ? 'a' : 'b',
          prompt: input.texts!.prompt[i],
          response_a: input.texts!.a[i],
          response_b: input.texts!.b[i],
        }),
      );
    }
    const file = join(dir, 'pairs.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const io = { stdout: () => {}, stderr: () => {}, stderrIsTTY: false, cwd: dir };
    const cli = median(
      await timeRuns(
        async () => {
          const code = await runCli(['report', '--pairs', file, '--compare-tree', 'helpsteer2-human', '--out', join(dir, 'r.html')], io);
          if (code !== 0) throw new Error(`dtr report exited ${code}`);
        },
        ctx.quick ? 1 : 3,
        0,
      ),
    );
    row(ctx, `dtr report --pairs (${n} rows, ${(readFileSync(file).length / 1048576).toFixed(1)} MB JSONL, bootstrap 100)`, cli);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (ctx.sharedData) {
    const file = join(ctx.sharedData, 'helpsteer2-subset', 'train.json');
    const records = JSON.parse(readFileSync(file, 'utf8')) as Array<{ labels: Array<Record<string, number>> }>;
    const rows = records.map((r, i) => ({
      line: i + 1,
      value: {
        a: Object.fromEntries(Object.entries(r.labels[0]!).map(([k, v]) => [k, v * 4])),
        b: Object.fromEntries(Object.entries(r.labels[1]!).map(([k, v]) => [k, v * 4])),
      },
    }));
    const hs = datasetInputFromRows(parsePairRows(rows, 'train.json', { need: 'scores' }), 'train.json');
    const t = median(await timeRuns(() => renderHtml(buildDatasetReport(human, hs, { compareTree: llama })), runs));
    row(ctx, `HelpSteer2 subset (${hs.n} pairs, no labels): build + HTML`, t);
  } else {
    ctx.print('HelpSteer2 subset: skipped (../shared/data not found)');
  }
}
