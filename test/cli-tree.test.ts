/** `dtr explain`, `dtr export-text` and `dtr train-tree`, including every bad input the tree issue names. */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PreferenceTree } from '../src/tree/preference-tree.js';
import { dtr, dtrBinary } from './support/cli.js';
import { syntheticPairRows } from './support/data.js';
import { tempDir as suiteTempDir } from './support/temp.js';

const A = '{"helpfulness":3.9603815,"correctness":3.9727726,"coherence":3.8582935,"complexity":0.9909791,"verbosity":1.4901903}';
const B = '{"helpfulness":2.1698856,"correctness":2.2035594,"coherence":3.2032843,"complexity":0.8786768,"verbosity":1.4569137}';

function tempDir(): string {
  return suiteTempDir('dtr-cli-');
}

function writePairs(dir: string, name: string, rows: unknown[] | string): string {
  const path = join(dir, name);
  writeFileSync(path, typeof rows === 'string' ? rows : rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

describe('dtr explain', () => {
  it('answers the model card example: a, 0.986, helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121', async () => {
    const r = await dtr(['explain', '--tree', 'rlhflow-llama-3.1-8b', '--a', A, '--b', B]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('preference: a (A preferred)');
    expect(r.stdout).toContain('probability: 0.986');
    expect(r.stdout).toContain('path: helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121 → leaf 14');
    expect(r.stderr).toBe('');
  });

  it('--example is the same comparison; --json prints one JSON document', async () => {
    const r = await dtr(['explain', '--example', '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ tree: 'rlhflow-llama-3.1-8b', preference: 'a', probability: 0.986, leaf: { node: 14 } });
    expect(doc.path.map((s: { attribute: string; went: string; threshold: number }) => `${s.attribute} ${s.went} ${s.threshold}`)).toEqual([
      'helpfulness right 0.019',
      'correctness right 0.303',
      'helpfulness right 1.121',
    ]);
  });

  it('--asymmetric reproduces the published rule (equal responses: b with 0.196)', async () => {
    const same = '{"helpfulness":2,"correctness":2,"coherence":2,"complexity":2,"verbosity":2}';
    const pub = JSON.parse((await dtr(['explain', '--a', same, '--b', same, '--asymmetric', '--json'])).stdout);
    expect(pub).toMatchObject({ preference: 'b', probability: 0.196 });
    const sym = JSON.parse((await dtr(['explain', '--a', same, '--b', same, '--json'])).stdout);
    expect(sym).toMatchObject({ preference: 'tie', probability: 0.5 });
  });

  it('reads scores from @file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.json'), A);
    writeFileSync(join(dir, 'b.json'), B);
    const r = await dtr(['explain', '--a', '@a.json', '--b', '@b.json', '--json'], { cwd: dir });
    expect(JSON.parse(r.stdout).preference).toBe('a');
  });

  it('turns bad input into one readable line and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp, number]> = [
      [['explain', '--a', '{"helpfulness":1}', '--b', B], /^dtr: --a: missing attribute 'correctness'; missing attribute 'coherence'/, 2],
      [['explain', '--a', A.replace('0.9909791', '"high"'), '--b', B], /--a: 'complexity' must be a number, got the string "high"/, 2],
      [['explain', '--a', A.replace('verbosity', 'length'), '--b', B], /--a: missing attribute 'verbosity'; unknown attribute 'length'/, 2],
      [['explain', '--a', 'not json', '--b', B], /--a must be a JSON object of the five attributes/, 2],
      [['explain', '--a', A], /--a and --b are required/, 2],
      [['explain', '--example', '--tre', 'x'], /unknown option '--tre' \(did you mean --tree\?\)/, 2],
      [
        ['explain', '--example', '--tree', 'llama'],
        /^dtr: unknown tree 'llama'; shipped trees: helpsteer2-human, rlhflow-gemma-2-27b, rlhflow-llama-3.1-8b — or give a path to a tree file\n$/,
        1,
      ],
      [['explain', '--example', '--tie-band', 'wide'], /--tie-band must be a number in \[0, 0\.5\), got 'wide'/, 2],
      [['explain', '--example', '--tie-band', '-0.1'], /--tie-band must be a number in \[0, 0\.5\), got -0\.1/, 2], // the value, not "ambiguous"
      [['nonsense'], /unknown command 'nonsense'/, 2],
    ];
    for (const [argv, pattern, code] of cases) {
      const r = await dtr(argv);
      expect(r.stderr, argv.join(' ')).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.stdout).toBe('');
    }
  });

  it('--help documents every flag; --verbose shows the detail of an invalid tree file', async () => {
    const help = await dtr(['explain', '--help']);
    for (const flag of ['--tree', '--a', '--b', '--asymmetric', '--tie-band', '--json', '--verbose', '--example'])
      expect(help.stdout).toContain(flag);
    const dir = tempDir();
    const bad = JSON.parse(readFileSync(new URL('../trees/helpsteer2-human.json', import.meta.url), 'utf8'));
    bad.nodes[2].left = 40;
    bad.nodes[4].value = [2, -1];
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    const short = await dtr(['explain', '--example', '--tree', 'bad.json'], { cwd: dir });
    expect(short.code).toBe(1);
    expect(short.stderr.trim().split('\n')).toHaveLength(1);
    expect(short.stderr).toMatch(/bad\.json is not a valid tree file \(4 problems\)/);
    const verbose = await dtr(['explain', '--example', '--tree', 'bad.json', '--verbose'], { cwd: dir });
    expect(verbose.stderr).toMatch(/nodes\[2\]\.left: child index 40 is not a node/);
    expect(verbose.stderr).toMatch(/nodes\[4\]\.value\[0\]: probability must be <= 1/);
  });
});

