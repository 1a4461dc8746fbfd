/**
 * `dtr embed`: last-token hidden states of rated responses as an embeddings file (workflows/embed.ts:
 * resumable, checkpointed).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import { DtrError } from '../errors.js';
import { readRatedResponses } from '../data/responses.js';
import { embedToFile, type EmbedToFileResult } from '../workflows/embed.js';
import { modelIdentity } from '../model/identity.js';
import type { RewardModel } from '../model/reward-model.js';
import type { WritableDtype } from '../io/safetensors.js';
import { currentCommandLine, dataFileRecord, makeProvenance } from '../provenance.js';
import { defineCommand, type CliIO } from './args.js';
import { batchFlags, loadModelArg, MODEL_OPTIONS, BACKBONE_OPTIONS } from './model-args.js';
import { createProgress, type Progress } from './progress.js';
import { pathArg, printJson } from './shared.js';
import { lineList } from '../util/format.js';

const DTYPES: Record<string, WritableDtype> = { f32: 'F32', bf16: 'BF16', f16: 'F16', f64: 'F64' };

export default defineCommand({
  name: 'embed',
  summary: 'last-token hidden states of rated responses, with their ratings, as a safetensors file',
  description: `Runs every (prompt, response) row of --data through the model's chat template, tokenizer and
backbone and writes the pooled last-token hidden state (what the head reads) with the row's five
ratings: tensors 'embeddings' [N, H] and 'labels' [N, 5] (float32, NaN = missing rating), the
layout of RLHFlow's get_embeddings.py, ready for dtr fit-head.

Rows (JSONL), HelpSteer2's layout:
  {"prompt": "...", "response": "...", "helpfulness": 3, "correctness": 3, "coherence": 4, "complexity": 2, "verbosity": 1}
"messages": [{"role", "content"}, ...] may replace "prompt"; the ratings may sit under "ratings": {...};
null or absent = missing. Every row is checked before any work: a key within edit distance 2 of an
attribute name ("helpfulnes", "Coherence") is an error (it would leave that rating missing), and
under "ratings" every key must be an attribute. Ratings outside HelpSteer2's 0-4 scale are used
as given, with a warning naming the rows (another scale, e.g. model rewards, is legitimate). The
summary counts the rated rows per attribute.

Resumable: rows are checkpointed in OUT.parts/ (complete shards, written atomically); after an
interruption (Ctrl-C, a crash) the same command continues after the last complete row. OUT
appears only when every row is in. The file's metadata records the data file's sha256, the
model (name, backbone id, identity hash), the command and the truncated rows.`,
  options: {
    model: MODEL_OPTIONS.model,
    provider: MODEL_OPTIONS.provider,
    'max-length': MODEL_OPTIONS['max-length'],
    'batch-size': MODEL_OPTIONS['batch-size'],
    'max-tokens-per-batch': MODEL_OPTIONS['max-tokens-per-batch'],
    'padding-side': MODEL_OPTIONS['padding-side'],
    ...BACKBONE_OPTIONS,
    data: {
      type: 'string',
      valueName: 'FILE.jsonl',
      description: 'rated responses, one {prompt, response, <ratings>} per line',
      required: true,
    },
    out: { type: 'string', valueName: 'FILE.safetensors', description: 'embeddings file to write', required: true },
    dtype: {
      type: 'string',
      choices: ['f32', 'bf16', 'f16', 'f64'],
      description: "storage type of 'embeddings' (labels are always f32)",
      default: 'f32',
    },
    'shard-rows': {
      type: 'integer',
      min: 1,
      valueName: 'N',
      description: 'rows per checkpoint: an interruption loses at most this many',
      default: 256,
    },
    overwrite: { type: 'boolean', description: 'replace an existing finished output file' },
  },
  examples: [
    'dtr embed --model models/fixture --data test/fixtures/helpsteer2-multiturn.jsonl --out emb.safetensors',
    'dtr embed --model models/skywork-8b --data helpsteer2_responses_long.jsonl --out hs2.safetensors --dtype bf16 --batch-size 16',
  ],
  async run(opts, io) {
    const usage = (message: string): DtrError =>
      new DtrError('E_USAGE', `dtr embed: ${message}`, { hint: "run 'dtr embed --help' for usage" });
    if (!/\.safetensors$/i.test(opts.out)) throw usage(`--out must name a .safetensors file, got '${opts.out}'`);
    const dataPath = pathArg(io, opts.data);
    const outPath = pathArg(io, opts.out);
    // The backbone alone: embeddings need no head (a folder exported without one works too).
    const model = await loadModelArg(opts, io, 'embed', { head: null });
    const controller = new AbortController();
    // The first Ctrl-C stops after the running batch (its rows are kept); the handler is gone
    // then, so a second one kills at once (losing at most --shard-rows rows).
    const stop = (signal: string) => (): void => {
      io.stderr(
        `\ndtr embed: ${signal}: stopping after the running batch and keeping the rows done (${signal === 'SIGINT' ? 'Ctrl-C again' : 'SIGKILL'} stops at once)\n`,
      );
      controller.abort(new DtrError('E_INTERRUPTED', `dtr embed: stopped by ${signal}`));
    };
    const onInt = stop('SIGINT');
    const onTerm = stop('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    let bar: Progress | null = null;
    let reached = 0;
    try {
      const data = readRatedResponses(dataPath, { source: opts.data, check: (p, r) => void model.encoder.checkedConversation(p, r) });
      for (const w of data.warnings) io.stderr(`dtr embed: warning: ${w}\n`);
      const dataRecord = dataFileRecord(opts.data, { rows: data.n, role: 'rated responses', readFrom: dataPath });
      const identity = modelIdentity(model);
      const provenance = makeProvenance(
        'embedded by dtr embed (last-token hidden states, as RLHFlow get_embeddings.py)',
        [dataRecord],
        currentCommandLine(io.argv),
        `model ${model.config.name} at ${opts.model} (backbone ${model.config.backbone.id}; identity sha256 ${identity.backbone} over ${Object.keys(identity.parts.files).join(', ')}, chat template, maxLength ${model.maxLength}); labels: the rows' ratings in ATTRIBUTES order, NaN = missing`,
      );
      const result = await embedToFile(model, data, outPath, {
        dtype: DTYPES[opts.dtype]!,
        shardRows: opts['shard-rows'],
        ...batchFlags(opts),
        ...(opts.overwrite ? { overwrite: true } : {}),
        signal: controller.signal,
        fingerprint: { data: dataRecord.sha256 },
        metadata: {
          data_file: opts.data,
          data_sha256: dataRecord.sha256,
          command: provenance.command ?? '',
          provenance: JSON.stringify(provenance),
        },
        onResume: (rows) =>
          io.stderr(`dtr embed: resuming after ${rows} of ${data.n} rows done by an interrupted run (${opts.out}.parts/)\n`),
        onProgress: (done, total) => {
          if (bar === null) {
            bar = createProgress(io, total - done, { label: 'embed', unit: 'rows', quiet: opts.json });
            reached = done;
          }
          bar.tick(done - reached);
          reached = done;
        },
      });
      (bar as Progress | null)?.done();
      report(io, opts, model, result);
      return 0;
    } catch (e) {
      if (e instanceof DtrError && e.code === 'E_INTERRUPTED') {
        throw new DtrError(
          'E_INTERRUPTED',
          `${e.message} after ${reached} rows; rerun the same command to resume (the finished rows are kept in ${opts.out}.parts/)`,
        );
      }
      throw e;
    } finally {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
      await model.dispose();
    }
  },
});

function report(
  io: CliIO,
  opts: { data: string; out: string; json: boolean; model: string },
  model: RewardModel,
  r: EmbedToFileResult,
): void {
  const t = r.truncatedRows;
  if (t.length > 0) {
    io.stderr(
      `dtr embed: warning: ${t.length} of ${r.rows} conversations were truncated to ${model.maxLength} tokens (rows ${lineList(t.map((i) => i + 1))}; all recorded in the file's truncated_rows metadata)\n`,
    );
  }
  if (r.ratedRows === 0)
    io.stderr(`dtr embed: warning: no row of ${opts.data} has a rating: every label is NaN (give dtr fit-head --ratings FILE.jsonl)\n`);
  if (opts.json) {
    printJson(io, {
      out: opts.out,
      rows: r.rows,
      hiddenSize: r.hiddenSize,
      dtype: r.dtype,
      resumedRows: r.resumedRows,
      computedRows: r.computedRows,
      ratedRows: r.ratedRows,
      ratedPerAttribute: r.ratedPerAttribute,
      truncated: { count: t.length, rows: t },
      model: {
        dir: opts.model,
        name: model.config.name,
        backbone: model.config.backbone.id,
        identity: r.modelIdentity,
        provider: model.provider,
        maxLength: model.maxLength,
      },
      data: { path: opts.data, sha256: r.metadata.data_sha256 },
    });
    return;
  }
  const lines = [
    `embedded ${r.rows} rows x ${r.hiddenSize} (${r.dtype}) with ${model.config.name} (${model.provider}) from ${opts.data}`,
    ...(r.resumedRows > 0 ? [`resumed: ${r.resumedRows} rows from an interrupted run, ${r.computedRows} computed now`] : []),
    `ratings: ${r.ratedRows} of ${r.rows} rows rated (labels [${r.rows}, 5] F32, NaN = missing)`,
    `  rated per attribute: ${ATTRIBUTES.map((a) => `${a} ${r.ratedPerAttribute[a]}`).join(', ')}`,
    `truncated: ${t.length} of ${r.rows} conversations (maxLength ${model.maxLength})`,
    `wrote ${opts.out} (embeddings [${r.rows}, ${r.hiddenSize}] ${r.dtype}, labels [${r.rows}, 5] F32; backbone ${model.config.backbone.id})`,
  ];
  io.stdout(`${lines.join('\n')}\n`);
}
