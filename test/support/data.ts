import { ATTRIBUTES, ATTRIBUTE_COUNT } from '../../src/attributes.js';
import { SeededRandom } from '../../src/util/random.js';

/** Synthetic preference data: deltas of float32-representable values, labels from a noisy linear rule. */
export interface SyntheticData {
  deltas: Float64Array;
  labels: Uint8Array;
  /** Row-major rows as plain arrays (for JSON). */
  rows: number[][];
}

/**
 * Deltas ~ N(0, 1) rounded to float32 (scikit-learn fits on float32, so thresholds then agree
 * exactly), labels 1 when w·d + noise > 0. Continuous values make exact gain ties improbable.
 */
export function syntheticDeltas(n: number, seed: number, weights = [1.5, 0.8, 0.3, -0.2, 0.1], noise = 0.8): SyntheticData {
  const rng = new SeededRandom(seed);
  const deltas = new Float64Array(n * ATTRIBUTE_COUNT);
  const labels = new Uint8Array(n);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row: number[] = [];
    for (let k = 0; k < ATTRIBUTE_COUNT; k++) {
      const v = Math.fround(rng.normal());
      deltas[i * ATTRIBUTE_COUNT + k] = v;
      row.push(v);
      s += weights[k]! * v;
    }
    labels[i] = s + noise * rng.normal() > 0 ? 1 : 0;
    rows.push(row);
  }
  return { deltas, labels, rows };
}

/** A simulated annotator's labelled attribute pairs on a 0-4 rating scale (integers), as JSONL rows. */
export function syntheticPairRows(
  n: number,
  seed: number,
): Array<{ a: Record<string, number>; b: Record<string, number>; label: 'a' | 'b' }> {
  const rng = new SeededRandom(seed);
  const rating = (): number => Math.min(4, Math.max(0, Math.round(2 + 1.2 * rng.normal())));
  const out = [];
  for (let i = 0; i < n; i++) {
    const a: Record<string, number> = {};
    const b: Record<string, number> = {};
    for (const name of ATTRIBUTES) {
      a[name] = rating();
      b[name] = rating();
    }
    const score = 1.0 * (a.helpfulness! - b.helpfulness!) + 0.5 * (a.correctness! - b.correctness!) + 0.6 * rng.normal();
    out.push({ a, b, label: (score > 0 || (score === 0 && rng.next() < 0.5) ? 'a' : 'b') as 'a' | 'b' });
  }
  return out;
}
