/**
 * `dtr fit-head`: a linear head fitted by ridge regression on an embeddings file (workflows/fit-head.ts),
 * written as a head file.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ATTRIBUTES, ATTRIBUTE_COUNT } from '../attributes.js';
import { DtrError } from '../errors.js';
import type { RidgeFit } from '../head/ridge.js';
import { compileTarget } from '../head/target.js';
import { MODEL_CONFIG_FILE } from '../model/config.js';
import { currentCommandLine } from '../provenance.js';
import { fitHead } from '../workflows/fit-head.js';
import { defineCommand } from './args.js';
import { stageProgress } from './progress.js';
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

    const stages = {
      read: ['reading', 'rows'],
      gram: ['Gram', 'panels'],
      cv: ['cross-validation', 'fits'],
      fit: ['final fit', 'fits'],
    } as const;
    const bars = stageProgress(io, opts.json, stages);
    let made: Awaited<ReturnType<typeof fitHead>>;
    try {
      made = await fitHead({
        ...{ embeddings: opts.embeddings, ratings: opts.ratings, model: opts.model, backbone: opts.backbone, out: opts.out, cwd: io.cwd },
        ...{ lambda, lambdas, folds: opts.folds, seed: opts.seed, target: opts.target, threads: opts.threads, name: opts.name },
        description: opts.description ?? `ridge head fitted by dtr fit-head on ${opts.embeddings}`,
        command: currentCommandLine(io.argv),
        source: 'fitted by dtr fit-head (ridge regression)',
        onProgress: bars.tick,
        onWarning: (w) => io.stderr(`dtr fit-head: warning: ${w}\n`),
      });
    } catch (e) {
      const conflict =
        e instanceof RangeError ? /^backbone '.*' is not the backbone of the model folder .* \('(.*)'\)$/.exec(e.message) : null;
      if (conflict)
        throw usage(`--backbone '${opts.backbone}' is not the backbone of --model ${opts.model} ('${conflict[1]}'); drop --backbone`);
      throw e;
    }
    bars.done();
    const { fit, dtype, backbone } = made;
    for (const w of fit.warnings) io.stderr(`dtr fit-head: warning: ${w}\n`);
    if (opts.json) {
      printJson(io, fitHeadJson(fit, opts.out, dtype));
      return 0;
    }
    io.stdout(renderFitHead(fit, opts.out, { embeddings: opts.embeddings, dtype, ratings: opts.ratings ?? null, backbone }));
    if (opts.model !== undefined) {
      const inFolder = resolve(outPath) === resolve(pathArg(io, opts.model), 'heads', `${basename(outPath, '.json')}.json`);
      io.stdout(
        `use it: dtr compare --model ${opts.model} --head ${inFolder ? basename(outPath, '.json') : opts.out} ... (or set "head" in ${opts.model.replace(/\/$/, '')}/${MODEL_CONFIG_FILE})\n`,
      );
    }
    return 0;
  },
});

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
