/**
 * `dtr decontaminate`: training prompts that share an n-gram run with evaluation prompts
 * (eval/decontaminate.ts), and the filtered set written out.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { resolve } from 'node:path';
import { DtrError } from '../errors.js';
import {
  findContamination,
  readRecordsFile,
  writeFiltered,
  type ContaminationMatch,
  type ContaminationReport,
} from '../eval/decontaminate.js';
import { dataFileRecord } from '../provenance.js';
import { defineCommand } from './args.js';
import { createProgress } from './progress.js';
import { pathArg, pct, printJson, table } from './shared.js';

export default defineCommand({
  name: 'decontaminate',
  summary: 'find training prompts that share an n-gram run with evaluation prompts; write the filtered set',
  description: `Lists the training rows whose prompt shares a run of --ngram words with a prompt of
--against (or is identical to one), counts them per training source (the "source" field), and
with --out writes the training file without them, atomically, in its own form (JSONL lines
verbatim, or a JSON array). Words: NFKC, lower case, letters and digits; each CJK character is a
word. A prompt shorter than --ngram words matches only an identical prompt. A run found in more
than --common evaluation prompts is template text (an instruction the benchmark repeats in every
prompt), not a leak, and is ignored.

Prompts are read from "prompt" (or question, instruction, input, a chat list's user turns, or the
Human turns of an HH-RLHF "chosen" transcript); --field names another field.`,
  options: {
    train: { type: 'string', valueName: 'FILE', description: 'training rows (JSONL or a JSON array)', required: true },
    against: {
      type: 'string',
      valueName: 'FILE',
      description: 'evaluation rows whose prompts must not leak into training',
      required: true,
    },
    ngram: { type: 'integer', min: 1, valueName: 'N', description: 'words in a shared run', default: 13 },
    common: {
      type: 'integer',
      min: 0,
      valueName: 'K',
      description: 'ignore runs found in more than K evaluation prompts (template text); 0 keeps all',
      default: 10,
    },
    out: { type: 'string', valueName: 'FILE', description: 'write the training rows that are not contaminated here' },
    field: { type: 'string', valueName: 'NAME', description: 'field holding the prompt in both files (default: detected)' },
    'source-field': { type: 'string', valueName: 'NAME', description: "field naming a training row's source", default: 'source' },
    show: { type: 'integer', min: 0, valueName: 'N', description: 'contaminated rows listed in the text report', default: 20 },
  },
  examples: [
    'dtr decontaminate --train docs/examples/train-prompts.jsonl --against docs/examples/rewardbench-sample.jsonl',
    'dtr decontaminate --train train.jsonl --against eval.jsonl --ngram 8 --out train.clean.jsonl --json',
  ],
  async run(opts, io) {
    const trainPath = pathArg(io, opts.train);
    const againstPath = pathArg(io, opts.against);
    if (opts.out !== undefined && resolve(pathArg(io, opts.out)) === resolve(trainPath)) {
      throw new DtrError('E_USAGE', 'dtr decontaminate: --out must differ from --train (the removed rows would be lost)', {
        hint: 'write the filtered set to a new file',
      });
    }
    const readOptions = { ...(opts.field !== undefined ? { field: opts.field } : {}), sourceField: opts['source-field'] };
    const train = readRecordsFile(trainPath, { ...readOptions, name: opts.train });
    const against = readRecordsFile(againstPath, { ...readOptions, name: opts.against });
    const progress = createProgress(io, train.records.length, { label: 'decontaminate', unit: 'rows' });
    const report = findContamination(train.records, against.records, {
      ngram: opts.ngram,
      common: opts.common,
      onProgress: () => progress.tick(),
    });
    progress.done();
    let kept: number | null = null;
    if (opts.out !== undefined) kept = writeFiltered(train, report, pathArg(io, opts.out));
    const warnings: string[] = [];
    if (report.trainWithoutPrompt.length > 0) {
      warnings.push(
        `${report.trainWithoutPrompt.length} training row${report.trainWithoutPrompt.length === 1 ? ' has' : 's have'} no prompt and could not be checked (kept): ${report.trainWithoutPrompt
          .slice(0, 5)
          .map((r) => r.where)
          .join(', ')}${report.trainWithoutPrompt.length > 5 ? ', …' : ''}`,
      );
    }
    if (report.againstWithoutPrompt.length > 0) {
      warnings.push(
        `${report.againstWithoutPrompt.length} evaluation row${report.againstWithoutPrompt.length === 1 ? ' has' : 's have'} no prompt: ${report.againstWithoutPrompt
          .slice(0, 5)
          .map((r) => r.where)
          .join(', ')}${report.againstWithoutPrompt.length > 5 ? ', …' : ''}`,
      );
    }
    if (opts.json) {
      printJson(io, {
        ...contaminationJson(report),
        train: dataFileRecord(opts.train, { rows: train.records.length, role: 'train', readFrom: trainPath }),
        against: dataFileRecord(opts.against, { rows: against.records.length, role: 'evaluation', readFrom: againstPath }),
        out: opts.out ?? null,
        kept,
        warnings,
      });
    } else {
      io.stdout(renderContamination(report, opts.train, opts.against, opts.show));
      if (opts.out !== undefined) io.stdout(`wrote ${opts.out} (${kept} rows kept, ${report.matches.length} removed)\n`);
    }
    for (const w of warnings) io.stderr(`dtr decontaminate: warning: ${w}\n`);
    return 0;
  },
});

/** The `--json` form of a contamination report: counts, and every match with where it is. */
export function contaminationJson(report: ContaminationReport): Record<string, unknown> {
  return {
    ngram: report.ngram,
    common: report.common,
    ignored: report.ignored,
    trainRows: report.trainRows,
    againstRows: report.againstRows,
    contaminated: report.matches.length,
    bySource: report.bySource,
    byAgainstSubset: report.byAgainstSubset,
    matches: report.matches.map((m) => ({
      train: { where: m.train.where, id: m.train.id, source: m.train.source },
      against: { where: m.against.where, id: m.against.id, subset: m.against.subset },
      kind: m.kind,
      overlap: m.overlap,
    })),
    trainWithoutPrompt: report.trainWithoutPrompt.map((r) => r.where),
    againstWithoutPrompt: report.againstWithoutPrompt.map((r) => r.where),
  };
}

