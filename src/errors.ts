/**
 * Errors of this SDK.
 *
 * Caller mistakes (a wrong argument type, a value out of range) throw the built-in `TypeError` or
 * `RangeError` naming the parameter. Everything else (a bad file, a missing model piece, a
 * disposed model) throws {@link DtrError}, whose `code` is stable and safe to branch on.
 *
 * May import: nothing of src/ at its own level (the bottom layer): node: built-ins and the dependencies only.
 * Never util/, The attributes: `ATTRIBUTES`, the one source of truth for the five HelpSteer2 attribute names
 * and their order, the `Attribute` type derived from it, score checks and vector helpers., version.ts,
 * anything above (io/ ... cli/) (test/import-graph.test.ts).
 */

/**
 * Stable error codes. Add new ones here, with a one-line meaning; never rename one.
 */
export const ERROR_CODES = {
  E_INVALID_ARTIFACT: 'a tree, head or model file failed validation (see `issues`)',
  E_NOT_FOUND: 'a named artifact or file does not exist',
  E_DATA: 'a data file has a bad row or value (see `issues` for line numbers)',
  E_EMPTY: 'a data file or input has no rows',
  E_IO: 'reading or writing a file failed',
  E_USAGE: 'a command line was wrong (unknown flag, missing value)',
  E_FORMAT: 'a file is not in the expected format (corrupt or truncated)',
  E_MODEL: 'a model folder is missing pieces or is inconsistent (see `issues`)',
  E_BACKBONE: 'the ONNX backbone failed to load or run',
  E_SHAPE: 'two things that must agree in size do not (hidden size, row counts)',
  E_DISPOSED: 'the object was disposed and can no longer be used',
  E_PYTHON: 'a Python helper (scikit-learn, numpy) failed or is missing',
  E_INTERNAL: 'a bug in this SDK: please report it',
  E_TEMPLATE: 'the chat template does not parse, or raised an error on a conversation',
  E_PROVIDER: 'an explicitly requested execution provider (e.g. CUDA) could not be used',
  E_SELF_CHECK: 'scores changed with batch composition, order or padding beyond the tolerance',
  E_NUMERIC: 'a numerical method failed (a matrix is not positive definite: raise lambda)',
  E_RESUME: 'an interrupted run cannot be resumed: its partial output was made with other inputs or settings',
  E_FORMULA: 'a scalarisation formula is not valid (unknown name, function, assignment)',
  E_LISTEN: 'a server could not listen on its host and port (in use, not an address of this machine, no permission)',
  E_INTERRUPTED: 'the run was stopped (Ctrl-C, SIGTERM or an AbortSignal); the work done so far was kept: rerun the same command to resume',
  E_REMOTE: 'an inference engine (a remote backbone) could not be reached, failed, or answered what the model cannot use',
  E_ENCODING: 'a file or argument is not valid UTF-8 (the message names the line and byte, or the argument)',
} as const;

/** A stable error code; see {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem found while validating an artifact or a data file: where, and what. */
export interface Issue {
  /** JSON path (`nodes[3].left`) or `file:line` of the problem. */
  path: string;
  message: string;
}

/** Options of a {@link DtrError}. */
export interface DtrErrorOptions {
  /** Every problem found, when there were several. */
  issues?: readonly Issue[];
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

/**
 * The SDK's error class for domain failures. `code` is stable; `issues` lists every problem
 * found when there were several (all reported at once, never one at a time).
 *
 * @example
 * ```ts
 * try { await PreferenceTree.load('nope'); }
 * catch (e) { if (e instanceof DtrError && e.code === 'E_NOT_FOUND') console.log(e.hint); }
 * ```
 */
export class DtrError extends Error {
  readonly code: ErrorCode;
  readonly issues: readonly Issue[];
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: DtrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DtrError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.hint = options.hint;
  }

  /** The message followed by every issue on its own line, then the hint. */
  detail(): string {
    const lines = [this.message];
    for (const issue of this.issues) lines.push(`  ${issue.path}: ${issue.message}`);
    if (this.hint) lines.push(`hint: ${this.hint}`);
    return lines.join('\n');
  }
}

/** Formats a list of issues, at most `limit` of them, as one readable string. */
export function formatIssues(issues: readonly Issue[], limit = 20): string {
  const shown = issues.slice(0, limit).map((i) => `${i.path}: ${i.message}`);
  if (issues.length > limit) shown.push(`… and ${issues.length - limit} more`);
  return shown.join('; ');
}
