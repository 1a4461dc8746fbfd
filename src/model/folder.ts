/**
 * Model folders (Hugging Face conventions plus dtr.json), checked up front: every missing,
 * unreadable or inconsistent piece is listed at once, each with the file (and JSON path) it is
 * about, before anything expensive is loaded.
 *
 * ```
 * model/
 *   dtr.json               this SDK's config (see config.ts)
 *   model.onnx             the backbone (+ model.onnx_data for models over 2 GB); not needed
 *                          when the backbone runs on an inference engine (dtr.json backbone.remote)
 *   score-layer.json       the checkpoint's own score layer (Skywork kind), for that engine
 *   export.json            what the exporter did, and its check conversations' ids and vectors
 *   tokenizer.json         Hugging Face tokenizer
 *   tokenizer_config.json  special tokens (and chat_template, the older convention)
 *   chat_template.jinja    the chat template (transformers 5.x; wins over tokenizer_config.json's)
 *   head.json | heads/     the linear head (not for kind 'rewards')
 *   trees/                 optional trees; dtr.json may also name a shipped tree
 * ```
 *
 * May import: its own folder (model/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * eval/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { DtrError, type Issue } from '../errors.js';
import { describeInvalidUtf8, findInvalidUtf8 } from '../io/utf8.js';
import { LinearHead, listHeads, shippedHeadsDir } from '../head/head.js';
import { PreferenceTree, listTrees, shippedTreesDir } from '../tree/preference-tree.js';
import { BUILTIN_TEMPLATES } from '../text/builtin-templates.js';
import { templateSource } from '../text/template.js';
import { MODEL_CONFIG_FILE, validateModelConfig, type ModelConfig } from './config.js';

/** Everything read from a model folder that passed the file checks. */
export interface ModelFolder {
  dir: string;
  config: ModelConfig;
  paths: { config: string; onnx: string; tokenizer: string; tokenizerConfig: string; head: string | null; tree: string | null };
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** The chat template source in use (see {@link TEMPLATE_SOURCES} for where it is looked for). */
  chatTemplate: string;
  /** Where {@link chatTemplate} came from: a file (`chat_template.jinja`, `tokenizer_config.json: chat_template`...), `dtr.json: chatTemplate`, the `chatTemplate` option, or `built-in: NAME`. */
  chatTemplateFrom: string;
  head: LinearHead | null;
  tree: PreferenceTree;
  /** Things the folder does that work but deserve a word (a built-in template used); the model passes them to `onWarning`. */
  warnings: string[];
}

/**
 * Where a folder's chat template is looked for, in order, as transformers does
 * (tokenization_utils_base: a chat_template.jinja file wins over the tokenizer_config.json entry;
 * chat_template.json is the older processor file). Before them: dtr.json `chatTemplate` and the
 * `chatTemplate` load option; after them, only for a folder with none, a built-in template of the
 * tokenizer's family ({@link BUILTIN_TEMPLATES}), with a warning.
 *
 * @example
 * ```ts
 * TEMPLATE_SOURCES; // ['chat_template.jinja', 'tokenizer_config.json', 'chat_template.json']
 * ```
 */
export const TEMPLATE_SOURCES = Object.freeze(['chat_template.jinja', 'tokenizer_config.json', 'chat_template.json'] as const);

/** Replacements for what dtr.json says, given when loading. */
export interface FolderOverrides {
  /** A head (object, file path or name) instead of the folder's; `null`: no head (the backbone alone, for embeddings). */
  head?: string | LinearHead | null;
  tree?: string | PreferenceTree;
  maxLength?: number;
  paddingSide?: ModelConfig['paddingSide'];
  provider?: ModelConfig['provider'];
  chatTemplate?: string;
  /** The backbone runs on an inference engine: model.onnx is not needed (dtr.json `backbone.remote` says so too). */
  remote?: boolean;
}

/** An issue plus whether it is a size disagreement (reported as `E_SHAPE` when alone). */
export type FolderIssue = Issue & { shape?: boolean };

/**
 * What {@link inspectModelFolder} found: the folder, or every problem plus the pieces that were
 * fine (so the ONNX graph can still be checked against a valid dtr.json in the same pass).
 */
export type FolderInspection = { success: true; folder: ModelFolder } | { success: false; issues: FolderIssue[]; partial: PartialFolder };

