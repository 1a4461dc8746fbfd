import { describe, expect, it } from 'vitest';
import { buildComparisonReport } from '../src/report/comparison.js';
import { renderHtml } from '../src/report/html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { explain } from '../src/explain/explain.js';
import { CARD, FLAT } from './support/report-fixtures.js';

const llama = PreferenceTree.load('rlhflow-llama-3.1-8b');
const human = PreferenceTree.load('helpsteer2-human');

describe('buildComparisonReport', () => {
  it('reproduces the model card example through the Llama-3.1-8B tree (seed 004)', () => {
    const r = buildComparisonReport(llama, CARD);
    expect(r.kind).toBe('comparison');
    expect(r.decision.preference).toBe('a');
    // Card: helpfulness 1.79 > 0.019, correctness 1.77 > 0.303, helpfulness 1.79 > 1.121 -> [0.014, 0.986].
    expect(r.path.map((s) => [s.node, s.attribute, s.went])).toEqual([
      [0, 'helpfulness', 'right'],
      [8, 'correctness', 'right'],
      [12, 'helpfulness', 'right'],
    ]);
    expect(r.leaf).toMatchObject({ node: 14, share: 0.172, probability: 0.986 });
    expect(r.decision.publishedProbability).toBe(0.986);
    // The mirrored reading B − A ends in leaf 3 (P = 0.014), so the symmetric average is 0.986 too.
    expect(r.readings.map((x) => [x.reading, x.leaf.node])).toEqual([
      ['a-b', 14],
      ['b-a', 3],
    ]);
    expect(r.readings[1]!.probabilityA).toBeCloseTo(0.986, 12);
    expect(r.decision.probability).toBeCloseTo(0.986, 12);
    expect(r.counterfactual?.attribute).toBe('helpfulness');
    expect(r.texts.prompt).toBe(CARD.prompt);
    expect(r.truncated).toEqual({ a: null, b: null });
    expect(r.warnings).toEqual([]);
    expect(r.title).toBe('Why A is preferred over B');
  });

  it('agrees with explain() on the decision, path and counterfactual', () => {
    for (const tree of [llama, human]) {
      for (const symmetric of [true, false]) {
        const r = buildComparisonReport(tree, CARD, { symmetric });
        const e = explain(tree, CARD.a, CARD.b, { symmetric });
        expect(r.decision.probability).toBe(e.probability);
        expect(r.path).toEqual(e.path);
        expect(r.leaf).toEqual(e.leaf);
        expect(r.counterfactual).toEqual(e.counterfactual);
        expect(r.sentence).toBe(e.sentence);
        expect(r.readings).toHaveLength(symmetric ? 2 : 1);
      }
    }
  });

  it('shows both readings and the published probability when they differ', () => {
    // All differences 0: the published Llama tree ends in leaf 6 (P(A) = 0.196, B wins) while the
    // symmetric rule sees the same leaf both ways and calls it a tie.
    const r = buildComparisonReport(llama, { a: FLAT, b: FLAT });
    expect(r.decision).toMatchObject({ preference: 'tie', probability: 0.5, publishedProbability: 0.196, publishedPreference: 'b' });
    expect(r.title).toBe('Neither response is preferred');
    const html = renderHtml(r);
    expect(html).toContain('the published rule decides B preferred');
    expect(html).toContain('class="p-published">0.196<');
    const md = renderMarkdown(r);
    expect(md).toContain('As published (A − B only): P(A) = **0.196**. **The published rule decides B preferred.**');
    expect(md).toContain('| **symmetric** | average of the two readings |  |  | ½ × (0.196 + 0.804) = **0.500** |');
  });

  it('with the published rule shows one reading and no mirrored path', () => {
    const r = buildComparisonReport(llama, { a: FLAT, b: FLAT }, { symmetric: false });
    expect(r.decision).toMatchObject({ preference: 'b', probability: 0.196 });
    expect(r.readings).toHaveLength(1);
    const html = renderHtml(r);
    expect(html).not.toContain('class="node split on-mirror"');
    expect(html).not.toContain('Both readings');
    expect(renderMarkdown(r)).toContain('◀ A − B ends here');
  });

  it('says whether the tree agrees with a label', () => {
    expect(buildComparisonReport(llama, { ...CARD, label: 'a' }).decision.agreesWithLabel).toBe(true);
    expect(buildComparisonReport(llama, { ...CARD, label: 'b' }).decision.agreesWithLabel).toBe(false);
    expect(buildComparisonReport(llama, CARD).decision.agreesWithLabel).toBeNull();
  });

  it('warns about truncated responses, bidi controls and differences outside the training range', () => {
    const r = buildComparisonReport(human, {
      a: { helpfulness: 9, correctness: 4, coherence: 4, complexity: 2, verbosity: 2 },
      b: { helpfulness: 0, correctness: 4, coherence: 4, complexity: 2, verbosity: 2 },
      responseA: 'abc\u202Efed',
      truncated: { a: true, b: false },
    });
    expect(r.truncated).toEqual({ a: true, b: false });
    expect(r.warnings).toEqual([
      "Response A was truncated to fit the model's context: its rewards describe only the part the model read.",
      'Response A contains 1 bidirectional control character (shown as ⟨RLO⟩, ⟨LRI⟩...): they can make text read differently from what it says.',
      'The helpfulness difference 9.000 is outside the range the tree was trained on [-4.000, 4.000].',
    ]);
    expect(renderHtml(r)).toContain('<div class="warn"><ul><li>Response A was truncated');
    expect(renderMarkdown(r)).toContain("> [!WARNING]\n> - Response A was truncated to fit the model's context");
  });

  it('folds the branches off both paths of a tree too wide to read (more than 16 leaves)', () => {
    // A depth-5 tree fitted on a fixed pattern: 32 leaves.
    const n = 64;
    const d = new Float64Array(n * 5);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 5; k++) d[i * 5 + k] = ((i >> k) & 1) - 0.5;
      y[i] = [0, 1, 2, 3, 4].reduce((s, k) => s + ((i >> k) & 1), 0) % 2;
    }
    const deep = PreferenceTree.fitArrays(d, y, { maxDepth: 5 });
    expect(deep.leaves().length).toBe(32);
    const r = buildComparisonReport(deep, { a: { helpfulness: 1, correctness: 0, coherence: 1, complexity: 0, verbosity: 1 }, b: FLAT });
    const html = renderHtml(r);
    const drawn = [...html.matchAll(/<g class="node[^"]*" data-node="(\d+)">/g)].map((m) => Number(m[1]));
    for (const reading of r.readings) for (const id of [...reading.path.map((s) => s.node), reading.leaf.node]) expect(drawn).toContain(id);
    expect(drawn.length).toBeLessThan(deep.nodeCount);
    expect(html).toContain('class="node split folded');
    expect(html).toContain('leaves below, folded');
    expect(html).toContain('The tree has 32 leaves: the branches off the two paths are folded');
    // Markdown keeps every node.
    expect(renderMarkdown(r).match(/leaf \d+/g)!.length).toBeGreaterThanOrEqual(32);
  });

  describe('bad calls', () => {
    it('names every problem of the input at once', () => {
      const bad = { a: { ...CARD.a, verbosity: undefined }, b: { ...CARD.b, extra: 1 }, label: 'c', prompt: 5 } as never;
      expect(() => buildComparisonReport(llama, bad)).toThrow(TypeError);
      expect(() => buildComparisonReport(llama, bad)).toThrow(
        "input.a.verbosity: missing attribute 'verbosity'; input.b.extra: unknown attribute 'extra': expected only helpfulness, correctness, coherence, complexity, verbosity; input.prompt must be a string or null, got number; input.label must be 'a', 'b' or null, got \"c\"",
      );
    });

    it('throws RangeError for non-finite rewards', () => {
      expect(() => buildComparisonReport(llama, { a: { ...CARD.a, helpfulness: NaN }, b: CARD.b })).toThrow(RangeError);
      expect(() => buildComparisonReport(llama, { a: { ...CARD.a, helpfulness: NaN }, b: CARD.b })).toThrow(
        "input.a.helpfulness: 'helpfulness' must be finite, got NaN",
      );
    });

    it('refuses a non-object input and bad truncation flags', () => {
      expect(() => buildComparisonReport(llama, null as never)).toThrow('input must be an object');
      expect(() => buildComparisonReport(llama, { ...CARD, truncated: { a: 'yes' } } as never)).toThrow(
        'input.truncated.a must be a boolean, got string',
      );
    });

    it('checks the rule options', () => {
      expect(() => buildComparisonReport(llama, CARD, { tieBand: 0.7 })).toThrow(RangeError);
    });
  });
});
