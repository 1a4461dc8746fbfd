/**
 * The command-line framework: `defineCommand`, flag specs with their ranges, `parseOptions` (usage errors
 * name the flag, exit 2), `--help` text, and `flagError` (an SDK RangeError turned into one naming the flag).
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { editDistance } from '../util/edit-distance.js';
import { DtrError } from '../errors.js';

/** One command-line option. `--help`, `--json` and `--verbose` are added to every command. */
export interface OptionSpec {
  type: 'string' | 'number' | 'integer' | 'boolean';
  description: string;
  /** Shown in help as `--name VALUE`. */
  valueName?: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  required?: boolean;
  short?: string;
  /**
   * Smallest accepted value of a number/integer option (inclusive). Every number/integer option
   * declares its range (test/cli-flags.test.ts checks): the values the API it feeds accepts, so a
   * bad value is a usage error naming the flag, never the API's error naming its parameter.
   */
  min?: number;
  /** Largest accepted value of a number/integer option (inclusive). */
  max?: number;
  /** Values must be strictly above this (exclusive lower bound). */
  above?: number;
  /** Values must be strictly below this (exclusive upper bound). */
  below?: number;
  /**
   * A file the command reads (`input`) or writes (`output`). runCli refuses an output that is
   * also one of the inputs: writing it would destroy the data being read.
   */
  path?: 'input' | 'output';
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean' ? boolean : S['type'] extends 'string' ? string : number;

/** Parsed options: required or defaulted options are always present. */
export type ParsedOptions<O extends OptionSpecs> = {
  [K in keyof O]: O[K] extends { required: true } | { default: string | number | boolean } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
} & { help: boolean; json: boolean; verbose: boolean };

/** Where a command writes. Tests pass their own to capture output. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is an interactive terminal (progress bars redraw only then). */
  stderrIsTTY: boolean;
  /** Working directory for relative paths. */
  cwd: string;
  /** The command line as typed (`['train-tree', '--pairs', ...]`), for provenance; set by runCli. */
  argv?: readonly string[];
}

/** A `dtr` sub-command. */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  summary: string;
  /** Longer description shown by `--help`. */
  description?: string;
  options: O;
  /** Positional arguments are not used by dtr commands; everything is a named flag. */
  examples: readonly string[];
  run(options: ParsedOptions<O>, io: CliIO): Promise<number | void>;
}

/** Defines a command with typed options (identity at run time). */
export function defineCommand<O extends OptionSpecs>(command: Command<O>): Command<O> {
  return command;
}

const COMMON: OptionSpecs = {
  help: { type: 'boolean', description: 'show this help', short: 'h' },
  json: {
    type: 'boolean',
    description: 'print the result as JSON on stdout (one document; results streamed one per line are JSONL either way)',
  },
  verbose: { type: 'boolean', description: 'print full error detail (every issue, stack)' },
};

/**
 * Parses `argv` against a command's options. Unknown flags, missing or empty values, values that
 * are not numbers or lie outside the option's range (`min`, `max`, `above`, `below`), and values
 * outside `choices` throw `E_USAGE` (exit 2) naming the flag and what it accepts.
 */