/** The human-readable report of `dtr decontaminate`. */
export function renderContamination(report: ContaminationReport, trainName: string, againstName: string, show: number): string {
  const lines: string[] = [];
  const c = report.matches.length;
  lines.push(
    `${report.ngram}-gram overlap of ${report.trainRows} training rows (${trainName}) with ${report.againstRows} evaluation prompts (${againstName})`,
  );
  if (report.ignored.count > 0) {
    lines.push(
      `ignored ${report.ignored.count} template run${report.ignored.count === 1 ? '' : 's'} found in more than ${report.common} evaluation prompts, e.g. "${report.ignored.examples[0]}"`,
    );
  }
  lines.push(`contaminated: ${c} of ${report.trainRows} training rows (${pct(report.trainRows ? c / report.trainRows : 0)})`, '');
  const sources = Object.entries(report.bySource).sort((x, y) => y[1].contaminated - x[1].contaminated || x[0].localeCompare(y[0]));
  lines.push(
    table(
      ['source', 'rows', 'contaminated', 'share'],
      sources.map(([name, s]) => [name, String(s.rows), String(s.contaminated), pct(s.rows ? s.contaminated / s.rows : 0)]),
    ),
  );
  const subsets = Object.entries(report.byAgainstSubset).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  if (subsets.length > 0) lines.push('', `evaluation subsets overlapped: ${subsets.map(([s, k]) => `${s} ${k}`).join(', ')}`);
  if (c > 0 && show > 0) {
    lines.push('', `contaminated rows${c > show ? ` (first ${show} of ${c}; --json lists all)` : ''}:`);
    for (const m of report.matches.slice(0, show)) lines.push(`  ${describeMatch(m)}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeMatch(m: ContaminationMatch): string {
  const src = m.train.source ? ` [${m.train.source}]` : '';
  const target = `${m.against.where}${m.against.subset ? ` (${m.against.subset})` : ''}`;
  const words = m.overlap.length > 80 ? `${m.overlap.slice(0, 80)}…` : m.overlap;
  return m.kind === 'identical'
    ? `${m.train.where}${src} identical to ${target}: "${words}"`
    : `${m.train.where}${src} shares "${words}" with ${target}`;
}
