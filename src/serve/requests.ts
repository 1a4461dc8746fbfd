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
import { HELPSTEER2_TURN_MARKER, describeValue as describe, type ChatMessage, type Prompt } from '../text/prompt.js';
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
 * The bounds a body is checked against before any work (each a `dtr serve` flag); defaults:
 * {@link REQUEST_LIMIT_DEFAULTS}.
 */
export interface RequestLimits {
  /** Most conversations one request may hold (the queue's capacity, `--queue-size`): a pair counts 2. */
  maxConversations: number;
  /** Most messages in one prompt (`--max-messages`): a `messages` array, or a string's `<extra_id_1>` turns. */
  maxMessages: number;
  /** Most problems listed in an error's `issues` (`--max-issues`); the rest are counted. */
  maxIssues: number;
}

/**
 * Default {@link RequestLimits} (and `maxJsonDepth` for {@link parseJsonBody}).
 *
 * @example
 * ```ts
 * REQUEST_LIMIT_DEFAULTS.maxMessages; // 1024
 * ```
 */
export const REQUEST_LIMIT_DEFAULTS = { maxConversations: 1024, maxMessages: 1024, maxIssues: 20, maxJsonDepth: 32 } as const;

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
export function parseJsonBody(text: string, maxDepth: number = REQUEST_LIMIT_DEFAULTS.maxJsonDepth): unknown {
  if (text.trim() === '') throw new ServeError('E_BAD_JSON', 'the request body is empty: send a JSON object');
  // Before parsing: what reads the value afterwards (checks, echoes) recurses, and a request
  // body is a few levels deep ({"items": [{"messages": [{...}]}]}).
  if (nestedDeeperThan(text, maxDepth)) {
    throw new ServeError(
      'E_BAD_JSON',
      `the request body nests arrays and objects more than ${maxDepth} levels deep (--max-json-depth): a request is at most 4`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ServeError('E_BAD_JSON', `the request body is not valid JSON (${(e as Error).message})`);
  }
}

/** Whether JSON text nests `[` / `{` (outside strings) more than `limit` levels deep: one pass, stopping there. */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
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
export function parseRequest(
  route: 'compare',
  body: unknown,
  check: TextCheck,
  limits?: Partial<RequestLimits>,
): ParsedRequest<CompareRequestItem>;
export function parseRequest(
  route: 'score',
  body: unknown,
  check: TextCheck,
  limits?: Partial<RequestLimits>,
): ParsedRequest<ScoreRequestItem>;
export function parseRequest(
  route: ServeRoute,
  body: unknown,
  check: TextCheck,
  limits?: Partial<RequestLimits>,
): ParsedRequest<CompareRequestItem | ScoreRequestItem>;
export function parseRequest(
  route: ServeRoute,
  body: unknown,
  check: TextCheck,
  limits: Partial<RequestLimits> = {},
): ParsedRequest<CompareRequestItem | ScoreRequestItem> {
  const bounds: RequestLimits = { ...REQUEST_LIMIT_DEFAULTS, ...limits };
  const issues = new IssueList(bounds.maxIssues);
  const perItem = route === 'compare' ? 2 : 1;
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
    // Counted before any item is looked at: a batch the queue cannot hold is refused at once, whatever its items.
    if (Array.isArray(list) && list.length * perItem > bounds.maxConversations) {
      throw new ServeError(
        'E_TOO_LARGE',
        `this batch has ${list.length * perItem} conversations, more than the queue holds (${bounds.maxConversations}, --queue-size): split it into smaller batches`,
      );
    }
    if (!Array.isArray(list)) issues.push({ field: 'items', message: `items must be an array of ${shape}, got ${describe(list)}` });
    else if (list.length === 0) issues.push({ field: 'items', message: 'items must not be empty' });
    else
      list.forEach((it, i) => {
        const item = parseItem(route, it, `items[${i}].`, check, issues, false, bounds);
        if (item) items.push(item);
      });
  } else {
    const item = parseItem(route, body, '', check, issues, true, bounds);
    if (item) items.push(item);
  }
  if (issues.total > 0) throw issues.error();
  return { batch, items, options, conversations: items.length * perItem };
}

