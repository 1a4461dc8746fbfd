/**
 * `dtr fit-head`: a linear head fitted by ridge regression on an embeddings file (workflows/fit-head.ts),
 * written as a head file.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ATTRIBUTES, ATTRIBUTE_COUNT } from '../attributes.js';
import { parseRatings } from '../data/ratings.js';
import { readJsonl } from '../io/jsonl.js';
import { DtrError } from '../errors.js';
import { fitRidge, ridgeHead, type RidgeFit } from '../head/ridge.js';
import { compileTarget } from '../head/target.js';
import { readEmbeddingsFile } from '../io/embeddings.js';
import { sha256FileAsync } from '../io/hash.js';
import { MODEL_CONFIG_FILE } from '../model/config.js';
import { checkEmbeddingsForModel } from '../workflows/embed.js';
import { currentCommandLine, dataFileRecord, makeProvenance, type DataFileRecord } from '../provenance.js';
import { defineCommand, type CliIO } from './args.js';
import { createProgress, type Progress } from './progress.js';
import { f3, pathArg, printJson, table } from './shared.js';

export default defineCommand({
  name: 'fit-head',
  summary: 'fit a linear head (ridge regression) from embeddings and ratings',
  description: `Fits the five-attribute linear head on pooled hidden states, as scikit-learn's
Ridge(alpha=lambda) does: one attribute at a time on the rows that have its rating (NaN or null =
missing), intercept not penalised. With --lambda auto, lambda is chosen per attribute by k-fold
cross-validation on a log-spaced grid (or one shared lambda for --target). Prints the held-out
R² and MSE per attribute and writes the head file atomically with its provenance.

--embeddings: a safetensors file with 'embeddings' [N, H] (F32, BF16, F16 or F64) and usually
'labels' [N, 5] (NaN = missing), as dtr embed and RLHFlow's get_embeddings.py write.
--ratings: JSONL with the five attributes per line (row i = embeddings row i); replaces 'labels'.
--model: the model folder the head is for: checked before fitting (hidden size, backbone id from
dtr.json; E_SHAPE states both sizes), and its backbone id is recorded in the head. Write the head
into DIR/heads/NAME.json and use it with --head NAME (or name it in dtr.json 'head').`,
  options: {
    embeddings: {
      type: 'string',
      valueName: 'FILE',
      description: 'safetensors file with embeddings [N, H] (and labels [N, 5])',
      required: true,
    },
    ratings: { type: 'string', valueName: 'FILE.jsonl', description: "ratings per row, instead of the file's labels" },
    out: { type: 'string', valueName: 'PATH', description: 'head file to write (e.g. heads/mine.json)', required: true },
    lambda: {
      type: 'string',
      valueName: 'auto|X',
      description: 'ridge penalty (scikit-learn alpha) or auto (cross-validated)',
      default: 'auto',
    },
    lambdas: {
      type: 'string',
      valueName: 'X,Y,...',
      description: 'the grid for --lambda auto (default: 7 values, 1e-5..10 x the mean feature scale)',
    },
    folds: { type: 'integer', min: 0, description: 'cross-validation folds (0: none, fixed --lambda only)', default: 5 },
    seed: { type: 'integer', min: 0, description: 'seed of the fold assignment', default: 0 },
    target: {
      type: 'string',
      valueName: 'FORMULA',
      description: "choose one lambda for a scalarisation, e.g. 'helpfulness + 0.5*correctness'",
    },
    name: { type: 'string', description: 'name stored in the head (default: the file name)' },
    description: { type: 'string', description: 'description stored in the head' },
    backbone: { type: 'string', description: "the backbone the embeddings came from (default: --model's, else the file's metadata)" },
    model: {
      type: 'string',
      valueName: 'DIR',
      description: 'model folder the head is for: its hidden size and backbone are checked first',
    },
    threads: { type: 'integer', min: 1, description: 'onnxruntime threads (default: all cores)' },
  },
  examples: [
    'dtr fit-head --embeddings HelpSteer2-train.safetensors --out heads/mine.json',
    'dtr fit-head --embeddings emb.safetensors --ratings ratings.jsonl --out heads/mine.json --lambda 30 --folds 0',
    "dtr fit-head --embeddings emb.safetensors --out heads/mine.json --target 'helpfulness + 0.5*correctness' --json",
    'dtr fit-head --embeddings emb.safetensors --model models/fixture --out models/fixture/heads/mine.json',
  ],
  async run(opts, io) {
    const usage = (message: string): DtrError =>
      new DtrError('E_USAGE', `dtr fit-head: ${message}`, { hint: "run 'dtr fit-head --help' for usage" });
    let lambda: number | 'auto' = 'auto';
    if (opts.lambda !== 'auto') {
      lambda = Number(opts.lambda);
      if (opts.lambda.trim() === '' || !Number.isFinite(lambda) || lambda <= 0)
        throw usage(`--lambda must be 'auto' or a positive number, got '${opts.lambda}'`);
    }
    let lambdas: number[] | undefined;
    if (opts.lambdas !== undefined) {
      if (lambda !== 'auto') throw usage('--lambdas is the grid of --lambda auto; give one or the other');
      lambdas = opts.lambdas.split(',').map((s) => Number(s.trim()));
      if (lambdas.length === 0 || lambdas.some((l) => !Number.isFinite(l) || l <= 0))
        throw usage(`--lambdas must be positive numbers separated by commas, got '${opts.lambdas}'`);
    }
    if (opts.folds === 1) throw usage('--folds must be 0 (no cross-validation) or an integer >= 2, got 1');
    if (opts.target !== undefined) {
      // Checked before the embeddings are read: a bad formula is the flag's mistake.
      try {
        compileTarget(opts.target);
      } catch (e) {
        if (e instanceof DtrError && e.code === 'E_FORMULA')
          throw new DtrError('E_USAGE', `dtr fit-head: --target ${e.message}`, {
            issues: e.issues,
            ...(e.hint ? { hint: e.hint } : {}),
            cause: e,
          });
        throw e;
      }
    }
    if (opts.folds === 0 && lambda === 'auto') throw usage('--folds 0 needs a fixed --lambda (auto chooses lambda by cross-validation)');
    const outPath = pathArg(io, opts.out);
    if (existsSync(outPath) && statSync(outPath).isDirectory())
      throw usage(`--out ${opts.out} is a directory; give a file path such as ${opts.out.replace(/\/$/, '')}/mine.json`);

    const embPath = pathArg(io, opts.embeddings);
    const emb = readEmbeddingsFile(embPath, { lazy: true }); // rows are streamed by the fit
    const modelConfig =
      opts.model === undefined ? null : checkEmbeddingsForModel(emb, pathArg(io, opts.model), { file: opts.embeddings, dir: opts.model });
    if (modelConfig && opts.backbone !== undefined && opts.backbone !== modelConfig.backbone.id) {
      throw usage(
        `--backbone '${opts.backbone}' is not the backbone of --model ${opts.model} ('${modelConfig.backbone.id}'); drop --backbone`,
      );
    }
    let ratings: Float64Array;
    const data: DataFileRecord[] = []; // the embeddings' record joins once their hash is in (below)
    if (opts.ratings !== undefined) {
      const rPath = pathArg(io, opts.ratings);
      const r = parseRatings(readJsonl(rPath), opts.ratings);
      for (const w of r.warnings) io.stderr(`dtr fit-head: warning: ${w}\n`);
      if (r.n !== emb.rows) {
        throw new DtrError('E_SHAPE', `${opts.ratings} has ${r.n} rows but ${opts.embeddings} has ${emb.rows} embeddings`, {
          hint: 'row i of the ratings must be the response of embeddings row i',
        });
      }
      ratings = r.values;
      data.push(dataFileRecord(opts.ratings, { rows: r.n, role: 'ratings', readFrom: rPath }));
    } else if (emb.labels) {
      ratings = emb.labels;
    } else {
      throw new DtrError('E_DATA', `${opts.embeddings} has no 'labels' tensor`, { hint: 'give the ratings with --ratings FILE.jsonl' });
    }
    const backbone = opts.backbone ?? modelConfig?.backbone.id ?? emb.metadata.backbone ?? emb.metadata.model ?? null;
    if (modelConfig && opts.model !== undefined)
      data.push(
        dataFileRecord(`${opts.model.replace(/\/$/, '')}/${MODEL_CONFIG_FILE}`, {
          role: 'model config',
          readFrom: join(pathArg(io, opts.model), MODEL_CONFIG_FILE),
        }),
      );
    if (backbone === null)
      io.stderr(`dtr fit-head: warning: ${opts.embeddings} does not name its backbone; pass --backbone so the head records it\n`);

    const embSha = sha256FileAsync(embPath); // hashed on a worker thread while the head is fitted
    embSha.catch(() => undefined);
    const bars = stageBars(io, opts.json);
    const fit = await fitRidge(emb.embeddings, ratings, {
      lambda,
      ...(lambdas ? { lambdas } : {}),
      folds: opts.folds,
      seed: opts.seed,
      ...(opts.target !== undefined ? { target: opts.target } : {}),
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      onProgress: bars.tick,
    });
    bars.done();
    data.unshift(dataFileRecord(opts.embeddings, { rows: emb.rows, role: 'embeddings', sha256: await embSha }));
    for (const w of fit.warnings) io.stderr(`dtr fit-head: warning: ${w}\n`);

    const name = opts.name ?? opts.out.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
    const notes = [
      lambda === 'auto'
        ? `lambda chosen by ${fit.cv!.folds}-fold cross-validation (seed ${opts.seed}) over ${fit.cv!.grid.join(', ')}`
        : `fixed lambda ${lambda}`,
      `ridge as scikit-learn Ridge(alpha=lambda, fit_intercept=True), per attribute on rated rows (${fit.rows.used} of ${fit.rows.total} rows rated)`,
    ];
    if (fit.target) notes.push(`one lambda for target ${JSON.stringify(fit.target.formula)}`);
    const head = ridgeHead(fit, {
      name,
      description: opts.description ?? `ridge head fitted by dtr fit-head on ${opts.embeddings}`,
      backbone: backbone ?? 'unknown',
      provenance: makeProvenance('fitted by dtr fit-head (ridge regression)', data, currentCommandLine(io.argv), notes.join('; ')),
    });
    head.save(outPath);
    if (opts.json) {
      printJson(io, fitHeadJson(fit, opts.out, emb.embeddings.dtype));
      return 0;
    }
    io.stdout(
      renderFitHead(fit, opts.out, {
        embeddings: opts.embeddings,
        dtype: emb.embeddings.dtype,
        ratings: opts.ratings ?? null,
        backbone: backbone ?? 'unknown',
      }),
    );
    if (opts.model !== undefined) {
      const inFolder = resolve(outPath) === resolve(pathArg(io, opts.model), 'heads', `${basename(outPath, '.json')}.json`);
      io.stdout(
        `use it: dtr compare --model ${opts.model} --head ${inFolder ? basename(outPath, '.json') : opts.out} ... (or set "head" in ${opts.model.replace(/\/$/, '')}/${MODEL_CONFIG_FILE})\n`,
      );
    }
    return 0;
  },
});

/** One progress bar per stage (read, gram, cv, fit), each with rate and ETA. */
function stageBars(io: CliIO, quiet: boolean): { tick: (stage: string, done: number, total: number) => void; done: () => void } {
  const units: Record<string, [string, string]> = {
    read: ['reading', 'rows'],
    gram: ['Gram', 'panels'],
    cv: ['cross-validation', 'fits'],
    fit: ['final fit', 'fits'],
  };
  let current: { stage: string; bar: Progress; at: number } | null = null;
  return {
    tick(stage, done, total) {
      if (!current || current.stage !== stage) {
        current?.bar.done();
        const [label, unit] = units[stage] ?? [stage, 'steps'];
        current = { stage, bar: createProgress(io, total, { label, unit, quiet }), at: 0 };
      }
      current.bar.tick(done - current.at);
      current.at = done;
    },
    done() {
      current?.bar.done();
      current = null;
    },
  };
}

