/**
 * Wording and number formats shared by the HTML and Markdown renderers, so both say the same
 * thing in the same digits.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import type { Preference } from '../tree/decision.js';
import { REPORT } from '../util/format.js';
import type { PathStep } from '../tree/preference-tree.js';
import type { DecisionCounts, ReportProvenance, ReportRule, ReportTree } from './types.js';

// The report style (util/format.ts): `–` when missing, -0 shown as 0.
export const { f3, signed, pct } = REPORT;
export const int = (x: number): string => Math.round(x).toLocaleString('en-US');

/** `A preferred`, `B preferred`, `tie` */
export function preferenceWords(p: Preference): string {
  return p === 'tie' ? 'tie' : `${p.toUpperCase()} preferred`;
}

/** One line on the rule in use. */
export function ruleWords(rule: ReportRule): string {
  const band = rule.tieBand > 0 ? `; tie when |p − 0.5| ≤ ${f3(rule.tieBand)}` : '';
  return rule.symmetric
    ? `symmetric rule: P(A) = ½[f(A − B) + 1 − f(B − A)], so swapping A and B mirrors the answer${band}`
    : `published rule: P(A) = f(A − B), as the RLHFlow models compute it${band}`;
}

/** `helpfulness +1.791 > 0.019` */
export function stepWords(s: PathStep): string {
  return `${s.attribute} ${signed(s.delta)} ${s.went === 'left' ? '≤' : '>'} ${f3(s.threshold)}`;
}

/** `helpfulness > 0.019 → correctness > 0.303 → leaf 14` */
export function pathWords(path: readonly PathStep[], leaf: number): string {
  const tests = path.map((s) => `${s.attribute} ${s.went === 'left' ? '≤' : '>'} ${f3(s.threshold)}`);
  return [...tests, `leaf ${leaf}`].join(' → ');
}

/** `a: 412 · b: 560 · tie: 28` as shares of n */
export function decisionsWords(d: DecisionCounts, n: number): string {
  const parts = [`A ${int(d.a)} (${pct(d.a / n)})`, `B ${int(d.b)} (${pct(d.b / n)})`];
  if (d.tie > 0) parts.push(`tie ${int(d.tie)} (${pct(d.tie / n)})`);
  return parts.join(' · ');
}

/** `"≤"/">"` for the published report text (the JSON keeps `<=`). */
export function opWords(op: '<=' | '>'): string {
  return op === '<=' ? '≤' : '>';
}

/** The path text with `<=` shown as `≤`. */
export function prettyPath(text: string): string {
  return text.replace(/<=/g, '≤');
}

/** How to read a tree's numbers, stated once per report. */
export function treeReadingWords(tree: ReportTree): string {
  const counts = tree.nodes.some((n) => n.samples !== null) ? ' (with the pair count when the tree file has it)' : '';
  return `Each box shows its test (x ≤ t goes left), the share of the tree's training pairs that reached it${counts}, and P(A) = P(response A preferred) there. Blue favours A, orange favours B; the deeper the colour, the surer the tree.`;
}

/** `1 pair changes its winner just by order.` / `12 pairs change their winner just by order.` */
export function positionWords(inconsistent: number): string {
  return inconsistent === 1 ? '1 pair changes its winner just by order.' : `${int(inconsistent)} pairs change their winner just by order.`;
}

/** One line of a report's provenance footer: `label: code (detail) · sha256 … · note`, plain text (the renderers escape it). */
export interface ProvenanceLine {
  label: string;
  /** A command line or a path, shown as code. */
  code: string | null;
  detail: string | null;
  /** A content hash and what it is (`sha256`, `identity`). */
  hash: { name: string; value: string } | null;
  note: string | null;
}

