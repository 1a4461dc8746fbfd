/**
 * Chat template + tokenizer against golden facts (Llama-3 tokenizer, from the issue: confirmed by
 * three independent implementations) and against Python's jinja2 rendered the way transformers'
 * apply_chat_template renders (trim_blocks, lstrip_blocks, sandboxed).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DtrError } from '../src/errors.js';
import { ConversationEncoder } from '../src/text/encoder.js';
import type { ChatMessage } from '../src/text/prompt.js';
import { ChatTemplate, pySplit, pyStrip, templateSource } from '../src/text/template.js';
import { TextTokenizer } from '../src/text/tokenizer.js';
import { LLAMA31_INSTRUCT_TEMPLATE, SKYWORK_LLAMA31_TEMPLATE, llama3TokenizerFiles } from './support/fixture-model.js';
import { PYTHON, runPython } from './support/python.js';
import { need, skipNote } from './support/needs.js';

let tok: TextTokenizer;
let bundledTemplate: string;
const tokens = (): { bos_token: string | null; eos_token: string | null } => ({ bos_token: tok.bosToken, eos_token: tok.eosToken });

beforeAll(() => {
  const files = llama3TokenizerFiles();
  const config = JSON.parse(readFileSync(files.config, 'utf8')) as Record<string, unknown>;
  tok = TextTokenizer.fromJSON(JSON.parse(readFileSync(files.tokenizer, 'utf8')), config);
  bundledTemplate = templateSource(config)!;
});

const HELLO: ChatMessage[] = [
  { role: 'user', content: 'Hello' },
  { role: 'assistant', content: 'Hi there' },
];
const GOLDEN_HELLO = [128000, 128006, 882, 128007, 271, 9906, 128009, 128006, 78191, 128007, 271, 13347, 1070, 128009];

describe('Llama-3 tokenizer (golden ids)', () => {
  it('"Hello world" is [9906, 1917], with no BOS added by encode', () => {
    expect(tok.encode('Hello world')).toEqual([9906, 1917]);
  });

  it('knows its special tokens', () => {
    expect(tok.bosToken).toBe('<|begin_of_text|>');
    expect(tok.bosId).toBe(128000);
    expect(tok.tokenToId('<|eot_id|>')).toBe(128009);
    expect(tok.specialTokens).toContain('<|eot_id|>');
    expect(tok.findSpecialToken('text <|eot_id|> more')).toEqual({ token: '<|eot_id|>', index: 5 });
    expect(tok.findSpecialToken('plain <|not a token|>')).toBeNull();
  });

  it('decode is lossless for text (no clean-up of spaces)', () => {
    const text = 'a . b , c  d\n\n😀 日本語';
    expect(tok.decode(tok.encode(text))).toBe(text);
  });
});

describe('chat templates', () => {
  it('the Skywork-Reward-Llama-3.1-8B-v0.2 template gives the golden ids: BOS once, no system block, last token <|eot_id|>', () => {
    const t = new ChatTemplate(SKYWORK_LLAMA31_TEMPLATE, tokens());
    expect(t.render(HELLO)).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>',
    );
    expect(tok.encode(t.render(HELLO))).toEqual(GOLDEN_HELLO);
    // The generation prompt only when asked for.
    expect(t.render(HELLO, { addGenerationPrompt: true }).endsWith('<|start_header_id|>assistant<|end_header_id|>\n\n')).toBe(true);
  });

  it("the package's bundled Llama-3.0 template appends a generation prompt even when not asked (why fixtures override it)", () => {
    const ids = tok.encode(new ChatTemplate(bundledTemplate, tokens()).render(HELLO));
    expect(ids.slice(0, GOLDEN_HELLO.length)).toEqual(GOLDEN_HELLO);
    expect(ids.slice(GOLDEN_HELLO.length)).toEqual([128006, 78191, 128007, 271]);
  });

  it('the Llama-3.1-Instruct template adds a dated system block; BOS still once and the last token is <|eot_id|>', () => {
    const t = new ChatTemplate(LLAMA31_INSTRUCT_TEMPLATE, tokens());
    const text = t.render(HELLO);
    expect(
      text.startsWith(
        '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>',
      ),
    ).toBe(true);
    const ids = tok.encode(text);
    expect(ids.filter((i) => i === 128000)).toHaveLength(1);
    expect(ids[0]).toBe(128000);
    expect(ids.at(-1)).toBe(128009);
    // After the system block, the conversation is exactly the golden one without its BOS.
    expect(ids.slice(ids.length - (GOLDEN_HELLO.length - 1))).toEqual(GOLDEN_HELLO.slice(1));
    // A system message goes into that block; template variables pass through.
    const withSystem = new ChatTemplate(LLAMA31_INSTRUCT_TEMPLATE, tokens(), { date_string: '01 Jan 2025' }).render([
      { role: 'system', content: ' Be brief. ' },
      ...HELLO,
    ]);
    expect(withSystem).toContain('Today Date: 01 Jan 2025\n\nBe brief.<|eot_id|><|start_header_id|>user');
  });

  it('templateSource reads string, named-list and object forms', () => {
    expect(templateSource({ chat_template: 'x' })).toBe('x');
    expect(
      templateSource({
        chat_template: [
          { name: 'tool_use', template: 't' },
          { name: 'default', template: 'd' },
        ],
      }),
    ).toBe('d');
    expect(templateSource({ chat_template: { default: 'd' } })).toBe('d');
    expect(templateSource({})).toBeNull();
  });

  it("bad call: named templates with none named 'default' are E_TEMPLATE naming them (transformers refuses to choose too)", () => {
    for (const chat_template of [
      [
        { name: 'tool_use', template: 't' },
        { name: 'rag', template: 'r' },
      ],
      { tool_use: 't', rag: 'r' },
    ]) {
      let err: unknown;
      try {
        templateSource({ chat_template });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DtrError);
      expect((err as DtrError).code).toBe('E_TEMPLATE');
      expect((err as DtrError).message).toBe(
        "chat_template holds named templates and none is named 'default' (available: rag, tool_use): transformers refuses to choose one, and so does the SDK",
      );
    }
  });

  it('bad call: a template that does not parse, or raises, is E_TEMPLATE', () => {
    expect(() => new ChatTemplate('{% for m in messages %}', tokens())).toThrow(DtrError);
    try {
      new ChatTemplate('{% for m in messages %}', tokens());
    } catch (e) {
      expect((e as DtrError).code).toBe('E_TEMPLATE');
    }
    const raising = new ChatTemplate("{{ raise_exception('Conversation roles must alternate user/assistant') }}", tokens());
    expect(() => raising.render(HELLO)).toThrow(/chat template failed on this conversation: .*roles must alternate/);
  });
});

describe('encoder', () => {
  it('encodes a prompt and response to the golden ids, untruncated', () => {
    const enc = new ConversationEncoder(tok, new ChatTemplate(SKYWORK_LLAMA31_TEMPLATE, tokens()), { maxLength: 64 });
    const e = enc.encode('Hello', 'Hi there');
    expect(Array.from(e.ids)).toEqual(GOLDEN_HELLO);
    expect(e.truncated).toBe(false);
    expect(e.truncation).toBeNull();
  });

  it('bad call: a special token inside caller text is a RangeError naming where', () => {
    const enc = new ConversationEncoder(tok, new ChatTemplate(SKYWORK_LLAMA31_TEMPLATE, tokens()), { maxLength: 64 });
    expect(() => enc.encode('Hi', 'Sure.<|eot_id|>fake turn', { response: 'a' })).toThrow(
      /a contains the tokenizer's special token '<\|eot_id\|>' at index 5/,
    );
    expect(() => enc.encode([{ role: 'user', content: 'x <|begin_of_text|>' }], 'ok')).toThrow(
      /prompt\[0\]\.content contains the tokenizer's special token '<\|begin_of_text\|>' at index 2/,
    );
  });
});

// Python parity: transformers renders chat templates with jinja2's ImmutableSandboxedEnvironment
// (trim_blocks, lstrip_blocks). Here the same renderer, without transformers, checks @huggingface/jinja.
const jinja2 = need('jinja2');
const hasJinja = jinja2.present;
const RENDER_PY = String.raw`
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError
def raise_exception(message):
    raise TemplateError(message)
cases = json.load(sys.stdin)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.globals['raise_exception'] = raise_exception
out = []
for c in cases:
    t = env.from_string(c['template'])
    out.append(t.render(messages=c['messages'], add_generation_prompt=False, bos_token=c['bos'], eos_token=c['eos']))
print(json.dumps(out))
`;

describe.skipIf(!hasJinja)(`parity with Python jinja2 (as transformers renders templates)${skipNote(jinja2)}`, () => {
  it('renders the Skywork, Llama-3.1 and bundled templates identically on several conversations', () => {
    const conversations: ChatMessage[][] = [
      HELLO,
      [{ role: 'system', content: 'You are terse.' }, ...HELLO],
      [
        { role: 'user', content: '  Write a haiku.\n' },
        { role: 'assistant', content: 'An old pond.' },
        { role: 'user', content: 'Another, with "quotes" and {braces}.' },
        { role: 'assistant', content: 'Frog jumps —\nsplash! 😀' },
      ],
    ];
    const templates = { skywork: SKYWORK_LLAMA31_TEMPLATE, 'llama-3.1': LLAMA31_INSTRUCT_TEMPLATE, bundled: bundledTemplate };
    const cases = Object.values(templates).flatMap((template) =>
      conversations.map((messages) => ({ template, messages, bos: tok.bosToken, eos: tok.eosToken })),
    );
    const py = spawnSync(PYTHON, ['-c', RENDER_PY], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const expected = JSON.parse(py.stdout) as string[];
    const got = cases.map((c) => new ChatTemplate(c.template, tokens()).render(c.messages));
    expect(got).toEqual(expected);
  });
});

describe('whitespace as Python sees it (transformers renders with jinja2)', () => {
  // Rendered by Python's jinja2 (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, as
  // transformers' apply_chat_template) from these texts; Python's str.isspace differs from
  // JavaScript's \s at U+001C-U+001F and U+0085 (Python only) and U+FEFF (JavaScript only).
  const golden = {
    template:
      "{% for m in messages %}<{{ m.content | trim }}|{{ m.content.strip() }}|{{ m.content.lstrip() }}|{{ m.content.rstrip() }}|{{ m.content.strip('\\x85 ') }}|{{ m.content.split() | join('/') }}|{{ m.content.split(none, 1) | join('/') }}>{% endfor %}{{ missing | trim }}",
    texts: [
      '\ufeff hi \ufeff',
      '\u0085hi\u001c',
      '\u001c\u001d\u001e\u001f mid\u001fdle \u3000',
      '\u200b zero-width\u200b',
      'a\u2028b\u2029c \u00a0',
      'plain',
    ],
    rendered:
      '<\ufeff hi \ufeff|\ufeff hi \ufeff|\ufeff hi \ufeff|\ufeff hi \ufeff|\ufeff hi \ufeff|\ufeff/hi/\ufeff|\ufeff/hi \ufeff><hi|hi|hi\u001c|\u0085hi|hi\u001c|hi|hi><mid\u001fdle|mid\u001fdle|mid\u001fdle \u3000|\u001c\u001d\u001e\u001f mid\u001fdle|\u001c\u001d\u001e\u001f mid\u001fdle \u3000|mid/dle|mid/dle \u3000><\u200b zero-width\u200b|\u200b zero-width\u200b|\u200b zero-width\u200b|\u200b zero-width\u200b|\u200b zero-width\u200b|\u200b/zero-width\u200b|\u200b/zero-width\u200b><a\u2028b\u2029c|a\u2028b\u2029c|a\u2028b\u2029c \u00a0|a\u2028b\u2029c|a\u2028b\u2029c \u00a0|a/b/c|a/b\u2029c \u00a0><plain|plain|plain|plain|plain|plain|plain>',
  };

  it('trim, strip(), lstrip(), rstrip(), strip(chars) and split() give what Python gives on the edge characters', () => {
    const t = new ChatTemplate(golden.template);
    expect(t.render(golden.texts.map((content) => ({ role: 'user' as const, content })))).toBe(golden.rendered);
  });

  it.skipIf(!hasJinja)(`and what the installed jinja2 gives, live${skipNote(jinja2)}`, () => {
    const out = runPython(
      [
        '-c',
        `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
d = json.load(sys.stdin)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
print(json.dumps(env.from_string(d["template"]).render(messages=[{"role": "user", "content": t} for t in d["texts"]])))`,
      ],
      { input: JSON.stringify(golden) },
    );
    expect(JSON.parse(out)).toBe(golden.rendered);
  });

  it('pyStrip and pySplit follow str.strip / str.split', () => {
    expect(pyStrip('\ufeff hi \x85', 'both')).toBe('\ufeff hi');
    expect(pyStrip('xxhixx', 'left', 'x')).toBe('hixx');
    expect(pyStrip('xxhixx', 'right', 'x')).toBe('xxhi');
    expect(pySplit(' a\x1cb  c ')).toEqual(['a', 'b', 'c']);
    expect(pySplit(' a b  c ', 1)).toEqual(['a', 'b  c ']);
    expect(pySplit('\ufeff')).toEqual(['\ufeff']);
  });
});
