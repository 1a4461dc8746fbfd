/**
 * The model's chat template, rendered with `@huggingface/jinja` (never hand-written), with the
 * variables Python's `apply_chat_template` passes: `messages`, the special tokens,
 * `add_generation_prompt` (false here: a reward model reads a finished conversation), and the
 * `raise_exception` / `strftime_now` helpers that the jinja package provides.
 *
 * Whitespace as Python sees it: transformers renders with Python's jinja2, whose `trim` filter
 * and `str.strip()` / `lstrip()` / `rstrip()` / `split()` use Python's whitespace (it includes
 * U+001C-U+001F and U+0085, and not U+FEFF); the jinja package uses JavaScript's (the other way
 * round), so a response starting with U+FEFF would tokenize differently. The parsed template is
 * rewritten so those calls go to Python-faithful functions ({@link pyStrip}, {@link pySplit}).
 *
 * May import: its own folder (text/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts. Never backbone/, anything above (tree/ ... cli/)
 * (test/import-graph.test.ts).
 */
import { Template, parse, tokenize } from '@huggingface/jinja';
import { DtrError } from '../errors.js';
import type { ChatMessage } from './prompt.js';

/** The special tokens a template may reference, by their Python variable names. */
export interface TemplateTokens {
  bos_token?: string | null;
  eos_token?: string | null;
  pad_token?: string | null;
  unk_token?: string | null;
}

/**
 * A compiled chat template.
 *
 * @example
 * ```ts
 * const t = new ChatTemplate(config.chat_template, { bos_token: '<|begin_of_text|>' });
 * t.render([{ role: 'user', content: 'Hello' }, { role: 'assistant', content: 'Hi there' }]);
 * // '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>...'
 * ```
 */
export class ChatTemplate {
  readonly source: string;
  private readonly template: Template;
  private readonly variables: Readonly<Record<string, unknown>>;

  /**
   * @param source The jinja source (tokenizer_config.json `chat_template`, or an override).
   * @param tokens Special tokens passed to the template.
   * @param variables Extra template variables (e.g. `date_string`), as `apply_chat_template(**kwargs)`.
   * @throws DtrError `E_TEMPLATE` when the source does not parse.
   */
  constructor(source: string, tokens: TemplateTokens = {}, variables: Readonly<Record<string, unknown>> = {}) {
    if (typeof source !== 'string' || source.trim() === '') throw new TypeError('source must be a non-empty chat template string');
    this.source = source;
    try {
      this.template = new Template(source);
    } catch (cause) {
      throw new DtrError('E_TEMPLATE', `the chat template does not parse: ${(cause as Error).message}`, { cause });
    }
    pythonWhitespace(this.template);
    const base: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tokens)) if (typeof v === 'string') base[k] = v;
    this.variables = { ...base, ...variables, [STRIP_FN]: templateStrip, [SPLIT_FN]: templateSplit };
  }

  /**
   * Renders a conversation as text. `addGenerationPrompt` defaults to false: the conversation
   * ends with the assistant's response, as the reward model was trained on.
   * @throws DtrError `E_TEMPLATE` when the template raises (e.g. roles that do not alternate).
   */
  render(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean } = {}): string {
    try {
      return this.template.render({
        ...this.variables,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: options.addGenerationPrompt ?? false,
      });
    } catch (cause) {
      throw new DtrError('E_TEMPLATE', `the chat template failed on this conversation: ${(cause as Error).message}`, {
        cause,
        hint: 'check the roles (most templates want user/assistant turns alternating, a system message only first)',
      });
    }
  }
}

/**
 * The template source from tokenizer_config.json's `chat_template`: a string, or (newer files)
 * named templates (a list of `{name, template}`, or an object) of which `default` is used. Null
 * when there is none.
 *
 * @throws DtrError `E_TEMPLATE` for named templates with none named `default`, listing the names:
 *   transformers refuses to pick one ("This model has multiple chat templates with no default
 *   specified!"), and so does the SDK rather than score with a template the model never saw.
 * @example
 * ```ts
 * templateSource({ chat_template: [{ name: 'default', template: '{{ ... }}' }] }); // '{{ ... }}'
 * templateSource({ chat_template: [{ name: 'rag', template: '...' }] }); // throws: "... no 'default' (available: rag) ..."
 * ```
 */