/** The provenance footer's lines: command, data files, trees, model. */
export function provenanceLines(p: ReportProvenance | null, tree: ReportTree): ProvenanceLine[] {
  const line = (label: string, o: Partial<Omit<ProvenanceLine, 'label'>>): ProvenanceLine => ({
    label,
    code: o.code ?? null,
    detail: o.detail ?? null,
    hash: o.hash ?? null,
    note: o.note ?? null,
  });
  const sha = (value: string | null): ProvenanceLine['hash'] => (value === null ? null : { name: 'sha256', value });
  if (p === null)
    return [
      line('Provenance', { detail: 'not recorded (a version 1 report)' }),
      line(`Tree ${tree.name}`, { note: `made: ${tree.source}` }),
    ];
  const out: ProvenanceLine[] = [p.command !== null ? line('Command', { code: p.command }) : line('Made', { detail: p.source })];
  for (const d of p.data) {
    const what = [d.role ?? null, d.rows === undefined ? null : `${int(d.rows)} row${d.rows === 1 ? '' : 's'}`]
      .filter((x): x is string => x !== null)
      .join(', ');
    out.push(line('Data', { code: d.path, detail: what || null, hash: sha(d.sha256) }));
  }
  if (p.data.length === 0) out.push(line('Data', { detail: p.command === null ? 'none recorded' : 'no input file' }));
  for (const t of p.trees) {
    out.push(
      line(`${t.role === 'tree' ? 'Tree' : 'Compared tree'} ${t.name}`, {
        code: t.file,
        detail: t.file === null ? 'file not recorded' : null,
        hash: sha(t.sha256),
        note: `made: ${t.source}`,
      }),
    );
  }
  if (p.model)
    out.push(
      line('Model', {
        code: p.model.path,
        detail: `${p.model.name}, on ${p.model.provider}`,
        hash: { name: 'identity', value: p.model.identity },
      }),
    );
  return out;
}

/** Rows of the "splits that make the difference" table; the JSON holds them all. */
export const SPLIT_ROWS = 12;
/** Rows of the "where the differences fall" table; the JSON holds them all. */
export const LEAF_PAIR_ROWS = 10;

const plural = (k: number, one: string, many: string): string => (k === 1 ? one : many);

/**
 * What the "Hardest disagreements" list holds, never leaving its length unsaid:
 * `The 10 most confident of the 68 labelled pairs the tree decides the other way (--hardest N lists more).`
 */
export function hardestWords(listed: number, total: number | null): string {
  if (total === null)
    return `Labelled pairs the tree decides the other way, the most confident first: ${int(listed)} listed (this version 1 report did not record how many there are).`;
  if (total === 0) return 'The tree decides no labelled pair the other way.';
  if (listed === 0)
    return `The tree decides ${int(total)} labelled ${plural(total, 'pair', 'pairs')} the other way; none is listed here (--hardest N lists them).`;
  if (listed >= total)
    return total === 1
      ? 'The one labelled pair the tree decides the other way.'
      : `All ${int(total)} labelled pairs the tree decides the other way, the most confident first.`;
  return `The ${int(listed)} most confident of the ${int(total)} labelled pairs the tree decides the other way (--hardest N lists more).`;
}

/** What the "Largest differences" list of two trees holds: `The 10 of the 144 pairs decided differently whose P(A) differ most (--examples N lists more).` */
export function largestWords(listed: number, total: number): string {
  if (total === 0) return 'The two trees decide every pair alike.';
  if (listed === 0)
    return `The two trees decide ${int(total)} ${plural(total, 'pair', 'pairs')} differently; none is listed here (--examples N lists them).`;
  if (listed >= total)
    return total === 1
      ? 'The one pair the two trees decide differently.'
      : `All ${int(total)} pairs the two trees decide differently, those whose P(A) differ most first.`;
  return `The ${int(listed)} of the ${int(total)} pairs decided differently whose P(A) differ most (--examples N lists more).`;
}

/**
 * How many of the two trees' differences one split undoes, as the code counts them: a pair
 * counts as undone when sending it the other way at some single split (of either tree, in
 * either reading) makes the two trees agree; each row of the splits table counts the pairs
 * that split undoes, so a pair can count for several rows.
 */
export function splitsWords(explained: number, differ: number): string {
  if (differ === 0) return '';
  const how = 'flipping a single split of either tree (sending the pair the other way at that split alone)';
  if (explained === 0)
    return ` No single split undoes any of ${plural(differ, 'it', 'them')}: making the trees agree takes more than one split sent the other way.`;
  if (explained === differ) {
    return differ === 1
      ? ` The difference is undone by ${how}; the table below shows which splits do it.`
      : ` Each of the ${int(differ)} differences is undone by ${how}; the table below shows how many each split undoes.`;
  }
  return ` ${int(explained)} of the ${int(differ)} differences are undone by ${how}; the other ${int(differ - explained)} take more than one split. The table below shows how many each split undoes.`;
}

/** Says a table shows only its first rows: ` The 12 splits that undo the most differences are shown, of 31.` ('' when it shows all). */
export function shownWords(shown: number, total: number, what: string): string {
  return shown < total ? ` The ${int(shown)} ${what} are shown, of ${int(total)}.` : '';
}
