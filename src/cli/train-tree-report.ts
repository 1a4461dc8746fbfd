/**
 * What `dtr train-tree` prints: the training report as text and as its `--json` document, and
 * the summary of text pairs scored with `--model` (cli/train-tree.ts parses, calls
 * workflows/train-tree.ts, and prints through these).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { ATTRIBUTES } from '../attributes.js';
import type { RewardModel } from '../model/reward-model.js';
import { exact } from '../util/format.js';
import type { ScoredTextPairs } from '../workflows/score-pairs.js';
import type { SplitMetrics, TrainingScores, TrainReport } from '../workflows/train-tree.js';
import { f3, table } from './shared.js';

/** The `--json` document of `dtr train-tree`. */
export function trainReportJson(report: TrainReport, out: string): Record<string, unknown> {
  return {
    out,
    n: { train: report.trainN, validation: report.validationN },
    train: report.train,
    validation: report.validation,
    importances: report.importances,
    bootstrap: report.bootstrap,
    warnings: report.warnings,
    tree: exact(report.tree.toJSON()), // the artifact, as written: full precision
    text: report.tree.exportText({ details: true }),
  };
}

/** The human-readable report of `dtr train-tree`. */
export function renderTrainReport(report: TrainReport, out: string): string {
  const t = report.tree;
  const lines: string[] = [];
  lines.push(
    `fitted ${t.name}: ${t.criterion}, max depth ${t.params.maxDepth}, ${t.leaves().length} leaves, on ${report.trainN} pairs${report.validationN ? `, validated on ${report.validationN}` : ''}`,
  );
  lines.push('');
  const metric = (m: SplitMetrics | null, key: keyof SplitMetrics): string => (m ? f3(m[key] as number) : '-');
  const rows: Array<[string, keyof SplitMetrics]> = [
    ['accuracy', 'accuracy'],
    ['accuracy (symmetric rule)', 'symmetricAccuracy'],
    ['log loss', 'logLoss'],
    ['Brier score', 'brier'],
    ['calibration error (ECE)', 'ece'],
    ['position consistency', 'positionConsistency'],
  ];
  lines.push(
    table(
      ['', 'train', 'validation'],
      rows.map(([label, key]) => [label, metric(report.train, key), metric(report.validation, key)]),
    ),
  );
  lines.push('');
  lines.push('importances (impurity decrease):');
  const boot = report.bootstrap;
  const impRows = ATTRIBUTES.map((a) => {
    const row = [a, f3(report.importances[a])];
    if (boot) row.push(`${f3(boot.mean[a])} ± ${f3(boot.std[a])}`, `[${f3(boot.lower[a])}, ${f3(boot.upper[a])}]`, f3(boot.rootShare[a]));
    return row;
  });
  const header = boot ? ['', 'tree', `bootstrap mean (${boot.refits} refits)`, '95% interval', 'root share'] : ['', 'tree'];
  lines.push(table(header, impRows).replace(/^/gm, '  '));
  lines.push('', 'tree:', t.exportText({ details: true }).trimEnd(), '', `wrote ${out}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The text and `--json` parts of text pairs scored with a model: per file, its pairs, distinct
 * conversations, cache hits, backbone runs, ties and truncations.
 */
export function scoringReport(
  model: RewardModel,
  s: TrainingScores,
  where: { dir: string; cache: string; files: readonly string[] },
): { summary: string; json: Record<string, unknown> } {
  const parts: Array<[string, ScoredTextPairs]> = [
    [where.files[0]!, s.train],
    ...(s.validation ? [[where.files[1]!, s.validation] as [string, ScoredTextPairs]] : []),
  ];
  const counts = (p: ScoredTextPairs): Record<string, unknown> => ({
    pairs: p.pairs.n,
    ties: p.ties.length,
    tieLines: p.ties.map((t) => t.line),
    conversations: p.conversations,
    distinct: p.distinct,
    cacheHits: p.cacheHits,
    computed: p.computed,
    truncatedPairs: p.truncatedLines.length,
    truncatedLines: p.truncatedLines,
  });
  const describe = (file: string, p: ScoredTextPairs): string =>
    `${file}: ${p.pairs.n} pairs (${p.distinct} distinct conversations): ${p.cacheHits} from the cache, ${p.computed} run through the backbone; ${p.ties.length} tie${p.ties.length === 1 ? '' : 's'} skipped; ${p.truncatedLines.length} truncated`;
  const summary = [
    `scored with ${model.config.name} (${model.provider}, backbone ${model.config.backbone.id}${model.head ? `, head ${model.head.name}` : ''}), cache ${s.cache === null ? 'off' : where.cache}:`,
    ...parts.map(([file, p]) => `  ${describe(file, p)}`),
  ].join('\n');
  const json = {
    model: {
      dir: where.dir,
      name: model.config.name,
      backbone: model.config.backbone.id,
      head: model.head?.name ?? null,
      identity: s.identity.rewards,
      provider: model.provider,
      maxLength: model.maxLength,
    },
    cache: s.cache === null ? null : { dir: where.cache, path: s.cache.path, entries: s.cache.entries },
    train: counts(s.train),
    validation: s.validation ? counts(s.validation) : null,
  };
  return { summary, json };
}
