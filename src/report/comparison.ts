/**
 * The single-comparison report built from plain data: one pair's scores through a tree, its path, reading and
 * counterfactual (`buildComparisonReport`).
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import { ATTRIBUTES, checkAttributeScores, type AttributeScores } from '../attributes.js';
import { explain } from '../explain/explain.js';
import { preferenceOf, type DecisionOptions } from '../tree/decision.js';
import { formatFixed } from '../util/format.js';
import type { PreferenceTree } from '../tree/preference-tree.js';
import { PACKAGE_ID } from '../version.js';
import { countBidiControls } from './escape.js';
import { reportProvenance, type ReportProvenanceOptions } from './provenance.js';
import { reportTree } from './tree-view.js';
import { REPORT_FORMAT, REPORT_FORMAT_VERSION, type ComparisonInput, type ComparisonReport, type ReportReading } from './types.js';

/**
 * Options of {@link buildComparisonReport} and {@link buildDatasetReport}.
 *
 * @example
 * ```ts
 * buildComparisonReport(tree, input, { symmetric: false, tieBand: 0.05, title: 'Pair 17', provenance: { command: currentCommandLine() } });
 * ```
 */
export interface ReportOptions extends DecisionOptions {
  /** Page title (default: says who is preferred, or what the data is). */
  title?: string;
  /**
   * How the report is made, as far as the caller knows: input files, the files the trees were
   * loaded from, the model, the command line. Recorded in `report.provenance` (with the trees'
   * names and sources, and the package version, in any case).
   */
  provenance?: ReportProvenanceOptions;
}

/**
 * Builds a single-comparison report: the decision, both readings of the tree, the path, the
 * counterfactual, the rewards side by side and the texts. Pure and synchronous; render it with
 * {@link renderReport}.
 *
 * @throws TypeError naming every problem of `input` at once (`input.a: missing attribute 'verbosity'; input.label: ...`).
 *
 * @example
 * ```ts
 * const tree = PreferenceTree.load('rlhflow-llama-3.1-8b');
 * const report = buildComparisonReport(tree, {
 *   a: { helpfulness: 3.96, correctness: 3.97, coherence: 3.86, complexity: 0.99, verbosity: 1.49 },
 *   b: { helpfulness: 2.17, correctness: 2.20, coherence: 3.20, complexity: 0.88, verbosity: 1.46 },
 * });
 * report.decision.preference; // 'a'
 * writeReport('why.html', report);
 * ```
 */
export function buildComparisonReport(tree: PreferenceTree, input: ComparisonInput, options: ReportOptions = {}): ComparisonReport {
  checkComparisonInput(input, 'input');
  const e = explain(tree, input.a, input.b, { symmetric: options.symmetric ?? true, tieBand: options.tieBand ?? 0 });
  const readings: ReportReading[] = [{ reading: 'a-b', path: e.path, leaf: e.leaf, probabilityA: e.publishedProbability }];
  if (e.mirror) readings.push({ reading: 'b-a', path: e.mirror.path, leaf: e.mirror.leaf, probabilityA: 1 - e.mirror.probability });
  const label = input.label ?? null;
  const texts = { prompt: input.prompt ?? null, a: input.responseA ?? null, b: input.responseB ?? null };
  const truncated = { a: input.truncated?.a ?? null, b: input.truncated?.b ?? null };
  const truncationNotes = { a: input.truncationNotes?.a ?? null, b: input.truncationNotes?.b ?? null };

  const warnings: string[] = [];
  for (const side of ['a', 'b'] as const) {
    if (truncated[side]) {
      const note = truncationNotes[side];
      warnings.push(
        `Response ${side.toUpperCase()} was truncated to fit the model's context${note ? ` (${note})` : ''}: its rewards describe only the part the model read.`,
      );
    }
  }
  for (const w of input.warnings ?? []) warnings.push(w);
  for (const [what, text] of [
    ['The prompt', texts.prompt],
    ['Response A', texts.a],
    ['Response B', texts.b],
  ] as const) {
    const k = text === null ? 0 : countBidiControls(text);
    if (k > 0)
      warnings.push(
        `${what} contains ${k} bidirectional control character${k === 1 ? '' : 's'} (shown as ⟨RLO⟩, ⟨LRI⟩...): they can make text read differently from what it says.`,
      );
  }
  if (tree.ranges) {
    for (const name of ATTRIBUTES) {
      const [lo, hi] = tree.ranges[name];
      const d = e.delta[name];
      if (d < lo || d > hi) {
        warnings.push(
          `The ${name} difference ${formatFixed(d, 3)} is outside the range the tree was trained on [${formatFixed(lo, 3)}, ${formatFixed(hi, 3)}].`,
        );
      }
    }
  }
  for (const w of tree.warnings) warnings.push(`Tree: ${w}`);

  const who =
    e.preference === 'tie'
      ? 'Neither response is preferred'
      : `Why ${e.preference.toUpperCase()} is preferred over ${e.preference === 'a' ? 'B' : 'A'}`;
  return {
    format: REPORT_FORMAT,
    version: REPORT_FORMAT_VERSION,
    generator: PACKAGE_ID,
    title: options.title ?? who,
    provenance: reportProvenance('buildComparisonReport', tree, undefined, options.provenance),
    kind: 'comparison',
    tree: reportTree(tree),
    rule: { symmetric: e.symmetric, tieBand: e.tieBand },
    id: input.id ?? null,
    subset: input.subset ?? null,
    source: input.source ?? null,
    label,
    texts,
    truncated,
    truncationNotes,
    rewards: { a: pick(input.a), b: pick(input.b), delta: e.delta },
    decision: {
      preference: e.preference,
      probability: e.probability,
      publishedProbability: e.publishedProbability,
      publishedPreference: preferenceOf(e.publishedProbability, e.tieBand),
      agreesWithLabel: label === null ? null : e.preference === label,
    },
    path: e.path,
    leaf: e.leaf,
    readings,
    counterfactual: e.counterfactual,
    sentence: e.sentence,
    warnings,
  };
}

