/** docs/building.md's claims beyond its examples (test/docs-path.test.ts runs every block of the page). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileTarget } from '../src/advanced.js';

const doc = readFileSync(new URL('../docs/building.md', import.meta.url), 'utf8');

describe('docs/building.md', () => {
  it('lists the functions formulas may use', () => {
    expect(doc).toContain('`abs min max sqrt exp log`');
    expect(compileTarget('min(helpfulness, correctness) - 0.1*verbosity').attributes).toEqual(['helpfulness', 'correctness', 'verbosity']);
  });
});
