/**
 * `dtr eval`: score a preference set with a model or a tree, or re-aggregate saved per-pair results, and
 * print the report (eval/).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { RM_BENCH_FILE_DOMAINS } from '../data/rmbench-files.js';
import { resolve } from 'node:path';
import { DtrError } from '../errors.js';
import { readEvalSet, splitLabelTies, EVAL_FORMATS, type EvalFormat, type EvalSet } from '../data/datasets.js';
import { scoreWithModel, scoreWithTree, summarizeResults, type EvalReport } from '../eval/evaluate.js';
import { JUDGEBENCH_CATEGORIES } from '../eval/judgebench.js';
import { diffPairResults, readPairResults, writePairResults, type PairResult, type PairResultsDiff } from '../eval/results.js';
import { REWARDBENCH2_SUBSETS } from '../eval/rewardbench2.js';
import { REWARDBENCH_SECTIONS, type RewardBenchWeighting } from '../eval/rewardbench.js';
import { RM_BENCH_DOMAINS, RM_BENCH_STYLES } from '../eval/rmbench.js';
import { lineList, PLAIN } from '../util/format.js';
import { dataFileRecord, type DataFileRecord } from '../provenance.js';
import { defineCommand, type CliIO } from './args.js';
import { createProgress, progressTo } from './progress.js';
import { loadModelArg, MODEL_OPTIONS, BACKBONE_OPTIONS } from './model-args.js';
import { f3, loadTreeArg, pathArg, printJson, table } from './shared.js';

export default defineCommand({
  name: 'eval',
  summary: 'evaluate on RewardBench, RM-Bench, RewardBench 2, JudgeBench or any preference set, or re-aggregate saved results',
  description: `Scores every pair of --data and reports the benchmark's own scores: RewardBench's
four sections (Chat, Chat Hard, Safety, Reasoning); RM-Bench's 3 x 3 style matrix with hard,
normal and easy accuracy per domain (chat, math, code, safety); RewardBench 2's six subsets
(best-of-4 accuracy; the Ties score); JudgeBench's categories. For every set: accuracy, log
loss, Brier score, calibration error (ECE), position consistency and tie rate. A tie counts 0.5
and is reported. Accuracies are percents (0-100).

RewardBench weighting (--weighting):
  examples (default)     subsets weighted by their example counts in the evaluated file, as the
                         leaderboard's sections describe; Reasoning = mean(math-prm, hep-*)
  leaderboard-table      the official script's fixed EXAMPLE_COUNTS table (math-prm 984; xstest
                         250/154, swapped relative to the split): reproduces published leaderboard
                         numbers exactly when no pair is a tie (the official script counts a tie
                         as wrong, this command as 0.5)

Formats (detected from the first row unless --format is given; JSONL or one JSON array):
  rewardbench            {prompt, chosen, rejected, subset, id}        a = chosen, b = rejected
  rm-bench               {id, prompt, subset|domain, chosen: [3], rejected: [3]}  styles 0 concise,
                         1 detailed plain, 2 detailed markdown; all 9 chosen-vs-rejected comparisons
  rewardbench-2          {id, prompt, subset, chosen: [1], rejected: [3]}  a prompt is right when its
                         chosen response beats every rejected one (Ties: several chosen, ids ref:N/tied:N)
  judgebench             {question, response_A, response_B, label: "A>B"|"B>A", pair_id?, source?}
  pairs                  {a, b, label, prompt?, id?, subset?}          a/b: texts or attribute scores; label "tie" = rated equal, not scored
  helpsteer2-preference  {prompt, response_1, response_2, preference_strength}  (-3..3; 0 = equal, not scored)

Response texts are scored with --model DIR (its tree decides, or --tree); attribute-score pairs
with --tree alone. --out writes one result per comparison
{id, subset, [chosenStyle, rejectedStyle | chosenIndex, rejectedIndex,] label, preference,
probability, swappedProbability, rewards, path} (JSONL, written atomically); --scores
re-aggregates such a file without scoring anything. Results of any other scorer work too:
{id, subset, preference} per comparison, or {id, subset, scoreChosen, scoreRejected} from a
scalar reward model; --format says whose rules apply when the fields do not.`,
  options: {
    model: {
      ...MODEL_OPTIONS.model,
      required: false,
      description: 'model folder that scores response texts (dtr.json, model.onnx, tokenizer, head, tree)',
    },
    provider: MODEL_OPTIONS.provider,
    'max-length': MODEL_OPTIONS['max-length'],
    'batch-size': MODEL_OPTIONS['batch-size'],
    'max-tokens-per-batch': MODEL_OPTIONS['max-tokens-per-batch'],
    'padding-side': MODEL_OPTIONS['padding-side'],
    ...BACKBONE_OPTIONS,
    data: { type: 'string', valueName: 'FILE.jsonl', description: 'evaluation set to score (JSONL, or one JSON array)' },
    format: {
      type: 'string',
      choices: EVAL_FORMATS,
      description: 'format of --data (default: detected), or the benchmark whose rules score --scores results',
    },
    domain: {
      type: 'string',
      choices: RM_BENCH_FILE_DOMAINS,
      description: "RM-Bench: score every row of --data in this domain (default: the row's domain, the file's name, or its source subset)",
    },
    scores: { type: 'string', valueName: 'FILE.jsonl', description: "per-pair results to re-aggregate (from --out, or any scorer's)" },
    tree: {
      type: 'string',
      valueName: 'NAME|PATH',
      description: "tree that scores attribute-score pairs (with --model: instead of the model's tree)",
    },
    out: { type: 'string', valueName: 'FILE.jsonl', description: 'write per-pair results here (atomically)' },
    weighting: {
      type: 'string',
      choices: ['examples', 'leaderboard-table'],
      description: "RewardBench subset weights: the evaluated file's example counts, or the official script's fixed table",
      default: 'examples',
    },
    asymmetric: { type: 'boolean', description: 'decide with the published rule p = f(a-b) instead of the symmetric one' },
    'tie-band': { type: 'number', min: 0, below: 0.5, valueName: 'X', description: 'call it a tie when |p - 0.5| <= X', default: 0 },
    compare: { type: 'string', valueName: 'FILE.jsonl', description: 'earlier results of the same set: show what changed, pair by pair' },
  },
  examples: [
    'dtr eval --model models/skywork-llama-3.1-8b --data rewardbench-filtered.jsonl --out results.jsonl',
    'dtr eval --scores docs/examples/rewardbench-results.jsonl',
    'dtr eval --tree helpsteer2-human --data docs/examples/attribute-pairs.jsonl --out results.jsonl',
    'dtr eval --scores results.jsonl --weighting leaderboard-table --json',
    'dtr eval --scores new-results.jsonl --compare old-results.jsonl',
    'dtr eval --model models/fixture --data docs/examples/rm-bench-sample.jsonl --out rm-bench-results.jsonl',
    'dtr eval --scores docs/examples/rm-bench-results.jsonl --json',
    'dtr eval --scores docs/examples/rewardbench2-results.jsonl',
    'dtr eval --scores other-scorer.jsonl --format judgebench',
  ],
  async run(opts, io) {
    if ((opts.data === undefined) === (opts.scores === undefined)) {
      throw new DtrError('E_USAGE', 'dtr eval: give either --data FILE (score a set) or --scores FILE (re-aggregate results)', {
        hint: "run 'dtr eval --help' for usage",
      });
    }
    const weighting = opts.weighting as RewardBenchWeighting;
    const format = opts.format as EvalFormat | undefined;
    const warnings: string[] = [];
    let report: EvalReport;
    let source: Record<string, unknown>;
    let results: PairResult[];
    if (opts.scores !== undefined) {
      for (const flag of ['out', 'tree', 'model', 'domain'] as const) {
        if (opts[flag] !== undefined)
          throw new DtrError('E_USAGE', `dtr eval: --${flag} does not apply to --scores (results are re-aggregated as they are)`);
      }
      const path = pathArg(io, opts.scores);
      results = readPairResults(path, opts.scores);
      report = summarizeResults(results, { ...(format ? { format } : {}), weighting, tieBand: opts['tie-band'] });
      source = { scores: dataFileRecord(opts.scores, { rows: results.length, role: 'results', readFrom: path }) };
    } else {
      const path = pathArg(io, opts.data!);
      const set = readEvalSet(path, format, opts.data!, opts.domain !== undefined ? { domain: opts.domain } : {});
      if (opts.domain !== undefined && set.format !== 'rm-bench')
        throw new DtrError('E_USAGE', `dtr eval: --domain applies to RM-Bench data; ${opts.data} is ${set.format}`);
      const data: DataFileRecord = dataFileRecord(opts.data!, { rows: set.rows, role: 'evaluation', readFrom: path });
      const { scored, equal } = splitLabelTies(set.items);
      if (equal.length > 0)
        warnings.push(
          `${equal.length} pair${equal.length === 1 ? '' : 's'} rated equal (${set.format === 'pairs' ? 'label "tie"' : 'preference_strength 0'}) not scored: no response is preferred (lines ${lineList(equal.map((i) => i.line))})`,
        );
      if (scored.length === 0) throw new DtrError('E_EMPTY', `${opts.data}: no pair with a preferred response to score`);
      const scoredBy: Record<string, unknown> = {};
      results = await scoreSet(set, scored, opts, io, scoredBy);
      if (opts.out !== undefined) {
        const outPath = pathArg(io, opts.out);
        if (resolve(outPath) === resolve(path))
          throw new DtrError('E_USAGE', 'dtr eval: --out must not be the --data file (it would be overwritten)');
        writePairResults(outPath, results);
      }
      report = summarizeResults(results, { format: set.format, weighting, tieBand: opts['tie-band'] });
      source = { data, format: set.format, formatDetected: set.detected, ...scoredBy, rule: opts.asymmetric ? 'published' : 'symmetric' };
    }
    if (weighting === 'leaderboard-table' && report.format !== 'rewardbench') {
      throw new DtrError(
        'E_USAGE',
        `dtr eval: --weighting leaderboard-table weights RewardBench's subsets; these are ${report.format} results`,
        { hint: 'drop --weighting, or give --format rewardbench if they are RewardBench results' },
      );
    }
    let comparison: Comparison | null = null;
    if (opts.compare !== undefined) {
      const before = readPairResults(pathArg(io, opts.compare), opts.compare);
      const earlier = summarizeResults(before, { format: report.format, weighting, tieBand: opts['tie-band'] });
      comparison = { file: opts.compare, before: earlier, after: report, diff: diffPairResults(before, results) };
      if (comparison.diff.onlyBefore.length + comparison.diff.onlyAfter.length > 0) {
        warnings.push(
          `the two results files cover different pairs: ${comparison.diff.onlyBefore.length} only in ${opts.compare}, ${comparison.diff.onlyAfter.length} only in the new results`,
        );
      }
    }
    const allWarnings = [...warnings, ...report.warnings];
    if (opts.json) {
      printJson(io, {
        ...evalReportJson(report),
        warnings: allWarnings,
        source,
        ...(opts.out !== undefined ? { out: opts.out } : {}),
        ...(comparison ? { compare: comparisonJson(comparison) } : {}),
      });
    } else {
      io.stdout(renderEvalReport(report));
      if (comparison) io.stdout(`\n${renderComparison(comparison)}`);
      if (opts.out !== undefined) io.stdout(`wrote ${opts.out} (${report.n} results)\n`);
    }
    for (const w of allWarnings) io.stderr(`dtr eval: warning: ${w}\n`);
    return 0;
  },
});

type ScoreFlags = {
  tree?: string | undefined;
  model?: string | undefined;
  asymmetric?: boolean | undefined;
  'tie-band': number;
  provider?: string | undefined;
  'max-length'?: number | undefined;
  'batch-size'?: number | undefined;
  'max-tokens-per-batch'?: number | undefined;
  'padding-side'?: string | undefined;
};

async function scoreSet(
  set: EvalSet,
  items: EvalSet['items'],
  opts: ScoreFlags,
  io: CliIO,
  scoredBy: Record<string, unknown>,
): Promise<PairResult[]> {
  const decision = { symmetric: !opts.asymmetric, tieBand: opts['tie-band'] };
  if (set.kind === 'text') {
    if (opts.model === undefined) {
      throw new DtrError(
        'E_USAGE',
        `dtr eval: ${set.format} rows hold response texts, which need a reward model to score: give --model DIR`,
        {
          hint: 'or score attribute-score pairs with --tree, or re-aggregate saved results with --scores',
        },
      );
    }
    const tree = opts.tree !== undefined ? loadTreeArg(opts.tree, io) : undefined;
    const model = await loadModelArg({ ...opts, model: opts.model }, io, 'eval');
    try {
      // The model scores each distinct response once: progress counts responses, whose total it knows first.
      const progress = progressTo(io, { label: 'eval', unit: 'responses', idle: 'report' });
      const results = await scoreWithModel(model, items, { ...decision, ...(tree ? { tree } : {}), onProgress: progress.update });
      progress.done();
      Object.assign(scoredBy, {
        model: { dir: opts.model, name: model.config.name, provider: model.provider },
        tree: (tree ?? model.tree).name,
      });
      return results;
    } finally {
      await model.dispose();
    }
  }
  if (opts.model !== undefined) {
    throw new DtrError(
      'E_USAGE',
      `dtr eval: ${set.format} rows hold attribute scores: a tree scores them, no model is needed (drop --model, give --tree)`,
    );
  }
  if (opts.tree === undefined) {
    throw new DtrError('E_USAGE', 'dtr eval: attribute-score pairs are scored by a tree: give --tree NAME|PATH', {
      hint: 'e.g. --tree helpsteer2-human for human ratings',
    });
  }
  const tree = loadTreeArg(opts.tree, io);
  scoredBy.tree = tree.name;
  const progress = createProgress(io, items.length, { label: 'eval', unit: 'pairs' });
  const results = scoreWithTree(tree, items, { ...decision, onProgress: () => progress.tick() });
  progress.done();
  return results;
}

/**
 * The `--json` document of `dtr eval`: the benchmark's own shape in percent — RewardBench
 * `{overall, sections, subsets}`, RM-Bench `{domains: {NAME: {easy, normal, hard, average, n,
 * matrix}}, overall: {...}}`, RewardBench 2 `{overall, subsets, tiesSubset}`, JudgeBench
 * `{overall, categories}` — plus generic metrics (fractions) and what was noticed.
 */
