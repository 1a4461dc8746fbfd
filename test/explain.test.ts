/** explain(): the published trees' worked example, the symmetric rule, counterfactuals, golden text. */
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES, type AttributeScores } from '../src/attributes.js';
import { CARD_EXAMPLE } from '../src/cli/card-example.js';
import { describePath, explain } from '../src/explain/explain.js';
import { preferenceOf, probabilityOf } from '../src/tree/decision.js';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { SeededRandom } from '../src/util/random.js';

const llama = PreferenceTree.load('rlhflow-llama-3.1-8b');
const gemma = PreferenceTree.load('rlhflow-gemma-2-27b');
const human = PreferenceTree.load('helpsteer2-human');
const zeros: AttributeScores = { helpfulness: 1, correctness: 1, coherence: 1, complexity: 1, verbosity: 1 };

function randomScores(rng: SeededRandom): AttributeScores {
  return Object.fromEntries(ATTRIBUTES.map((a) => [a, Math.round(rng.next() * 400) / 100])) as AttributeScores;
}

describe('the model card example through the published Llama-3.1-8B tree', () => {
  const e = explain(llama, CARD_EXAMPLE.a, CARD_EXAMPLE.b);

  it('prefers response a with probability 0.986 along helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121', () => {
    expect(e.preference).toBe('a');
    expect(e.probability).toBeCloseTo(0.986, 12);
    expect(describePath(e.path)).toBe('helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121');
    expect(e.leaf).toEqual({ node: 14, samples: null, share: 0.172, probability: 0.986 });
    expect(e.path.map((s) => s.node)).toEqual([0, 8, 12]);
    expect(e.delta.helpfulness).toBeCloseTo(1.7904959, 9);
  });

  it('gives the same answer under the published (asymmetric) rule', () => {
    const p = explain(llama, CARD_EXAMPLE.a, CARD_EXAMPLE.b, { symmetric: false });
    expect(p.preference).toBe('a');
    expect(p.probability).toBe(0.986);
    expect(p.mirror).toBeNull();
  });

  it('explains itself in a sentence and names what would flip it', () => {
    expect(e.sentence).toBe(
      'A is preferred with probability 0.986: helpfulness difference +1.790 > 0.019, then correctness difference +1.769 > 0.303, then helpfulness difference +1.790 > 1.121, reaching leaf 14 (17.2% of training pairs, P(A preferred) = 0.986). Read the other way round (B − A), the tree reaches leaf 3 (18.7% of training pairs, P(B preferred) = 0.014); the symmetric probability averages both readings.',
    );
    expect(e.counterfactual).toMatchObject({ attribute: 'helpfulness', preference: 'b' });
    expect(e.counterfactual!.sentence).toBe(
      "B would win if A's helpfulness were 1.809 lower (or B's that much higher): helpfulness difference < -0.019.",
    );
  });
});

describe('asymmetry of the published trees and the symmetric rule', () => {
  it('with all differences 0, the published trees favour response b; the symmetric rule says tie', () => {
    expect(explain(llama, zeros, zeros, { symmetric: false })).toMatchObject({ preference: 'b', probability: 0.196, leaf: { node: 6 } });
    expect(explain(gemma, zeros, zeros, { symmetric: false })).toMatchObject({ preference: 'b', probability: 0.388, leaf: { node: 7 } });
    expect(explain(llama, zeros, zeros)).toMatchObject({ preference: 'tie', probability: 0.5 });
  });

  it('swapping a and b mirrors the symmetric answer exactly, for every tree', () => {
    const rng = new SeededRandom(12);
    for (const tree of [llama, gemma, human]) {
      for (let i = 0; i < 300; i++) {
        const a = randomScores(rng);
        const b = randomScores(rng);
        const ab = explain(tree, a, b);
        const ba = explain(tree, b, a);
        expect(ab.probability + ba.probability).toBeCloseTo(1, 15);
        expect(ab.preference).toBe(ba.preference === 'a' ? 'b' : ba.preference === 'b' ? 'a' : 'tie');
      }
    }
  });

  it('tieBand widens the tie zone symmetrically', () => {
    expect(preferenceOf(0.55, 0.05)).toBe('tie');
    expect(preferenceOf(0.5500001, 0.05)).toBe('a');
    expect(preferenceOf(0.45, 0.05)).toBe('tie');
    expect(preferenceOf(0.4, 0.05)).toBe('b');
  });
});

