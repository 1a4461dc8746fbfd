/**
 * `dtr report`: an explanation report (HTML, Markdown or JSON) for one comparison or a dataset, from
 * attribute scores, a comparison file or texts a model scores (report/, workflows/report.ts).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { basename, resolve } from 'node:path';
import type { AttributeScores } from '../attributes.js';
import { checkPairTexts, datasetInputFromModel, modelComparisonReport, modelTreeFileRecord } from '../workflows/report.js';
import { modelIdentity } from '../model/identity.js';
import { parsePairRows, type PairRow } from '../data/text-rows.js';
import { DtrError } from '../errors.js';
import { readJsonl } from '../io/jsonl.js';
import { currentCommandLine, dataFileRecord, type DataFileRecord } from '../provenance.js';
import { buildComparisonReport } from '../report/comparison.js';
import { bootstrapRefits, buildDatasetReport } from '../report/dataset.js';
import { datasetInputFromRows, readComparisonFile } from '../report/input.js';
import { treeFileRecord, type ReportProvenanceOptions, type TreeFileRecord } from '../report/provenance.js';
import { reportFormatFromPath, writeReport } from '../report/render.js';
import type { ComparisonInput, DatasetInput, Report, ReportFormat } from '../report/types.js';
import type { Prompt } from '../text/prompt.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import { defineCommand, type CliIO } from './args.js';
import { CARD_EXAMPLE, CARD_EXAMPLE_TEXTS } from './card-example.js';
import { MODEL_OPTIONS, loadModelArg, promptArg, responseArg, runSelfCheck } from './model-args.js';
import { createProgress, progressTo } from './progress.js';
import { f3, loadTreeArg, parseScoresArg, pathArg, pct, printJson, textArg } from './shared.js';

const DEFAULT_TREE = 'rlhflow-llama-3.1-8b';

export default defineCommand({
  name: 'report',
  summary: 'write an explanation report (HTML, Markdown or JSON) for one comparison or a dataset',
  description: `One comparison: the tree drawn with the decision path highlighted, both readings
of the symmetric rule, the attribute rewards side by side, what would flip the decision, and
the prompt and responses when given. From attribute rewards (--a/--b, --example), from a
\`dtr compare --json\` or \`dtr explain --json\` file (--from), or re-rendered from a report .json.

A dataset (--pairs FILE.jsonl, one {"a": {...}, "b": {...}, "label"?: "a"|"b", "subset"?: "..."}
per line): accuracy overall, per leaf and per subset (with labels), how often each path is taken,
impurity and bootstrap importances, the share decided by style (verbosity, complexity),
calibration, position consistency, the hardest disagreements, and with --compare-tree where two
trees decide differently and which splits make the difference.

With --model DIR the responses are scored first: --a and --b are then the response texts (with
--prompt or --messages), and --pairs rows are text pairs {"prompt": "...", "a": "...", "b": "...",
"label"?, "subset"?} ("messages": [...] may replace "prompt"). The model's tree is used unless
--tree is given; truncated responses are reported.

The format follows the --out extension (.html, .md, .json) unless --format is given. Text
values (--prompt, --a-text, --b-text) starting with @ are read from that file.`,
  options: {
    tree: {
      type: 'string',
      valueName: 'NAME|PATH',
      description: `shipped tree name or tree file (default ${DEFAULT_TREE}, or the tree a --from file names)`,
    },
    a: {
      type: 'string',
      valueName: 'JSON|TEXT',
      description: "response A's attribute rewards (JSON object or @file.json); with --model, response A's text (or @file)",
    },
    b: {
      type: 'string',
      valueName: 'JSON|TEXT',
      description: "response B's attribute rewards (JSON object or @file.json); with --model, response B's text (or @file)",
    },
    example: { type: 'boolean', description: "the model card's worked example (Jane's apples): rewards and texts" },
    prompt: {
      type: 'string',
      valueName: 'TEXT',
      description: 'the prompt, shown in the report (or @file); with --model, the prompt scored',
    },
    'a-text': { type: 'string', valueName: 'TEXT', description: 'response A, shown in the report (or @file)' },
    'b-text': { type: 'string', valueName: 'TEXT', description: 'response B, shown in the report (or @file)' },
    label: { type: 'string', choices: ['a', 'b'], description: 'which response was preferred, if known' },
    from: {
      type: 'string',
      valueName: 'FILE.json',
      description: '`dtr compare --json` / `dtr explain --json` output, or a report .json to re-render',
    },
    pairs: { type: 'string', valueName: 'FILE.jsonl', description: 'attribute pairs for a dataset report (with --model: text pairs)' },
    'compare-tree': { type: 'string', valueName: 'NAME|PATH', description: 'a second tree to compare decisions with (dataset reports)' },
    out: { type: 'string', valueName: 'FILE', description: 'report to write: .html, .md or .json', required: true },
    format: { type: 'string', choices: ['html', 'md', 'json'], description: 'output format (default: from the --out extension)' },
    asymmetric: { type: 'boolean', description: 'use the published rule p = f(a-b) instead of the symmetric one' },
    'tie-band': { type: 'number', min: 0, below: 0.5, valueName: 'X', description: 'call it a tie when |p - 0.5| <= X', default: 0 },
    bootstrap: {
      type: 'integer',
      min: 0,
      valueName: 'N',
      description: 'bootstrap refits for importance intervals (labelled pairs)',
      default: 100,
    },
    seed: { type: 'integer', min: 0, description: 'seed of the bootstrap', default: 0 },
    hardest: { type: 'integer', min: 0, valueName: 'N', description: 'hardest disagreements to list', default: 10 },
    examples: { type: 'integer', min: 0, valueName: 'N', description: 'tree disagreements to list with --compare-tree', default: 10 },
    title: { type: 'string', description: 'page title' },
    ...MODEL_OPTIONS,
    model: {
      ...MODEL_OPTIONS.model,
      required: false,
      description: 'model folder: score response texts (--a/--b, or --pairs text rows) instead of taking rewards',
    },
    messages: {
      type: 'string',
      valueName: 'JSON|@FILE',
      description: 'with --model: the prompt as a JSON array of {"role", "content"} chat messages',
    },
  },
  examples: [
    'dtr report --example --out why.html',
    `dtr report --tree helpsteer2-human --a '{"helpfulness":3,"correctness":3,"coherence":4,"complexity":2,"verbosity":2}' --b '{"helpfulness":2,"correctness":3,"coherence":4,"complexity":1,"verbosity":1}' --out why.md`,
    'dtr report --from compare.json --out why.html',
    'dtr report --tree helpsteer2-human --pairs pairs.jsonl --compare-tree rlhflow-llama-3.1-8b --out dataset.html',
    "dtr report --model models/fixture --prompt 'How many apples?' --a 'Three each.' --b 'Four each.' --out why.html",
    'dtr report --model models/fixture --pairs text-pairs.jsonl --compare-tree helpsteer2-human --out dataset.html',
  ],
  async run(opts, io) {
    const modes = [
      opts.example || opts.a !== undefined || opts.b !== undefined ? '--a/--b/--example' : null,
      opts.from !== undefined ? '--from' : null,
      opts.pairs !== undefined ? '--pairs' : null,
    ].filter((m): m is string => m !== null);
    if (modes.length === 0) {
      throw new DtrError(
        'E_USAGE',
        'dtr report: say what to report on: --a and --b (or --example), --from FILE.json, or --pairs FILE.jsonl',
        { hint: "run 'dtr report --help' for usage" },
      );
    }
    if (modes.length > 1) throw new DtrError('E_USAGE', `dtr report: give one of ${modes.join(', ')}, not several`);
    if (opts['compare-tree'] !== undefined && opts.pairs === undefined)
      throw new DtrError('E_USAGE', 'dtr report: --compare-tree compares decisions on a dataset: use it with --pairs');
    if (opts.model !== undefined) {
      if (opts.from !== undefined) throw new DtrError('E_USAGE', 'dtr report: --from reads rewards already computed: it takes no --model');
      if (opts['a-text'] !== undefined || opts['b-text'] !== undefined)
        throw new DtrError(
          'E_USAGE',
          'dtr report: with --model, --a and --b are the response texts: --a-text/--b-text are for --tree reports',
        );
    } else if (opts.messages !== undefined) {
      throw new DtrError(
        'E_USAGE',
        'dtr report: --messages is the prompt a model scores: use it with --model (or give --prompt to show a prompt)',
      );
    }
    const format: ReportFormat = (opts.format as ReportFormat | undefined) ?? reportFormatFromPath(opts.out);
    const rule = { symmetric: !opts.asymmetric, tieBand: opts['tie-band'] };
    const title = opts.title !== undefined ? { title: opts.title } : {};

    // How the report is made, recorded in it: the command line, the files read, the trees' files.
    const prov: MakeProvenance = (data, treeFile, extra = {}) => ({
      source: 'dtr report',
      command: currentCommandLine(io.argv),
      data: [...data, ...textFileRecords(opts, io)],
      treeFile,
      ...(opts['compare-tree'] !== undefined ? { compareTreeFile: treeFileRecord(opts['compare-tree'], io.cwd) } : {}),
      ...extra,
    });

    let report: Report;
    if (opts.model !== undefined) {
      report = await modelReport(opts as ModelReportOptions, io, rule, title, prov);
    } else if (opts.pairs !== undefined) {
      const tree = loadTreeArg(opts.tree ?? DEFAULT_TREE, io);
      const compareTree = opts['compare-tree'] !== undefined ? loadTreeArg(opts['compare-tree'], io) : undefined;
      const rows = parsePairRows(readJsonl(pathArg(io, opts.pairs)), opts.pairs, { need: 'scores' });
      const input = datasetInputFromRows(rows, basename(opts.pairs));
      const data = [dataFileRecord(opts.pairs, { readFrom: pathArg(io, opts.pairs), rows: rows.length, role: 'pairs' })];
      report = datasetReport(
        tree,
        input,
        rows,
        opts,
        io,
        rule,
        title,
        compareTree,
        prov(data, treeFileRecord(opts.tree ?? DEFAULT_TREE, io.cwd)),
      );
    } else if (opts.from !== undefined) {
      const file = readComparisonFile(pathArg(io, opts.from), opts.from);
      if (file.kind === 'report') {
        // A finished report keeps the provenance it was made with: re-rendering changes no content.
        if (opts.tree !== undefined)
          io.stderr(`dtr report: warning: ${opts.from} is a finished report: --tree is ignored, it is re-rendered as it is\n`);
        report = file.report;
      } else {
        const treeArg = opts.tree ?? treeNamed(file.tree, io) ?? DEFAULT_TREE;
        const tree = loadTreeArg(treeArg, io);
        const input = withTexts(file.input, opts, io);
        warnMissingTexts(opts.from, input, io);
        const data = [dataFileRecord(opts.from, { readFrom: pathArg(io, opts.from), role: 'comparison' })];
        report = buildComparisonReport(tree, input, { ...rule, ...title, provenance: prov(data, treeFileRecord(treeArg, io.cwd)) });
        if (
          file.probability !== null &&
          Math.abs(file.probability - report.decision.probability) > 1e-9 &&
          Math.abs(file.probability - report.decision.publishedProbability) > 1e-9
        ) {
          report.warnings.push(
            `${opts.from} records P(A) = ${f3(file.probability)} but ${tree.name} gives ${f3(report.decision.probability)} here: was it made with another tree or rule?`,
          );
        }
      }
    } else {
      let a: AttributeScores;
      let b: AttributeScores;
      let texts: Pick<ComparisonInput, 'prompt' | 'responseA' | 'responseB'> = {};
      if (opts.example) {
        if (opts.a !== undefined || opts.b !== undefined)
          throw new DtrError('E_USAGE', 'dtr report: give either --example or --a and --b, not both');
        ({ a, b } = CARD_EXAMPLE);
        texts = { prompt: CARD_EXAMPLE_TEXTS.prompt, responseA: CARD_EXAMPLE_TEXTS.a, responseB: CARD_EXAMPLE_TEXTS.b };
      } else {
        if (opts.a === undefined || opts.b === undefined)
          throw new DtrError(
            'E_USAGE',
            `dtr report: --${opts.a === undefined ? 'a' : 'b'} is missing: give both --a and --b (or --example)`,
          );
        a = parseScoresArg('a', opts.a, io);
        b = parseScoresArg('b', opts.b, io);
      }
      const tree = loadTreeArg(opts.tree ?? DEFAULT_TREE, io);
      const input = withTexts({ a, b, ...texts }, opts, io);
      report = buildComparisonReport(tree, input, {
        ...rule,
        ...title,
        provenance: prov([], treeFileRecord(opts.tree ?? DEFAULT_TREE, io.cwd)),
      });
    }

    for (const w of report.warnings) io.stderr(`dtr report: warning: ${w}\n`);
    const outPath = pathArg(io, opts.out);
    const written = writeReport(outPath, report, format);
    if (opts.json) {
      printJson(io, {
        out: opts.out,
        format,
        bytes: written.bytes,
        kind: report.kind,
        title: report.title,
        summary: summary(report),
        warnings: report.warnings,
      });
      return 0;
    }
    io.stdout(`wrote ${opts.out} (${format}, ${kb(written.bytes)}): ${describeReport(report)}\n`);
    return 0;
  },
});

/** A shipped tree or existing tree file named in a --from document; null when it cannot be found. */
function treeNamed(name: string | null, io: CliIO): string | null {
  if (name === null) return null;
  try {
    loadTreeArg(name, io);
    return name;
  } catch {
    io.stderr(
      `dtr report: warning: the file names tree '${name}', which is not shipped or found: using ${DEFAULT_TREE} (give --tree to choose)\n`,
    );
    return null;
  }
}

