/**
 * Loading a model folder: everything is checked up front and every problem is listed at once.
 * The folder's files and dtr.json (folder.ts), the tokenizer and chat template on a probe
 * conversation, the ONNX graph's inputs and outputs against dtr.json's binding, and the head's
 * hidden size; then the pieces a {@link RewardModel} is made of.
 *
 * May import: its own folder (model/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * eval/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { availableParallelism } from 'node:os';
import { ATTRIBUTE_COUNT } from '../attributes.js';
import { createOrtBackbone } from '../backbone/ort.js';
import { createRemoteBackbone } from '../backbone/remote.js';
import { checkLimits } from '../backbone/batching.js';
import type { Backbone, BackboneBinding } from '../backbone/types.js';
import { DtrError, formatIssues } from '../errors.js';
import type { LinearHead } from '../head/head.js';
import { ConversationEncoder } from '../text/encoder.js';
import { ChatTemplate } from '../text/template.js';
import { TextTokenizer } from '../text/tokenizer.js';
import type { ModelConfig } from './config.js';
import { inspectModelFolder, type FolderIssue, type ModelFolder } from './folder.js';
import { resolveRemote, scoreLayerOf, usesRemote } from './remote.js';
import type { LoadOptions } from './types.js';

/** What a loaded model is made of: the checked folder, its text processing and its backbone. */
export interface ModelParts {
  folder: ModelFolder;
  tokenizer: TextTokenizer;
  encoder: ConversationEncoder;
  backbone: Backbone;
  /** Warnings raised while loading (already sent to `onWarning`). */
  warnings: string[];
  tokenizeInWorker: boolean | 'auto';
}

/**
 * Loads and checks a model folder (see {@link RewardModel.load}): every missing or inconsistent
 * piece is listed at once in one `E_MODEL` error (`E_SHAPE` when the only problem is a
 * hidden-size mismatch). Nothing is left running when it throws.
 *
 * @example
 * ```ts
 * const parts = await loadModelParts({ dir: 'models/fixture', provider: 'cpu' });
 * parts.backbone.provider; // 'cpu'
 * ```
 */
