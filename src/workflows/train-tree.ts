/**
 * Making a tree file: fitting on labelled attribute pairs with validation, swap augmentation
 * and bootstrap importances (`trainTree`), and, for pairs of response texts, scoring them with a
 * model through the reward cache first (`scoreTrainingPairs`), with what the tree's provenance
 * records about that model. The library behind `dtr train-tree`.
 *
 * May import: its own folder (workflows/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/. Never anything above (serve/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTE_COUNT, type AttributeScores } from '../attributes.js';
import type { EvalSet } from '../data/datasets.js';
import { augmentSwaps, selectPairs, type AttributePairs } from '../data/pairs.js';
import { pairMetrics, positionConsistency, type PairMetrics } from '../eval/metrics.js';
import { MODEL_CONFIG_FILE } from '../model/config.js';
import type { RewardModel } from '../model/reward-model.js';
import type { BatchOptions } from '../model/types.js';
import { dataFileRecord, type DataFileRecord, type Provenance } from '../provenance.js';
import { probabilityOf } from '../tree/decision.js';
import { bootstrapImportances, type BootstrapImportances } from '../tree/importance.js';
import { PreferenceTree, type FitOptions } from '../tree/preference-tree.js';
import { lineList } from '../util/format.js';
import { SeededRandom } from '../util/random.js';
import { modelIdentity, type ModelIdentity } from '../model/identity.js';
import { RewardCache } from './reward-cache.js';
import { scoreTextPairs, type ScoredTextPairs } from './score-pairs.js';

/** Metrics of a tree on one split of the data. */
export interface SplitMetrics extends PairMetrics {
  /** Share of pairs whose decision mirrors when a and b are swapped (published rule). */
  positionConsistency: number;
  /** Accuracy under the symmetric rule. */
  symmetricAccuracy: number;
}

/** Options of {@link trainTree}. */
export interface TrainOptions extends Omit<FitOptions, 'sampleWeight' | 'metrics'> {
  /** Validation pairs; or use `valFraction`. */
  validation?: AttributePairs;
  /** Hold out this share of the pairs (shuffled with `seed`) for validation. */
  valFraction?: number;
  /**
   * Add each training pair mirrored (b, a) with the label flipped. Default: only for
   * `preferredFirst` pairs (see {@link swapPolicy}).
   */
  augmentSwaps?: boolean;
  /**
   * The pairs put the preferred response first by construction ({prompt, chosen, rejected}
   * rows: every label a), so alone they give a one-class tree: trained in both orders unless
   * `augmentSwaps` says otherwise.
   */
  preferredFirst?: boolean;
  /** Bootstrap refits for importance intervals (0 = none). */
  bootstrap?: number;
  seed?: number;
  onBootstrapProgress?: (done: number, total: number) => void;
}

/** Everything `dtr train-tree` reports. */
export interface TrainReport {
  tree: PreferenceTree;
  trainN: number;
  validationN: number;
  train: SplitMetrics;
  validation: SplitMetrics | null;
  importances: AttributeScores;
  bootstrap: BootstrapImportances | null;
  warnings: string[];
  /** Whether the pairs were also trained mirrored, and whether that was decided for preferred-first pairs. */
  swaps: { applied: boolean; automatic: boolean };
}

/** What {@link swapPolicy} decided. */
export interface SwapPolicy {
  /** Train on each pair and its mirror (b, a). */
  augment: boolean;
  /** Decided for preferred-first pairs, not asked for. */
  automatic: boolean;
  /** With `automatic`: the note said on stderr and recorded in the tree's provenance. */
  note: string | null;
}

/**
 * The swap-augmentation policy of {@link trainTree} (and `dtr train-tree`): chosen/rejected rows
 * are all labelled a by construction, and alone give a one-class, single-leaf tree; both orders
 * carry the same preferences and two classes, so such pairs are trained mirrored too unless
 * `augmentSwaps` is given. `source` names the pairs in the note.
 *
 * @example
 * ```ts
 * swapPolicy(pairs, { preferredFirst: true, source: 'prefs.jsonl' }).augment; // true
 * ```
 */
export function swapPolicy(
  pairs: Pick<AttributePairs, 'n'>,
  options: { augmentSwaps?: boolean | undefined; preferredFirst?: boolean | undefined; source?: string | undefined },
): SwapPolicy {
  const automatic = options.preferredFirst === true && options.augmentSwaps === undefined;
  const note = automatic
    ? `${options.source ?? 'the pairs'} holds {prompt, chosen, rejected} rows, whose labels are all a (chosen first): trained on each pair and its mirror (b, a) with the label flipped (automatic swap augmentation, as --augment-swaps; ${pairs.n} pairs -> ${2 * pairs.n} rows)`
    : null;
  return { augment: automatic || options.augmentSwaps === true, automatic, note };
}

/** The warning for one-class training pairs that no mirror balances, or null. */
function oneClassWarning(pairs: AttributePairs, augment: boolean): string | null {
  if (augment || !pairs.labels.every((l) => l === pairs.labels[0])) return null;
  return 'if the data puts the preferred response first by construction (as chosen/rejected sets do), --augment-swaps trains on each pair in both orders';
}