/** The pieces of a failed folder that were fine on their own (null where not). */
export interface PartialFolder {
  config: ModelConfig | null;
  onnxPath: string | null;
  head: LinearHead | null;
  tokenizerJson: Record<string, unknown> | null;
  tokenizerConfig: Record<string, unknown> | null;
  chatTemplate: string | null;
  chatTemplateFrom: string | null;
}

/**
 * Reads and checks a model folder. Never throws for a bad folder: returns every problem.
 *
 * @example
 * ```ts
 * const r = inspectModelFolder('model');
 * if (!r.success) for (const i of r.issues) console.log(`${i.path}: ${i.message}`);
 * ```
 */
export function inspectModelFolder(dir: string, overrides: FolderOverrides = {}): FolderInspection {
  const issues: FolderIssue[] = [];
  const root = resolve(dir);
  const none: PartialFolder = {
    config: null,
    onnxPath: null,
    head: null,
    tokenizerJson: null,
    tokenizerConfig: null,
    chatTemplate: null,
    chatTemplateFrom: null,
  };
  const warnings: string[] = [];
  if (!existsSync(root)) return { success: false, issues: [{ path: dir, message: 'no such folder' }], partial: none };
  if (!statSync(root).isDirectory()) {
    return {
      success: false,
      issues: [
        {
          path: dir,
          message:
            'not a folder: a model is a folder holding dtr.json, model.onnx, tokenizer.json, tokenizer_config.json, a head and a tree',
        },
      ],
      partial: none,
    };
  }

  // dtr.json
  const configPath = join(root, MODEL_CONFIG_FILE);
  let config: ModelConfig | null = null;
  const configJson = readJsonIssue(
    configPath,
    MODEL_CONFIG_FILE,
    issues,
    'missing: every model folder needs a dtr.json (see docs/runtime.md)',
  );
  if (configJson !== undefined) {
    const check = validateModelConfig(configJson);
    if (check.success) config = check.config;
    else for (const i of check.issues) issues.push({ path: `${MODEL_CONFIG_FILE}: ${i.path}`, message: i.message });
  }
  if (config) {
    if (overrides.maxLength !== undefined) config.maxLength = overrides.maxLength;
    if (overrides.paddingSide !== undefined) config.paddingSide = overrides.paddingSide;
    if (overrides.provider !== undefined) config.provider = overrides.provider;
    if (overrides.chatTemplate !== undefined) config.chatTemplate = overrides.chatTemplate;
  }

  // The backbone file.
  const onnxName = config?.backbone.file ?? 'model.onnx';
  const onnxPath = resolve(root, onnxName);
  const issuesBeforeOnnx = issues.length;
  // On an inference engine the graph is the engine's: the folder keeps only the text side, the head and the tree.
  const remote = overrides.remote === true || (config?.backbone.remote ?? null) !== null;
  if (remote) {
    // nothing to check here: the engine is checked when the model loads
  } else if (!existsSync(onnxPath)) {
    const others = listFiles(root).filter((f) => f.endsWith('.onnx'));
    issues.push({
      path: onnxName,
      message: `missing${others.length ? ` (the folder has ${others.join(', ')}: set backbone.file in dtr.json)` : ''}`,
    });
  } else if (statSync(onnxPath).isDirectory()) {
    issues.push({ path: onnxName, message: 'is a folder, expected an ONNX file' });
  } else if (statSync(onnxPath).size === 0) {
    issues.push({ path: onnxName, message: 'is empty (0 bytes)' });
  }

  const onnxUsable = issues.length === issuesBeforeOnnx;

  // Tokenizer files.
  const tokenizerPath = join(root, 'tokenizer.json');
  const tokenizerConfigPath = join(root, 'tokenizer_config.json');
  const tokenizerJson = readJsonIssue(tokenizerPath, 'tokenizer.json', issues, 'missing: the Hugging Face tokenizer of the backbone');
  if (
    tokenizerJson !== undefined &&
    (tokenizerJson === null || typeof tokenizerJson !== 'object' || !('model' in (tokenizerJson as object)))
  ) {
    issues.push({ path: 'tokenizer.json', message: "not a Hugging Face tokenizer.json (no 'model' section)" });
  }
  const tokenizerConfig = readJsonIssue(tokenizerConfigPath, 'tokenizer_config.json', issues, 'missing: it holds the special tokens');
  let chatTemplate: string | null = null;
  let chatTemplateFrom: string | null = null;
  if (
    tokenizerConfig !== undefined &&
    (tokenizerConfig === null || typeof tokenizerConfig !== 'object' || Array.isArray(tokenizerConfig))
  ) {
    issues.push({ path: 'tokenizer_config.json', message: 'must be a JSON object' });
  } else if (tokenizerConfig !== undefined || config?.chatTemplate || existsSync(join(root, 'chat_template.jinja'))) {
    // (Without a readable tokenizer_config.json that file's issue says enough.)
    const found = folderTemplate(
      root,
      config,
      overrides.chatTemplate !== undefined,
      (tokenizerConfig ?? null) as Record<string, unknown> | null,
      tokenizerJson,
      issues,
      warnings,
    );
    if (found) ({ source: chatTemplate, from: chatTemplateFrom } = found);
  }

  // Head.
  let head: LinearHead | null = null;
  let headPath: string | null = null;
  const kind = config?.backbone.kind;
  if (overrides.head instanceof LinearHead) {
    head = overrides.head;
  } else if (overrides.head === null && kind !== 'rewards') {
    // The backbone alone (e.g. an export made with --no-head, to make embeddings): no head is looked for.
  } else if (kind !== 'rewards') {
    const wanted = overrides.head ?? config?.head ?? null;
    const found = resolveHead(root, wanted, issues);
    if (found) {
      headPath = found;
      const json = readJsonIssue(found, rel(root, found), issues, 'missing');
      if (json !== undefined) {
        const r = LinearHead.safeFromJSON(json);
        if (r.success) head = r.head;
        else for (const i of r.issues) issues.push({ path: `${rel(root, found)}: ${i.path}`, message: i.message });
      }
    }
  } else if (existsSync(join(root, 'head.json')) || (overrides.head !== undefined && overrides.head !== null)) {
    issues.push({
      path: 'head.json',
      message: "present, but backbone.kind 'rewards' fuses the head in the graph: remove the file (or change backbone.kind)",
    });
  }
  if (head && config) {
    const h = config.backbone.hiddenSize;
    if (h !== null && h !== head.hiddenSize) {
      issues.push({
        path: headPath ? rel(root, headPath) : 'head',
        message: `head '${head.name}' expects hidden size ${head.hiddenSize} but dtr.json backbone.hiddenSize is ${h}`,
        shape: true,
      });
    }
  }

  // Tree.
  let tree: PreferenceTree | null = null;
  let treePath: string | null = null;
  if (overrides.tree instanceof PreferenceTree) {
    tree = overrides.tree;
  } else {
    const wanted = overrides.tree ?? config?.tree;
    if (wanted !== undefined) {
      treePath = resolveTree(root, wanted, issues);
      if (treePath) {
        const json = readJsonIssue(treePath, rel(root, treePath), issues, 'missing');
        if (json !== undefined) {
          const r = PreferenceTree.safeFromJSON(json);
          if (r.success) tree = r.tree;
          else for (const i of r.issues) issues.push({ path: `${rel(root, treePath)}: ${i.path}`, message: i.message });
        }
      }
    }
  }

  if (issues.length > 0 || !config || !tree || chatTemplate === null || chatTemplateFrom === null) {
    const tokenizerOk =
      tokenizerJson !== undefined && tokenizerJson !== null && typeof tokenizerJson === 'object' && 'model' in (tokenizerJson as object);
    const configOk =
      tokenizerConfig !== undefined && tokenizerConfig !== null && typeof tokenizerConfig === 'object' && !Array.isArray(tokenizerConfig);
    return {
      success: false,
      issues,
      partial: {
        config,
        onnxPath: onnxUsable && !remote ? onnxPath : null,
        head,
        tokenizerJson: tokenizerOk ? (tokenizerJson as Record<string, unknown>) : null,
        tokenizerConfig: configOk ? (tokenizerConfig as Record<string, unknown>) : null,
        chatTemplate,
        chatTemplateFrom,
      },
    };
  }
  return {
    success: true,
    folder: {
      dir: root,
      config,
      paths: {
        config: configPath,
        onnx: onnxPath,
        tokenizer: tokenizerPath,
        tokenizerConfig: tokenizerConfigPath,
        head: headPath,
        tree: treePath,
      },
      tokenizerJson: tokenizerJson as Record<string, unknown>,
      tokenizerConfig: tokenizerConfig as Record<string, unknown>,
      chatTemplate,
      chatTemplateFrom: chatTemplateFrom!,
      head,
      tree,
      warnings,
    },
  };
}

