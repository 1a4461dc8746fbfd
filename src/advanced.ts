/**
 * decision-tree-reward/advanced: the building blocks beneath the main entry, for those who
 * assemble their own pipeline or reproduce one exactly. The CART engine's node arrays and
 * importances, the decision rule's margins, ridge fitting of heads and scalarisation formulas,
 * the backbone interface with the onnxruntime implementation and its batching limits, chat
 * templates, tokenizers and the conversation encoder, the seeded generator the SDK draws
 * splits and bootstraps from, content hashes and atomic writes, and the report's zod schemas.
 *
 * Here too: the file formats' names, versions and validators (trees, heads, dtr.json, reports),
 * the `parse*` twins of the main entry's `read*` functions (text in, no file), the attribute
 * helpers beneath `ATTRIBUTES`, the explanation's sentence parts, model identity and the reward
 * cache, JSONL, and provenance records.
 *
 * These change more readily than the main entry (`decision-tree-reward`); the benchmarks are in
 * `decision-tree-reward/eval`, tensor files in `decision-tree-reward/safetensors`.
 *
 * May import: any module of src/ (an entry point sits above every layer); it defines nothing itself.
 *
 * @example
 * ```ts
 * import { fitRidge } from 'decision-tree-reward/advanced';
 * import { readEmbeddingsFile } from 'decision-tree-reward/safetensors';
 * const f = readEmbeddingsFile('emb.safetensors');
 * const fit = await fitRidge(f.embeddings, f.labels!, { lambda: 'auto', folds: 5, seed: 0 });
 * ```
 *
 * @packageDocumentation
 */

// Attributes and errors: vector helpers beneath ATTRIBUTES, score checks, issue lists as text.
export { attributeIndex, isAttribute, checkAttributeScores, toVector, difference } from './attributes.js';
export type { ScoreProblem } from './attributes.js';
export { formatIssues } from './errors.js';
export type { DtrErrorOptions } from './errors.js';

// Trees: the tree file format, the CART engine's arrays and importances, tree-file text, locating trees.
export { computeImportances, resolveTreePath } from './tree/preference-tree.js';
export type { LeafInfo } from './tree/preference-tree.js';
export type { TreeArrays, Criterion } from './tree/cart.js';
export { TREE_FORMAT, TREE_FORMAT_VERSION, TREE_SEMANTICS, validateTreeFile, serializeTreeFile } from './tree/file.js';
export type { TreeFileParams, TreeFileMetrics } from './tree/file.js';
export type { TextExportable, ExportTextOptions } from './tree/export-text.js';
export { bootstrapImportances } from './tree/importance.js';
export type { BootstrapOptions, BootstrapImportances } from './tree/importance.js';
// The decision rule: the symmetric reading, mirrored preferences, and the margin P(a) − 0.5
// (exactly antisymmetric: mirrored decisions are exact).
export { symmetricProbability, mirrorPreference, preferenceOfMargin, symmetricMargin } from './tree/decision.js';

// Explanations: the sentence's parts.
export { describePath, describeStep } from './explain/explain.js';
export type { MirrorReading } from './explain/explain.js';

// Heads: ridge regression on embeddings, scalarisation formulas, locating heads.
export { fitRidge, ridgeHead, defaultLambdaGrid } from './head/ridge.js';
export type { RidgeOptions, RidgeFit, RidgeEmbeddings, RidgeHeadOptions, HeldOut } from './head/ridge.js';
export { compileTarget, TARGET_FUNCTIONS } from './head/target.js';
export type { TargetFormula } from './head/target.js';
export { resolveHeadPath, validateHeadFile, HEAD_FORMAT, HEAD_FORMAT_VERSION, HEAD_SEMANTICS } from './head/head.js';
export type { Pooling } from './head/head.js';

// Backbones: the swappable interface, onnxruntime with CUDA fallback, batch limits.
export type { Backbone, BackboneBatch, BackboneBinding, BackboneOutputs, BackboneKind, OutputTensor, ValueInfo } from './backbone/types.js';
export { createOrtBackbone, cudaLibraryProblem, CUDA_INSTALL_COMMAND } from './backbone/ort.js';
export type { OrtBackboneOptions } from './backbone/ort.js';
export { DEFAULT_BATCH_LIMITS } from './backbone/batching.js';
export type { BatchLimits } from './backbone/batching.js';

