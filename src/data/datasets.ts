/**
 * Preference sets: the layouts benchmarks and preference data are published in, turned into one
 * item type. `dtr eval --data` reads them to evaluate, `dtr train-tree --model` to train on.
 *
 * - `rewardbench`: `{prompt, chosen, rejected, subset, id}` (RewardBench v1; `a` = chosen, label `a`)
 * - `pairs`: `{a, b, label: "a"|"b"|"tie", prompt?, id?, subset?}` where `a`/`b` are response
 *   texts (scored by a model) or five attribute scores (scored by a tree alone, as in
 *   `train-tree`); `tie` marks a pair rated equal (reported, not scored). Read with the text-pair
 *   row parser of `dtr report` and `--file` (data/text-rows.ts), so its other shapes work too
 * - `helpsteer2-preference`: `{prompt, response_1, response_2, preference_strength}` with
 *   strength -3..3: negative = response 1 (`a`) better, positive = response 2 (`b`), 0 = equal
 * - `rm-bench`: `{id, prompt, subset (or domain), chosen: [3], rejected: [3]}`, the three
 *   responses in styles 0 concise, 1 detailed plain, 2 detailed markdown; each row becomes its 9
 *   chosen-vs-rejected comparisons (a = chosen)
 * - `rewardbench-2`: `{id, prompt, subset, chosen: TEXT | [TEXT...], rejected: [TEXT...]}`; each
 *   row becomes one comparison per chosen and rejected response (a = chosen). Only the Ties
 *   subset has several chosen responses, and its ids are `ref:N` / `tied:N`, as upstream.
 * - `judgebench`: `{question, response_A, response_B, label: "A>B" | "B>A", pair_id?, source?}`
 *   (a = response A; the subset is the `source`)
 *
 * Files are JSONL, or a JSON array of such rows (RM-Bench publishes JSON arrays).
 *
 * May import: its own folder (data/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/. Never explain/, anything
 * above (eval/ ... cli/) (test/import-graph.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { AttributeScores } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import { decodeUtf8 } from '../io/utf8.js';
import { readJsonl, type JsonlRow } from '../io/jsonl.js';
import { rmBenchRowSubset } from './rmbench-files.js';
import { parsePairRow } from './text-rows.js';

/**
 * The evaluation file formats.
 *
 * @example
 * ```ts
 * EVAL_FORMATS.includes('rewardbench'); // true
 * ```
 */
export const EVAL_FORMATS = ['rewardbench', 'rm-bench', 'rewardbench-2', 'judgebench', 'pairs', 'helpsteer2-preference'] as const;

/** One of {@link EVAL_FORMATS}. */
export type EvalFormat = (typeof EVAL_FORMATS)[number];

/** One pair to evaluate. */
export interface EvalItem {
  /** The file's id, or `L<line>` when the format has none. */
  id: string;
  subset: string | null;
  /** The user prompt (null for attribute-score pairs without one). */
  prompt: string | null;
  /** Response a: its text, or its five attribute scores. */
  a: string | AttributeScores;
  b: string | AttributeScores;
  /** The preferred response; `tie` when the data rates both equal (helpsteer2-preference strength 0). */
  label: 'a' | 'b' | 'tie';
  /** 1-based line in the file (1-based element for a JSON array file). */
  line: number;
  /** RM-Bench: the styles of a (the chosen response) and b (the rejected one): 0 concise, 1 detailed plain, 2 detailed markdown. */
  chosenStyle?: number;
  rejectedStyle?: number;
  /** RewardBench 2: a is the row's `chosen[chosenIndex]`, b its `rejected[rejectedIndex]`. */
  chosenIndex?: number;
  rejectedIndex?: number;
}

/** An evaluation set as read. */
export interface EvalSet {
  format: EvalFormat;
  /** Whether the format was detected from the rows rather than given. */
  detected: boolean;
  /** `text` when responses are texts (a model is needed), `scores` when they are attribute scores. */
  kind: 'text' | 'scores';
  /** The comparisons: one per row, or several per row for `rm-bench` (9) and `rewardbench-2`. */
  items: EvalItem[];
  /** Rows read (prompts, for `rm-bench` and `rewardbench-2`). */
  rows: number;
}

