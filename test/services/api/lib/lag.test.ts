import { describe, expect, it } from 'vitest';
import { committedOffsetGauge, defaultLagGroups, measureLag, parseLagGroups } from '../../../../services/api/lib/lag.js';
import { createMetrics } from '../../../../lib/runtime/metrics.js';
import { TOPIC_SUFFIXES } from '../../../../lib/contracts/topics.js';

describe('API_LAG_GROUPS', () => {
  it('resolves topic keys in the namespace and keeps full names', () => {
    expect(parseLagGroups(['dw.label-joiner:predictions+outcomes', 'dw.metrics:other.topic.v1'], 'ns')).toEqual([
      { group: 'dw.label-joiner', topics: ['ns.predictions.v1', 'ns.outcomes.v1'] },
      { group: 'dw.metrics', topics: ['other.topic.v1'] },
    ]);
  });

  it('reports every malformed entry at once', () => {
    try {
      parseLagGroups(['nogroup', 'g:', ':t', 'g:a b', 'g:t:x', 'ok:predictions'], 'ns');
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe('DW_CONFIG_INVALID');
      expect((err as { problems: string[] }).problems).toHaveLength(5);
    }
  });
});

describe('default lag groups', () => {
  it("mirror the processors' group ids and input topics", async () => {
    const { INGEST_TOPIC_KEYS } = await import('../../../../stream-processors/ingest/core.js');
    const { COMPONENT: WINDOW_METRICS } = await import('../../../../stream-processors/window-metrics/processor.js');
    const groups = defaultLagGroups('ns', 'driftwatch-scoring');
    expect(groups).toEqual([
      { group: 'ns.ingest', topics: INGEST_TOPIC_KEYS.map((k) => `ns.${TOPIC_SUFFIXES[k]}`) },
      { group: 'ns.label-joiner', topics: ['ns.predictions.v1', 'ns.outcomes.v1'] },
      { group: `ns.${WINDOW_METRICS}`, topics: ['ns.predictions.v1', 'ns.labeled-predictions.v1'] },
      { group: 'driftwatch-scoring', topics: ['ns.features.v1'] },
    ]);
  });
});

describe('measureLag', () => {
  const lagOf = (committed: number, high: number) => ({ committed, high, lag: high - committed });

  it('writes lag and committed offset per group, topic and partition; a failing group does not stop the others', async () => {
    const metrics = createMetrics('api');
    const errors: string[] = [];
    const kafka = {
      async consumerLag(group: string, topics: readonly string[]) {
        if (group === 'broken') throw new Error('coordinator not available');
        return topics.flatMap((topic) => [
          { topic, partition: 0, ...lagOf(10, 12) },
          { topic, partition: 1, ...lagOf(0, 4) },
        ]);
      },
    };
    await measureLag(
      kafka,
      [
        { group: 'ns.label-joiner', topics: ['ns.predictions.v1'] },
        { group: 'broken', topics: ['ns.features.v1'] },
      ],
      metrics,
      (group) => errors.push(group),
    );
    const values = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels.group, v.labels.partition, v.value]);
    expect(await values('driftwatch_consumer_lag')).toEqual([
      ['ns.label-joiner', '0', 2],
      ['ns.label-joiner', '1', 4],
    ]);
    expect(await values('driftwatch_consumer_committed_offset')).toEqual([
      ['ns.label-joiner', '0', 10],
      ['ns.label-joiner', '1', 0],
    ]);
    expect(errors).toEqual(['broken']);
    expect((await metrics.lagPollErrors.get()).values).toEqual([expect.objectContaining({ labels: { group: 'broken' }, value: 1 })]);
  });

  it('registers the committed-offset gauge once per registry', () => {
    const metrics = createMetrics('api');
    expect(committedOffsetGauge(metrics.registry)).toBe(committedOffsetGauge(metrics.registry));
  });
});
