/**
 * Rows that carry a prompt and responses, as users write them and as this package's commands
 * write them: one home per shape.
 *
 * - Pair rows `{prompt | messages, a, b, label?, subset?, id?}`: `a`/`b` are response texts or
 *   five attribute rewards (`rewards.a`/`rewards.b` and `truncation` as `dtr compare` writes
 *   them); read by reports (`dtr report --pairs`, with or without `--model`) and by
 *   `dtr compare --file`.
 * - Response rows `{prompt | messages, response}`: read by `dtr score --file` and, with ratings,
 *   by `readRatedResponses` (data/responses.ts).
 *
 * Both give the prompt as `prompt` (a string) or `messages` (chat messages), never both. Every
 * bad row is reported at once, each problem with its `file:line`.
 *
 * May import: its own folder (data/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/. Never explain/, anything
 * above (eval/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, checkAttributeScores, type AttributeScores } from '../attributes.js';
import { DtrError, type Issue } from '../errors.js';
import type { JsonlRow } from '../io/jsonl.js';

/**
 * Which of `prompt` and `messages` a row gives the prompt as (null when neither; `null` values
 * count as absent). Both given is a problem, reported to `problem`; `prompt` is then the one used.
 *
 * @example
 * ```ts
 * promptKey({ messages: [{ role: 'user', content: 'Hi' }], response: 'Hello' }, bad); // 'messages'
 * promptKey({ prompt: 'Hi', messages: [] }, bad); // 'prompt', and bad('give "prompt" or "messages", not both')
 * ```
 */
export function promptKey(row: Record<string, unknown>, problem: (message: string) => void): 'prompt' | 'messages' | null {
  const has = (key: string): boolean => row[key] !== undefined && row[key] !== null;
  if (has('prompt') && has('messages')) problem('give "prompt" or "messages", not both');
  return has('prompt') ? 'prompt' : has('messages') ? 'messages' : null;
}

/**
 * The prompt and response of a response row, as given: their types are the model's to check
 * (`toConversation`, `encoder.checkedConversation`), which names the problem precisely.
 *
 * @example
 * ```ts
 * readResponseRow({ prompt: 'Hi', response: 'Hello', id: 3 }, bad); // { key: 'prompt', prompt: 'Hi', response: 'Hello' }
 * ```
 */
export function readResponseRow(
  row: Record<string, unknown>,
  problem: (message: string) => void,
): { key: 'prompt' | 'messages' | null; prompt: unknown; response: unknown } {
  const key = promptKey(row, problem);
  if (key === null) problem('missing "prompt" (a string) or "messages" (an array of {role, content})');
  if (row.response === undefined) problem('missing "response"');
  return { key, prompt: key === null ? undefined : row[key], response: row.response };
}