/**
 * The format of a row, from its keys: `chosen`+`rejected` is rewardbench (texts), rm-bench (three
 * of each) or rewardbench-2 (lists otherwise, or `num_correct`); `question`+`response_A`+`response_B`
 * judgebench; `response_1`+`response_2` helpsteer2-preference; `a`+`b` pairs; null when none fits.
 *
 * @example
 * ```ts
 * detectEvalFormat({ prompt: 'hi', chosen: 'hello', rejected: 'go away', subset: 'x', id: 1 }); // 'rewardbench'
 * detectEvalFormat({ id: 1, prompt: 'hi', subset: 'chat', chosen: ['a', 'b', 'c'], rejected: ['d', 'e', 'f'] }); // 'rm-bench'
 * ```
 */
export function detectEvalFormat(row: unknown): EvalFormat | null {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return null;
  const r = row as Record<string, unknown>;
  if ('chosen' in r && 'rejected' in r) {
    if (!Array.isArray(r.chosen) && !Array.isArray(r.rejected)) return 'rewardbench';
    if ('num_correct' in r || 'total_completions' in r) return 'rewardbench-2';
    return Array.isArray(r.chosen) && Array.isArray(r.rejected) && r.chosen.length === 3 && r.rejected.length === 3
      ? 'rm-bench'
      : 'rewardbench-2';
  }
  if ('question' in r && 'response_A' in r && 'response_B' in r) return 'judgebench';
  if ('response_1' in r && 'response_2' in r) return 'helpsteer2-preference';
  if ('a' in r && 'b' in r) return 'pairs';
  return null;
}

/**
 * Reads an evaluation set. Every bad row is reported at once with `file:line` (`E_DATA`);
 * a file whose format cannot be told is `E_FORMAT`. `source` is the name used in messages.
 *
 * @example
 * ```ts
 * const set = readEvalSet('rewardbench-sample.jsonl');
 * set.format; // 'rewardbench' (detected)
 * set.items[0].label; // 'a': the chosen response is a
 * ```
 */
export function readEvalSet(path: string, format?: EvalFormat, source: string = path, options: EvalSetOptions = {}): EvalSet {
  const array = readJsonArray(path, source);
  const opts = { file: path, ...options };
  return array ? parseEvalSet(array, source, format, { ...opts, jsonArray: true }) : parseEvalSet(readJsonl(path), source, format, opts);
}

/**
 * The rows of a file that holds one JSON array (as RM-Bench publishes its data), numbered from 1;
 * null for a JSONL file. A file that starts with `[` but is no JSON array is `E_FORMAT`.
 */
function readJsonArray(path: string, source: string): JsonlRow[] | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return null; // readJsonl says what is wrong with the path
  }
  const text = decodeUtf8(bytes, source);
  if (!text.trimStart().startsWith('[')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new DtrError('E_FORMAT', `${source} starts with '[' but is not a JSON array: ${(cause as Error).message}`, {
      cause,
      hint: 'give JSONL (one row per line) or one JSON array of rows',
    });
  }
  if (!Array.isArray(value)) throw new DtrError('E_FORMAT', `${source} starts with '[' but is not a JSON array`);
  if (value.length === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  return value.map((v, i) => ({ line: i + 1, value: v }));
}

/** Options of {@link readEvalSet} and {@link parseEvalSet}. */
export interface EvalSetOptions {
  /**
   * Require RewardBench's `subset` and `id` on `{prompt, chosen, rejected}` rows (default true,
   * as evaluation needs them). `false` accepts the bare `{prompt, chosen, rejected}` rows most
   * preference sets publish (training data: `dtr train-tree --model`); ids default to `L<line>`.
   */
  strict?: boolean;
  /** The rows are the elements of a JSON array: messages name `file[i]` (0-based) instead of `file:line`. */
  jsonArray?: boolean;
  /** The file's path (default: the source name): RM-Bench's per-domain files name their domain (`chat_filtered.json`). */
  file?: string;
  /** RM-Bench: score every row in this domain (`dtr eval --domain`), whatever the row or file says. */
  domain?: string;
}

/**
 * {@link readEvalSet} on rows already read.
 *
 * @example
 * ```ts
 * parseEvalSet([{ line: 1, value: { prompt: 'p', chosen: 'c', rejected: 'r', subset: 'hep-go', id: 1 } }], 'inline').items[0].label; // 'a'
 * ```
 */
