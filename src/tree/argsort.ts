/**
 * Stable argsort of float64 values by LSD radix sort on their IEEE-754 bit patterns.
 *
 * Why: presorting every feature once is the only sort the CART engine does, and a comparator
 * sort over 80k indices costs ~20 ms per feature in V8; 11-bit radix passes (up to six, fewer
 * when a digit is shared by every value) cost ~1-4 ms. Equal values keep their index order, so
 * the result is deterministic. Inputs must be finite (the engine validates that before calling);
 * -0 sorts just before +0.
 *
 * Shaped for the first call in a fresh process, not only the hundredth. The passes run in a
 * small WebAssembly module assembled below (compiled before its first call, so no interpreter
 * phase; keys, histograms and the sorted values live in its memory and the engine reads them
 * in place). Where WebAssembly is missing, the same passes run in JavaScript, each loop a small
 * function of its own with one array type per argument, so V8 optimises each early and whole.
 * All six digit histograms come from one pass over the keys, the passes that change nothing are
 * known before any runs, and the last pass writes the values back from the keys (no gather).
 *
 * May import: its own folder (tree/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/. Never head/, anything above (explain/ ...
 * cli/) (test/import-graph.test.ts).
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
  return presortColumns(values, 1, values.length).orders[0]!.slice();
}

/** Where {@link presortColumns} leaves its results when WebAssembly is unavailable, kept for the next call. */
let jsOut: { n: number; nFeatures: number; orders: Int32Array[]; sorted: Float64Array[] } | null = null;

/**
 * Sorts every column of the row-major X [n, nFeatures]: `orders[f]` is column f's stable
 * argsort, `sorted[f]` its values in that order. WebAssembly where available (fast from the
 * first call), else {@link sortColumn} per column; both give the same result. The arrays are
 * the sorter's own, reused: valid until the next call (copy what must outlive it).
 */
