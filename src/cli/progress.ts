/**
 * Progress lines on stderr for long commands (`createProgress`, `progressTo`): rate-limited, silent when
 * stderr is not a terminal unless asked.
 *
 * May import: its own folder (cli/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/; serve/ (test/import-graph.test.ts).
 */
import type { CliIO } from './args.js';

/** Reports progress of long work on stderr: a redrawn bar on a terminal, a line every few seconds otherwise. */
export interface Progress {
  /** Advances by `n` units (default 1). */
  tick(n?: number): void;
  /** Ends the bar, printing a final line with the total time. */
  done(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is counted, e.g. `refits`, `pairs`. */
  unit: string;
  /** Label shown before the bar. */
  label: string;
  /** Silence all output (e.g. when `--json` output must stay clean and the user asked for quiet). */
  quiet?: boolean;
  /** Seconds between lines when stderr is not a terminal (default 5). */
  interval?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * A progress reporter with rate and ETA.
 *
 * @example
 * ```ts
 * const p = createProgress(io, 100, { label: 'bootstrap', unit: 'refits' });
 * for (let i = 0; i < 100; i++) { work(); p.tick(); }
 * p.done();
 * ```
 */
export function createProgress(io: CliIO, total: number, options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const intervalMs = (options.interval ?? 5) * 1000;
  let count = 0;
  // On a terminal the bar appears at once; in a log, the first line only after `interval` (short work stays quiet).
  let lastDraw = io.stderrIsTTY ? -Infinity : start;
  const quiet = options.quiet === true;

  const line = (final: boolean): string => {
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 ? count / elapsed : 0;
    const pct = total > 0 ? Math.min(1, count / total) : 1;
    const eta = rate > 0 ? (total - count) / rate : NaN;
    const width = 24;
    const filled = Math.round(pct * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const tail = final ? `in ${formatSeconds(elapsed)}` : `ETA ${Number.isFinite(eta) ? formatSeconds(eta) : '?'}`;
    return `${options.label} ${bar} ${count}/${total} ${options.unit} ${(pct * 100).toFixed(0)}% ${formatRate(rate)} ${options.unit}/s ${tail}`;
  };

  return {
    tick(n = 1) {
      count += n;
      if (quiet) return;
      const t = now();
      if (io.stderrIsTTY) {
        if (t - lastDraw >= 100 || count >= total) {
          io.stderr(`\r${line(false)}\x1b[K`);
          lastDraw = t;
        }
      } else if (t - lastDraw >= intervalMs) {
        io.stderr(`${line(false)}\n`);
        lastDraw = t;
      }
    },
    done() {
      if (quiet) return;
      io.stderr(`${io.stderrIsTTY ? '\r' : ''}${line(true)}${io.stderrIsTTY ? '\x1b[K' : ''}\n`);
    },
  };
}

/** A {@link Progress} moved by running totals; see {@link progressTo}. */
export interface RunningProgress {
  /** `done` of `total` units are done (running totals, as the SDK's `onProgress` callbacks give them). */
  update(done: number, total: number): void;
  /** Ends the bar (see `idle` in {@link progressTo} for a bar that never moved). */
  done(): void;
}

/**
 * A progress bar for the SDK's `onProgress(done, total)` callbacks. It is made on the first
 * update, when the total is known and the work has begun, unless `total` is given (then at once,
 * so its clock covers the first step too).
 *
 * @example
 * ```ts
 * const bar = progressTo(io, { label: 'score', unit: 'pairs' });
 * await model.compareMany(items, { onProgress: (done, total) => bar.update(done, total) });
 * bar.done();
 * ```
 */
export function progressTo(io: CliIO, options: ProgressOptions & { total?: number; idle?: 'silent' | 'report' }): RunningProgress {
  let bar: Progress | null = options.total === undefined ? null : createProgress(io, options.total, options);
  let reached = 0;
  return {
    update(done, total) {
      bar ??= createProgress(io, total, options);
      bar.tick(done - reached);
      reached = done;
    },
    done() {
      // `idle: 'report'` still says the work is done (0 of 0) when there was nothing to do.
      (bar ?? (options.idle === 'report' ? createProgress(io, 0, options) : null))?.done();
    },
  };
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

function formatRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

/**
 * One progress bar per stage of a staged `onProgress(stage, done, total)` callback (as
 * `fitRidge`'s: read, gram, cv, fit), each with its rate and ETA; a stage's bar ends when the next
 * begins. `units` names each stage's label and unit.
 *
 * @example
 * ```ts
 * const bars = stageProgress(io, false, { read: ['reading', 'rows'], fit: ['final fit', 'fits'] });
 * await fitRidge(x, y, { onProgress: bars.tick });
 * bars.done();
 * ```
 */
export function stageProgress(
  io: CliIO,
  quiet: boolean,
  units: Readonly<Record<string, readonly [label: string, unit: string]>>,
): { tick: (stage: string, done: number, total: number) => void; done: () => void } {
  let current: { stage: string; bar: Progress; at: number } | null = null;
  return {
    tick(stage, done, total) {
      if (!current || current.stage !== stage) {
        current?.bar.done();
        const [label, unit] = units[stage] ?? [stage, 'steps'];
        current = { stage, bar: createProgress(io, total, { label, unit, quiet }), at: 0 };
      }
      current.bar.tick(done - current.at);
      current.at = done;
    },
    done() {
      current?.bar.done();
      current = null;
    },
  };
}
