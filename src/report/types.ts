/**
 * Explanation reports: the contracts. Every report is built from plain data (attribute rewards per
 * response, optional texts, truncation flags, labels and subsets) by a pure synchronous function,
 * and is itself plain JSON data that the HTML and Markdown renderers turn into pages. A report
 * saved as JSON can be validated ({@link validateReport}) and rendered again, so the three formats
 * always carry the same content.
 *
 * May import: its own folder (report/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/. Never anything above (workflows/ ... cli/) (test/import-graph.test.ts).
 */
import type { Attribute, AttributeScores } from '../attributes.js';
import type { DataFileRecord } from '../provenance.js';
import type { BootstrapImportances } from '../tree/importance.js';
import type { Counterfactual } from '../explain/explain.js';
import type { Preference } from '../tree/decision.js';
import type { TreeFileNode } from '../tree/file.js';
import type { LeafInfo, PathStep } from '../tree/preference-tree.js';

/**
 * Format id written in every report JSON.
 *
 * @example
 * ```ts
 * JSON.parse(text).format === REPORT_FORMAT;
 * ```
 */
export const REPORT_FORMAT = 'decision-tree-reward/report';
/**
 * The report JSON version this package writes. Bumped on any incompatible change. Version 2
 * added `provenance`, `hardestTotal` and `comparison.examplesTotal`; {@link validateReport}
 * still reads version 1 reports (with `provenance: null` and `hardestTotal: null`: they did not
 * record them).
 *
 * @example
 * ```ts
 * JSON.parse(text).version === REPORT_FORMAT_VERSION; // 2
 * ```
 */
export const REPORT_FORMAT_VERSION = 2;

/**
 * The attributes whose tests count as "decided by style".
 *
 * @example
 * ```ts
 * STYLE_ATTRIBUTES; // ['verbosity', 'complexity']
 * ```
 */
export const STYLE_ATTRIBUTES: readonly Attribute[] = ['verbosity', 'complexity'];

/**
 * One comparison as plain data: what a single-comparison report is built from. Only `a` and `b`
 * are required; everything else is shown when present.
 *
 * @example
 * ```ts
 * const input: ComparisonInput = {
 *   a: { helpfulness: 3.96, correctness: 3.97, coherence: 3.86, complexity: 0.99, verbosity: 1.49 },
 *   b: { helpfulness: 2.17, correctness: 2.20, coherence: 3.20, complexity: 0.88, verbosity: 1.46 },
 *   prompt: 'Jane has 12 apples...', responseA: '1. Jane starts with...', truncated: { a: false, b: false },
 * };
 * ```
 */
export interface ComparisonInput {
  /** Attribute rewards of response A. */
  a: AttributeScores;
  /** Attribute rewards of response B. */
  b: AttributeScores;
  prompt?: string | null;
  responseA?: string | null;
  responseB?: string | null;
  /** Whether the model cut a response to fit its context (unknown when absent). */
  truncated?: { a?: boolean | null; b?: boolean | null } | null;
  /** How each conversation was cut, in words (e.g. the runtime's truncation summary). */
  truncationNotes?: { a?: string | null; b?: string | null } | null;
  /** Further warnings to show with the report's own. */
  warnings?: readonly string[] | null;
  /** The preferred response, when known: the report then says whether the tree agrees. */
  label?: 'a' | 'b' | null;
  subset?: string | null;
  id?: string | null;
  /** Where the comparison came from (`pairs.jsonl:12`, `compare.json`), shown in the report. */
  source?: string | null;
}

/**
 * Many comparisons as plain data: what a dataset report is built from. Scores are n x 5 row-major
 * arrays in {@link ATTRIBUTES} order (an {@link AttributePairs} from `readAttributePairs` is one);
 * the optional per-row arrays have n entries each.
 *
 * @example
 * ```ts
 * const pairs = readAttributePairs('pairs.jsonl');
 * const input: DatasetInput = { ...pairs, source: 'pairs.jsonl' };
 * ```
 */
