/**
 * The package's entry points, as a user meets them: `decision-tree-reward` names what a user
 * reaches for in the first hour (at most 60 runtime values); `decision-tree-reward/eval` the
 * benchmarks; `decision-tree-reward/advanced` and `decision-tree-reward/safetensors` the
 * building blocks; everything else is internal. The runtime names of each entry are listed
 * here in full, so adding or dropping one is a decision made in this file, and the main types
 * are checked with `expectTypeOf` (compile time, through `npm run typecheck`).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type * as Advanced from '../src/advanced.js';
import type * as Main from '../src/index.js';

const MAIN = [
  'ATTRIBUTES',
  'ATTRIBUTE_COUNT',
  'DtrError',
  'ERROR_CODES',
  'LinearHead',
  'NO_LABEL',
  'PreferenceTree',
  'RewardModel',
  'RewardServer',
  'SERVE_ERROR_CODES',
  'ServeError',
  'VERSION',
  'buildComparisonReport',
  'buildDatasetReport',
  'datasetInputFromModel',
  'embedToFile',
  'explain',
  'exportText',
  'fitHead',
  'fromVector',
  'inspectModelFolder',
  'listHeads',
  'listTrees',
  'makeProvenance',
  'modelComparisonReport',
  'pairMetrics',
  'positionConsistency',
  'preferenceOf',
  'probabilityOf',
  'rankAttributes',
  'readAttributePairs',
  'readComparisonFile',
  'readEvalSet',
  'readPairResults',
  'readRatedResponses',
  'readRatings',
  'renderHtml',
  'renderMarkdown',
  'renderReport',
  'scoreTextPairs',
  'scoreTrainingPairs',
  'scoreWithModel',
  'scoreWithTree',
  'selectPairs',
  'splitLabelTies',
  'splitMetrics',
  'summarizeResults',
  'trainTree',
  'validateReport',
  'writePairResults',
  'writeReport',
];

const ADVANCED = [
  'BUILTIN_TEMPLATES',
  'CUDA_INSTALL_COMMAND',
  'ChatTemplate',
  'ConversationEncoder',
  'DEFAULT_BATCH_LIMITS',
  'FULL_HASH_LIMIT',
  'HEAD_FORMAT',
  'HEAD_FORMAT_VERSION',
  'HEAD_SEMANTICS',
  'HELPSTEER2_TURN_MARKER',
  'MODEL_CONFIG_FILE',
  'MODEL_CONFIG_FORMAT',
  'MODEL_CONFIG_VERSION',
  'PACKAGE_NAME',
  'RATING_SCALE',
  'REPORT_EXTENSIONS',
  'REPORT_FORMAT',
  'REPORT_FORMAT_VERSION',
  'REWARD_CACHE_FORMAT',
  'RewardCache',
  'STYLE_ATTRIBUTES',
  'SeededRandom',
  'TARGET_FUNCTIONS',
  'TEMPLATE_SOURCES',
  'TREE_FORMAT',
  'TREE_FORMAT_VERSION',
  'TREE_SEMANTICS',
  'TextTokenizer',
  'attributeIndex',
  'augmentSwaps',
  'bootstrapImportances',
  'checkAttributeScores',
  'checkComparisonInput',
  'checkDatasetInput',
  'checkEmbeddingsForModel',
  'checkText',
  'comparisonInputFromCompared',
  'comparisonKey',
  'comparisonReportSchema',
  'compileTarget',
  'computeImportances',
  'createOrtBackbone',
  'cudaLibraryProblem',
  'currentCommandLine',
  'dataFileRecord',
  'datasetInputFromRows',
  'datasetReportSchema',
  'defaultLambdaGrid',
  'describePath',
  'describeStep',
  'difference',
  'extractPrompt',
  'fileIdentity',
  'fitRidge',
  'formatIssues',
  'isAttribute',
  'mirrorPreference',
  'modelIdentity',
  'pairResultsToJsonl',
  'parseAttributePairs',
  'parseComparisonJson',
  'parseEvalSet',
  'parsePairResults',
  'parsePairRows',
  'parseRatedResponses',
  'parseRatings',
  'preferenceOfMargin',
  'promptMessages',
  'readJsonl',
  'renderJson',
  'reportFormatFromPath',
  'reportJsonSchema',
  'reportSchema',
  'reportTree',
  'resolveHeadPath',
  'resolveTreePath',
  'ridgeHead',
  'scoreWithCache',
  'serializeModelConfig',
  'serializeTreeFile',
  'sha256',
  'sha256File',
  'streamJsonl',
  'symmetricMargin',
  'symmetricProbability',
  'templateSource',
  'toConversation',
  'toJsonl',
  'toVector',
  'tokenizeForOverlap',
  'treeFileRecord',
  'validateHeadFile',
  'validateModelConfig',
  'validateTreeFile',
  'writeFileAtomic',
];

const EVAL = [
  'EVAL_FORMATS',
  'JUDGEBENCH_CATEGORIES',
  'NO_SUBSET',
  'REWARDBENCH2_SUBSETS',
  'REWARDBENCH_SECTIONS',
  'REWARDBENCH_SUBSETS',
  'REWARDBENCH_TABLE_COUNTS',
  'RM_BENCH_DOMAINS',
  'RM_BENCH_STYLES',
  'auditJudge',
  'checkAgainst',
  'detectEvalFormat',
  'detectResultsFormat',
  'diffPairResults',
  'expectedCalibrationError',
  'findContamination',
  'judgeBenchCategoryOf',
  'parseVerdict',
  'parseVerdictRows',
  'readAuditPairs',
  'readRecordsFile',
  'readVerdicts',
  'reliability',
  'rewardBenchSectionOf',
  'rmBenchDomainOf',
  'scoreJudgeBench',
  'scoreRewardBench',
  'scoreRewardBench2',
  'scoreRmBench',
  'styleAccuracies',
  'subsetAccuracies',
  'writeFiltered',
];

const SAFETENSORS = [
  'EMBEDDINGS_FORMAT',
  'EmbeddingsWriter',
  'SAFETENSORS_DTYPES',
  'SafeTensor',
  'SafetensorsStreamWriter',
  'parseSafetensors',
  'readEmbeddingsFile',
  'readSafetensors',
  'readSafetensorsHeader',
  'serializeSafetensors',
  'writeSafetensors',
];

/** Internals that once were public or that a user might look for: in no entry point. */
const INTERNAL = [
  'escapeHtml',
  'markdownInline',
  'markdownFence',
  'padBatch',
  'planBatches',
  'poolLastToken',
  'toFloat16Bits',
  'toBfloat16Bits',
  'formatFixed',
  'checkDecisionOptions',
  'runCli',
  'lineList',
];

