/**
 * Business KPIs: the KPIs declared in configuration (`kpis:`), per segment, against the baseline
 * measured on the reference data.
 */
import { barchart, buildDashboard, byName, byRefId, DASHBOARD_LINKS, dashboardLink, dashedLine, n, queryVariable, s, t, table, timeseries } from './kit.js';
import { IN, SEGMENT_LABEL } from './sql.js';
import { modelVariable, segmentVariable, versionVariable } from './variables.js';

export const KPIS_UID = 'dw-kpis';

const SCOPE = `${IN.model} AND ${IN.version} AND ${IN.segment} AND ${IN.kpi}`;

const kpiVariable = queryVariable({
  name: 'kpi',
  label: 'KPI',
  description: 'KPIs declared in the configuration (kpis:) for the selected model',
  sql: `
    SELECT DISTINCT kpi FROM kpi_metrics
    WHERE ${IN.model} AND $__timeFilter(window_start)
    ORDER BY kpi`,
  multi: true,
  includeAll: true,
  current: 'all',
});

export const kpis = buildDashboard({
  uid: KPIS_UID,
  title: 'driftwatch / Business KPIs',
  description:
    'Business KPIs per event-time window and segment (mean, sum, count, rate or ratio of a per-event expression), compared with their baseline on the reference data.',
  tags: ['kpi'],
  variables: [modelVariable(false), versionVariable, segmentVariable(true), kpiVariable],
  links: [
    ...DASHBOARD_LINKS,
    dashboardLink('dw-overview', 'Overview', 'Every model at a glance'),
    dashboardLink('dw-performance', 'Performance & labels', 'Model performance behind the KPIs'),
  ],
  layout: [
    timeseries({
      title: 'KPIs by segment',
      description: 'Each KPI per segment (event-weighted mean over the interval), with the reference baseline dashed.',
      w: 24,
      h: 9,
      interval: '5m',
      overrides: [byRefId('B', dashedLine())],
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('kpi_value')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat(kpi, ' · ', ${SEGMENT_LABEL}) AS series,
                   sumIf(value * n, value IS NOT NULL) / nullIf(sumIf(n, value IS NOT NULL), 0) AS kpi_value
            FROM kpi_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE}
            GROUP BY time, series
            ORDER BY time, series`,
        },
        {
          refId: 'B',
          format: 'timeseries',
          columns: [t('time'), s('series'), n('kpi_baseline')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat(kpi, ' · ', ${SEGMENT_LABEL}, ' baseline') AS series, avg(baseline) AS kpi_baseline
            FROM kpi_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND baseline IS NOT NULL
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    timeseries({
      title: 'Change against baseline',
      description: '(value - baseline) / |baseline| per KPI and segment; 0 means at baseline, -0.1 a 10% drop.',
      w: 12,
      h: 8,
      interval: '5m',
      unit: 'percentunit',
      queries: [
        {
          format: 'timeseries',
          columns: [t('time'), s('series'), n('change')],
          sql: `
            SELECT $__timeInterval(window_start) AS time, concat(kpi, ' · ', ${SEGMENT_LABEL}) AS series,
                   (sumIf(value * n, value IS NOT NULL) / nullIf(sumIf(n, value IS NOT NULL), 0) - avg(baseline)) / nullIf(abs(avg(baseline)), 0) AS change
            FROM kpi_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND baseline IS NOT NULL
            GROUP BY time, series
            ORDER BY time, series`,
        },
      ],
    }),
    table({
      title: 'KPIs by segment over the time range',
      description: 'Event-weighted mean of each KPI per segment over the time range, its baseline, the relative change and the events counted.',
      w: 12,
      h: 8,
      overrides: [byName('change', [{ id: 'unit', value: 'percentunit' }])],
      sortBy: [{ displayName: 'change', desc: false }],
      queries: [
        {
          format: 'table',
          columns: [s('kpi'), s('segment_name'), n('kpi_value'), n('kpi_baseline'), n('change'), n('events'), n('windows')],
          sql: `
            SELECT kpi, ${SEGMENT_LABEL} AS segment_name,
                   sumIf(value * n, value IS NOT NULL) / nullIf(sumIf(n, value IS NOT NULL), 0) AS kpi_value,
                   avg(baseline) AS kpi_baseline,
                   (kpi_value - kpi_baseline) / nullIf(abs(kpi_baseline), 0) AS change,
                   sum(n) AS events, count() AS windows
            FROM kpi_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE}
            GROUP BY kpi, segment_name
            ORDER BY kpi, segment_name`,
        },
      ],
    }),
    barchart({
      title: 'Latest window by segment',
      description: 'Each KPI in the newest window, one bar group per segment.',
      w: 24,
      h: 8,
      xField: 'segment_name',
      // Grafana's grouping-to-matrix transformation pivots segment × kpi into one column per KPI.
      transformations: [{ id: 'groupingToMatrix', options: { columnField: 'kpi', rowField: 'segment_name', valueField: 'latest_value', emptyValue: 'null' } }],
      queries: [
        {
          format: 'table',
          columns: [s('segment_name'), s('kpi'), n('latest_value')],
          sql: `
            SELECT ${SEGMENT_LABEL} AS segment_name, kpi, argMax(value, window_start) AS latest_value
            FROM kpi_metrics FINAL
            WHERE $__timeFilter(window_start) AND ${SCOPE} AND value IS NOT NULL
            GROUP BY segment_name, kpi
            ORDER BY segment_name, kpi`,
        },
      ],
    }),
  ],
});