/**
 * The chat template of a folder (see {@link TEMPLATE_SOURCES}), checked against dtr.json's
 * `chatTemplateSha256`; null (with an issue) when there is none to use.
 */
function folderTemplate(
  root: string,
  config: ModelConfig | null,
  fromOption: boolean,
  tokenizerConfig: Record<string, unknown> | null,
  tokenizerJson: unknown,
  issues: FolderIssue[],
  warnings: string[],
): { source: string; from: string } | null {
  if (config?.chatTemplate) return { source: config.chatTemplate, from: fromOption ? 'the chatTemplate option' : 'dtr.json: chatTemplate' };
  let found: { source: string; from: string } | null = null;
  const jinja = join(root, 'chat_template.jinja');
  if (existsSync(jinja)) {
    const text = readTemplateFile(jinja, 'chat_template.jinja', issues);
    if (text === null) return null;
    if (text.trim() === '') issues.push({ path: 'chat_template.jinja', message: 'is empty' });
    else found = { source: text, from: 'chat_template.jinja' };
  }
  if (!found && tokenizerConfig) {
    const t = namedTemplateSource(tokenizerConfig, 'tokenizer_config.json', issues);
    if (t === undefined) return null;
    if (t !== null) found = { source: t, from: 'tokenizer_config.json: chat_template' };
  }
  const legacy = join(root, 'chat_template.json');
  if (!found && existsSync(legacy)) {
    const doc = readJsonIssue(legacy, 'chat_template.json', issues, 'missing');
    const t =
      doc && typeof doc === 'object' && !Array.isArray(doc)
        ? namedTemplateSource(doc as Record<string, unknown>, 'chat_template.json', issues)
        : null;
    if (t === undefined) return null;
    if (t !== null) found = { source: t, from: 'chat_template.json: chat_template' };
    else if (doc !== undefined) issues.push({ path: 'chat_template.json', message: "has no 'chat_template' string" });
  }
  const recorded = config?.chatTemplateSha256 ?? null;
  if (found) {
    const sha = createHash('sha256').update(found.source, 'utf8').digest('hex');
    if (recorded !== null && sha !== recorded) {
      issues.push({
        path: found.from,
        message: `is not the chat template this model was exported with (sha256 ${sha.slice(0, 12)}..., dtr.json chatTemplateSha256 ${recorded.slice(0, 12)}...): rewards depend on the template; restore the exported file, or set chatTemplate in dtr.json to use another one deliberately`,
      });
      return null;
    }
    return found;
  }
  if (recorded !== null) {
    issues.push({
      path: 'chat_template.jinja',
      message: `missing: dtr.json records the exported template (chatTemplateSha256 ${recorded.slice(0, 12)}...) but the folder has none (${TEMPLATE_SOURCES.join(', ')}); copy the whole exported folder`,
    });
    return null;
  }
  const vocab = tokenContents(tokenizerJson);
  const builtin = BUILTIN_TEMPLATES.find((t) => t.markers.every((m) => vocab.has(m)));
  if (builtin) {
    warnings.push(
      `${root}: no chat template in the folder (${TEMPLATE_SOURCES.join(', ')}); using the SDK's built-in '${builtin.name}' template (${builtin.description}), chosen from the tokenizer's special tokens. Rewards depend on the template: put the checkpoint's own template in chat_template.jinja`,
    );
    return { source: builtin.source, from: `built-in: ${builtin.name}` };
  }
  issues.push({
    path: 'chat_template.jinja',
    message: `missing: the folder has no chat template (${TEMPLATE_SOURCES.join(', ')}) and the tokenizer is not of a family with a built-in one (${BUILTIN_TEMPLATES.map((t) => t.name).join(', ')}); add the model's template as chat_template.jinja or chatTemplate in dtr.json`,
  });
  return null;
}