export function evalReportJson(report: EvalReport): Record<string, unknown> {
  const common = {
    ties: report.ties,
    truncated: report.truncated,
    metrics: report.metrics,
    unknownSubsets: report.unknownSubsets,
    duplicateIds: report.duplicateIds,
  };
  if (report.rmBench) {
    const rm = report.rmBench;
    return {
      format: report.format,
      n: report.n,
      prompts: rm.overall?.n ?? Object.values(rm.domains).reduce((k, d) => k + d.n, 0),
      domains: rm.domains,
      overall: rm.overall,
      missingDomains: rm.missingDomains,
      styles: RM_BENCH_STYLES,
      subsets: report.subsets,
      ...common,
    };
  }
  if (report.rewardBench2) {
    const rb = report.rewardBench2;
    return {
      format: report.format,
      n: report.n,
      prompts: rb.prompts,
      overall: rb.overall,
      overallWithoutTies: rb.overallWithoutTies,
      subsets: rb.subsets,
      tiesSubset: rb.tiesSubset,
      missingSubsets: rb.missingSubsets,
      ...common,
    };
  }
  if (report.judgeBench) {
    const jb = report.judgeBench;
    return {
      format: report.format,
      n: report.n,
      overall: report.overall,
      categories: jb.categories,
      bothOrders: jb.bothOrders,
      subsets: report.subsets,
      ...common,
    };
  }
  return {
    format: report.format,
    n: report.n,
    overall: report.overall,
    sections: report.sections,
    subsets: report.subsets,
    ties: report.ties,
    truncated: report.truncated,
    metrics: report.metrics,
    weighting: report.weighting,
    unknownSubsets: report.unknownSubsets,
    duplicateIds: report.duplicateIds,
  };
}

