import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { OPS_METRICS, opsMetricsRows, sampleRegistry } from '../../../lib/grafana/ops-metrics.js';
import { committedOffsetGauge } from '../../../services/api/lib/lag.js';

describe('opsMetricsRows', () => {
  it('turns a real registry into ops_metrics rows: samples, labels without component, buckets with le', async () => {
    const m = createMetrics('scoring');
    m.eventsConsumed.inc({ topic: 'driftwatch.features.v1' }, 7);
    m.scoringLatency.observe({ model: 'credit-risk', version: '1', role: 'champion' }, 0.02);
    const rows = opsMetricsRows(await m.registry.getMetricsAsJSON(), { component: 'scoring', instance: 'i1', atMs: Date.parse('2024-01-01T00:00:00Z') });
    expect(rows).toContainEqual({
      ts: '2024-01-01 00:00:00.000',
      component: 'scoring',
      instance: 'i1',
      metric: OPS_METRICS.eventsConsumed,
      labels: { topic: 'driftwatch.features.v1' },
      value: 7,
    });
    const buckets = rows.filter((r) => r.metric === `${OPS_METRICS.scoringLatency}_bucket`);
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(1);
    expect(buckets.find((b) => b.labels.le === '0.01')?.value).toBe(0);
    expect(buckets.find((b) => b.labels.le === '0.025')?.value).toBe(1);
    expect(rows.some((r) => r.metric.startsWith('driftwatch_process_'))).toBe(false);
  });

  it('names only metrics the runtime registry or the API lag poller defines', async () => {
    const registry = createMetrics('api').registry;
    committedOffsetGauge(registry);
    const names = new Set((await registry.getMetricsAsJSON()).map((j) => j.name));
    for (const name of Object.values(OPS_METRICS)) expect(names, name).toContain(name);
  });
});

describe('sampleRegistry', () => {
  it("gives the rows opsMetricsRows gives for getMetricsAsJSON(), without collecting Node's process metrics", async () => {
    const m = createMetrics('label-joiner');
    m.eventsConsumed.inc({ topic: 't' }, 3);
    m.joinPending.set(5);
    m.consumerLag.set({ group: 'g', topic: 't', partition: '0' }, 2);
    m.scoringLatency.observe({ model: 'x', version: '1', role: 'champion' }, 0.3);
    const sample = { component: 'label-joiner', instance: 'i1', atMs: Date.parse('2024-01-01T00:00:00Z') };
    const sort = (rows: ReadonlyArray<{ metric: string; labels: Record<string, string> }>) =>
      [...rows].sort((a, b) => `${a.metric}${JSON.stringify(a.labels)}`.localeCompare(`${b.metric}${JSON.stringify(b.labels)}`));
    const rows = await sampleRegistry(m.registry, sample);
    expect(rows.length).toBeGreaterThan(3);
    expect(sort(rows)).toEqual(sort(opsMetricsRows(await m.registry.getMetricsAsJSON(), sample)));
  });
});