describe('counterfactuals', () => {
  it('the change flips the decision, and no smaller one-attribute change does (checked on a fine grid)', () => {
    const rng = new SeededRandom(13);
    for (const tree of [llama, human]) {
      for (let i = 0; i < 40; i++) {
        const a = randomScores(rng);
        const b = randomScores(rng);
        const e = explain(tree, a, b);
        if (e.preference === 'tie') continue;
        const d = ATTRIBUTES.map((k) => a[k] - b[k]);
        if (e.counterfactual === null) continue;
        const cf = e.counterfactual;
        const k = ATTRIBUTES.indexOf(cf.attribute);
        const moved = [...d];
        moved[k] = cf.newDelta;
        expect(preferenceOf(probabilityOf(tree, moved, true))).toBe(cf.preference);
        // Any smaller change, on any attribute, keeps the decision (or only reaches a tie).
        for (let j = 0; j < 5; j++) {
          for (let step = -80; step <= 80; step++) {
            const change = (step / 80) * Math.abs(cf.change) * 0.999;
            const x = [...d];
            x[j] = d[j]! + change;
            const range = tree.ranges![ATTRIBUTES[j]!];
            if (x[j]! < range[0] || x[j]! > range[1]) continue;
            const pref = preferenceOf(probabilityOf(tree, x, true));
            expect(pref === e.preference || pref === 'tie', `${ATTRIBUTES[j]} change ${change}`).toBe(true);
          }
        }
      }
    }
  });

  it('is null when nothing within the data range flips the decision', () => {
    const a: AttributeScores = { helpfulness: 4, correctness: 4, coherence: 4, complexity: 4, verbosity: 4 };
    const b: AttributeScores = { helpfulness: 0, correctness: 0, coherence: 0, complexity: 0, verbosity: 0 };
    // helpsteer2-human: flipping needs the helpfulness difference below 0.5 ... reachable within [-4, 4].
    expect(explain(human, a, b).counterfactual).not.toBeNull();
    const narrow = PreferenceTree.fromJSON({ ...human.toJSON(), ranges: Object.fromEntries(ATTRIBUTES.map((k) => [k, [3.9, 4]])) });
    expect(explain(narrow, a, b).counterfactual).toBeNull();
  });
});

describe('golden text of the published trees', () => {
  it('exportText (scikit-learn layout) of rlhflow-llama-3.1-8b', () => {
    expect(llama.exportText()).toMatchInlineSnapshot(`
      "|--- helpfulness <= 0.019
      |   |--- helpfulness <= -0.364
      |   |   |--- helpfulness <= -1.001
      |   |   |   |--- class: b
      |   |   |--- helpfulness >  -1.001
      |   |   |   |--- class: b
      |   |--- helpfulness >  -0.364
      |   |   |--- verbosity <= 0.053
      |   |   |   |--- class: b
      |   |   |--- verbosity >  0.053
      |   |   |   |--- class: b
      |--- helpfulness >  0.019
      |   |--- correctness <= 0.303
      |   |   |--- complexity <= 0.001
      |   |   |   |--- class: a
      |   |   |--- complexity >  0.001
      |   |   |   |--- class: a
      |   |--- correctness >  0.303
      |   |   |--- helpfulness <= 1.121
      |   |   |   |--- class: a
      |   |   |--- helpfulness >  1.121
      |   |   |   |--- class: a
      "
    `);
  });

  it('exportText with details of helpsteer2-human', () => {
    expect(human.exportText({ details: true, decimals: 1 })).toMatchInlineSnapshot(`
      "|--- helpfulness <= 0.5
      |   |--- helpfulness <= -0.5
      |   |   |--- correctness <= -0.5
      |   |   |   |--- class: b  (P(a) = 0.014, 37.7% of pairs)
      |   |   |--- correctness >  -0.5
      |   |   |   |--- class: b  (P(a) = 0.094, 3.8% of pairs)
      |   |--- helpfulness >  -0.5
      |   |   |--- coherence <= 0.5
      |   |   |   |--- class: b  (P(a) = 0.455, 14.4% of pairs)
      |   |   |--- coherence >  0.5
      |   |   |   |--- class: a  (P(a) = 0.787, 1.4% of pairs)
      |--- helpfulness >  0.5
      |   |--- correctness <= 0.5
      |   |   |--- coherence <= 0.5
      |   |   |   |--- class: a  (P(a) = 0.841, 2.1% of pairs)
      |   |   |--- coherence >  0.5
      |   |   |   |--- class: a  (P(a) = 0.970, 2.0% of pairs)
      |   |--- correctness >  0.5
      |   |   |--- helpfulness <= 2.5
      |   |   |   |--- class: a  (P(a) = 0.981, 25.0% of pairs)
      |   |   |--- helpfulness >  2.5
      |   |   |   |--- class: a  (P(a) = 0.997, 13.6% of pairs)
      "
    `);
  });
});

describe('bad calls', () => {
  it('names the bad parameter', () => {
    expect(() => explain(llama, { ...zeros, verbosity: Number.NaN }, zeros)).toThrowError(
      new RangeError("a: 'verbosity' must be finite, got NaN"),
    );
    expect(() => explain(llama, zeros, { ...zeros, length: 3 } as unknown as AttributeScores)).toThrowError(
      new TypeError("b: unknown attribute 'length': expected only helpfulness, correctness, coherence, complexity, verbosity"),
    );
    const { verbosity: _, ...four } = zeros;
    expect(() => explain(llama, four as AttributeScores, zeros)).toThrowError(/a: missing attribute 'verbosity'/);
    expect(() => explain(llama, { ...zeros, coherence: '3' } as unknown as AttributeScores, zeros)).toThrowError(
      /'coherence' must be a number, got the string "3"/,
    );
    expect(() => explain(llama, zeros, zeros, { tieBand: 0.5 })).toThrowError(RangeError);
    expect(() => llama.predictProba([1, 2, 3])).toThrowError(/delta must have 5 values/);
  });
});