export function parseOptions<O extends OptionSpecs>(command: Command<O>, argv: readonly string[]): ParsedOptions<O> {
  const specs: OptionSpecs = { ...COMMON, ...command.options };
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    config[name] = { type: spec.type === 'boolean' ? 'boolean' : 'string', ...(spec.short ? { short: spec.short } : {}) };
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: attachNegativeValues(argv, specs), options: config, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (cause) {
    throw usageError(command, translateParseError((cause as Error).message, Object.keys(specs)));
  }
  if (parsed.positionals.length > 0) {
    throw usageError(command, `unexpected argument '${parsed.positionals[0]}' (all arguments are --flags)`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = parsed.values[name];
    if (raw === undefined) {
      out[name] = spec.type === 'boolean' ? (spec.default ?? false) : spec.default;
      continue;
    }
    out[name] = convert(command, name, spec, raw);
  }
  if (!out.help) {
    const missing = Object.entries(command.options)
      .filter(([n, s]) => s.required && out[n] === undefined)
      .map(([n]) => `--${n}`);
    if (missing.length > 0)
      throw usageError(command, `missing required ${missing.length === 1 ? 'option' : 'options'} ${missing.join(', ')}`);
  }
  return out as ParsedOptions<O>;
}

/** A token that reads as a negative number (`-1`, `-0.5`, `-.5`, `-1e-3`, `-1,2` for a list): never a flag. */
const NEGATIVE_VALUE = /^-\.?\d/;

/**
 * Joins a value-taking flag and a following negative number into one token (`--lambda -1` ->
 * `--lambda=-1`). util.parseArgs refuses `--lambda -1` as "argument is ambiguous" (the value
 * looks like a flag), which hides the option's own check (e.g. "--lambda must be a positive
 * number"); no dtr flag starts with a digit, so such a token can only be a value.
 *
 * @example
 * ```ts
 * attachNegativeValues(['--lambda', '-1', '--json'], { lambda: { type: 'string', description: '' } }); // ['--lambda=-1', '--json']
 * ```
 */
export function attachNegativeValues(argv: readonly string[], specs: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    const long = /^--([^=]+)$/.exec(token);
    const short = /^-(\w)$/.exec(token);
    const name = long ? long[1]! : short ? Object.keys(specs).find((n) => specs[n]!.short === short[1]) : undefined;
    const spec = name !== undefined ? specs[name] : undefined;
    if (spec && spec.type !== 'boolean' && next !== undefined && NEGATIVE_VALUE.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(token);
    }
  }
  return out;
}

function convert(command: Command<OptionSpecs>, name: string, spec: OptionSpec, raw: string | boolean): unknown {
  if (spec.type === 'boolean') return raw;
  const text = String(raw);
  if (text === '') throw usageError(command, `--${name} needs a value, got an empty string`);
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(text)) {
      throw usageError(command, `--${name} must be one of ${spec.choices.join(', ')}, got '${text}'`);
    }
    return text;
  }
  const n = Number(text);
  const inRange =
    text.trim() !== '' &&
    Number.isFinite(n) &&
    (spec.type !== 'integer' || Number.isInteger(n)) &&
    (spec.min === undefined || n >= spec.min) &&
    (spec.max === undefined || n <= spec.max) &&
    (spec.above === undefined || n > spec.above) &&
    (spec.below === undefined || n < spec.below);
  if (!inRange)
    throw usageError(command, `--${name} must be ${rangeText(spec)}, got ${Number.isFinite(n) && text.trim() !== '' ? text : `'${text}'`}`);
  return n;
}

/**
 * The values a number or integer option accepts, in words: `an integer >= 1`, `a number in [0, 0.5)`.
 *
 * @example
 * ```ts
 * rangeText({ type: 'number', description: '', min: 0, below: 0.5 }); // 'a number in [0, 0.5)'
 * ```
 */
export function rangeText(spec: OptionSpec): string {
  const kind = spec.type === 'integer' ? 'an integer' : 'a number';
  const low =
    spec.min !== undefined
      ? { bracket: '[', value: spec.min, op: '>=' }
      : spec.above !== undefined
        ? { bracket: '(', value: spec.above, op: '>' }
        : null;
  const high =
    spec.max !== undefined
      ? { bracket: ']', value: spec.max, op: '<=' }
      : spec.below !== undefined
        ? { bracket: ')', value: spec.below, op: '<' }
        : null;
  if (low && high) return `${kind} in ${low.bracket}${low.value}, ${high.value}${high.bracket}`;
  const bound = low ?? high;
  return bound ? `${kind} ${bound.op} ${bound.value}` : kind;
}

