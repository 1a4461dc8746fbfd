/**
 * Reading report inputs from files: attribute-pair or text-pair JSONL rows, a `dtr compare --json`
 * (or `dtr explain --json`) document, or a saved report. Every bad row is reported at once with
 * its `file:line`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { ATTRIBUTES, ATTRIBUTE_COUNT, checkAttributeScores, type AttributeScores } from '../attributes.js';
import { NO_LABEL } from '../data/pairs.js';
import { DtrError, type Issue } from '../errors.js';
import type { JsonlRow } from '../io/jsonl.js';
import { validateReport } from './schema.js';
import { REPORT_FORMAT, type ComparisonInput, type DatasetInput, type Report } from './types.js';

/** One row of a report's pairs file, read but not yet scored. */
export interface ReportRow {
  line: number;
  /** Attribute rewards, when the row carries them (`a`/`b` objects or `rewards.a`/`rewards.b`). */
  a: AttributeScores | null;
  b: AttributeScores | null;
  /** The prompt as shown: `prompt`, or `messages` written out as `role: content` turns. */
  prompt: string | null;
  /** The prompt as chat messages, when the row gives `messages` instead of `prompt`. */
  messages: { role: string; content: string }[] | null;
  /** Response texts (`a`/`b` strings, or `response_a`/`response_b` beside scores). */
  textA: string | null;
  textB: string | null;
  /** Bit 1: A truncated, bit 2: B truncated, bit 4: one was, side not recorded; null when unknown. */
  truncated: number | null;
  /** How each conversation was cut (`truncation.a.summary` of `dtr compare`), when recorded. */
  truncationNotes: { a: string | null; b: string | null } | null;
  label: 'a' | 'b' | null;
  /** True when the row's label says the two responses were rated equal (`"tie"`, as `dtr eval` writes). */
  tieLabel: boolean;
  subset: string | null;
  id: string | null;
  /** RM-Bench styles of the chosen and rejected response (`chosenStyle`/`rejectedStyle` of `dtr eval` results), when recorded. */
  styles: { chosen: number; rejected: number } | null;
}

/**
 * Parses pairs-file rows for a report. `need: 'scores'` (the tree path) requires attribute
 * rewards on every row; `need: 'texts'` (the model path) requires a prompt and two response texts.
 * @throws DtrError `E_DATA` listing every bad row (`pairs.jsonl:7: a.verbosity: missing attribute 'verbosity'`).
 *
 * @example
 * ```ts
 * const rows = parseReportRows(readJsonl('pairs.jsonl'), 'pairs.jsonl', { need: 'scores' });
 * const input = datasetInputFromRows(rows, 'pairs.jsonl');
 * ```
 */
