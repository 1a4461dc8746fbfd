/**
 * One rule for the command line's flag errors: a usage or flag-value error exits 2 and names the
 * flag with what it accepts. Every number/integer flag of every command declares its range, the
 * values the API it feeds accepts: a value outside it never reaches the API (whose RangeError
 * would name its own parameter and exit 1). Values only the model folder can judge (a
 * --max-length shorter than the chat template) are refused naming the flag too. And `--json` is
 * accepted wherever the output is JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rangeText, type Command, type OptionSpec, type OptionSpecs } from '../src/cli/args.js';
import { COMMANDS } from '../src/cli/commands.js';
import { dtr } from './support/cli.js';
import { writeFixtureModel } from './support/fixture-model.js';
import { tempDir } from './support/temp.js';

const commands: Array<[string, Command<OptionSpecs>]> = await Promise.all(
  Object.entries(COMMANDS).map(async ([name, c]) => [name, await c.load()] as [string, Command<OptionSpecs>]),
);
const options = (type: (spec: OptionSpec) => boolean): Array<[string, string, OptionSpec]> =>
  commands.flatMap(([command, c]) =>
    Object.entries(c.options)
      .filter(([, spec]) => type(spec))
      .map(([flag, spec]) => [command, flag, spec] as [string, string, OptionSpec]),
  );
const numeric = options((s) => s.type === 'number' || s.type === 'integer');
const enums = options((s) => s.choices !== undefined);

/** Values just outside a numeric flag's range, and values that are no number (or no integer). */
function outside(spec: OptionSpec): string[] {
  const step = spec.type === 'integer' ? 1 : 0.5;
  const values = ['x', '1e999'];
  if (spec.min !== undefined) values.push(String(spec.min - step));
  if (spec.above !== undefined) values.push(String(spec.above));
  if (spec.max !== undefined) values.push(String(spec.max + step));
  if (spec.below !== undefined) values.push(String(spec.below));
  if (spec.type === 'integer') values.push(String((spec.min ?? spec.above ?? 0) + 1.5));
  return values;
}