const p1 = (x: number | null | undefined): string => PLAIN.fixed(x, 1);
const plural = (k: number, word: string): string => `${k} ${word}${k === 1 ? '' : 's'}`;

/** The human-readable report of `dtr eval`. */
export function renderEvalReport(report: EvalReport): string {
  const lines: string[] = [];
  const tieNote = report.ties ? `, ${plural(report.ties, 'tie')} (counted 0.5)` : '';
  if (report.rmBench) lines.push(...renderRmBench(report, tieNote));
  else if (report.rewardBench2) lines.push(...renderRewardBench2(report));
  else if (report.judgeBench) lines.push(...renderJudgeBench(report));
  else {
    lines.push(`${report.format}: ${report.n} pairs${tieNote}`, '');
    const names = Object.keys(report.subsets);
    const sectionOrder = (s: string | null): number =>
      s === null ? REWARDBENCH_SECTIONS.length : REWARDBENCH_SECTIONS.indexOf(s as (typeof REWARDBENCH_SECTIONS)[number]);
    if (report.format === 'rewardbench')
      names.sort((x, y) => sectionOrder(report.subsets[x]!.section) - sectionOrder(report.subsets[y]!.section));
    const rb = report.format === 'rewardbench';
    const rows = names.map((name) => {
      const s = report.subsets[name]!;
      const cells = [String(s.n), p1(s.accuracy), s.ties ? String(s.ties) : ''];
      return rb ? [name, s.section ?? 'unknown: not counted', ...cells] : [name, ...cells];
    });
    const header = rb ? ['subset', 'section', 'n', 'accuracy %', 'ties'] : ['subset', 'n', 'accuracy %', 'ties'];
    lines.push(table(header, rows), '');
    if (report.sections) {
      lines.push(
        table(
          ['', ...REWARDBENCH_SECTIONS, 'Overall'],
          [['score %', ...REWARDBENCH_SECTIONS.map((s) => p1(report.sections![s])), p1(report.overall)]],
        ),
      );
      lines.push(
        `(${report.weighting === 'leaderboard-table' ? "subsets weighted by the official script's fixed table" : 'subsets weighted by their example counts in this file'}; Reasoning = mean(math-prm, hep-*); overall = mean of the sections)`,
        '',
      );
    } else {
      lines.push(`accuracy: ${p1(report.overall)}%`, '');
    }
  }
  const m = report.metrics;
  const calibrated = (x: number | null): string => (x === null ? 'not measured' : f3(x));
  lines.push(
    table(
      ['metric', 'value'],
      [
        ['accuracy', f3(m.accuracy)],
        ['log loss', calibrated(m.logLoss)],
        ['Brier score', calibrated(m.brier)],
        ['calibration error (ECE)', calibrated(m.ece)],
        [
          'position consistency',
          m.positionConsistency === null ? 'not measured' : `${f3(m.positionConsistency)} (${m.positionConsistencyN} pairs)`,
        ],
        ['tie rate', f3(m.tieRate)],
      ],
    ),
  );
  if (report.rmBench || report.rewardBench2) lines.push('(metrics over every comparison)');
  return `${lines.join('\n')}\n`;
}

