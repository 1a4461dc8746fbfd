/**
 * `dtr train-tree`: a preference tree fitted on labelled attribute pairs (or text pairs a model scores) and
 * written as a tree file (workflows/train-tree.ts).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import { DtrError } from '../errors.js';
import { readAttributePairs, type AttributePairs } from '../data/pairs.js';
import { checkAgainst } from '../eval/decontaminate.js';
import { detectEvalFormat, EVAL_FORMATS, readEvalSet, type EvalFormat, type EvalSet } from '../data/datasets.js';
import { readJsonl } from '../io/jsonl.js';
import type { ScoredTextPairs } from '../workflows/score-pairs.js';
import { scoreTrainingPairs, trainTree, type SplitMetrics, type TrainReport } from '../workflows/train-tree.js';
import { currentCommandLine, dataFileRecord, makeProvenance, type DataFileRecord } from '../provenance.js';
import { defineCommand, flagError, type CliIO } from './args.js';
import { batchFlags, loadModelArg, MODEL_OPTIONS, BACKBONE_OPTIONS, type ModelFlags } from './model-args.js';
import { createProgress, progressTo, type RunningProgress } from './progress.js';
import { exact } from '../util/format.js';
import { f3, pathArg, printJson, table } from './shared.js';

export default defineCommand({
  name: 'train-tree',
  summary: 'fit a preference tree on attribute pairs (JSONL) and write a tree file',
  description: `Reads labelled attribute pairs, one per line:
  {"a": {"helpfulness": 3.1, "correctness": 3, "coherence": 3.5, "complexity": 1.2, "verbosity": 1.4},
   "b": {...}, "label": "a" | "b"}
(human integer ratings or model rewards), fits a tree on the differences a - b and writes it
atomically with its provenance. Prints accuracy, log loss, Brier score, position consistency,
importances and the tree.

With --model DIR, --pairs (and --val) hold response texts instead, in any of these layouts
(detected from the first row, or --format):
  {"prompt": "...", "chosen": "...", "rejected": "..."}                 RewardBench and most preference sets (a = chosen;
                                                                         trained on both orders, see below)
  {"prompt": "...", "response_1": "...", "response_2": "...", "preference_strength": -3..3}   HelpSteer2-Preference
  {"prompt": "...", "a": "...", "b": "...", "label": "a" | "b" | "tie"}
Both responses are scored with the model, then the tree is fitted on their attribute rewards
exactly as above. Rewards are cached on disk by content (the model's identity + the
conversation) in --cache (default .dtr-cache), so another run over the same pairs, e.g. with
other tree parameters, runs no backbone at all. Pairs rated equal (label "tie", strength 0) are
counted and skipped; truncated conversations are counted. Chosen/rejected rows put the preferred
response first, so every label is "a" and a tree would see one class: for that layout each pair is
also trained mirrored (b, a) with the label flipped, automatically (as --augment-swaps does), and
this is said on stderr and recorded in the tree's provenance notes.`,
  options: {
    pairs: {
      type: 'string',
      path: 'input',
      valueName: 'FILE.jsonl',
      description: 'labelled attribute pairs (with --model: text pairs)',
      required: true,
    },
    out: { type: 'string', path: 'output', valueName: 'PATH', description: 'tree file to write (e.g. trees/mine.json)', required: true },
    criterion: { type: 'string', choices: ['log_loss', 'gini'], description: 'split criterion', default: 'log_loss' },
    'max-depth': { type: 'integer', min: 1, max: 64, description: 'maximum depth', default: 3 },
    'min-samples-leaf': { type: 'integer', min: 1, description: 'minimum pairs per leaf', default: 1 },
    'min-samples-split': { type: 'integer', min: 2, description: 'minimum pairs to split a node', default: 2 },
    'min-impurity-decrease': { type: 'number', min: 0, description: 'minimum weighted impurity decrease of a split', default: 0 },
    val: { type: 'string', path: 'input', valueName: 'FILE.jsonl', description: 'validation pairs' },
    'val-fraction': { type: 'number', above: 0, below: 1, valueName: 'F', description: 'hold out this share of --pairs for validation' },
    'augment-swaps': { type: 'boolean', description: 'also train on every pair mirrored (b, a) with the label flipped' },
    bootstrap: {
      type: 'integer',
      min: 0,
      valueName: 'N',
      description: 'bootstrap refits for importance intervals (the blog used 100)',
      default: 0,
    },
    seed: { type: 'integer', min: 0, description: 'seed for --val-fraction and --bootstrap', default: 0 },
    name: { type: 'string', description: 'name stored in the tree file (default: the file name)' },
    description: { type: 'string', description: 'description stored in the tree file' },
    against: {
      type: 'string',
      path: 'input',
      valueName: 'FILE',
      description: 'evaluation set: warn when training prompts share a 13-gram with its prompts',
    },
    model: { ...MODEL_OPTIONS.model, required: false, description: 'model folder: --pairs/--val hold response texts, scored with it' },
    head: MODEL_OPTIONS.head,
    provider: MODEL_OPTIONS.provider,
    'max-length': MODEL_OPTIONS['max-length'],
    'batch-size': MODEL_OPTIONS['batch-size'],
    'max-tokens-per-batch': MODEL_OPTIONS['max-tokens-per-batch'],
    'padding-side': MODEL_OPTIONS['padding-side'],
    ...BACKBONE_OPTIONS,
    format: { type: 'string', choices: EVAL_FORMATS, description: 'with --model: layout of the text pairs (default: detected)' },
    cache: { type: 'string', valueName: 'DIR', description: 'with --model: reward cache folder (default .dtr-cache)' },
    'no-cache': { type: 'boolean', description: 'with --model: neither read nor write the reward cache' },
  },
  examples: [
    'dtr train-tree --pairs pairs.jsonl --out trees/mine.json',
    'dtr train-tree --pairs train.jsonl --val val.jsonl --out trees/mine.json --bootstrap 100 --json',
    'dtr train-tree --model models/fixture --pairs preferences.jsonl --out trees/mine.json --val-fraction 0.2',
  ],
  async run(opts, io) {
    if (opts.val !== undefined && opts['val-fraction'] !== undefined) {
      throw new DtrError('E_USAGE', 'dtr train-tree: give either --val or --val-fraction, not both');
    }
    const pairsPath = pathArg(io, opts.pairs);
    const modelFlags = (
      ['head', 'provider', 'max-length', 'batch-size', 'max-tokens-per-batch', 'padding-side', 'format', 'cache', 'no-cache'] as const
    ).filter((f) => opts[f] !== undefined && opts[f] !== false);
    if (opts.model === undefined && modelFlags.length > 0)
      throw new DtrError('E_USAGE', `dtr train-tree: --${modelFlags[0]} applies to text pairs scored with --model DIR`);
    if (opts.cache !== undefined && opts['no-cache'])
      throw new DtrError('E_USAGE', 'dtr train-tree: give --cache DIR or --no-cache, not both');
    let pairs: AttributePairs;
    let validation: AttributePairs | undefined;
    let scoring: TextScoring | null = null;
    if (opts.model !== undefined) {
      scoring = await scoreTextFiles(opts as TextFlags & { model: string }, io);
      pairs = scoring.train.pairs;
      validation = scoring.validation?.pairs;
    } else {
      refuseTexts(pairsPath, opts.pairs);
      pairs = readAttributePairs(pairsPath, { requireLabels: true });
      if (opts.val !== undefined) refuseTexts(pathArg(io, opts.val), opts.val);
      validation = opts.val !== undefined ? readAttributePairs(pathArg(io, opts.val), { requireLabels: true }) : undefined;
    }
    const data: DataFileRecord[] = [dataFileRecord(opts.pairs, { rows: pairs.n, role: 'train', readFrom: pairsPath })];
    if (opts.val !== undefined && validation)
      data.push(dataFileRecord(opts.val, { rows: validation.n, role: 'validation', readFrom: pathArg(io, opts.val) }));
    if (scoring) data.push(...scoring.records);
    const contamination =
      opts.against !== undefined
        ? checkAgainst(pairsPath, pathArg(io, opts.against), { trainName: opts.pairs, againstName: opts.against })
        : null;
    if (contamination)
      data.push(
        dataFileRecord(opts.against!, {
          rows: contamination.againstRows,
          role: 'decontamination-check',
          readFrom: pathArg(io, opts.against!),
        }),
      );

    // Chosen/rejected rows are all labelled a by construction: alone they give a one-class,
    // single-leaf tree. Both orders carry the same preferences and two classes.
    const autoSwaps = scoring !== null && scoring.train.preferredFirst && !opts['augment-swaps'];
    const augment = opts['augment-swaps'] || autoSwaps;
    const autoSwapNote = `${opts.pairs} holds {prompt, chosen, rejected} rows, whose labels are all a (chosen first): trained on each pair and its mirror (b, a) with the label flipped (automatic swap augmentation, as --augment-swaps; ${pairs.n} pairs -> ${2 * pairs.n} rows)`;
    if (autoSwaps) io.stderr(`dtr train-tree: note: ${autoSwapNote}\n`);

    const progress = opts.bootstrap > 0 ? createProgress(io, opts.bootstrap, { label: 'bootstrap', unit: 'refits' }) : null;
    const notes: string[] = [];
    if (opts['val-fraction'] !== undefined) notes.push(`validation: ${opts['val-fraction']} of --pairs held out (seed ${opts.seed})`);
    if (opts['augment-swaps']) notes.push('trained on each pair and its mirror (b, a)');
    if (autoSwaps) notes.push(autoSwapNote);
    if (contamination) notes.push(contamination.note);
    if (scoring) notes.push(scoring.note);
    const name = opts.name ?? opts.out.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
    let report: TrainReport;
    try {
      report = trainTree(pairs, {
        criterion: opts.criterion as 'log_loss' | 'gini',
        maxDepth: opts['max-depth'],
        minSamplesLeaf: opts['min-samples-leaf'],
        minSamplesSplit: opts['min-samples-split'],
        minImpurityDecrease: opts['min-impurity-decrease'],
        ...(validation ? { validation } : {}),
        ...(opts['val-fraction'] !== undefined ? { valFraction: opts['val-fraction'] } : {}),
        augmentSwaps: augment,
        bootstrap: opts.bootstrap,
        seed: opts.seed,
        name,
        description: opts.description ?? `fitted by dtr train-tree on ${opts.pairs}`,
        provenance: makeProvenance(
          'fitted by dtr train-tree',
          data,
          currentCommandLine(io.argv),
          notes.length ? notes.join('; ') : undefined,
        ),
        ...(progress ? { onBootstrapProgress: () => progress.tick() } : {}),
      });
    } catch (e) {
      // --val-fraction's range cannot rule out a split left empty by few pairs.
      throw (opts['val-fraction'] !== undefined ? flagError(e, 'train-tree', { valFraction: 'val-fraction' }) : null) ?? e;
    }
    progress?.done();
    if (contamination?.warning) report.warnings.push(contamination.warning);
    if (!augment && pairs.labels.every((l) => l === pairs.labels[0])) {
      report.warnings.push(
        'if the data puts the preferred response first by construction (as chosen/rejected sets do), --augment-swaps trains on each pair in both orders',
      );
    }
    if (scoring) report.warnings.unshift(...scoring.warnings);
    for (const w of report.warnings) io.stderr(`dtr train-tree: warning: ${w}\n`);
    report.tree.save(pathArg(io, opts.out));
    if (opts.json) {
      printJson(io, {
        ...trainReportJson(report, opts.out),
        augmentSwaps: { applied: augment, automatic: autoSwaps },
        ...(contamination ? { contamination: contamination.summary } : {}),
        ...(scoring ? { scoring: scoring.json } : {}),
      });
      return 0;
    }
    const swapLine = autoSwaps
      ? `swap augmentation: chosen/rejected rows (every label a), so each pair was also trained mirrored (b, a): ${pairs.n} pairs -> ${2 * pairs.n} rows\n`
      : '';
    io.stdout(`${scoring ? `${scoring.summary}\n${swapLine}\n` : ''}${renderTrainReport(report, opts.out)}`);
    return 0;
  },
});

/** The `--json` document of `dtr train-tree`. */
export function trainReportJson(report: TrainReport, out: string): Record<string, unknown> {
  return {
    out,
    n: { train: report.trainN, validation: report.validationN },
    train: report.train,
    validation: report.validation,
    importances: report.importances,
    bootstrap: report.bootstrap,
    warnings: report.warnings,
    tree: exact(report.tree.toJSON()), // the artifact, as written: full precision
    text: report.tree.exportText({ details: true }),
  };
}