export function presortColumns(X: Float64Array, nFeatures: number, n: number, extraBytes = 0): { orders: Int32Array[]; sorted: Float64Array[]; memory: ArrayBuffer | null; extraAt: number } {
  const k = radixWasm();
  if (!k || n === 0) {
    if (!jsOut || jsOut.n !== n || jsOut.nFeatures !== nFeatures) {
      jsOut = { n, nFeatures, orders: Array.from({ length: nFeatures }, () => new Int32Array(n)), sorted: Array.from({ length: nFeatures }, () => new Float64Array(n)) };
    }
    for (let f = 0; f < nFeatures; f++) sortColumn(X, nFeatures, f, n, jsOut.orders[f]!, jsOut.sorted[f]!);
    return { orders: jsOut.orders, sorted: jsOut.sorted, memory: null, extraAt: -1 };
  }
  // Memory: X, the keys and their copies, three permutations, histograms, then per column its
  // order and sorted values (the last pass writes them there: the caller reads them in place).
  const q = 4 * n;
  const hi = 8 * n * nFeatures;
  const lo = hi + q;
  const sHiAt = lo + q;
  const sLoAt = sHiAt + q;
  const ordA = sLoAt + q;
  const ordB = ordA + q;
  const identity = ordB + q;
  const countsAt = identity + q;
  const outAt = countsAt + 6 * RADIX * 4 + ((8 - ((countsAt + 6 * RADIX * 4) % 8)) % 8);
  const extraAt = outAt + 12 * n * nFeatures + 8;
  const end = extraAt + extraBytes;
  const mem = k.memory;
  if (mem.buffer.byteLength < end) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
  const buffer = mem.buffer;
  new Float64Array(buffer, 0, n * nFeatures).set(X.subarray(0, n * nFeatures));
  k.identity(identity, n);
  const words = new Uint32Array(buffer);
  const counts = new Int32Array(buffer, countsAt, 6 * RADIX);
  const orders: Int32Array[] = [];
  const sorted: Float64Array[] = [];
  for (let f = 0; f < nFeatures; f++) {
    const valsAt = outAt + 8 * n * f; // 8-aligned: the doubles first, then the orders after all of them
    const orderAt = outAt + 8 * n * nFeatures + 4 * n * f;
    orders.push(new Int32Array(buffer, orderAt, n));
    sorted.push(new Float64Array(buffer, valsAt, n));
    counts.fill(0);
    k.keys(8 * f, 8 * nFeatures, n, hi, lo, countsAt);
    // A pass where every key shares the digit changes nothing: skip it (known from the histograms).
    const passes: number[] = [];
    for (let pass = 0; pass < 6; pass++) {
      const key = words[(pass < 3 ? lo : hi) / 4]!;
      if (counts[pass * RADIX + ((key >>> ((pass % 3) * 11)) & 0x7ff)] !== n) passes.push(pass);
    }
    if (passes.length === 0) {
      orders[f]!.set(new Int32Array(buffer, identity, n));
      const out = sorted[f]!;
      for (let i = 0; i < n; i++) out[i] = X[i * nFeatures + f]!;
      continue;
    }
    let ord = identity;
    let next = ordA;
    let other = ordB;
    let kHi = hi;
    let kLo = lo;
    let sHi = sHiAt;
    let sLo = sLoAt;
    for (let i = 0; i < passes.length; i++) {
      const pass = passes[i]!;
      const shift = (pass % 3) * 11;
      k.prefix(countsAt, pass * RADIX * 4);
      if (i === passes.length - 1) {
        k.last(pass < 3 ? kLo : kHi, kLo, kHi, ord, countsAt, pass * RADIX * 4, shift, orderAt, valsAt, n);
        break;
      }
      k.scatter(pass < 3 ? kLo : kHi, kLo, kHi, ord, countsAt, pass * RADIX * 4, shift, next, sLo, sHi, n);
      [kLo, sLo] = [sLo, kLo];
      [kHi, sHi] = [sHi, kHi];
      ord = next;
      [next, other] = [other, next];
    }
  }
  return { orders, sorted, memory: buffer, extraAt: extraAt - ((extraAt) % 8) };
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

// ---- The same radix sort in WebAssembly -------------------------------------------------
//
// A fresh process runs JavaScript in V8's interpreter until each hot loop has been optimised,
// which for the first fit's presort (5 features x 80k values, 4-6 passes each) cost several times
// the sort itself. WebAssembly is compiled before its first call (Liftoff) and runs near native
// speed at once. The module is assembled here, byte by byte (a few hundred bytes: key making with
// all six histograms, prefix sums, the scatter passes), so no build step or binary file is
// needed; the JavaScript functions above stay as the fallback and as the reference the tests
// hold it to. Same algorithm, same passes, same order: the results are identical.

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
};
const sleb = (v: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** The few i32 instructions the kernels use. */
/** The wasm instructions the kernels use (i32 unless named f64), as byte arrays to spread. */
export const w = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  c: (v: number): number[] => [0x41, ...sleb(v | 0)],
  load: (offset = 0): number[] => [0x28, 2, ...uleb(offset)],
  store: (offset = 0): number[] => [0x36, 2, ...uleb(offset)],
  add: [0x6a],
  and: [0x71],
  or: [0x72],
  xor: [0x73],
  shl: [0x74],
  shrU: [0x76],
  ltU: [0x49],
  eqz: [0x45],
  select: [0x1b],
  end: [0x0b],
  sub: [0x6b],
  ltS: [0x48],
  leS: [0x4c],
  load8: (offset = 0): number[] => [0x2d, 0, ...uleb(offset)],
  store8: (offset = 0): number[] => [0x3a, 0, ...uleb(offset)],
  f64: (v: number): number[] => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)],
  f64load: (offset = 0): number[] => [0x2b, 3, ...uleb(offset)],
  f64store: (offset = 0): number[] => [0x39, 3, ...uleb(offset)],
  f64add: [0xa0],
  f64sub: [0xa1],
  f64neg: [0x9a],
  f64le: [0x65],
  f64gt: [0x64],
  /** if (cond on the stack) { ... } */
  if: [0x04, 0x40],
  else: [0x05],
  /** `continue` inside {@link forLoop}'s body (a branch to the end of the body block). */
  next: [0x0c, 0],
  ret: [0x0f],
};
export const I32 = 0x7f;
export const F64 = 0x7c;
/** `for (i = 0; i < n; i++) body`, i and n locals (i starts at 0: wasm locals do). */
export const forLoop = (i: number, n: number, body: number[]): number[] => [
  0x02, 0x40, ...w.get(n), ...w.eqz, 0x0d, 0, // block; if (n == 0) break
  0x03, 0x40, ...body, ...w.get(i), ...w.c(1), ...w.add, ...w.tee(i), ...w.get(n), ...w.ltU, 0x0d, 0, ...w.end, // loop ... br_if
  ...w.end,
];
/**
 * `for (i = from; i < to; i++) body` over i32 locals, signed compare; inside `body`, `w.next`
 * skips to the next i (the body sits in its own block).
 */
