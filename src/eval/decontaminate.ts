/**
 * Decontamination: find training prompts that share a run of n words (an n-gram, 13 by
 * default) with an evaluation prompt, or are identical to one, so they can be removed before
 * training. Skywork-Reward v0.2 was retrained after removing 4,957 such pairs; a training set
 * must be checked against the evaluation set it will be judged on.
 *
 * Text is normalised (Unicode NFKC, lower case) and split into words: runs of letters and digits,
 * with each CJK character (Han, Hiragana, Katakana) a word of its own. Punctuation, whitespace and
 * chat markup are ignored. A prompt shorter than n words matches only an identical prompt.
 * Every reported match is checked word by word (hashes only find candidates).
 *
 * May import: its own folder (eval/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/. Never
 * model/, anything above (report/ ... cli/) (test/import-graph.test.ts).
 */
import { readFileSync } from 'node:fs';
import { DtrError, type Issue } from '../errors.js';
import { decodeUtf8 } from '../io/utf8.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readJsonl } from '../io/jsonl.js';

/** One row of a training or evaluation file, with the prompt found in it. */
export interface PromptRecord {
  /** Position in the file (0-based). */
  index: number;
  /** `file:line` (JSONL) or `file[i]` (JSON array). */
  where: string;
  /** The prompt text, or null when the row has none. */
  prompt: string | null;
  /** The row's source (the `source` field by default), or null. */
  source: string | null;
  id: string | null;
  subset: string | null;
}

/** A file of records: the rows as parsed and, for JSONL, their original lines (kept verbatim when filtering). */
export interface RecordsFile {
  path: string;
  container: 'jsonl' | 'json';
  records: PromptRecord[];
  values: unknown[];
  /** Original text of each JSONL row (null for a JSON array). */
  lines: string[] | null;
}

/** Options of {@link readRecordsFile}. */
export interface ReadRecordsOptions {
  /** The field holding the prompt (default: the first of `prompt`, `question`, `instruction`, `input`, `messages`, `conversations`, or the Human turns of a `chosen` transcript). */
  field?: string;
  /** The field naming each row's source (default `source`). */
  sourceField?: string;
  /** The file's name in `where` and messages (default: `path`). */
  name?: string;
}

/**
 * Reads a JSONL file or a JSON array of objects and finds each row's prompt.
 *
 * @example
 * ```ts
 * const train = readRecordsFile('train.jsonl');
 * train.records[0].prompt; // 'Write a haiku about rain'
 * ```
 */
