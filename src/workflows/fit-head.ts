/**
 * The head-fitting workflow (`fitHead`, behind `dtr fit-head`): an embeddings file and its
 * ratings in, a ridge-regression linear head out, with the policy around the fit made once: which
 * ratings (a JSONL file, else the file's own labels), which backbone the head records (given,
 * else the model folder's, else the file's metadata), the model folder checked before any work,
 * and the provenance (the data files with their hashes, hashed while the head is fitted).
 *
 * May import: its own folder (workflows/) and the layers below it: util/ and the top-level
 * attributes.ts, errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/;
 * explain/ and data/; eval/ and model/; report/. Never serve/, cli/ (test/import-graph.test.ts).
 */
import { join, resolve } from 'node:path';
import { parseRatings } from '../data/ratings.js';
import { DtrError } from '../errors.js';
import type { LinearHead } from '../head/head.js';
import { fitRidge, ridgeHead, type RidgeFit, type RidgeOptions } from '../head/ridge.js';
import { readEmbeddingsFile } from '../io/embeddings.js';
import { sha256FileAsync } from '../io/hash.js';
import { readJsonl } from '../io/jsonl.js';
import { MODEL_CONFIG_FILE } from '../model/config.js';
import { dataFileRecord, makeProvenance, type DataFileRecord } from '../provenance.js';
import { checkEmbeddingsForModel } from './embed.js';

/** Options of {@link fitHead}: the files (paths as the user wrote them, resolved against `cwd`) and the fit. */
export interface FitHeadOptions extends Pick<RidgeOptions, 'lambda' | 'lambdas' | 'folds' | 'seed' | 'target' | 'threads' | 'onProgress'> {
  /** The embeddings file (safetensors: `embeddings` [N, H], usually `labels` [N, 5]), as `dtr embed` writes. */
  embeddings: string;
  /** Ratings per row (JSONL, five attributes a line; row i = embeddings row i), instead of the file's labels. */
  ratings?: string;
  /** The model folder the head is for: checked first (hidden size, backbone), its backbone id recorded. */
  model?: string;
  /** The backbone the head records; must be the model folder's when both are given. */
  backbone?: string;
  /** Name stored in the head (default: `out`'s file name, else `head`). */
  name?: string;
  /** Description stored in the head (default: `ridge head fitted on <embeddings>`). */
  description?: string;
  /** Where to write the head file (atomically); nothing is written without it. */
  out?: string;
  /** The folder relative paths are resolved against (default: the working directory). */
  cwd?: string;
  /** The command line recorded in the provenance (default: none). */
  command?: string | null;
  /** The provenance's source (default: `fitted by fitHead (ridge regression)`). */
  source?: string;
  /** Called with each warning before the fit (ratings rows, a backbone nobody names); the fit's own are in `fit.warnings`. */
  onWarning?: (message: string) => void;
}

/** What {@link fitHead} made. */
export interface FitHeadResult {
  head: LinearHead;
  fit: RidgeFit;
  /** The embeddings' storage dtype (F32, BF16, F16 or F64). */
  dtype: string;
  /** The backbone recorded in the head (`unknown` where nothing named it). */
  backbone: string;
}

/**
 * Fits a linear head by ridge regression on an embeddings file, as `dtr fit-head` does, and
 * writes it when `out` is given. The embeddings are streamed by the fit; their sha256 is computed
 * on a worker thread meanwhile.
 *
 * @throws RangeError `backbone ...` when `backbone` is not the model folder's; DtrError `E_SHAPE`
 *   when the ratings' rows or the model's hidden size disagree with the embeddings, `E_DATA` for
 *   a file without labels and no `ratings`, and the errors of reading the files.
 * @example
 * ```ts
 * import { fitHead } from 'decision-tree-reward';
 * const { head, fit } = await fitHead({ embeddings: 'out/emb.safetensors', out: 'out/heads/mine.json', seed: 0 });
 * console.log(head.name, fit.lambda.helpfulness);
 * ```
 */