export const forRange = (i: number, to: number, body: number[]): number[] => [
  0x02, 0x40, ...w.get(i), ...w.get(to), ...w.ltS, ...w.eqz, 0x0d, 0, // block; if (!(i < to)) break
  0x03, 0x40, 0x02, 0x40, ...body, ...w.end, ...w.get(i), ...w.c(1), ...w.add, ...w.tee(i), ...w.get(to), ...w.ltS, 0x0d, 0, ...w.end,
  ...w.end,
];

/** One function of a module: its name (exported), parameter, result and local types, body. */
export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  locals: number[];
  body: number[];
}

/**
 * A module's bytes: the functions (all exported) and one memory, its own (exported as
 * `memory`) or imported from `env.memory`.
 */
export function assembleModule(fns: WasmFunction[], memory: 'own' | 'import'): Uint8Array {
  const name = (s2: string): number[] => [...uleb(s2.length), ...[...s2].map((ch) => ch.charCodeAt(0))];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]))),
    ...(memory === 'import' ? section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])) : []),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...(memory === 'own' ? section(5, vec([[0x00, ...uleb(1)]])) : []), // 1 page to start, grown as needed
    ...section(7, vec([...fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]), ...(memory === 'own' ? [[...name('memory'), 0x02, 0]] : [])])),
    ...section(10, vec(fns.map((f) => {
      const body = [...vec(f.locals.map((t) => [1, t])), ...f.body, ...w.end];
      return [...uleb(body.length), ...body];
    }))),
  ];
  return new Uint8Array(bytes);
}
/** counts[byteOffset + ((word >>> shift) & 2047) * 4]++ (counts base address in local `counts`). */
const bump = (counts: number, word: number, shift: number, byteOffset: number, tmp: number): number[] => [
  ...w.get(counts), ...w.get(word), ...w.c(shift), ...w.shrU, ...w.c(2047), ...w.and, ...w.c(2), ...w.shl, ...w.add, ...w.tee(tmp),
  ...w.get(tmp), ...w.load(byteOffset), ...w.c(1), ...w.add, ...w.store(byteOffset),
];

/** keys(src, strideBytes, n, hi, lo, counts): the sortable keys of a strided column and the six histograms. */
function keysBody(): number[] {
  const [src, stride, n, hi, lo, counts, i, at, h, l, neg, tmp] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  return [
    ...w.get(src), ...w.set(at),
    ...forLoop(i, n, [
      ...w.get(at), ...w.load(4), ...w.set(h),
      ...w.get(at), ...w.load(0), ...w.set(l),
      ...w.get(h), ...w.c(31), ...w.shrU, ...w.set(neg),
      ...w.get(h), ...w.c(-1), ...w.xor, ...w.get(h), ...w.c(0x80000000), ...w.or, ...w.get(neg), ...w.select, ...w.set(h),
      ...w.get(l), ...w.c(-1), ...w.xor, ...w.get(l), ...w.get(neg), ...w.select, ...w.set(l),
      ...w.get(hi), ...w.get(i), ...w.c(2), ...w.shl, ...w.add, ...w.get(h), ...w.store(),
      ...w.get(lo), ...w.get(i), ...w.c(2), ...w.shl, ...w.add, ...w.get(l), ...w.store(),
      ...bump(counts, l, 0, 0, tmp), ...bump(counts, l, 11, RADIX * 4, tmp), ...bump(counts, l, 22, 2 * RADIX * 4, tmp),
      ...bump(counts, h, 0, 3 * RADIX * 4, tmp), ...bump(counts, h, 11, 4 * RADIX * 4, tmp), ...bump(counts, h, 22, 5 * RADIX * 4, tmp),
      ...w.get(at), ...w.get(stride), ...w.add, ...w.set(at),
    ]),
  ];
}

/** prefix(counts, baseBytes): bucket counts -> starting positions. */
function prefixBody(): number[] {
  const [counts, base, d, sum, addr, c, k] = [0, 1, 2, 3, 4, 5, 6];
  return [
    ...w.c(RADIX), ...w.set(k),
    ...forLoop(d, k, [
      ...w.get(counts), ...w.get(base), ...w.add, ...w.get(d), ...w.c(2), ...w.shl, ...w.add, ...w.tee(addr), ...w.load(), ...w.set(c),
      ...w.get(addr), ...w.get(sum), ...w.store(),
      ...w.get(sum), ...w.get(c), ...w.add, ...w.set(sum),
    ]),
  ];
}