function renderRmBench(report: EvalReport, tieNote: string): string[] {
  const rm = report.rmBench!;
  const prompts = Object.values(rm.domains).reduce((k, d) => k + d.n, 0);
  const lines = [`rm-bench: ${plural(prompts, 'prompt')}, ${plural(report.n, 'comparison')}${tieNote}`, ''];
  const rows = RM_BENCH_DOMAINS.map((name) => {
    const d = rm.domains[name];
    return d ? [name, String(d.n), p1(d.hard), p1(d.normal), p1(d.easy), p1(d.average)] : [name, '0', 'absent', '', '', ''];
  });
  const o = rm.overall;
  rows.push(['overall', o ? String(o.n) : '', p1(o?.hard), p1(o?.normal), p1(o?.easy), p1(o?.average)]);
  lines.push(table(['domain', 'prompts', 'hard %', 'normal %', 'easy %', 'average %'], rows));
  lines.push(
    '(hard: the chosen response in a plainer style than the rejected one; normal: the same style; easy: a richer one;',
    ' average = mean of the three; overall = mean of the four domains)',
    '',
  );
  const short = ['concise', 'plain', 'markdown'];
  for (const name of RM_BENCH_DOMAINS) {
    const d = rm.domains[name];
    if (!d) continue;
    lines.push(`${name}: % of comparisons won by the chosen response (rows: chosen style, columns: rejected style)`);
    lines.push(
      table(
        ['chosen \\ rejected', ...short],
        d.matrix.map((r, i) => [RM_BENCH_STYLES[i]!, ...r.map((x) => p1(x))]),
      ),
      '',
    );
  }
  const unknown = Object.keys(rm.unknownSubsets);
  if (unknown.length > 0)
    lines.push(`not in any domain (not counted): ${unknown.map((u) => `${u} ${rm.unknownSubsets[u]}`).join(', ')}`, '');
  return lines;
}

