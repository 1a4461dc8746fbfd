/** Truncation is never silent: the order of what is cut, the limits, and the report. */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConversationEncoder } from '../src/text/encoder.js';
import type { ChatMessage } from '../src/text/prompt.js';
import { ChatTemplate } from '../src/text/template.js';
import { TextTokenizer } from '../src/text/tokenizer.js';
import { SKYWORK_LLAMA31_TEMPLATE, llama3TokenizerFiles } from './support/fixture-model.js';

let tok: TextTokenizer;
let template: ChatTemplate;
const encoder = (maxLength: number): ConversationEncoder => new ConversationEncoder(tok, template, { maxLength });
const words = (tag: string, n: number): string => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

beforeAll(() => {
  const files = llama3TokenizerFiles();
  tok = TextTokenizer.fromJSON(JSON.parse(readFileSync(files.tokenizer, 'utf8')), JSON.parse(readFileSync(files.config, 'utf8')));
  template = new ChatTemplate(SKYWORK_LLAMA31_TEMPLATE, { bos_token: tok.bosToken, eos_token: tok.eosToken });
});

const decode = (ids: Int32Array): string => tok.decode(Array.from(ids));

describe('truncation', () => {
  it('a conversation that fits is untouched and says so', () => {
    const e = encoder(4096).encode('Hi', 'Hello');
    expect(e.truncated).toBe(false);
    expect(e.truncation).toBeNull();
  });

  it('drops the oldest prompt turns first, keeping the conversation starting with a user turn', () => {
    const prompt: ChatMessage[] = [
      { role: 'user', content: words('old', 60) },
      { role: 'assistant', content: words('mid', 60) },
      { role: 'user', content: 'The last question?' },
    ];
    const full = encoder(4096).encode(prompt, 'The answer.');
    const e = encoder(full.ids.length - 20).encode(prompt, 'The answer.');
    expect(e.truncated).toBe(true);
    expect(e.truncation).toMatchObject({
      droppedMessages: 2,
      promptTokensCut: 0,
      responseTokensCut: 0,
      responseTruncated: false,
      originalTokens: full.ids.length,
    });
    const text = decode(e.ids);
    expect(text).not.toContain('old0');
    expect(text).not.toContain('mid0');
    expect(text).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nThe last question?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nThe answer.<|eot_id|>',
    );
    expect(e.truncation!.summary).toMatch(/^dropped 2 oldest prompt messages to fit maxLength \d+ \(was \d+ tokens\)$/);
  });

  it('keeps a system message until the old turns are gone, then drops it before cutting the prompt', () => {
    const prompt: ChatMessage[] = [
      { role: 'system', content: 'SYSTEM RULES' },
      { role: 'user', content: words('old', 40) },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: 'Final question?' },
    ];
    const noOld = encoder(4096).encode([prompt[0]!, prompt[3]!], 'Answer.').ids.length;
    const keepsSystem = encoder(noOld).encode(prompt, 'Answer.');
    expect(keepsSystem.truncation!.droppedMessages).toBe(2);
    expect(decode(keepsSystem.ids)).toContain('SYSTEM RULES');
    const dropsSystem = encoder(noOld - 2).encode(prompt, 'Answer.');
    expect(dropsSystem.truncation!.droppedMessages).toBe(3);
    expect(decode(dropsSystem.ids)).not.toContain('SYSTEM RULES');
    expect(decode(dropsSystem.ids)).toContain('Final question?');
  });

  it('then cuts the start of the prompt, keeping its end (next to the response) and the whole response', () => {
    const prompt = words('p', 300);
    const e = encoder(200).encode(prompt, 'Short answer.');
    expect(e.ids.length).toBeLessThanOrEqual(200);
    expect(e.ids.length).toBeGreaterThanOrEqual(196); // keeps as much as fits
    const text = decode(e.ids);
    expect(text).toContain('p299');
    expect(text).not.toContain('p0 ');
    expect(text.endsWith('Short answer.<|eot_id|>')).toBe(true);
    expect(e.truncation).toMatchObject({ droppedMessages: 0, responseTruncated: false, responseTokensCut: 0 });
    expect(e.truncation!.promptTokensCut).toBeGreaterThan(400);
    expect(e.ids[0]).toBe(128000); // BOS still first, once
    expect(Array.from(e.ids).filter((i) => i === 128000)).toHaveLength(1);
  });

  it('cuts the end of the response only when it alone does not fit, and says so', () => {
    const response = words('r', 300);
    const e = encoder(100).encode('Question?', response);
    expect(e.ids.length).toBeLessThanOrEqual(100);
    const text = decode(e.ids);
    expect(text).toContain('r0 r1 r2');
    expect(text).not.toContain('r299');
    expect(text).not.toContain('Question?'); // the prompt went first
    expect(text.endsWith('<|eot_id|>')).toBe(true); // the template still closes the turn
    expect(e.truncation).toMatchObject({ responseTruncated: true });
    expect(e.truncation!.responseTokensCut).toBeGreaterThan(400);
    expect(e.truncation!.summary).toMatch(/cut \d+ tokens from the end of the response \(it alone is over 100 tokens\)/);
  });

  it('text far over the limit (a 3 MB response) is cut before tokenizing and still reported', () => {
    const huge = 'word '.repeat(600_000);
    const t0 = performance.now();
    const e = encoder(64).encode('Q?', huge);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(e.ids.length).toBeLessThanOrEqual(64);
    expect(e.truncated).toBe(true);
    expect(e.truncation!.originalTokens).toBeNull(); // too long to count whole
    expect(e.truncation!.responseTruncated).toBe(true);
    expect(e.truncation!.summary).toMatch(/cut \d+\+ tokens from the end of the response/);
  });

  it('never splits a character: emoji-heavy text cut at a token boundary stays valid Unicode', () => {
    const e = encoder(40).encode('Q', '😀🎉👍'.repeat(200));
    const text = decode(e.ids);
    expect(text.includes('\ufffd')).toBe(false);
    expect(e.ids.length).toBeLessThanOrEqual(40);
  });

  it('bad call: a maxLength with no room for text is a RangeError', () => {
    expect(() => encoder(10).encode('Q', 'a long enough answer to need truncation at ten tokens')).toThrow(
      /maxLength 10 leaves no room for text: the chat template alone takes 11 tokens/,
    );
    expect(() => new ConversationEncoder(tok, template, { maxLength: 0 })).toThrow(RangeError);
  });
});