describe('dtr flags: one rule for errors', () => {
  it('every number and integer flag declares its range (at least a lower bound), shown in --help', async () => {
    expect(numeric.length).toBeGreaterThan(30);
    expect(numeric.filter(([, , s]) => s.min === undefined && s.above === undefined).map(([c, f]) => `${c} --${f}`)).toEqual([]);
    for (const [command, c] of commands) {
      const help = (await dtr([command, '--help'])).stdout;
      for (const [flag, spec] of Object.entries(c.options)) {
        if (spec.type === 'number' || spec.type === 'integer')
          expect(help, `${command} --${flag}`).toContain(rangeText(spec).replace(/^an? /, ''));
      }
    }
  });

  it("a value outside a numeric flag's range exits 2, naming the flag and the range, whatever else the command line holds", async () => {
    let checked = 0;
    for (const [command, flag, spec] of numeric) {
      for (const value of outside(spec)) {
        const r = await dtr([command, `--${flag}=${value}`]);
        const shown = Number.isFinite(Number(value)) ? value : `'${value}'`;
        expect(r.stderr, `${command} --${flag}=${value}`).toBe(
          `dtr: dtr ${command}: --${flag} must be ${rangeText(spec)}, got ${shown} — run 'dtr ${command} --help' for usage\n`,
        );
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(120);
  });

  it('an enum flag outside its choices, or any flag given an empty value, exits 2 naming it', async () => {
    for (const [command, flag, spec] of enums) {
      const r = await dtr([command, `--${flag}`, 'bogus']);
      expect(r.stderr, `${command} --${flag}`).toContain(`--${flag} must be one of ${spec.choices!.join(', ')}, got 'bogus'`);
      expect(r.code).toBe(2);
    }
    for (const [command, flag] of options((s) => s.type !== 'boolean')) {
      const r = await dtr([command, `--${flag}=`]);
      expect(r.stderr, `${command} --${flag}=`).toContain(`--${flag} needs a value, got an empty string`);
      expect(r.code).toBe(2);
    }
  });

  it('range messages: intervals, one-sided bounds, integers', () => {
    expect(rangeText({ type: 'number', description: '', min: 0, below: 0.5 })).toBe('a number in [0, 0.5)');
    expect(rangeText({ type: 'number', description: '', above: 0, below: 1 })).toBe('a number in (0, 1)');
    expect(rangeText({ type: 'integer', description: '', min: 1, max: 64 })).toBe('an integer in [1, 64]');
    expect(rangeText({ type: 'integer', description: '', min: 2 })).toBe('an integer >= 2');
    expect(rangeText({ type: 'number', description: '', above: 0 })).toBe('a number > 0');
  });
});

describe("dtr flags: the ranges are the APIs' (values at the edge are accepted; the folder decides --max-length)", () => {
  let model: string;
  let work: string;
  beforeAll(() => {
    model = writeFixtureModel(tempDir('dtr-flags-model-')).dir;
    work = tempDir('dtr-flags-');
  });
  const pairs = 'docs/examples/attribute-pairs.jsonl';

  it('model flags: --max-length shorter than the chat template names the flag and the smallest usable value', async () => {
    const short = await dtr(['score', '--model', model, '--prompt', 'Hi', '--response', 'Hello', '--max-length', '5']);
    expect(short.stderr).toBe(
      "dtr: dtr score: --max-length 5 leaves no room for text: the chat template alone takes 11 tokens (give at least 13) — run 'dtr score --help' for usage\n",
    );
    expect(short.code).toBe(2);
    for (const command of [
      ['compare', '--a', 'Hello', '--b', 'Hey'],
      ['report', '--a', 'Hello', '--b', 'Hey', '--out', join(work, 'r.md')],
    ]) {
      const r = await dtr([command[0]!, '--model', model, '--prompt', 'Hi', ...command.slice(1), '--max-length', '12']);
      expect(r.stderr).toMatch(new RegExp(`^dtr: dtr ${command[0]}: --max-length 12 leaves no room for text: .*\\(give at least 13\\)`));
      expect(r.code).toBe(2);
    }
    const edge = await dtr([
      'score',
      '--model',
      model,
      '--prompt',
      'Hi',
      '--response',
      'Hello',
      '--max-length',
      '13',
      '--batch-size',
      '1',
      '--max-tokens-per-batch',
      '1',
      '--json',
    ]);
    expect(edge.stderr).toBe(''); // 11 template tokens + 'Hi' + 'Hello'
    expect(edge.code).toBe(0);
  });

  it('text flags the model reads are checked as it checks them: exit 2 naming the flag', async () => {
    writeFileSync(join(work, 'blank.txt'), ' \n');
    const cases: Array<[string[], string]> = [
      [['score', '--prompt', 'Hi', '--response', '   '], '--response must be a non-empty string, got only whitespace'],
      [['score', '--prompt', 'Hi', '--response', '@blank.txt'], '--response @blank.txt must be a non-empty string, got only whitespace'],
      [['score', '--messages', '[]', '--response', 'Hello'], '--messages must not be an empty array'],
      [
        ['score', '--messages', '[{"role": "system", "content": "Be brief."}]', '--response', 'Hello'],
        '--messages has only a system message',
      ],
      [['compare', '--prompt', '\t', '--a', 'x', '--b', 'y'], '--prompt must be a non-empty string'],
      [['compare', '--prompt', 'Hi', '--a', 'x', '--b', ' '], '--b must be a non-empty string'],
    ];
    for (const [argv, message] of cases) {
      const r = await dtr([argv[0]!, '--model', model, ...argv.slice(1)], { cwd: work });
      expect(r.stderr, argv.join(' ')).toContain(message);
      expect(r.code, argv.join(' ')).toBe(2);
    }
  });

  it('tie bands, report, audit, decontaminate and train-tree flags at the edge of their ranges run', async () => {
    const ok = async (argv: string[]): Promise<void> => {
      const r = await dtr(argv, { cwd: work });
      expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(0);
    };
    const root = new URL('..', import.meta.url).pathname;
    const at = (p: string): string => join(root, p);
    await ok(['explain', '--example', '--tie-band', '0.49']);
    await ok([
      'compare',
      '--model',
      model,
      '--prompt',
      'Hi',
      '--a',
      'Hello',
      '--b',
      'Hey',
      '--tie-band',
      '0.49',
      '--self-check',
      '--tolerance',
      '0.001',
    ]);
    await ok(['eval', '--scores', at('docs/examples/rewardbench-results.jsonl'), '--tie-band', '0.49']);
    await ok([
      'report',
      '--pairs',
      at(pairs),
      '--out',
      'd.md',
      '--tie-band',
      '0.49',
      '--bootstrap',
      '0',
      '--seed',
      '0',
      '--hardest',
      '0',
      '--examples',
      '0',
    ]);
    await ok([
      'audit',
      '--verdicts',
      at('docs/examples/judge-verdicts.jsonl'),
      '--pairs',
      at('docs/examples/judged-pairs.jsonl'),
      '--max-depth',
      '64',
    ]);
    await ok([
      'decontaminate',
      '--train',
      at('docs/examples/train-prompts.jsonl'),
      '--against',
      at('docs/examples/rewardbench-sample.jsonl'),
      '--ngram',
      '1',
      '--common',
      '0',
      '--show',
      '0',
    ]);
    await ok([
      'train-tree',
      '--pairs',
      at(pairs),
      '--out',
      't.json',
      '--seed',
      '0',
      '--bootstrap',
      '0',
      '--max-depth',
      '64',
      '--min-impurity-decrease',
      '0',
      '--val-fraction',
      '0.2',
    ]);
    await ok(['export-text', '--tree', 't.json', '--decimals', '17']);
    // In range, but too small for these 6 pairs: what the data shows still names the flag.
    const empty = await dtr(['train-tree', '--pairs', at(pairs), '--out', 'e.json', '--val-fraction', '0.01'], { cwd: work });
    expect(empty.stderr).toBe(
      "dtr: dtr train-tree: --val-fraction 0.01 of 6 pairs leaves an empty split — run 'dtr train-tree --help' for usage\n",
    );
    expect(empty.code).toBe(2);
  });
});

describe('dtr score/compare --file --json: accepted (the results are JSON already)', () => {
  it('prints JSON lines on stdout, and with --out the summary as one document', async () => {
    const model = writeFixtureModel(tempDir('dtr-flags-model-')).dir;
    const dir = tempDir('dtr-flags-');
    writeFileSync(
      join(dir, 'pairs.jsonl'),
      '{"id": 1, "prompt": "Hi", "a": "Hello", "b": "Go away"}\n{"id": 2, "prompt": "Name a prime.", "a": "7", "b": "8"}\n',
    );
    writeFileSync(join(dir, 'rows.jsonl'), '{"prompt": "Hi", "response": "Hello"}\n');
    const lines = await dtr(['compare', '--model', model, '--file', 'pairs.jsonl', '--json'], { cwd: dir });
    expect(lines.code).toBe(0);
    expect(
      lines.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual([1, 2]);
    const score = await dtr(['score', '--model', model, '--file', 'rows.jsonl', '--json'], { cwd: dir });
    expect(score.code).toBe(0);
    expect(Object.keys(JSON.parse(score.stdout).rewards)).toHaveLength(5);
    const summary = await dtr(['compare', '--model', model, '--file', 'pairs.jsonl', '--out', 'results.jsonl', '--json'], { cwd: dir });
    expect(JSON.parse(summary.stdout)).toMatchObject({ pairs: 2, out: 'results.jsonl', truncated: 0 });
    expect(readFileSync(join(dir, 'results.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(2);
  });
});
