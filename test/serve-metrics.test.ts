/** The Prometheus text format the service writes (src/serve/metrics.ts): golden output. */
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../src/serve/metrics.js';

describe('MetricsRegistry', () => {
  it('writes counters, gauges and cumulative histograms in the exposition format', () => {
    const r = new MetricsRegistry();
    const c = r.counter('jobs_total', 'Jobs done, by kind.');
    c.inc({ kind: 'a' });
    c.inc({ kind: 'a' }, 2);
    c.inc({ kind: 'say "hi"\\\n' });
    r.gauge('depth', 'Waiting.', () => 3);
    r.gauge('info', 'What runs.', () => [{ labels: { model: 'm' }, value: 1 }]);
    const h = r.histogram('latency_seconds', 'Latency.', [0.1, 1]);
    h.observe(0.05, { route: '/x' });
    h.observe(0.5, { route: '/x' });
    h.observe(5, { route: '/x' });
    r.histogram('empty', 'Nothing yet.', [1]);
    expect(r.render()).toBe(
      [
        '# HELP jobs_total Jobs done, by kind.',
        '# TYPE jobs_total counter',
        'jobs_total{kind="a"} 3',
        'jobs_total{kind="say \\"hi\\"\\\\\\n"} 1',
        '# HELP depth Waiting.',
        '# TYPE depth gauge',
        'depth 3',
        '# HELP info What runs.',
        '# TYPE info gauge',
        'info{model="m"} 1',
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{route="/x",le="0.1"} 1',
        'latency_seconds_bucket{route="/x",le="1"} 2',
        'latency_seconds_bucket{route="/x",le="+Inf"} 3',
        'latency_seconds_sum{route="/x"} 5.55',
        'latency_seconds_count{route="/x"} 3',
        '# HELP empty Nothing yet.',
        '# TYPE empty histogram',
        'empty_bucket{le="1"} 0',
        'empty_bucket{le="+Inf"} 0',
        'empty_sum 0',
        'empty_count 0',
        '',
      ].join('\n'),
    );
    expect(c.get({ kind: 'a' })).toBe(3);
    expect(c.get({ kind: 'b' })).toBe(0);
    expect(h.count({ route: '/x' })).toBe(3);
  });

  it('a counter never incremented still shows 0 (so rate() has a start)', () => {
    const r = new MetricsRegistry();
    r.counter('x_total', 'X.');
    expect(r.render()).toBe('# HELP x_total X.\n# TYPE x_total counter\nx_total 0\n');
  });
});
