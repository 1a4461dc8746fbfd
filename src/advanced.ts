/**
 * decision-tree-reward/advanced: the building blocks beneath the main entry, for those who
 * assemble their own pipeline or reproduce one exactly. The CART engine's node arrays and
 * importances, the decision rule's margins, ridge fitting of heads and scalarisation formulas,
 * the backbone interface with the onnxruntime implementation and its batching limits, chat
 * templates, tokenizers and the conversation encoder, the seeded generator the SDK draws
 * splits and bootstraps from, content hashes and atomic writes, and the report's zod schemas.
 *
 * These change more readily than the main entry (`decision-tree-reward`); tensor files are in
 * `decision-tree-reward/safetensors`.
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

// Trees: the CART engine's arrays and importances, tree-file text, locating trees.
export { computeImportances, resolveTreePath } from './tree/preference-tree.js';
export type { TreeArrays } from './tree/cart.js';
export { serializeTreeFile } from './tree/file.js';
export type { TextExportable } from './tree/export-text.js';
// The decision rule on the margin P(a) − 0.5 (exactly antisymmetric: mirrored decisions are exact).
export { preferenceOfMargin, symmetricMargin } from './tree/decision.js';

// Heads: ridge regression on embeddings, scalarisation formulas, locating heads.
export { fitRidge, ridgeHead, defaultLambdaGrid } from './head/ridge.js';
export type { RidgeOptions, RidgeFit, RidgeEmbeddings, RidgeHeadOptions, HeldOut } from './head/ridge.js';
export { compileTarget, TARGET_FUNCTIONS } from './head/target.js';
export type { TargetFormula } from './head/target.js';
export { resolveHeadPath } from './head/head.js';

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
export { TEMPLATE_SOURCES } from './model/folder.js';
export { serializeModelConfig } from './model/config.js';

// Reproducibility and files: the seeded generator, content identities, hashes, atomic writes.
export { SeededRandom } from './util/random.js';
export { fileIdentity, FULL_HASH_LIMIT } from './model/identity.js';
export { REWARD_CACHE_FORMAT } from './workflows/reward-cache.js';
export { sha256, sha256File } from './io/hash.js';
export { writeFileAtomic } from './io/atomic.js';

// Evaluation pieces: the n-gram tokenization and prompt extraction of decontamination, result rows' keys and JSONL.
export { extractPrompt, tokenizeForOverlap } from './eval/decontaminate.js';
export { comparisonKey, pairResultsToJsonl } from './eval/results.js';

// Reports: the zod schemas behind validateReport, and the tree as a report draws it.
export { reportSchema, comparisonReportSchema, datasetReportSchema } from './report/schema.js';
export { reportTree } from './report/tree-view.js';
