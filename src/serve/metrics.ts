/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written here rather than
 * with a client library: the service needs counters, gauges and histograms with a few fixed
 * labels, which is a page of code, and the format is stable.
 *
 * May import: its own folder (serve/) and the layers below it: util/ and the top-level attributes.ts,
 * errors.ts, version.ts; io/; provenance.ts; text/ and backbone/; tree/ and head/; explain/ and data/; eval/
 * and model/; report/; workflows/. Never cli/ (test/import-graph.test.ts).
 */

type Labels = Readonly<Record<string, string>>;

/** A metric family: its name, help line, type, and how to write its samples. */
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples(): string[];
}

/**
 * A counter with labels.
 *
 * @example
 * ```ts
 * const requests = registry.counter('dtr_serve_requests_total', 'HTTP requests answered');
 * requests.inc({ route: '/v1/compare', code: '200' });
 * ```
 */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    const cell = this.values.get(key);
    if (cell) cell.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** The value for these labels (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }

  /** @internal */
  samples(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values.values()].map((c) => `${this.name}${formatLabels(c.labels)} ${formatNumber(c.value)}`);
  }
}

/**
 * A gauge read when metrics are written (queue depth, readiness).
 *
 * @example
 * ```ts
 * registry.gauge('dtr_serve_queue_depth', 'conversations waiting', () => scheduler.queued);
 * ```
 */
export class Gauge {
  constructor(
    readonly name: string,
    private readonly read: () => number | Array<{ labels: Labels; value: number }>,
  ) {}

  /** @internal */
  samples(): string[] {
    const v = this.read();
    if (typeof v === 'number') return [`${this.name} ${formatNumber(v)}`];
    return v.map((c) => `${this.name}${formatLabels(c.labels)} ${formatNumber(c.value)}`);
  }
}

/**
 * A histogram with fixed upper bounds (`le`), cumulative as Prometheus expects.
 *
 * @example
 * ```ts
 * const latency = registry.histogram('dtr_serve_request_duration_seconds', 'latency', [0.01, 0.1, 1]);
 * latency.observe(0.042, { route: '/v1/compare' });
 * ```
 */
export class Histogram {
  private readonly cells = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly bounds: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { labels, counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.cells.set(key, cell);
    }
    // Each observation lands in its first bucket only; samples() accumulates.
    const i = this.bounds.findIndex((b) => value <= b);
    if (i >= 0) cell.counts[i]!++;
    cell.sum += value;
    cell.count++;
  }

  /** Observations so far for these labels. */
  count(labels: Labels = {}): number {
    return this.cells.get(labelKey(labels))?.count ?? 0;
  }

  /** @internal */
  samples(): string[] {
    const out: string[] = [];
    const cells =
      this.cells.size > 0
        ? [...this.cells.values()]
        : [{ labels: {}, counts: new Array<number>(this.bounds.length).fill(0), sum: 0, count: 0 }];
    for (const c of cells) {
      let cumulative = 0;
      this.bounds.forEach((b, i) => {
        cumulative += c.counts[i]!;
        out.push(`${this.name}_bucket${formatLabels({ ...c.labels, le: formatNumber(b) })} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${formatLabels({ ...c.labels, le: '+Inf' })} ${c.count}`);
      out.push(`${this.name}_sum${formatLabels(c.labels)} ${formatNumber(c.sum)}`);
      out.push(`${this.name}_count${formatLabels(c.labels)} ${c.count}`);
    }
    return out;
  }
}

/**
 * A set of metric families, written in registration order by {@link MetricsRegistry.render}.
 *
 * @example
 * ```ts
 * const registry = new MetricsRegistry();
 * registry.counter('jobs_total', 'jobs done').inc();
 * registry.render(); // '# HELP jobs_total jobs done\n# TYPE jobs_total counter\njobs_total 1\n'
 * ```
 */
export class MetricsRegistry {
  private readonly families: Family[] = [];

  counter(name: string, help: string): Counter {
    const c = new Counter(name);
    this.families.push({ name, help, type: 'counter', samples: () => c.samples() });
    return c;
  }

  gauge(name: string, help: string, read: () => number | Array<{ labels: Labels; value: number }>): Gauge {
    const g = new Gauge(name, read);
    this.families.push({ name, help, type: 'gauge', samples: () => g.samples() });
    return g;
  }

  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    const h = new Histogram(name, bounds);
    this.families.push({ name, help, type: 'histogram', samples: () => h.samples() });
    return h;
  }

  /** Every family in the Prometheus text format (content type {@link PROMETHEUS_CONTENT_TYPE}). */
  render(): string {
    const lines: string[] = [];
    for (const f of this.families)
      lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`, ...f.samples());
    return `${lines.join('\n')}\n`;
  }
}

/**
 * The content type of the Prometheus text format.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
 * ```
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  // Label values escape backslash, double quote and newline (the exposition format's rule).
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x);
}
