/**
 * The hand-written exposition parser (prom-text.ts) against prom-client's own output: whatever
 * prom-client writes with `registry.metrics()` (text format 0.0.4, what every driftwatch process
 * serves) must read back to exactly what prom-client reports for the same registry through
 * `getMetricsAsJSON()`: every family's type and help, every series' labels and value.
 */
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import { createMetrics } from '../../../../lib/runtime/metrics.js';
import { parsePrometheusText, sampleValue, type Family } from './prom-text.js';

/**
 * Checks that every value prom-client holds is in the parsed text, and nothing else is. The default
 * process metrics (`collectDefaultMetrics`, prefix `*_process_`) are sampled afresh on every read, so
 * two reads differ: for those only the family (name, type, help) is compared.
 */
async function expectRoundTrip(registry: Registry, volatilePrefix: string): Promise<Map<string, Family>> {
  const parsed = parsePrometheusText(await registry.metrics());
  const json = await registry.getMetricsAsJSON();
  let series = 0;
  let stableSeries = 0;
  for (const m of json) {
    const f = parsed.get(m.name);
    expect(f, m.name).toBeDefined();
    expect(f!.type, m.name).toBe(m.type);
    expect(f!.help, m.name).toBe(m.help);
    if (m.name.startsWith(volatilePrefix)) continue;
    stableSeries += f!.samples.length;
    for (const v of m.values) {
      const labels = Object.fromEntries(Object.entries(v.labels).map(([k, x]) => [k, String(x)]));
      const name = (v as { metricName?: string }).metricName ?? m.name;
      const got = sampleValue(parsed, name, labels);
      expect(got, `${name}${JSON.stringify(labels)}`).toBeDefined();
      if (Number.isNaN(v.value)) expect(got, name).toBeNaN();
      else expect(got, `${name}${JSON.stringify(labels)}`).toBe(v.value);
      series++;
    }
  }
  expect(stableSeries).toBe(series);
  expect(series).toBeGreaterThan(0);
  expect(parsed.size).toBe(json.length);
  return parsed;
}