/** The five attributes only, in {@link ATTRIBUTES} order (drops nothing the report needs, keeps key order stable). */
function pick(scores: AttributeScores): AttributeScores {
  return Object.fromEntries(ATTRIBUTES.map((k) => [k, scores[k]])) as unknown as AttributeScores;
}

/**
 * Checks a {@link ComparisonInput}; throws one TypeError/RangeError naming every problem.
 *
 * @example
 * ```ts
 * checkComparisonInput({ a, b: { ...b, verbosity: NaN } }, 'input'); // RangeError: input.b.verbosity: 'verbosity' must be finite, got NaN
 * ```
 */
export function checkComparisonInput(input: ComparisonInput, param: string): void {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError(
      `${param} must be an object {a, b, prompt?, responseA?, responseB?, truncated?, label?}, got ${input === null ? 'null' : typeof input}`,
    );
  }
  const problems: string[] = [];
  let onlyRange = true;
  for (const side of ['a', 'b'] as const) {
    for (const p of checkAttributeScores(input[side])) {
      problems.push(`${param}.${side}${p.key ? `.${p.key}` : ''}: ${p.message}`);
      if (!p.message.includes('must be finite')) onlyRange = false;
    }
  }
  const optionalString = (key: 'prompt' | 'responseA' | 'responseB' | 'subset' | 'id' | 'source'): void => {
    const v = input[key];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      problems.push(`${param}.${key} must be a string or null, got ${typeof v}`);
      onlyRange = false;
    }
  };
  (['prompt', 'responseA', 'responseB', 'subset', 'id', 'source'] as const).forEach(optionalString);
  if (input.label !== undefined && input.label !== null && input.label !== 'a' && input.label !== 'b') {
    problems.push(`${param}.label must be 'a', 'b' or null, got ${JSON.stringify(input.label)}`);
    onlyRange = false;
  }
  for (const key of ['truncationNotes'] as const) {
    const v = input[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) {
      problems.push(`${param}.${key} must be an object {a?: string, b?: string}, got ${typeof v}`);
      onlyRange = false;
      continue;
    }
    for (const side of ['a', 'b'] as const) {
      const x = v[side];
      if (x !== undefined && x !== null && typeof x !== 'string') {
        problems.push(`${param}.${key}.${side} must be a string, got ${typeof x}`);
        onlyRange = false;
      }
    }
  }
  if (
    input.warnings !== undefined &&
    input.warnings !== null &&
    (!Array.isArray(input.warnings) || !input.warnings.every((w) => typeof w === 'string'))
  ) {
    problems.push(`${param}.warnings must be an array of strings`);
    onlyRange = false;
  }
  const t = input.truncated;
  if (t !== undefined && t !== null) {
    if (typeof t !== 'object' || Array.isArray(t)) {
      problems.push(`${param}.truncated must be an object {a?: boolean, b?: boolean}, got ${typeof t}`);
      onlyRange = false;
    } else {
      for (const side of ['a', 'b'] as const) {
        const v = t[side];
        if (v !== undefined && v !== null && typeof v !== 'boolean') {
          problems.push(`${param}.truncated.${side} must be a boolean, got ${typeof v}`);
          onlyRange = false;
        }
      }
    }
  }
  if (problems.length > 0) {
    const message = problems.join('; ');
    throw onlyRange ? new RangeError(message) : new TypeError(message);
  }
}
