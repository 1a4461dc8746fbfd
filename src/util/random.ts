/**
 * `SeededRandom`: the seeded generator every random draw of the SDK comes from (splits, bootstraps, folds),
 * so a seed reproduces a run exactly.
 *
 * May import: its own folder (util/) (the bottom layer): node: built-ins and the dependencies only. Never The
 * attributes: `ATTRIBUTES`, the one source of truth for the five HelpSteer2 attribute names and their order,
 * the `Attribute` type derived from it, score checks and vector helpers., errors.ts, version.ts, anything
 * above (io/ ... cli/) (test/import-graph.test.ts).
 */
/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32), so bootstrap
 * resampling (tree/), validation splits (workflows/) and ridge cross-validation folds (head/) are
 * reproducible on every platform from one integer seed. One generator for all of them: the same
 * seed means the same stream wherever it is drawn.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(7);
 * rng.next();                  // a float in [0, 1), the same on every platform
 * rng.shuffle([0, 1, 2, 3, 4]); // a reproducible permutation
 * ```
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }
}