export function parseReportRows(rows: readonly JsonlRow[], source: string, options: { need: 'scores' | 'texts' }): ReportRow[] {
  if (rows.length === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  const issues: Issue[] = [];
  const out: ReportRow[] = [];
  for (const { line, value } of rows) {
    const where = `${source}:${line}`;
    const problem = (message: string): void => void issues.push({ path: where, message });
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problem(options.need === 'scores' ? 'expected an object {"a": {...scores}, "b": {...scores}, "label"?: "a"|"b"}' : 'expected an object {"prompt": "...", "a": "...", "b": "...", "label"?: "a"|"b"}');
      continue;
    }
    const row = value as Record<string, unknown>;
    const rewards = row.rewards !== null && typeof row.rewards === 'object' ? (row.rewards as Record<string, unknown>) : null;
    const scores = { a: null as AttributeScores | null, b: null as AttributeScores | null };
    const texts = { a: null as string | null, b: null as string | null };
    for (const side of ['a', 'b'] as const) {
      const raw = rewards ? rewards[side] : row[side];
      const where2 = rewards ? `rewards.${side}` : side;
      if (typeof row[side] === 'string') texts[side] = row[side] as string;
      const alt = row[`response_${side}`];
      if (alt !== undefined && alt !== null) {
        if (typeof alt !== 'string') problem(`response_${side} must be a string, got ${typeof alt}`);
        else texts[side] = alt;
      }
      if (raw !== undefined && raw !== null && typeof raw === 'object') {
        const problems = checkAttributeScores(raw);
        for (const p of problems) problem(`${where2}${p.key ? `.${p.key}` : ''}: ${p.message}`);
        if (problems.length === 0) scores[side] = raw as AttributeScores;
      } else if (options.need === 'scores' && typeof raw !== 'string') {
        problem(`${where2}: expected an object of the five attribute rewards (${ATTRIBUTES.join(', ')})${raw === undefined ? ', missing' : `, got ${describe(raw)}`}`);
      }
    }
    if (options.need === 'scores' && scores.a === null && scores.b === null && texts.a !== null && texts.b !== null) {
      // Text pairs on the tree path: say what to do.
      problem('the row has response texts but no attribute rewards: score the texts with --model DIR, or give "a" and "b" as attribute objects');
    }
    let prompt: string | null = null;
    let messages: ReportRow['messages'] = null;
    if (row.prompt !== undefined && row.prompt !== null) {
      if (typeof row.prompt !== 'string') problem(`prompt must be a string, got ${describe(row.prompt)}`);
      else prompt = row.prompt;
    }
    if (row.messages !== undefined && row.messages !== null) {
      const m = row.messages;
      if (row.prompt !== undefined && row.prompt !== null) problem('give "prompt" or "messages", not both');
      else if (!Array.isArray(m) || m.length === 0 || !m.every((x) => x !== null && typeof x === 'object' && typeof x.role === 'string' && typeof x.content === 'string')) {
        problem('messages must be a non-empty array of {"role": "...", "content": "..."}');
      } else {
        messages = m.map((x: { role: string; content: string }) => ({ role: x.role, content: x.content }));
        prompt = messages.map((x) => `${x.role}: ${x.content}`).join('\n\n');
      }
    }
    if (options.need === 'texts') {
      if (prompt === null && row.prompt === undefined && row.messages === undefined) problem('missing "prompt" (a string) or "messages" to score the responses with');
      for (const side of ['a', 'b'] as const) if (texts[side] === null) problem(`missing the response text "${side}" (a string)`);
    }
    // Truncation: `truncation: {a, b}` (dtr compare: an object or null per side), `truncated: {a, b}`
    // booleans, or `truncated: true|false` alone (then the side is unknown).
    let truncated: number | null = null;
    let truncationNotes: ReportRow['truncationNotes'] = null;
    const tn = row.truncation;
    const t = row.truncated;
    if (tn !== undefined && tn !== null) {
      if (typeof tn !== 'object' || Array.isArray(tn)) problem(`truncation must be an object {"a": {...} | null, "b": {...} | null}, got ${describe(tn)}`);
      else {
        truncated = 0;
        truncationNotes = { a: null, b: null };
        for (const [bit, side] of [[1, 'a'], [2, 'b']] as const) {
          const v = (tn as Record<string, unknown>)[side];
          if (v === undefined || v === null || v === false) continue;
          truncated |= bit;
          if (typeof v === 'object' && typeof (v as Record<string, unknown>).summary === 'string') truncationNotes[side] = (v as Record<string, string>).summary!;
        }
      }
    } else if (t !== undefined && t !== null) {
      if (typeof t === 'boolean') truncated = t ? 4 : 0;
      else if (typeof t === 'object' && !Array.isArray(t)) {
        const tr = t as Record<string, unknown>;
        truncated = 0;
        for (const [bit, side] of [[1, 'a'], [2, 'b']] as const) {
          const v = tr[side];
          if (v === undefined || v === null || v === false) continue;
          if (v === true) truncated |= bit;
          else problem(`truncated.${side} must be a boolean, got ${describe(v)}`);
        }
      } else problem(`truncated must be a boolean or an object {"a": boolean, "b": boolean}, got ${describe(t)}`);
    }
    let label: 'a' | 'b' | null = null;
    if (row.label === 'a' || row.label === 'b') label = row.label;
    else if (row.label !== undefined && row.label !== null && row.label !== 'tie') problem(`label must be "a", "b" or "tie", got ${describe(row.label)}`);
    const subsetRaw = row.subset ?? row.category;
    let subset: string | null = null;
    if (subsetRaw !== undefined && subsetRaw !== null) {
      if (typeof subsetRaw !== 'string') problem(`subset must be a string, got ${describe(subsetRaw)}`);
      else subset = subsetRaw;
    }
    const id = typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : null;
    let styles: ReportRow['styles'] = null;
    if (row.chosenStyle !== undefined || row.rejectedStyle !== undefined) {
      const ok = (v: unknown): v is number => v === 0 || v === 1 || v === 2;
      if (!ok(row.chosenStyle) || !ok(row.rejectedStyle)) problem(`chosenStyle and rejectedStyle must both be 0, 1 or 2 (RM-Bench styles), got ${describe(row.chosenStyle)} and ${describe(row.rejectedStyle)}`);
      else styles = { chosen: row.chosenStyle, rejected: row.rejectedStyle };
    }
    out.push({ line, a: scores.a, b: scores.b, prompt, messages, textA: texts.a, textB: texts.b, truncated, truncationNotes, label, tieLabel: row.label === 'tie', subset, id, styles });
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new DtrError('E_DATA', `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}; first at ${first.path}: ${first.message}`, { issues });
  }
  return out;
}