export interface DatasetInput {
  n: number;
  /** A's rewards, n x 5 row-major. */
  a: Float64Array;
  /** B's rewards, n x 5 row-major. */
  b: Float64Array;
  /** 1 = A preferred, 0 = B preferred, 255 (`NO_LABEL`) = unknown. Absent: no labels at all. */
  labels?: Uint8Array | null;
  ids?: readonly (string | null)[] | null;
  subsets?: readonly (string | null)[] | null;
  /** 1-based line of each row in its file, shown to locate rows. */
  lines?: readonly number[] | null;
  /** Prompt and response texts per row (null entries where unknown). */
  texts?: { prompt: readonly (string | null)[]; a: readonly (string | null)[]; b: readonly (string | null)[] } | null;
  /** Truncation per row: bit 1 = A was truncated, bit 2 = B was truncated, bit 4 = one was, side not recorded. Absent: unknown. */
  truncated?: Uint8Array | null;
  /**
   * RM-Bench response styles per row (0 concise, 1 detailed plain, 2 detailed markdown; null
   * where unknown): the report then adds the style matrix ({@link StyleMatrix}).
   */
  styles?: { a: readonly (number | null)[]; b: readonly (number | null)[] } | null;
  /** The data file's name, shown in the report. */
  source?: string | null;
  /** Notes about the data to show with the report's own (e.g. rows left out). */
  notes?: readonly string[] | null;
}

/** One node of a tree as drawn in a report (pre-order ids; `<=` goes left): the tree file's node ({@link TreeFileNode}) with its depth and P(A). */
export interface ReportTreeNode extends Pick<TreeFileNode, 'id' | 'feature' | 'threshold' | 'left' | 'right' | 'samples' | 'share'> {
  /** Depth below the root (the root is 0). */
  depth: number;
  /** P(A preferred) at the node (the tree file's `value[1]`). */
  probability: number;
}

/** The tree a report is about: its identity and its nodes. */
export interface ReportTree {
  name: string;
  description: string;
  /** Where the tree comes from (its provenance source). */
  source: string;
  criterion: string;
  nodes: ReportTreeNode[];
}

/** The decision rule: symmetric p = ½[f(a−b) + 1 − f(b−a)] or the published p = f(a−b). */
export interface ReportRule {
  symmetric: boolean;
  /** `tie` when |p − 0.5| <= tieBand. */
  tieBand: number;
}

/** One reading of a comparison: the tree applied to A − B or to B − A. */
export interface ReportReading {
  reading: 'a-b' | 'b-a';
  path: PathStep[];
  leaf: LeafInfo;
  /** P(A preferred) this reading gives (for `b-a`: 1 − the leaf's probability). */
  probabilityA: number;
}

/**
 * A tree a report used: which one, the file it was loaded from, and how the tree itself was made.
 *
 * @example
 * ```ts
 * report.provenance?.trees[0]; // { role: 'tree', name: 'rlhflow-llama-3.1-8b', file: 'trees/rlhflow-llama-3.1-8b.json', sha256: '…', source: '…' }
 * ```
 */
export interface ReportTreeRecord {
  /** `tree`: the tree the report is about; `compare-tree`: the second tree of a dataset report. */
  role: 'tree' | 'compare-tree';
  name: string;
  /** The file it was loaded from: the path as given, or `trees/NAME.json` for a shipped tree; null when not known (a tree built or loaded through the API). */
  file: string | null;
  /** sha256 of that file's bytes; null when not known. */
  sha256: string | null;
  /** The tree's own provenance source (where the tree comes from). */
  source: string;
}

/**
 * The model folder that scored a report's texts (`dtr report --model DIR`).
 *
 * @example
 * ```ts
 * report.provenance?.model; // { path: 'models/fixture', name: 'fixture-last_hidden_state', identity: '5be0…', provider: 'cpu' }
 * ```
 */
export interface ReportModelRecord {
  /** The folder as given. */
  path: string;
  /** The model's name (dtr.json). */
  name: string;
  /** `modelIdentity(model).rewards`: content hash of the backbone files, text processing and head, the key of the reward cache. */
  identity: string;
  /** The execution provider that ran the backbone (scores do not depend on it). */
  provider: string;
}