function withTexts(
  input: ComparisonInput,
  opts: { prompt?: string | undefined; 'a-text'?: string | undefined; 'b-text'?: string | undefined; label?: string | undefined },
  io: CliIO,
): ComparisonInput {
  const out: ComparisonInput = { ...input };
  if (opts.prompt !== undefined) out.prompt = textArg(io, 'prompt', opts.prompt);
  if (opts['a-text'] !== undefined) out.responseA = textArg(io, 'a-text', opts['a-text']);
  if (opts['b-text'] !== undefined) out.responseB = textArg(io, 'b-text', opts['b-text']);
  if (opts.label !== undefined) out.label = opts.label as 'a' | 'b';
  return out;
}

/** The `@file` values of the text and reward flags, as data files of the report's provenance. */
function textFileRecords(opts: Record<string, unknown>, io: CliIO): DataFileRecord[] {
  const out: DataFileRecord[] = [];
  for (const flag of ['prompt', 'messages', 'a', 'b', 'a-text', 'b-text']) {
    const v = opts[flag];
    if (typeof v === 'string' && v.startsWith('@'))
      out.push(dataFileRecord(v.slice(1), { readFrom: resolve(io.cwd, v.slice(1)), role: `--${flag}` }));
  }
  return out;
}

/**
 * A --from document without texts (`dtr explain --json`, or `dtr compare --json` of older
 * versions) makes a report without them: say so, and how to add them.
 */