/**
 * Turns scored rows into a {@link DatasetInput}. `scores` (e.g. from a model) replaces the rows'
 * own rewards when given: `scores[i]` belongs to `rows[i]`.
 *
 * @example
 * ```ts
 * const input = datasetInputFromRows(rows, 'pairs.jsonl');
 * buildDatasetReport(tree, input);
 * ```
 */
export function datasetInputFromRows(rows: readonly ReportRow[], source: string | null, scores?: readonly (ComparedPair | ScoredPair)[]): DatasetInput {
  const n = rows.length;
  if (scores !== undefined && scores.length !== n) throw new RangeError(`scores has ${scores.length} entries but there are ${n} rows`);
  const a = new Float64Array(n * ATTRIBUTE_COUNT);
  const b = new Float64Array(n * ATTRIBUTE_COUNT);
  const labels = new Uint8Array(n);
  let anyLabel = false;
  let anyTruncation = false;
  const truncated = new Uint8Array(n);
  rows.forEach((row, i) => {
    const given = scores?.[i];
    const scored: ScoredPair | undefined = given === undefined ? undefined : 'rewards' in given ? scoredFromCompared(given) : given;
    const sa = scored?.a ?? row.a;
    const sb = scored?.b ?? row.b;
    if (sa === null || sb === null) throw new TypeError(`rows[${i}] (line ${row.line}) has no attribute rewards: score it first`);
    ATTRIBUTES.forEach((name, k) => {
      a[i * ATTRIBUTE_COUNT + k] = sa[name];
      b[i * ATTRIBUTE_COUNT + k] = sb[name];
    });
    labels[i] = row.label === null ? NO_LABEL : row.label === 'a' ? 1 : 0;
    if (row.label !== null) anyLabel = true;
    const t = scored?.truncated;
    if (t) {
      anyTruncation = true;
      truncated[i] = (t.a ? 1 : 0) | (t.b ? 2 : 0);
    } else if (row.truncated !== null) {
      anyTruncation = true;
      truncated[i] = row.truncated;
    }
  });
  const hasText = rows.some((r) => r.prompt !== null || r.textA !== null || r.textB !== null);
  const ties = rows.filter((r) => r.tieLabel).length;
  // chosenStyle is the preferred response's: a's unless the label says b (results rows: absent label = a).
  const styles = rows.some((r) => r.styles !== null)
    ? {
        a: rows.map((r) => (r.styles === null ? null : r.label === 'b' ? r.styles.rejected : r.styles.chosen)),
        b: rows.map((r) => (r.styles === null ? null : r.label === 'b' ? r.styles.chosen : r.styles.rejected)),
      }
    : null;
  return {
    n,
    a,
    b,
    labels: anyLabel ? labels : null,
    ids: rows.map((r) => r.id),
    subsets: rows.map((r) => r.subset),
    lines: rows.map((r) => r.line),
    texts: hasText ? { prompt: rows.map((r) => r.prompt), a: rows.map((r) => r.textA), b: rows.map((r) => r.textB) } : null,
    truncated: anyTruncation ? truncated : null,
    styles,
    source,
    notes: ties > 0 ? [`${ties.toLocaleString('en-US')} pair${ties === 1 ? ' is' : 's are'} labelled "tie" (rated equal): ${ties === 1 ? 'it counts' : 'they count'} as unlabelled.`] : null,
  };
}

/**
 * What a report needs of a model's comparison of two texts: a `RewardModel.compare` result (or
 * a row of `dtr compare --file`) has all of it.
 */
export interface ComparedPair {
  rewards: { a: AttributeScores; b: AttributeScores };
  /** How each conversation was truncated (`null` = not truncated); `summary` is shown. */
  truncation?: { a: { summary?: string } | null; b: { summary?: string } | null } | null;
}

/**
 * A {@link ComparisonInput} from a model's comparison and the texts it compared.
 *
 * @example
 * ```ts
 * const result = await model.compare(prompt, a, b);
 * const report = buildComparisonReport(model.tree, comparisonInputFromCompared(result, { prompt, responseA: a, responseB: b }));
 * ```
 */
export function comparisonInputFromCompared(result: ComparedPair, extra: Omit<ComparisonInput, 'a' | 'b' | 'truncated' | 'truncationNotes'> = {}): ComparisonInput {
  const t = result.truncation ?? null;
  return {
    ...extra,
    a: result.rewards.a,
    b: result.rewards.b,
    truncated: t ? { a: t.a !== null, b: t.b !== null } : null,
    truncationNotes: t ? { a: t.a?.summary ?? null, b: t.b?.summary ?? null } : null,
  };
}

