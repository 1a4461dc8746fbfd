/**
 * `dtr score --file` and `dtr compare --file`: one streaming runner for both. Every row is read
 * and checked first (so nothing is half done), then the rows stream through the model and the
 * results out as JSONL, to stdout or atomically to `--out`, with a progress bar on stderr.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { parsePairRow, readResponseRow } from '../data/text-rows.js';
import { DtrError, type Issue } from '../errors.js';
import { tempPathFor } from '../io/atomic.js';
import { streamJsonl } from '../io/jsonl.js';
import { readUtf8Lines } from '../io/utf8.js';
import type { RewardModel } from '../model/reward-model.js';
import type { CompareOptions, ScoreItem } from '../model/types.js';
import type { Prompt } from '../text/prompt.js';
import type { Preference } from '../tree/decision.js';
import type { CliIO } from './args.js';
import { loadModelArg, runSelfCheck, type ModelFlags } from './model-args.js';
import { progressTo } from './progress.js';
import { jsonText } from '../util/format.js';
import { pathArg } from './shared.js';

/** Row layouts of `--file`: `{prompt | messages, response}` (score) or `{prompt | messages, a, b}` (compare), each with an optional `id`. */
export type RowShape = 'score' | 'compare';

/** A checked row of a `--file`: its line, its `id` as given (copied to the result), the prompt and the response texts. */
interface FileRow {
  line: number;
  id: unknown;
  prompt: Prompt;
  texts: string[];
}

/** The flags of a `--file` run. */
export type FileFlags = ModelFlags & {
  file?: string | undefined;
  out?: string | undefined;
  'self-check'?: boolean | undefined;
  tolerance: number;
};

/** What a `--file` run did, for the command's closing lines. */
export interface FileRunSummary {
  /** Rows of the file. */
  total: number;
  /** Results with a truncated conversation. */
  truncated: number;
  /** compare: how many rows each decision got. */
  preferences: Record<Preference, number>;
  model: { name: string; provider: string; maxLength: number };
}

/**
 * Loads `--model`, checks every row of `--file`, optionally self-checks on its first rows, then
 * streams the rows through `model.scoreStream` / `model.compareStream` into JSONL.
 *
 * @example
 * ```ts
 * const summary = await runFile(opts, io, 'compare', { symmetric: true, tieBand: 0 });
 * summary.preferences; // { a: 12, b: 7, tie: 1 }
 * ```
 */
export async function runFile(opts: FileFlags, io: CliIO, shape: RowShape, decision: CompareOptions = {}): Promise<FileRunSummary> {
  const path = pathArg(io, opts.file!);
  const model = await loadModelArg(opts, io, shape);
  try {
    const total = await validateRows(path, shape, model);
    if (opts['self-check']) {
      const sample: ScoreItem[] = [];
      for await (const row of readRows(path, shape)) {
        for (const response of row.texts) sample.push({ prompt: row.prompt, response });
        if (sample.length >= 8) break;
      }
      await runSelfCheck(model, sample, opts.tolerance, io, shape);
    }
    const sink = new JsonlSink(io, opts.out === undefined ? null : pathArg(io, opts.out));
    const progress = progressTo(io, { label: shape, unit: shape === 'score' ? 'rows' : 'pairs', total });
    // The rows' lines and ids, in order: results come back in input order.
    const meta: Array<{ line: number; id: unknown }> = [];
    const rows = async function* <T>(item: (row: FileRow) => T): AsyncGenerator<T> {
      for await (const row of readRows(path, shape)) {
        meta.push({ line: row.line, id: row.id });
        yield item(row);
      }
    };
    const results: AsyncIterable<{ truncated: boolean; preference?: Preference }> =
      shape === 'score'
        ? model.scoreStream(
            rows((r) => ({ prompt: r.prompt, response: r.texts[0]! })),
            { total, onProgress: progress.update },
          )
        : model.compareStream(
            rows((r) => ({ prompt: r.prompt, a: r.texts[0]!, b: r.texts[1]! })),
            { ...decision, total, onProgress: progress.update },
          );
    let truncated = 0;
    const preferences = { a: 0, b: 0, tie: 0 };
    try {
      for await (const r of results) {
        const m = meta.shift()!;
        if (r.truncated) truncated++;
        if (r.preference !== undefined) preferences[r.preference]++;
        sink.write({ line: m.line, ...(m.id !== undefined ? { id: m.id } : {}), ...r });
      }
      sink.commit();
    } catch (e) {
      sink.abort();
      throw e;
    }
    progress.done();
    return { total, truncated, preferences, model: { name: model.config.name, provider: model.provider, maxLength: model.maxLength } };
  } finally {
    await model.dispose();
  }
}