export async function fitHead(options: FitHeadOptions): Promise<FitHeadResult> {
  const cwd = options.cwd ?? process.cwd();
  const warn = options.onWarning ?? (() => undefined);
  const embPath = resolve(cwd, options.embeddings);
  const emb = readEmbeddingsFile(embPath, { lazy: true }); // rows are streamed by the fit
  const modelConfig =
    options.model === undefined
      ? null
      : checkEmbeddingsForModel(emb, resolve(cwd, options.model), { file: options.embeddings, dir: options.model });
  if (modelConfig && options.backbone !== undefined && options.backbone !== modelConfig.backbone.id)
    throw new RangeError(
      `backbone '${options.backbone}' is not the backbone of the model folder ${options.model} ('${modelConfig.backbone.id}')`,
    );

  const data: DataFileRecord[] = []; // the embeddings' record joins once their hash is in (below)
  const ratings = headRatings(options, emb, cwd, data, warn);
  const backbone = options.backbone ?? modelConfig?.backbone.id ?? emb.metadata.backbone ?? emb.metadata.model ?? null;
  if (modelConfig && options.model !== undefined)
    data.push(
      dataFileRecord(`${options.model.replace(/\/$/, '')}/${MODEL_CONFIG_FILE}`, {
        role: 'model config',
        readFrom: join(resolve(cwd, options.model), MODEL_CONFIG_FILE),
      }),
    );
  if (backbone === null) warn(`${options.embeddings} does not name its backbone; pass --backbone so the head records it`);

  const embSha = sha256FileAsync(embPath); // hashed on a worker thread while the head is fitted
  embSha.catch(() => undefined);
  const lambda = options.lambda ?? 'auto';
  const seed = options.seed ?? 0;
  const { lambdas, folds, target, threads, onProgress } = options;
  const fit = await fitRidge(emb.embeddings, ratings, { lambda, lambdas, folds, seed, target, threads, onProgress });
  data.unshift(dataFileRecord(options.embeddings, { rows: emb.rows, role: 'embeddings', sha256: await embSha }));

  const name = options.name ?? (options.out !== undefined ? options.out.replace(/^.*[\\/]/, '').replace(/\.json$/, '') : 'head');
  const head = ridgeHead(fit, {
    name,
    description: options.description ?? `ridge head fitted on ${options.embeddings}`,
    backbone: backbone ?? 'unknown',
    provenance: makeProvenance(
      options.source ?? 'fitted by fitHead (ridge regression)',
      data,
      options.command ?? null,
      fitNotes(fit, lambda, seed),
    ),
  });
  if (options.out !== undefined) head.save(resolve(cwd, options.out));
  return { head, fit, dtype: emb.embeddings.dtype, backbone: backbone ?? 'unknown' };
}

/** The ratings a head is fitted on: the JSONL file's (recorded in `data`), else the embeddings file's labels. */
function headRatings(
  options: FitHeadOptions,
  emb: { rows: number; labels: Float64Array | null },
  cwd: string,
  data: DataFileRecord[],
  warn: (message: string) => void,
): Float64Array {
  if (options.ratings !== undefined) {
    const rPath = resolve(cwd, options.ratings);
    const r = parseRatings(readJsonl(rPath), options.ratings);
    for (const w of r.warnings) warn(w);
    if (r.n !== emb.rows) {
      throw new DtrError('E_SHAPE', `${options.ratings} has ${r.n} rows but ${options.embeddings} has ${emb.rows} embeddings`, {
        hint: 'row i of the ratings must be the response of embeddings row i',
      });
    }
    data.push(dataFileRecord(options.ratings, { rows: r.n, role: 'ratings', readFrom: rPath }));
    return r.values;
  }
  if (emb.labels) return emb.labels;
  throw new DtrError('E_DATA', `${options.embeddings} has no 'labels' tensor`, { hint: 'give the ratings with --ratings FILE.jsonl' });
}

/** The provenance notes: how lambda was chosen, and the fit's rule. */
function fitNotes(fit: RidgeFit, lambda: number | 'auto', seed: number): string {
  const notes = [
    lambda === 'auto'
      ? `lambda chosen by ${fit.cv!.folds}-fold cross-validation (seed ${seed}) over ${fit.cv!.grid.join(', ')}`
      : `fixed lambda ${lambda}`,
    `ridge as scikit-learn Ridge(alpha=lambda, fit_intercept=True), per attribute on rated rows (${fit.rows.used} of ${fit.rows.total} rows rated)`,
  ];
  if (fit.target) notes.push(`one lambda for target ${JSON.stringify(fit.target.formula)}`);
  return notes.join('; ');
}
