/**
 * The export bridge, by checkpoint kind and rule (see export-bridge.test.ts for the pipeline):
 * RLHFlow-style checkpoints (five labels in a shuffled id2label order + decision_tree.pkl), the
 * scalar's pad rules (a pad token that ends conversations; no pad token in config.json; the
 * rule of transformers < 4.49), a --check that fails (over the tolerance, NaN) writing nothing,
 * and fp16 / mixed precision against the fp32 and the bf16 reference. Every folder is held to
 * transformers' own outputs, written by the exporter's --reference-out (the same reference
 * hf_reference.py writes).
 *
 * The Python steps run in one process before the tests (runSteps in support/bridge.ts), which
 * then check their results.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTRIBUTES } from '../src/attributes.js';
import { RewardModel } from '../src/model/reward-model.js';
import {
  checkpointAt,
  checkpointStep,
  exportStep,
  GEMMA_ARGS,
  holdToTransformers,
  json,
  LLAMA_ARGS,
  LLAMA_TEMPLATE,
  LLAMA_TOKENIZER,
  runSteps,
  SKIP,
  type Step,
  type StepResult,
  stepOk,
  TOL,
} from './support/bridge.js';
import { readReference } from './support/parity.js';
import { runsTorchSuites } from './support/python.js';
import { tempDir } from './support/temp.js';

/** The load line of a checkpoint in a step's code: model (fp32, eager) and tokenizer. */
const load = (hf: string): string => `
import json, torch, transformers
import dtr_export as d, export_check as c, export_graph as g
hf = ${JSON.stringify(hf)}
model = transformers.AutoModelForSequenceClassification.from_pretrained(hf, attn_implementation="eager", **d._dtype_kwarg(transformers, torch.float32)).eval()
tok = transformers.AutoTokenizer.from_pretrained(hf)
rows = [c.token_ids(tok, m) for m in c.check_conversations()]
`;

