/**
 * Number formats, in one place: the Python-exact fixed-point format every printed number goes
 * through, and the two styles built on it, for command-line text (and explanations) and for
 * reports. Golden text compares against scikit-learn and Python output, so nothing here may use
 * JavaScript's `toFixed`, which rounds exact halves away from zero.
 *
 * May import: its own folder (util/) (the bottom layer): node: built-ins and the dependencies only. Never The
 * attributes: `ATTRIBUTES`, the one source of truth for the five HelpSteer2 attribute names and their order,
 * the `Attribute` type derived from it, score checks and vector helpers., errors.ts, version.ts, anything
 * above (io/ ... cli/) (test/import-graph.test.ts).
 */

/**
 * Formats `x` with `decimals` digits after the point exactly as Python's `'{:.Nf}'.format(x)`:
 * correctly rounded from the exact binary value, exact halves to even, and `-0.0` keeps its
 * sign. JavaScript's `toFixed` rounds exact halves away from zero, which would make golden text
 * differ from scikit-learn's `export_text`.
 *
 * @example
 * ```ts
 * formatFixed(0.125, 2); // '0.12' (Python: '0.12'; (0.125).toFixed(2) gives '0.13')
 * formatFixed(-0, 1);    // '-0.0'
 * ```
 */
export function formatFixed(x: number, decimals: number): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return String(x);
  const negative = x < 0 || Object.is(x, -0);
  // toFixed(100) gives the exact decimal expansion of any double below 1e21 far enough to
  // decide the rounding (a double's expansion differs from a half within ~17 significant digits).
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const kept = exact.slice(0, dot) + exact.slice(dot + 1, dot + 1 + decimals);
  const rest = exact.slice(dot + 1 + decimals);
  const half = /^50*$/.test(rest);
  const roundUp = half ? Number(kept.charAt(kept.length - 1)) % 2 === 1 : rest.charAt(0) >= '5';
  let digits = (BigInt(kept) + (roundUp ? 1n : 0n)).toString();
  if (decimals > 0) {
    digits = digits.padStart(decimals + 1, '0');
    digits = `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  }
  return negative ? `-${digits}` : digits;
}

/**
 * The formatters of one style; a missing value (null, undefined, NaN) prints as the style's mark.
 * `f3`, `signed` and `pct` take one argument, so they can be handed to `map`.
 */
export interface NumberStyle {
  /** `x` with `decimals` digits. */
  fixed(x: number | null | undefined, decimals: number): string;
  /** `x` with `decimals` digits and a `+` before positive values. */
  signedFixed(x: number | null | undefined, decimals: number): string;
  /** `0.986` */
  f3(x: number | null | undefined): string;
  /** `+1.791` */
  signed(x: number | null | undefined): string;
  /** `17.2%` for 0.172 */
  pct(x: number | null | undefined): string;
}

function numberStyle(missing: string, negativeZero: 'kept' | 'as zero'): NumberStyle {
  const absent = (x: number | null | undefined): x is null | undefined => x === null || x === undefined || Number.isNaN(x);
  const digits = (x: number, decimals: number): string => formatFixed(negativeZero === 'as zero' && Object.is(x, -0) ? 0 : x, decimals);
  const fixed = (x: number | null | undefined, decimals: number): string => (absent(x) ? missing : digits(x, decimals));
  const signedFixed = (x: number | null | undefined, decimals: number): string =>
    absent(x) ? missing : x > 0 ? `+${digits(x, decimals)}` : digits(x, decimals);
  return {
    fixed,
    signedFixed,
    f3: (x) => fixed(x, 3),
    signed: (x) => signedFixed(x, 3),
    pct: (x) => (absent(x) ? missing : `${digits(x * 100, 1)}%`),
  };
}

/**
 * Command-line output and explanation sentences: `-` for a missing value, and `-0` keeps its
 * sign, as Python prints it.
 *
 * @example
 * ```ts
 * PLAIN.f3(0.98642); // '0.986'
 * PLAIN.signed(1.791); // '+1.791'
 * PLAIN.f3(null);    // '-'
 * ```
 */
export const PLAIN: NumberStyle = numberStyle('-', 'kept');

/**
 * Reports (HTML, Markdown): `–` (an en dash) for a missing value, and `-0` shows as `0`: a
 * mirrored zero difference is no difference, and the report's JSON cannot keep the sign.
 *
 * @example
 * ```ts
 * REPORT.pct(0.1725); // '17.2%'
 * REPORT.f3(-0);      // '0.000'
 * REPORT.f3(NaN);     // '–'
 * ```
 */
export const REPORT: NumberStyle = numberStyle('–', 'as zero');

/**
 * Line numbers (or ids) for a message: all of them up to ten, else the first ten and `…`.
 *
 * @example
 * ```ts
 * lineList([3, 7]);                           // '3, 7'
 * lineList(Array.from({ length: 12 }, (_, i) => i + 1)); // '1, 2, 3, 4, 5, 6, 7, 8, 9, 10, …'
 * ```
 */
export function lineList(lines: readonly (number | string)[]): string {
  return lines.length > 10 ? `${lines.slice(0, 10).join(', ')}, …` : lines.join(', ');
}

/**
 * Significant digits of a number the command line prints as JSON when its shortest form shows
 * arithmetic noise (see {@link jsonText}).
 */
export const JSON_DIGITS = 12;

const asGiven = new WeakSet<object>();

/**
 * Marks an object (and everything in it) to print by {@link jsonText} exactly as it is: an
 * artifact copied into a document (a tree), whose numbers are its full-precision values.
 *
 * @example
 * ```ts
 * jsonText({ tree: exact(tree.toJSON()) }); // the tree's numbers untouched
 * ```
 */
export function exact<T extends object>(value: T): T {
  asGiven.add(value);
  return value;
}

/**
 * Whether a number's shortest decimal form needs more than 15 significant digits: a double holds
 * 15 exactly, so more can only be the noise of arithmetic (`0.10800000000000001`).
 */
function noisy(x: number): boolean {
  if (!Number.isFinite(x) || Number.isInteger(x)) return false;
  const mantissa = String(Math.abs(x)).split('e')[0]!.replace('.', '');
  return mantissa.replace(/^0+/, '').length > 15;
}

/**
 * JSON text of `value` as the command line prints it: a number whose shortest form needs more
 * than 15 significant digits (`0.10800000000000001`, `64.27083333333333`: representation noise
 * of arithmetic) is rounded to {@link JSON_DIGITS} significant digits; every other number (what a
 * user typed, an integer, a value with a short form) prints as it is, and so does everything in
 * an {@link exact} object.
 *
 * @example
 * ```ts
 * jsonText({ share: 0.1 + 0.008, p: 0.1 + 0.2, given: 3.9603815 }); // '{"share":0.108,"p":0.3,"given":3.9603815}'
 * ```
 */
export function jsonText(value: unknown, indent?: number): string {
  const keep = new WeakSet<object>();
  const keepAll = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || keep.has(v)) return;
    keep.add(v);
    for (const x of Object.values(v)) keepAll(x);
  };
  return JSON.stringify(
    value,
    function (this: object, _key: string, v: unknown) {
      if (v !== null && typeof v === 'object' && asGiven.has(v)) keepAll(v);
      return typeof v === 'number' && !keep.has(this) && noisy(v) ? Number(v.toPrecision(JSON_DIGITS)) : v;
    },
    indent,
  );
}
