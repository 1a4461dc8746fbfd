/**
 * Request bodies of `POST /v1/compare` and `POST /v1/score`, checked in full before any work:
 * every problem of a body (a batch included) is reported at once, each with the JSON path of its
 * field, so a client fixes a request in one round trip. Pure functions: the text checks come in
 * as a function (the model's `encoder.checkedConversation`), so they are the model's own rules
 * (special tokens, NUL characters, empty text) with the field named.
 *
 * May import: its own folder (serve/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/. Never cli/ (test/import-graph.test.ts).
 */
import { editDistance } from '../util/edit-distance.js';
import { describeValue as describe, type Prompt } from '../text/prompt.js';
import { ServeError, type FieldIssue } from './errors.js';

/** The two scoring routes. */
export type ServeRoute = 'compare' | 'score';

/** An `id` a client attaches to an item; it is copied into the item's result. */
export type RequestId = string | number;

/** One `{prompt | messages, response, id?}` of `POST /v1/score`. */
export interface ScoreRequestItem {
  prompt: Prompt;
  response: string;
  id?: RequestId;
}

/** One `{prompt | messages, a, b, id?}` of `POST /v1/compare`. */
export interface CompareRequestItem {
  prompt: Prompt;
  a: string;
  b: string;
  id?: RequestId;
}

/** Decision options a compare request may set (the server's `--asymmetric` / `--tie-band` otherwise). */
export interface RequestDecisionOptions {
  symmetric?: boolean;
  tieBand?: number;
}

/** A checked request body: one item, or a batch (`{items: [...]}`). */
export interface ParsedRequest<T> {
  /** True for `{items: [...]}`: the response is `{items: [...]}` too. */
  batch: boolean;
  items: T[];
  options: RequestDecisionOptions;
  /** Conversations the model will score (two per compared pair). */
  conversations: number;
}

/**
 * Checks one conversation's texts the way the model will read them; throws a `TypeError` or
 * `RangeError` whose message starts with the offending parameter (`items[2].a must be ...`).
 */
export type TextCheck = (prompt: unknown, response: unknown, params: { prompt: string; response: string }) => void;

const ITEM_FIELDS: Record<ServeRoute, readonly string[]> = {
  compare: ['prompt', 'messages', 'a', 'b', 'id'],
  score: ['prompt', 'messages', 'response', 'id'],
};
const OPTION_FIELDS: Record<ServeRoute, readonly string[]> = { compare: ['symmetric', 'tieBand'], score: [] };

/**
 * Parses the JSON text of a request body.
 * @throws ServeError `E_BAD_JSON` with the parser's reason.
 *
 * @example
 * ```ts
 * parseJsonBody('{"prompt": "Hi"}'); // { prompt: 'Hi' }
 * parseJsonBody('{"prompt": ');      // throws ServeError E_BAD_JSON
 * ```
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new ServeError('E_BAD_JSON', 'the request body is empty: send a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ServeError('E_BAD_JSON', `the request body is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Checks a `/v1/compare` or `/v1/score` body: a single item or `{items: [...]}`, only known
 * fields, `prompt` or `messages` (not both), the texts as the model reads them, an `id` that is a
 * string or a number, and (compare) `symmetric` / `tieBand`.
 * @throws ServeError `E_BAD_REQUEST` listing every problem, each with its field.
 *
 * @example
 * ```ts
 * const req = parseRequest('compare', { prompt: 'Hi', a: 'Hello!', b: 'Go away.' }, model.encoder.checkedConversation.bind(model.encoder));
 * req.items[0].a;       // 'Hello!'
 * req.conversations;    // 2
 * ```
 */
