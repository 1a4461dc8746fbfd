/**
 * decision-tree-reward: interpretable multi-attribute reward models.
 *
 * A backbone reward model gives the last token's hidden state; a linear head turns it into
 * five HelpSteer2 attribute rewards (helpfulness, correctness, coherence, complexity,
 * verbosity); a decision tree turns the attribute differences of two responses into a
 * preference whose root-to-leaf path explains the decision.
 *
 * Everything a user reaches for is exported here by name: the reward model, trees and heads,
 * explanations, the decision rule, data readers, evaluation, reports, the build functions that
 * make artifacts, and serving. Building blocks beneath them are behind subpaths:
 * `decision-tree-reward/advanced` (CART arrays, ridge fitting, backbone and text components,
 * the seeded generator ...) and `decision-tree-reward/safetensors` (tensor and embeddings files).
 * Every other module is internal and may change freely.
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
export {
  ATTRIBUTES,
  ATTRIBUTE_COUNT,
  attributeIndex,
  isAttribute,
  checkAttributeScores,
  toVector,
  fromVector,
  difference,
} from './attributes.js';
export type { Attribute, AttributeScores, ScoreProblem } from './attributes.js';

// Errors.
export { DtrError, ERROR_CODES, formatIssues } from './errors.js';
export type { ErrorCode, Issue, DtrErrorOptions } from './errors.js';

// Reward models: text in, attribute rewards and explained preferences out.
export { RewardModel } from './model/reward-model.js';
export type {
  LoadOptions,
  ScoreItem,
  CompareItem,
  BatchOptions,
  CompareOptions,
  ScoreResult,
  CompareResult,
  EmbedResult,
  EmbedChunk,
  SelfCheckReport,
  SelfCheckCase,
} from './model/types.js';
export { inspectModelFolder } from './model/folder.js';
export type { ModelFolder, FolderInspection, FolderOverrides, FolderIssue } from './model/folder.js';
export { validateModelConfig, MODEL_CONFIG_FORMAT, MODEL_CONFIG_VERSION, MODEL_CONFIG_FILE } from './model/config.js';
export type { ModelConfig, BackboneConfig, OutputPooling } from './model/config.js';
export type { PaddingSide, ProviderPreference } from './backbone/types.js';
export type { SessionOptions } from './backbone/ort.js';
export { promptMessages, toConversation, checkText, HELPSTEER2_TURN_MARKER } from './text/prompt.js';
export type { Prompt, ChatMessage } from './text/prompt.js';
export type { EncodedConversation, TruncationInfo } from './text/encoder.js';

// Trees: fitting, prediction, files, and the decision rule.
export { PreferenceTree, listTrees } from './tree/preference-tree.js';
export type { PreferencePair, FitOptions, PathStep, LeafInfo } from './tree/preference-tree.js';
export type { Criterion } from './tree/cart.js';
export { TREE_FORMAT, TREE_FORMAT_VERSION, TREE_SEMANTICS, validateTreeFile } from './tree/file.js';
export type { TreeFile, TreeFileNode, TreeFileParams, TreeFileMetrics, TreeFileCheck } from './tree/file.js';
export { bootstrapImportances, rankAttributes } from './tree/importance.js';
export type { BootstrapOptions, BootstrapImportances } from './tree/importance.js';
export { preferenceOf, probabilityOf, symmetricProbability, mirrorPreference } from './tree/decision.js';
export type { DecisionOptions, Preference } from './tree/decision.js';
export { exportText } from './tree/export-text.js';
export type { ExportTextOptions } from './tree/export-text.js';

// Linear heads.
export { LinearHead, validateHeadFile, listHeads, HEAD_FORMAT, HEAD_FORMAT_VERSION, HEAD_SEMANTICS } from './head/head.js';
export type { HeadFile, Pooling } from './head/head.js';

// Explanations: path -> sentence + counterfactual.
export { explain, describePath, describeStep } from './explain/explain.js';
export type { Explanation, Counterfactual, MirrorReading } from './explain/explain.js';

// Data: attribute pairs, ratings, rated responses, preference sets, pair rows; JSONL.
export { readAttributePairs, parseAttributePairs, selectPairs, augmentSwaps, NO_LABEL } from './data/pairs.js';
export type { AttributePairs } from './data/pairs.js';
export { readRatings, parseRatings, RATING_SCALE } from './data/ratings.js';
export type { Ratings } from './data/ratings.js';
export { readRatedResponses, parseRatedResponses } from './data/responses.js';
export type { RatedResponses, ReadRatedResponsesOptions } from './data/responses.js';
export { EVAL_FORMATS, detectEvalFormat, readEvalSet, parseEvalSet, splitLabelTies } from './data/datasets.js';
export type { EvalFormat, EvalItem, EvalSet, EvalSetOptions } from './data/datasets.js';
export { parsePairRows } from './data/text-rows.js';
export type { PairRow } from './data/text-rows.js';
export { readJsonl, streamJsonl, toJsonl } from './io/jsonl.js';
export type { JsonlRow } from './io/jsonl.js';

// Evaluation: metrics, RewardBench, RM-Bench, RewardBench 2, JudgeBench, per-pair results, decontamination, judge audits.
export { pairMetrics, reliability, expectedCalibrationError, positionConsistency } from './eval/metrics.js';
export type { PairMetrics, ReliabilityBin, PairMetricsOptions } from './eval/metrics.js';
export { scoreWithTree, scoreWithModel, summarizeResults, detectResultsFormat } from './eval/evaluate.js';
export type {
  EvalReport,
  PreferenceSetMetrics,
  SummarizeOptions,
  ModelScoringOptions,
  PairComparer,
  ComparisonLike,
} from './eval/evaluate.js';
export {
  REWARDBENCH_SECTIONS,
  REWARDBENCH_SUBSETS,
  REWARDBENCH_TABLE_COUNTS,
  NO_SUBSET,
  rewardBenchSectionOf,
  scoreRewardBench,
  subsetAccuracies,
} from './eval/rewardbench.js';
export type { RewardBenchSection, RewardBenchWeighting, RewardBenchRow, RewardBenchScores, SubsetScore } from './eval/rewardbench.js';
export { RM_BENCH_DOMAINS, RM_BENCH_STYLES, rmBenchDomainOf, scoreRmBench, styleAccuracies } from './eval/rmbench.js';
export type { RmBenchDomain, RmBenchRow, RmBenchAccuracies, RmBenchDomainScore, RmBenchScores } from './eval/rmbench.js';
export { REWARDBENCH2_SUBSETS, scoreRewardBench2 } from './eval/rewardbench2.js';
export type {
  RewardBench2Subset,
  RewardBench2Row,
  RewardBench2SubsetScore,
  RewardBench2TiesScore,
  RewardBench2Scores,
} from './eval/rewardbench2.js';
export { JUDGEBENCH_CATEGORIES, judgeBenchCategoryOf, scoreJudgeBench } from './eval/judgebench.js';
export type { JudgeBenchCategory, JudgeBenchRow, JudgeBenchScore, JudgeBenchScores } from './eval/judgebench.js';
export { readPairResults, parsePairResults, writePairResults, diffPairResults } from './eval/results.js';
export type { PairResult, PairResultRow, ChangedPair, PairResultsDiff } from './eval/results.js';
export { readRecordsFile, findContamination, writeFiltered, checkAgainst } from './eval/decontaminate.js';
export type {
  PromptRecord,
  RecordsFile,
  ReadRecordsOptions,
  ContaminationMatch,
  ContaminationReport,
  AgainstCheck,
} from './eval/decontaminate.js';
export { parseVerdict } from './eval/verdicts.js';
export type { JudgeVerdict, VerdictFormat, ParsedVerdict, UnreadableReason } from './eval/verdicts.js';
export { auditJudge, readVerdicts, parseVerdictRows, readAuditPairs } from './eval/audit.js';
export type { AuditOptions, AuditReport, VerdictRow, UnparseableVerdict } from './eval/audit.js';

// Explanation reports: single comparisons and datasets, as HTML (inline SVG), Markdown and JSON.
export { buildComparisonReport, checkComparisonInput } from './report/comparison.js';
export type { ReportOptions } from './report/comparison.js';
export { buildDatasetReport, checkDatasetInput } from './report/dataset.js';
export type { DatasetReportOptions } from './report/dataset.js';
export { renderHtml } from './report/html.js';
export { renderMarkdown } from './report/markdown.js';
export { renderReport, renderJson, writeReport, reportFormatFromPath, REPORT_EXTENSIONS } from './report/render.js';
export { validateReport, reportJsonSchema } from './report/schema.js';
export type { ReportCheck } from './report/schema.js';
export { datasetInputFromRows, readComparisonFile, parseComparisonJson, comparisonInputFromCompared } from './report/input.js';
export type { ComparisonFile, ComparedPair, ScoredPair } from './report/input.js';
export { treeFileRecord } from './report/provenance.js';
export type { ReportProvenanceOptions, TreeFileRecord } from './report/provenance.js';
export { REPORT_FORMAT, REPORT_FORMAT_VERSION, STYLE_ATTRIBUTES } from './report/types.js';
export type {
  ComparisonInput,
  DatasetInput,
  ComparisonReport,
  DatasetReport,
  Report,
  ReportFormat,
  ReportTree,
  ReportTreeNode,
  ReportRule,
  ReportReading,
  ReportTest,
  ReportExample,
  ReportBin,
  LeafRow,
  SubsetRow,
  DecisionCounts,
  SplitDifference,
  StyleMatrix,
  StyleMatrixCell,
  TreeComparison,
  ReportProvenance,
  ReportTreeRecord,
  ReportModelRecord,
} from './report/types.js';

// Building artifacts: trees (from attribute pairs, or text pairs a model scores), embeddings for new
// heads, rewards cached by content under the model's identity, reports on texts.
export { trainTree, splitMetrics, scoreTrainingPairs } from './workflows/train-tree.js';
export type {
  TrainOptions,
  TrainReport,
  SplitMetrics,
  TrainingTexts,
  TrainingScoreOptions,
  TrainingScores,
} from './workflows/train-tree.js';
export { scoreTextPairs } from './workflows/score-pairs.js';
export type { ScoreTextPairsOptions, ScoredTextPairs } from './workflows/score-pairs.js';
export { embedToFile, checkEmbeddingsForModel } from './workflows/embed.js';
export type { EmbedToFileOptions, EmbedToFileResult } from './workflows/embed.js';
export { modelIdentity } from './model/identity.js';
export type { ModelIdentity } from './model/identity.js';
export { RewardCache, scoreWithCache } from './workflows/reward-cache.js';
export type { CachedScore, CachedScoring, RewardCacheOptions, ScoreWithCacheOptions } from './workflows/reward-cache.js';
export { modelComparisonReport, datasetInputFromModel } from './workflows/report.js';
export type { ModelReportOptions } from './workflows/report.js';
export { makeProvenance, dataFileRecord, currentCommandLine } from './provenance.js';
export type { Provenance, DataFileRecord } from './provenance.js';
export { VERSION, PACKAGE_NAME } from './version.js';

// Serving: the reward model as an HTTP service (`dtr serve`, docs/serving.md).
export { RewardServer } from './serve/server.js';
export type { ServeOptions, ServeSummary, ServeState, ModelSource } from './serve/server.js';
export { SERVE_ERROR_CODES, ServeError } from './serve/errors.js';
export type { ServeErrorCode, ErrorBody, FieldIssue } from './serve/errors.js';
export type { CompareRequestItem, ScoreRequestItem, RequestDecisionOptions, RequestId } from './serve/requests.js';