/** Metrics of `tree` on labelled pairs. */
export function splitMetrics(tree: PreferenceTree, pairs: AttributePairs): SplitMetrics {
  const forward = tree.predictProbaBatch(pairs.deltas);
  const swapped = tree.predictProbaBatch(pairs.deltas.map((x) => -x));
  const symmetric = new Float64Array(pairs.n);
  for (let i = 0; i < pairs.n; i++)
    symmetric[i] = probabilityOf(tree, pairs.deltas.subarray(i * ATTRIBUTE_COUNT, (i + 1) * ATTRIBUTE_COUNT), true);
  return {
    ...pairMetrics(forward, pairs.labels),
    positionConsistency: positionConsistency(forward, swapped),
    symmetricAccuracy: pairMetrics(symmetric, pairs.labels).accuracy,
  };
}

/**
 * Fits a preference tree on labelled attribute pairs and measures it: the library behind
 * `dtr train-tree`.
 *
 * @example
 * ```ts
 * const pairs = readAttributePairs('pairs.jsonl', { requireLabels: true });
 * const report = trainTree(pairs, { valFraction: 0.2, seed: 0, bootstrap: 100 });
 * report.validation?.accuracy;
 * report.tree.save('trees/mine.json');
 * ```
 */
export function trainTree(pairs: AttributePairs, options: TrainOptions = {}): TrainReport {
  const {
    validation: givenVal,
    valFraction,
    augmentSwaps: augmentOption,
    preferredFirst,
    bootstrap = 0,
    seed = 0,
    onBootstrapProgress,
    provenance,
    ...fit
  } = options;
  if (!pairs.labelled) throw new RangeError('every training pair needs a label ("a" or "b")');
  const { augment, automatic } = swapPolicy(pairs, { augmentSwaps: augmentOption, preferredFirst });
  if (givenVal && valFraction !== undefined) throw new TypeError('give either validation pairs or valFraction, not both');
  let train = pairs;
  let validation: AttributePairs | null = givenVal ?? null;
  if (valFraction !== undefined) {
    if (!(valFraction > 0 && valFraction < 1)) throw new RangeError(`valFraction must be in (0, 1), got ${valFraction}`);
    const order = new SeededRandom(seed).shuffle(Int32Array.from({ length: pairs.n }, (_, i) => i));
    const k = Math.round(valFraction * pairs.n);
    if (k < 1 || k >= pairs.n) throw new RangeError(`valFraction ${valFraction} of ${pairs.n} pairs leaves an empty split`);
    validation = selectPairs(pairs, order.subarray(0, k));
    train = selectPairs(pairs, order.subarray(k));
  }
  if (validation && !validation.labelled) throw new RangeError('every validation pair needs a label ("a" or "b")');
  const fitted = augment ? augmentSwaps(train) : train;
  const params = { ...fit, ...(provenance ? { provenance } : {}) } as FitOptions & { provenance?: Provenance };
  let tree = PreferenceTree.fitArrays(fitted.deltas, fitted.labels, params);
  const trainMetrics = splitMetrics(tree, train);
  const valMetrics = validation ? splitMetrics(tree, validation) : null;
  tree = tree.with({
    metrics: {
      n: fitted.n,
      trainAccuracy: trainMetrics.accuracy,
      validationAccuracy: valMetrics?.accuracy ?? null,
      validationN: validation?.n ?? null,
      trainLogLoss: trainMetrics.logLoss,
      validationLogLoss: valMetrics?.logLoss ?? null,
      trainBrier: trainMetrics.brier,
      validationBrier: valMetrics?.brier ?? null,
      trainPositionConsistency: trainMetrics.positionConsistency,
    },
  });
  const boot =
    bootstrap > 0
      ? bootstrapImportances(fitted.deltas, fitted.labels, {
          ...fit,
          refits: bootstrap,
          seed,
          ...(onBootstrapProgress ? { onProgress: onBootstrapProgress } : {}),
        })
      : null;
  return {
    tree,
    trainN: fitted.n,
    validationN: validation?.n ?? 0,
    train: trainMetrics,
    validation: valMetrics,
    importances: tree.featureImportances(),
    bootstrap: boot,
    warnings: [...tree.warnings, ...[oneClassWarning(pairs, augment)].filter((w) => w !== null)],
    swaps: { applied: augment, automatic },
  };
}

/** A file of text pairs to train on: the set read from it, and the name it is shown and recorded by. */
export interface TrainingTexts {
  name: string;
  set: EvalSet;
}

/** Options of {@link scoreTrainingPairs}. */
export interface TrainingScoreOptions extends Pick<BatchOptions, 'batchSize' | 'maxTokensPerBatch' | 'paddingSide'> {
  /** The reward cache's root folder (e.g. `.dtr-cache`); null scores without a cache. */
  cacheDir: string | null;
  /** The model folder as the user named it, for the provenance records (default: `model.dir`). */
  modelDir?: string;
  /** Conversations scored so far of one file (its `name`), and how many it has to score. */
  onProgress?: (file: string, done: number, total: number) => void;
  /** Receives the cache's warnings (an unreadable segment: its rewards are recomputed). */
  onWarning?: (message: string) => void;
}