// Text: chat templates, tokenizers, the conversation encoder (truncation).
export { ChatTemplate, templateSource } from './text/template.js';
export type { TemplateTokens } from './text/template.js';
export { BUILTIN_TEMPLATES } from './text/builtin-templates.js';
export type { BuiltinTemplate } from './text/builtin-templates.js';
export { TextTokenizer } from './text/tokenizer.js';
export { ConversationEncoder } from './text/encoder.js';
export type { TextParams } from './text/encoder.js';
export { promptMessages, toConversation, checkText, HELPSTEER2_TURN_MARKER } from './text/prompt.js';
export type { EncodedConversation, TruncationInfo } from './text/encoder.js';
export type { SessionOptions } from './backbone/ort.js';

// Model folders: dtr.json's format, its validator and writer, the folder's pieces.
export { TEMPLATE_SOURCES } from './model/folder.js';
export type { ModelFolder, FolderOverrides, FolderIssue } from './model/folder.js';
export { validateModelConfig, serializeModelConfig, MODEL_CONFIG_FORMAT, MODEL_CONFIG_VERSION, MODEL_CONFIG_FILE } from './model/config.js';
export type { ModelConfig, BackboneConfig, OutputPooling } from './model/config.js';
export type { BatchOptions, CompareOptions, EmbedResult, EmbedChunk, SelfCheckReport, SelfCheckCase } from './model/types.js';

// Data: the parse* twins of the main entry's read* functions, swap augmentation, pair rows, JSONL.
export { parseAttributePairs, augmentSwaps } from './data/pairs.js';
export { parseRatings, RATING_SCALE } from './data/ratings.js';
export { parseRatedResponses } from './data/responses.js';
export type { ReadRatedResponsesOptions } from './data/responses.js';
export { parseEvalSet } from './data/datasets.js';
export { parsePairRows } from './data/text-rows.js';
export type { PairRow } from './data/text-rows.js';
export { readJsonl, streamJsonl, toJsonl } from './io/jsonl.js';
export type { JsonlRow } from './io/jsonl.js';

// Reproducibility and files: the seeded generator, content identities, the reward cache,
// provenance records, hashes, atomic writes, the package's name.
export { SeededRandom } from './util/random.js';
export { modelIdentity, fileIdentity, FULL_HASH_LIMIT } from './model/identity.js';
export type { ModelIdentity } from './model/identity.js';
export { RewardCache, scoreWithCache, REWARD_CACHE_FORMAT } from './workflows/reward-cache.js';
export type { CachedScore, CachedScoring, RewardCacheOptions, ScoreWithCacheOptions } from './workflows/reward-cache.js';
export { checkEmbeddingsForModel } from './workflows/embed.js';
export type { TrainingTexts, TrainingScoreOptions } from './workflows/train-tree.js';
export type { ScoreTextPairsOptions } from './workflows/score-pairs.js';
export { dataFileRecord, currentCommandLine } from './provenance.js';
export type { DataFileRecord } from './provenance.js';
export { PACKAGE_NAME } from './version.js';
export { sha256, sha256File } from './io/hash.js';
export { writeFileAtomic } from './io/atomic.js';

// Evaluation pieces: the n-gram tokenization and prompt extraction of decontamination, result rows' keys and JSONL.
export { extractPrompt, tokenizeForOverlap } from './eval/decontaminate.js';
export { comparisonKey, pairResultsToJsonl, parsePairResults } from './eval/results.js';

// Reports: the format, input checks and readers, renderers by name, the zod schemas behind
// validateReport, and the tree as a report draws it.
export { REPORT_FORMAT, REPORT_FORMAT_VERSION, STYLE_ATTRIBUTES } from './report/types.js';
export type {
  ReportTree,
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
export { checkComparisonInput } from './report/comparison.js';
export { checkDatasetInput } from './report/dataset.js';
export { renderJson, reportFormatFromPath, REPORT_EXTENSIONS } from './report/render.js';
export { datasetInputFromRows, parseComparisonJson, comparisonInputFromCompared } from './report/input.js';
export type { ComparisonFile, ComparedPair, ScoredPair } from './report/input.js';
export { treeFileRecord } from './report/provenance.js';
export type { ReportProvenanceOptions, TreeFileRecord } from './report/provenance.js';
export { reportSchema, comparisonReportSchema, datasetReportSchema, reportJsonSchema } from './report/schema.js';
export { reportTree } from './report/tree-view.js';

// Serving: the server's states and sources, error bodies, request items.
export type { ServeState, ModelSource } from './serve/server.js';
export type { ErrorBody, FieldIssue } from './serve/errors.js';
export type { CompareRequestItem, ScoreRequestItem, RequestDecisionOptions, RequestId } from './serve/requests.js';
