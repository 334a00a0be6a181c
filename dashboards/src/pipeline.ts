/**
 * Pipeline operations, from the processes' own metrics (ops_metrics, sampled from each process's
 * prom-client registry; lib/grafana/ops-metrics.ts is the contract) and from dead_letter_events.
 */
import { GraphDrawStyle, StackingMode } from '@grafana/schema';
import { buildDashboard, byName, DASHBOARD_LINKS, dashboardLink, n, queryVariable, s, t, table, timeseries } from './kit.js';
import { counterIncreases, histogramQuantiles, IN, OPS_METRICS } from './sql.js';

export const PIPELINE_UID = 'dw-pipeline';

const componentVariable = queryVariable({
  name: 'component',
  label: 'Component',
  description: 'driftwatch process (ingest, label-joiner, window-metrics, retrain-trigger, scoring, api)',
  sql: `
    SELECT component FROM (
      SELECT component FROM ops_metrics WHERE $__timeFilter(ts)
      UNION DISTINCT
      SELECT component FROM dead_letter_events WHERE $__timeFilter(failed_at)
    )
    ORDER BY component`,
  multi: true,
  includeAll: true,
  current: 'all',
});

const consumerGroupVariable = queryVariable({
  name: 'consumer_group',
  label: 'Consumer group',
  description: 'Kafka consumer group, as the lag samples name it (the API measures every group, whichever process consumes for it)',
  sql: `
    SELECT DISTINCT labels['group'] AS consumer_group
    FROM ops_metrics
    WHERE metric = '${OPS_METRICS.consumerLag}' AND $__timeFilter(ts)
    ORDER BY consumer_group`,
  multi: true,
  includeAll: true,
  current: 'all',
});

/** Sum of a counter's increases per interval and series label, as a per-second rate. */
function ratePerSecond(metric: string | readonly string[], seriesExpr: string, valueName: string): string {
  return `
    SELECT t AS time, ${seriesExpr} AS series, sum(inc) / $__interval_s AS ${valueName}
    FROM (${counterIncreases(metric)})
    GROUP BY time, series
    ORDER BY time, series`;
}