function translateParseError(message: string, known: string[]): string {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message);
  if (unknown) {
    const flag = unknown[1]!.replace(/^-+/, '');
    const near = closest(flag, known);
    return `unknown option '${unknown[1]}'${near ? ` (did you mean --${near}?)` : ''}`;
  }
  const missingValue = /Option '(?:-\w, )?(--[^ ]+) <value>' argument missing/.exec(message);
  if (missingValue) return `option ${missingValue[1]} needs a value`;
  return message.split('\n')[0]!;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The usage error (exit 2) of a flag whose value the SDK refused for a reason only the data or the
 * model folder shows: the SDK's RangeError names its option (`valFraction 0.01 of 6 pairs leaves
 * an empty split`), the user typed the flag (`--val-fraction 0.01`). `flags` maps the options the
 * flags set to the flags; null when the error is about something else.
 *
 * @example
 * ```ts
 * flagError(new RangeError('valFraction 0.01 of 6 pairs leaves an empty split'), 'train-tree', { valFraction: 'val-fraction' });
 * // DtrError E_USAGE: dtr train-tree: --val-fraction 0.01 of 6 pairs leaves an empty split
 * ```
 */
export function flagError(error: unknown, command: string, flags: Readonly<Record<string, string>>): DtrError | null {
  if (!(error instanceof RangeError)) return null;
  const m = /^(\w+) ([\s\S]*)$/.exec(error.message);
  const flag = m ? flags[m[1]!] : undefined;
  if (flag === undefined) return null;
  return new DtrError('E_USAGE', `dtr ${command}: --${flag} ${m![2]}`, { hint: `run 'dtr ${command} --help' for usage`, cause: error });
}

function usageError(command: Command<OptionSpecs>, message: string): DtrError {
  return new DtrError('E_USAGE', `dtr ${command.name}: ${message}`, { hint: `run 'dtr ${command.name} --help' for usage` });
}

/** The `--help` text of a command. */
export function helpText(command: Command<OptionSpecs>): string {
  const specs: OptionSpecs = { ...command.options, ...COMMON };
  const rows = Object.entries(specs).map(([name, spec]) => {
    const value =
      spec.type === 'boolean'
        ? ''
        : ` ${spec.valueName ?? (spec.choices ? spec.choices.join('|') : spec.type === 'string' ? 'TEXT' : 'N')}`;
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${value}`;
    const notes: string[] = [];
    if (spec.required) notes.push('required');
    if (spec.type === 'number' || spec.type === 'integer') notes.push(rangeText(spec).replace(/^an? /, ''));
    if (spec.default !== undefined && spec.type !== 'boolean') notes.push(`default ${spec.default}`);
    return [flag, spec.description + (notes.length ? ` (${notes.join(', ')})` : '')] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)) + 2);
  const lines = [`dtr ${command.name} - ${command.summary}`, ''];
  if (command.description) lines.push(command.description.trim(), '');
  lines.push('Options:');
  for (const [flag, desc] of rows) {
    lines.push(flag.length >= width ? `  ${flag}\n  ${' '.repeat(width)}${desc}` : `  ${flag.padEnd(width)}${desc}`);
  }
  if (command.examples.length > 0) {
    lines.push('', 'Examples:');
    for (const e of command.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Refuses an output path that is also an input of the same command (`--out pairs.jsonl --pairs
 * pairs.jsonl` would replace the training data with a tree). Inputs given as `@file` count too.
 */
export function checkOutputsAreNotInputs(command: Command<OptionSpecs>, options: Record<string, unknown>, cwd: string): void {
  const resolved = (value: string): string => {
    const p = resolve(cwd, value.startsWith('@') ? value.slice(1) : value);
    try {
      return realpathSync(p);
    } catch {
      return p; // does not exist yet: compare the plain resolved path
    }
  };
  const inputs = new Map<string, string>();
  for (const [name, spec] of Object.entries(command.options)) {
    const v = options[name];
    if (spec.path === 'input' && typeof v === 'string') inputs.set(resolved(v), name);
  }
  for (const [name, spec] of Object.entries(command.options)) {
    const v = options[name];
    if (spec.path !== 'output' || typeof v !== 'string') continue;
    const clash = inputs.get(resolved(v));
    if (clash !== undefined) {
      throw usageError(
        command,
        `--${name} ${v} is also the --${clash} input: writing it would destroy the data being read; choose another path`,
      );
    }
  }
}
