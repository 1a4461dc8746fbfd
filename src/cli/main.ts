#!/usr/bin/env node
/**
 * The `dtr` executable: `runCli` dispatches a command, turns any error into one readable line and an exit
 * code (2 usage, 1 otherwise), and checks the arguments' bytes are UTF-8.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DtrError, formatIssues } from '../errors.js';
import { describeInvalidUtf8, findInvalidUtf8 } from '../io/utf8.js';
import { VERSION } from '../version.js';
import { checkOutputsAreNotInputs, helpText, parseOptions, type CliIO } from './args.js';
import { COMMANDS } from './commands.js';

/** The process's own stdout/stderr as a {@link CliIO}. */
export function processIO(): CliIO {
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stderrIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
  };
}

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const lines = [
    `dtr ${VERSION} - interpretable multi-attribute reward models (decision-tree rewards)`,
    '',
    'Usage: dtr <command> [--flags]   (dtr <command> --help for its flags)',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    'Every command takes --help, --json (machine-readable output) and --verbose (full error detail).',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Runs `dtr` with the given arguments and returns the exit code: 0 success, 1 failure, 2 usage error.
 * Errors become one readable line on stderr (all detail with `--verbose`); nothing is thrown.
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const verbose = argv.includes('--verbose');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr(`dtr: unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    const options = parseOptions(command, rest);
    if (options.help) {
      io.stdout(helpText(command));
      return 0;
    }
    checkOutputsAreNotInputs(command, options, io.cwd);
    const code = await command.run(options, { ...io, argv: [...argv] });
    return typeof code === 'number' ? code : 0;
  } catch (error) {
    io.stderr(formatCliError(error, verbose));
    return error instanceof DtrError && error.code === 'E_USAGE' ? 2 : 1;
  }
}

/** One line for a user (or every detail with `verbose`). */
export function formatCliError(error: unknown, verbose: boolean): string {
  if (error instanceof DtrError) {
    if (verbose) return `dtr: error ${error.code}: ${error.detail()}\n${error.stack ?? ''}\n`;
    const issues =
      error.issues.length > 0 && !error.message.includes(error.issues[0]!.message) ? ` (${formatIssues(error.issues, 3)})` : '';
    const hint = error.hint ? ` — ${error.hint}` : '';
    return `dtr: ${error.message}${issues}${hint}\n`;
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    return verbose ? `dtr: ${error.stack}\n` : `dtr: ${error.message}\n`;
  }
  const e = error as Error;
  return verbose
    ? `dtr: internal error: ${e?.stack ?? String(error)}\n`
    : `dtr: internal error: ${e?.message ?? String(error)} (run with --verbose for detail)\n`;
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

/**
 * The first argument that is not valid UTF-8, as a usage error, or null. Node decodes the
 * command line as UTF-8 and replaces invalid bytes with U+FFFD, so the check needs the bytes as
 * the system passed them (`raw`, the last `argv.length` arguments; on Linux, /proc/self/cmdline).
 * Only an argument holding U+FFFD is looked at; where `raw` is null (macOS: no /proc) such an
 * argument cannot be told from a typed U+FFFD, and is only warned about.
 *
 * @example
 * ```ts
 * invalidArgument(['explain', '--tree', 'x\uFFFD'], [Buffer.from('explain'), Buffer.from('--tree'), Buffer.from([0x78, 0xff])]);
 * // 'the value of --tree is not valid UTF-8 (byte 2: 0xFF, a byte that never occurs in UTF-8) ...'
 * ```
 */
export function invalidArgument(
  argv: readonly string[],
  raw: readonly Uint8Array[] | null,
): { error: string } | { warning: string } | null {
  const suspect = argv.findIndex((a) => a.includes('\uFFFD'));
  if (suspect < 0) return null;
  const aligned = raw !== null && raw.length >= argv.length ? raw.slice(raw.length - argv.length) : null;
  // The raw arguments must be these arguments: every one without a replacement character is byte-equal.
  const usable = aligned !== null && aligned.every((r, i) => argv[i]!.includes('\uFFFD') || Buffer.from(argv[i]!, 'utf8').equals(r));
  const name = (i: number): string => {
    const eq = /^(--[^=]+)=/.exec(argv[i]!);
    if (eq) return `the value of ${eq[1]}`;
    const before = i > 0 ? argv[i - 1]! : '';
    return /^--?[^-=\d]/.test(before) ? `the value of ${before}` : `argument ${i + 1}`;
  };
  if (!usable) {
    return {
      warning: `${name(suspect)} holds U+FFFD (the replacement character): if it stands for bytes that are not UTF-8, they were lost before dtr saw them (this system does not show dtr its raw arguments); give such text in a file (@FILE), which dtr checks`,
    };
  }
  for (let i = 0; i < argv.length; i++) {
    // In `--flag=value`, bytes are counted from the value's start (the flag is ASCII).
    const skip = /^--[^=]+=/.exec(argv[i]!)?.[0].length ?? 0;
    const bytes = aligned![i]!.subarray(skip);
    const bad = findInvalidUtf8(bytes);
    if (!bad) continue;
    const { text } = describeInvalidUtf8(bytes, bad);
    return {
      error: `${name(i)} is not valid UTF-8 (${text.replace(' of the line', '')}): pass the text in UTF-8, or in a UTF-8 file with @FILE`,
    };
  }
  return null;
}

/** The arguments as the system passed them (Linux: /proc/self/cmdline); null where it cannot be read. */
function rawArguments(): Uint8Array[] | null {
  try {
    const bytes = readFileSync('/proc/self/cmdline');
    const parts: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) {
        parts.push(bytes.subarray(start, i));
        start = i + 1;
      }
    }
    return parts;
  } catch {
    return null;
  }
}

if (invokedDirectly) {
  const argv = process.argv.slice(2);
  // Windows passes the command line as UTF-16: no bytes to check there.
  const encoding =
    process.platform === 'win32' ? null : invalidArgument(argv, argv.some((a) => a.includes('\uFFFD')) ? rawArguments() : null);
  if (encoding && 'error' in encoding) {
    process.stderr.write(`dtr: ${encoding.error}\n`);
    process.exitCode = 2;
  } else {
    if (encoding) process.stderr.write(`dtr: warning: ${encoding.warning}\n`);
    runCli(argv).then((code) => {
      process.exitCode = code;
    });
  }
}