export async function loadModelParts(dirOrOptions: string | LoadOptions): Promise<ModelParts> {
  const options: LoadOptions = typeof dirOrOptions === 'string' ? { dir: dirOrOptions } : dirOrOptions;
  if (options === null || typeof options !== 'object')
    throw new TypeError('RewardModel.load expects a folder path or an options object {dir, ...}');
  if (typeof options.dir !== 'string' || options.dir.trim() === '') throw new TypeError('dir must be the path of a model folder');
  checkLoadOptions(options);
  const onWarning = options.onWarning ?? ((m: string) => void process.stderr.write(`dtr: warning: ${m}\n`));

  const inspected = inspectModelFolder(options.dir, {
    ...(options.head !== undefined ? { head: options.head } : {}),
    ...(options.tree !== undefined ? { tree: options.tree } : {}),
    ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
    ...(options.paddingSide !== undefined ? { paddingSide: options.paddingSide } : {}),
    ...(options.provider !== undefined ? { provider: options.provider } : {}),
    ...(options.chatTemplate !== undefined ? { chatTemplate: options.chatTemplate } : {}),
    ...(options.remote !== undefined ? { remote: true } : {}),
  });
  const issues: FolderIssue[] = inspected.success ? [] : [...inspected.issues];
  if (
    !inspected.success &&
    issues.length === 1 &&
    (issues[0]!.message === 'no such folder' || issues[0]!.message.startsWith('not a folder'))
  ) {
    throw new DtrError('E_NOT_FOUND', `${options.dir}: ${issues[0]!.message}`);
  }

  // Text: tokenizer and template, checked on a probe conversation (whenever their files are usable).
  let tokenizer: TextTokenizer | null = null;
  let encoder: ConversationEncoder | null = null;
  const partial = inspected.success ? null : inspected.partial;
  if (inspected.success) {
    if (options.batchSize !== undefined) inspected.folder.config.batchSize = options.batchSize;
    if (options.maxTokensPerBatch !== undefined) inspected.folder.config.maxTokensPerBatch = options.maxTokensPerBatch;
  }
  const tokenizerJson = inspected.success ? inspected.folder.tokenizerJson : partial!.tokenizerJson;
  const tokenizerConfig = inspected.success ? inspected.folder.tokenizerConfig : partial!.tokenizerConfig;
  const chatTemplate = inspected.success ? inspected.folder.chatTemplate : partial!.chatTemplate;
  const cfg = inspected.success ? inspected.folder.config : partial!.config;
  if (tokenizerJson && tokenizerConfig) {
    try {
      tokenizer = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig, 'tokenizer.json');
    } catch (e) {
      issues.push({ path: 'tokenizer.json', message: (e as Error).message });
    }
    const where = (inspected.success ? inspected.folder.chatTemplateFrom : partial!.chatTemplateFrom) ?? 'chat template';
    if (tokenizer && chatTemplate !== null) {
      try {
        const template = new ChatTemplate(
          chatTemplate,
          { bos_token: tokenizer.bosToken, eos_token: tokenizer.eosToken, pad_token: tokenizer.padToken, unk_token: tokenizer.unkToken },
          cfg?.templateVariables ?? {},
        );
        encoder = new ConversationEncoder(tokenizer, template, { maxLength: cfg?.maxLength ?? 4096 });
        issues.push(...probeTemplate(encoder, where, options.maxLength === undefined));
      } catch (e) {
        issues.push({ path: where, message: (e as Error).message });
      }
      if (encoder && options.maxLength !== undefined) checkMaxLengthOption(encoder);
    }
  }

  // Backbone: created whenever dtr.json and the ONNX file are usable, so the graph's own
  // mismatches join the same list as the folder's other problems.
  let backbone: Backbone | null = null;
  const warnings: string[] = [];
  const config = cfg;
  const onnxPath = inspected.success ? inspected.folder.paths.onnx : partial!.onnxPath;
  const head = inspected.success ? inspected.folder.head : partial!.head;
  const remote = options.backbone === undefined && usesRemote(config, options.remote);
  if (config && (onnxPath || options.backbone || remote)) {
    const bb = config.backbone;
    if (remote && (options.remote?.protocol ?? bb.remote?.protocol ?? 'openai-embeddings') === 'openai-embeddings') {
      // An embeddings engine pools the last token itself: what comes back is the pooled state.
      if (bb.kind === 'rewards')
        issues.push({
          path: 'dtr.json: backbone.kind',
          message:
            "'rewards' (head fused in the graph) cannot run on an embeddings engine, which returns the pooled state: export with --kind pooled, or serve model.onnx with kserve-v2",
        });
      bb.kind = 'pooled';
    }
    const binding: BackboneBinding = {
      inputIds: bb.inputs.inputIds,
      attentionMask: bb.inputs.attentionMask,
      positionIds: bb.inputs.positionIds,
      output: bb.output,
      rewardOutput: bb.rewardOutput,
    };
    try {
      if (typeof options.backbone === 'function') backbone = await options.backbone(binding);
      else if (options.backbone) backbone = options.backbone;
      else if (remote) {
        const resolved = resolveRemote(config, options.remote);
        let scoreLayer = null;
        if (resolved.protocol === 'openai-embeddings' && binding.rewardOutput !== null) {
          const found = scoreLayerOf(options.dir, config);
          if ('layer' in found) scoreLayer = found.layer;
          else {
            // The scalar is reported absent, with the reason, never guessed.
            const m = `the backbone's own reward ('${binding.rewardOutput}') is absent on an embeddings engine: ${found.absent}`;
            warnings.push(m);
            onWarning(m);
            binding.rewardOutput = null;
            bb.rewardOutput = null;
          }
        }
        const probeIds = encoder ? encoder.encode('probe prompt', 'probe response').ids : Int32Array.of(tokenizer?.bosId ?? 0);
        backbone = await createRemoteBackbone(binding, {
          ...resolved,
          probeIds: Array.from(probeIds),
          scoreLayer,
          onWarning: (m) => {
            warnings.push(m);
            onWarning(m);
          },
        });
      } else {
        backbone = await createOrtBackbone(onnxPath!, {
          provider: config.provider,
          binding,
          sessionOptions: { intraOpNumThreads: defaultThreads(), ...options.sessionOptions },
          onWarning: (m) => {
            warnings.push(m);
            onWarning(m);
          },
        });
      }
      issues.push(...checkBinding(backbone, config, head, binding));
    } catch (e) {
      if (e instanceof DtrError && (e.code === 'E_PROVIDER' || ((e.code === 'E_BACKBONE' || e.code === 'E_REMOTE') && issues.length === 0)))
        throw e;
      if (e instanceof RangeError || e instanceof TypeError) throw e;
      issues.push({ path: bb.file, message: e instanceof DtrError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : (e as Error).message });
    }
  }

  if (issues.length > 0 || !inspected.success || !tokenizer || !encoder || !backbone) {
    if (backbone) await backbone.release().catch(() => undefined);
    const onlyShape = issues.length > 0 && issues.every((i) => i.shape);
    throw new DtrError(
      onlyShape ? 'E_SHAPE' : 'E_MODEL',
      `${options.dir} is not a usable model folder (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${formatIssues(issues, 3)}`,
      {
        issues: issues.map(({ path, message }) => ({ path, message })),
        hint: 'see docs/runtime.md for the folder layout and dtr.json fields',
      },
    );
  }
  for (const w of inspected.folder.warnings) {
    warnings.push(w);
    onWarning(w);
  }
  // A head fitted on another backbone reads hidden states it was not fitted on. Not a load
  // problem (sizes already agree, checked above, and a renamed backbone is legitimate), but never silent.
  const mismatch = headBackboneWarning(inspected.folder);
  if (mismatch) {
    warnings.push(mismatch);
    onWarning(mismatch);
  }
  // On CPU, long conversations run faster in small batches (dtr.json cpuMaxTokensPerBatch says why);
  // a maxTokensPerBatch given to load is the caller's choice and stays as given.
  const limits = inspected.folder.config;
  if (backbone.provider === 'cpu' && options.maxTokensPerBatch === undefined)
    limits.maxTokensPerBatch = Math.min(limits.maxTokensPerBatch, limits.cpuMaxTokensPerBatch);
  return { folder: inspected.folder, tokenizer, encoder, backbone, warnings, tokenizeInWorker: options.tokenizeInWorker ?? 'auto' };
}