/** The human-readable report of `dtr train-tree`. */
export function renderTrainReport(report: TrainReport, out: string): string {
  const t = report.tree;
  const lines: string[] = [];
  lines.push(
    `fitted ${t.name}: ${t.criterion}, max depth ${t.params.maxDepth}, ${t.leaves().length} leaves, on ${report.trainN} pairs${report.validationN ? `, validated on ${report.validationN}` : ''}`,
  );
  lines.push('');
  const metric = (m: SplitMetrics | null, key: keyof SplitMetrics): string => (m ? f3(m[key] as number) : '-');
  const rows: Array<[string, keyof SplitMetrics]> = [
    ['accuracy', 'accuracy'],
    ['accuracy (symmetric rule)', 'symmetricAccuracy'],
    ['log loss', 'logLoss'],
    ['Brier score', 'brier'],
    ['calibration error (ECE)', 'ece'],
    ['position consistency', 'positionConsistency'],
  ];
  lines.push(
    table(
      ['', 'train', 'validation'],
      rows.map(([label, key]) => [label, metric(report.train, key), metric(report.validation, key)]),
    ),
  );
  lines.push('');
  lines.push('importances (impurity decrease):');
  const boot = report.bootstrap;
  const impRows = ATTRIBUTES.map((a) => {
    const row = [a, f3(report.importances[a])];
    if (boot) row.push(`${f3(boot.mean[a])} ± ${f3(boot.std[a])}`, `[${f3(boot.lower[a])}, ${f3(boot.upper[a])}]`, f3(boot.rootShare[a]));
    return row;
  });
  const header = boot ? ['', 'tree', `bootstrap mean (${boot.refits} refits)`, '95% interval', 'root share'] : ['', 'tree'];
  lines.push(table(header, impRows).replace(/^/gm, '  '));
  lines.push('', 'tree:', t.exportText({ details: true }).trimEnd(), '', `wrote ${out}`);
  return `${lines.join('\n')}\n`;
}

