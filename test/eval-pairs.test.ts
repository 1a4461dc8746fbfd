/**
 * dtr eval's `pairs` format reads its rows with the text-pair row parser every command shares
 * (data/text-rows.ts parsePairRow, as `dtr report` and `--file` do), held to what an evaluation
 * needs: a label on every row, both sides texts or both attribute scores, a prompt string.
 */
import { describe, expect, it } from 'vitest';
import { parseEvalSet } from '../src/data/datasets.js';
import { DtrError } from '../src/errors.js';

const S = { helpfulness: 3, correctness: 3, coherence: 4, complexity: 1, verbosity: 1 };
const rows = (...values: unknown[]) => values.map((value, i) => ({ line: i + 1, value }));
const problems = (...values: unknown[]): string[] => {
  try {
    parseEvalSet(rows(...values), 'p.jsonl', 'pairs');
  } catch (e) {
    if (e instanceof DtrError) return (e.issues ?? []).map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};

describe("dtr eval's pairs rows, through the shared text-pair parser", () => {
  it('reads texts and attribute scores in the shapes the other commands read: a/b, response_a/response_b, rewards.a/rewards.b', () => {
    const texts = parseEvalSet(
      rows(
        { prompt: 'P', a: 'x', b: 'y', label: 'a', id: 7, subset: 's' },
        { prompt: 'Q', response_a: 'u', response_b: 'v', label: 'tie' },
      ),
      'p.jsonl',
      'pairs',
    );
    expect(texts.kind).toBe('text');
    expect(texts.items).toEqual([
      { id: '7', subset: 's', line: 1, prompt: 'P', a: 'x', b: 'y', label: 'a' },
      { id: 'L2', subset: null, line: 2, prompt: 'Q', a: 'u', b: 'v', label: 'tie' },
    ]);
    const scores = parseEvalSet(
      rows({ a: S, b: { ...S, verbosity: 2 }, label: 'b' }, { rewards: { a: S, b: S }, label: 'a', category: 'c' }),
      'p.jsonl',
      'pairs',
    );
    expect(scores.kind).toBe('scores');
    expect(scores.items.map((i) => [i.id, i.subset, i.prompt, i.label, i.b])).toEqual([
      ['L1', null, null, 'b', { ...S, verbosity: 2 }],
      ['L2', 'c', null, 'a', S],
    ]);
  });

  it('refuses, naming the row, what an evaluation cannot use', () => {
    expect(problems({ a: S, b: 'text', label: 'a' })).toEqual(['p.jsonl:1: "a" and "b" must both be texts or both be attribute scores']);
    expect(problems({ a: 'x', b: 'y', label: 'a' })).toEqual([
      'p.jsonl:1: missing "prompt" (a string) or "messages" to score the responses with',
    ]);
    expect(problems({ messages: [{ role: 'user', content: 'hi' }], a: 'x', b: 'y', label: 'a' })).toEqual([
      'p.jsonl:1: "messages" is not read in evaluation pairs: give the prompt as "prompt" (a string)',
    ]);
    expect(problems({ prompt: 'P', a: 'x', b: 'y' })).toEqual(['p.jsonl:1: missing "label" ("a", "b", or "tie" for a pair rated equal)']);
    expect(problems({ a: S, b: S, label: 'a', subset: 3 })).toEqual(['p.jsonl:1: "subset" must be a string, got 3']);
    expect(problems({ a: S, b: S, label: 'a' }, { a: 'x', b: 'y', prompt: 'P', label: 'b' })).toEqual([
      'p.jsonl:2: this row has response texts but earlier rows have attribute scores: one file holds one kind',
    ]);
  });
});