/**
 * How a report was made, as every artifact of this package records it: the input data files
 * (with sha256), the trees (with the sha256 of their files), the model folder when texts were
 * scored, the command line and the package version.
 *
 * @example
 * ```ts
 * const p = report.provenance!;
 * p.command;            // "dtr report --pairs pairs.jsonl --out r.html" (null through the API)
 * p.data[0];            // { path: 'pairs.jsonl', sha256: '…', rows: 30, role: 'pairs' }
 * p.trees.map((t) => t.sha256);
 * ```
 */
export interface ReportProvenance {
  /** One line on how the report was made (`dtr report`, or the API function). */
  source: string;
  /** Input data files: the pairs file, the --from document, texts read from `@file`. */
  data: DataFileRecord[];
  /** The trees used: the report's tree first, then the compared tree. */
  trees: ReportTreeRecord[];
  /** The model folder that scored the texts, or null when rewards were given. */
  model: ReportModelRecord | null;
  /** The command line that made the report, or null when made through the API. */
  command: string | null;
  /** `name@version` of the package that made it (as `generator`). */
  package: string;
}

/** Common header of every report. */
export interface ReportHeader {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_FORMAT_VERSION;
  /** `name@version` of the package that made it. */
  generator: string;
  title: string;
  /** How the report was made; null only for a version-1 report, which did not record it. */
  provenance: ReportProvenance | null;
}

/**
 * A single-comparison report: why A beat B (or not).
 *
 * @example
 * ```ts
 * const r: ComparisonReport = buildComparisonReport(tree, { a, b });
 * r.decision.preference; r.path; r.readings; r.counterfactual?.sentence;
 * ```
 */
export interface ComparisonReport extends ReportHeader {
  kind: 'comparison';
  tree: ReportTree;
  rule: ReportRule;
  id: string | null;
  subset: string | null;
  source: string | null;
  label: 'a' | 'b' | null;
  texts: { prompt: string | null; a: string | null; b: string | null };
  /** null where unknown. */
  truncated: { a: boolean | null; b: boolean | null };
  /** How each conversation was cut, in words (null where not cut or not known). */
  truncationNotes: { a: string | null; b: string | null };
  rewards: { a: AttributeScores; b: AttributeScores; delta: AttributeScores };
  decision: {
    preference: Preference;
    /** P(A preferred) under the rule. */
    probability: number;
    /** P(A preferred) as the published models compute it: f(a − b). */
    publishedProbability: number;
    /** The published rule's decision. */
    publishedPreference: Preference;
    /** Whether the decision agrees with the label (null without a label). */
    agreesWithLabel: boolean | null;
  };
  /** The path of A − B, root first. */
  path: PathStep[];
  leaf: LeafInfo;
  /** With the symmetric rule, both readings (A − B, then B − A); with the published rule, A − B only. */
  readings: ReportReading[];
  counterfactual: Counterfactual | null;
  sentence: string;
  warnings: string[];
}

/** A test on a path, without a particular input. */
export interface ReportTest {
  node: number;
  attribute: Attribute;
  op: '<=' | '>';
  threshold: number;
}

/** Decisions counted by outcome. */
export interface DecisionCounts {
  a: number;
  b: number;
  tie: number;
}

/** A leaf (= a root-to-leaf path) and what this data does there. */
export interface LeafRow {
  node: number;
  tests: ReportTest[];
  /** `helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121` */
  pathText: string;
  trainingShare: number;
  /** P(A preferred) at the leaf. */
  probability: number;
  /** Pairs whose A − B path ends here. */
  count: number;
  share: number;
  /** Pairs whose B − A reading ends here (symmetric rule; 0 otherwise). */
  mirrorCount: number;
  /** Final decisions (under the rule) of the pairs counted here. */
  decisions: DecisionCounts;
  labelled: number;
  /** Accuracy of the rule's decisions among labelled pairs here (null without labels). */
  accuracy: number | null;
  /** Share of labelled pairs here where A was preferred: compare with `probability`. */
  observedA: number | null;
  /** With `--compare-tree`: pairs here decided differently by the other tree. */
  differ: number | null;
}

