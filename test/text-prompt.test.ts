import { describe, expect, it } from 'vitest';
import { checkText, promptMessages, toConversation } from '../src/text/prompt.js';

describe('checkText', () => {
  it('accepts ordinary text, emoji and CJK', () => {
    expect(() => checkText('Hello 😀 日本語', 'response')).not.toThrow();
  });

  it('bad call: non-string and empty text are TypeErrors naming the parameter', () => {
    expect(() => checkText(42, 'response')).toThrow(TypeError);
    expect(() => checkText(42, 'response')).toThrow(/response must be a string, got number 42/);
    expect(() => checkText(null, 'prompt')).toThrow(/prompt must be a string, got null/);
    expect(() => checkText('', 'a')).toThrow(/a must be a non-empty string, got an empty string/);
    expect(() => checkText('  \n ', 'b')).toThrow(/b must be a non-empty string, got only whitespace/);
  });

  it('bad call: NUL characters and lone surrogates are RangeErrors with the index', () => {
    expect(() => checkText('ab\u0000c', 'response')).toThrow(RangeError);
    expect(() => checkText('ab\u0000c', 'response')).toThrow(/response contains a NUL character at index 2/);
    expect(() => checkText('x\ud800y', 'response')).toThrow(/lone UTF-16 surrogate at index 1 \(U\+D800\)/);
    expect(() => checkText('xy\udc00', 'prompt')).toThrow(/prompt contains a lone UTF-16 surrogate at index 2/);
    // A proper surrogate pair is fine.
    expect(() => checkText('x\ud83d\ude00y', 'prompt')).not.toThrow();
  });
});

describe('promptMessages', () => {
  it('a plain string is one user turn with trailing newlines removed (as RLHFlow does)', () => {
    expect(promptMessages('Hello\n\n')).toEqual([{ role: 'user', content: 'Hello' }]);
    // Only newlines are stripped, like Python's rstrip('\n').
    expect(promptMessages('Hello \n')).toEqual([{ role: 'user', content: 'Hello ' }]);
  });

  it('splits HelpSteer2 <extra_id_1> multi-turn prompts exactly as convert_to_chat_format', () => {
    const prompt = 'Write a haiku.\n<extra_id_1>Assistant\nAn old pond.\n<extra_id_1>User\nAnother one, please.\n';
    expect(promptMessages(prompt)).toEqual([
      { role: 'user', content: 'Write a haiku.' },
      { role: 'assistant', content: 'An old pond.' },
      { role: 'user', content: 'Another one, please.' },
    ]);
    // Any role line other than "Assistant" is a user turn; content keeps inner newlines.
    expect(promptMessages('a\n<extra_id_1>System\nx\ny\n')).toEqual([
      { role: 'user', content: 'a' },
      { role: 'user', content: 'x\ny' },
    ]);
    // A marker without a newline has no content (Python would raise IndexError here).
    expect(promptMessages('a<extra_id_1>Assistant')).toEqual([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: '' },
    ]);
  });

  it('accepts chat messages and checks each one', () => {
    const msgs = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ];
    expect(promptMessages(msgs)).toEqual(msgs);
  });

  it('bad call: malformed messages name the index', () => {
    expect(() => promptMessages([], 'prompt')).toThrow(/prompt must not be an empty array/);
    expect(() => promptMessages([{ role: 'user' }])).toThrow(/prompt\[0\]\.content must be a string, got undefined/);
    expect(() => promptMessages([{ role: '', content: 'x' }])).toThrow(/prompt\[0\]\.role must be a non-empty string/);
    expect(() => promptMessages(['hi'])).toThrow(/prompt\[0\] must be a message object/);
    expect(() =>
      promptMessages([
        { role: 'user', content: 'a' },
        { role: 'system', content: 'b' },
      ]),
    ).toThrow(/prompt\[1\]: a system message may only come first/);
    expect(() => promptMessages([{ role: 'system', content: 'b' }])).toThrow(/only a system message/);
    expect(() => promptMessages({ role: 'user' })).toThrow(/prompt must be a string or an array of chat messages/);
    expect(() => promptMessages([{ role: 'user', content: 'a\u0000' }])).toThrow(/prompt\[0\]\.content contains a NUL character/);
  });
});

describe('toConversation', () => {
  it('appends the response as the assistant turn exactly as given (apply_chat_template sees it unchanged)', () => {
    // A template that does not trim (Qwen3's) renders the trailing newline into the scored ids.
    expect(toConversation('Hi', 'Hello!\n')).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!\n' },
    ]);
    expect(toConversation([{ role: 'user', content: 'Hi\n' }], ' \tHello!\n\n')).toEqual([
      { role: 'user', content: 'Hi\n' },
      { role: 'assistant', content: ' \tHello!\n\n' },
    ]);
  });

  it('bad call: names the response parameter', () => {
    expect(() => toConversation('Hi', '', { response: 'a' })).toThrow(/a must be a non-empty string/);
    expect(() => toConversation('Hi', undefined, { response: 'b' })).toThrow(/b must be a string, got undefined/);
  });
});