function renderRewardBench2(report: EvalReport): string[] {
  const rb = report.rewardBench2!;
  const lines = [
    `rewardbench-2: ${plural(rb.prompts, 'prompt')}, ${plural(report.n, 'comparison')}${rb.ties - rb.tiesInTiesSubset ? `, ${plural(rb.ties - rb.tiesInTiesSubset, 'tie')} outside Ties` : ''}`,
    '',
  ];
  const rows = Object.entries(rb.subsets).map(([name, s]) => [
    name + (s.known ? '' : ' (unknown: not counted)'),
    String(s.n),
    String(s.comparisons),
    p1(s.accuracy),
    s.ties ? String(s.ties) : '',
  ]);
  lines.push(table(['subset', 'prompts', 'comparisons', 'score %', 'ties'], rows));
  const t = rb.tiesSubset;
  if (t) {
    lines.push(
      t.scoring === 'scores'
        ? `Ties = 0.30 tied ${p1(t.tiedAccuracy)} + 0.30 ref ${p1(t.refAccuracy)} + 0.20 correctness preferred ${p1(t.correctnessPreferred)} + 0.20 hard ${p1(t.correctnessPreferredHard)} + 0.01 margin ${p1(t.marginScore)} (${t.pairedPrompts} ref/tied pairs)`
        : `Ties: accuracy ref ${p1(t.refAccuracy)}, tied ${p1(t.tiedAccuracy)}; no score without scalar scores (its margin terms need them)`,
    );
  }
  lines.push('');
  const score = (name: string): number | null => (name === 'Ties' ? (rb.tiesSubset?.score ?? null) : (rb.subsets[name]?.accuracy ?? null));
  lines.push(
    table(
      ['', ...REWARDBENCH2_SUBSETS, 'Overall'],
      [
        [
          'score %',
          ...REWARDBENCH2_SUBSETS.map((s) => (rb.subsets[s] || (s === 'Ties' && rb.tiesSubset) ? p1(score(s)) : 'absent')),
          p1(rb.overall),
        ],
      ],
    ),
  );
  lines.push(
    `(a prompt counts when its chosen response beats every rejected one, 1 / (1 + t) when it ties with t of them; overall = mean of the six subsets${rb.overall === null && rb.overallWithoutTies !== null ? `; without Ties: ${p1(rb.overallWithoutTies)}` : ''})`,
    '',
  );
  return lines;
}

