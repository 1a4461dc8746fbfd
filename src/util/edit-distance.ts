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
