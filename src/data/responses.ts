/**
 * Rated responses: the input of `dtr embed`. One JSON object per line, HelpSteer2's layout
 * (nvidia/HelpSteer2 and its per-response JSONL files):
 *
 * ```
 * {"prompt": "...", "response": "...", "helpfulness": 3, "correctness": 3, "coherence": 4, "complexity": 2, "verbosity": 1}
 * ```
 *
 * - `prompt`: a string (HelpSteer2's `<extra_id_1>` multi-turn markers are split into turns) or
 *   `messages`: an array of `{role, content}` chat messages instead;
 * - `response`: the response text;
 * - the five attribute ratings as top-level numbers, or all of them under `"ratings": {...}`;
 *   `null` or an absent attribute is a missing rating (NaN in the labels); a row with no rating
 *   at all is embedded with five NaN labels;
 * - anything else (`id`, `source_file`, `pair_index` ...) is ignored, except a key within edit
 *   distance 2 of an attribute name (`helpfulnes`, `Coherence`): that is a misspelled rating, an
 *   error; under `"ratings"` every key must be an attribute;
 * - ratings outside HelpSteer2's 0–4 scale are used as given, with a warning naming the rows
 *   (`warnings`).
 *
 * The rating rules are shared with `readRatings` (data/ratings.ts).
 *
 * May import: its own folder (data/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/. Never explain/, anything
 * above (eval/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, ATTRIBUTE_COUNT, isAttribute, type Attribute } from '../attributes.js';
import { DtrError, formatIssues, type Issue } from '../errors.js';
import { readJsonl, type JsonlRow } from '../io/jsonl.js';
import { toConversation, type Prompt } from '../text/prompt.js';
import { nearAttribute, outOfScaleWarning, ratedPerAttribute, readRatingFields, type OutOfScaleRow } from './ratings.js';
import { readResponseRow } from './text-rows.js';

/** Rated responses read from a JSONL file. */
export interface RatedResponses {
  n: number;
  /** The prompt (string or chat messages) and response of each row. */
  items: Array<{ prompt: Prompt; response: string }>;
  /** n x 5, row-major, ATTRIBUTES order; NaN where a rating is missing. */
  ratings: Float64Array;
  /** Rows with at least one rating. */
  rated: number;
  /** Rows with a rating, per attribute. */
  ratedPerAttribute: Record<Attribute, number>;
  /** What was used but looks wrong (ratings outside HelpSteer2's 0–4 scale), one line each, naming the rows. */
  warnings: string[];
  /** 1-based line of each row. */
  lines: number[];
}

/** Options of {@link readRatedResponses}. */
export interface ReadRatedResponsesOptions {
  /** Name of the file in messages (default: the path). */
  source?: string;
  /**
   * An extra check of each row's prompt and response (e.g. a model's special-token check); what
   * it throws is reported with the row's `file:line` among the other problems.
   */
  check?: (prompt: Prompt, response: string) => void;
}

/**
 * Reads rated responses (see the module comment for the layout). Every bad row is reported at
 * once with its `file:line` (`E_DATA`), before anything is done with the rows.
 *
 * @example
 * ```ts
 * const data = readRatedResponses('test/fixtures/helpsteer2-multiturn.jsonl');
 * data.n;            // 6
 * data.items[0];     // { prompt: "Let's play chess. ...", response: 'I resign.' }
 * data.ratings[0];   // 0 (helpfulness of the first row)
 * ```
 */
export function readRatedResponses(path: string, options: ReadRatedResponsesOptions = {}): RatedResponses {
  return parseRatedResponses(readJsonl(path), options.source ?? path, options);
}

/**
 * {@link readRatedResponses} on rows already read.
 *
 * @example
 * ```ts
 * parseRatedResponses([{ line: 1, value: { prompt: 'Hi', response: 'Hello', helpfulness: 3 } }], 'inline').ratings;
 * // Float64Array [3, NaN, NaN, NaN, NaN]
 * ```
 */
export function parseRatedResponses(rows: readonly JsonlRow[], source: string, options: ReadRatedResponsesOptions = {}): RatedResponses {
  if (rows.length === 0) throw new DtrError('E_EMPTY', `${source} has no rows`);
  const n = rows.length;
  const ratings = new Float64Array(n * ATTRIBUTE_COUNT).fill(NaN);
  const items: RatedResponses['items'] = [];
  const issues: Issue[] = [];
  const outside: OutOfScaleRow[] = [];
  let rated = 0;
  rows.forEach(({ line, value }, i) => {
    const where = `${source}:${line}`;
    const bad = (message: string): void => void issues.push({ path: where, message });
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      bad(
        `expected an object {"prompt": "...", "response": "...", "helpfulness": ..., ...}, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`,
      );
      items.push({ prompt: '', response: '' });
      return;
    }
    const row = value as Record<string, unknown>;
    const fields = readResponseRow(row, bad);
    const prompt = fields.prompt as Prompt;
    const response = fields.response as string;
    if (prompt !== undefined && response !== undefined) {
      try {
        toConversation(prompt, response, { prompt: fields.key!, response: 'response' });
        options.check?.(prompt, response);
      } catch (e) {
        bad((e as Error).message);
      }
    }
    items.push({ prompt, response });
    let holder: Record<string, unknown> = row;
    let nested = false;
    if (row.ratings !== undefined && row.ratings !== null) {
      if (typeof row.ratings !== 'object' || Array.isArray(row.ratings)) {
        bad('"ratings" must be an object {"helpfulness": ..., ...}');
        return;
      }
      if (ATTRIBUTES.some((a) => a in row)) bad('give the ratings at the top level or under "ratings", not both');
      for (const key of Object.keys(row)) {
        const near = isAttribute(key) ? null : nearAttribute(key);
        if (near)
          bad(`${JSON.stringify(key)} is not an attribute: did you mean ${JSON.stringify(near)}? (the ratings are under "ratings")`);
      }
      holder = row.ratings as Record<string, unknown>;
      nested = true;
    }
    const r = readRatingFields(holder, ratings, i * ATTRIBUTE_COUNT, { onlyRatings: nested });
    for (const message of r.issues) bad(message);
    if (r.outside.length > 0) outside.push({ line, values: r.outside });
    if (r.any) rated++;
  });
  if (issues.length > 0) {
    throw new DtrError(
      'E_DATA',
      `${source}: ${issues.length} bad value${issues.length === 1 ? '' : 's'}, nothing was done: ${formatIssues(issues, 3)}`,
      {
        issues,
        hint: 'each line: {"prompt": "...", "response": "...", "helpfulness": 3, "correctness": 3, "coherence": 4, "complexity": 2, "verbosity": 1} ("messages": [...] may replace "prompt"; null = missing rating)',
      },
    );
  }
  const warning = outOfScaleWarning(source, outside, n);
  return {
    n,
    items,
    ratings,
    rated,
    ratedPerAttribute: ratedPerAttribute(ratings),
    lines: rows.map((r) => r.line),
    warnings: warning ? [warning] : [],
  };
}
