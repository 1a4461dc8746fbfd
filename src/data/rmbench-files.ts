/**
 * RM-Bench as published (THU-KEG/RM-Bench `data/`): `total_dataset.json` names each row's
 * domain in `domain` (chat, code, math, safety-refuse, safety-response), which the official
 * `split_dataset_by_domain` (`scripts/utils.py`) reads; the per-domain files
 * (`chat_filtered.json`, `code_filtered.json`, `math_filtered.json`, `safety-refuse_filtered.json`,
 * `safety-response_filtered.json`) hold the same rows without `domain`, and their `subset` names
 * the *source* data set instead (`alpacaeval`, `bigcode/humanevalpack`, `xstest-should-refuse`,
 * `refusals-dangerous`, `refusals-offensive`, `xstest-should-respond`). So a row's RM-Bench
 * domain is, in this order: `--domain NAME`; the row's own `domain`; the file's name when it is
 * one of the per-domain files; the domain of a known source subset; else its `subset` as it is.
 */

/**
 * The names RM-Bench's rows carry in `domain` (total_dataset.json), which are also the stems of
 * its per-domain files (`<name>_filtered.json`).
 *
 * @example
 * ```ts
 * RM_BENCH_FILE_DOMAINS.includes('safety-refuse'); // true
 * ```
 */
export const RM_BENCH_FILE_DOMAINS = ['chat', 'code', 'math', 'safety-refuse', 'safety-response'] as const;

/**
 * The source data sets the per-domain files name in `subset`, with the RM-Bench domain each file
 * puts them in (counted in THU-KEG/RM-Bench `data/*_filtered.json`: chat 129 alpacaeval, code
 * 228 bigcode/humanevalpack, safety-refuse 138 xstest-should-refuse + 84 refusals-dangerous + 62
 * refusals-offensive, safety-response 157 xstest-should-respond). `math_filtered.json` is stored
 * in Git LFS upstream and was not read; its rows are placed by the file name, or by a subset
 * starting with `math`.
 *
 * @example
 * ```ts
 * RM_BENCH_SOURCE_SUBSETS['xstest-should-respond']; // 'safety-response'
 * ```
 */
export const RM_BENCH_SOURCE_SUBSETS: Readonly<Record<string, (typeof RM_BENCH_FILE_DOMAINS)[number]>> = {
  alpacaeval: 'chat',
  'bigcode/humanevalpack': 'code',
  'xstest-should-refuse': 'safety-refuse',
  'refusals-dangerous': 'safety-refuse',
  'refusals-offensive': 'safety-refuse',
  'xstest-should-respond': 'safety-response',
};

/**
 * The RM-Bench domain a per-domain file's name says (`chat_filtered.json` → `chat`), or null.
 *
 * @example
 * ```ts
 * rmBenchFileDomain('data/safety-refuse_filtered.json'); // 'safety-refuse'
 * rmBenchFileDomain('total_dataset.json');               // null
 * ```
 */
export function rmBenchFileDomain(path: string): string | null {
  const name = path.split(/[\\/]/).pop() ?? '';
  const m = /^(.+)_filtered\.jsonl?$/.exec(name);
  return m && (RM_BENCH_FILE_DOMAINS as readonly string[]).includes(m[1]!) ? m[1]! : null;
}

/**
 * The subset an RM-Bench row is scored under: its domain, by the rule of the module comment.
 *
 * @example
 * ```ts
 * rmBenchRowSubset({ subset: 'alpacaeval' }, {});                                  // 'chat'
 * rmBenchRowSubset({ subset: 'xstest-should-refuse' }, { file: 'x.json' });        // 'safety-refuse'
 * rmBenchRowSubset({ subset: 'alpacaeval' }, { file: 'math_filtered.json' });      // 'math'
 * rmBenchRowSubset({ domain: 'code', subset: 'bigcode/humanevalpack' }, {});      // 'code'
 * ```
 */
export function rmBenchRowSubset(row: { domain?: unknown; subset?: unknown }, where: { file?: string; domain?: string }): unknown {
  if (where.domain !== undefined) return where.domain;
  if (row.domain !== undefined && row.domain !== null) return row.domain;
  const fromFile = where.file === undefined ? null : rmBenchFileDomain(where.file);
  if (fromFile !== null) return fromFile;
  if (typeof row.subset === 'string' && Object.hasOwn(RM_BENCH_SOURCE_SUBSETS, row.subset)) return RM_BENCH_SOURCE_SUBSETS[row.subset];
  return row.subset ?? null;
}