/** Text pairs scored for training, and what a tree fitted on them records about their scoring. */
export interface TrainingScores {
  train: ScoredTextPairs;
  validation: ScoredTextPairs | null;
  identity: ModelIdentity;
  /** Provenance records of the model: its content identity, dtr.json and head. */
  records: DataFileRecord[];
  /** The provenance note: which model scored the pairs, and what was skipped. */
  note: string;
  /** Ties skipped and conversations truncated, per file. */
  warnings: string[];
  /** The cache used: its folder and entries after the run (null without a cache). */
  cache: { path: string; entries: number } | null;
}

/**
 * Scores text pairs (and validation pairs) with a model into attribute pairs to train on,
 * through the reward cache keyed by the model's identity, so another run over the same pairs,
 * e.g. with other tree parameters, runs no backbone at all.
 *
 * @example
 * ```ts
 * const set = readEvalSet('prefs.jsonl', undefined, 'prefs.jsonl', { strict: false });
 * const s = await scoreTrainingPairs(model, { name: 'prefs.jsonl', set }, null, { cacheDir: '.dtr-cache' });
 * const report = trainTree(s.train.pairs, { valFraction: 0.2, augmentSwaps: s.train.preferredFirst });
 * s.warnings; // ['prefs.jsonl: 3 pairs rated equal (tie) skipped: ...']
 * ```
 */
export async function scoreTrainingPairs(
  model: RewardModel,
  train: TrainingTexts,
  validation: TrainingTexts | null,
  options: TrainingScoreOptions,
): Promise<TrainingScores> {
  const identity = modelIdentity(model);
  const cache =
    options.cacheDir === null
      ? null
      : RewardCache.open(options.cacheDir, identity, options.onWarning ? { onWarning: options.onWarning } : {});
  const batch = {
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.maxTokensPerBatch !== undefined ? { maxTokensPerBatch: options.maxTokensPerBatch } : {}),
    ...(options.paddingSide !== undefined ? { paddingSide: options.paddingSide } : {}),
  };
  const score = (file: TrainingTexts): Promise<ScoredTextPairs> =>
    scoreTextPairs(model, file.set, {
      ...batch,
      cache,
      ...(options.onProgress ? { onProgress: (done: number, total: number) => options.onProgress!(file.name, done, total) } : {}),
    });
  let scoredTrain: ScoredTextPairs;
  let scoredValidation: ScoredTextPairs | null = null;
  try {
    scoredTrain = await score(train);
    if (validation) scoredValidation = await score(validation);
  } finally {
    cache?.close();
  }
  const parts: Array<[string, ScoredTextPairs]> = [
    [train.name, scoredTrain],
    ...(scoredValidation ? [[validation!.name, scoredValidation] as [string, ScoredTextPairs]] : []),
  ];
  const warnings: string[] = [];
  for (const [file, s] of parts) {
    if (s.ties.length > 0)
      warnings.push(
        `${file}: ${s.ties.length} pair${s.ties.length === 1 ? '' : 's'} rated equal (tie) skipped: no response is preferred (lines ${lineList(s.ties.map((t) => t.line))})`,
      );
    if (s.truncatedLines.length > 0)
      warnings.push(
        `${file}: ${s.truncatedLines.length} of ${s.pairs.n} pairs had a conversation truncated to ${model.maxLength} tokens (lines ${lineList(s.truncatedLines)})`,
      );
  }
  const modelDir = (options.modelDir ?? model.dir).replace(/\/$/, '');
  const records: DataFileRecord[] = [
    {
      path: modelDir,
      sha256: identity.rewards,
      role: 'model (content identity: backbone files, tokenizer, chat template, maxLength, head)',
    },
  ];
  records.push(dataFileRecord(`${modelDir}/${MODEL_CONFIG_FILE}`, { role: 'model config', readFrom: model.files.config }));
  if (model.files.head)
    records.push(
      dataFileRecord(
        model.files.head.startsWith(`${model.dir}/`) ? `${modelDir}/${model.files.head.slice(model.dir.length + 1)}` : model.files.head,
        { role: 'model head', readFrom: model.files.head },
      ),
    );
  const note = `attribute rewards from model ${model.config.name} at ${modelDir} (backbone ${model.config.backbone.id}${model.head ? `, head ${model.head.name}` : ''}; identity sha256 ${identity.rewards} over ${Object.keys(identity.parts.files).join(', ')}, chat template, maxLength ${model.maxLength}, head); ${parts.map(([file, s]) => `${file}: ${s.pairs.n} pairs scored, ${s.ties.length} ties skipped, ${s.truncatedLines.length} truncated`).join('; ')}`;
  return {
    train: scoredTrain,
    validation: scoredValidation,
    identity,
    records,
    note,
    warnings,
    cache: cache === null ? null : { path: cache.dir, entries: cache.size },
  };
}