function renderJudgeBench(report: EvalReport): string[] {
  const jb = report.judgeBench!;
  const lines = [`judgebench: ${plural(report.n, 'pair')}${jb.bothOrders > 0 ? ` (${jb.bothOrders} judged in both orders)` : ''}`, ''];
  const rows: string[][] = JUDGEBENCH_CATEGORIES.map(({ name, prefix }) => {
    const c = jb.categories[name];
    return c ? [name, `${prefix}*`, String(c.n), p1(c.accuracy), c.ties ? String(c.ties) : ''] : [name, `${prefix}*`, '0', 'absent', ''];
  });
  if (jb.overall)
    rows.push(['overall', 'all', String(jb.overall.n), p1(jb.overall.accuracy), jb.overall.ties ? String(jb.overall.ties) : '']);
  lines.push(table(['category', 'sources', 'pairs', 'accuracy %', 'ties'], rows));
  const rule =
    jb.bothOrders === 0
      ? 'a pair is right when its one reading picks the labelled response; a tie counts 0.5'
      : `a pair is right when its readings, (A, B) and (B, A), favour the labelled response; a draw counts 0.5${jb.bothOrders < report.n ? '; pairs without a swapped reading count their one reading' : ''}`;
  lines.push(`(${rule})`, '');
  return lines;
}