/**
 * The problems of one body: all counted, the first `max` kept (an answer listing 2.4 million
 * problems would be larger than the request).
 */
class IssueList {
  readonly list: FieldIssue[] = [];
  total = 0;

  constructor(private readonly max: number) {}

  push(issue: FieldIssue): void {
    this.total++;
    if (this.list.length < this.max) this.list.push(issue);
  }

  error(): ServeError {
    const n = this.total;
    const listed = this.list.length;
    const more =
      n === 1
        ? ''
        : listed === n
          ? ` (and ${n - 1} more problem${n > 2 ? 's' : ''}: see "issues")`
          : ` (and ${n - 1} more problems: the first ${listed} are in "issues", --max-issues)`;
    return new ServeError('E_BAD_REQUEST', `${this.list[0]!.message}${more}`, { issues: this.list, moreIssues: n - listed });
  }
}

function parseItem(
  route: ServeRoute,
  value: unknown,
  where: string,
  check: TextCheck,
  issues: IssueList,
  top: boolean,
  bounds: RequestLimits,
): CompareRequestItem | ScoreRequestItem | null {
  const shape = route === 'compare' ? '{"prompt" | "messages", "a", "b", "id"?}' : '{"prompt" | "messages", "response", "id"?}';
  if (!isObject(value)) {
    issues.push({
      field: where.slice(0, -1) || '$',
      message: `${where.slice(0, -1) || 'the body'} must be an object ${shape}, got ${describe(value)}`,
    });
    return null;
  }
  const before = issues.total;
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
  // Counted before the texts are checked or tokenized.
  const turns = promptUsable ? messageCount(value[promptField]) : 0;
  if (turns > bounds.maxMessages) {
    issues.push({
      field: `${where}${promptField}`,
      message: `${where}${promptField} has ${turns} ${promptField === 'messages' ? 'messages' : 'turns'}, more than the server's limit of ${bounds.maxMessages} (--max-messages): drop the oldest turns`,
    });
    promptUsable = false;
  }
  for (const t of texts) if (value[t] === undefined) issues.push({ field: `${where}${t}`, message: `${where}${t} is missing` });
  // An id comes back exactly as sent. A JSON number is read as a double, so only integers a
  // double holds exactly are sure to (0.30000000000000004 would come back as 0.3, 9007199254740993 as ...992).
  if (value.id !== undefined && typeof value.id !== 'string' && !Number.isSafeInteger(value.id)) {
    issues.push({
      field: `${where}id`,
      message:
        typeof value.id === 'number'
          ? `${where}id must be a string or an integer within ±${Number.MAX_SAFE_INTEGER}, got ${describe(value.id)}: send it as a string to have it back exactly as written`
          : `${where}id must be a string or a number, got ${describe(value.id)}`,
    });
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
  if (issues.total > before) return null;
  // A copy of the checked messages (only role and content), not the client's objects: that is what is echoed.
  const checked: Prompt =
    typeof prompt === 'string' ? prompt : (prompt as ChatMessage[]).map((m) => ({ role: m.role, content: m.content }));
  const base = { prompt: checked, ...(value.id !== undefined ? { id: value.id as RequestId } : {}) };
  return route === 'compare' ? { ...base, a: value.a as string, b: value.b as string } : { ...base, response: value.response as string };
}

/** Messages in a prompt: a `messages` array's length, or a string's turns (HelpSteer2 `<extra_id_1>` markers + 1). */
function messageCount(prompt: unknown): number {
  if (Array.isArray(prompt)) return prompt.length;
  if (typeof prompt !== 'string') return 0;
  let n = 1;
  for (let at = prompt.indexOf(HELPSTEER2_TURN_MARKER); at >= 0; at = prompt.indexOf(HELPSTEER2_TURN_MARKER, at + 1)) n++;
  return n;
}

function parseOptions(route: ServeRoute, body: Record<string, unknown>, issues: IssueList): RequestDecisionOptions {
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

function unknownFields(value: Record<string, unknown>, known: readonly string[], where: string, issues: IssueList, expected: string): void {
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
