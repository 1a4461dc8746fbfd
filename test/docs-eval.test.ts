/**
 * docs/eval.md runs its examples on the small files of docs/examples/ (test/docs-path.test.ts
 * runs every block of the page and checks what it prints): they are the test fixtures they were
 * copied from, so the page and the eval tests describe the same data.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('docs/eval.md', () => {
  it('the example files are the test fixtures they were copied from', () => {
    for (const f of [
      'rewardbench-results.jsonl',
      'rewardbench-tree.json',
      'rewardbench-sample.jsonl',
      'train-prompts.jsonl',
      'judge-verdicts.jsonl',
      'judged-pairs.jsonl',
      'rm-bench-sample.jsonl',
      'rm-bench-results.jsonl',
      'rewardbench2-sample.jsonl',
      'rewardbench2-results.jsonl',
      'judgebench-sample.jsonl',
      'other-scorer-results.jsonl',
    ]) {
      expect(readFileSync(new URL(`../docs/examples/${f}`, import.meta.url), 'utf8')).toBe(
        readFileSync(new URL(`./fixtures/eval/${f}`, import.meta.url), 'utf8'),
      );
    }
  });
});