describe('entry points', () => {
  it('the main entry exports exactly the curated names', async () => {
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual(MAIN);
  });

  it('the main entry is a front door: at most 60 runtime values', () => {
    expect(MAIN.length).toBeLessThanOrEqual(60);
  });

  it('the eval, advanced and safetensors subpaths export exactly their names', async () => {
    expect(Object.keys(await import('../src/eval.js')).sort()).toEqual(EVAL);
    expect(Object.keys(await import('../src/advanced.js')).sort()).toEqual(ADVANCED);
    expect(Object.keys(await import('../src/safetensors.js')).sort()).toEqual(SAFETENSORS);
  });

  it('internals are in no entry point, and no name is in two', async () => {
    const all = [...MAIN, ...EVAL, ...ADVANCED, ...SAFETENSORS];
    for (const name of INTERNAL) expect(all).not.toContain(name);
    expect(new Set(all).size).toBe(all.length);
    // SeededRandom is a building block (reproducible notebooks), not a main-entry name.
    expect(MAIN).not.toContain('SeededRandom');
    // Benchmark rules and tables are under /eval, format constants and parse* twins under /advanced.
    for (const name of MAIN)
      expect(name).not.toMatch(/^(parse|REWARDBENCH|RM_BENCH|JUDGEBENCH|TREE_FORMAT|HEAD_FORMAT|REPORT_FORMAT|MODEL_CONFIG)/);
  });

  it('package.json declares each entry point, built from src/<entry>.ts', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, { types: string; import: string } | string>;
      typesVersions: unknown;
    };
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './advanced', './eval', './package.json', './safetensors']);
    // For node10 resolution, which reads no "exports".
    expect(pkg.typesVersions).toEqual({
      '*': { advanced: ['./dist/advanced.d.ts'], eval: ['./dist/eval.d.ts'], safetensors: ['./dist/safetensors.d.ts'] },
    });
    for (const [path, entry] of [
      ['.', 'index'],
      ['./eval', 'eval'],
      ['./advanced', 'advanced'],
      ['./safetensors', 'safetensors'],
    ] as const) {
      expect(pkg.exports[path]).toMatchObject({ types: `./dist/${entry}.d.ts`, import: `./dist/${entry}.js` });
    }
  });
});

