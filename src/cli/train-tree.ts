/**
 * `dtr train-tree`: a preference tree fitted on labelled attribute pairs (or text pairs a model scores) and
 * written as a tree file (workflows/train-tree.ts).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { DtrError } from '../errors.js';
import { readAttributePairs, type AttributePairs } from '../data/pairs.js';
import { checkAgainst } from '../eval/decontaminate.js';
import { EVAL_FORMATS } from '../data/datasets.js';
import { swapPolicy, trainTree, type TrainReport } from '../workflows/train-tree.js';
import { renderTrainReport, trainReportJson } from './train-tree-report.js';
import { refuseTexts, scoreTextFiles, type TextFlags, type TextScoring } from './train-tree-texts.js';
import { currentCommandLine, dataFileRecord, makeProvenance, type DataFileRecord } from '../provenance.js';
import { defineCommand, flagError } from './args.js';
import { MODEL_OPTIONS, BACKBONE_OPTIONS } from './model-args.js';
import { createProgress } from './progress.js';
import { pathArg, printJson } from './shared.js';

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

    const swaps = swapPolicy(pairs, {
      augmentSwaps: opts['augment-swaps'] || undefined,
      preferredFirst: scoring?.train.preferredFirst,
      source: opts.pairs,
    });
    if (swaps.note) io.stderr(`dtr train-tree: note: ${swaps.note}\n`);

    const progress = opts.bootstrap > 0 ? createProgress(io, opts.bootstrap, { label: 'bootstrap', unit: 'refits' }) : null;
    const notes: string[] = [];
    if (opts['val-fraction'] !== undefined) notes.push(`validation: ${opts['val-fraction']} of --pairs held out (seed ${opts.seed})`);
    if (opts['augment-swaps']) notes.push('trained on each pair and its mirror (b, a)');
    if (swaps.note) notes.push(swaps.note);
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
        augmentSwaps: opts['augment-swaps'] || undefined,
        preferredFirst: scoring?.train.preferredFirst,
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
    // The contamination warning goes before trainTree's one-class warning (its last, when given).
    const oneClass = report.warnings.at(-1)?.startsWith('if the data puts the preferred response first') ? 1 : 0;
    if (contamination?.warning) report.warnings.splice(report.warnings.length - oneClass, 0, contamination.warning);
    if (scoring) report.warnings.unshift(...scoring.warnings);
    for (const w of report.warnings) io.stderr(`dtr train-tree: warning: ${w}\n`);
    report.tree.save(pathArg(io, opts.out));
    if (opts.json) {
      printJson(io, {
        ...trainReportJson(report, opts.out),
        augmentSwaps: report.swaps,
        ...(contamination ? { contamination: contamination.summary } : {}),
        ...(scoring ? { scoring: scoring.json } : {}),
      });
      return 0;
    }
    const swapLine = swaps.automatic
      ? `swap augmentation: chosen/rejected rows (every label a), so each pair was also trained mirrored (b, a): ${pairs.n} pairs -> ${2 * pairs.n} rows\n`
      : '';
    io.stdout(`${scoring ? `${scoring.summary}\n${swapLine}\n` : ''}${renderTrainReport(report, opts.out)}`);
    return 0;
  },
});
