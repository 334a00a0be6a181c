/**
 * Performance and labels: realized performance from joined labels next to the label-free estimate
 * (CBPE), label coverage and delay, and a shadow challenger against the champion.
 */
import { GraphDrawStyle } from '@grafana/schema';
import { buildDashboard, byName, DASHBOARD_LINKS, dashboardLink, n, queryVariable, s, stat, t, table, thresholds, timeseries } from './kit.js';
import { IN } from './sql.js';
import { modelVariable, segmentVariable, versionVariable } from './variables.js';

export const PERFORMANCE_UID = 'dw-performance';

const SCOPE = `${IN.model} AND ${IN.version} AND ${IN.segment}`;
/** Realized values are averaged with their labels as weights, estimates with their predictions. */
const WEIGHTED = `sumIf(value * if(kind = 'realized', n_labeled, n_total), value IS NOT NULL)
                     / nullIf(sumIf(if(kind = 'realized', n_labeled, n_total), value IS NOT NULL), 0)`;

const metricVariable = queryVariable({
  name: 'metric',
  label: 'Metric',
  description: 'Performance metric (classification: accuracy, precision, recall, f1, roc_auc, log_loss, brier, ece; regression: mae, rmse, mape)',
  sql: `
    SELECT DISTINCT metric FROM performance_metrics
    WHERE ${IN.model} AND $__timeFilter(window_start) AND metric NOT IN ('label_coverage', 'label_delay_p50_ms', 'label_delay_p95_ms')
    ORDER BY metric`,
  multi: false,
  includeAll: false,
});

