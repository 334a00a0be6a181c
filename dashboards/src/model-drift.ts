/**
 * Model drift: the verdict per window, a feature × window heatmap, per-feature scores and p-values
 * with the thresholds that were applied, prediction drift, missing rates and schema changes.
 */
import {
  buildDashboard,
  byName,
  byRefId,
  colorText,
  DASHBOARD_LINKS,
  dashboardLink,
  dashedLine,
  heatmap,
  n,
  s,
  SEVERITY_MAPPINGS,
  SEVERITY_TEXT_MAPPINGS,
  stateTimeline,
  t,
  table,
  thresholds,
  timeseries,
} from './kit.js';
import { DRIFT_RATIO, IN } from './sql.js';
import { featureVariable, modelVariable, segmentVariable, versionVariable } from './variables.js';

export const MODEL_DRIFT_UID = 'dw-model-drift';

const SCOPE = `${IN.model} AND ${IN.version} AND ${IN.segment}`;

export const modelDrift = buildDashboard({
  uid: MODEL_DRIFT_UID,
  title: 'driftwatch / Model drift',
  description:
    "Feature and prediction drift per event-time window against the version's reference profile, with the method, threshold and p-values used, plus missing rates and schema changes.",
  tags: ['drift'],
  variables: [modelVariable(false), versionVariable, segmentVariable(false), featureVariable],
  links: [
    ...DASHBOARD_LINKS,
    dashboardLink('dw-overview', 'Overview', 'Every model at a glance'),
    dashboardLink('dw-performance', 'Performance & labels', 'Is the drift hurting performance?'),
  ],
  layout: [
    'Verdict',
    stateTimeline({
      title: 'Drift severity by version',
      description: 'Model-level verdict per window (worst in the interval): none, warning, critical. Severity rules: monitoring.severity in the configuration.',
      w: 16,
      h: 5,
      interval: '5m',
      mappings: SEVERITY_MAPPINGS,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('version'), n('level')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, model_version AS version, max(severity_level) AS level
            FROM model_drift_summary FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE}
            GROUP BY time, version
            ORDER BY time, version`,
        },
      ],
    }),
    timeseries({
      title: 'Share of drifted features',
      description:
        'Drifted features / monitored features per window (after the multiple-testing correction). Dataset drift when it reaches monitoring.drift.dataset_drift_share.',
      w: 8,
      h: 5,
      interval: '5m',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('version'), n('share')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, model_version AS version, max(drifted_share) AS share
            FROM model_drift_summary FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE}
            GROUP BY time, version
            ORDER BY time, version`,
        },
      ],
    }),
    'Features',
    heatmap({
      title: 'Drift by feature and window',
      description:
        'One row per feature, one column per interval. Colour = drift ratio on one scale for every method: score / threshold for distances, log(p) / log(threshold) for tests; 1 is the threshold, capped at 5.',
      w: 24,
      h: 10,
      interval: '5m',
      min: 0,
      max: 3,
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('feature'), n('drift_ratio')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, feature, max(${DRIFT_RATIO}) AS drift_ratio
            FROM drift_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.feature}
            GROUP BY time, feature
            ORDER BY time, feature`,
        },
      ],
    }),
    timeseries({
      title: 'Drift score by feature',
      description:
        "Each feature's statistic (its method: PSI, Jensen-Shannon, normalised Wasserstein, KS D...) with its threshold as a dashed line (distance methods: drift at or above it).",
      w: 12,
      h: 9,
      interval: '5m',
      overrides: [byRefId('B', dashedLine('red'))],
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('feature'), n('max_score')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, feature, max(score) AS max_score
            FROM drift_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.feature} AND threshold_kind = 'distance'
            GROUP BY time, feature
            ORDER BY time, feature`,
        },
        {
          refId: 'B',
          format: 'timeseries',
          columns: [t('time'), s('series'), n('max_threshold')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat(feature, ' threshold') AS series, max(threshold) AS max_threshold
            FROM drift_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.feature} AND threshold_kind = 'distance'
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    timeseries({
      title: 'p-value by feature',
      description:
        'Test p-values (adjusted for multiple testing when a correction is configured) on a log scale, with the significance threshold dashed: drift below it.',
      w: 12,
      h: 9,
      interval: '5m',
      log: true,
      overrides: [byRefId('B', dashedLine('red'))],
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('feature'), n('p')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, feature,
                   greatest(min(coalesce(p_value_adjusted, p_value)), 1e-12) AS p
            FROM drift_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.feature} AND threshold_kind = 'p_value'
            GROUP BY time, feature
            ORDER BY time, feature`,
        },
        {
          refId: 'B',
          format: 'timeseries',
          columns: [t('time'), s('series'), n('max_threshold')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat(feature, ' threshold') AS series, max(threshold) AS max_threshold
            FROM drift_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.feature} AND threshold_kind = 'p_value'
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    'Predictions and data quality',
    timeseries({
      title: 'Prediction drift',
      description: 'Drift of the model output distribution (feature __prediction__) against the reference predictions, with its threshold dashed.',
      w: 12,
      h: 8,
      interval: '5m',
      overrides: [byName('max_threshold', dashedLine('red'))],
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), n('max_score'), n('max_threshold')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, max(score) AS max_score, max(threshold) AS max_threshold
            FROM drift_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND feature = '__prediction__'
            GROUP BY time
            ORDER BY time`,
        },
      ],
    }),
    timeseries({
      title: 'Missing rate by feature',
      description: 'Share of events where the feature is missing (null or absent), with the reference rate dashed.',
      w: 12,
      h: 8,
      interval: '5m',
      unit: 'percentunit',
      min: 0,
      overrides: [byRefId('B', dashedLine())],
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('feature'), n('missing')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, feature, sum(missing_rate * n) / nullIf(sum(n), 0) AS missing
            FROM data_quality_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.feature}
            GROUP BY time, feature
            ORDER BY time, feature`,
        },
        {
          refId: 'B',
          format: 'timeseries',
          columns: [t('time'), s('series'), n('reference_missing')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat(feature, ' reference') AS series, max(reference_missing_rate) AS reference_missing
            FROM data_quality_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND ${IN.feature} AND schema_status != 'no_reference'
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    table({
      title: 'Schema changes',
      description: 'Features missing from the events, whose type changed, or new ones, against the reference profile (schema_status other than ok).',
      w: 12,
      h: 8,
      overrides: [byName('schema_status', colorText([{ id: 'thresholds', value: thresholds([null, 'orange']) }]))],
      queries: [
        {
          format: 'table',
          columns: [s('feature'), s('schema_status'), s('observed_type'), s('expected_type'), n('windows'), t('first_window'), t('last_window')],
          sql: `
            SELECT feature, schema_status, observed_type, expected_type, count() AS windows,
                   min(window_start) AS first_window, max(window_start) AS last_window
            FROM data_quality_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND schema_status NOT IN ('ok', 'no_reference')
            GROUP BY feature, schema_status, observed_type, expected_type
            ORDER BY last_window DESC, feature`,
        },
      ],
    }),
    table({
      title: 'Latest window: every feature',
      description:
        'The newest window of the selected versions: method, statistic, p-value (raw and adjusted), the threshold used, sample sizes and the verdict.',
      w: 12,
      h: 8,
      overrides: [byName('severity', colorText([{ id: 'mappings', value: SEVERITY_TEXT_MAPPINGS }]))],
      sortBy: [{ displayName: 'score', desc: true }],
      queries: [
        {
          format: 'table',
          columns: [
            s('version'),
            s('feature'),
            s('method'),
            n('score'),
            n('p_value'),
            n('p_value_adjusted'),
            n('threshold'),
            s('severity'),
            n('n_ref'),
            n('n_cur'),
            s('status'),
            t('window_start'),
          ],
          sql: `
            SELECT model_version AS version, feature, method, score, p_value, p_value_adjusted, threshold, severity, n_ref, n_cur, status, window_start
            FROM drift_metrics FINAL
            WHERE ${SCOPE} AND $__timeFilter(window_start)
              AND (model_version, window_start) IN (
                SELECT model_version, max(window_start) FROM drift_metrics
                WHERE ${SCOPE} AND $__timeFilter(window_start)
                GROUP BY model_version)
            ORDER BY version, feature`,
        },
      ],
    }),
  ],
});