function warnMissingTexts(from: string, input: ComparisonInput, io: CliIO): void {
  const missing = (
    [
      ['the prompt', input.prompt, '--prompt'],
      ['response A', input.responseA, '--a-text'],
      ['response B', input.responseB, '--b-text'],
    ] as const
  ).filter(([, text]) => text === null || text === undefined);
  if (missing.length === 0) return;
  const list = (xs: readonly string[], and: string): string =>
    xs.length === 1 ? xs[0]! : `${xs.slice(0, -1).join(', ')} ${and} ${xs.at(-1)}`;
  const flags = list(
    missing.map(([, , flag]) => flag),
    'and',
  );
  io.stderr(
    missing.length === 3
      ? `dtr report: warning: ${from} holds no prompt or response texts, so the report will show none: give them with ${flags} (a text, or @file to read one); \`dtr compare --json\` output carries them, \`dtr explain --json\` output does not\n`
      : `dtr report: warning: ${from} holds no text for ${list(
          missing.map(([name]) => name),
          'or',
        )}, so the report will not show ${missing.length === 1 ? 'it' : 'them'}: give ${flags} (a text, or @file to read one)\n`,
  );
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function describeReport(r: Report): string {
  if (r.kind === 'comparison') {
    const d = r.decision;
    const who = d.preference === 'tie' ? 'tie' : `${d.preference.toUpperCase()} preferred`;
    return `${who}, P(A) = ${f3(d.probability)} with ${r.tree.name} (leaf ${r.leaf.node})`;
  }
  const parts = [`${r.data.n.toLocaleString('en-US')} pairs with ${r.tree.name}`, `${pct(r.decisions.a / r.data.n)} A`];
  parts.push(r.accuracy ? `accuracy ${f3(r.accuracy.accuracy)}` : 'no labels');
  parts.push(`decided by style ${pct(r.style.share)}`);
  if (r.comparison) parts.push(`agreement with ${r.comparison.otherName} ${pct(r.comparison.agreement)}`);
  return parts.join(', ');
}

function summary(r: Report): Record<string, unknown> {
  if (r.kind === 'comparison')
    return {
      tree: r.tree.name,
      preference: r.decision.preference,
      probability: r.decision.probability,
      publishedProbability: r.decision.publishedProbability,
      leaf: r.leaf.node,
    };
  return {
    tree: r.tree.name,
    n: r.data.n,
    labelled: r.data.labelled,
    decisions: r.decisions,
    accuracy: r.accuracy?.accuracy ?? null,
    styleShare: r.style.share,
    positionConsistency: r.positionConsistency.published,
    ece: r.calibration?.ece ?? null,
    agreement: r.comparison?.agreement ?? null,
  };
}

/** The report's provenance from the files read and the tree's file (command line, text files and compared tree added). */
type MakeProvenance = (
  data: DataFileRecord[],
  treeFile: TreeFileRecord | null,
  extra?: Partial<ReportProvenanceOptions>,
) => ReportProvenanceOptions;

type ModelReportOptions = Parameters<typeof loadModelArg>[0] & {
  tree?: string | undefined;
  a?: string | undefined;
  b?: string | undefined;
  example: boolean;
  prompt?: string | undefined;
  messages?: string | undefined;
  label?: string | undefined;
  pairs?: string | undefined;
  'compare-tree'?: string | undefined;
  bootstrap: number;
  seed: number;
  hardest: number;
  examples: number;
  'self-check'?: boolean | undefined;
  tolerance: number;
};

/** `--model DIR`: score the texts (one pair, or every row of --pairs), then report on the rewards. */
async function modelReport(
  opts: ModelReportOptions,
  io: CliIO,
  rule: { symmetric: boolean; tieBand: number },
  title: { title?: string },
  prov: MakeProvenance,
): Promise<Report> {
  const model = await loadModelArg(opts, io, 'report');
  try {
    const tree = opts.tree !== undefined ? loadTreeArg(opts.tree, io) : model.tree;
    // The model's identity is the reward cache's key: the same hash names the same rewards.
    const modelRecord = { path: opts.model, name: model.config.name, identity: modelIdentity(model).rewards, provider: model.provider };
    const treeFile = opts.tree !== undefined ? treeFileRecord(opts.tree, io.cwd) : modelTreeFileRecord(model, opts.model);
    const provenance = (data: DataFileRecord[]): ReportProvenanceOptions => prov(data, treeFile, { model: modelRecord });
    if (opts.pairs === undefined) {
      let prompt: Prompt;
      let a: string;
      let b: string;
      if (opts.example) {
        if (opts.a !== undefined || opts.b !== undefined || opts.prompt !== undefined || opts.messages !== undefined) {
          throw new DtrError(
            'E_USAGE',
            'dtr report: --example brings its own prompt and responses: give no --prompt, --messages, --a or --b',
          );
        }
        ({ prompt, a, b } = CARD_EXAMPLE_TEXTS);
      } else {
        if (opts.a === undefined || opts.b === undefined)
          throw new DtrError(
            'E_USAGE',
            `dtr report: --${opts.a === undefined ? 'a' : 'b'} is missing: with --model give both response texts (or --example)`,
          );
        prompt = promptArg(io, 'report', opts.prompt, opts.messages);
        a = responseArg(io, 'report', 'a', opts.a);
        b = responseArg(io, 'report', 'b', opts.b);
      }
      if (opts['self-check'])
        await runSelfCheck(
          model,
          [
            { prompt, response: a },
            { prompt, response: b },
          ],
          opts.tolerance,
          io,
          'report',
        );
      return await modelComparisonReport(
        model,
        { prompt, a, b, ...(opts.label !== undefined ? { label: opts.label as 'a' | 'b' } : {}) },
        { ...rule, ...title, tree, provenance: provenance([]) },
      );
    }
    const rows = parsePairRows(readJsonl(pathArg(io, opts.pairs)), opts.pairs, { need: 'texts' });
    if (opts['self-check']) {
      // Text problems are reported before the self-check runs (datasetInputFromModel checks them again).
      checkPairTexts(rows, opts.pairs, model);
      const sample = rows.slice(0, 4).flatMap((r) => [
        { prompt: r.messages ?? r.prompt!, response: r.textA! },
        { prompt: r.messages ?? r.prompt!, response: r.textB! },
      ]);
      await runSelfCheck(model, sample, opts.tolerance, io, 'report');
    }
    const progress = progressTo(io, { label: 'score', unit: 'pairs', total: rows.length });
    const input = await datasetInputFromModel(model, rows, basename(opts.pairs), { ...rule, tree, onProgress: progress.update });
    progress.done();
    const compareTree = opts['compare-tree'] !== undefined ? loadTreeArg(opts['compare-tree'], io) : undefined;
    const data = [dataFileRecord(opts.pairs, { readFrom: pathArg(io, opts.pairs), rows: rows.length, role: 'text pairs' })];
    return datasetReport(tree, input, rows, opts, io, rule, title, compareTree, provenance(data));
  } finally {
    await model.dispose();
  }
}

/** A dataset report, with a progress bar for its bootstrap refits (as many as `bootstrapRefits` says). */
function datasetReport(
  tree: PreferenceTree,
  input: DatasetInput,
  rows: readonly PairRow[],
  opts: { bootstrap: number; seed: number; hardest: number; examples: number },
  io: CliIO,
  rule: { symmetric: boolean; tieBand: number },
  title: { title?: string },
  compareTree: PreferenceTree | undefined,
  provenance: ReportProvenanceOptions,
): Report {
  const labelled = rows.filter((r) => r.label !== null).length;
  const refits = bootstrapRefits(labelled, opts.bootstrap);
  const progress = refits > 0 ? createProgress(io, refits, { label: 'bootstrap', unit: 'refits' }) : null;
  const report = buildDatasetReport(tree, input, {
    ...rule,
    ...title,
    ...(compareTree ? { compareTree } : {}),
    bootstrap: opts.bootstrap,
    seed: opts.seed,
    hardest: opts.hardest,
    examples: opts.examples,
    provenance,
    ...(progress ? { onBootstrapProgress: () => progress.tick() } : {}),
  });
  progress?.done();
  return report;
}