describe.skipIf(!runsTorchSuites())(`dtr_export.py by checkpoint kind, pad rule and dtype, against transformers${SKIP}`, () => {
  const dir = tempDir('dtr-bridge-kinds-');
  const LLAMA_TREE = ['--tree', 'rlhflow-llama-3.1-8b'];
  const GEMMA_TREE = ['--tree', 'rlhflow-gemma-2-27b'];
  const rlhflowArgs = ['--arch', 'llama', '--kind', 'rlhflow', '--tokenizer', LLAMA_TOKENIZER, '--chat-template', LLAMA_TEMPLATE];
  const eotArgs = [...LLAMA_ARGS, '--pad-token', '<|eot_id|>'];
  const padNullArgs = [...eotArgs, '--config-pad-null'];
  const llama = checkpointAt(dir, 'tiny-llama-3.1-hf', LLAMA_ARGS);
  const gemma = checkpointAt(dir, 'tiny-gemma-2-hf', GEMMA_ARGS);
  const rlhflow = checkpointAt(dir, 'tiny-rlhflow-hf', rlhflowArgs);
  const eot = checkpointAt(dir, 'tiny-eot-pad-hf', eotArgs);
  const padNull = checkpointAt(dir, 'tiny-pad-null-hf', padNullArgs);
  const poisoned = { hf: join(dir, 'tiny-nan-hf'), head: llama.head };
  const dtypes = [
    ['llama', llama, LLAMA_TREE],
    ['gemma', gemma, GEMMA_TREE],
  ] as const;
  let steps: Record<string, StepResult>;

  beforeAll(() => {
    const all: Step[] = [
      checkpointStep(llama, LLAMA_ARGS),
      checkpointStep(gemma, GEMMA_ARGS),
      checkpointStep(rlhflow, rlhflowArgs),
      checkpointStep(eot, eotArgs),
      checkpointStep(padNull, padNullArgs),
      exportStep('rlhflow export', rlhflow, join(dir, 'rlhflow-out'), [
        '--check',
        '--name',
        'tiny-rlhflow',
        '--reference-out',
        join(dir, 'rlhflow-reference.json'),
      ]),
      {
        name: 'rlhflow score layer',
        code: `
import json, safetensors.numpy as s
w = s.load_file(${JSON.stringify(join(rlhflow.hf, 'model.safetensors'))})["score.weight"]
labels = json.load(open(${JSON.stringify(join(rlhflow.hf, 'config.json'))}))["id2label"]
print(json.dumps({labels[str(i)]: [float(x) for x in w[i]] for i in range(5)}))`,
      },
      exportStep('eot export', eot, join(dir, 'eot-out'), [...LLAMA_TREE, '--check', '--reference-out', join(dir, 'eot-reference.json')]),
      {
        name: 'eot score weight',
        code: `
import json, safetensors.numpy as s
print(json.dumps([float(x) for x in s.load_file(${JSON.stringify(join(eot.hf, 'model.safetensors'))})["score.weight"][0]]))`,
      },
      exportStep('pad-null export', padNull, join(dir, 'pad-null-out'), [
        ...LLAMA_TREE,
        '--check',
        '--reference-out',
        join(dir, 'pad-null-reference.json'),
      ]),
      {
        // The checkpoint's own forward, loaded afresh (not the exporter's reference): one
        // conversation at a time, config as saved (pad_token_id null); then what writing the
        // tokenizer's pad id into the config would give; and transformers' refusal of a batch.
        name: 'pad-null own forward',
        code: `${load(padNull.hf)}
assert model.config.pad_token_id is None and tok.pad_token_id == 128009, (model.config.pad_token_id, tok.pad_token_id)
with torch.no_grad():
    own = [float(model(input_ids=torch.tensor([ids])).logits[0, 0]) for ids in rows]
    model.config.pad_token_id = tok.pad_token_id
    with_pad = [float(model(input_ids=torch.tensor([ids])).logits[0, 0]) for ids in rows]
    model.config.pad_token_id = None
    try:
        model(input_ids=torch.tensor([rows[2], rows[2]]))
        refused = None
    except ValueError as e:
        refused = str(e)
print(json.dumps({"own": own, "withPad": with_pad, "refused": refused}))`,
      },
      {
        // transformers < 4.49 reads the score at the token before the first pad token: the
        // graph's 'first-pad-minus-one' rule, held to that code (transcribed from
        // LlamaForSequenceClassification.forward, 4.45-4.48) on the eot-pad checkpoint, where
        // the three rules read three different tokens.
        name: 'first-pad-minus-one graph',
        code: `${load(eot.hf)}
import os, tempfile, onnxruntime as ort
pad = model.config.pad_token_id
base = g.base_model(model)
def old_index(input_ids):  # transformers 4.45-4.48
    sequence_lengths = torch.eq(input_ids, pad).int().argmax(-1) - 1
    return sequence_lengths % input_ids.shape[-1]
old, new, last, index = [], [], [], []
with torch.no_grad():
    for ids in rows:
        t = torch.tensor([ids])
        logits = model.score(base(input_ids=t).last_hidden_state)
        i = old_index(t)
        index.append([int(i[0]), len(ids)])
        old.append(float(logits[torch.arange(1), i][0, 0]))
        new.append(float(model(input_ids=t).logits[0, 0]))
        last.append(float(logits[0, -1, 0]))
module = g.build_module(model, score_weight=model.score.weight.detach().numpy(), pad_token_id=pad, score_rule="first-pad-minus-one")
out = tempfile.mkdtemp(dir=${JSON.stringify(dir)})  # removed with the suite's folder
names = g.export_onnx(module, out, d.example_inputs(tok, torch, "cpu", pad), 17)
session = ort.InferenceSession(os.path.join(out, "model.onnx"), providers=["CPUExecutionProvider"])
worst = 0.0
for side, batch in (("right", 1), ("right", len(rows)), ("left", len(rows))):
    got = c.run_graph(session, names, rows, side, pad, batch)["logits"]
    worst = max(worst, max(abs(float(got[k][0]) - old[k]) for k in range(len(rows))))
rules = {v: g.scalar_rule(v, 7) for v in ("4.45.2", "4.48.3", "4.49.0", "5.18.0")}
print(json.dumps({"worst": worst, "old": old, "new": new, "last": last, "index": index, "rules": rules, "noPad": g.scalar_rule("4.46.0", None)}))`,
      },
      exportStep('strict export', llama, join(dir, 'strict-out'), [...LLAMA_TREE, '--check', '--tolerance', '1e-12']),
      {
        name: 'poison',
        code: `
import shutil, safetensors.numpy as s, numpy as np
shutil.copytree(${JSON.stringify(llama.hf)}, ${JSON.stringify(poisoned.hf)})
p = ${JSON.stringify(poisoned.hf)} + "/model.safetensors"
t = s.load_file(p); k = [n for n in t if n.endswith("layers.1.mlp.down_proj.weight")][0]; t[k][0, 0] = np.nan
s.save_file(t, p, metadata={"format": "pt"})`,
      },
      exportStep('nan export', poisoned, join(dir, 'nan-out'), [...LLAMA_TREE, '--check']),
    ];
    for (const [name, cp, tree] of dtypes) {
      for (const dtype of ['fp16', 'mixed']) {
        for (const reference of ['fp32', 'bf16']) {
          all.push(
            exportStep(`${name} ${dtype} vs ${reference}`, cp, join(dir, `${name}-${dtype}-${reference}`), [
              ...tree,
              '--dtype',
              dtype,
              '--reference-dtype',
              reference,
              '--check',
            ]),
          );
        }
      }
    }
    all.push(
      exportStep('llama fp32 vs bf16', llama, join(dir, 'llama-fp32-bf16'), [...LLAMA_TREE, '--reference-dtype', 'bf16', '--check']),
      exportStep('gemma fp16 unchecked', gemma, join(dir, 'gemma-fp16-unchecked'), [...GEMMA_TREE, '--dtype', 'fp16']),
      exportStep('llama bf16 on cpu', llama, join(dir, 'llama-bf16'), [...LLAMA_TREE, '--dtype', 'bf16', '--check']),
    );
    steps = runSteps(all);
  }, 2_400_000);

  it('RLHFlow kind: the 5-label score layer is the head (rows by id2label), decision_tree.pkl converted with the pickle warning', async () => {
    const out = join(dir, 'rlhflow-out');
    const stderr = stepOk(steps, 'rlhflow export').stderr;
    expect(stderr).toMatch(/warning: unpickling decision_tree\.pkl runs code from the file; only convert pickles you trust/);
    const cfg = json(join(out, 'dtr.json'));
    expect(cfg.backbone.rewardOutput).toBeNull();
    expect(cfg.tree).toBe('trees/tiny-rlhflow-tree.json');
    expect(cfg.head).toBe('heads/tiny-rlhflow-head.json');
    // The head's rows are the score layer's, reordered from id2label's order into the SDK's.
    const rows = JSON.parse(stepOk(steps, 'rlhflow score layer').stdout) as Record<string, number[]>;
    const head = json(join(out, cfg.head as string));
    expect(head.attributes).toEqual([...ATTRIBUTES]);
    ATTRIBUTES.forEach((a, k) => expect(head.weight[k]).toEqual(rows[a]));
    expect(json(join(rlhflow.hf, 'config.json')).id2label['0']).toBe('verbosity');
    await holdToTransformers(out, join(dir, 'rlhflow-reference.json'));
    const model = await RewardModel.load({ dir: out, provider: 'cpu', tokenizeInWorker: false });
    expect(model.tree.name).toBe('tiny-rlhflow-tree');
    await model.dispose();
  }, 300_000);

  it("a pad token that ends conversations: the scalar follows transformers' pad rule, pooled the last token; both match transformers", async () => {
    const out = join(dir, 'eot-out');
    stepOk(steps, 'eot export');
    const cfg = json(join(out, 'dtr.json'));
    expect(cfg.backbone.padTokenId).toBe(128009);
    expect(cfg.backbone.outputPooling).toEqual({ pooled: 'last-token', logits: 'last-non-pad-token' });
    const refFile = join(dir, 'eot-reference.json');
    await holdToTransformers(out, refFile);
    // The rule matters here: every conversation ends with <|eot_id|>, so transformers' score
    // reads the token before it, and the score layer on the last token would give another number.
    const score = JSON.parse(stepOk(steps, 'eot score weight').stdout) as number[];
    for (const row of readReference(refFile).rows) {
      const atLast = (row.pooled as number[]).reduce((s, v, k) => s + v * score[k]!, 0);
      expect(row.inputIds.at(-1)).toBe(128009);
      expect(Math.abs(atLast - (row.logits as number[])[0]!)).toBeGreaterThan(1e-3);
    }
  }, 300_000);

  it("no pad token in config.json (the tokenizer's is <|eot_id|>): the config is left alone, and the scalar is the checkpoint's own batch-1 forward (the last token)", async () => {
    const out = join(dir, 'pad-null-out');
    stepOk(steps, 'pad-null export');
    expect(json(join(padNull.hf, 'config.json')).pad_token_id).toBeNull();
    const cfg = json(join(out, 'dtr.json'));
    expect(cfg.backbone.outputPooling).toEqual({ pooled: 'last-token', logits: 'last-token' });
    expect(cfg.backbone.padTokenId).toBeNull();
    expect(json(join(out, 'export.json')).scalarPooling).toBe('last-token');
    await holdToTransformers(out, join(dir, 'pad-null-reference.json'));

    const forward = JSON.parse(stepOk(steps, 'pad-null own forward').stdout) as {
      own: number[];
      withPad: number[];
      refused: string | null;
    };
    // transformers refuses batches without a pad token, and reads the last token of one conversation.
    expect(forward.refused).toMatch(/Cannot handle batch sizes > 1 if no padding token is defined/);
    const ref = readReference(join(dir, 'pad-null-reference.json'));
    ref.rows.forEach((row, i) => {
      expect((row.logits as number[])[0]).toBeCloseTo(forward.own[i]!, 5);
      // The tokenizer's pad id in the config would read another token (the one before <|eot_id|>).
      expect(Math.abs(forward.withPad[i]! - forward.own[i]!), `row ${i}`).toBeGreaterThan(1e-3);
    });
    // Through the SDK, one at a time and padded on both sides: the model's own forward within TOL.
    const model = await RewardModel.load({ dir: out, provider: 'cpu', tokenizeInWorker: false });
    try {
      const items = ref.rows.map((r) => ({ prompt: r.messages.slice(0, -1), response: r.messages.at(-1)!.content }));
      for (const options of [
        { batchSize: 1 },
        { batchSize: items.length, paddingSide: 'right' as const },
        { batchSize: items.length, paddingSide: 'left' as const },
      ]) {
        const scores = await model.scoreMany(items, options);
        scores.forEach((s, i) =>
          expect(Math.abs(s.backboneReward! - forward.own[i]!), `row ${i} ${JSON.stringify(options)}`).toBeLessThanOrEqual(TOL),
        );
      }
    } finally {
      await model.dispose();
    }
  }, 300_000);

  it("transformers < 4.49's rule (the token before the first pad token): the graph reproduces that code on both padding sides", () => {
    const r = JSON.parse(stepOk(steps, 'first-pad-minus-one graph').stdout) as {
      worst: number;
      old: number[];
      new: number[];
      last: number[];
      index: Array<[number, number]>;
      rules: Record<string, string>;
      noPad: string;
    };
    expect(r.rules).toEqual({
      '4.45.2': 'first-pad-minus-one',
      '4.48.3': 'first-pad-minus-one',
      '4.49.0': 'last-non-pad-token',
      '5.18.0': 'last-non-pad-token',
    });
    expect(r.noPad).toBe('last-token');
    expect(r.worst).toBeLessThanOrEqual(TOL);
    // Llama-3.1's template puts <|eot_id|> after the system header: the old rule reads the token
    // before it, far from the end; the three rules give three different numbers.
    r.index.forEach(([at, length], i) => {
      expect(at, `row ${i}`).toBeLessThan(length - 2);
      expect(Math.abs(r.old[i]! - r.new[i]!), `row ${i}`).toBeGreaterThan(1e-3);
      expect(Math.abs(r.old[i]! - r.last[i]!), `row ${i}`).toBeGreaterThan(1e-3);
    });
  });

  it('a --check that can fail: over the tolerance (or NaN) it exits 1, says which output, and writes nothing', () => {
    const strict = steps['strict export']!;
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/check pooled: max \|onnxruntime - transformers\| = \S+ \(limit 1e-12\) FAILED/);
    expect(strict.stderr).toMatch(/dtr_export: --check failed: the exported graph is off transformers \(.*pooled.*\); nothing was written/);
    expect(existsSync(join(dir, 'strict-out'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);

    // A checkpoint with a NaN weight: the graph gives NaN, and NaN fails (it is never printed as a number and passed).
    stepOk(steps, 'poison');
    const nan = steps['nan export']!;
    expect(nan.code).toBe(1);
    expect(nan.stderr).toMatch(/FAILED: NaN or Inf/);
    expect(existsSync(join(dir, 'nan-out'))).toBe(false);
  });

  it('fp16 and mixed precision pass --check against the fp32 and the bf16 reference with the error recorded; Gemma-2 fp16 only with --check; bf16 needs CUDA', () => {
    const worst: Record<string, Record<string, number>> = {};
    const runs = [
      ...dtypes.flatMap(([name]) => ['fp16', 'mixed'].flatMap((dtype) => ['fp32', 'bf16'].map((reference) => [name, dtype, reference]))),
      ['llama', 'fp32', 'bf16'],
    ];
    for (const [name, dtype, reference] of runs) {
      const label = `${name} ${dtype} vs ${reference}`;
      const stderr = stepOk(steps, label).stderr;
      expect(stderr).toContain(`against transformers in ${reference} (${dtype}: |diff| <= `);
      const out = join(dir, `${name}-${dtype}-${reference}`);
      const check = json(join(out, 'export.json')).check as {
        ok: boolean;
        referenceDtype: string;
        worst: Record<string, { maxAbsDiff: number; limit: number }>;
      };
      expect(check.ok, label).toBe(true);
      expect(check.referenceDtype).toBe(reference);
      worst[label] = Object.fromEntries(Object.entries(check.worst).map(([k, v]) => [k, v.maxAbsDiff]));
      expect(json(join(out, 'dtr.json')).backbone.dtype).toBe(dtype);
    }
    // Every low-precision output really is low precision (not silently fp32), and within its limit.
    for (const [k, v] of Object.entries(worst)) expect(v.pooled, k).toBeGreaterThan(1e-6);
    const refused = steps['gemma fp16 unchecked']!;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Gemma-2 overflows fp16 .* written only when --check passes/);
    const bf16 = steps['llama bf16 on cpu']!;
    expect(bf16.code).toBe(1);
    expect(bf16.stderr).toMatch(/--dtype bf16 --check needs --device cuda/);
  });
});