/** scatter(keys, lo, hi, ord, counts, baseBytes, shift, ordOut, loOut, hiOut, n): a middle pass. */
function scatterBody(): number[] {
  const [keys, lo, hi, ord, counts, base, shift, ordOut, loOut, hiOut, n, i, addr, dst, i4] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const move = (out: number, from: number): number[] => [...w.get(out), ...w.get(dst), ...w.add, ...w.get(from), ...w.get(i4), ...w.add, ...w.load(), ...w.store()];
  return forLoop(i, n, [
    ...w.get(i), ...w.c(2), ...w.shl, ...w.set(i4),
    ...w.get(counts), ...w.get(base), ...w.add, ...w.get(keys), ...w.get(i4), ...w.add, ...w.load(), ...w.get(shift), ...w.shrU, ...w.c(2047), ...w.and, ...w.c(2), ...w.shl, ...w.add, ...w.set(addr),
    ...w.get(addr), ...w.load(), ...w.set(dst),
    ...w.get(addr), ...w.get(dst), ...w.c(1), ...w.add, ...w.store(),
    ...w.get(dst), ...w.c(2), ...w.shl, ...w.set(dst),
    ...move(ordOut, ord), ...move(loOut, lo), ...move(hiOut, hi),
  ]);
}

/** last(keys, lo, hi, ord, counts, baseBytes, shift, order, bits, n): the last pass, writing the order and the doubles. */
function lastBody(): number[] {
  const [keys, lo, hi, ord, counts, base, shift, order, bits, n, i, addr, dst, i4, h, l, pos, b8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  return forLoop(i, n, [
    ...w.get(i), ...w.c(2), ...w.shl, ...w.set(i4),
    ...w.get(counts), ...w.get(base), ...w.add, ...w.get(keys), ...w.get(i4), ...w.add, ...w.load(), ...w.get(shift), ...w.shrU, ...w.c(2047), ...w.and, ...w.c(2), ...w.shl, ...w.add, ...w.set(addr),
    ...w.get(addr), ...w.load(), ...w.set(dst),
    ...w.get(addr), ...w.get(dst), ...w.c(1), ...w.add, ...w.store(),
    ...w.get(order), ...w.get(dst), ...w.c(2), ...w.shl, ...w.add, ...w.get(ord), ...w.get(i4), ...w.add, ...w.load(), ...w.store(),
    ...w.get(hi), ...w.get(i4), ...w.add, ...w.load(), ...w.set(h),
    ...w.get(lo), ...w.get(i4), ...w.add, ...w.load(), ...w.set(l),
    ...w.get(h), ...w.c(31), ...w.shrU, ...w.set(pos),
    ...w.get(bits), ...w.get(dst), ...w.c(3), ...w.shl, ...w.add, ...w.set(b8),
    // positive key (top bit set): clear it; negative: flip every bit (the key transform's inverse)
    ...w.get(b8), ...w.get(h), ...w.c(0x7fffffff), ...w.and, ...w.get(h), ...w.c(-1), ...w.xor, ...w.get(pos), ...w.select, ...w.store(4),
    ...w.get(b8), ...w.get(l), ...w.get(l), ...w.c(-1), ...w.xor, ...w.get(pos), ...w.select, ...w.store(0),
  ]);
}

/** identity(ptr, n): ptr[i] = i. */
function identityBody(): number[] {
  const [ptr, n, i] = [0, 1, 2];
  return forLoop(i, n, [...w.get(ptr), ...w.get(i), ...w.c(2), ...w.shl, ...w.add, ...w.get(i), ...w.store()]);
}

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

interface RadixWasm {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  keys: (src: number, stride: number, n: number, hi: number, lo: number, counts: number) => void;
  prefix: (counts: number, base: number) => void;
  scatter: (keys: number, lo: number, hi: number, ord: number, counts: number, base: number, shift: number, ordOut: number, loOut: number, hiOut: number, n: number) => void;
  last: (keys: number, lo: number, hi: number, ord: number, counts: number, base: number, shift: number, order: number, bits: number, n: number) => void;
  identity: (ptr: number, n: number) => void;
}

/**
 * The module's bytes, assembled from the functions above. Exported for the test that holds
 * {@link RADIX_WASM} to it; at run time the stored copy is used (assembling runs the
 * interpreter over thousands of small arrays, up to tens of ms in a fresh process).
 */
export function assembleRadixWasm(): Uint8Array {
  const i32s = (k: number): number[] => Array.from({ length: k }, () => I32);
  return assembleModule([
    { name: 'keys', params: i32s(6), results: [], locals: i32s(6), body: keysBody() },
    { name: 'prefix', params: i32s(2), results: [], locals: i32s(5), body: prefixBody() },
    { name: 'scatter', params: i32s(11), results: [], locals: i32s(4), body: scatterBody() },
    { name: 'last', params: i32s(10), results: [], locals: i32s(8), body: lastBody() },
    { name: 'identity', params: i32s(2), results: [], locals: i32s(1), body: identityBody() },
  ], 'own');
}

/** {@link assembleRadixWasm}'s output, stored (base64); test/presort.test.ts checks they agree. */
export const RADIX_WASM =
  'AGFzbQEAAAABLwVgBn9/f39/fwBgAn9/AGALf39/f39/f39/f38AYAp/f39/f39/f39/AGACf38AAwYFAAECAwQFAwEAAQc2BgRrZXlzAAAGcHJlZml4AAEHc2NhdHRlcgACBGxhc3QAAwhpZGVudGl0eQAEBm1lbW9yeQIACvMFBbgCBgF/AX8BfwF/AX8BfyAAIQcCQCACRQ0AA0AgBygCBCEIIAcoAgAhCSAIQR92IQogCEF/cyAIQYCAgIB4ciAKGyEIIAlBf3MgCSAKGyEJIAMgBkECdGogCDYCACAEIAZBAnRqIAk2AgAgBSAJQQB2Qf8PcUECdGoiCyALKAIAQQFqNgIAIAUgCUELdkH/D3FBAnRqIgsgCygCgEBBAWo2AoBAIAUgCUEWdkH/D3FBAnRqIgsgCygCgIABQQFqNgKAgAEgBSAIQQB2Qf8PcUECdGoiCyALKAKAwAFBAWo2AoDAASAFIAhBC3ZB/w9xQQJ0aiILIAsoAoCAAkEBajYCgIACIAUgCEEWdkH/D3FBAnRqIgsgCygCgMACQQFqNgKAwAIgByABaiEHIAZBAWoiBiACSQ0ACwsLSAUBfwF/AX8BfwF/QYAQIQYCQCAGRQ0AA0AgACABaiACQQJ0aiIEKAIAIQUgBCADNgIAIAMgBWohAyACQQFqIgIgBkkNAAsLC4oBBAF/AX8BfwF/AkAgCkUNAANAIAtBAnQhDiAEIAVqIAAgDmooAgAgBnZB/w9xQQJ0aiEMIAwoAgAhDSAMIA1BAWo2AgAgDUECdCENIAcgDWogAyAOaigCADYCACAIIA1qIAEgDmooAgA2AgAgCSANaiACIA5qKAIANgIAIAtBAWoiCyAKSQ0ACwsLuAEIAX8BfwF/AX8BfwF/AX8BfwJAIAlFDQADQCAKQQJ0IQ0gBCAFaiAAIA1qKAIAIAZ2Qf8PcUECdGohCyALKAIAIQwgCyAMQQFqNgIAIAcgDEECdGogAyANaigCADYCACACIA1qKAIAIQ4gASANaigCACEPIA5BH3YhECAIIAxBA3RqIREgESAOQf////8HcSAOQX9zIBAbNgIEIBEgDyAPQX9zIBAbNgIAIApBAWoiCiAJSQ0ACwsLKAEBfwJAIAFFDQADQCAAIAJBAnRqIAI2AgAgAkEBaiICIAFJDQALCws=';

/** Instantiates a module from its base64 bytes (synchronously: modules here are a few hundred bytes). */
export function instantiate(base64: string, imports: object = {}): object {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly!;
  return new api.Instance(new api.Module(new Uint8Array(Buffer.from(base64, 'base64'))), imports).exports;
}

function buildRadixWasm(): RadixWasm {
  return instantiate(RADIX_WASM) as RadixWasm;
}

let wasm: RadixWasm | null | undefined;

/** The WebAssembly kernels, or null where WebAssembly is unavailable (the JavaScript path then runs). */
export function radixWasm(): RadixWasm | null {
  if (wasm === undefined) {
    try {
      wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly ? buildRadixWasm() : null;
    } catch {
      wasm = null;
    }
  }
  return wasm;
}