export function parseRequest(route: 'compare', body: unknown, check: TextCheck): ParsedRequest<CompareRequestItem>;
export function parseRequest(route: 'score', body: unknown, check: TextCheck): ParsedRequest<ScoreRequestItem>;
export function parseRequest(route: ServeRoute, body: unknown, check: TextCheck): ParsedRequest<CompareRequestItem | ScoreRequestItem>;
export function parseRequest(route: ServeRoute, body: unknown, check: TextCheck): ParsedRequest<CompareRequestItem | ScoreRequestItem> {
  const issues: FieldIssue[] = [];
  const shape = route === 'compare' ? '{"prompt" | "messages", "a", "b", "id"?}' : '{"prompt" | "messages", "response", "id"?}';
  if (!isObject(body)) {
    throw new ServeError('E_BAD_REQUEST', `the body must be a JSON object ${shape} or {"items": [...]}, got ${describe(body)}`, {
      issues: [{ field: '$', message: `expected an object, got ${describe(body)}` }],
    });
  }
  const batch = 'items' in body;
  const options = parseOptions(route, body, issues);
  const items: Array<CompareRequestItem | ScoreRequestItem> = [];
  if (batch) {
    unknownFields(
      body,
      ['items', ...OPTION_FIELDS[route]],
      '',
      issues,
      'a batch has only "items"' + (route === 'compare' ? ', "symmetric" and "tieBand"' : ''),
    );
    const list = body.items;
    if (!Array.isArray(list)) issues.push({ field: 'items', message: `items must be an array of ${shape}, got ${describe(list)}` });
    else if (list.length === 0) issues.push({ field: 'items', message: 'items must not be empty' });
    else
      list.forEach((it, i) => {
        const item = parseItem(route, it, `items[${i}].`, check, issues, false);
        if (item) items.push(item);
      });
  } else {
    const item = parseItem(route, body, '', check, issues, true);
    if (item) items.push(item);
  }
  if (issues.length > 0) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}: see "issues")` : '';
    throw new ServeError('E_BAD_REQUEST', `${issues[0]!.message}${more}`, { issues });
  }
  return { batch, items, options, conversations: items.length * (route === 'compare' ? 2 : 1) };
}

function parseItem(
  route: ServeRoute,
  value: unknown,
  where: string,
  check: TextCheck,
  issues: FieldIssue[],
  top: boolean,
): CompareRequestItem | ScoreRequestItem | null {
  const shape = route === 'compare' ? '{"prompt" | "messages", "a", "b", "id"?}' : '{"prompt" | "messages", "response", "id"?}';
  if (!isObject(value)) {
    issues.push({
      field: where.slice(0, -1) || '$',
      message: `${where.slice(0, -1) || 'the body'} must be an object ${shape}, got ${describe(value)}`,
    });
    return null;
  }
  const before = issues.length;
  const texts = route === 'compare' ? ['a', 'b'] : ['response'];
  const known = top ? [...ITEM_FIELDS[route], ...OPTION_FIELDS[route]] : ITEM_FIELDS[route];
  unknownFields(
    value,
    known,
    where,
    issues,
    `expected {${known
      .map((k) => `"${k}"${k === 'prompt' || k === 'messages' || texts.includes(k) ? '' : '?'}`)
      .join(', ')
      .replace('"prompt", "messages"', '"prompt" | "messages"')}}`,
  );
  let promptField = 'prompt';
  let promptUsable = true;
  if (value.prompt !== undefined && value.messages !== undefined) {
    issues.push({ field: `${where}messages`, message: `${where}prompt and ${where}messages are both given: give one` });
    promptUsable = false;
  } else if (value.messages !== undefined) promptField = 'messages';
  else if (value.prompt === undefined) {
    issues.push({
      field: `${where}prompt`,
      message: `${where}prompt is missing: give "prompt" (a string) or "messages" (an array of {"role", "content"})`,
    });
    promptUsable = false;
  }
  if (value.messages !== undefined && !Array.isArray(value.messages)) {
    issues.push({
      field: `${where}messages`,
      message: `${where}messages must be an array of {"role", "content"} messages, got ${describe(value.messages)}`,
    });
    promptUsable = false;
  }
  for (const t of texts) if (value[t] === undefined) issues.push({ field: `${where}${t}`, message: `${where}${t} is missing` });
  if (value.id !== undefined && typeof value.id !== 'string' && !(typeof value.id === 'number' && Number.isFinite(value.id))) {
    issues.push({ field: `${where}id`, message: `${where}id must be a string or a number, got ${describe(value.id)}` });
  }
  // The model's own checks on every text given. A bad prompt is reported once; the responses
  // are then checked against a stand-in prompt, so their own problems are reported too.
  const prompt = value[promptField];
  const standIn = 'stand-in prompt';
  let checkedPrompt: unknown = promptUsable ? prompt : standIn;
  for (const t of texts) {
    if (value[t] === undefined) continue;
    const params = { prompt: `${where}${promptField}`, response: `${where}${t}` };
    for (;;) {
      try {
        check(checkedPrompt, value[t], params);
      } catch (e) {
        if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
        const field = fieldOf(e.message, params.prompt, params.response);
        issues.push({ field, message: e.message });
        if (field.startsWith(params.prompt) && checkedPrompt !== standIn) {
          checkedPrompt = standIn;
          continue;
        }
      }
      break;
    }
  }
  if (issues.length > before) return null;
  const base = { prompt: prompt as Prompt, ...(value.id !== undefined ? { id: value.id as RequestId } : {}) };
  return route === 'compare' ? { ...base, a: value.a as string, b: value.b as string } : { ...base, response: value.response as string };
}

function parseOptions(route: ServeRoute, body: Record<string, unknown>, issues: FieldIssue[]): RequestDecisionOptions {
  if (route !== 'compare') return {};
  const options: RequestDecisionOptions = {};
  if (body.symmetric !== undefined) {
    if (typeof body.symmetric !== 'boolean')
      issues.push({ field: 'symmetric', message: `symmetric must be true or false, got ${describe(body.symmetric)}` });
    else options.symmetric = body.symmetric;
  }
  if (body.tieBand !== undefined) {
    const x = body.tieBand;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x >= 0.5)
      issues.push({ field: 'tieBand', message: `tieBand must be a number in [0, 0.5), got ${describe(x)}` });
    else options.tieBand = x;
  }
  return options;
}

function unknownFields(
  value: Record<string, unknown>,
  known: readonly string[],
  where: string,
  issues: FieldIssue[],
  expected: string,
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => editDistance(key.toLowerCase(), k.toLowerCase()) <= Math.max(1, Math.floor(k.length / 3)));
    issues.push({
      field: `${where}${key}`,
      message: `${where}${key} is not a known field${near ? ` (did you mean "${near}"?)` : ''}: ${expected}`,
    });
  }
}

/** The field an SDK text error names: its first word when that is one of ours (`items[2].messages[1].content`). */
function fieldOf(message: string, promptField: string, responseField: string): string {
  const first = /^[^\s:]+/.exec(message)?.[0] ?? '';
  return first.startsWith(promptField) || first === responseField ? first : message.includes(responseField) ? responseField : promptField;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