/** Figures for one subset (category) of the rows. */
export interface SubsetRow {
  name: string;
  n: number;
  labelled: number;
  accuracy: number | null;
  decisions: DecisionCounts;
  /** Share of the subset's decisions decided by style. */
  styleShare: number;
  /** Agreement with the other tree (null without `--compare-tree`). */
  agreement: number | null;
}

/** A reliability-diagram bin (null means: no pairs in the bin). */
export interface ReportBin {
  lo: number;
  hi: number;
  n: number;
  meanPredicted: number | null;
  observed: number | null;
}

/** One listed pair (hardest disagreements, tree disagreements). */
export interface ReportExample {
  /** 0-based row index in the input. */
  index: number;
  id: string | null;
  line: number | null;
  subset: string | null;
  label: 'a' | 'b' | null;
  preference: Preference;
  probability: number;
  pathText: string;
  leaf: number;
  /** The leaf of the B − A reading (symmetric rule), else null. */
  mirrorLeaf: number | null;
  delta: AttributeScores;
  /** With a second tree: its decision, probability and path. */
  other: { preference: Preference; probability: number; pathText: string; leaf: number } | null;
  texts: { prompt: string | null; a: string | null; b: string | null } | null;
  truncated: { a: boolean; b: boolean } | null;
}

/** A split of either tree and how many tree disagreements it makes. */
export interface SplitDifference {
  tree: 'primary' | 'other';
  treeName: string;
  node: number;
  attribute: Attribute;
  threshold: number;
  /** Disagreements that vanish when this split alone sends the pair the other way. */
  count: number;
  /** `count` over all disagreements. */
  share: number;
}

/** Two trees on the same pairs: where their decisions differ and which splits make the difference. */
export interface TreeComparison {
  otherName: string;
  /** The other tree, as drawn. */
  tree: ReportTree;
  n: number;
  agree: number;
  agreement: number;
  /** `cross[p][o]`: pairs the primary tree decides `p` and the other tree `o`. */
  cross: Record<Preference, DecisionCounts>;
  /** Disagreements undone by flipping some single split (of either tree, in either reading): at least one row of `splits` counts each of them. */
  explained: number;
  splits: SplitDifference[];
  /** Leaves of the two trees reached together, with how many of those pairs are decided differently. */
  leafPairs: Array<{ leaf: number; otherLeaf: number; count: number; differ: number }>;
  /** Per leaf of the other tree (A − B path): pairs and disagreements. */
  otherLeaves: Array<{ node: number; pathText: string; count: number; differ: number }>;
  /** Thresholds each tree tests, per attribute (ascending). */
  thresholds: Record<Attribute, { primary: number[]; other: number[] }>;
  /** Accuracy of each tree on the labelled pairs (null without labels). */
  accuracy: { primary: number; other: number; labelled: number } | null;
  /** The other tree's decisions decided by style (as {@link DatasetReport.style}). */
  otherStyle: { count: number; share: number };
  /** The largest disagreements, by |p − p_other| (at most the `examples` option of them). */
  examples: ReportExample[];
  /** How many pairs could be listed in `examples`: every pair the two trees decide differently. */
  examplesTotal: number;
}

/** One cell of the {@link StyleMatrix}: comparisons of a chosen response in one style with a rejected one in another. */
export interface StyleMatrixCell {
  /** Labelled comparisons in the cell. */
  n: number;
  /** Share decided for the chosen response (a tie counts 0.5); null for an empty cell. */
  accuracy: number | null;
  /** Share of the cell's decisions decided by style (a path through a style attribute); null for an empty cell. */
  styleShare: number | null;
}

/**
 * RM-Bench's style matrix for the report's tree and rule: rows are the chosen response's
 * style, columns the rejected one's (THU-KEG/RM-Bench `compute_accuracy`). Fractions (0-1).
 *
 * @example
 * ```ts
 * const m = report.style.matrix;
 * if (m) console.log(m.cells[0][2].accuracy, m.cells[0][2].styleShare); // concise chosen vs markdown rejected
 * ```
 */