describe('dropping many turns', () => {
  /** The rule as the loop states it: drop the oldest prompt message, then non-user turns after it, re-render, repeat. */
  function oneAtATime(e: ConversationEncoder, input: ChatMessage[]): { dropped: number; ids: number[] } {
    const m = input.map((x) => ({ ...x }));
    const first = m[0]!.role === 'system' ? 1 : 0;
    const count = (): number => m.length - 1 - first;
    let ids = e.renderIds(m);
    let dropped = 0;
    while (ids.length > e.maxLength && count() > 1) {
      m.splice(first, 1);
      dropped++;
      while (count() > 1 && m[first]!.role !== 'user') {
        m.splice(first, 1);
        dropped++;
      }
      ids = e.renderIds(m);
    }
    return { dropped, ids };
  }

  const chat = (n: number, seed: number): ChatMessage[] => {
    const out: ChatMessage[] = seed % 2 ? [{ role: 'system', content: 'Be brief.' }] : [];
    for (let i = 0; i < n; i++) {
      const role = (i * 7 + seed) % 5 === 0 ? 'assistant' : i % 2 === 0 ? 'user' : 'assistant';
      out.push({ role, content: words(`t${i}x`, 1 + ((i * 13 + seed) % 9)) });
    }
    out.push({ role: 'assistant', content: 'The answer.' });
    return out;
  };

  it('gives what dropping one turn at a time gives, with the model template and with one whose turns do not add up', () => {
    const plain = new ChatTemplate('{% for m in messages %}{{ m.role }}: {{ m.content }} {% endfor %}', {});
    for (const t of [template, plain]) {
      for (let seed = 0; seed < 4; seed++) {
        const messages = chat(30 + seed * 5, seed);
        for (const max of [80, 200]) {
          const e = new ConversationEncoder(tok, t, { maxLength: max });
          const want = oneAtATime(e, messages);
          const got = e.encodeMessages(messages);
          if (want.ids.length <= max) expect(Array.from(got.ids), `seed ${seed}, max ${max}`).toEqual(want.ids);
          expect(got.truncation?.droppedMessages ?? 0, `seed ${seed}, max ${max}`).toBe(want.dropped);
        }
      }
    }
  });
});
