/**
 * decision-tree-reward/eval: the benchmarks' rules and everything around scoring a preference
 * set that the main entry leaves out. RewardBench (sections, subset weighting, the official
 * table counts), RM-Bench (domains, the 3x3 style matrix), RewardBench 2 (best-of-4, Ties) and
 * JudgeBench, each following the official code it cites; the benchmark layouts a preference set
 * is read in; calibration; comparing two runs' per-pair results; decontamination of training
 * prompts against a benchmark; and audits of an LLM judge's verdicts against a tree.
 *
 * The evaluation workflow itself (`readEvalSet`, `scoreWithModel`, `summarizeResults`,
 * `readPairResults`, `writePairResults`) is in the main entry, `decision-tree-reward`.
 *
 * May import: any module of src/ (an entry point sits above every layer); it defines nothing itself.
 *
 * @example
 * ```ts
 * import { readPairResults, summarizeResults } from 'decision-tree-reward';
 * import { scoreRmBench } from 'decision-tree-reward/eval';
 * const rows = readPairResults('docs/examples/rm-bench-results.jsonl');
 * summarizeResults(rows).rmBench?.overall?.average; // percent, as the report prints it
 * scoreRmBench([{ subset: 'safety-refuse', chosenStyle: 0, rejectedStyle: 2, preference: 'b' }]).domains.safety?.matrix[0]![2]; // 0
 * ```
 *
 * @packageDocumentation
 */

// Preference sets: the benchmark layouts they are read in.
export { EVAL_FORMATS, detectEvalFormat } from './data/datasets.js';

// Calibration, and the layout of a results file.
export { reliability, expectedCalibrationError } from './eval/metrics.js';
export type { ReliabilityBin, PairMetricsOptions } from './eval/metrics.js';
export { detectResultsFormat } from './eval/evaluate.js';
export type { PreferenceSetMetrics } from './eval/evaluate.js';

// RewardBench.
export {
  REWARDBENCH_SECTIONS,
  REWARDBENCH_SUBSETS,
  REWARDBENCH_TABLE_COUNTS,
  NO_SUBSET,
  rewardBenchSectionOf,
  scoreRewardBench,
  subsetAccuracies,
} from './eval/rewardbench.js';
export type { RewardBenchSection, RewardBenchWeighting, RewardBenchRow, RewardBenchScores, SubsetScore } from './eval/rewardbench.js';

// RM-Bench.
export { RM_BENCH_DOMAINS, RM_BENCH_STYLES, rmBenchDomainOf, scoreRmBench, styleAccuracies } from './eval/rmbench.js';
export type { RmBenchDomain, RmBenchRow, RmBenchAccuracies, RmBenchDomainScore, RmBenchScores } from './eval/rmbench.js';

// RewardBench 2.
export { REWARDBENCH2_SUBSETS, scoreRewardBench2 } from './eval/rewardbench2.js';
export type {
  RewardBench2Subset,
  RewardBench2Row,
  RewardBench2SubsetScore,
  RewardBench2TiesScore,
  RewardBench2Scores,
} from './eval/rewardbench2.js';

// JudgeBench.
export { JUDGEBENCH_CATEGORIES, judgeBenchCategoryOf, scoreJudgeBench } from './eval/judgebench.js';
export type { JudgeBenchCategory, JudgeBenchRow, JudgeBenchScore, JudgeBenchScores } from './eval/judgebench.js';

// Two runs' per-pair results side by side (`dtr eval --compare`).
export { diffPairResults } from './eval/results.js';
export type { PairResultRow, ChangedPair, PairResultsDiff } from './eval/results.js';

// Decontamination: training prompts against a benchmark's.
export { readRecordsFile, findContamination, writeFiltered, checkAgainst } from './eval/decontaminate.js';
export type {
  PromptRecord,
  RecordsFile,
  ReadRecordsOptions,
  ContaminationMatch,
  ContaminationReport,
  AgainstCheck,
} from './eval/decontaminate.js';

// Judge audits: an LLM judge's verdicts against a tree's decisions.
export { parseVerdict } from './eval/verdicts.js';
export type { JudgeVerdict, VerdictFormat, ParsedVerdict, UnreadableReason } from './eval/verdicts.js';
export { auditJudge, readVerdicts, parseVerdictRows, readAuditPairs } from './eval/audit.js';
export type { AuditOptions, AuditReport, VerdictRow, UnparseableVerdict } from './eval/audit.js';