/**
 * onnxruntime's intra-op threads when the caller sets none: every core this process may use.
 * onnxruntime-node's own default (0) ran a 640-token forward as slowly as one thread on this
 * project's 2-core machine (220 ms, against 125 ms with 2), so the SDK does not leave it to it.
 */
function defaultThreads(): number {
  return availableParallelism();
}

/** The warning for a head whose `backbone` is not dtr.json's `backbone.id` (null when they agree). */
function headBackboneWarning(folder: ModelFolder): string | null {
  const head = folder.head;
  const id = folder.config.backbone.id;
  if (!head || head.backbone === id) return null;
  const file = folder.paths.head
    ? ` (${folder.paths.head.startsWith(`${folder.dir}/`) ? folder.paths.head.slice(folder.dir.length + 1) : folder.paths.head})`
    : '';
  return (
    `head '${head.name}'${file} was fitted on backbone '${head.backbone}' but this model's backbone is '${id}' (dtr.json backbone.id): ` +
    `its rewards are only meaningful on the hidden states it was fitted on. Use a head fitted on '${id}' (dtr fit-head), ` +
    `or, if it is the same backbone under another name, set the head's "backbone" to '${id}'`
  );
}

/**
 * A `maxLength` given to load that leaves no room for text is the caller's mistake: a RangeError
 * naming it and the smallest usable value (dtr.json's own is a folder issue, from the probe).
 */
function checkMaxLengthOption(encoder: ConversationEncoder): void {
  let overhead: number;
  try {
    overhead = encoder.overhead();
  } catch {
    return; // the template fails to render: the probe has reported it
  }
  if (encoder.maxLength <= overhead + 1) {
    throw new RangeError(
      `maxLength ${encoder.maxLength} leaves no room for text: the chat template alone takes ${overhead} tokens (give at least ${overhead + 2})`,
    );
  }
}

/**
 * The probe conversation's checks: BOS exactly once, nothing after the response's end of turn,
 * and (`checkRoom`: dtr.json's maxLength, not one given to load) room for text.
 */
function probeTemplate(encoder: ConversationEncoder, where: string, checkRoom: boolean): FolderIssue[] {
  const issues: FolderIssue[] = [];
  const response = 'PROBE RESPONSE 7f3a';
  let text: string;
  try {
    text = encoder.template.render([
      { role: 'user', content: 'probe prompt' },
      { role: 'assistant', content: response },
    ]);
  } catch (e) {
    return [{ path: where, message: (e as Error).message }];
  }
  const tail = text.slice(text.lastIndexOf(response) + response.length);
  if (text.lastIndexOf(response) < 0)
    issues.push({ path: where, message: 'the template drops the assistant message: the response would not be scored' });
  else if (/assistant/i.test(tail)) {
    issues.push({
      path: where,
      message: `the template appends a new assistant header after the response even without add_generation_prompt (text after the response: ${JSON.stringify(tail)}); the last token would not be the response's end of turn. Use a template that honours add_generation_prompt (set chatTemplate in dtr.json)`,
    });
  }
  const tok = encoder.tokenizer;
  if (tok.bosId !== null) {
    const ids = tok.encode(text);
    const count = ids.filter((id) => id === tok.bosId).length;
    if (count > 1)
      issues.push({
        path: where,
        message: `BOS (${tok.bosToken}) appears ${count} times in a rendered conversation; it must appear exactly once`,
      });
    if (count === 1 && ids[0] !== tok.bosId) issues.push({ path: where, message: `BOS (${tok.bosToken}) is not the first token` });
  }
  try {
    const overhead = encoder.overhead();
    if (checkRoom && encoder.maxLength <= overhead + 1)
      issues.push({
        path: 'dtr.json: maxLength',
        message: `${encoder.maxLength} leaves no room for text: the template alone takes ${overhead} tokens`,
      });
  } catch (e) {
    issues.push({ path: where, message: (e as Error).message });
  }
  return issues;
}

