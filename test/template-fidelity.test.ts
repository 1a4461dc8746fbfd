/**
 * Template fidelity whatever the family (issue 24 item 4): the SDK renders chat templates as
 * Python's jinja2 does in transformers' `apply_chat_template` (ImmutableSandboxedEnvironment,
 * trim_blocks, lstrip_blocks, transformers' own `tojson`).
 *
 * 1. The string methods templates use (strip / lstrip / rstrip with and without arguments,
 *    split with and without a separator and maxsplit, startswith, endswith, replace, slicing,
 *    `|trim`, `|tojson`, namespace) on edge inputs (leading and trailing \n, \t, spaces, U+00A0,
 *    U+3000, empty strings), against Debian's jinja2, live.
 * 2. The shipped templates of the families (Llama-3.1, Gemma-2, Qwen3) on conversations whose
 *    responses carry those edges, through the SDK's encoder (the path RewardModel scores):
 *    token ids identical to transformers' `apply_chat_template(messages, tokenize=True)`.
 *
 * The Qwen3 template does not trim messages (Llama-3.1's and Gemma-2's do), so it is where a
 * response's trailing newline reaches the ids: the SDK used to strip it before rendering (a
 * rule of RLHFlow's HelpSteer2 prompt conversion applied to every response), and rewards moved
 * by 0.04-0.56; the template engine itself renders Qwen3's template as jinja2 does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConversationEncoder } from '../src/text/encoder.js';
import type { ChatMessage } from '../src/text/prompt.js';
import { ChatTemplate, templateSource } from '../src/text/template.js';
import { TextTokenizer } from '../src/text/tokenizer.js';
import { GEMMA_TEMPLATE, GEMMA_TOKENIZER, LLAMA_TEMPLATE, LLAMA_TOKENIZER, QWEN3_TOKENIZER, SKIP } from './support/bridge.js';
import { need, skipNote } from './support/needs.js';
import { runPython, runsTorchSuites, runTorchPython, TORCH_SETUP } from './support/python.js';

/** transformers' jinja environment (transformers 5.x `_compile_jinja_template`), without transformers. */
const ENV_PY = String.raw`
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
def raise_exception(message):
    raise TemplateError(message)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
`;

const EDGES = [
  '',
  ' ',
  '\n',
  '\t',
  '\u00a0',
  '\u3000',
  '\n\nHi there\n',
  '\tTab\t',
  '  sp  ',
  '\u00a0nb\u00a0',
  '\u3000全角\u3000',
  'a\n\nb\n\nc\n',
  '<think>\nr\n</think>\n\nans\n',
  'x y  z',
  '\n \t\u00a0\u3000',
  'ab',
  '"q" & <t> é \\ /',
];

// Lists are printed through |join and |tojson, booleans through a conditional: what a template
// does with them (printing a list or a boolean directly gives Python's repr, `['a']` / `True`,
// which no chat template relies on).
const EXPRESSIONS = [
  's.strip()',
  's.lstrip()',
  's.rstrip()',
  "s.strip('\\n')",
  "s.lstrip('\\n')",
  "s.rstrip('\\n')",
  "s.strip(' \\t')",
  "s.rstrip('\\n ')",
  "s.strip('')",
  's.strip(none)',
  "s.split()|join('|')",
  "s.split(none, 1)|join('|')",
  's.split(none, 0)|tojson',
  "s.split('\\n')|tojson",
  "s.split('\\n', 1)|tojson",
  "s.split(' ')|tojson",
  "s.split(' ', 0)|tojson",
  "s.split('</think>')[-1]",
  "s.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n')",
  "s.split('\\n\\n', 2)|join('|')",
  "s.split('ab')|tojson",
  "'Y' if s.startswith('\\n') else 'N'",
  "'Y' if s.startswith(' ') else 'N'",
  "'Y' if s.startswith('') else 'N'",
  "'Y' if s.endswith('\\n') else 'N'",
  "'Y' if s.endswith('') else 'N'",
  "'Y' if s.endswith(('\\n', ' ')) else 'N'",
  "'Y' if s.startswith(('<', '\\t')) else 'N'",
  "'Y' if '</think>' in s else 'N'",
  "s.replace('\\n', '|')",
  "s.replace('', '-')",
  "s.replace(' ', '', 1)",
  "s.replace('\\n', '')",
  's[1:]',
  's[:-1]',
  's[::-1]',
  's[-2:]',
  's[1:-1]',
  's[::2]',
  's[0:0]',
  's|trim',
  's|tojson',
  "(s ~ 'x')|tojson",
  "{'a': s, 'b': [1, 2.5, none, true]}|tojson",
  's|tojson(indent=2)',
  "{'k': [s]}|tojson(indent=2)",
  's.upper()',
  's.lower()',
  "s + '<|end|>'",
];

// namespace() with a string and a counter set inside a loop, as Qwen3's template uses it.
const NAMESPACE =
  "{% set ns = namespace(text=s, n=0, last='') %}{% for part in s.split('\\n') %}{% set ns.n = ns.n + 1 %}{% set ns.last = part %}{% endfor %}{{ ns.text }}|{{ ns.n }}|{{ ns.last }}";

const jinja2 = need('jinja2');