export function templateSource(tokenizerConfig: Readonly<Record<string, unknown>>): string | null {
  const t = tokenizerConfig.chat_template;
  if (typeof t === 'string') return t;
  let named: Map<unknown, unknown> | null = null;
  if (Array.isArray(t))
    named = new Map(
      (t as Array<{ name?: unknown; template?: unknown } | null>)
        .filter((x) => x && typeof x === 'object')
        .map((x) => [x!.name, x!.template]),
    );
  else if (t && typeof t === 'object') named = new Map(Object.entries(t as Record<string, unknown>));
  if (named === null) return null;
  if (!named.has('default')) {
    const names = [...named.keys()].map(String).sort();
    throw new DtrError(
      'E_TEMPLATE',
      `chat_template holds named templates and none is named 'default' (available: ${names.join(', ') || 'none'}): transformers refuses to choose one, and so does the SDK`,
      {
        hint: "name the template the reward model was trained with 'default', put it in chat_template.jinja, or set chatTemplate in dtr.json",
      },
    );
  }
  const d = named.get('default');
  return typeof d === 'string' ? d : null;
}

/**
 * Python's whitespace (`str.isspace()`): what `str.strip()`, `str.split()` and jinja2's `trim`
 * remove. It differs from JavaScript's `\s` by U+001C-U+001F and U+0085 (Python only) and U+FEFF
 * (JavaScript only).
 */
const PY_SPACE =
  '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

/**
 * Python's `str.strip(chars)` / `lstrip` / `rstrip`: removes any of `chars` (default: Python's
 * whitespace) from the chosen ends.
 *
 * @example
 * ```ts
 * pyStrip('\ufeff hi \x85', 'both'); // '\ufeff hi' (Python keeps U+FEFF, strips U+0085)
 * pyStrip('xxhixx', 'left', 'x');     // 'hixx'
 * ```
 */
export function pyStrip(text: string, side: 'both' | 'left' | 'right', chars: string | null = null): string {
  const set = new Set(chars === null ? PY_SPACE : chars);
  const cps = Array.from(text);
  let start = 0;
  let end = cps.length;
  if (side !== 'right') while (start < end && set.has(cps[start]!)) start++;
  if (side !== 'left') while (end > start && set.has(cps[end - 1]!)) end--;
  return cps.slice(start, end).join('');
}

/**
 * Python's `str.split(sep=None, maxsplit=-1)` with `sep` None: runs of Python whitespace
 * separate, leading and trailing whitespace gives no empty parts.
 *
 * @example
 * ```ts
 * pySplit('a\x1cb  c'); // ['a', 'b', 'c']
 * ```
 */
export function pySplit(text: string, maxsplit = -1): string[] {
  const out: string[] = [];
  const cps = Array.from(text);
  let i = 0;
  while (i < cps.length) {
    while (i < cps.length && PY_SPACE.includes(cps[i]!)) i++;
    if (i >= cps.length) break;
    if (maxsplit >= 0 && out.length >= maxsplit) {
      out.push(cps.slice(i).join('')); // as Python: the rest keeps its trailing whitespace
      break;
    }
    let j = i;
    while (j < cps.length && !PY_SPACE.includes(cps[j]!)) j++;
    out.push(cps.slice(i, j).join(''));
    i = j;
  }
  return out;
}

// Names of the template globals the rewritten calls go to (not valid in any real template's namespace).
const STRIP_FN = '__dtr_py_strip__';
const SPLIT_FN = '__dtr_py_split__';

/** What a rewritten `x|trim`, `x.strip()`, `x.lstrip()`, `x.rstrip()` calls: (value, side, chars?). */
function templateStrip(value: unknown, side: unknown, ...rest: unknown[]): unknown {
  const how = side === 'filter' ? 'both' : (side as 'both' | 'left' | 'right');
  const chars = rest.length > 0 && rest[0] !== null && rest[0] !== undefined ? rest[0] : null;
  if (chars !== null && typeof chars !== 'string') throw new Error(`strip arg must be None or str, got ${typeName(chars)}`);
  if (typeof value === 'string') return pyStrip(value, how, chars);
  if (side === 'filter') {
    // jinja2's trim filter stringifies first: Undefined renders as '', None as 'None'.
    if (value === undefined) return '';
    if (value === null) return 'None';
    if (typeof value === 'number' || typeof value === 'boolean') return pyStrip(pyStr(value), 'both', chars);
  }
  throw new Error(`'${typeName(value)}' object has no attribute '${side === 'left' ? 'lstrip' : side === 'right' ? 'rstrip' : 'strip'}'`);
}

