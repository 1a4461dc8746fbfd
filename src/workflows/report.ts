/**
 * Reports on response texts: a model scores them, then the report is built on its rewards, with
 * the model recorded in the report's provenance. The library behind `dtr report --model`.
 *
 * May import: its own folder (workflows/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/. Never anything above (serve/ ... cli/) (test/import-graph.test.ts).
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { PairRow } from '../data/text-rows.js';
import { DtrError, type Issue } from '../errors.js';
import { sha256File } from '../io/hash.js';
import type { RewardModel } from '../model/reward-model.js';
import { buildComparisonReport, type ReportOptions } from '../report/comparison.js';
import { comparisonInputFromCompared, datasetInputFromRows } from '../report/input.js';
import type { TreeFileRecord } from '../report/provenance.js';
import type { ComparisonReport, DatasetInput } from '../report/types.js';
import type { Prompt } from '../text/prompt.js';
import { shippedTreesDir, type PreferenceTree } from '../tree/preference-tree.js';

/** Options of {@link modelComparisonReport} and {@link datasetInputFromModel}. */
export interface ModelReportOptions extends ReportOptions {
  /** Decide with this tree instead of the model's own. */
  tree?: PreferenceTree;
  /** {@link datasetInputFromModel}: called as pairs are scored (pairs done, total). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Scores two responses with a model and reports on the comparison, texts included.
 *
 * @example
 * ```ts
 * const report = await modelComparisonReport(model, { prompt: 'How many apples?', a: 'Three each.', b: 'Four each.' });
 * writeReport('why.html', report, 'html');
 * ```
 */
export async function modelComparisonReport(
  model: RewardModel,
  texts: { prompt: Prompt; a: string; b: string; label?: 'a' | 'b' },
  options: ModelReportOptions = {},
): Promise<ComparisonReport> {
  const tree = options.tree ?? model.tree;
  const { prompt, a, b } = texts;
  const result = await model.compare(prompt, a, b, { ...rule(options), tree });
  const shown = typeof prompt === 'string' ? prompt : prompt.map((m) => `${m.role}: ${m.content}`).join('\n\n');
  const input = comparisonInputFromCompared(result, {
    prompt: shown,
    responseA: a,
    responseB: b,
    source: scoredBy(model),
    ...(texts.label !== undefined ? { label: texts.label } : {}),
  });
  return buildComparisonReport(tree, input, {
    ...rule(options),
    ...title(options),
    ...(options.provenance ? { provenance: options.provenance } : {}),
  });
}

/**
 * Scores the pairs of text rows (`parsePairRows(..., { need: 'texts' })`) with a model: the
 * dataset a report is built on (`buildDatasetReport`), with each pair's rewards and truncation.
 * Every text the model cannot take is reported first, all at once with its `file:line`
 * ({@link checkPairTexts}).
 *
 * @example
 * ```ts
 * const rows = parsePairRows(readJsonl('text-pairs.jsonl'), 'text-pairs.jsonl', { need: 'texts' });
 * const input = await datasetInputFromModel(model, rows, 'text-pairs.jsonl');
 * const report = buildDatasetReport(model.tree, input, { bootstrap: 0 });
 * ```
 */
export async function datasetInputFromModel(
  model: RewardModel,
  rows: readonly PairRow[],
  source: string,
  options: ModelReportOptions = {},
): Promise<DatasetInput> {
  checkPairTexts(rows, source, model);
  const results = await model.compareMany(
    rows.map((r) => ({ prompt: r.messages ?? r.prompt!, a: r.textA!, b: r.textB! })),
    { ...rule(options), tree: options.tree ?? model.tree, ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
  );
  return datasetInputFromRows(rows, `${source}, ${scoredBy(model)}`, results);
}

/**
 * Checks every text of pair rows as the model reads it (empty, NUL, lone surrogates, special
 * tokens ...), before any scoring.
 * @throws DtrError `E_DATA` listing every problem with its `file:line`.
 *
 * @example
 * ```ts
 * checkPairTexts(rows, 'text-pairs.jsonl', model); // throws: text-pairs.jsonl: 1 problem with the texts, nothing was scored; ...
 * ```
 */
export function checkPairTexts(rows: readonly PairRow[], source: string, model: RewardModel): void {
  const issues: Issue[] = [];
  for (const r of rows) {
    for (const [side, text] of [
      ['a', r.textA],
      ['b', r.textB],
    ] as const) {
      try {
        model.encoder.checkedConversation(r.messages ?? r.prompt, text, { prompt: r.messages ? 'messages' : 'prompt', response: side });
      } catch (e) {
        issues.push({ path: `${source}:${r.line}`, message: (e as Error).message });
      }
    }
  }
  if (issues.length > 0) {
    throw new DtrError(
      'E_DATA',
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'} with the texts, nothing was scored; first at ${issues[0]!.path}: ${issues[0]!.message}`,
      { issues },
    );
  }
}

/**
 * The file a model's own tree was loaded from, for a report's provenance: `trees/NAME.json` when
 * shipped, else its path inside the model folder as the user named the folder (`dirArg`).
 *
 * @example
 * ```ts
 * modelTreeFileRecord(model, 'models/fixture'); // { file: 'models/fixture/tree.json', sha256: '…' }
 * ```
 */
export function modelTreeFileRecord(model: RewardModel, dirArg: string): TreeFileRecord | null {
  const path = model.files.tree;
  if (path === null) return null;
  const inShipped = relative(shippedTreesDir(), path);
  if (!inShipped.startsWith('..') && !isAbsolute(inShipped)) return { file: `trees/${inShipped}`, sha256: sha256File(path) };
  const inFolder = relative(resolve(dirArg === '' ? '.' : dirArg), path);
  return { file: !inFolder.startsWith('..') && !isAbsolute(inFolder) ? join(dirArg, inFolder) : path, sha256: sha256File(path) };
}

const scoredBy = (model: RewardModel): string => `scored by ${model.config.name} on ${model.provider}`;

function rule(options: ReportOptions): { symmetric?: boolean; tieBand?: number } {
  return {
    ...(options.symmetric !== undefined ? { symmetric: options.symmetric } : {}),
    ...(options.tieBand !== undefined ? { tieBand: options.tieBand } : {}),
  };
}

function title(options: ReportOptions): { title?: string } {
  return options.title !== undefined ? { title: options.title } : {};
}
