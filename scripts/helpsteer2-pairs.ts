/**
 * Turns HelpSteer2 subset files (`{prompt, responses: [r1, r2], labels: [{...}, {...}]}` with
 * ratings divided by 4) into attribute-pairs JSONL for `dtr report --pairs`: one row per prompt,
 * response 1 as A and response 2 as B, ratings back on HelpSteer2's 0-4 integer scale (the scale
 * of the human tree's thresholds). The subset carries no preference labels, so rows have none.
 *
 *   npx tsx scripts/helpsteer2-pairs.ts --out pairs.jsonl [--text] ../shared/data/helpsteer2-subset/train.json ...
 *
 * `--text` adds `prompt`, `response_a` and `response_b` (shown in reports' example lists).
 * Each row's `subset` is its file's name without `.json` (`train`, `eval`).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ATTRIBUTES, type Attribute } from '../src/attributes.js';
import type { Issue } from '../src/errors.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { toJsonl } from '../src/io/jsonl.js';

/** One output row. */
export interface HelpSteer2PairRow {
  id: string;
  subset: string;
  a: Record<Attribute, number>;
  b: Record<Attribute, number>;
  prompt?: string;
  response_a?: string;
  response_b?: string;
}

/**
 * Converts the records of one file. Ratings are multiplied by 4 and must then be integers in
 * [0, 4]; every problem is returned with its record index instead of stopping at the first.
 *
 * @example
 * ```ts
 * const { rows, issues } = helpsteer2Pairs(JSON.parse(readFileSync('train.json', 'utf8')), 'train', { text: false });
 * ```
 */
export function helpsteer2Pairs(
  records: unknown,
  subset: string,
  options: { text: boolean },
): { rows: HelpSteer2PairRow[]; issues: Issue[] } {
  const rows: HelpSteer2PairRow[] = [];
  const issues: Issue[] = [];
  if (!Array.isArray(records)) return { rows, issues: [{ path: subset, message: 'expected a JSON array of {prompt, responses, labels}' }] };
  records.forEach((rec: unknown, i) => {
    const where = `${subset}[${i}]`;
    const r = rec as { prompt?: unknown; responses?: unknown; labels?: unknown };
    if (r === null || typeof r !== 'object') {
      issues.push({ path: where, message: 'expected an object {prompt, responses, labels}' });
      return;
    }
    if (typeof r.prompt !== 'string') issues.push({ path: `${where}.prompt`, message: 'expected a string' });
    if (!Array.isArray(r.responses) || r.responses.length !== 2 || !r.responses.every((x) => typeof x === 'string')) {
      issues.push({ path: `${where}.responses`, message: 'expected two response strings' });
    }
    if (!Array.isArray(r.labels) || r.labels.length !== 2) {
      issues.push({ path: `${where}.labels`, message: 'expected two rating objects' });
      return;
    }
    const sides = (r.labels as unknown[]).map((l, k) => {
      const out = {} as Record<Attribute, number>;
      for (const name of ATTRIBUTES) {
        const v = (l as Record<string, unknown> | null)?.[name];
        const scaled = typeof v === 'number' ? v * 4 : NaN;
        const rounded = Math.round(scaled);
        if (!Number.isFinite(scaled) || Math.abs(scaled - rounded) > 1e-9 || rounded < 0 || rounded > 4) {
          issues.push({
            path: `${where}.labels[${k}].${name}`,
            message: `expected a rating divided by 4 (0, 0.25, ..., 1), got ${JSON.stringify(v)}`,
          });
        }
        out[name] = rounded;
      }
      return out;
    });
    const row: HelpSteer2PairRow = { id: `${subset}-${i}`, subset, a: sides[0]!, b: sides[1]! };
    if (options.text && typeof r.prompt === 'string' && Array.isArray(r.responses)) {
      row.prompt = r.prompt;
      row.response_a = String(r.responses[0]);
      row.response_b = String(r.responses[1]);
    }
    rows.push(row);
  });
  return { rows, issues };
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { out: { type: 'string' }, text: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  if (values.out === undefined || positionals.length === 0) {
    console.error('usage: npx tsx scripts/helpsteer2-pairs.ts --out pairs.jsonl [--text] FILE.json...');
    return 2;
  }
  const all: HelpSteer2PairRow[] = [];
  const issues: Issue[] = [];
  for (const path of positionals) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      issues.push({ path, message: (e as Error).message });
      continue;
    }
    const got = helpsteer2Pairs(json, basename(path).replace(/\.json$/, ''), { text: values.text === true });
    all.push(...got.rows);
    issues.push(...got.issues);
  }
  if (issues.length > 0) {
    for (const i of issues) console.error(`${i.path}: ${i.message}`);
    console.error(`${issues.length} problem(s); nothing written`);
    return 1;
  }
  writeFileAtomic(values.out, toJsonl(all));
  console.log(`wrote ${all.length} pairs to ${values.out}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
