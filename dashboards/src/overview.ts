/**
 * Overview: every model's health on one page — drift severity, performance (realized and
 * estimated), KPIs against their baseline, label coverage, and the pipeline's status.
 */
import { BigValueColorMode, GraphDrawStyle } from '@grafana/schema';
import {
  buildDashboard,
  byName,
  colorText,
  DASHBOARD_LINKS,
  dashboardLink,
  n,
  s,
  SEVERITY_MAPPINGS,
  SEVERITY_TEXT_MAPPINGS,
  stat,
  stateTimeline,
  t,
  table,
  thresholds,
  timeseries,
} from './kit.js';
import { consumerPartitions, IN, OPS_METRICS } from './sql.js';
import { modelVariable } from './variables.js';

export const OVERVIEW_UID = 'dw-overview';

const modelLabel = "concat(model_name, ' v', model_version)";

export const overview = buildDashboard({
  uid: OVERVIEW_UID,
  title: 'driftwatch / Overview',
  description:
    'Every monitored model at a glance: drift severity, realized and estimated performance, KPIs against their baseline, label coverage and pipeline status.',
  tags: ['overview'],
  variables: [modelVariable(true)],
  links: [
    ...DASHBOARD_LINKS,
    dashboardLink('dw-model-drift', 'Model drift', 'Feature drift, prediction drift, data quality'),
    dashboardLink('dw-performance', 'Performance & labels', 'Realized vs estimated performance, label coverage and delay, shadow models'),
    dashboardLink('dw-kpis', 'Business KPIs', 'KPIs per segment against their baseline'),
    dashboardLink('dw-pipeline', 'Pipeline operations', 'Throughput, lag, dead letters, join state, scoring latency'),
  ],
  layout: [
    stat({
      title: 'Models',
      description: 'Models with monitoring results in the time range.',
      w: 4,
      h: 4,
      queries: [
        {
          format: 'table',
          columns: [n('models')],
          sql: `SELECT count(DISTINCT model_name) AS models FROM model_drift_summary WHERE $__timeFilter(window_start) AND ${IN.model}`,
        },
      ],
    }),
    stat({
      title: 'Model versions drifting now',
      description: 'Model versions whose latest window (whole population) has drift severity warning or critical.',
      w: 4,
      h: 4,
      thresholds: thresholds([null, 'green'], [1, 'orange']),
      colorMode: BigValueColorMode.Background,
      queries: [
        {
          format: 'table',
          columns: [n('drifting')],
          sql: `
            SELECT countIf(level >= 1) AS drifting FROM (
              SELECT model_name, model_version, argMax(severity_level, window_start) AS level
              FROM model_drift_summary FINAL
              WHERE $__timeFilter(window_start) AND segment = '' AND ${IN.model}
              GROUP BY model_name, model_version)`,
        },
      ],
    }),
    stat({
      title: 'Alerts emitted',
      description: 'Alert events published by the retrain trigger in the time range.',
      w: 4,
      h: 4,
      thresholds: thresholds([null, 'green'], [1, 'orange']),
      queries: [{ format: 'table', columns: [n('alerts')], sql: `SELECT count() AS alerts FROM alerts FINAL WHERE $__timeFilter(created_at) AND ${IN.model}` }],
    }),
    stat({
      title: 'Retrain events',
      description: 'RetrainRequested events published in the time range.',
      w: 4,
      h: 4,
      queries: [
        {
          format: 'table',
          columns: [n('retrains')],
          sql: `SELECT count() AS retrains FROM retrain_events FINAL WHERE $__timeFilter(created_at) AND ${IN.model}`,
        },
      ],
    }),
    stat({
      title: 'Dead letters',
      description: 'Events dead-lettered in the time range, every component.',
      w: 4,
      h: 4,
      thresholds: thresholds([null, 'green'], [1, 'orange'], [100, 'red']),
      links: [dashboardLink('dw-pipeline', 'Pipeline operations', 'Throughput, lag, dead letters by code')],
      queries: [
        { format: 'table', columns: [n('dead_letters')], sql: 'SELECT count() AS dead_letters FROM dead_letter_events FINAL WHERE $__timeFilter(failed_at)' },
      ],
    }),
    stat({
      title: 'Newest window age',
      description: 'Time since the end of the newest window written for the selected models. It grows when the pipeline stalls.',
      w: 4,
      h: 4,
      unit: 's',
      thresholds: thresholds([null, 'green'], [900, 'orange'], [3600, 'red']),
      queries: [
        {
          format: 'table',
          columns: [n('seconds_behind')],
          sql: `SELECT dateDiff('second', max(window_end), now64(3)) AS seconds_behind FROM model_drift_summary WHERE ${IN.model}`,
        },
      ],
    }),
    table({
      title: 'Model health',
      description:
        'One row per model version, whole population. Drift: latest window. Performance: label-weighted (realized) or prediction-weighted (estimated, CBPE) mean over the time range. Label coverage: latest final window.',
      w: 24,
      h: 8,
      interval: '5m',
      dataLinks: [{ title: 'Drift of ${__data.fields.model}', url: '/d/dw-model-drift?var-model=${__data.fields.model}&${__url_time_range}' }],
      overrides: [
        byName('drift_severity', colorText([{ id: 'mappings', value: SEVERITY_TEXT_MAPPINGS }])),
        byName('label_coverage', [{ id: 'unit', value: 'percentunit' }]),
        byName('last_window_end', [{ id: 'unit', value: 'dateTimeAsIso' }]),
      ],
      sortBy: [{ displayName: 'drift_level', desc: true }],
      queries: [
        {
          format: 'table',
          columns: [
            s('model'),
            s('version'),
            s('drift_severity'),
            n('drift_level'),
            n('drifted_features'),
            n('prediction_drift'),
            n('accuracy_realized'),
            n('accuracy_estimated'),
            n('roc_auc_realized'),
            n('mae_realized'),
            n('label_coverage'),
            t('last_window_end'),
          ],
          sql: `
            SELECT d.model_name AS model, d.model_version AS version, d.latest_severity AS drift_severity, d.latest_level AS drift_level,
                   d.latest_drifted AS drifted_features, d.latest_prediction_drift AS prediction_drift,
                   p.accuracy_realized, p.accuracy_estimated, p.roc_auc_realized, p.mae_realized, p.label_coverage,
                   d.last_window_end AS last_window_end
            FROM (
              SELECT model_name, model_version,
                     argMax(severity, window_start) AS latest_severity, argMax(severity_level, window_start) AS latest_level,
                     argMax(n_drifted, window_start) AS latest_drifted, argMax(prediction_drift, window_start) AS latest_prediction_drift,
                     max(window_end) AS last_window_end
              FROM model_drift_summary FINAL
              WHERE $__timeFilter(window_start) AND segment = '' AND ${IN.model}
              GROUP BY model_name, model_version
            ) AS d
            LEFT JOIN (
              SELECT model_name, model_version,
                     sumIf(value * n_labeled, metric = 'accuracy' AND kind = 'realized' AND value IS NOT NULL) / nullIf(sumIf(n_labeled, metric = 'accuracy' AND kind = 'realized' AND value IS NOT NULL), 0) AS accuracy_realized,
                     sumIf(value * n_total, metric = 'accuracy' AND kind = 'estimated' AND value IS NOT NULL) / nullIf(sumIf(n_total, metric = 'accuracy' AND kind = 'estimated' AND value IS NOT NULL), 0) AS accuracy_estimated,
                     sumIf(value * n_labeled, metric = 'roc_auc' AND kind = 'realized' AND value IS NOT NULL) / nullIf(sumIf(n_labeled, metric = 'roc_auc' AND kind = 'realized' AND value IS NOT NULL), 0) AS roc_auc_realized,
                     sumIf(value * n_labeled, metric = 'mae' AND kind = 'realized' AND value IS NOT NULL) / nullIf(sumIf(n_labeled, metric = 'mae' AND kind = 'realized' AND value IS NOT NULL), 0) AS mae_realized,
                     argMaxIf(value, window_start, metric = 'label_coverage' AND is_final = 1 AND value IS NOT NULL) AS label_coverage
              FROM performance_metrics FINAL
              WHERE $__timeFilter(window_start) AND segment = '' AND is_shadow = 0 AND ${IN.model}
              GROUP BY model_name, model_version
            ) AS p ON p.model_name = d.model_name AND p.model_version = d.model_version
            ORDER BY drift_level DESC, model, version
            SETTINGS join_use_nulls = 1`,
        },
      ],
    }),
    stateTimeline({
      title: 'Drift severity',
      description: 'Worst drift severity per interval and model version (whole population): none, warning, critical.',
      w: 12,
      h: 8,
      interval: '5m',
      mappings: SEVERITY_MAPPINGS,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('model'), n('level')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, ${modelLabel} AS model, max(severity_level) AS level
            FROM model_drift_summary FINAL
            WHERE $__timeFilter(window_start) AND segment = '' AND ${IN.model}
            GROUP BY time, model
            ORDER BY time, model`,
        },
      ],
    }),
    timeseries({
      title: 'Primary metric: realized vs estimated',
      description: 'Accuracy (classifiers) and MAE (regressors), whole population, champion. Realized from joined labels, estimated by CBPE without labels.',
      w: 12,
      h: 8,
      interval: '5m',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('metric_value')],
          sql: `
            SELECT $__timeInterval(window_start) AS time,
                   concat(${modelLabel}, ' ', metric, ' (', kind, ')') AS series,
                   sumIf(value * if(kind = 'realized', n_labeled, n_total), value IS NOT NULL)
                     / nullIf(sumIf(if(kind = 'realized', n_labeled, n_total), value IS NOT NULL), 0) AS metric_value
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND segment = '' AND is_shadow = 0 AND ${IN.model}
              AND metric IN ('accuracy', 'mae')
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    timeseries({
      title: 'Label coverage',
      description: 'Share of predictions with a joined label, per window. Recent windows are incomplete until their labels arrive.',
      w: 8,
      h: 8,
      interval: '5m',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('model'), n('coverage')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, ${modelLabel} AS model,
                   sum(n_labeled) / nullIf(sum(n_total), 0) AS coverage
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND segment = '' AND is_shadow = 0 AND metric = 'label_coverage' AND ${IN.model}
            GROUP BY time, model
            ORDER BY time, model`,
        },
      ],
    }),
    timeseries({
      title: 'KPIs against baseline',
      description: 'Relative change of each KPI against its reference baseline (0 = at baseline), whole population.',
      w: 8,
      h: 8,
      interval: '5m',
      unit: 'percentunit',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('change')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat(${modelLabel}, ' ', kpi) AS series,
                   avg((value - baseline) / nullIf(abs(baseline), 0)) AS change
            FROM kpi_metrics FINAL
            WHERE $__timeFilter(window_start) AND segment = '' AND baseline IS NOT NULL AND ${IN.model}
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    timeseries({
      title: 'Drifted features',
      description: 'Number of drifted features in the latest window of each interval, per model version (whole population).',
      w: 8,
      h: 8,
      interval: '5m',
      drawStyle: GraphDrawStyle.Bars,
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('model'), n('drifted')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, ${modelLabel} AS model, max(n_drifted) AS drifted
            FROM model_drift_summary FINAL
            WHERE $__timeFilter(window_start) AND segment = '' AND ${IN.model}
            GROUP BY time, model
            ORDER BY time, model`,
        },
      ],
    }),
    table({
      title: 'Pipeline status',
      description:
        'Per component: running instances, age of the newest ops sample and events consumed in the range. Consumer lag is per consumer group, next to it. Details on the Pipeline operations dashboard.',
      w: 12,
      h: 6,
      links: [dashboardLink('dw-pipeline', 'Pipeline operations', 'Throughput, lag, dead letters by code')],
      overrides: [byName('sample_age_s', [{ id: 'unit', value: 's' }, { id: 'thresholds', value: thresholds([null, 'green'], [120, 'red']) }, ...colorText()])],
      queries: [
        {
          format: 'table',
          columns: [s('component'), n('instances'), n('sample_age_s'), n('events_consumed')],
          sql: `
            SELECT component,
                   uniqExact(instance) AS instances,
                   dateDiff('second', max(ts), now64(3)) AS sample_age_s,
                   sumIf(inc, metric = '${OPS_METRICS.eventsConsumed}') AS events_consumed
            FROM (
              SELECT component, instance, metric, ts,
                     value - lagInFrame(value, 1, value) OVER w AS d, if(d < 0, value, d) AS inc
              FROM ops_metrics
              WHERE $__timeFilter(ts)
              WINDOW w AS (PARTITION BY component, instance, metric, labels ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
            )
            GROUP BY component
            ORDER BY component`,
        },
      ],
    }),
    table({
      title: 'Consumer groups',
      description:
        'Per Kafka consumer group (whichever process consumes for it; the API measures them all): the latest lag, summed over partitions, and the offsets it committed in the range. Lag with nothing committed is a stalled consumer.',
      w: 12,
      h: 6,
      links: [dashboardLink('dw-pipeline', 'Pipeline operations', 'Consumer lag and progress')],
      queries: [
        {
          format: 'table',
          columns: [s('consumer_group'), n('lag'), n('committed')],
          sql: `
            SELECT consumer_group, sum(lag) AS lag, sum(advanced) AS committed
            FROM (${consumerPartitions()})
            GROUP BY consumer_group
            ORDER BY consumer_group`,
        },
      ],
    }),
  ],
});