export const performance = buildDashboard({
  uid: PERFORMANCE_UID,
  title: 'driftwatch / Performance and labels',
  description:
    'Realized performance from delayed labels joined in the stream, the label-free CBPE estimate beside it, label coverage and delay, and shadow challengers scored on the same traffic as the champion.',
  tags: ['performance'],
  variables: [modelVariable(false), versionVariable, segmentVariable(false), metricVariable],
  links: [
    ...DASHBOARD_LINKS,
    dashboardLink('dw-overview', 'Overview', 'Every model at a glance'),
    dashboardLink('dw-model-drift', 'Model drift', 'What changed in the inputs?'),
  ],
  layout: [
    stat({
      title: 'Realized ${metric}',
      description: 'Champion, label-weighted mean over the time range.',
      w: 6,
      h: 4,
      decimals: 3,
      queries: [
        {
          format: 'table',
          columns: [n('realized')],
          sql: `
            SELECT sum(value * n_labeled) / nullIf(sum(n_labeled), 0) AS realized
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.metric} AND kind = 'realized' AND is_shadow = 0 AND value IS NOT NULL`,
        },
      ],
    }),
    stat({
      title: 'Estimated ${metric} (CBPE)',
      description: 'Champion, label-free estimate (classifiers), prediction-weighted mean over the time range.',
      w: 6,
      h: 4,
      decimals: 3,
      noValue: 'no estimate',
      queries: [
        {
          format: 'table',
          columns: [n('estimated')],
          sql: `
            SELECT sum(value * n_total) / nullIf(sum(n_total), 0) AS estimated
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.metric} AND kind = 'estimated' AND is_shadow = 0 AND value IS NOT NULL`,
        },
      ],
    }),
    stat({
      title: 'Label coverage (final windows)',
      description: 'Labeled / scored predictions over the windows whose label wait is over (is_final).',
      w: 6,
      h: 4,
      unit: 'percentunit',
      thresholds: thresholds([null, 'red'], [0.5, 'orange'], [0.8, 'green']),
      queries: [
        {
          format: 'table',
          columns: [n('coverage')],
          sql: `
            SELECT sum(n_labeled) / nullIf(sum(n_total), 0) AS coverage
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND metric = 'label_coverage' AND is_shadow = 0 AND is_final = 1`,
        },
      ],
    }),
    stat({
      title: 'Label delay p95',
      description: '95th percentile of the time from prediction to label, label-weighted over the time range.',
      w: 6,
      h: 4,
      unit: 'ms',
      queries: [
        {
          format: 'table',
          columns: [n('delay_p95_ms')],
          sql: `
            SELECT sum(value * n_labeled) / nullIf(sum(n_labeled), 0) AS delay_p95_ms
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND metric = 'label_delay_p95_ms' AND is_shadow = 0 AND value IS NOT NULL`,
        },
      ],
    }),
    timeseries({
      title: 'Realized vs estimated ${metric}',
      description:
        'Champion per version. The estimate (CBPE, calibrated on the reference) is available as soon as a window closes; the realized value fills in as labels arrive.',
      w: 24,
      h: 9,
      interval: '5m',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('metric_value')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat('v', model_version, ' ', kind) AS series, ${WEIGHTED} AS metric_value
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.metric} AND is_shadow = 0
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    timeseries({
      title: 'Label coverage',
      description: 'Share of predictions with a joined label per window, champion and shadow. Recent windows fill in as labels arrive.',
      w: 12,
      h: 8,
      interval: '5m',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('coverage')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat('v', model_version, if(is_shadow = 1, ' shadow', ' champion')) AS series,
                   sum(n_labeled) / nullIf(sum(n_total), 0) AS coverage
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND metric = 'label_coverage'
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    timeseries({
      title: 'Label delay',
      description: 'Median and 95th percentile of the prediction-to-label delay of the labels joined for each window.',
      w: 12,
      h: 8,
      interval: '5m',
      unit: 'ms',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('quantile'), n('delay_ms')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, if(metric = 'label_delay_p50_ms', 'p50', 'p95') AS quantile,
                   sum(value * n_labeled) / nullIf(sum(n_labeled), 0) AS delay_ms
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND is_shadow = 0 AND metric IN ('label_delay_p50_ms', 'label_delay_p95_ms') AND value IS NOT NULL
            GROUP BY time, quantile
            ORDER BY time, quantile`,
        },
      ],
    }),
    timeseries({
      title: 'Labeled and scored predictions',
      description: 'Predictions scored (champion) and how many of them have a label so far, per interval.',
      w: 12,
      h: 8,
      interval: '5m',
      drawStyle: GraphDrawStyle.Bars,
      decimals: 0,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), n('scored'), n('labeled')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, sum(n_total) AS scored, sum(n_labeled) AS labeled
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND metric = 'label_coverage' AND is_shadow = 0
            GROUP BY time
            ORDER BY time`,
        },
      ],
    }),
    timeseries({
      title: 'Shadow challenger vs champion: ${metric}',
      description:
        'The same traffic scored by the champion and by shadow versions (is_shadow). Realized values where labels exist, CBPE estimates dashed otherwise.',
      w: 12,
      h: 8,
      interval: '5m',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('metric_value')],
          sql: `
            SELECT $__timeInterval(window_start) AS time,
                   concat('v', model_version, if(is_shadow = 1, ' shadow', ' champion'), ' ', kind) AS series, ${WEIGHTED} AS metric_value
            FROM performance_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${IN.model} AND ${IN.segment} AND ${IN.metric}
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    table({
      title: 'Champion and challenger',
      description: 'Current role of each version (latest promotion) and its ${metric} over the time range, realized and estimated.',
      w: 24,
      h: 6,
      overrides: [byName('promoted_at', [{ id: 'unit', value: 'dateTimeAsIso' }])],
      queries: [
        {
          format: 'table',
          columns: [s('version'), s('role'), t('promoted_at'), s('reason'), n('realized'), n('estimated'), n('predictions')],
          sql: `
            SELECT v.model_version AS version, if(r.current_role = '', 'none', r.current_role) AS role, r.promoted_at AS promoted_at, r.promotion_reason AS reason,
                   v.realized, v.estimated, v.predictions
            FROM (
              SELECT model_version,
                     sumIf(value * n_labeled, kind = 'realized' AND value IS NOT NULL) / nullIf(sumIf(n_labeled, kind = 'realized' AND value IS NOT NULL), 0) AS realized,
                     sumIf(value * n_total, kind = 'estimated' AND value IS NOT NULL) / nullIf(sumIf(n_total, kind = 'estimated' AND value IS NOT NULL), 0) AS estimated,
                     maxIf(n_total, kind = 'estimated') AS predictions
              FROM performance_metrics FINAL
              WHERE $__timeFilter(window_start) AND ${IN.model} AND ${IN.segment} AND ${IN.metric}
              GROUP BY model_version
            ) AS v
            LEFT JOIN (
              SELECT model_version, argMax(role, at) AS current_role, max(at) AS promoted_at, argMax(reason, at) AS promotion_reason
              FROM model_promotions
              WHERE ${IN.model} AND action IN ('promote', 'rollback')
              GROUP BY model_version
            ) AS r ON r.model_version = v.model_version
            ORDER BY version
            SETTINGS join_use_nulls = 0`,
        },
      ],
    }),
  ],
});
