/**
 * Edit distance between two strings, for "did you mean" hints on misspelt names.
 *
 * May import: its own folder (util/) (the bottom layer): node: built-ins and the dependencies only. Never The
 * attributes: `ATTRIBUTES`, the one source of truth for the five HelpSteer2 attribute names and their order,
 * the `Attribute` type derived from it, score checks and vector helpers., errors.ts, version.ts, anything
 * above (io/ ... cli/) (test/import-graph.test.ts).
 */
/**
 * Levenshtein distance (insertions, deletions, substitutions; each costs 1): how "did you mean"
 * suggestions find a near name (a mistyped flag, a misspelled rating key).
 *
 * @example
 * ```ts
 * editDistance('helpfulnes', 'helpfulness'); // 1
 * editDistance('lambda', 'lambdas');         // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
