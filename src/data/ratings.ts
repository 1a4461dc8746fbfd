/**
 * Per-response attribute ratings (HelpSteer2's five 0–4 scores), as `dtr embed` and `dtr fit-head
 * --ratings` read them from JSONL rows. The row-level rules live here, shared by both readers:
 *
 * - a rating is read by its exact attribute name; `null` or an absent key is a missing rating (NaN);
 * - a key that is not an attribute but within edit distance 2 of one (`helpfulnes`, `Coherence`,
 *   `verbosty`) is an error, not an ignored field: it would silently leave that rating missing;
 * - inside a `"ratings": {...}` object, which holds ratings only, any other key is an error;
 * - values outside HelpSteer2's scale ({@link RATING_SCALE}, 0–4) are used as given, with a
 *   warning naming the rows: another scale (model rewards, say) is legitimate.
 *
 * May import: its own folder (data/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/. Never explain/, anything
 * above (eval/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, isAttribute, type Attribute } from '../attributes.js';
import { editDistance } from '../util/edit-distance.js';
import { DtrError, formatIssues, type Issue } from '../errors.js';
import { readJsonl, type JsonlRow } from '../io/jsonl.js';

/**
 * HelpSteer2's rating scale: integers from 0 to 4. Values outside it are warned about, not refused.
 *
 * @example
 * ```ts
 * RATING_SCALE; // { min: 0, max: 4 }
 * ```
 */
export const RATING_SCALE = { min: 0, max: 4 } as const;

/** Attribute ratings read from a JSONL file, one row per response. */
export interface Ratings {
  n: number;
  /** n x 5, row-major, {@link ATTRIBUTES} order; NaN where a rating is missing. */
  values: Float64Array;
  /** 1-based line number of each row. */
  lines: number[];
  /** Rows with a rating, per attribute. */
  ratedPerAttribute: Record<Attribute, number>;
  /** What was used but looks wrong (ratings outside {@link RATING_SCALE}), one line each, naming the rows. */
  warnings: string[];
}

/**
 * Reads per-response ratings: one JSON object per line holding the five attributes as numbers
 * (`null` or an absent key = missing, stored as NaN), e.g. HelpSteer2's rows
 * `{"prompt": "...", "response": "...", "helpfulness": 3, "correctness": 3, ...}`; other fields are
 * ignored, except keys that look like a misspelled attribute (see the module comment). Row i must
 * describe the same response as row i of the embeddings it goes with. Every bad value is reported
 * at once with its line (`E_DATA`); ratings outside 0–4 come back in `warnings`.
 *
 * @example
 * ```ts
 * const r = readRatings('helpsteer2.jsonl');
 * r.values[0];                       // helpfulness of the first response
 * r.ratedPerAttribute.verbosity;     // rows with a verbosity rating
 * for (const w of r.warnings) console.warn(w);
 * ```
 */
export function readRatings(path: string): Ratings {
  return parseRatings(readJsonl(path), path);
}

/**
 * {@link readRatings} on rows already read.
 *
 * @example
 * ```ts
 * parseRatings([{ line: 1, value: { helpfulness: 3, correctness: null } }], 'inline').values; // [3, NaN, NaN, NaN, NaN]
 * parseRatings([{ line: 1, value: { helpfulnes: 3 } }], 'inline'); // throws E_DATA: inline:1: "helpfulnes" is not an attribute: did you mean "helpfulness"? ...
 * ```
 */
export function parseRatings(rows: readonly JsonlRow[], source: string): Ratings {
  const n = rows.length;
  if (n === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  const values = new Float64Array(n * ATTRIBUTE_COUNT).fill(NaN);
  const issues: Issue[] = [];
  const outside: OutOfScaleRow[] = [];
  let anyKey = false;
  rows.forEach(({ line, value }, i) => {
    const where = `${source}:${line}`;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ path: where, message: `expected an object with the attributes ${ATTRIBUTES.join(', ')}` });
      return;
    }
    const row = value as Record<string, unknown>;
    if (ATTRIBUTES.some((a) => a in row)) anyKey = true;
    const r = readRatingFields(row, values, i * ATTRIBUTE_COUNT, { onlyRatings: false });
    for (const message of r.issues) issues.push({ path: where, message });
    if (r.outside.length > 0) outside.push({ line, values: r.outside });
  });
  if (issues.length > 0) {
    throw new DtrError('E_DATA', `${source}: ${issues.length} bad rating${issues.length === 1 ? '' : 's'}: ${formatIssues(issues, 3)}`, {
      issues,
    });
  }
  if (!anyKey) {
    throw new DtrError('E_DATA', `${source}: no row has any of the attributes ${ATTRIBUTES.join(', ')}`, {
      hint: 'each line needs the ratings as top-level keys, e.g. {"helpfulness": 3, "correctness": 3, "coherence": 4, "complexity": 2, "verbosity": 1}',
    });
  }
  const warning = outOfScaleWarning(source, outside, n);
  return { n, values, lines: rows.map((r) => r.line), ratedPerAttribute: ratedPerAttribute(values), warnings: warning ? [warning] : [] };
}

