/**
 * Prompts and conversations: what a caller may pass as a prompt, how it is checked, and how it
 * becomes the chat messages the model's template renders.
 *
 * A prompt is a string or an array of chat messages. A string holding HelpSteer2's
 * `<extra_id_1>` turn markers is split into turns exactly as RLHFlow's `convert_to_chat_format`
 * (decision_tree/get_embeddings.py) does, so attribute rewards match the published pipeline.
 *
 * May import: its own folder (text/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never backbone/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */

/** One chat message, as Hugging Face chat templates read it. */
export interface ChatMessage {
  /** `system`, `user` or `assistant` (templates may know more roles, e.g. `tool`). */
  role: string;
  content: string;
}

/**
 * What a prompt may be: plain text (one user turn; HelpSteer2 `<extra_id_1>` multi-turn strings
 * are split into turns), or the chat messages before the response.
 *
 * @example
 * ```ts
 * const a: Prompt = 'How many apples does each person get?';
 * const b: Prompt = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }];
 * const c: Prompt = 'Write a poem.\n<extra_id_1>Assistant\nRoses are red.\n<extra_id_1>User\nLonger, please.';
 * ```
 */
export type Prompt = string | readonly ChatMessage[];

/**
 * HelpSteer2's turn marker inside multi-turn prompts.
 *
 * @example
 * ```ts
 * 'Hi\n<extra_id_1>Assistant\nHello!\n<extra_id_1>User\nThanks'.split(HELPSTEER2_TURN_MARKER).length; // 3
 * ```
 */
export const HELPSTEER2_TURN_MARKER = '<extra_id_1>';

/** The roles chat templates commonly know; any other role must still match {@link ROLE_PATTERN}. */
const KNOWN_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
/** What a message's role may be: a name (`user`, `tool`, `ipython`), so it cannot carry markup into the template. */
const ROLE_PATTERN = /^[a-z_]{1,32}$/;

/**
 * Checks one piece of caller text: a non-empty string with no NUL character and no lone UTF-16
 * surrogate (which no tokenizer can encode faithfully: it would silently become U+FFFD).
 *
 * @param param The parameter name used in the error (`prompt`, `a`, `items[3].response`...).
 * @throws TypeError for a non-string or an empty / whitespace-only string; RangeError for NUL or a lone surrogate.
 *
 * @example
 * ```ts
 * checkText('fine', 'response');      // ok
 * checkText('', 'response');          // TypeError: response must be a non-empty string
 * checkText('a\u0000b', 'response');  // RangeError: response contains a NUL character at index 1
 * ```
 */
