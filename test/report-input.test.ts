import { describe, expect, it } from 'vitest';
import { DtrError } from '../src/errors.js';
import { comparisonInputFromCompared, datasetInputFromRows, parseComparisonJson } from '../src/report/input.js';
import { parsePairRows } from '../src/data/text-rows.js';
import { CARD } from './support/report-fixtures.js';

const rows = (...values: unknown[]) => values.map((value, i) => ({ line: i + 1, value }));

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof DtrError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('expected a DtrError');
}

describe('parsePairRows', () => {
  it('reads attribute pairs with labels, subsets, ids, texts and truncation', () => {
    const [r] = parsePairRows(
      rows({
        id: 7,
        category: 'chat',
        a: CARD.a,
        b: CARD.b,
        label: 'b',
        prompt: 'p',
        response_a: 'x',
        response_b: 'y',
        truncated: { a: true },
      }),
      'f.jsonl',
      { need: 'scores' },
    );
    expect(r).toEqual({
      line: 1,
      a: CARD.a,
      b: CARD.b,
      prompt: 'p',
      messages: null,
      textA: 'x',
      textB: 'y',
      truncated: 1,
      truncationNotes: null,
      label: 'b',
      tieLabel: false,
      subset: 'chat',
      id: '7',
      styles: null,
    });
  });

  it('reads text pairs for a model, with a prompt or chat messages', () => {
    const out = parsePairRows(
      rows(
        { prompt: 'Hi', a: 'Hello', b: 'Go away', label: 'a' },
        {
          messages: [
            { role: 'user', content: 'Hi' },
            { role: 'assistant', content: 'Hey' },
            { role: 'user', content: 'More?' },
          ],
          a: 'Yes',
          b: 'No',
        },
      ),
      'f.jsonl',
      { need: 'texts' },
    );
    expect(out.map((r) => [r.prompt, r.textA, r.textB, r.a])).toEqual([
      ['Hi', 'Hello', 'Go away', null],
      ['user: Hi\n\nassistant: Hey\n\nuser: More?', 'Yes', 'No', null],
    ]);
    expect(out[1]!.messages).toHaveLength(3);
  });

  it('reports every bad row at once, with its line', () => {
    const issues = issuesOf(() =>
      parsePairRows(
        rows(
          [1, 2],
          { a: CARD.a },
          { a: { ...CARD.a, coherence: Infinity }, b: CARD.b, subset: 3 },
          { a: CARD.a, b: CARD.b, truncated: 'yes', truncation: null },
        ),
        'f.jsonl',
        { need: 'scores' },
      ),
    );
    expect(issues).toEqual([
      'f.jsonl:1: expected an object {"a": {...scores}, "b": {...scores}, "label"?: "a"|"b"}',
      'f.jsonl:2: b: expected an object of the five attribute rewards (helpfulness, correctness, coherence, complexity, verbosity), missing',
      "f.jsonl:3: a.coherence: 'coherence' must be finite, got Infinity",
      'f.jsonl:3: subset must be a string, got number 3',
      'f.jsonl:4: truncated must be a boolean or an object {"a": boolean, "b": boolean}, got the string "yes"',
    ]);
  });

  it('says what text rows need', () => {
    expect(
      issuesOf(() =>
        parsePairRows(rows({ a: 'x' }, { prompt: 'p', messages: [{ role: 'user', content: 'q' }], a: 'x', b: 'y' }), 'f.jsonl', {
          need: 'texts',
        }),
      ),
    ).toEqual([
      'f.jsonl:1: missing "prompt" (a string) or "messages" to score the responses with',
      'f.jsonl:1: missing the response text "b" (a string)',
      'f.jsonl:2: give "prompt" or "messages", not both',
    ]);
  });

  it('refuses an empty file', () => {
    expect(() => parsePairRows([], 'f.jsonl', { need: 'scores' })).toThrow(expect.objectContaining({ code: 'E_EMPTY' }));
  });
});

