/**
 * Errors of the HTTP service (`dtr serve`): every failed request is answered with
 * `{ "error": { "code", "message", "field"?, "issues"? } }` and one of these HTTP statuses.
 * The codes are a contract with clients (retry on `E_QUEUE_FULL`, fix the request on
 * `E_BAD_REQUEST`): add new ones, never rename one.
 *
 * May import: its own folder (serve/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/. Never cli/ (test/import-graph.test.ts).
 */
/**
 * Stable error codes of HTTP responses, with the status each is sent with and a one-line meaning.
 *
 * @example
 * ```ts
 * SERVE_ERROR_CODES.E_QUEUE_FULL.status; // 503
 * ```
 */
export const SERVE_ERROR_CODES = {
  E_BAD_JSON: { status: 400, meaning: 'the body is not valid JSON' },
  E_BAD_REQUEST: { status: 400, meaning: 'a field is missing, unknown or of the wrong type (see `field` and `issues`)' },
  E_UNAUTHORIZED: { status: 401, meaning: 'the server needs `Authorization: Bearer <token>` and the request has none or another token' },
  E_NOT_FOUND: { status: 404, meaning: 'no such route' },
  E_METHOD: { status: 405, meaning: 'the route exists but not for this method (see the `Allow` header)' },
  E_BODY_TIMEOUT: { status: 408, meaning: 'the request body did not all arrive within `--body-timeout`' },
  E_TOO_LARGE: { status: 413, meaning: 'the body is over the size limit, or a batch holds more conversations than the queue' },
  E_INTERNAL: { status: 500, meaning: 'the model failed on an accepted request (a bug, or the backbone failed): the message says what' },
  E_NOT_READY: { status: 503, meaning: 'the model is still loading (retry after `Retry-After` seconds)' },
  E_QUEUE_FULL: { status: 503, meaning: 'the queue is full: retry after `Retry-After` seconds, or add replicas' },
  E_SHUTTING_DOWN: { status: 503, meaning: 'the server is stopping and accepts no new requests: send it to another replica' },
  E_TIMEOUT: { status: 504, meaning: 'the request waited and ran longer than the per-request timeout (`--timeout`)' },
} as const;

/** A stable error code of the HTTP service; see {@link SERVE_ERROR_CODES}. */
export type ServeErrorCode = keyof typeof SERVE_ERROR_CODES;

/** One problem with a request body: the JSON path of the field and what is wrong with it. */
export interface FieldIssue {
  /** JSON path of the field, e.g. `items[3].a` or `messages[0].content`. */
  field: string;
  message: string;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    code: ServeErrorCode | string;
    message: string;
    /** The (first) field that was wrong, for `E_BAD_REQUEST`. */
    field?: string;
    /** Every problem found, when the body had several (the first `--max-issues` of them). */
    issues?: FieldIssue[];
    /** Problems found beyond those listed in `issues` (absent when all are listed). */
    moreIssues?: number;
  };
}

/**
 * A request that cannot be served, carrying the HTTP status, the stable code, and extra headers
 * (`Retry-After`, `Allow`, `WWW-Authenticate`).
 *
 * @example
 * ```ts
 * throw new ServeError('E_QUEUE_FULL', 'the queue is full (1024 conversations)', { headers: { 'retry-after': '2' } });
 * ```
 */
export class ServeError extends Error {
  readonly code: ServeErrorCode;
  readonly status: number;
  readonly issues: readonly FieldIssue[];
  readonly headers: Readonly<Record<string, string>>;
  /** Problems found beyond {@link issues} (a bounded list). */
  readonly moreIssues: number;

  constructor(
    code: ServeErrorCode,
    message: string,
    options: { issues?: readonly FieldIssue[]; moreIssues?: number; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServeError';
    this.code = code;
    this.status = SERVE_ERROR_CODES[code].status;
    this.issues = options.issues ?? [];
    this.headers = options.headers ?? {};
    this.moreIssues = options.moreIssues ?? 0;
  }

  /** The response body: `{ error: { code, message, field?, issues?, moreIssues? } }`. */
  body(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.issues.length > 0) {
      error.field = this.issues[0]!.field;
      error.issues = this.issues.map((i) => ({ ...i }));
      if (this.moreIssues > 0) error.moreIssues = this.moreIssues;
    }
    return { error };
  }
}
