/**
 * The worked example of the Decision-Tree-Reward model card (seed 004, Jane's apples): the
 * rewards `dtr explain --example` and `dtr report --example` start from, and the texts they came from.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import type { AttributeScores } from '../attributes.js';

/** The worked example of the Decision-Tree-Reward model card (seed 004): response 1 and 2 rewards. */
export const CARD_EXAMPLE: { a: AttributeScores; b: AttributeScores } = {
  a: { helpfulness: 3.9603815, correctness: 3.9727726, coherence: 3.8582935, complexity: 0.9909791, verbosity: 1.4901903 },
  b: { helpfulness: 2.1698856, correctness: 2.2035594, coherence: 3.2032843, complexity: 0.8786768, verbosity: 1.4569137 },
};

/** The texts of the model card's worked example (seed 004), to go with {@link CARD_EXAMPLE}'s rewards. */
export const CARD_EXAMPLE_TEXTS = {
  prompt:
    'Jane has 12 apples. She gives 4 apples to her friend Mark, then buys 1 more apple, and finally splits all her apples equally among herself and her 2 siblings. How many apples does each person get?',
  a: '1. Jane starts with 12 apples and gives 4 to Mark. 12 - 4 = 8. Jane now has 8 apples.\n2. Jane buys 1 more apple. 8 + 1 = 9. Jane now has 9 apples.\n3. Jane splits the 9 apples equally among herself and her 2 siblings (3 people in total). 9 ÷ 3 = 3 apples each. Each person gets 3 apples.',
  b: '1. Jane starts with 12 apples and gives 4 to Mark. 12 - 4 = 8. Jane now has 8 apples.\n2. Jane buys 1 more apple. 8 + 1 = 9. Jane now has 9 apples.\n3. Jane splits the 9 apples equally among her 2 siblings (2 people in total). 9 ÷ 2 = 4.5 apples each. Each person gets 4 apples.',
} as const;