describe('dtr export-text', () => {
  it('prints the tree with probabilities, or plain scikit-learn text', async () => {
    const r = await dtr(['export-text', '--tree', 'rlhflow-gemma-2-27b']);
    expect(r.stdout.split('\n')[0]).toBe('|--- helpfulness <= 0.030');
    expect(r.stdout).toContain('|   |   |   |--- class: b  (P(a) = 0.012, 14.7% of pairs)');
    const plain = await dtr(['export-text', '--tree', 'rlhflow-gemma-2-27b', '--plain', '--decimals', '2']);
    expect(plain.stdout).toBe(PreferenceTree.load('rlhflow-gemma-2-27b').exportText({ decimals: 2 }));
    expect(JSON.parse((await dtr(['export-text', '--tree', 'helpsteer2-human', '--json'])).stdout).tree).toBe('helpsteer2-human');
  });
});

describe('dtr train-tree', () => {
  it('fits, reports and writes a tree file with provenance', async () => {
    const dir = tempDir();
    writePairs(dir, 'pairs.jsonl', syntheticPairRows(600, 1));
    const r = await dtr(['train-tree', '--pairs', 'pairs.jsonl', '--out', 'trees/mine.json', '--val-fraction', '0.25', '--seed', '3'], {
      cwd: dir,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fitted mine: log_loss, max depth 3, \d leaves, on 450 pairs, validated on 150/);
    for (const label of [
      'accuracy',
      'log loss',
      'Brier score',
      'position consistency',
      'importances',
      'helpfulness',
      '|--- helpfulness <=',
    ])
      expect(r.stdout).toContain(label);
    const tree = PreferenceTree.load(join(dir, 'trees/mine.json'));
    expect(tree.toJSON().nodes[0]!.feature).toBe('helpfulness');
    const prov = tree.provenance;
    expect(prov.data[0]).toMatchObject({ path: 'pairs.jsonl', rows: 600, role: 'train' });
    expect(prov.data[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(prov.command).toMatch(/train-tree --pairs pairs\.jsonl --out trees\/mine\.json --val-fraction 0\.25 --seed 3/);
    expect(prov.notes).toMatch(/0\.25 of --pairs held out \(seed 3\)/);
    expect(tree.metrics).toMatchObject({ n: 450, validationN: 150 });
    expect(tree.metrics!.validationAccuracy).toBeGreaterThan(0.7);
  });

  it('--json prints the same report as one JSON object; --bootstrap shows progress on stderr', async () => {
    const dir = tempDir();
    writePairs(dir, 'train.jsonl', syntheticPairRows(300, 2));
    writePairs(dir, 'val.jsonl', syntheticPairRows(100, 3));
    const r = await dtr(
      [
        'train-tree',
        '--pairs',
        'train.jsonl',
        '--val',
        'val.jsonl',
        '--out',
        't.json',
        '--bootstrap',
        '20',
        '--json',
        '--augment-swaps',
        '--criterion',
        'gini',
        '--max-depth',
        '2',
        '--min-samples-leaf',
        '5',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.n).toEqual({ train: 600, validation: 100 });
    expect(doc.train.positionConsistency).toBe(1); // trained on both orders of every pair
    expect(doc.bootstrap.refits).toBe(20);
    expect(doc.bootstrap.mean.helpfulness).toBeGreaterThan(0.5);
    expect(doc.tree.criterion).toBe('gini');
    expect(doc.tree.params).toMatchObject({ maxDepth: 2, minSamplesLeaf: 5 });
    expect(r.stderr).toMatch(/bootstrap \[#+\] 20\/20 refits 100% .* in \d/);
    expect(doc.tree.provenance.data.map((d: { role: string }) => d.role)).toEqual(['train', 'validation']);
  });

  it('one class only: a single-leaf tree and a warning', async () => {
    const dir = tempDir();
    writePairs(
      dir,
      'p.jsonl',
      syntheticPairRows(30, 4).map((p) => ({ ...p, label: 'a' })),
    );
    const r = await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 't.json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: every pair has label 'a': only one class, so the tree is a single leaf/);
    expect(r.stderr).toContain(
      'warning: if the data puts the preferred response first by construction (as chosen/rejected sets do), --augment-swaps trains on each pair in both orders',
    );
    expect(PreferenceTree.load(join(dir, 't.json')).nodeCount).toBe(1);
  });

  it('rejects bad rows with the line number, writes nothing, and exits 1', async () => {
    const good = JSON.stringify(syntheticPairRows(1, 5)[0]);
    const row = (patch: (r: Record<string, any>) => void): string => {
      const r = JSON.parse(good);
      patch(r);
      return JSON.stringify(r);
    };
    const cases: Array<[string, string, RegExp]> = [
      ['NaN', [good, good.replace('"verbosity":', '"verbosity":NaN,"x":')].join('\n'), /p\.jsonl:2: malformed JSON line/],
      // JSON has no Infinity literal, but 1e999 parses to Infinity.
      [
        'Infinity',
        [good, row((r) => (r.a.verbosity = 123456)).replace('123456', '1e999')].join('\n'),
        /p\.jsonl:2: a\.verbosity: 'verbosity' must be finite, got Infinity/,
      ],
      [
        'missing attribute',
        [good, good, row((r) => delete r.b.coherence)].join('\n'),
        /p\.jsonl:3: b\.coherence: missing attribute 'coherence'/,
      ],
      ['unknown attribute', row((r) => (r.a.length = 3)), /p\.jsonl:1: a\.length: unknown attribute 'length'/],
      [
        'non-numeric',
        row((r) => (r.a.helpfulness = 'high')),
        /p\.jsonl:1: a\.helpfulness: 'helpfulness' must be a number, got the string "high"/,
      ],
      ['label', row((r) => (r.label = 'c')), /p\.jsonl:1: label must be "a" or "b", got "c"/],
      ['missing label', row((r) => delete r.label), /p\.jsonl:1: missing "label"/],
      ['malformed line', `${good}\n{"a": {\n${good}`, /p\.jsonl:2: malformed JSON line/],
      ['empty file', '\n\n', /p\.jsonl has no rows/],
    ];
    for (const [label, text, pattern] of cases) {
      const dir = tempDir();
      writePairs(dir, 'p.jsonl', text);
      const r = await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 'out/t.json'], { cwd: dir });
      expect(r.code, label).toBe(1);
      expect(r.stderr, label).toMatch(pattern);
      expect(r.stderr.trim().split('\n'), label).toHaveLength(1);
      expect(existsSync(join(dir, 'out')), label).toBe(false);
      expect(readdirSync(dir), label).toEqual(['p.jsonl']);
    }
  });

  it('reports every bad row at once with --verbose', async () => {
    const dir = tempDir();
    const rows = syntheticPairRows(4, 6).map((r, i) => (i % 2 ? { ...r, label: 'x' } : r));
    writePairs(dir, 'p.jsonl', rows);
    const r = await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 't.json', '--verbose'], { cwd: dir });
    expect(r.stderr).toMatch(/2 bad values/);
    expect(r.stderr).toMatch(/p\.jsonl:2: label must be "a" or "b", got "x"/);
    expect(r.stderr).toMatch(/p\.jsonl:4: label must be "a" or "b", got "x"/);
  });

  it('usage errors: unknown flags, missing required flags, conflicting validation options', async () => {
    const dir = tempDir();
    writePairs(dir, 'p.jsonl', syntheticPairRows(20, 7));
    expect((await dtr(['train-tree', '--pairs', 'p.jsonl'], { cwd: dir })).stderr).toMatch(/missing required option --out/);
    expect((await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 't.json', '--depth', '3'], { cwd: dir })).stderr).toMatch(
      /unknown option '--depth'/,
    );
    expect((await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 't.json', '--criterion', 'entropy'], { cwd: dir })).stderr).toMatch(
      /--criterion must be one of log_loss, gini, got 'entropy'/,
    );
    expect(
      (await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 't.json', '--val', 'p.jsonl', '--val-fraction', '0.2'], { cwd: dir }))
        .stderr,
    ).toMatch(/either --val or --val-fraction/);
    expect((await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 't.json', '--max-depth', '2.5'], { cwd: dir })).stderr).toMatch(
      /--max-depth must be an integer in \[1, 64\], got 2\.5/,
    );
    // Negative numbers after a value-taking flag are its value, as with --flag=-X: the flag's own check answers.
    for (const [flag, value, message] of [
      ['--val-fraction', '-0.2', /--val-fraction must be a number in \(0, 1\), got -0\.2/],
      ['--max-depth', '-1', /--max-depth must be an integer in \[1, 64\], got -1/],
      ['--seed', '-3', /--seed must be an integer >= 0, got -3/],
    ] as const) {
      const spaced = await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 'n.json', flag, value], { cwd: dir });
      const joined = await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 'n.json', `${flag}=${value}`], { cwd: dir });
      expect(spaced.stderr, flag).not.toMatch(/ambiguous/);
      expect(spaced.stderr, flag).toBe(joined.stderr);
      expect(spaced.code, flag).toBe(joined.code);
      if (message) expect(spaced.stderr, flag).toMatch(message);
      else expect(spaced.code, flag).toBe(0);
    }
    rmSync(join(dir, 'n.json'), { force: true });
    expect((await dtr(['train-tree', '--pairs', 'missing.jsonl', '--out', 't.json'], { cwd: dir })).stderr).toMatch(
      /no such file: .*missing\.jsonl/,
    );
    expect(readdirSync(dir)).toEqual(['p.jsonl']);
  });
});