/** dtr.json's inputs/outputs against what the ONNX graph has; lists what it has. */
function checkBinding(backbone: Backbone, config: ModelConfig, head: LinearHead | null, binding: BackboneBinding): FolderIssue[] {
  const issues: FolderIssue[] = [];
  const file = config.backbone.file;
  const inputs = backbone.inputs.map((v) => v.name);
  const outputs = backbone.outputs.map((v) => v.name);
  const has = `the graph has inputs [${inputs.join(', ')}] and outputs [${outputs.join(', ')}]`;
  const wanted: Array<[string, string | null]> = [
    ['backbone.inputs.inputIds', binding.inputIds],
    ['backbone.inputs.attentionMask', binding.attentionMask],
    ['backbone.inputs.positionIds', binding.positionIds],
  ];
  for (const [key, name] of wanted)
    if (name !== null && !inputs.includes(name))
      issues.push({ path: `dtr.json: ${key}`, message: `'${name}' is not an input of ${file}: ${has}` });
  const fed = new Set(wanted.map(([, n]) => n).filter((n): n is string => n !== null));
  for (const name of inputs)
    if (!fed.has(name))
      issues.push({
        path: `dtr.json: backbone.inputs`,
        message: `${file} needs input '${name}', which dtr.json does not map (inputIds / attentionMask / positionIds): ${has}`,
      });
  if (!outputs.includes(binding.output))
    issues.push({ path: 'dtr.json: backbone.output', message: `'${binding.output}' is not an output of ${file}: ${has}` });
  if (binding.rewardOutput !== null && !outputs.includes(binding.rewardOutput))
    issues.push({ path: 'dtr.json: backbone.rewardOutput', message: `'${binding.rewardOutput}' is not an output of ${file}: ${has}` });
  const main = backbone.outputs.find((v) => v.name === binding.output);
  const kind = config.backbone.kind;
  if (main?.shape) {
    const rank = kind === 'last_hidden_state' ? 3 : 2;
    if (main.shape.length !== rank) {
      issues.push({
        path: 'dtr.json: backbone.kind',
        message: `'${kind}' expects a rank-${rank} output but '${binding.output}' has shape [${main.shape.join(', ')}]`,
      });
    } else {
      const last = main.shape[rank - 1];
      const expected = kind === 'rewards' ? ATTRIBUTE_COUNT : (head?.hiddenSize ?? config.backbone.hiddenSize);
      if (typeof last === 'number' && expected !== null && last !== expected) {
        issues.push({
          path: 'dtr.json: backbone',
          message:
            kind === 'rewards'
              ? `output '${binding.output}' has ${last} columns; kind 'rewards' needs ${ATTRIBUTE_COUNT}`
              : head
                ? `head '${head.name}' expects hidden size ${expected} but backbone output '${binding.output}' gives ${last}`
                : `dtr.json backbone.hiddenSize is ${expected} but backbone output '${binding.output}' gives ${last}`,
          shape: kind !== 'rewards',
        });
      }
    }
  }
  return issues;
}

function checkLoadOptions(o: LoadOptions): void {
  if (o.provider !== undefined && !['auto', 'cuda', 'cpu'].includes(o.provider))
    throw new RangeError(`provider must be 'auto', 'cuda' or 'cpu', got ${String(o.provider)}`);
  if (o.paddingSide !== undefined && o.paddingSide !== 'left' && o.paddingSide !== 'right')
    throw new RangeError(`paddingSide must be 'left' or 'right', got ${String(o.paddingSide)}`);
  if (o.maxLength !== undefined && (!Number.isInteger(o.maxLength) || o.maxLength < 2))
    throw new RangeError(`maxLength must be an integer >= 2, got ${String(o.maxLength)}`);
  checkLimits(o);
  if (o.onWarning !== undefined && typeof o.onWarning !== 'function') throw new TypeError('onWarning must be a function');
  if (o.tokenizeInWorker !== undefined && o.tokenizeInWorker !== 'auto' && typeof o.tokenizeInWorker !== 'boolean')
    throw new TypeError("tokenizeInWorker must be true, false or 'auto'");
}