export function parseEvalSet(rows: readonly JsonlRow[], source: string, format?: EvalFormat, options: EvalSetOptions = {}): EvalSet {
  const strict = options.strict ?? true;
  if (format !== undefined && !(EVAL_FORMATS as readonly string[]).includes(format)) {
    throw new TypeError(`format must be one of ${EVAL_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  if (rows.length === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  const detected = format === undefined;
  const fmt = format ?? detectEvalFormat(rows[0]!.value);
  if (fmt === null) {
    throw new DtrError('E_FORMAT', `${source}:${rows[0]!.line}: cannot tell the format of this evaluation file`, {
      hint: 'expected rewardbench rows {prompt, chosen, rejected, subset, id}, rm-bench {id, prompt, subset, chosen: [3], rejected: [3]}, rewardbench-2 {id, prompt, subset, chosen, rejected: [...]}, judgebench {question, response_A, response_B, label}, pairs {a, b, label}, or helpsteer2-preference {prompt, response_1, response_2, preference_strength}; or pass --format',
    });
  }
  const issues: Issue[] = [];
  const items: EvalItem[] = [];
  // Closures below update it, so it lives in an object (TypeScript does not track closure writes).
  const seen: { kind: 'text' | 'scores' | null } = { kind: null };
  let rowCount = 0;
  for (const { line, value } of rows) {
    rowCount++;
    const where = options.jsonArray ? `${source}[${line - 1}]` : `${source}:${line}`;
    const before = issues.length;
    const bad = (message: string): void => void issues.push({ path: where, message });
    const setKind = (k: 'text' | 'scores'): void => {
      if (seen.kind === null) seen.kind = k;
      else if (seen.kind !== k)
        bad(
          `this row has ${k === 'text' ? 'response texts' : 'attribute scores'} but earlier rows have ${seen.kind === 'text' ? 'texts' : 'attribute scores'}: one file holds one kind`,
        );
    };
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      bad(`expected a ${fmt} object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
      continue;
    }
    const row = value as Record<string, unknown>;
    const text = (key: string, required = true): string | null => {
      const v = row[key];
      if (v === undefined || v === null) {
        if (required) bad(`missing "${key}"`);
        return null;
      }
      if (typeof v !== 'string') {
        bad(`"${key}" must be a string, got ${describe(v)}`);
        return null;
      }
      return v;
    };
    const grouped = fmt === 'rm-bench' || fmt === 'rewardbench-2';
    const id = idOf(fmt === 'judgebench' ? (row.pair_id ?? row.id) : row.id, line, (fmt === 'rewardbench' && strict) || grouped, bad);
    // RM-Bench: its domain (data/rmbench-files.ts: `domain`, the file name, the source subset); JudgeBench names it `source`.
    const subsetKey = fmt === 'judgebench' ? 'source' : fmt === 'rm-bench' && row.subset === undefined ? 'domain' : 'subset';
    const subsetValue =
      fmt === 'rm-bench'
        ? (rmBenchRowSubset(row, { file: options.file ?? source, ...(options.domain !== undefined ? { domain: options.domain } : {}) }) ??
          row.category ??
          null)
        : (row[subsetKey] ?? (fmt === 'judgebench' ? null : (row.category ?? null)));
    if (subsetValue !== null && typeof subsetValue !== 'string') bad(`"${subsetKey}" must be a string, got ${describe(subsetValue)}`);
    const subset = typeof subsetValue === 'string' ? subsetValue : null;
    if (grouped && subsetValue === null)
      bad(
        fmt === 'rm-bench'
          ? 'missing "subset" (or "domain"): chat, math, code, safety-refuse or safety-response'
          : 'missing "subset" (Factuality, Precise IF, Math, Safety, Focus or Ties)',
      );
    let item: Omit<EvalItem, 'id' | 'subset' | 'line'> | null = null;
    if (grouped) {
      const prompt = text('prompt');
      const chosen = texts(row, 'chosen', fmt === 'rewardbench-2', bad);
      const rejected = texts(row, 'rejected', false, bad);
      if (fmt === 'rm-bench') {
        for (const [key, list] of [
          ['chosen', chosen],
          ['rejected', rejected],
        ] as const) {
          if (list !== null && list.length !== 3)
            bad(`"${key}" must hold 3 responses (concise, detailed plain, detailed markdown), got ${list.length}`);
        }
      } else if (chosen !== null && rejected !== null) {
        const ties = subset !== null && subset.toLowerCase() === 'ties';
        if (!ties && chosen.length !== 1) bad(`"chosen" must hold one response outside the Ties subset, got ${chosen.length}`);
        if (ties && id !== null && !/^(ref|tied):\d+$/.test(id))
          bad(`a Ties row's "id" must be "ref:N" or "tied:N" (its scoring pairs them by N), got ${JSON.stringify(id)}`);
        if (row.num_correct !== undefined && row.num_correct !== chosen.length)
          bad(`"num_correct" is ${describe(row.num_correct)} but "chosen" holds ${chosen.length} responses`);
        if (row.total_completions !== undefined && row.total_completions !== chosen.length + rejected.length) {
          bad(
            `"total_completions" is ${describe(row.total_completions)} but "chosen" and "rejected" hold ${chosen.length + rejected.length} responses`,
          );
        }
      }
      setKind('text');
      if (issues.length === before && prompt !== null && chosen !== null && rejected !== null && id !== null) {
        const style = fmt === 'rm-bench';
        chosen.forEach((c, i) =>
          rejected.forEach((r, j) =>
            items.push({
              id,
              subset,
              line,
              prompt,
              a: c,
              b: r,
              label: 'a',
              ...(style ? { chosenStyle: i, rejectedStyle: j } : { chosenIndex: i, rejectedIndex: j }),
            }),
          ),
        );
      }
      continue;
    }
    if (fmt === 'judgebench') {
      const prompt = text('question');
      const a = text('response_A');
      const b = text('response_B');
      const l = row.label;
      if (l === undefined || l === null) bad('missing "label" ("A>B" or "B>A")');
      else if (l !== 'A>B' && l !== 'B>A') bad(`"label" must be "A>B" or "B>A", got ${describe(l)}`);
      if (prompt !== null && a !== null && b !== null && (l === 'A>B' || l === 'B>A'))
        item = { prompt, a, b, label: l === 'A>B' ? 'a' : 'b' };
      setKind('text');
    } else if (fmt === 'rewardbench') {
      const prompt = text('prompt');
      const chosen = text('chosen');
      const rejected = text('rejected');
      if (strict && (row.subset === undefined || row.subset === null)) bad('missing "subset"');
      if (prompt !== null && chosen !== null && rejected !== null) item = { prompt, a: chosen, b: rejected, label: 'a' };
      setKind('text');
    } else if (fmt === 'helpsteer2-preference') {
      const prompt = text('prompt');
      const r1 = text('response_1');
      const r2 = text('response_2');
      const s = row.preference_strength;
      let label: 'a' | 'b' | 'tie' | null = null;
      if (s === undefined || s === null) bad('missing "preference_strength" (an integer from -3 to 3)');
      else if (typeof s !== 'number' || !Number.isInteger(s) || s < -3 || s > 3)
        bad(`"preference_strength" must be an integer from -3 to 3, got ${describe(s)}`);
      else label = s < 0 ? 'a' : s > 0 ? 'b' : 'tie';
      if (prompt !== null && r1 !== null && r2 !== null && label !== null) item = { prompt, a: r1, b: r2, label };
      setKind('text');
    } else {
      // The text-pair row every command reads (data/text-rows.ts), held to what an evaluation
      // needs: a label on every row (a tie too), both sides texts or both attribute scores, and
      // a prompt (a string: evaluation items carry no chat messages) to score texts with.
      if (row.label === undefined || row.label === null) bad('missing "label" ("a", "b", or "tie" for a pair rated equal)');
      if (row.messages !== undefined && row.messages !== null)
        bad('"messages" is not read in evaluation pairs: give the prompt as "prompt" (a string)');
      const isText = (v: unknown): boolean => typeof v === 'string';
      const present = (v: unknown): boolean => v !== undefined && v !== null;
      const mixed = present(row.a) && present(row.b) && isText(row.a) !== isText(row.b);
      // id and subset were read above, as for every format.
      const pair = parsePairRow(
        { ...row, subset: undefined, category: undefined },
        line,
        !mixed && [row.a, row.b, row.response_a, row.response_b].some(isText) ? 'texts' : 'scores',
        bad,
      );
      if (mixed && issues.length === before) bad('"a" and "b" must both be texts or both be attribute scores');
      if (pair !== null && issues.length === before) {
        const a = pair.textA ?? pair.a;
        const b = pair.textB ?? pair.b;
        if (a === null || b === null) bad('missing "a" or "b" (a response text or five attribute scores)');
        else {
          setKind(typeof a === 'string' ? 'text' : 'scores');
          item = { prompt: pair.prompt, a, b, label: pair.tieLabel ? 'tie' : pair.label! };
        }
      }
    }
    if (issues.length === before && item !== null && id !== null) items.push({ id, subset, line, ...item });
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new DtrError(
      'E_DATA',
      `${source}: ${issues.length} bad value${issues.length === 1 ? '' : 's'} in ${fmt} rows; first at ${first.path}: ${first.message}`,
      {
        issues,
        hint: formatHint(fmt),
      },
    );
  }
  return { format: fmt, detected, kind: seen.kind ?? 'text', items, rows: rowCount };
}