/** Every name (values and types) an entry point's source exports. */
function entryNames(entry: string): Set<string> {
  const source = readFileSync(new URL(`../src/${entry}.ts`, import.meta.url), 'utf8');
  return new Set(
    [...source.matchAll(/export (?:type )?\{([^}]*)\} from/g)].flatMap((m) =>
      m[1]!
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean),
    ),
  );
}

describe('the documentation uses the entry points', () => {
  const pages = [
    'README.md',
    ...readdirSync(new URL('../docs/', import.meta.url))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
    ...readdirSync(new URL('../notebooks/', import.meta.url))
      .filter((f) => f.endsWith('.ipynb'))
      .map((f) => `notebooks/${f}`),
  ];
  /** A page's text; a notebook's is its cells' sources. */
  const pageText = (page: string): string => {
    const text = readFileSync(new URL(`../${page}`, import.meta.url), 'utf8');
    if (!page.endsWith('.ipynb')) return text;
    const cells = (JSON.parse(text) as { cells: { source: string[] | string }[] }).cells;
    return cells.map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
  };
  it.each(pages)('%s imports from the package only what each entry point exports', (page) => {
    const text = pageText(page);
    const wrong: string[] = [];
    for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'decision-tree-reward(?:\/([a-z-]+))?'/g)) {
      const entry = m[2] ?? 'index';
      expect(['index', 'eval', 'advanced', 'safetensors']).toContain(entry);
      const names = entryNames(entry);
      for (const raw of m[1]!.split(',')) {
        const name = raw.replace(/^\s*type\s+/, '').trim();
        if (name && !names.has(name)) wrong.push(`${name} from '${m[2] ? `decision-tree-reward/${m[2]}` : 'decision-tree-reward'}'`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("the main entry's types", () => {
  it('attributes: a closed set of five names, scores keyed by them', () => {
    expectTypeOf<Main.Attribute>().toEqualTypeOf<'helpfulness' | 'correctness' | 'coherence' | 'complexity' | 'verbosity'>();
    expectTypeOf<Main.AttributeScores>().toEqualTypeOf<Readonly<Record<Main.Attribute, number>>>();
    expectTypeOf<Main.Preference>().toEqualTypeOf<'a' | 'b' | 'tie'>();
  });

  it('RewardModel: async factory, scoring and comparing, explicit release', () => {
    expectTypeOf<typeof Main.RewardModel.load>().toEqualTypeOf<
      (dirOrOptions: string | Main.RewardModel.LoadOptions) => Promise<Main.RewardModel>
    >();
    expectTypeOf<Main.RewardModel.LoadOptions>().toEqualTypeOf<Main.LoadOptions>();
    expectTypeOf<Main.RewardModel['score']>().toEqualTypeOf<(prompt: Main.Prompt, response: string) => Promise<Main.ScoreResult>>();
    expectTypeOf<Main.RewardModel['compare']>().toEqualTypeOf<
      (prompt: Main.Prompt, a: string, b: string, options?: Main.RewardModel.CompareOptions) => Promise<Main.RewardModel.CompareResult>
    >();
    expectTypeOf<Main.RewardModel['compareMany']>().parameters.toEqualTypeOf<
      [items: readonly Main.RewardModel.CompareItem[], options?: Main.RewardModel.BatchOptions & Main.RewardModel.CompareOptions]
    >();
    expectTypeOf<Main.RewardModel['dispose']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<Main.CompareResult>().toMatchTypeOf<Main.Explanation>();
    expectTypeOf<Main.RewardModel.CompareOptions>().toMatchTypeOf<Main.DecisionOptions>();
    expectTypeOf<Main.RewardModel.CompareResult>().toEqualTypeOf<Main.CompareResult>();
    expectTypeOf<Main.ScoreResult['rewards']>().toEqualTypeOf<Main.AttributeScores>();
    expectTypeOf<Main.LoadOptions['paddingSide']>().toEqualTypeOf<Main.PaddingSide | undefined>();
    expectTypeOf<Main.LoadOptions['provider']>().toEqualTypeOf<Main.ProviderPreference | undefined>();
  });

  it('trees, heads and explanations', () => {
    expectTypeOf<typeof Main.PreferenceTree.load>().returns.toEqualTypeOf<Main.PreferenceTree>();
    expectTypeOf<typeof Main.PreferenceTree.fit>().parameters.toEqualTypeOf<
      [pairs: readonly Main.PreferenceTree.Pair[], options?: Main.PreferenceTree.FitOptions]
    >();
    expectTypeOf<Main.PreferenceTree['decisionPath']>().returns.toEqualTypeOf<Main.PathStep[]>();
    expectTypeOf<typeof Main.LinearHead.load>().returns.toEqualTypeOf<Main.LinearHead>();
    expectTypeOf<Main.LinearHead['toJSON']>().returns.toEqualTypeOf<Main.LinearHead.File>();
    expectTypeOf<Main.PreferenceTree.FitOptions>().toEqualTypeOf<Main.FitOptions>();
    expectTypeOf<typeof Main.explain>().toEqualTypeOf<
      (tree: Main.PreferenceTree, a: Main.AttributeScores, b: Main.AttributeScores, options?: Main.DecisionOptions) => Main.Explanation
    >();
    expectTypeOf<Main.Explanation['counterfactual']>().toEqualTypeOf<Main.Counterfactual | null>();
    expectTypeOf<typeof Main.preferenceOf>().toEqualTypeOf<(probability: number, tieBand?: number) => Main.Preference>();
  });

  it('errors, validators and reports', () => {
    expectTypeOf<Main.DtrError['code']>().toEqualTypeOf<Main.ErrorCode>();
    expectTypeOf<typeof Advanced.validateTreeFile>().returns.toEqualTypeOf<Main.TreeFileCheck>();
    expectTypeOf<typeof Main.validateReport>().returns.toEqualTypeOf<Main.ReportCheck>();
    expectTypeOf<typeof Main.buildComparisonReport>().returns.toEqualTypeOf<Main.ComparisonReport>();
    expectTypeOf<typeof Main.buildDatasetReport>().returns.toEqualTypeOf<Main.DatasetReport>();
    expectTypeOf<Main.Report>().toEqualTypeOf<Main.ComparisonReport | Main.DatasetReport>();
    expectTypeOf<Main.ReportTreeNode>().toMatchTypeOf<
      Pick<Main.TreeFileNode, 'id' | 'feature' | 'threshold' | 'left' | 'right' | 'samples' | 'share'>
    >();
  });

  it('evaluation and the build functions', () => {
    expectTypeOf<typeof Main.readEvalSet>().returns.toEqualTypeOf<Main.EvalSet>();
    expectTypeOf<typeof Main.scoreWithModel>().returns.toEqualTypeOf<Promise<Main.PairResult[]>>();
    expectTypeOf<typeof Main.summarizeResults>().returns.toEqualTypeOf<Main.EvalReport>();
    expectTypeOf<typeof Main.trainTree>().toEqualTypeOf<(pairs: Main.AttributePairs, options?: Main.TrainOptions) => Main.TrainReport>();
    expectTypeOf<typeof Main.scoreTrainingPairs>().returns.toEqualTypeOf<Promise<Main.TrainingScores>>();
    expectTypeOf<typeof Main.scoreTextPairs>().returns.toEqualTypeOf<Promise<Main.ScoredTextPairs>>();
    expectTypeOf<typeof Main.embedToFile>().returns.toEqualTypeOf<Promise<Main.EmbedToFileResult>>();
    expectTypeOf<typeof Main.fitHead>().toEqualTypeOf<(options: Main.FitHeadOptions) => Promise<Main.FitHeadResult>>();
    expectTypeOf<typeof Advanced.modelIdentity>().returns.toEqualTypeOf<Advanced.ModelIdentity>();
    expectTypeOf<typeof Main.modelComparisonReport>().returns.toEqualTypeOf<Promise<Main.ComparisonReport>>();
    expectTypeOf<typeof Main.datasetInputFromModel>().returns.toEqualTypeOf<Promise<Main.DatasetInput>>();
  });
});