/** What a rewritten `x.split()` / `x.split(None, n)` calls. */
function templateSplit(value: unknown, ...rest: unknown[]): unknown {
  if (typeof value !== 'string') throw new Error(`'${typeName(value)}' object has no attribute 'split'`);
  const maxsplit = rest.length > 1 && typeof rest[1] === 'number' ? rest[1] : -1;
  return pySplit(value, maxsplit);
}

function pyStr(v: number | boolean): string {
  return typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'NoneType';
  if (v === undefined) return 'Undefined';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'dict';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'boolean' ? 'bool' : 'str';
}

interface Node {
  type: string;
  [key: string]: unknown;
}

// Node prototypes of the jinja package's AST, taken from a parsed sample (its classes are not exported).
let prototypes: { call: object; identifier: object; string: object } | null = null;
function nodePrototypes(): { call: object; identifier: object; string: object } {
  if (prototypes === null) {
    const body = parse(tokenize('{{ f("s") }}')).body as unknown as Node[];
    const call = body[0]!;
    prototypes = {
      call: Object.getPrototypeOf(call),
      identifier: Object.getPrototypeOf(call.callee),
      string: Object.getPrototypeOf((call.args as Node[])[0]),
    };
  }
  return prototypes;
}

function makeNode(proto: object, fields: Record<string, unknown>): Node {
  return Object.assign(Object.create(proto) as Node, fields);
}

/** `x|trim`, `x|trim(chars)`, `x.strip()`/`lstrip()`/`rstrip()` and `x.split()` as calls of Python-faithful functions. */
function rewrite(node: Node): Node {
  const p = nodePrototypes();
  const call = (fn: string, args: unknown[]): Node =>
    makeNode(p.call, { type: 'CallExpression', callee: makeNode(p.identifier, { type: 'Identifier', value: fn }), args });
  const str = (value: string): Node => makeNode(p.string, { type: 'StringLiteral', value });
  if (node.type === 'FilterExpression') {
    const f = node.filter as Node;
    if (f.type === 'Identifier' && f.value === 'trim') return call(STRIP_FN, [node.operand, str('filter')]);
    if (f.type === 'CallExpression' && (f.callee as Node).type === 'Identifier' && (f.callee as Node).value === 'trim')
      return call(STRIP_FN, [node.operand, str('filter'), ...(f.args as unknown[])]);
  }
  if (node.type === 'CallExpression') {
    const callee = node.callee as Node;
    if (callee.type === 'MemberExpression' && !callee.computed && (callee.property as Node).type === 'Identifier') {
      const name = (callee.property as Node).value;
      const side = name === 'strip' ? 'both' : name === 'lstrip' ? 'left' : name === 'rstrip' ? 'right' : null;
      if (side !== null) return call(STRIP_FN, [callee.object, str(side), ...(node.args as unknown[])]);
      const args = node.args as Node[];
      if (
        name === 'split' &&
        (args.length === 0 ||
          args[0]!.type === 'NullLiteral' ||
          (args[0]!.type === 'Identifier' && (args[0]!.value === 'none' || args[0]!.value === 'None')))
      ) {
        return call(SPLIT_FN, [callee.object, ...args]);
      }
    }
  }
  return node;
}

/** Rewrites a parsed template in place (children first), see {@link rewrite}. */
function pythonWhitespace(template: Template): void {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = visit(value[i]);
      return value;
    }
    if (value !== null && typeof value === 'object') {
      const node = value as Record<string, unknown>;
      for (const key of Object.keys(node)) node[key] = visit(node[key]);
      return typeof node.type === 'string' ? rewrite(node as Node) : node;
    }
    return value;
  };
  visit((template as unknown as { parsed: unknown }).parsed);
}