export function readRecordsFile(path: string, options: ReadRecordsOptions = {}): RecordsFile {
  const { field, sourceField = 'source' } = options;
  const name = options.name ?? path;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new DtrError(
      code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_IO',
      code === 'ENOENT' ? `no such file: ${path}` : `could not read ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
  const text = decodeUtf8(bytes, name);
  let values: unknown[];
  let wheres: string[];
  let lines: string[] | null = null;
  let container: 'jsonl' | 'json';
  if (text.trimStart().startsWith('[')) {
    container = 'json';
    try {
      const parsed: unknown = JSON.parse(text);
      values = parsed as unknown[];
    } catch (cause) {
      throw new DtrError('E_FORMAT', `${path} starts with '[' but is not a JSON array: ${(cause as Error).message}`, { cause });
    }
    wheres = values.map((_, i) => `${name}[${i}]`);
  } else {
    container = 'jsonl';
    const rows = readJsonl(path);
    const all = text.split('\n');
    values = rows.map((r) => r.value);
    wheres = rows.map((r) => `${name}:${r.line}`);
    lines = rows.map((r) => all[r.line - 1]!.replace(/\r$/, ''));
  }
  if (values.length === 0) throw new DtrError('E_EMPTY', `${name} has no rows`);
  const issues: Issue[] = [];
  const records = values.map((value, index): PromptRecord => {
    const where = wheres[index]!;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: where, message: 'expected a JSON object' });
      return { index, where, prompt: null, source: null, id: null, subset: null };
    }
    const row = value as Record<string, unknown>;
    let prompt: string | null;
    if (field !== undefined) {
      prompt = textOf(row[field]);
      if (row[field] !== undefined && row[field] !== null && prompt === null)
        issues.push({ path: where, message: `"${field}" is neither text nor a list of chat messages` });
    } else prompt = extractPrompt(row);
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
    return { index, where, prompt, source: str(row[sourceField]), id: str(row.id ?? row.pair_id), subset: str(row.subset ?? row.category) };
  });
  if (issues.length > 0) {
    throw new DtrError(
      'E_DATA',
      `${name}: ${issues.length} bad row${issues.length === 1 ? '' : 's'}; first at ${issues[0]!.path}: ${issues[0]!.message}`,
      { issues },
    );
  }
  return { path, container, records, values, lines };
}

const PROMPT_FIELDS = ['prompt', 'question', 'instruction', 'input', 'messages', 'conversations'] as const;

/**
 * The prompt of a row: the first of `prompt`, `question`, `instruction`, `input`, `messages`,
 * `conversations` that holds text (a chat list gives its user turns), else the Human turns of an
 * HH-RLHF style `chosen` transcript. Null when there is none.
 *
 * @example
 * ```ts
 * extractPrompt({ prompt: 'hi' });                                                 // 'hi'
 * extractPrompt({ chosen: '\n\nHuman: hi\n\nAssistant: hello' });                  // 'hi'
 * extractPrompt({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }] }); // 'hi'
 * ```
 */
export function extractPrompt(row: Readonly<Record<string, unknown>>): string | null {
  for (const key of PROMPT_FIELDS) {
    const t = textOf(row[key]);
    if (t !== null) return t;
  }
  if (typeof row.chosen === 'string' && row.chosen.includes('Human:')) {
    const turns = [...row.chosen.matchAll(/(?:^|\n)\s*Human:([\s\S]*?)(?=\n\s*(?:Assistant|Human):|$)/g)].map((m) => m[1]!.trim());
    if (turns.length > 0) return turns.join('\n');
  }
  return null;
}

function textOf(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    // A chat: the user's turns are the prompt (assistant turns are responses, not prompts).
    const user = v.filter(
      (m) =>
        m &&
        typeof m === 'object' &&
        ['user', 'human'].includes(String((m as Record<string, unknown>).role ?? (m as Record<string, unknown>).from).toLowerCase()),
    );
    const texts = user
      .map((m) => (m as Record<string, unknown>).content ?? (m as Record<string, unknown>).value)
      .filter((c): c is string => typeof c === 'string');
    return texts.length > 0 ? texts.join('\n') : null;
  }
  return null;
}

const WORD = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}]|(?:(?![\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}])[\p{L}\p{N}])+/gu;

/**
 * The words decontamination compares: NFKC, lower case, letters and digits only, each CJK
 * character a word.
 *
 * @example
 * ```ts
 * tokenizeForOverlap('Hello, World! 你好'); // ['hello', 'world', '你', '好']
 * ```
 */
export function tokenizeForOverlap(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
}

/** One contaminated training row and the evaluation row it overlaps. */
export interface ContaminationMatch {
  train: PromptRecord;
  against: PromptRecord;
  /** `identical`: same words; `ngram`: a shared run of n words. */
  kind: 'identical' | 'ngram';
  /** The shared words (the whole prompt for `identical`). */
  overlap: string;
}

/** What {@link findContamination} found. */
export interface ContaminationReport {
  ngram: number;
  /** n-grams in more than this many evaluation prompts were ignored as template text (0: none ignored). */
  common: number;
  /** How many distinct n-grams were found in more than `common` evaluation prompts (template text), and a few of them. Matches mostly made of such text are ignored. */
  ignored: { count: number; examples: string[] };
  trainRows: number;
  againstRows: number;
  /** Every contaminated training row, in file order. */
  matches: ContaminationMatch[];
  /** Per training source: rows, contaminated rows. Rows without a source count under `(none)`. */
  bySource: Record<string, { rows: number; contaminated: number }>;
  /** Per evaluation subset: how many training rows overlap it. */
  byAgainstSubset: Record<string, number>;
  /** Training rows with no prompt to compare (kept, and reported). */
  trainWithoutPrompt: PromptRecord[];
  /** Evaluation rows with no prompt. */
  againstWithoutPrompt: PromptRecord[];
}

const TWO_21 = 2 ** 21;

/** Options of {@link findContamination}. */
export interface ContaminationOptions {
  /** Words in a shared run (default 13). */
  ngram?: number;
  /**
   * An n-gram found in more than this many evaluation prompts is template text (an instruction
   * every prompt of a benchmark repeats), not a leak, and is ignored (default 10; 0 keeps all).
   */
  common?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Finds training rows whose prompt shares a run of `ngram` words with an evaluation prompt, or
 * equals one. Runs that more than `common` evaluation prompts share are boilerplate and ignored.
 *
 * @example
 * ```ts
 * const r = findContamination(readRecordsFile('train.jsonl').records, readRecordsFile('rewardbench.jsonl').records);
 * r.matches.length;          // contaminated training rows
 * r.bySource['magpie'];      // { rows: 120, contaminated: 3 }
 * ```
 */
export function findContamination(
  train: readonly PromptRecord[],
  against: readonly PromptRecord[],
  options: ContaminationOptions = {},
): ContaminationReport {
  const n = options.ngram ?? 13;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`options.ngram must be a positive integer, got ${String(n)}`);
  const common = options.common ?? 10;
  if (!Number.isInteger(common) || common < 0) throw new RangeError(`options.common must be an integer >= 0, got ${String(common)}`);
  const vocab = new Map<string, number>();
  const ids = (tokens: string[]): Int32Array => {
    const out = new Int32Array(tokens.length);
    tokens.forEach((t, i) => {
      let id = vocab.get(t);
      if (id === undefined) {
        id = vocab.size;
        vocab.set(t, id);
      }
      out[i] = id;
    });
    return out;
  };
  // Index the evaluation side: every n-gram's first occurrence, and every whole prompt.
  const againstTokens: Int32Array[] = [];
  const grams = new Map<number, number>();
  // In how many evaluation prompts each n-gram occurs (template text occurs in many).
  const promptsWith = new Map<number, number>();
  const wholes = new Map<number, number>();
  const againstWithoutPrompt: PromptRecord[] = [];
  against.forEach((rec, e) => {
    const toks = rec.prompt === null ? new Int32Array(0) : ids(tokenizeForOverlap(rec.prompt));
    againstTokens.push(toks);
    if (toks.length === 0) {
      againstWithoutPrompt.push(rec);
      return;
    }
    const wh = hashRun(toks, 0, toks.length);
    if (!wholes.has(wh)) wholes.set(wh, e);
    if (toks.length >= TWO_21) throw new RangeError(`${rec.where}: prompt of ${toks.length} words is too long to index`);
    const mine = new Set<number>();
    for (let p = 0; p + n <= toks.length; p++) {
      const h = hashRun(toks, p, n);
      if (!grams.has(h)) grams.set(h, e * TWO_21 + p);
      if (!mine.has(h)) {
        mine.add(h);
        promptsWith.set(h, (promptsWith.get(h) ?? 0) + 1);
      }
    }
  });
  // Template text: words of an evaluation prompt covered by an n-gram that many prompts share. A
  // match made mostly of template words ("If you cannot determine the correct answer, take your
  // best guess" around a varying word) is not a leak.
  const ignored = { count: 0, examples: [] as string[] };
  const template: Uint8Array[] = againstTokens.map((t) => new Uint8Array(t.length));
  if (common > 0) {
    const words = [...vocab.keys()];
    const frequent = new Set<number>();
    for (const [h, k] of promptsWith) {
      if (k <= common) continue;
      frequent.add(h);
      if (ignored.examples.length < 3) {
        const packed = grams.get(h)!;
        const e = Math.floor(packed / TWO_21);
        const q = packed - e * TWO_21;
        ignored.examples.push(Array.from(againstTokens[e]!.subarray(q, q + n), (id) => words[id]!).join(' '));
      }
    }
    ignored.count = frequent.size;
    if (frequent.size > 0) {
      againstTokens.forEach((toks, e) => {
        for (let p = 0; p + n <= toks.length; p++) if (frequent.has(hashRun(toks, p, n))) template[e]!.fill(1, p, p + n);
      });
    }
  }
  if (againstWithoutPrompt.length === against.length) {
    throw new DtrError('E_DATA', `none of the ${against.length} evaluation rows has a prompt to compare against`, {
      hint: 'rows need a "prompt" (or question/instruction/input/messages) field; or name it with --field',
    });
  }

  const matches: ContaminationMatch[] = [];
  const bySource: Record<string, { rows: number; contaminated: number }> = {};
  const byAgainstSubset: Record<string, number> = {};
  const trainWithoutPrompt: PromptRecord[] = [];
  train.forEach((rec, t) => {
    const source = rec.source ?? '(none)';
    const s = (bySource[source] ??= { rows: 0, contaminated: 0 });
    s.rows++;
    const words = rec.prompt === null ? [] : tokenizeForOverlap(rec.prompt);
    if (words.length === 0) trainWithoutPrompt.push(rec);
    else {
      const toks = ids(words);
      const match = findMatch(toks, words, n, grams, wholes, againstTokens, template);
      if (match) {
        const hit: ContaminationMatch = { train: rec, against: against[match.e]!, kind: match.kind, overlap: match.overlap };
        matches.push(hit);
        s.contaminated++;
        const subset = hit.against.subset ?? '(none)';
        byAgainstSubset[subset] = (byAgainstSubset[subset] ?? 0) + 1;
      }
    }
    options.onProgress?.(t + 1, train.length);
  });
  return {
    ngram: n,
    common,
    ignored,
    trainRows: train.length,
    againstRows: against.length,
    matches,
    bySource,
    byAgainstSubset,
    trainWithoutPrompt,
    againstWithoutPrompt,
  };
}

function findMatch(
  toks: Int32Array,
  words: string[],
  n: number,
  grams: Map<number, number>,
  wholes: Map<number, number>,
  againstTokens: Int32Array[],
  template: Uint8Array[],
): { e: number; kind: 'identical' | 'ngram'; overlap: string } | null {
  const whole = wholes.get(hashRun(toks, 0, toks.length));
  if (whole !== undefined && sameRun(toks, 0, againstTokens[whole]!, 0, toks.length) && againstTokens[whole]!.length === toks.length) {
    return { e: whole, kind: 'identical', overlap: words.join(' ') };
  }
  for (let p = 0; p + n <= toks.length; p++) {
    const packed = grams.get(hashRun(toks, p, n));
    if (packed === undefined) continue;
    const e = Math.floor(packed / TWO_21);
    const q = packed - e * TWO_21;
    if (!sameRun(toks, p, againstTokens[e]!, q, n)) continue;
    let templated = 0;
    for (let k = q; k < q + n; k++) templated += template[e]![k]!;
    if (2 * templated > n) continue;
    return { e, kind: 'ngram', overlap: words.slice(p, p + n).join(' ') };
  }
  return null;
}

function sameRun(x: Int32Array, i: number, y: Int32Array, j: number, len: number): boolean {
  if (i + len > x.length || j + len > y.length) return false;
  for (let k = 0; k < len; k++) if (x[i + k] !== y[j + k]) return false;
  return true;
}

/** A 53-bit hash of `len` token ids from `start` (two independent 32-bit mixes; candidates only). */
function hashRun(toks: Int32Array, start: number, len: number): number {
  let h1 = 0x811c9dc5 ^ len;
  let h2 = 0x9747b28c ^ Math.imul(len, 0x27d4eb2d);
  for (let k = start; k < start + len; k++) {
    const v = toks[k]!;
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 ^ v, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0xc2b2ae35);
  return (h1 >>> 0) * TWO_21 + ((h2 >>> 0) >>> 11);
}

/**
 * Writes the rows of `file` that are not contaminated, atomically, in the file's own form
 * (JSONL lines verbatim, or a JSON array). Returns the number of rows kept.
 *
 * @example
 * ```ts
 * const kept = writeFiltered(train, report, 'train.clean.jsonl');
 * ```
 */
export function writeFiltered(file: RecordsFile, report: ContaminationReport, outPath: string): number {
  const drop = new Set(report.matches.map((m) => m.train.index));
  const keep = file.values.map((_, i) => i).filter((i) => !drop.has(i));
  const text =
    file.container === 'jsonl'
      ? keep.map((i) => `${file.lines![i]}\n`).join('')
      : `${JSON.stringify(
          keep.map((i) => file.values[i]),
          null,
          2,
        )}\n`;
  writeFileAtomic(outPath, text);
  return keep.length;
}

/** The result of {@link checkAgainst}: what `dtr train-tree --against` warns about and records. */
export interface AgainstCheck {
  trainRows: number;
  againstRows: number;
  /** Training rows that had a prompt to compare. */
  checked: number;
  contaminated: number;
  /** A warning for the user, or null when nothing overlaps and every row was checked. */
  warning: string | null;
  /** One line for the tree's provenance notes. */
  note: string;
  summary: { ngram: number; checked: number; contaminated: number; rows: string[] };
}

/**
 * Checks a training file against an evaluation file without changing anything: the warning
 * `dtr train-tree --against` prints. Training rows need a prompt (e.g. a `prompt` field beside
 * the attribute scores) to be checked.
 *
 * @example
 * ```ts
 * const c = checkAgainst('pairs.jsonl', 'rewardbench.jsonl');
 * if (c.warning) console.error(c.warning);
 * ```
 */
export function checkAgainst(
  trainPath: string,
  againstPath: string,
  options: { ngram?: number; trainName?: string; againstName?: string } = {},
): AgainstCheck {
  const ngram = options.ngram ?? 13;
  const trainName = options.trainName ?? trainPath;
  const againstName = options.againstName ?? againstPath;
  const train = readRecordsFile(trainPath, { name: trainName });
  const against = readRecordsFile(againstPath, { name: againstName });
  const report = findContamination(train.records, against.records, { ngram });
  const checked = report.trainRows - report.trainWithoutPrompt.length;
  const c = report.matches.length;
  const rows = report.matches.map((m) => m.train.where);
  let warning: string | null = null;
  if (checked === 0) {
    warning = `cannot check ${trainName} against ${againstName}: no training row has a prompt (add a "prompt" field to the pairs)`;
  } else if (c > 0) {
    const shown = rows
      .slice(0, 5)
      .map((w) => w.replace(/^.*:/, ''))
      .join(', ');
    warning = `${c} of ${checked} training pairs overlap prompts of ${againstName} (a shared ${ngram}-word run or the same prompt; lines ${shown}${c > 5 ? ', …' : ''}): the evaluation would be contaminated; remove them with 'dtr decontaminate --train ${trainName} --against ${againstName} --out FILE'`;
  } else if (checked < report.trainRows) {
    warning = `${report.trainRows - checked} of ${report.trainRows} training pairs have no prompt and were not checked against ${againstName}`;
  }
  const note =
    checked === 0
      ? `not checked against ${againstName} (no prompts)`
      : `checked against ${againstName}: ${c} of ${checked} pairs overlap its prompts (${ngram}-word runs or the same prompt)`;
  return {
    trainRows: report.trainRows,
    againstRows: report.againstRows,
    checked,
    contaminated: c,
    warning,
    note,
    summary: { ngram, checked, contaminated: c, rows },
  };
}