/** One row of a pairs file, read but not yet scored. */
export interface PairRow {
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
 * Parses one pair row (see {@link parsePairRows}); its problems go to `problem`. Null when the
 * row is not even an object.
 *
 * @example
 * ```ts
 * const issues: string[] = [];
 * parsePairRow({ prompt: 'Hi', a: 'Hello', b: 'Go away' }, 1, 'texts', (m) => issues.push(m))?.textB; // 'Go away'
 * ```
 */
export function parsePairRow(value: unknown, line: number, need: 'scores' | 'texts', problem: (message: string) => void): PairRow | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problem(
      need === 'scores'
        ? 'expected an object {"a": {...scores}, "b": {...scores}, "label"?: "a"|"b"}'
        : 'expected an object {"prompt": "...", "a": "...", "b": "...", "label"?: "a"|"b"}',
    );
    return null;
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
    } else if (need === 'scores' && typeof raw !== 'string') {
      problem(
        `${where2}: expected an object of the five attribute rewards (${ATTRIBUTES.join(', ')})${raw === undefined ? ', missing' : `, got ${describe(raw)}`}`,
      );
    }
  }
  if (need === 'scores' && scores.a === null && scores.b === null && texts.a !== null && texts.b !== null) {
    // Text pairs on the tree path: say what to do.
    problem(
      'the row has response texts but no attribute rewards: score the texts with --model DIR, or give "a" and "b" as attribute objects',
    );
  }
  let prompt: string | null = null;
  let messages: PairRow['messages'] = null;
  if (row.prompt !== undefined && row.prompt !== null) {
    if (typeof row.prompt !== 'string') problem(`prompt must be a string, got ${describe(row.prompt)}`);
    else prompt = row.prompt;
  }
  if (promptKey(row, problem) === 'messages') {
    const m = row.messages;
    if (
      !Array.isArray(m) ||
      m.length === 0 ||
      !m.every((x) => x !== null && typeof x === 'object' && typeof x.role === 'string' && typeof x.content === 'string')
    ) {
      problem('messages must be a non-empty array of {"role": "...", "content": "..."}');
    } else {
      messages = m.map((x: { role: string; content: string }) => ({ role: x.role, content: x.content }));
      prompt = messages.map((x) => `${x.role}: ${x.content}`).join('\n\n');
    }
  }
  if (need === 'texts') {
    if (prompt === null && row.prompt === undefined && row.messages === undefined)
      problem('missing "prompt" (a string) or "messages" to score the responses with');
    for (const side of ['a', 'b'] as const) if (texts[side] === null) problem(`missing the response text "${side}" (a string)`);
  }
  // Truncation: `truncation: {a, b}` (dtr compare: an object or null per side), `truncated: {a, b}`
  // booleans, or `truncated: true|false` alone (then the side is unknown).
  let truncated: number | null = null;
  let truncationNotes: PairRow['truncationNotes'] = null;
  const tn = row.truncation;
  const t = row.truncated;
  if (tn !== undefined && tn !== null) {
    if (typeof tn !== 'object' || Array.isArray(tn))
      problem(`truncation must be an object {"a": {...} | null, "b": {...} | null}, got ${describe(tn)}`);
    else {
      truncated = 0;
      truncationNotes = { a: null, b: null };
      for (const [bit, side] of [
        [1, 'a'],
        [2, 'b'],
      ] as const) {
        const v = (tn as Record<string, unknown>)[side];
        if (v === undefined || v === null || v === false) continue;
        truncated |= bit;
        if (typeof v === 'object' && typeof (v as Record<string, unknown>).summary === 'string')
          truncationNotes[side] = (v as Record<string, string>).summary!;
      }
    }
  } else if (t !== undefined && t !== null) {
    if (typeof t === 'boolean') truncated = t ? 4 : 0;
    else if (typeof t === 'object' && !Array.isArray(t)) {
      const tr = t as Record<string, unknown>;
      truncated = 0;
      for (const [bit, side] of [
        [1, 'a'],
        [2, 'b'],
      ] as const) {
        const v = tr[side];
        if (v === undefined || v === null || v === false) continue;
        if (v === true) truncated |= bit;
        else problem(`truncated.${side} must be a boolean, got ${describe(v)}`);
      }
    } else problem(`truncated must be a boolean or an object {"a": boolean, "b": boolean}, got ${describe(t)}`);
  }
  let label: 'a' | 'b' | null = null;
  if (row.label === 'a' || row.label === 'b') label = row.label;
  else if (row.label !== undefined && row.label !== null && row.label !== 'tie')
    problem(`label must be "a", "b" or "tie", got ${describe(row.label)}`);
  const subsetRaw = row.subset ?? row.category;
  let subset: string | null = null;
  if (subsetRaw !== undefined && subsetRaw !== null) {
    if (typeof subsetRaw !== 'string') problem(`subset must be a string, got ${describe(subsetRaw)}`);
    else subset = subsetRaw;
  }
  const id = typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : null;
  let styles: PairRow['styles'] = null;
  if (row.chosenStyle !== undefined || row.rejectedStyle !== undefined) {
    const ok = (v: unknown): v is number => v === 0 || v === 1 || v === 2;
    if (!ok(row.chosenStyle) || !ok(row.rejectedStyle))
      problem(
        `chosenStyle and rejectedStyle must both be 0, 1 or 2 (RM-Bench styles), got ${describe(row.chosenStyle)} and ${describe(row.rejectedStyle)}`,
      );
    else styles = { chosen: row.chosenStyle, rejected: row.rejectedStyle };
  }
  return {
    line,
    a: scores.a,
    b: scores.b,
    prompt,
    messages,
    textA: texts.a,
    textB: texts.b,
    truncated,
    truncationNotes,
    label,
    tieLabel: row.label === 'tie',
    subset,
    id,
    styles,
  };
}

/**
 * Parses pair rows. `need: 'scores'` (a tree decides) requires attribute rewards on every row;
 * `need: 'texts'` (a model scores) requires a prompt and two response texts.
 * @throws DtrError `E_DATA` listing every bad row (`pairs.jsonl:7: a.verbosity: missing attribute 'verbosity'`).
 *
 * @example
 * ```ts
 * const rows = parsePairRows(readJsonl('pairs.jsonl'), 'pairs.jsonl', { need: 'scores' });
 * const input = datasetInputFromRows(rows, 'pairs.jsonl');
 * ```
 */
export function parsePairRows(rows: readonly JsonlRow[], source: string, options: { need: 'scores' | 'texts' }): PairRow[] {
  if (rows.length === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  const issues: Issue[] = [];
  const out: PairRow[] = [];
  for (const { line, value } of rows) {
    const row = parsePairRow(value, line, options.need, (message) => void issues.push({ path: `${source}:${line}`, message }));
    if (row) out.push(row);
  }
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new DtrError(
      'E_DATA',
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}; first at ${first.path}: ${first.message}`,
      { issues },
    );
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