describe('datasetInputFromRows', () => {
  it('lays rows out as arrays, labels 255 where missing, and takes model scores over the rows', () => {
    const parsed = parsePairRows(rows({ a: CARD.a, b: CARD.b, label: 'a' }, { a: CARD.b, b: CARD.a }), 'f.jsonl', { need: 'scores' });
    const input = datasetInputFromRows(parsed, 'f.jsonl', [
      { a: CARD.b, b: CARD.a, truncated: { a: false, b: true } },
      { a: CARD.a, b: CARD.b, truncated: null },
    ]);
    expect(input.n).toBe(2);
    expect(Array.from(input.labels!)).toEqual([1, 255]);
    expect(input.a[0]).toBe(CARD.b.helpfulness);
    expect(Array.from(input.truncated!)).toEqual([2, 0]);
    expect(input.texts).toBeNull();
    expect(input.lines).toEqual([1, 2]);
    expect(() => datasetInputFromRows(parsed, null, [])).toThrow(new RangeError('scores has 0 entries but there are 2 rows'));
  });

  it('counts "tie" labels (as dtr eval writes them) as unlabelled, with a note', () => {
    const parsed = parsePairRows(rows({ a: CARD.a, b: CARD.b, label: 'tie' }, { a: CARD.a, b: CARD.b, label: 'a' }), 'f.jsonl', {
      need: 'scores',
    });
    const input = datasetInputFromRows(parsed, null);
    expect(Array.from(input.labels!)).toEqual([255, 1]);
    expect(input.notes).toEqual(['1 pair is labelled "tie" (rated equal): it counts as unlabelled.']);
  });

  it('has no labels array when no row is labelled', () => {
    const parsed = parsePairRows(rows({ a: CARD.a, b: CARD.b }), 'f.jsonl', { need: 'scores' });
    expect(datasetInputFromRows(parsed, null).labels).toBeNull();
  });
});

describe('parseComparisonJson', () => {
  it('names the file, not a line, in its problems', () => {
    expect(() => parseComparisonJson({ rewards: { a: CARD.a } }, 'c.json')).toThrow(
      'c.json: rewards.b: expected an object of the five attribute rewards (helpfulness, correctness, coherence, complexity, verbosity), missing',
    );
  });

  it('reads texts from `responses` too, and the tree named as an object', () => {
    const f = parseComparisonJson(
      { tree: { name: 'helpsteer2-human' }, a: CARD.a, b: CARD.b, responses: { a: 'one', b: 'two' } },
      'c.json',
    );
    expect(f.kind === 'comparison' && [f.tree, f.input.responseA, f.input.responseB]).toEqual(['helpsteer2-human', 'one', 'two']);
  });
});

describe('comparisonInputFromCompared', () => {
  it('takes rewards and per-side truncation from a model comparison', () => {
    const result = {
      rewards: { a: CARD.a, b: CARD.b },
      truncation: { a: null, b: { summary: 'cut 12 tokens from the end of the response' } },
    };
    expect(comparisonInputFromCompared(result, { prompt: 'p', responseA: 'x', responseB: 'y', label: 'a' })).toEqual({
      prompt: 'p',
      responseA: 'x',
      responseB: 'y',
      label: 'a',
      a: CARD.a,
      b: CARD.b,
      truncated: { a: false, b: true },
      truncationNotes: { a: null, b: 'cut 12 tokens from the end of the response' },
    });
    expect(comparisonInputFromCompared({ rewards: { a: CARD.a, b: CARD.b } }).truncated).toBeNull();
  });

  it("feeds a dataset with model comparisons in place of the rows' rewards", () => {
    const parsed = parsePairRows(rows({ prompt: 'p', a: 'x', b: 'y', label: 'b' }), 'f.jsonl', { need: 'texts' });
    const input = datasetInputFromRows(parsed, 'f.jsonl', [
      { rewards: { a: CARD.a, b: CARD.b }, truncation: { a: { summary: 's' }, b: null } },
    ]);
    expect(input.a[0]).toBe(CARD.a.helpfulness);
    expect(Array.from(input.truncated!)).toEqual([1]);
    expect(input.texts).toEqual({ prompt: ['p'], a: ['x'], b: ['y'] });
  });
});