describe('the dtr binary', () => {
  it('runs the model card example and exits 0; exits 2 on a usage error and 1 on a domain error', () => {
    const ok = dtrBinary(['explain', '--example']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('path: helpfulness > 0.019 → correctness > 0.303 → helpfulness > 1.121');
    expect(dtrBinary(['explain', '--bogus']).code).toBe(2);
    const missing = dtrBinary(['explain', '--example', '--tree', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^dtr: unknown tree 'nope'/);
    expect(dtrBinary(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(dtrBinary(['--help']).stdout).toContain('train-tree');
  });
});

describe('guards against losing data and against out-of-range flags', () => {
  it('refuses an --out that is also an input, and writes nothing', async () => {
    const dir = tempDir();
    const pairs = writePairs(dir, 'p.jsonl', syntheticPairRows(20, 9));
    const before = readFileSync(pairs, 'utf8');
    for (const argv of [
      ['train-tree', '--pairs', 'p.jsonl', '--out', 'p.jsonl'],
      ['train-tree', '--pairs', 'p.jsonl', '--out', './sub/../p.jsonl'],
      ['train-tree', '--pairs', 'other.jsonl', '--val', 'p.jsonl', '--out', join(dir, 'p.jsonl')],
    ]) {
      const r = await dtr(argv, { cwd: dir });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--out .* is also the --(pairs|val) input: writing it would destroy the data being read/);
    }
    expect(readFileSync(pairs, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['p.jsonl']);
  });

  it('names the flag when a number is out of range (usage error, exit 2)', async () => {
    const dir = tempDir();
    writePairs(dir, 'p.jsonl', syntheticPairRows(20, 10));
    const cases: Array<[string[], RegExp]> = [
      [['--max-depth', '0'], /--max-depth must be an integer in \[1, 64\], got 0/],
      [['--min-samples-split', '1'], /--min-samples-split must be an integer >= 2, got 1/],
      [['--val-fraction', '1'], /--val-fraction must be a number in \(0, 1\), got 1/],
      [['--bootstrap=-1'], /--bootstrap must be an integer >= 0, got -1/],
    ];
    for (const [flags, pattern] of cases) {
      const r = await dtr(['train-tree', '--pairs', 'p.jsonl', '--out', 't.json', ...flags], { cwd: dir });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
    expect((await dtr(['explain', '--example', '--tie-band', '0.5'])).stderr).toMatch(
      /--tie-band must be a number in \[0, 0\.5\), got 0\.5/,
    );
  });

  it('reads JSONL files that start with a UTF-8 byte order mark', async () => {
    const dir = tempDir();
    const rows = syntheticPairRows(30, 11)
      .map((r) => JSON.stringify(r))
      .join('\n');
    writeFileSync(join(dir, 'bom.jsonl'), `\uFEFF${rows}\n`);
    const r = await dtr(['train-tree', '--pairs', 'bom.jsonl', '--out', 't.json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
