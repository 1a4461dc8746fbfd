/**
 * decision-tree-reward: interpretable multi-attribute reward models.
 *
 * A backbone reward model gives the last token's hidden state; a linear head turns it into
 * five HelpSteer2 attribute rewards (helpfulness, correctness, coherence, complexity,
 * verbosity); a decision tree turns the attribute differences of two responses into a
 * preference whose root-to-leaf path explains the decision.
 *
 * This entry holds what a user reaches for in the first hour, about fifty names: load a model,
 * score and compare, explain, fit and train trees and heads, read data, evaluate, report, serve,
 * and the errors. Option and result types hang on their classes as well (`RewardModel.LoadOptions`,
 * `PreferenceTree.FitOptions`, `LinearHead.File`), as onnxruntime's `InferenceSession.RunOptions`
 * do. The rest sits under subpaths: `decision-tree-reward/eval` (the benchmarks' rules and tables:
 * RewardBench, RM-Bench, RewardBench 2, JudgeBench; calibration, comparing results,
 * decontamination, judge audits), `decision-tree-reward/advanced` (building blocks: file formats
 * and their validators, the `parse*` twins of the `read*` functions, CART arrays, ridge fitting,
 * backbone and text components, the reward cache, the seeded generator ...) and
 * `decision-tree-reward/safetensors` (tensor and embeddings files). Every other module is
 * internal and may change freely.
 *
 * May import: any module of src/ (it sits above every layer); it defines nothing itself.
 *
 * @example
 * ```ts
 * import { PreferenceTree, explain } from 'decision-tree-reward';
 * const tree = PreferenceTree.load('rlhflow-llama-3.1-8b');
 * const e = explain(tree,
 *   { helpfulness: 3.96, correctness: 3.97, coherence: 3.86, complexity: 0.99, verbosity: 1.49 },
 *   { helpfulness: 2.17, correctness: 2.20, coherence: 3.20, complexity: 0.88, verbosity: 1.46 });
 * console.log(e.preference, e.probability, e.sentence);
 * ```
 *
 * @packageDocumentation
 */

// Attributes: the one source of truth for names and order.
export { ATTRIBUTES, ATTRIBUTE_COUNT, fromVector } from './attributes.js';
export type { Attribute, AttributeScores } from './attributes.js';

// Errors.
export { DtrError, ERROR_CODES } from './errors.js';
export type { ErrorCode, Issue } from './errors.js';

// Reward models: text in, attribute rewards and explained preferences out.
export { RewardModel } from './model/reward-model.js';
export type { LoadOptions, ScoreItem, CompareItem, ScoreResult, CompareResult } from './model/types.js';
export { inspectModelFolder } from './model/folder.js';
export type { FolderInspection } from './model/folder.js';
export type { PaddingSide, ProviderPreference } from './backbone/types.js';
export type { Prompt, ChatMessage } from './text/prompt.js';

// Trees and the decision rule.
export { PreferenceTree, listTrees } from './tree/preference-tree.js';
export type { PreferencePair, FitOptions, PathStep } from './tree/preference-tree.js';
export { rankAttributes } from './tree/importance.js';
export { preferenceOf, probabilityOf } from './tree/decision.js';
export type { DecisionOptions, Preference } from './tree/decision.js';
export { exportText } from './tree/export-text.js';
export type { TreeFile, TreeFileNode, TreeFileCheck } from './tree/file.js';

// Linear heads.
export { LinearHead, listHeads } from './head/head.js';
export type { HeadFile } from './head/head.js';

// Explanations: path -> sentence + counterfactual.
export { explain } from './explain/explain.js';
export type { Explanation, Counterfactual } from './explain/explain.js';

// Data: attribute pairs, ratings, rated responses, preference sets.
export { readAttributePairs, selectPairs, NO_LABEL } from './data/pairs.js';
export type { AttributePairs } from './data/pairs.js';
export { readRatings } from './data/ratings.js';
export type { Ratings } from './data/ratings.js';
export { readRatedResponses } from './data/responses.js';
export type { RatedResponses } from './data/responses.js';
export { readEvalSet, splitLabelTies } from './data/datasets.js';
export type { EvalFormat, EvalItem, EvalSet, EvalSetOptions } from './data/datasets.js';

// Evaluation: score a preference set, summarize per-pair results (benchmarks in decision-tree-reward/eval).
export { pairMetrics, positionConsistency } from './eval/metrics.js';
export type { PairMetrics } from './eval/metrics.js';
export { scoreWithTree, scoreWithModel, summarizeResults } from './eval/evaluate.js';
export type { EvalReport, SummarizeOptions, ModelScoringOptions, PairComparer, ComparisonLike } from './eval/evaluate.js';
export { readPairResults, writePairResults } from './eval/results.js';
export type { PairResult } from './eval/results.js';

// Explanation reports: single comparisons and datasets, as HTML (inline SVG), Markdown and JSON.
export { buildComparisonReport } from './report/comparison.js';
export type { ReportOptions } from './report/comparison.js';
export { buildDatasetReport } from './report/dataset.js';
export type { DatasetReportOptions } from './report/dataset.js';
export { renderHtml } from './report/html.js';
export { renderMarkdown } from './report/markdown.js';
export { renderReport, writeReport } from './report/render.js';
export { validateReport } from './report/schema.js';
export type { ReportCheck } from './report/schema.js';
export { readComparisonFile } from './report/input.js';
export type {
  ComparisonInput,
  DatasetInput,
  ComparisonReport,
  DatasetReport,
  Report,
  ReportFormat,
  ReportTreeNode,
} from './report/types.js';

// Building artifacts: trees (from attribute pairs, or text pairs a model scores), embeddings for new
// heads, reports on texts, and the provenance every artifact carries.
export { trainTree, splitMetrics, scoreTrainingPairs } from './workflows/train-tree.js';
export type { TrainOptions, TrainReport, SplitMetrics, TrainingScores } from './workflows/train-tree.js';
export { scoreTextPairs } from './workflows/score-pairs.js';
export type { ScoredTextPairs } from './workflows/score-pairs.js';
export { embedToFile } from './workflows/embed.js';
export { fitHead } from './workflows/fit-head.js';
export type { FitHeadOptions, FitHeadResult } from './workflows/fit-head.js';
export type { EmbedToFileOptions, EmbedToFileResult } from './workflows/embed.js';
export { modelComparisonReport, datasetInputFromModel } from './workflows/report.js';
export type { ModelReportOptions } from './workflows/report.js';
export { makeProvenance } from './provenance.js';
export type { Provenance } from './provenance.js';
export { VERSION } from './version.js';

// Serving: the reward model as an HTTP service (`dtr serve`, docs/serving.md).
export { RewardServer } from './serve/server.js';
export type { ServeOptions, ServeSummary } from './serve/server.js';
export { SERVE_ERROR_CODES, ServeError } from './serve/errors.js';
export type { ServeErrorCode } from './serve/errors.js';
