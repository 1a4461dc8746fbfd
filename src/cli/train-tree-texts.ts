/**
 * The text-pair half of `dtr train-tree`: with `--model`, --pairs and --val hold response texts,
 * read as preference sets and scored through the reward cache (workflows/train-tree.ts's
 * `scoreTrainingPairs`) with a progress bar per file; without it, a file of texts is refused
 * with what to do.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { detectEvalFormat, readEvalSet, type EvalFormat, type EvalSet } from '../data/datasets.js';
import { DtrError } from '../errors.js';
import { readJsonl } from '../io/jsonl.js';
import type { DataFileRecord } from '../provenance.js';
import type { ScoredTextPairs } from '../workflows/score-pairs.js';
import { scoreTrainingPairs } from '../workflows/train-tree.js';
import type { CliIO } from './args.js';
import { batchFlags, loadModelArg, type ModelFlags } from './model-args.js';
import { progressTo, type RunningProgress } from './progress.js';
import { pathArg } from './shared.js';
import { scoringReport } from './train-tree-report.js';

export type TextFlags = ModelFlags & {
  pairs: string;
  val?: string | undefined;
  format?: string | undefined;
  cache?: string | undefined;
  'no-cache': boolean;
  json: boolean;
};

/** Text pairs scored with a model: the attribute pairs, and what to report and record. */
export interface TextScoring {
  train: ScoredTextPairs;
  validation: ScoredTextPairs | null;
  /** Provenance records of the model. */
  records: DataFileRecord[];
  note: string;
  warnings: string[];
  summary: string;
  json: Record<string, unknown>;
}

/** Refuses a file of text pairs without --model, saying what to do (instead of one error per row). */
export function refuseTexts(path: string, name: string): void {
  const first = readJsonl(path)[0]!.value as Record<string, unknown> | null;
  const format = detectEvalFormat(first);
  // Every layout but attribute-score pairs holds response texts.
  const texts = format !== null && (format !== 'pairs' || typeof first?.a === 'string');
  if (texts) {
    throw new DtrError(
      'E_USAGE',
      `dtr train-tree: ${name} holds response texts (${format} rows), which a model must score first: give --model DIR`,
      {
        hint: 'without --model, rows are attribute pairs {"a": {"helpfulness": ...}, "b": {...}, "label": "a"|"b"}',
      },
    );
  }
}

/** Reads --pairs (and --val) as text pairs and scores them with --model through the reward cache. */
export async function scoreTextFiles(opts: TextFlags, io: CliIO): Promise<TextScoring> {
  const format = opts.format as EvalFormat | undefined;
  const read = (file: string): EvalSet => {
    const set = readEvalSet(pathArg(io, file), format, file, { strict: false });
    if (set.kind !== 'text') {
      throw new DtrError(
        'E_USAGE',
        `dtr train-tree: ${file} holds attribute scores, not response texts: drop --model (attribute pairs need no model)`,
      );
    }
    return set;
  };
  const train = { name: opts.pairs, set: read(opts.pairs) };
  const validation = opts.val !== undefined ? { name: opts.val, set: read(opts.val) } : null;
  const model = await loadModelArg(opts, io, 'train-tree');
  try {
    const cacheName = opts.cache ?? '.dtr-cache';
    // One progress bar per file, finished when the next file starts or scoring ends.
    let bar: { file: string; progress: RunningProgress } | null = null;
    const s = await scoreTrainingPairs(model, train, validation, {
      ...batchFlags(opts),
      cacheDir: opts['no-cache'] ? null : pathArg(io, cacheName),
      modelDir: opts.model,
      onWarning: (m) => io.stderr(`dtr train-tree: warning: ${m}\n`),
      onProgress: (file, done, total) => {
        if (bar?.file !== file) {
          bar?.progress.done();
          bar = { file, progress: progressTo(io, { label: `scoring ${file}`, unit: 'conversations', quiet: opts.json }) };
        }
        bar.progress.update(done, total);
      },
    });
    (bar as { progress: RunningProgress } | null)?.progress.done();
    const { summary, json } = scoringReport(model, s, {
      dir: opts.model,
      cache: cacheName,
      files: [opts.pairs, ...(s.validation ? [opts.val!] : [])],
    });
    return { train: s.train, validation: s.validation, records: s.records, note: s.note, warnings: s.warnings, summary, json };
  } finally {
    await model.dispose();
  }
}