/** {@link templateSource}, with its refusal (named templates, none 'default') as an issue at `path`: undefined then. */
function namedTemplateSource(doc: Record<string, unknown>, path: string, issues: FolderIssue[]): string | null | undefined {
  try {
    return templateSource(doc);
  } catch (e) {
    if (!(e instanceof DtrError)) throw e;
    issues.push({ path, message: e.message });
    return undefined;
  }
}

/** A template file as Python's open(encoding='utf-8') reads it: strict UTF-8, a BOM kept, newlines universal. */
function readTemplateFile(path: string, label: string, issues: FolderIssue[]): string | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    issues.push({ path: label, message: `unreadable: ${(e as Error).message}` });
    return null;
  }
  const bad = findInvalidUtf8(bytes);
  if (bad) {
    const { line, text } = describeInvalidUtf8(bytes, bad);
    issues.push({ path: `${label}:${line}`, message: `not valid UTF-8 (${text})` });
    return null;
  }
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).replace(/\r\n?/g, '\n');
}

/** The special and added tokens of a tokenizer.json, by content. */
function tokenContents(tokenizerJson: unknown): Set<string> {
  const added = (tokenizerJson as { added_tokens?: Array<{ content?: unknown }> } | null)?.added_tokens;
  return new Set(Array.isArray(added) ? added.map((t) => t?.content).filter((c): c is string => typeof c === 'string') : []);
}