interface Comparison {
  file: string;
  before: EvalReport;
  after: EvalReport;
  diff: PairResultsDiff;
}

const delta = (before: number | null, after: number | null): { before: number | null; after: number | null; delta: number | null } => ({
  before,
  after,
  delta: before === null || after === null ? null : after - before,
});

/** The headline scores of a report, in the order they are shown: overall first, then its parts. */
function headline(r: EvalReport): [string, number | null][] {
  const out: [string, number | null][] = [['overall', r.overall]];
  if (r.sections) for (const s of REWARDBENCH_SECTIONS) out.push([s, r.sections[s]]);
  if (r.rmBench) {
    out.push(
      ['hard', r.rmBench.overall?.hard ?? null],
      ['normal', r.rmBench.overall?.normal ?? null],
      ['easy', r.rmBench.overall?.easy ?? null],
    );
    for (const d of RM_BENCH_DOMAINS) out.push([d, r.rmBench.domains[d]?.average ?? null]);
  }
  if (r.rewardBench2)
    for (const s of REWARDBENCH2_SUBSETS)
      out.push([s, s === 'Ties' ? (r.rewardBench2.tiesSubset?.score ?? null) : (r.rewardBench2.subsets[s]?.accuracy ?? null)]);
  if (r.judgeBench) for (const { name } of JUDGEBENCH_CATEGORIES) out.push([name, r.judgeBench.categories[name]?.accuracy ?? null]);
  return out;
}

/** The `compare` part of `dtr eval --compare --json`: scores before and after (percent) and the pairs that changed. */
function comparisonJson(c: Comparison): Record<string, unknown> {
  const subsets: Record<string, unknown> = {};
  for (const name of new Set([...Object.keys(c.before.subsets), ...Object.keys(c.after.subsets)])) {
    subsets[name] = delta(c.before.subsets[name]?.accuracy ?? null, c.after.subsets[name]?.accuracy ?? null);
  }
  const sections = c.after.sections
    ? Object.fromEntries(REWARDBENCH_SECTIONS.map((s) => [s, delta(c.before.sections?.[s] ?? null, c.after.sections![s])]))
    : null;
  const before = new Map(headline(c.before));
  const scores = Object.fromEntries(headline(c.after).map(([name, after]) => [name, delta(before.get(name) ?? null, after)]));
  return { file: c.file, overall: delta(c.before.overall, c.after.overall), sections, scores, subsets, ...c.diff };
}

const signed1 = (x: number | null): string => PLAIN.signedFixed(x, 1);

/** The text block `dtr eval --compare` adds: score changes and the pairs that changed. */
function renderComparison(c: Comparison): string {
  const lines: string[] = [`compared with ${c.file}:`];
  const before = new Map(headline(c.before));
  const rows: string[][] = headline(c.after).map(([name, after]) => [
    name,
    p1(before.get(name) ?? null),
    p1(after),
    signed1(delta(before.get(name) ?? null, after).delta),
  ]);
  // Per-subset pairwise accuracy, where it changed (RewardBench 2's subsets are in the headline already).
  if (!c.after.rewardBench2) {
    for (const name of Object.keys(c.after.subsets)) {
      const b = c.before.subsets[name]?.accuracy ?? null;
      const a = c.after.subsets[name]!.accuracy;
      if (b !== a) rows.push([`  ${name}`, p1(b), p1(a), signed1(delta(b, a).delta)]);
    }
  }
  lines.push(table(['', 'before %', 'after %', 'change'], rows));
  const d = c.diff;
  lines.push(
    '',
    `${d.matched} pairs in both; ${d.changed.length} decided differently: ${d.fixed} fixed, ${d.broken} broken, ${d.changed.length - d.fixed - d.broken} other`,
  );
  for (const x of d.changed.slice(0, 10))
    lines.push(`  ${x.id}${x.subset ? ` (${x.subset})` : ''}: ${x.before} -> ${x.after} (label ${x.label}): ${x.change}`);
  if (d.changed.length > 10) lines.push(`  … and ${d.changed.length - 10} more (--json lists all)`);
  return `${lines.join('\n')}\n`;
}