/** Rewards of one pair, with which response was truncated when known. */
export interface ScoredPair {
  a: AttributeScores;
  b: AttributeScores;
  truncated?: { a: boolean; b: boolean } | null;
}

function scoredFromCompared(c: ComparedPair): ScoredPair {
  const t = c.truncation ?? null;
  return { a: c.rewards.a, b: c.rewards.b, truncated: t ? { a: t.a !== null, b: t.b !== null } : null };
}

/** What a single-comparison JSON file holds. */
export type ComparisonFile =
  | { kind: 'report'; report: Report }
  | {
      kind: 'comparison';
      input: ComparisonInput;
      /** The tree the file names (`tree` field), if any. */
      tree: string | null;
      /** The probability the file records, to check against the report's. */
      probability: number | null;
    };

/**
 * Reads one comparison from a JSON file: `dtr compare --json` output (`rewards.a`/`rewards.b`,
 * `prompt`, response texts, `truncated`), `dtr explain --json` output (`a`/`b` attribute objects),
 * or a saved report (re-rendered as it is).
 * @throws DtrError `E_NOT_FOUND`, `E_FORMAT` (not JSON) or `E_DATA` listing every problem.
 *
 * @example
 * ```ts
 * const file = readComparisonFile('compare.json');
 * if (file.kind === 'comparison') buildComparisonReport(tree, file.input);
 * ```
 */
export function readComparisonFile(path: string, shownAs = path): ComparisonFile {
  if (!existsSync(path) || statSync(path).isDirectory()) throw new DtrError('E_NOT_FOUND', `no such file: ${shownAs}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new DtrError('E_FORMAT', `${shownAs} is not JSON: ${(cause as Error).message}`, { cause, hint: 'give the output of `dtr compare --json` or a report .json' });
  }
  return parseComparisonJson(json, shownAs);
}

/**
 * {@link readComparisonFile} on parsed JSON.
 *
 * @example
 * ```ts
 * const file = parseComparisonJson({ rewards: { a, b }, truncated: { a: false, b: true } }, 'compare.json');
 * ```
 */
export function parseComparisonJson(json: unknown, source: string): ComparisonFile {
  if (json !== null && typeof json === 'object' && (json as Record<string, unknown>).format === REPORT_FORMAT) {
    const check = validateReport(json);
    if (!check.success) throw new DtrError('E_DATA', `${source} is not a valid report (${check.issues.length} problem${check.issues.length === 1 ? '' : 's'})`, { issues: check.issues });
    return { kind: 'report', report: check.report };
  }
  let row: ReportRow | undefined;
  try {
    [row] = parseReportRows([{ line: 1, value: json }], source, { need: 'scores' });
  } catch (error) {
    // One document, not a JSONL line: name the file without a line number.
    if (!(error instanceof DtrError) || error.code !== 'E_DATA') throw error;
    const issues = error.issues.map((i) => ({ path: source, message: i.message }));
    throw new DtrError('E_DATA', `${source}: ${issues.map((i) => i.message).join('; ')}`, { issues, hint: 'give the output of `dtr compare --json`, `dtr explain --json` or a report .json' });
  }
  const doc = json as Record<string, unknown>;
  const responses = doc.responses !== null && typeof doc.responses === 'object' ? (doc.responses as Record<string, unknown>) : null;
  const text = (side: 'a' | 'b'): string | null => (side === 'a' ? row!.textA : row!.textB) ?? (responses && typeof responses[side] === 'string' ? (responses[side] as string) : null);
  const input: ComparisonInput = {
    a: row!.a!,
    b: row!.b!,
    prompt: row!.prompt,
    responseA: text('a'),
    responseB: text('b'),
    truncated: row!.truncated === null || row!.truncated & 4 ? null : { a: (row!.truncated & 1) !== 0, b: (row!.truncated & 2) !== 0 },
    truncationNotes: row!.truncationNotes,
    warnings: row!.truncated !== null && row!.truncated & 4 ? [`${source} says a conversation was truncated to fit the model's context, but not which: the rewards may describe only part of a response.`] : null,
    label: row!.label,
    subset: row!.subset,
    id: row!.id,
    source,
  };
  const tree = typeof doc.tree === 'string' ? doc.tree : doc.tree !== null && typeof doc.tree === 'object' && typeof (doc.tree as Record<string, unknown>).name === 'string' ? ((doc.tree as Record<string, unknown>).name as string) : null;
  return { kind: 'comparison', input, tree, probability: typeof doc.probability === 'number' ? doc.probability : null };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