export interface StyleMatrix {
  /** Style names by index: concise, detailed plain, detailed markdown. */
  styles: string[];
  cells: StyleMatrixCell[][];
  /** Mean accuracy of the upper triangle (chosen plainer than rejected), the diagonal, the lower triangle; null where a cell is empty. */
  hard: number | null;
  normal: number | null;
  easy: number | null;
  /** Labelled comparisons with both styles known (the matrix counts these). */
  n: number;
}

/**
 * A dataset report: how the tree decides a whole set of pairs.
 *
 * @example
 * ```ts
 * const r: DatasetReport = buildDatasetReport(tree, input);
 * r.accuracy?.accuracy; r.leaves; r.style.share; r.comparison?.splits;
 * ```
 */
export interface DatasetReport extends ReportHeader {
  kind: 'dataset';
  tree: ReportTree;
  rule: ReportRule;
  data: {
    n: number;
    source: string | null;
    labelled: number;
    /** Distinct subsets, sorted (empty when rows carry none). */
    subsets: string[];
    /** Truncated responses counted (null when unknown); `unknownSide`: pairs with a truncated conversation whose side was not recorded. */
    truncated: { a: number; b: number; unknownSide: number } | null;
    hasTexts: boolean;
  };
  decisions: DecisionCounts & { meanProbability: number };
  /** Null when no pair has a label. */
  accuracy: {
    labelled: number;
    accuracy: number;
    /** Accuracy of the published rule p = f(a − b), for comparison. */
    publishedAccuracy: number;
    logLoss: number;
    brier: number;
    ece: number;
  } | null;
  /** One row per leaf, in pre-order: path frequencies and per-leaf accuracy. */
  leaves: LeafRow[];
  subsets: SubsetRow[];
  importances: {
    /** The tree's impurity importances (from its training data). */
    impurity: AttributeScores;
    /** Refits on this data's labels (null without labels or with `bootstrap: 0`). */
    bootstrap: BootstrapImportances | null;
  };
  style: {
    attributes: Attribute[];
    /** Decisions whose path (either reading under the symmetric rule) tests a style attribute. */
    count: number;
    share: number;
    byAttribute: Array<{ attribute: Attribute; count: number; share: number }>;
    /** Decisions that change when the style differences are set to 0. */
    neutralChanged: number;
    neutralChangedShare: number;
    /** Accuracy on decisions decided by style / not (null without labels or pairs). */
    accuracyStyled: number | null;
    accuracyOther: number | null;
    /** RM-Bench's style matrix: present only when the rows carry response styles (`chosenStyle`/`rejectedStyle`). */
    matrix?: StyleMatrix;
  };
  calibration: { bins: ReportBin[]; ece: number; brier: number; logLoss: number; labelled: number } | null;
  positionConsistency: {
    /** Share of pairs whose published decision mirrors when A and B are swapped. */
    published: number;
    /** The rule in use (1 for the symmetric rule, by construction). */
    rule: number;
    /** Pairs whose published decision does not mirror. */
    inconsistent: number;
  };
  /** Labelled pairs the tree gets wrong, most confident first (at most the `hardest` option of them). */
  hardest: ReportExample[];
  /** How many labelled pairs the tree gets wrong (ties not counted): `hardest` lists the most confident of them. Null for a version-1 report, which did not record it. */
  hardestTotal: number | null;
  comparison: TreeComparison | null;
  /** What could not be shown and why (e.g. accuracy needs labels). */
  notes: string[];
  warnings: string[];
}

/**
 * Any report; `kind` tells which.
 *
 * @example
 * ```ts
 * if (report.kind === 'dataset') console.log(report.data.n);
 * ```
 */
export type Report = ComparisonReport | DatasetReport;

/**
 * Output formats.
 *
 * @example
 * ```ts
 * const format: ReportFormat = 'md';
 * ```
 */
export type ReportFormat = 'html' | 'md' | 'json';