function resolveHead(root: string, wanted: string | null, issues: FolderIssue[]): string | null {
  if (wanted === null) {
    const direct = join(root, 'head.json');
    const inDir = listFiles(join(root, 'heads')).filter((f) => f.endsWith('.json'));
    if (existsSync(direct)) {
      if (inDir.length > 0)
        issues.push({
          path: 'head.json',
          message: `ambiguous: both head.json and heads/ (${inDir.join(', ')}) exist; name the head in dtr.json 'head'`,
        });
      return direct;
    }
    if (inDir.length === 1) return join(root, 'heads', inDir[0]!);
    issues.push({
      path: 'head.json',
      message:
        inDir.length > 1
          ? `no head chosen: heads/ holds ${inDir.join(', ')}; name one in dtr.json 'head'`
          : `missing: put the linear head in head.json or heads/, or name one in dtr.json 'head' (shipped heads: ${listHeads().join(', ') || 'none'})`,
    });
    return null;
  }
  const candidates = looksLikePath(wanted)
    ? [resolve(root, wanted)]
    : [join(root, 'heads', `${wanted}.json`), join(shippedHeadsDir(), `${wanted}.json`)];
  const hit = candidates.find((c) => existsSync(c) && !statSync(c).isDirectory());
  if (!hit)
    issues.push({
      path: `${MODEL_CONFIG_FILE}: head`,
      message: `no head ${JSON.stringify(wanted)}: looked for ${candidates.map((c) => rel(root, c)).join(', ')}`,
    });
  return hit ?? null;
}

function resolveTree(root: string, wanted: string, issues: FolderIssue[]): string | null {
  const candidates = looksLikePath(wanted)
    ? [resolve(root, wanted)]
    : [join(root, 'trees', `${wanted}.json`), join(shippedTreesDir(), `${wanted}.json`)];
  const hit = candidates.find((c) => existsSync(c) && !statSync(c).isDirectory());
  if (!hit)
    issues.push({
      path: `${MODEL_CONFIG_FILE}: tree`,
      message: `no tree ${JSON.stringify(wanted)}: looked for ${candidates.map((c) => rel(root, c)).join(', ')} (shipped trees: ${listTrees().join(', ')})`,
    });
  return hit ?? null;
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || s.endsWith('.json') || isAbsolute(s);
}

/** Reads a JSON file; on failure records an issue and returns undefined. */
function readJsonIssue(path: string, label: string, issues: FolderIssue[], missing: string): unknown {
  if (!existsSync(path)) {
    issues.push({ path: label, message: missing });
    return undefined;
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    issues.push({ path: label, message: `unreadable: ${(e as Error).message}` });
    return undefined;
  }
  const bad = findInvalidUtf8(bytes);
  if (bad) {
    const { line, text } = describeInvalidUtf8(bytes, bad);
    issues.push({ path: `${label}:${line}`, message: `not valid UTF-8 (${text})` });
    return undefined;
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    issues.push({ path: label, message: `not valid JSON: ${(e as Error).message}` });
    return undefined;
  }
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function rel(root: string, p: string): string {
  return p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p;
}