/** A list of response texts (`allowString`: a lone string is a list of one, as RewardBench 2's chosen may be). */
function texts(row: Record<string, unknown>, key: string, allowString: boolean, bad: (m: string) => void): string[] | null {
  const v = row[key];
  if (v === undefined || v === null) {
    bad(`missing "${key}" (a list of response texts)`);
    return null;
  }
  if (typeof v === 'string' && allowString) return [v];
  if (!Array.isArray(v)) {
    bad(`"${key}" must be a list of response texts, got ${describe(v)}`);
    return null;
  }
  if (v.length === 0) {
    bad(`"${key}" is empty: it needs at least one response`);
    return null;
  }
  const i = v.findIndex((x) => typeof x !== 'string');
  if (i >= 0) {
    bad(`${key}[${i}] must be a string, got ${describe(v[i])}`);
    return null;
  }
  return v as string[];
}

function idOf(v: unknown, line: number, required: boolean, bad: (m: string) => void): string | null {
  if (v === undefined || v === null) {
    if (required) {
      bad('missing "id"');
      return null;
    }
    return `L${line}`;
  }
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return String(v);
  bad(`"id" must be a string or number, got ${describe(v)}`);
  return null;
}

function formatHint(fmt: EvalFormat): string {
  switch (fmt) {
    case 'rewardbench':
      return 'rewardbench rows are {"prompt": "...", "chosen": "...", "rejected": "...", "subset": "...", "id": ...}';
    case 'helpsteer2-preference':
      return 'helpsteer2-preference rows are {"prompt": "...", "response_1": "...", "response_2": "...", "preference_strength": -3..3}';
    case 'rm-bench':
      return 'rm-bench rows are {"id": ..., "prompt": "...", "subset": "chat", "chosen": [concise, detailed plain, detailed markdown], "rejected": [the same three styles]}';
    case 'rewardbench-2':
      return 'rewardbench-2 rows are {"id": ..., "prompt": "...", "subset": "Factuality", "chosen": ["..."], "rejected": ["...", "...", "..."]} (Ties: several chosen, ids "ref:N" / "tied:N")';
    case 'judgebench':
      return 'judgebench rows are {"pair_id": "...", "source": "mmlu-pro-law", "question": "...", "response_A": "...", "response_B": "...", "label": "A>B" | "B>A"}';
    default:
      return 'pairs rows are {"a": TEXT|SCORES, "b": TEXT|SCORES, "label": "a"|"b"|"tie", "prompt": "..."}';
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === 'object' ? 'an object' : String(v);
}

/**
 * Separates items whose label is `tie` (helpsteer2-preference strength 0): no response is
 * preferred, so they cannot be right or wrong. They are reported, never silently dropped.
 *
 * @example
 * ```ts
 * const { scored, equal } = splitLabelTies(set.items);
 * console.error(`${equal.length} pairs rated equal: not scored`);
 * ```
 */
export function splitLabelTies(items: readonly EvalItem[]): { scored: EvalItem[]; equal: EvalItem[] } {
  const scored: EvalItem[] = [];
  const equal: EvalItem[] = [];
  for (const item of items) (item.label === 'tie' ? equal : scored).push(item);
  return { scored, equal };
}
