/**
 * The folder dtr_export.py writes is one the runtime loads, and the retraining loop runs on it:
 * the fixture backbone's ONNX graph (the exporter's interface: input_ids, attention_mask,
 * position_ids -> pooled, logits) stands in for the torch export, everything else is the real
 * Python folder writer; then embeddings -> EmbeddingsWriter -> fitRidge -> a new head in the folder.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, LinearHead, makeProvenance, RewardModel } from '../src/index.js';
import { fitRidge, ridgeHead } from '../src/advanced.js';
import { EmbeddingsWriter, readEmbeddingsFile, writeSafetensors } from '../src/safetensors.js';
import { buildModel } from '../src/io/onnx.js';
import { validateModelConfig } from '../src/model/config.js';
import { fixtureGraph, fixtureWeights, llama3TokenizerFiles, SKYWORK_LLAMA31_TEMPLATE } from './support/fixture-model.js';
import { runPython } from './support/python.js';
import { need, skipNote } from './support/needs.js';
import { tempDir } from './support/temp.js';

const BRIDGE = fileURLToPath(new URL('../notebooks/python/', import.meta.url));
const py = (code: string, cwd: string): string =>
  runPython(['-c', `import sys; sys.path.insert(0, ${JSON.stringify(BRIDGE)})\n${code}`], { cwd });

const PROMPT =
  'Jane has 12 apples. She gives 4 apples to her friend Mark, then buys 1 more apple, and finally splits all her apples equally among herself and her 2 siblings. How many apples does each person get?';

/** What the exporter would have produced before writing the folder: the graph, tokenizer files, head weights. */
function exportInputs(dir: string): { weights: ReturnType<typeof fixtureWeights> } {
  const weights = fixtureWeights(11, 32);
  writeFileSync(
    join(dir, 'graph.onnx'),
    buildModel(fixtureGraph(weights, { kind: 'pooled', positionIds: true, rewardOutput: true }), { opset: 17 }),
  );
  mkdirSync(join(dir, 'tok'));
  const files = llama3TokenizerFiles();
  copyFileSync(files.tokenizer, join(dir, 'tok/tokenizer.json'));
  const config = JSON.parse(readFileSync(files.config, 'utf8')) as Record<string, unknown>;
  config.chat_template = SKYWORK_LLAMA31_TEMPLATE;
  writeFileSync(join(dir, 'tok/tokenizer_config.json'), JSON.stringify(config));
  // The regression layer as a checkpoint would hold it, rows in another order than the SDK's.
  const order = ['verbosity', 'helpfulness', 'correctness', 'coherence', 'complexity'];
  const w = new Float64Array(5 * 32);
  order.forEach((a, r) =>
    w.set(
      weights.headWeight.subarray(
        ATTRIBUTES.indexOf(a as (typeof ATTRIBUTES)[number]) * 32,
        (ATTRIBUTES.indexOf(a as (typeof ATTRIBUTES)[number]) + 1) * 32,
      ),
      r * 32,
    ),
  );
  const b = Float64Array.from(order, (a) => weights.headBias[ATTRIBUTES.indexOf(a as (typeof ATTRIBUTES)[number])]!);
  writeSafetensors(join(dir, 'regression.safetensors'), {
    weight: { dtype: 'F64', shape: [5, 32], data: w },
    bias: { dtype: 'F64', shape: [5], data: b },
  });
  return { weights };
}

const numpy = need('numpy');

describe.skipIf(!numpy.present)(`an exported model folder in the runtime${skipNote(numpy)}`, () => {
  it('loads, scores like the head it was given, and takes a refitted head', async () => {
    const dir = tempDir('dtr-export-rt-');
    const { weights } = exportInputs(dir);
    py(
      `
import dtr_export as d
w, b = d.read_head_weights("regression.safetensors")
head = d.head_document(w, b, "exported-head", "dtr-fixture-pooled", ["verbosity", "helpfulness", "correctness", "coherence", "complexity"])
d.write_folder("model", name="exported", backbone_id="dtr-fixture-pooled", hidden_size=32, head_doc=head, tree_ref="rlhflow-llama-3.1-8b",
               tokenizer_dir="tok", onnx_files={"model.onnx": "graph.onnx"}, report={"outputs": ["pooled", "logits"]})
`,
      dir,
    );
    const folder = join(dir, 'model');
    const check = validateModelConfig(JSON.parse(readFileSync(join(folder, 'dtr.json'), 'utf8')));
    expect(check.success).toBe(true);

    const model = await RewardModel.load({ dir: folder, provider: 'cpu' });
    try {
      const a = '1. Jane starts with 12 apples and gives 4 to Mark. 12 - 4 = 8. Each person gets 3 apples.';
      const b = 'Each person gets 4 apples.';
      const r = await model.compare(PROMPT, a, b);
      // The exported head (rows reordered by name) is the fixture head: same rewards as applying it to the pooled state.
      const { embeddings, hiddenSize } = await model.embedMany([{ prompt: PROMPT, response: a }]);
      expect(hiddenSize).toBe(32);
      const fixtureHead = new LinearHead({
        name: 'x',
        hiddenSize: 32,
        backbone: 'x',
        weight: weights.headWeight,
        bias: weights.headBias,
        provenance: makeProvenance('x', [], null),
      });
      const want = fixtureHead.apply(embeddings);
      for (const k of ATTRIBUTES) expect(r.rewards.a[k]).toBeCloseTo(want[k], 5);
      expect(typeof r.backboneReward?.a).toBe('number');
      expect(['a', 'b', 'tie']).toContain(r.preference);

      // The retraining loop: embeddings of rated responses -> resumable file -> ridge head -> the folder's head.
      const rows = Array.from({ length: 120 }, (_, i) => ({
        prompt: `Question ${i}: what is ${i} + ${i}?`,
        response: `It is ${2 * i}.${' Really.'.repeat(i % 5)}`,
      }));
      const emb = await model.embedMany(rows);
      const ratings = new Float64Array(120 * 5);
      for (let i = 0; i < 120; i++)
        for (let k = 0; k < 5; k++) ratings[i * 5 + k] = 2 + emb.embeddings[i * 32 + k]! - 0.5 * emb.embeddings[i * 32 + k + 5]!;
      const w = EmbeddingsWriter.open(join(dir, 'emb.safetensors'), {
        rows: 120,
        hiddenSize: 32,
        dtype: 'F32',
        shardRows: 16,
        fingerprint: { model: 'exported' },
        metadata: { backbone: 'dtr-fixture-pooled' },
      });
      w.append(emb.embeddings, ratings);
      w.finish();
      const file = readEmbeddingsFile(join(dir, 'emb.safetensors'));
      const fit = await fitRidge(file.embeddings, file.labels!, { lambda: 1e-6, folds: 4 });
      expect(fit.heldOut!.helpfulness.r2).toBeGreaterThan(0.999);
      ridgeHead(fit, { name: 'refit', backbone: file.metadata.backbone!, provenance: makeProvenance('test', [], null) }).save(
        join(folder, 'heads/refit.json'),
      );
    } finally {
      await model.dispose();
    }
    const refitted = await RewardModel.load({ dir: folder, provider: 'cpu', head: 'refit' });
    try {
      const s = await refitted.score(PROMPT, 'It is 8.');
      const { embeddings } = await refitted.embedMany([{ prompt: PROMPT, response: 'It is 8.' }]);
      expect(s.rewards.helpfulness).toBeCloseTo(2 + embeddings[0]! - 0.5 * embeddings[5]!, 3);
    } finally {
      await refitted.dispose();
    }
  });
});
