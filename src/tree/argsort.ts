/**
 * Stable argsort of float64 values by LSD radix sort on their IEEE-754 bit patterns.
 *
 * Why: presorting every feature once is the only sort the CART engine does, and a comparator
 * sort over 80k indices costs ~20 ms per feature in V8; six 11-bit radix passes (fewer when digits are shared) cost ~1-2 ms.
 * Equal values keep their index order, so the result is deterministic. Inputs must be finite
 * (the engine validates that before calling); -0 sorts just before +0.
 *
 * Shaped for the first call in a fresh process, not only the hundredth: every loop is a small
 * function of its own with one array type per argument, so V8 optimises each one early and
 * whole (an on-stack replacement into a large function keeps bailing out on code below the loop
 * that has not run yet), and all six digit histograms come from one pass over the keys.
 */

/** Buckets per 11-bit digit. */
const RADIX = 2048;

/** Scratch reused by every call (sorting is synchronous): keys, permutations and histograms. */
interface Scratch {
  n: number;
  hi: Uint32Array;
  lo: Uint32Array;
  sHi: Uint32Array;
  sLo: Uint32Array;
  ordA: Int32Array;
  ordB: Int32Array;
  /** 0, 1, ..., n-1: the permutation before the first pass. */
  identity: Int32Array;
  counts: Int32Array;
}
let scratch: Scratch | null = null;

function buffers(n: number): Scratch {
  if (!scratch || scratch.n < n) {
    const identity = new Int32Array(n);
    fillIdentity(identity, n);
    scratch = { n, hi: new Uint32Array(n), lo: new Uint32Array(n), sHi: new Uint32Array(n), sLo: new Uint32Array(n), ordA: new Int32Array(n), ordB: new Int32Array(n), identity, counts: new Int32Array(6 * RADIX) };
  }
  return scratch;
}

export function argsortFloat64(values: Float64Array): Int32Array {
  const order = new Int32Array(values.length);
  sortColumn(values, 1, 0, values.length, order, new Float64Array(values.length));
  return order;
}

/**
 * Sorts the strided column `x[offset + i·stride]`, i < n (one feature of a row-major matrix):
 * `order` receives the stable argsort, `sorted` the values in that order. The values travel
 * with the keys through the passes, and the last pass writes them back as doubles: no random
 * gather follows.
 */
export function sortColumn(x: Float64Array, stride: number, offset: number, n: number, order: Int32Array, sorted: Float64Array): void {
  if (n === 0) return;
  const s = buffers(n);
  const counts = s.counts;
  counts.fill(0);
  keysAndHistograms(new Uint32Array(x.buffer, x.byteOffset, x.length * 2), stride, offset, s.hi, s.lo, counts, n);
  // A pass where every key shares the digit changes nothing: skip it (known from the histograms).
  const passes: number[] = [];
  for (let pass = 0; pass < 6; pass++) {
    const key = pass < 3 ? s.lo[0]! : s.hi[0]!;
    if (counts[pass * RADIX + ((key >>> ((pass % 3) * 11)) & 0x7ff)] !== n) passes.push(pass);
  }
  const out = new Uint32Array(sorted.buffer, sorted.byteOffset, n * 2);
  if (passes.length === 0) {
    order.set(s.identity.subarray(0, n));
    valuesFromKeys(s.hi, s.lo, out, n);
    return;
  }
  // Keys travel with the permutation so every pass reads sequentially (random reads of the
  // key arrays, not the bucket scatter, dominate a naive index radix sort).
  let ord = s.identity;
  let next = s.ordA;
  let spare = s.ordB;
  let kHi = s.hi;
  let kLo = s.lo;
  let sHi = s.sHi;
  let sLo = s.sLo;
  passes.forEach((pass, i) => {
    const base = pass * RADIX;
    const shift = (pass % 3) * 11;
    prefixSums(counts, base);
    if (i === passes.length - 1) {
      scatterLast(pass < 3 ? kLo : kHi, kLo, kHi, ord, counts, base, shift, order, out, n);
      return;
    }
    scatter(pass < 3 ? kLo : kHi, kLo, kHi, ord, counts, base, shift, next, sLo, sHi, n);
    let u = kLo;
    kLo = sLo;
    sLo = u;
    u = kHi;
    kHi = sHi;
    sHi = u;
    ord = next;
    next = spare;
    spare = ord;
  });
}

/**
 * Order-preserving unsigned keys of the doubles (high and low 32-bit halves), and all six
 * 11-bit digit histograms, in one pass.
 */
function keysAndHistograms(bits: Uint32Array, stride: number, offset: number, hi: Uint32Array, lo: Uint32Array, counts: Int32Array, n: number): void {
  for (let i = 0, at = 2 * offset; i < n; i++, at += 2 * stride) {
    // Little-endian: word 2i is the low half, 2i+1 the high half (with the sign bit).
    const h0 = bits[at + 1]!;
    const l0 = bits[at]!;
    const neg = h0 >>> 31; // negative: flip every bit; positive: flip the sign bit only
    const h = neg ? ~h0 >>> 0 : (h0 | 0x80000000) >>> 0;
    const l = neg ? ~l0 >>> 0 : l0;
    hi[i] = h;
    lo[i] = l;
    counts[l & 0x7ff]!++;
    counts[RADIX + ((l >>> 11) & 0x7ff)]!++;
    counts[2 * RADIX + (l >>> 22)]!++;
    counts[3 * RADIX + (h & 0x7ff)]!++;
    counts[4 * RADIX + ((h >>> 11) & 0x7ff)]!++;
    counts[5 * RADIX + (h >>> 22)]!++;
  }
}

/** The doubles back from their sorted keys (the inverse of the key transform). */
function valuesFromKeys(hi: Uint32Array, lo: Uint32Array, bits: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    const l = lo[i]!;
    const pos = h >>> 31; // key with the top bit set: a positive value
    bits[2 * i + 1] = pos ? (h & 0x7fffffff) >>> 0 : ~h >>> 0;
    bits[2 * i] = pos ? l : ~l >>> 0;
  }
}

/** Bucket counts -> starting positions, for the histogram at `base`. */
function prefixSums(counts: Int32Array, base: number): void {
  let sum = 0;
  for (let d = base; d < base + RADIX; d++) {
    const c = counts[d]!;
    counts[d] = sum;
    sum += c;
  }
}

/** The last pass: the permutation lands in `order`, the keys as the doubles they stand for. */
function scatterLast(keys: Uint32Array, lo: Uint32Array, hi: Uint32Array, ord: Int32Array, counts: Int32Array, base: number, shift: number, order: Int32Array, bits: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const dst = counts[base + ((keys[i]! >>> shift) & 0x7ff)]!++;
    order[dst] = ord[i]!;
    const h = hi[i]!;
    const l = lo[i]!;
    const pos = h >>> 31; // key with the top bit set: a positive value
    bits[2 * dst + 1] = pos ? (h & 0x7fffffff) >>> 0 : ~h >>> 0;
    bits[2 * dst] = pos ? l : ~l >>> 0;
  }
}

/** A later pass: permutation and both key halves move (the values come back from the keys). */
function scatter(keys: Uint32Array, lo: Uint32Array, hi: Uint32Array, ord: Int32Array, counts: Int32Array, base: number, shift: number, ordOut: Int32Array, loOut: Uint32Array, hiOut: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const dst = counts[base + ((keys[i]! >>> shift) & 0x7ff)]!++;
    ordOut[dst] = ord[i]!;
    loOut[dst] = lo[i]!;
    hiOut[dst] = hi[i]!;
  }
}

function fillIdentity(order: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) order[i] = i;
}