/**
 * The `--json` document of `dtr fit-head`.
 *
 * @example
 * ```ts
 * printJson(io, fitHeadJson(await fitRidge(emb, ratings), 'heads/mine.json', 'BF16'));
 * ```
 */
export function fitHeadJson(fit: RidgeFit, out: string, dtype: string): Record<string, unknown> {
  return {
    out,
    hiddenSize: fit.hiddenSize,
    dtype,
    rows: fit.rows,
    lambda: fit.lambda,
    cv: fit.cv,
    heldOut: fit.heldOut,
    target: fit.target,
    warnings: fit.warnings,
    timings: fit.timings,
  };
}

const g3 = (x: number): string =>
  x === 0 ? '0' : Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(2) : Number(x.toPrecision(3)).toString();

/**
 * The human-readable report of `dtr fit-head`.
 *
 * @example
 * ```ts
 * io.stdout(renderFitHead(fit, 'heads/mine.json', { embeddings: 'emb.safetensors', dtype: 'BF16', ratings: null, backbone: 'x' }));
 * ```
 */
export function renderFitHead(
  fit: RidgeFit,
  out: string,
  src: { embeddings: string; dtype: string; ratings: string | null; backbone: string },
): string {
  const lines: string[] = [];
  lines.push(
    `fitted a ridge head on ${fit.rows.used} rows x ${fit.hiddenSize} (${src.dtype}) from ${src.embeddings}${src.ratings ? `, ratings from ${src.ratings}` : ''}`,
  );
  if (fit.rows.used < fit.rows.total) lines.push(`${fit.rows.total - fit.rows.used} rows without any rating were skipped`);
  if (fit.cv) {
    const cv = fit.cv;
    lines.push(
      `lambda chosen by ${cv.folds}-fold cross-validation${cv.seed !== null ? ` (seed ${cv.seed})` : ''} over ${cv.grid.length} values (mean feature scale ${g3(cv.scale)})`,
    );
    lines.push('', 'held-out MSE by lambda (* = chosen):');
    const header = ['lambda', ...ATTRIBUTES, ...(cv.targetMse ? ['target'] : [])];
    const rows = cv.grid.map((l, gi) => [
      g3(l),
      ...ATTRIBUTES.map((a) => {
        const v = cv.mse[a][gi];
        return v === null || v === undefined ? 'n/a' : `${f3(v)}${fit.lambda[a] === l ? '*' : ' '}`;
      }),
      ...(cv.targetMse ? [cv.targetMse[gi] === null ? 'n/a' : `${f3(cv.targetMse[gi]!)}${fit.target?.lambda === l ? '*' : ' '}`] : []),
    ]);
    lines.push(table(header, rows).replace(/^/gm, '  '));
  } else {
    lines.push(`fixed lambda ${g3(fit.lambda.helpfulness)}, no cross-validation (--folds 0): no held-out figures`);
  }
  lines.push('');
  lines.push(
    table(
      ['attribute', 'lambda', 'held-out R²', 'held-out MSE', 'ratings'],
      ATTRIBUTES.map((a) => [
        a,
        g3(fit.lambda[a]),
        fit.heldOut ? f3(fit.heldOut[a].r2) : '-',
        fit.heldOut ? f3(fit.heldOut[a].mse) : '-',
        String(fit.rows.perAttribute[a]),
      ]),
    ),
  );
  if (fit.target)
    lines.push(
      '',
      `target ${fit.target.formula}: lambda ${g3(fit.target.lambda)}, held-out R² ${f3(fit.target.r2)}, MSE ${f3(fit.target.mse)} on ${fit.target.n} rows`,
    );
  const t = fit.timings;
  lines.push('', `wrote ${out} (${ATTRIBUTE_COUNT} x ${fit.hiddenSize}, backbone ${src.backbone})`);
  lines.push(
    `time: read ${(t.read / 1000).toFixed(1)}s, Gram ${(t.gram / 1000).toFixed(1)}s, cross-validation ${(t.cv / 1000).toFixed(1)}s, final fit ${(t.fit / 1000).toFixed(1)}s`,
  );
  return `${lines.join('\n')}\n`;
}