export const pipeline = buildDashboard({
  uid: PIPELINE_UID,
  title: 'driftwatch / Pipeline operations',
  description:
    'Throughput, consumer lag, dead letters by code, label-join state, scoring latency and fallbacks, and window close delay of every driftwatch process.',
  tags: ['operations'],
  variables: [componentVariable, consumerGroupVariable],
  links: [...DASHBOARD_LINKS, dashboardLink('dw-overview', 'Overview', 'Every model at a glance')],
  layout: [
    'Flow',
    timeseries({
      title: 'Throughput',
      description: 'Events consumed per second, per component and topic (increase of driftwatch_events_consumed_total; restarts handled).',
      w: 8,
      h: 8,
      interval: '1m',
      unit: 'reqps',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('events_per_s')],
          sql: ratePerSecond(OPS_METRICS.eventsConsumed, "concat(component, ' ', labels['topic'])", 'events_per_s'),
        },
      ],
    }),
    // Lag and progress are about consumer groups, not about the process that reported them: the API
    // measures every group (its samples carry component 'api'), a group's own process may report it
    // too. So these two panels follow the consumer_group variable, not component, and take the newest
    // sample of each partition across reporters instead of adding the reporters up.
    timeseries({
      title: 'Consumer lag',
      description:
        'Messages behind the end of each topic, per consumer group: the newest sample of each partition in the interval, whichever process reported it (the API measures every group), summed over partitions.',
      w: 8,
      h: 8,
      interval: '1m',
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('lag')],
          sql: `
            SELECT t AS time, concat(consumer_group, ' ', topic) AS series, sum(v) AS lag
            FROM (
              SELECT $__timeInterval(ts) AS t, labels['group'] AS consumer_group, labels['topic'] AS topic, labels['partition'] AS partition, argMax(value, ts) AS v
              FROM ops_metrics
              WHERE metric = '${OPS_METRICS.consumerLag}' AND $__timeFilter(ts) AND ${IN.consumerGroup}
              GROUP BY t, consumer_group, topic, partition
            )
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    timeseries({
      title: 'Consumer progress',
      description:
        'Offsets committed per second, per consumer group (increase of the committed offsets the API lag poller measures, summed over partitions). Lag with no progress is a stalled consumer (alert dw-consumer-stalled).',
      w: 8,
      h: 8,
      interval: '1m',
      unit: 'reqps',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('consumer_group'), n('committed_per_s')],
          sql: `
            SELECT t AS time, consumer_group, sum(inc) / $__interval_s AS committed_per_s
            FROM (
              SELECT t, consumer_group, greatest(c - lagInFrame(c, 1, c) OVER w, 0) AS inc
              FROM (
                SELECT $__timeInterval(ts) AS t, labels['group'] AS consumer_group, labels['topic'] AS topic, labels['partition'] AS partition, max(value) AS c
                FROM ops_metrics
                WHERE metric = '${OPS_METRICS.consumerCommitted}' AND $__timeFilter(ts) AND ${IN.consumerGroup}
                GROUP BY t, consumer_group, topic, partition
              )
              WINDOW w AS (PARTITION BY consumer_group, topic, partition ORDER BY t ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
            )
            GROUP BY time, consumer_group
            ORDER BY time, consumer_group`,
        },
      ],
    }),
    'Dead letters',
    timeseries({
      title: 'Dead letters by code',
      description: 'Events sent to the dead-letter topic per interval, by error code (docs/errors.md explains each code).',
      w: 12,
      h: 8,
      interval: '1m',
      drawStyle: GraphDrawStyle.Bars,
      stacking: StackingMode.Normal,
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('code'), n('dead_letters')],
          sql: `
            SELECT $__timeInterval(failed_at) AS time, code, count() AS dead_letters
            FROM dead_letter_events FINAL
            WHERE $__timeFilter(failed_at) AND ${IN.component}
            GROUP BY time, code
            ORDER BY time, code`,
        },
      ],
    }),
    table({
      title: 'Latest dead letters',
      description: 'The newest dead-lettered events: when, which component, the code and reason, and where the original record is (topic, partition, offset).',
      w: 12,
      h: 8,
      overrides: [byName('failed_at', [{ id: 'unit', value: 'dateTimeAsIso' }])],
      queries: [
        {
          format: 'table',
          columns: [t('failed_at'), s('component'), s('code'), s('reason'), s('source_topic'), n('source_partition'), n('source_offset')],
          sql: `
            SELECT failed_at, component, code, reason, source_topic, source_partition, source_offset
            FROM dead_letter_events FINAL
            WHERE $__timeFilter(failed_at) AND ${IN.component}
            ORDER BY failed_at DESC
            LIMIT 100`,
        },
      ],
    }),
    'Label join',
    timeseries({
      title: 'Join state',
      description: 'Predictions waiting for their label and the estimated heap they hold (label-joiner), latest sample per interval summed over instances.',
      w: 12,
      h: 8,
      interval: '1m',
      overrides: [
        byName('bytes', [
          { id: 'unit', value: 'bytes' },
          { id: 'custom.axisPlacement', value: 'right' },
        ]),
      ],
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), n('pending'), n('bytes')],
          sql: `
            SELECT t AS time, sumIf(v, metric = '${OPS_METRICS.joinPending}') AS pending, sumIf(v, metric = '${OPS_METRICS.joinPendingBytes}') AS bytes
            FROM (
              SELECT $__timeInterval(ts) AS t, instance, metric, argMax(value, ts) AS v
              FROM ops_metrics
              WHERE metric IN ('${OPS_METRICS.joinPending}', '${OPS_METRICS.joinPendingBytes}') AND $__timeFilter(ts) AND ${IN.component}
              GROUP BY t, instance, metric
            )
            GROUP BY time
            ORDER BY time`,
        },
      ],
    }),
    timeseries({
      title: 'Join results',
      description: 'Join outcomes per second by kind: labeled, unlabeled (label wait expired), late_label, duplicates.',
      w: 12,
      h: 8,
      interval: '1m',
      unit: 'reqps',
      queries: [
        { format: 'timeseries', columns: [t('time'), s('series'), n('per_s')], sql: ratePerSecond(OPS_METRICS.joinResults, "labels['kind']", 'per_s') },
      ],
    }),
    'Scoring',
    timeseries({
      title: 'Scoring latency',
      description:
        'p50 and p99 of model inference time per micro-batch, from the driftwatch_scoring_latency_seconds histogram (Prometheus histogram_quantile over each interval).',
      w: 12,
      h: 8,
      interval: '1m',
      unit: 's',
      queries: [{ format: 'timeseries', columns: [t('time'), s('quantile'), n('seconds')], sql: histogramQuantiles(OPS_METRICS.scoringLatency, [0.5, 0.99]) }],
    }),
    timeseries({
      title: 'Predictions, fallbacks and errors',
      description: 'Per second: predictions made (by role), predictions served by a fallback (by reason) and model load or inference failures (by kind).',
      w: 12,
      h: 8,
      interval: '1m',
      unit: 'reqps',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('per_s')],
          sql: ratePerSecond(
            [OPS_METRICS.scoringPredictions, OPS_METRICS.scoringFallbacks, OPS_METRICS.scoringErrors],
            "concat(multiIf(metric = '" +
              OPS_METRICS.scoringPredictions +
              "', 'predictions', metric = '" +
              OPS_METRICS.scoringFallbacks +
              "', 'fallback', 'error'), ' ', coalesce(nullIf(labels['role'], ''), nullIf(labels['reason'], ''), labels['kind']))",
            'per_s',
          ),
        },
      ],
    }),
    'Windows',
    timeseries({
      title: 'Window close delay',
      description:
        "Wall time from a window's end to its rows being written (p50, p99 of driftwatch_window_close_delay_seconds). Includes the allowed lateness and the watermark delay by design.",
      w: 12,
      h: 8,
      interval: '1m',
      unit: 's',
      queries: [
        { format: 'timeseries', columns: [t('time'), s('quantile'), n('seconds')], sql: histogramQuantiles(OPS_METRICS.windowCloseDelay, [0.5, 0.99]) },
      ],
    }),
    timeseries({
      title: 'Windows closed',
      description: 'Windows finalised per interval, by kind.',
      w: 12,
      h: 8,
      interval: '1m',
      drawStyle: GraphDrawStyle.Bars,
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('windows')],
          sql: `
            SELECT t AS time, labels['kind'] AS series, sum(inc) AS windows
            FROM (${counterIncreases(OPS_METRICS.windowsClosed)})
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
  ],
});
