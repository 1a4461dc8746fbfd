/**
 * decision-tree-reward: interpretable multi-attribute reward models.
 *
 * A backbone reward model gives the last token's hidden state; a linear head turns it into
 * five HelpSteer2 attribute rewards (helpfulness, correctness, coherence, complexity,
 * verbosity); a decision tree turns the attribute differences of two responses into a
 * preference whose root-to-leaf path explains the decision.
 *
 * Everything public is exported here by name; other modules may change freely.
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
export { ATTRIBUTES, ATTRIBUTE_COUNT, attributeIndex, isAttribute, checkAttributeScores, toVector, fromVector, difference } from './attributes.js';
export type { Attribute, AttributeScores, ScoreProblem } from './attributes.js';

// Errors.
export { DtrError, ERROR_CODES, formatIssues } from './errors.js';
export type { ErrorCode, Issue, DtrErrorOptions } from './errors.js';

// Trees: fitting, prediction, files.
export { PreferenceTree, computeImportances, listTrees, resolveTreePath } from './tree/preference-tree.js';
export type { PreferencePair, FitOptions, PathStep, LeafInfo } from './tree/preference-tree.js';
export type { Criterion, TreeArrays } from './tree/cart.js';
export { TREE_FORMAT, TREE_FORMAT_VERSION, TREE_SEMANTICS, validateTreeFile, serializeTreeFile } from './tree/file.js';
export type { TreeFile, TreeFileNode, TreeFileParams, TreeFileMetrics, TreeFileCheck } from './tree/file.js';
export { bootstrapImportances, rankAttributes } from './tree/importance.js';
export type { BootstrapOptions, BootstrapImportances } from './tree/importance.js';
export { trainTree, splitMetrics } from './build/train-tree.js';
export type { TrainOptions, TrainReport, SplitMetrics } from './build/train-tree.js';
export { SeededRandom } from './util/random.js';

// Explanations.
export { checkDecisionOptions, mirrorPreference, preferenceOf, preferenceOfMargin, probabilityOf, symmetricProbability, symmetricMargin } from './tree/decision.js';
export type { DecisionOptions, Preference } from './tree/decision.js';
export { explain, describePath, describeStep } from './explain/explain.js';
export type { Explanation, Counterfactual, MirrorReading } from './explain/explain.js';
export { exportText } from './tree/export-text.js';
export type { ExportTextOptions } from './tree/export-text.js';
export { formatFixed } from './util/format.js';

// Data and metrics.
export { readAttributePairs, parseAttributePairs, selectPairs, augmentSwaps, NO_LABEL } from './data/pairs.js';
export type { AttributePairs } from './data/pairs.js';
export { pairMetrics, reliability, expectedCalibrationError, positionConsistency } from './eval/metrics.js';
export type { PairMetrics, ReliabilityBin, PairMetricsOptions } from './eval/metrics.js';

// Evaluation: RewardBench scoring, preference sets, per-pair results, decontamination, judge audits.
export { REWARDBENCH_SECTIONS, REWARDBENCH_SUBSETS, REWARDBENCH_TABLE_COUNTS, NO_SUBSET, rewardBenchSectionOf, scoreRewardBench, subsetAccuracies } from './eval/rewardbench.js';
export type { RewardBenchSection, RewardBenchWeighting, RewardBenchRow, RewardBenchScores, SubsetScore } from './eval/rewardbench.js';
export { EVAL_FORMATS, detectEvalFormat, readEvalSet, parseEvalSet, splitLabelTies } from './data/datasets.js';
export type { EvalFormat, EvalItem, EvalSet, EvalSetOptions } from './data/datasets.js';
export { RM_BENCH_DOMAINS, RM_BENCH_STYLES, rmBenchDomainOf, scoreRmBench, styleAccuracies } from './eval/rmbench.js';
export type { RmBenchDomain, RmBenchRow, RmBenchAccuracies, RmBenchDomainScore, RmBenchScores } from './eval/rmbench.js';
export { REWARDBENCH2_SUBSETS, scoreRewardBench2 } from './eval/rewardbench2.js';
export type { RewardBench2Subset, RewardBench2Row, RewardBench2SubsetScore, RewardBench2TiesScore, RewardBench2Scores } from './eval/rewardbench2.js';
export { JUDGEBENCH_CATEGORIES, judgeBenchCategoryOf, scoreJudgeBench } from './eval/judgebench.js';
export type { JudgeBenchCategory, JudgeBenchRow, JudgeBenchScore, JudgeBenchScores } from './eval/judgebench.js';
export { scoreWithTree, scoreWithModel, summarizeResults, detectResultsFormat } from './eval/evaluate.js';
export type { EvalReport, PreferenceSetMetrics, SummarizeOptions, ModelScoringOptions, PairComparer, ComparisonLike } from './eval/evaluate.js';
export { readPairResults, parsePairResults, writePairResults, pairResultsToJsonl, diffPairResults, comparisonKey } from './eval/results.js';
export type { PairResult, PairResultRow, ChangedPair, PairResultsDiff } from './eval/results.js';
export { readRecordsFile, extractPrompt, tokenizeForOverlap, findContamination, writeFiltered, checkAgainst } from './eval/decontaminate.js';
export type { PromptRecord, RecordsFile, ReadRecordsOptions, ContaminationMatch, ContaminationReport, AgainstCheck } from './eval/decontaminate.js';
export { parseVerdict } from './eval/verdicts.js';
export type { JudgeVerdict, VerdictFormat, ParsedVerdict, UnreadableReason } from './eval/verdicts.js';
export { auditJudge, readVerdicts, parseVerdictRows, readAuditPairs } from './eval/audit.js';
export type { AuditOptions, AuditReport, VerdictRow, UnparseableVerdict } from './eval/audit.js';

// I/O and provenance.
export { readJsonl, streamJsonl, toJsonl } from './io/jsonl.js';
export type { JsonlRow } from './io/jsonl.js';
export { writeFileAtomic } from './io/atomic.js';
export { sha256, sha256File } from './io/hash.js';
export { makeProvenance, dataFileRecord, currentCommandLine } from './provenance.js';
export type { Provenance, DataFileRecord } from './provenance.js';
export { VERSION, PACKAGE_NAME } from './version.js';

// Command line, for embedding `dtr` in other tools.
export { runCli } from './cli/main.js';

// Linear heads.
export { LinearHead, validateHeadFile, listHeads, resolveHeadPath, HEAD_FORMAT, HEAD_FORMAT_VERSION, HEAD_SEMANTICS } from './head/head.js';
export type { HeadFile, Pooling } from './head/head.js';

// Reward models: text in, attribute rewards and explained preferences out.
export { RewardModel } from './model/reward-model.js';
export type { LoadOptions, ScoreItem, CompareItem, BatchOptions, CompareOptions, ScoreResult, CompareResult, EmbedResult, EmbedChunk, SelfCheckReport, SelfCheckCase } from './model/types.js';
export { inspectModelFolder, TEMPLATE_SOURCES } from './model/folder.js';
export type { ModelFolder, FolderInspection, FolderOverrides, FolderIssue } from './model/folder.js';
export { validateModelConfig, serializeModelConfig, MODEL_CONFIG_FORMAT, MODEL_CONFIG_VERSION, MODEL_CONFIG_FILE } from './model/config.js';
export type { ModelConfig, BackboneConfig, OutputPooling } from './model/config.js';

// Text: prompts, chat templates, tokenizers, truncation.
export { promptMessages, toConversation, checkText, HELPSTEER2_TURN_MARKER } from './text/prompt.js';
export type { Prompt, ChatMessage } from './text/prompt.js';
export { ChatTemplate, templateSource } from './text/template.js';
export { BUILTIN_TEMPLATES } from './text/builtin-templates.js';
export type { BuiltinTemplate } from './text/builtin-templates.js';
export type { TemplateTokens } from './text/template.js';
export { TextTokenizer } from './text/tokenizer.js';
export { ConversationEncoder } from './text/encoder.js';
export type { EncodedConversation, TruncationInfo, TextParams } from './text/encoder.js';

// Backbones: the swappable interface, batching and pooling, onnxruntime with CUDA fallback.
export type { Backbone, BackboneBatch, BackboneBinding, BackboneOutputs, BackboneKind, PaddingSide, ProviderPreference, OutputTensor, ValueInfo } from './backbone/types.js';
export { planBatches, padBatch, DEFAULT_BATCH_LIMITS } from './backbone/batching.js';
export type { BatchLimits } from './backbone/batching.js';
export { poolLastToken } from './backbone/pooling.js';
export { createOrtBackbone, cudaLibraryProblem, CUDA_INSTALL_COMMAND } from './backbone/ort.js';
export type { OrtBackboneOptions, SessionOptions } from './backbone/ort.js';
// Explanation reports: single comparisons and datasets, as HTML (inline SVG), Markdown and JSON.
export { buildComparisonReport, checkComparisonInput } from './report/comparison.js';
export type { ReportOptions } from './report/comparison.js';
export { buildDatasetReport, checkDatasetInput } from './report/dataset.js';
export type { DatasetReportOptions } from './report/dataset.js';
export { renderHtml } from './report/html.js';
export { renderMarkdown } from './report/markdown.js';
export { renderReport, renderJson, writeReport, reportFormatFromPath, REPORT_EXTENSIONS } from './report/render.js';
export { validateReport, reportJsonSchema, reportSchema, comparisonReportSchema, datasetReportSchema } from './report/schema.js';
export type { ReportCheck } from './report/schema.js';
export { datasetInputFromRows, readComparisonFile, parseComparisonJson, comparisonInputFromCompared } from './report/input.js';
export type { ComparisonFile, ComparedPair, ScoredPair } from './report/input.js';
export { parsePairRows } from './data/text-rows.js';
export type { PairRow } from './data/text-rows.js';
export { treeFileRecord } from './report/provenance.js';
export type { ReportProvenanceOptions, TreeFileRecord } from './report/provenance.js';
export { reportTree } from './report/tree-view.js';
export { escapeHtml, markdownInline, markdownFence } from './report/escape.js';
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

// safetensors files (embeddings, labels, weights).
export {
  readSafetensors,
  readSafetensorsHeader,
  parseSafetensors,
  serializeSafetensors,
  writeSafetensors,
  SafetensorsStreamWriter,
  SafeTensor,
  SAFETENSORS_DTYPES,
  toBfloat16Bits,
  toFloat16Bits,
} from './io/safetensors.js';
export type { SafetensorsDtype, SafetensorsEntry, SafetensorsHeader, SafetensorsFile, TensorInput, TensorSpec, WritableDtype } from './io/safetensors.js';
export { readEmbeddingsFile, EmbeddingsWriter, EMBEDDINGS_FORMAT } from './io/embeddings.js';
export type { EmbeddingsFile, EmbeddingsWriterOptions } from './io/embeddings.js';

// Fitting heads: ridge regression on embeddings, scalarisation formulas.
export { fitRidge, ridgeHead, defaultLambdaGrid } from './head/ridge.js';
export type { RidgeOptions, RidgeFit, RidgeEmbeddings, RidgeHeadOptions, HeldOut } from './head/ridge.js';
export { compileTarget, TARGET_FUNCTIONS } from './head/target.js';
export type { TargetFormula } from './head/target.js';
export { readRatings, parseRatings, RATING_SCALE } from './data/ratings.js';
export type { Ratings } from './data/ratings.js';

// Building models from text: embeddings of rated responses, rewards cached by content, text pairs to attribute pairs.
export { readRatedResponses, parseRatedResponses } from './data/responses.js';
export type { RatedResponses, ReadRatedResponsesOptions } from './data/responses.js';
export { embedToFile, checkEmbeddingsForModel } from './build/embed.js';
export type { EmbedToFileOptions, EmbedToFileResult } from './build/embed.js';
export { modelIdentity, fileIdentity, FULL_HASH_LIMIT } from './build/identity.js';
export type { ModelIdentity } from './build/identity.js';
export { RewardCache, scoreWithCache, REWARD_CACHE_FORMAT } from './build/reward-cache.js';
export type { CachedScore, CachedScoring, RewardCacheOptions, ScoreWithCacheOptions } from './build/reward-cache.js';
export { scoreTextPairs } from './build/score-pairs.js';
export type { ScoreTextPairsOptions, ScoredTextPairs } from './build/score-pairs.js';

// Serving: the reward model as an HTTP service (`dtr serve`, docs/serving.md).
export { RewardServer } from './serve/server.js';
export type { ServeOptions, ServeSummary, ServeState, ModelSource } from './serve/server.js';
export { SERVE_ERROR_CODES, ServeError } from './serve/errors.js';
export type { ServeErrorCode, ErrorBody, FieldIssue } from './serve/errors.js';
export type { CompareRequestItem, ScoreRequestItem, RequestDecisionOptions, RequestId } from './serve/requests.js';
