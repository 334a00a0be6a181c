/**
 * Template variables shared by the model dashboards. Each query returns one column (value = text),
 * which every version of the ClickHouse plugin's variable support reads the same way.
 */
import { queryVariable } from './kit.js';
import { IN, SEGMENT_LABEL } from './sql.js';

export const modelVariable = (multi: boolean) =>
  queryVariable({
    name: 'model',
    label: 'Model',
    description: 'Model name (models with monitoring results in the time range)',
    sql: `
      SELECT model_name FROM (
        SELECT model_name FROM model_drift_summary WHERE $__timeFilter(window_start)
        UNION DISTINCT
        SELECT model_name FROM performance_metrics WHERE $__timeFilter(window_start)
      )
      ORDER BY model_name`,
    multi,
    includeAll: multi,
    current: multi ? 'all' : undefined,
  });

export const versionVariable = queryVariable({
  name: 'version',
  label: 'Version',
  description: 'Model version(s) of the selected model',
  sql: `
    SELECT model_version FROM (
      SELECT model_version FROM model_drift_summary WHERE ${IN.model} AND $__timeFilter(window_start)
      UNION DISTINCT
      SELECT model_version FROM performance_metrics WHERE ${IN.model} AND $__timeFilter(window_start)
    )
    ORDER BY model_version`,
  multi: true,
  includeAll: true,
  current: 'all',
});

export const segmentVariable = (multi: boolean) =>
  queryVariable({
    name: 'segment',
    label: 'Segment',
    description: "Population segment ('overall' = every event; others are key=value slices from the events' segment map)",
    sql: `
      SELECT segment_label FROM (
        SELECT ${SEGMENT_LABEL} AS segment_label FROM model_drift_summary WHERE ${IN.model} AND $__timeFilter(window_start)
        UNION DISTINCT
        SELECT ${SEGMENT_LABEL} AS segment_label FROM performance_metrics WHERE ${IN.model} AND $__timeFilter(window_start)
      )
      ORDER BY segment_label`,
    multi,
    includeAll: multi,
    current: multi ? 'all' : { value: 'overall' },
  });

export const featureVariable = queryVariable({
  name: 'feature',
  label: 'Feature',
  description: 'Input feature(s); the prediction distribution has its own panel',
  sql: `
    SELECT DISTINCT feature FROM drift_metrics
    WHERE ${IN.model} AND ${IN.version} AND feature != '__prediction__' AND $__timeFilter(window_start)
    ORDER BY feature`,
  multi: true,
  includeAll: true,
  current: 'all',
});