type TextFlags = ModelFlags & {
  pairs: string;
  val?: string | undefined;
  format?: string | undefined;
  cache?: string | undefined;
  'no-cache': boolean;
  json: boolean;
};

/** Text pairs scored with a model: the attribute pairs, and what to report and record. */
interface TextScoring {
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
function refuseTexts(path: string, name: string): void {
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
async function scoreTextFiles(opts: TextFlags, io: CliIO): Promise<TextScoring> {
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
    const parts: Array<[string, ScoredTextPairs]> = [
      [opts.pairs, s.train],
      ...(s.validation ? [[opts.val!, s.validation] as [string, ScoredTextPairs]] : []),
    ];
    const counts = (p: ScoredTextPairs): Record<string, unknown> => ({
      pairs: p.pairs.n,
      ties: p.ties.length,
      tieLines: p.ties.map((t) => t.line),
      conversations: p.conversations,
      distinct: p.distinct,
      cacheHits: p.cacheHits,
      computed: p.computed,
      truncatedPairs: p.truncatedLines.length,
      truncatedLines: p.truncatedLines,
    });
    const describe = (file: string, p: ScoredTextPairs): string =>
      `${file}: ${p.pairs.n} pairs (${p.distinct} distinct conversations): ${p.cacheHits} from the cache, ${p.computed} run through the backbone; ${p.ties.length} tie${p.ties.length === 1 ? '' : 's'} skipped; ${p.truncatedLines.length} truncated`;
    const summary = [
      `scored with ${model.config.name} (${model.provider}, backbone ${model.config.backbone.id}${model.head ? `, head ${model.head.name}` : ''}), cache ${s.cache === null ? 'off' : cacheName}:`,
      ...parts.map(([file, p]) => `  ${describe(file, p)}`),
    ].join('\n');
    const json = {
      model: {
        dir: opts.model,
        name: model.config.name,
        backbone: model.config.backbone.id,
        head: model.head?.name ?? null,
        identity: s.identity.rewards,
        provider: model.provider,
        maxLength: model.maxLength,
      },
      cache: s.cache === null ? null : { dir: cacheName, path: s.cache.path, entries: s.cache.entries },
      train: counts(s.train),
      validation: s.validation ? counts(s.validation) : null,
    };
    return { train: s.train, validation: s.validation, records: s.records, note: s.note, warnings: s.warnings, summary, json };
  } finally {
    await model.dispose();
  }
}