describe.skipIf(!jinja2.present)(`string methods as Python's jinja2 gives them${skipNote(jinja2)}`, () => {
  it('every expression on every edge input renders identically (strip/split/startswith/endswith/replace/slices/trim/tojson/namespace)', () => {
    const templates = [
      ...EXPRESSIONS.map((e) => `{% set s = messages[0].content %}{{ ${e} }}`),
      `{% set s = messages[0].content %}${NAMESPACE}`,
    ];
    const py = JSON.parse(
      runPython(
        [
          '-c',
          `${ENV_PY}
d = json.load(sys.stdin)
print(json.dumps([[env.from_string(t).render(messages=[{"role": "user", "content": s}]) for s in d["inputs"]] for t in d["templates"]]))`,
        ],
        { input: JSON.stringify({ templates, inputs: EDGES }) },
      ),
    ) as string[][];
    const differences: string[] = [];
    templates.forEach((t, i) => {
      const template = new ChatTemplate(t);
      EDGES.forEach((s, j) => {
        const got = template.render([{ role: 'user', content: s }]);
        if (got !== py[i]![j])
          differences.push(`${t} on ${JSON.stringify(s)}: ${JSON.stringify(got)} != jinja2's ${JSON.stringify(py[i]![j])}`);
      });
    });
    expect(differences).toEqual([]);
    expect(templates.length * EDGES.length).toBeGreaterThan(800);
  });
});

interface Family {
  name: string;
  tokenizer: string;
  template: string;
  system: boolean;
}

const FAMILIES: Family[] = [
  { name: 'llama-3.1', tokenizer: LLAMA_TOKENIZER, template: readFileSync(LLAMA_TEMPLATE, 'utf8'), system: true },
  { name: 'gemma-2', tokenizer: GEMMA_TOKENIZER, template: readFileSync(GEMMA_TEMPLATE, 'utf8'), system: false },
  {
    name: 'qwen3',
    tokenizer: QWEN3_TOKENIZER,
    template: templateSource(JSON.parse(readFileSync(join(QWEN3_TOKENIZER, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>)!,
    system: true,
  },
];

/** Conversations whose responses (and prompts) carry the edges, single- and multi-turn. */
function conversations(system: boolean): ChatMessage[][] {
  // A response of whitespace only is refused by the SDK: those edges go around a word.
  const responses = EDGES.map((e) => (e.trim() === '' ? `${e}Answer.${e}` : e));
  const out: ChatMessage[][] = [];
  for (const response of responses) {
    out.push([
      { role: 'user', content: 'Question?\n' },
      { role: 'assistant', content: response },
    ]);
    out.push([
      ...(system ? [{ role: 'system' as const, content: ' Be brief.\n' }] : []),
      { role: 'user', content: '\tFirst\n' },
      { role: 'assistant', content: `${response}\n` },
      { role: 'user', content: 'Second\u00a0' },
      { role: 'assistant', content: `\n${response}` },
    ]);
  }
  return out;
}

describe.skipIf(!runsTorchSuites())(`the families' shipped templates: ids identical to transformers' apply_chat_template${SKIP}`, () => {
  it('Llama-3.1, Gemma-2 and Qwen3 on responses with edge whitespace, through the encoder the SDK scores with', () => {
    const cases = FAMILIES.map((f) => ({
      name: f.name,
      tokenizer: f.tokenizer,
      template: f.template,
      conversations: conversations(f.system),
    }));
    const r = runTorchPython(
      [
        '-c',
        `
import json, sys, transformers
out = {}
for c in json.load(sys.stdin):
    tok = transformers.AutoTokenizer.from_pretrained(c["tokenizer"])
    rows = []
    for m in c["conversations"]:
        ids = tok.apply_chat_template(m, chat_template=c["template"], tokenize=True, return_dict=False)
        rows.append([int(i) for i in (ids if isinstance(ids, list) else ids["input_ids"])])
    out[c["name"]] = rows
print(json.dumps(out))`,
      ],
      { input: JSON.stringify(cases), timeout: 300_000 },
    );
    expect(r.code, `${r.stderr.slice(-3000)} (environment: ${TORCH_SETUP})`).toBe(0);
    const expected = JSON.parse(r.stdout) as Record<string, number[][]>;
    const mismatches: string[] = [];
    for (const c of cases) {
      const config = JSON.parse(readFileSync(join(c.tokenizer, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      const tok = TextTokenizer.fromJSON(JSON.parse(readFileSync(join(c.tokenizer, 'tokenizer.json'), 'utf8')), config);
      const encoder = new ConversationEncoder(tok, new ChatTemplate(c.template, { bos_token: tok.bosToken, eos_token: tok.eosToken }), {
        maxLength: 4096,
      });
      c.conversations.forEach((m, i) => {
        const ids = Array.from(encoder.encode(m.slice(0, -1), m.at(-1)!.content).ids);
        if (JSON.stringify(ids) !== JSON.stringify(expected[c.name]![i]))
          mismatches.push(
            `${c.name} #${i} ${JSON.stringify(m.at(-1)!.content)}: ${JSON.stringify(ids)} != ${JSON.stringify(expected[c.name]![i])}`,
          );
      });
    }
    expect(mismatches).toEqual([]);
  }, 300_000);
});