export function checkText(value: unknown, param: string, options: { allowEmpty?: boolean } = {}): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${param} must be a string, got ${describeValue(value)}`);
  if (!options.allowEmpty && value.trim() === '')
    throw new TypeError(`${param} must be a non-empty string, got ${value === '' ? 'an empty string' : 'only whitespace'}`);
  const nul = value.indexOf('\u0000');
  if (nul >= 0) throw new RangeError(`${param} contains a NUL character at index ${nul}: remove it (binary data is not text)`);
  const at = loneSurrogateIndex(value);
  if (at >= 0) {
    throw new RangeError(
      `${param} contains a lone UTF-16 surrogate at index ${at} (U+${value.charCodeAt(at).toString(16).toUpperCase()}): the text is not valid Unicode; fix its encoding`,
    );
  }
}

/**
 * Checks a prompt (string or messages array) and returns it as chat messages, without the
 * response. Strings are converted as RLHFlow's `convert_to_chat_format` does: trailing newlines
 * removed, `<extra_id_1>` turns split into `User` / `Assistant` messages.
 *
 * @throws TypeError / RangeError naming `param` (and the message index) for a bad prompt.
 *
 * @example
 * ```ts
 * promptMessages('Hello\n', 'prompt'); // [{ role: 'user', content: 'Hello' }]
 * ```
 */
export function promptMessages(prompt: unknown, param = 'prompt'): ChatMessage[] {
  if (typeof prompt === 'string') {
    checkText(prompt, param);
    return prompt.includes(HELPSTEER2_TURN_MARKER) ? splitHelpSteer2(prompt) : [{ role: 'user', content: rstripNewlines(prompt) }];
  }
  if (!Array.isArray(prompt)) {
    throw new TypeError(`${param} must be a string or an array of chat messages {role, content}, got ${describeValue(prompt)}`);
  }
  if (prompt.length === 0) throw new TypeError(`${param} must not be an empty array: give at least one user message`);
  const out: ChatMessage[] = [];
  prompt.forEach((m: unknown, i) => {
    const where = `${param}[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m))
      throw new TypeError(`${where} must be a message object {role, content}, got ${describeValue(m)}`);
    const extra = Object.keys(m).find((k) => k !== 'role' && k !== 'content');
    // Templates read other keys (`name`, `tool_calls`...) in ways a caller cannot see: only the two fields a reward model scores.
    if (extra !== undefined) throw new TypeError(`${where}.${extra} is not a message field: a message has only "role" and "content"`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || role.trim() === '')
      throw new TypeError(`${where}.role must be a non-empty string such as 'user', got ${describeValue(role)}`);
    // The template writes the role into the prompt as text: a role is a name, never markup.
    if (!ROLE_PATTERN.test(role))
      throw new TypeError(
        `${where}.role must be a role name of lowercase letters and underscores (${KNOWN_ROLES.join(', ')}, ...), got ${describeValue(role)}`,
      );
    checkText(content, `${where}.content`, { allowEmpty: i < prompt.length - 1 });
    if (role === 'system' && i > 0) throw new TypeError(`${where}: a system message may only come first`);
    out.push({ role, content });
  });
  if (out.every((m) => m.role === 'system'))
    throw new TypeError(`${param} has only a system message: add the user message the response answers`);
  return out;
}

/**
 * The whole conversation a reward model reads: the prompt's messages, then the response as the
 * assistant's turn, exactly as given: `apply_chat_template` sees the response unchanged, and a
 * template that does not trim (Qwen3's) renders its trailing newlines into the ids the model scores.
 *
 * @example
 * ```ts
 * toConversation('Hi', 'Hello!\n');
 * // [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!\n' }]
 * ```
 */
export function toConversation(prompt: unknown, response: unknown, params: { prompt?: string; response?: string } = {}): ChatMessage[] {
  const messages = promptMessages(prompt, params.prompt ?? 'prompt');
  checkText(response, params.response ?? 'response');
  messages.push({ role: 'assistant', content: response as string });
  return messages;
}

/** RLHFlow's split of a HelpSteer2 multi-turn prompt (`<extra_id_1>Assistant\n...`, `<extra_id_1>User\n...`). */
function splitHelpSteer2(prompt: string): ChatMessage[] {
  const turns = prompt.split(HELPSTEER2_TURN_MARKER);
  const out: ChatMessage[] = [{ role: 'user', content: rstripNewlines(turns[0]!) }];
  for (let i = 1; i < turns.length; i++) {
    const turn = turns[i]!;
    const nl = turn.indexOf('\n');
    // Python's `turn.split("\n", 1)`; a marker with no newline after it has no content (Python would crash here).
    const role = nl < 0 ? turn : turn.slice(0, nl);
    const content = nl < 0 ? '' : turn.slice(nl + 1);
    out.push({ role: role === 'Assistant' ? 'assistant' : 'user', content: rstripNewlines(content) });
  }
  return out;
}

function rstripNewlines(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 10) end--;
  return s.slice(0, end);
}

function loneSurrogateIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/**
 * A short description of a value for error messages.
 *
 * @example
 * ```ts
 * describeValue(42);   // 'number 42'
 * describeValue(null); // 'null'
 * ```
 */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