/** What {@link readRatingFields} found in one row. */
export interface RatingFields {
  /** Problems, one message each (the caller adds `file:line`). */
  issues: string[];
  /** Whether the row has at least one rating. */
  any: boolean;
  /** Ratings outside {@link RATING_SCALE}, as `[attribute, value]`. */
  outside: Array<[Attribute, number]>;
}

/**
 * Reads one row's five ratings into `out` at `offset` (ATTRIBUTES order; what is missing stays as
 * it was, NaN by convention) and checks its keys: `onlyRatings` for a `"ratings": {...}` object
 * (every other key is a problem), otherwise a row with other fields (only keys close to an
 * attribute name are problems).
 *
 * @example
 * ```ts
 * const out = new Float64Array(5).fill(NaN);
 * readRatingFields({ prompt: 'p', helpfulness: 7, verbosty: 1 }, out, 0, { onlyRatings: false });
 * // { issues: ['"verbosty" is not an attribute: did you mean "verbosity"? ...'], any: true, outside: [['helpfulness', 7]] }
 * ```
 */
export function readRatingFields(
  holder: Record<string, unknown>,
  out: Float64Array,
  offset: number,
  options: { onlyRatings: boolean },
): RatingFields {
  const prefix = options.onlyRatings ? 'ratings.' : '';
  const issues: string[] = [];
  const outside: Array<[Attribute, number]> = [];
  let any = false;
  ATTRIBUTES.forEach((a, k) => {
    const v = holder[a];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push(`${prefix}${a} must be a number or null, got ${JSON.stringify(v)}`);
      return;
    }
    out[offset + k] = v;
    any = true;
    if (v < RATING_SCALE.min || v > RATING_SCALE.max) outside.push([a, v]);
  });
  for (const key of Object.keys(holder)) {
    if (isAttribute(key)) continue;
    const near = nearAttribute(key);
    if (near) {
      issues.push(
        `${JSON.stringify(prefix + key)} is not an attribute: did you mean ${JSON.stringify(near)}? (ratings are read by their exact names; as it is, this rating would be missing)`,
      );
    } else if (options.onlyRatings) {
      issues.push(`"ratings" holds only the attributes ${ATTRIBUTES.join(', ')}; unknown key ${JSON.stringify(prefix + key)}`);
    }
  }
  return { issues, any, outside };
}

/**
 * The attribute a key was probably meant to be: the one within edit distance 2 of it (case
 * ignored), or null. Attribute names are 9 to 11 letters, so this never matches ordinary fields
 * such as `prompt`, `response`, `id` or `source_file`.
 *
 * @example
 * ```ts
 * nearAttribute('helpfulnes');  // 'helpfulness'
 * nearAttribute('Coherence');   // 'coherence'
 * nearAttribute('response');    // null
 * ```
 */
export function nearAttribute(key: string): Attribute | null {
  const lower = key.toLowerCase();
  let best: Attribute | null = null;
  let bestDistance = 3;
  for (const a of ATTRIBUTES) {
    const d = editDistance(lower, a);
    if (d < bestDistance) {
      best = a;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * Rows with a rating (not NaN), per attribute, of n x 5 ratings.
 *
 * @example
 * ```ts
 * ratedPerAttribute(Float64Array.of(3, NaN, 2, 1, 0)); // { helpfulness: 1, correctness: 0, coherence: 1, complexity: 1, verbosity: 1 }
 * ```
 */
export function ratedPerAttribute(values: Float64Array): Record<Attribute, number> {
  const counts = Object.fromEntries(ATTRIBUTES.map((a) => [a, 0])) as Record<Attribute, number>;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) counts[ATTRIBUTES[i % ATTRIBUTE_COUNT]!]++;
  return counts;
}

/** A row with ratings outside {@link RATING_SCALE}. */
export interface OutOfScaleRow {
  line: number;
  values: Array<[Attribute, number]>;
}

/**
 * The warning for ratings outside HelpSteer2's 0–4 scale (null when there are none): how many
 * rows, and the first ten by line with their values.
 *
 * @example
 * ```ts
 * outOfScaleWarning('r.jsonl', [{ line: 3, values: [['helpfulness', 7]] }], 10);
 * // "r.jsonl: 1 of 10 rows has ratings outside HelpSteer2's 0–4 scale (line 3: helpfulness 7): used as given ..."
 * ```
 */
export function outOfScaleWarning(source: string, rows: readonly OutOfScaleRow[], total: number): string | null {
  if (rows.length === 0) return null;
  const shown = rows
    .slice(0, 10)
    .map((r) => `${r.line}: ${r.values.map(([a, v]) => `${a} ${v}`).join(', ')}`)
    .join('; ');
  return (
    `${source}: ${rows.length} of ${total} row${total === 1 ? '' : 's'} ${rows.length === 1 ? 'has' : 'have'} ratings outside HelpSteer2's ${RATING_SCALE.min}–${RATING_SCALE.max} scale ` +
    `(line${rows.length === 1 ? '' : 's'} ${shown}${rows.length > 10 ? '; …' : ''}): used as given ` +
    `(right for another scale, e.g. model rewards; otherwise fix those rows)`
  );
}