/**
 * Reads and checks every row of a JSONL `--file` before any scoring: the row's layout
 * (data/text-rows.ts) and its texts as the model reads them. Every bad row is reported at once
 * with its line (`E_DATA`). Returns the number of rows.
 */
async function validateRows(path: string, shape: RowShape, model: RewardModel): Promise<number> {
  const issues: Issue[] = [];
  let n = 0;
  let bad = 0;
  if (!existsSync(path)) throw new DtrError('E_NOT_FOUND', `no such file: ${path}`);
  for await (const { line, text } of readUtf8Lines(path)) {
    if (text.trim() === '') continue;
    n++;
    const before = issues.length;
    const problem = (message: string): void => void issues.push({ path: `${path}:${line}`, message });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      problem(`malformed JSON (${(e as Error).message})`);
    }
    const row = issues.length === before ? toRow(value, line, shape, problem) : null;
    if (row && issues.length === before) {
      row.texts.forEach((t, i) => {
        try {
          model.encoder.checkedConversation(row.prompt, t, {
            prompt: row.promptKey,
            response: shape === 'score' ? 'response' : i === 0 ? 'a' : 'b',
          });
        } catch (e) {
          problem((e as Error).message);
        }
      });
    }
    if (issues.length > before) bad++;
  }
  if (n === 0) throw new DtrError('E_EMPTY', `${path} has no rows`);
  if (issues.length > 0) {
    throw new DtrError('E_DATA', `${path}: ${bad} bad row${bad === 1 ? '' : 's'}, nothing was scored`, {
      issues,
      hint:
        shape === 'score'
          ? 'each line: {"prompt": "...", "response": "..."} (or "messages": [...] instead of "prompt")'
          : 'each line: {"prompt": "...", "a": "...", "b": "..."} (or "messages": [...] instead of "prompt")',
    });
  }
  return n;
}

/** The rows of a validated file, streamed. */
async function* readRows(path: string, shape: RowShape): AsyncGenerator<FileRow> {
  for await (const { line, value } of streamJsonl(path)) yield toRow(value, line, shape, () => undefined)!;
}

/** A row of either layout, its problems sent to `problem` (null when it is not an object). */
function toRow(
  value: unknown,
  line: number,
  shape: RowShape,
  problem: (message: string) => void,
): (FileRow & { promptKey: string }) | null {
  const id = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).id : undefined;
  if (shape === 'compare') {
    const row = parsePairRow(value, line, 'texts', problem);
    return (
      row && {
        line,
        id,
        prompt: row.messages ?? row.prompt!,
        texts: [row.textA!, row.textB!],
        promptKey: row.messages ? 'messages' : 'prompt',
      }
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problem(`expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
    return null;
  }
  const { key, prompt, response } = readResponseRow(value as Record<string, unknown>, problem);
  return { line, id, prompt: prompt as Prompt, texts: [response as string], promptKey: key ?? 'prompt' };
}

/** Where JSONL results go: stdout line by line, or a file written atomically at the end. */
class JsonlSink {
  private fd: number | null = null;
  private readonly tmp: string | null;
  constructor(
    private readonly io: CliIO,
    private readonly out: string | null,
  ) {
    this.tmp = out ? tempPathFor(out) : null;
    if (this.tmp) {
      try {
        this.fd = openSync(this.tmp, 'w');
      } catch (cause) {
        throw new DtrError('E_IO', `could not write ${out}: ${(cause as Error).message}`, { cause });
      }
    }
  }

  write(value: unknown): void {
    const line = `${jsonText(value)}\n`;
    if (this.fd !== null) writeSync(this.fd, line);
    else this.io.stdout(line);
  }

  /** Renames the finished file over `--out`. */
  commit(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.tmp!, this.out!);
  }

  /** Removes the unfinished file: `--out` is never left half written. */
  abort(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (this.tmp) rmSync(this.tmp, { force: true });
  }
}