describe('prom-text parser on prom-client output', () => {
  it('reads back every metric type, label escaping, HELP escaping and special values', async () => {
    const r = new Registry();
    r.setDefaultLabels({ component: 'parser-test' });
    const c = new Counter({ name: 't_events_total', help: 'Events with a "quoted" help, a back\\slash\nand a newline', labelNames: ['topic'], registers: [r] });
    c.inc({ topic: 'ns.predictions.v1' }, 5);
    c.inc({ topic: 'quote " backslash \\ newline \n end' }, 2);
    c.inc({ topic: '' }); // an empty label value is a value, not an absent label
    const g = new Gauge({ name: 't_gauge', help: 'A gauge', labelNames: ['kind'], registers: [r] });
    g.set({ kind: 'nan' }, NaN);
    g.set({ kind: 'inf' }, Infinity);
    g.set({ kind: 'neg_inf' }, -Infinity);
    g.set({ kind: 'tiny' }, 1.5e-12);
    g.set({ kind: 'big' }, 9007199254740991);
    g.set({ kind: 'negative' }, -3.25);
    new Gauge({ name: 't_unset_gauge', help: 'Never set: prom-client writes 0', registers: [r] });
    const h = new Histogram({ name: 't_latency_seconds', help: 'Latency', labelNames: ['topic'], buckets: [0.001, 0.0025, 0.1, 1, 30], registers: [r] });
    h.observe({ topic: 'a' }, 0.002);
    h.observe({ topic: 'a' }, 0.5);
    h.observe({ topic: 'b' }, 100);
    new Histogram({ name: 't_empty_seconds', help: 'No observation yet', buckets: [1], registers: [r] });
    const s = new Summary({ name: 't_summary', help: 'A summary', labelNames: ['op'], percentiles: [0.5, 0.99], registers: [r] });
    for (let i = 1; i <= 100; i++) s.observe({ op: 'x' }, i);
    new Summary({ name: 't_empty_summary', help: 'No observation yet', percentiles: [0.5], registers: [r] });
    collectDefaultMetrics({ register: r, prefix: 't_process_' });

    const parsed = await expectRoundTrip(r, 't_process_');
    expect(parsed.get('t_events_total')!.help).toBe('Events with a "quoted" help, a back\\slash\nand a newline');
    expect(sampleValue(parsed, 't_events_total', { component: 'parser-test', topic: 'quote " backslash \\ newline \n end' })).toBe(2);
    // Labelled histograms stay apart per series, with their own _sum and _count.
    expect(sampleValue(parsed, 't_latency_seconds_count', { component: 'parser-test', topic: 'a' })).toBe(2);
    expect(sampleValue(parsed, 't_latency_seconds_bucket', { component: 'parser-test', topic: 'a', le: '0.0025' })).toBe(1);
    expect(sampleValue(parsed, 't_latency_seconds_bucket', { component: 'parser-test', topic: 'b', le: '30' })).toBe(0);
    expect(sampleValue(parsed, 't_latency_seconds_bucket', { component: 'parser-test', topic: 'b', le: '+Inf' })).toBe(1);
    expect(sampleValue(parsed, 't_summary', { component: 'parser-test', op: 'x', quantile: '0.99' })).toBeGreaterThan(90);
    expect(sampleValue(parsed, 't_empty_summary_count', { component: 'parser-test' })).toBe(0);
    expect(sampleValue(parsed, 't_gauge', { component: 'parser-test', kind: 'nan' })).toBeNaN();
    expect(sampleValue(parsed, 't_gauge', { component: 'parser-test', kind: 'neg_inf' })).toBe(-Infinity);
    expect(parsed.get('t_process_process_cpu_seconds_total')?.type).toBe('counter');
  });

  it("reads back driftwatch's own registry (lib/runtime/metrics.ts) with values in every family", async () => {
    const m = createMetrics('parser-test');
    m.eventsConsumed.inc({ topic: 't' }, 3);
    m.deadLetters.inc({ code: 'DW_INVALID_JSON', topic: 't' });
    m.consumerLag.set({ group: 'g', topic: 't', partition: '0' }, 7);
    m.batchDuration.observe({ topic: 't' }, 0.02);
    m.processingLatency.observe({ topic: 't' }, 1.5);
    m.windowCloseDelay.observe(3);
    m.scoringLatency.observe({ model: 'm', version: '1', role: 'champion' }, 0.004);
    await expectRoundTrip(m.registry, 'driftwatch_process_');
  });

  it("refuses prom-client's OpenMetrics output rather than misreading it", async () => {
    const r = new Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>();
    r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    new Counter({ name: 'om_events_total', help: 'x', registers: [r] }).inc();
    const text = await r.metrics();
    expect(text).toMatch(/# EOF\n$/);
    expect(() => parsePrometheusText(text)).toThrow(/OpenMetrics/);
  });

  it('rejects malformed expositions that prom-client never writes', () => {
    const bad = [
      'bad line here x y z\n',
      'metric{a="1"} x\n',
      'metric{a=1} 1\n',
      'metric{a="1" 1\n',
      'metric{1a="1"} 1\n',
      'metric 1 2 3\n',
      'metric 1 1.5\n', // timestamps are integer milliseconds
      '# TYPE c counter\nc -1\n',
      '# TYPE c countr\nc 1\n',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n',
      'a 1\nb 1\na{x="1"} 2\n',
      'a 1\na 1\n',
      'a{x="1",x="2"} 1\n',
      'a 1',
      '# TYPE a counter\n# TYPE a gauge\na 1\n',
      '# HELP a one\n# HELP a two\na 1\n',
      'a 1\n# TYPE a gauge\n',
      'a{x="\\q"} 1\n',
    ];
    for (const text of bad) expect(() => parsePrometheusText(text), JSON.stringify(text)).toThrow();
    const ok = parsePrometheusText('# HELP a ok \\\\ \\n\n# TYPE a gauge\na{x="1",} NaN 123\n# a free comment\n');
    expect(ok.get('a')!.samples).toHaveLength(1);
    expect(ok.get('a')!.help).toBe('ok \\ \n');
  });
});
