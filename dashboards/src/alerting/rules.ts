/**
 * driftwatch's Grafana-managed alert rules, written to alert-rules/rules.yaml (Grafana alerting file
 * provisioning, apiVersion 1) by dashboards/build.ts.
 *
 * Every rule has the same three steps: A, a ClickHouse query; B, a reduce (dropNN: no number, no
 * instance); C, a threshold, the condition. Queries that can be reduced in SQL return a number table
 * (format 1: string columns become the instance labels, one numeric column); the latency rule
 * returns a time series and lets B reduce it. Queries never use dashboard variables and never
 * `now()`: the evaluation time is `$__toTime`, so a rule means the same thing at any instant.
 *
 * Each rule carries severity and team labels, a summary and a description with its values, a
 * runbook_url into docs/runbooks/, and the dashboard panel it belongs to.
 */
import { DATASOURCE, dedent } from '../kit.js';
import { consumerPartitions, counterIncreases, histogramQuantiles, OPS_METRICS } from '../sql.js';

export const ALERT_FOLDER = 'driftwatch';
/**
 * Where runbook links point. Grafana does not interpolate annotations (rules_types.go reads
 * Annotations.Raw), so this is a literal base; change it to where the repository is hosted.
 */
export const RUNBOOK_BASE = 'https://github.com/driftwatch/driftwatch/blob/main/docs/runbooks/';

export type Severity = 'warning' | 'critical';
export type Team = 'ml-platform' | 'data-platform';

export interface RuleSpec {
  readonly uid: string;
  readonly title: string;
  /** The scenario in which the tests require the rule to fire (the stationary one must never). */
  readonly firesOn: 'drift' | 'incident';
  readonly sql: string;
  readonly format: 'table' | 'timeseries';
  /** Seconds before the evaluation time the query covers. */
  readonly rangeSeconds: number;
  readonly intervalMs?: number;
  readonly reducer: 'last' | 'max' | 'min' | 'mean' | 'sum' | 'count';
  readonly threshold: { readonly type: 'gt' | 'lt'; readonly value: number };
  readonly for: string;
  readonly noDataState: 'NoData' | 'Alerting' | 'OK';
  readonly execErrState: 'Error' | 'Alerting';
  readonly severity: Severity;
  readonly team: Team;
  readonly summary: string;
  readonly description: string;
  /** File name under docs/runbooks/. */
  readonly runbook: string;
  readonly dashboard: { readonly uid: string; readonly panelTitle: string };
}

export interface RuleGroupSpec {
  readonly name: string;
  readonly interval: string;
  readonly rules: readonly RuleSpec[];
}

const driftSeverityQuery = `
  SELECT model_name AS model, model_version AS version, toFloat64(argMax(severity_level, window_start)) AS latest_severity_level
  FROM model_drift_summary FINAL
  WHERE $__timeFilter(window_start) AND segment = ''
  GROUP BY model, version`;

/**
 * Label-weighted realized (or prediction-weighted estimated) metric over the last `recentHours`
 * against the windows that started more than 2 hours ago (the rest of the 6-hour query range), so a
 * change in the last couple of hours is not averaged into its own baseline.
 */
function performanceDropQuery(kind: 'realized' | 'estimated', metrics: readonly string[], recentHours: number): string {
  const weight = kind === 'realized' ? 'n_labeled' : 'n_total';
  const recent = `window_start >= $__toTime - INTERVAL ${recentHours} HOUR`;
  const base = 'window_start < $__toTime - INTERVAL 2 HOUR';
  return `
    SELECT model_name AS model, model_version AS version, metric,
           if(metric IN ('mae', 'rmse', 'mape', 'log_loss', 'brier', 'ece'), recent - base, base - recent) / nullIf(abs(base), 0) AS degradation
    FROM (
      SELECT model_name, model_version, metric,
             sumIf(value * ${weight}, ${recent}) / nullIf(sumIf(${weight}, ${recent}), 0) AS recent,
             sumIf(value * ${weight}, ${base}) / nullIf(sumIf(${weight}, ${base}), 0) AS base,
             sumIf(${weight}, ${recent}) AS recent_n,
             sumIf(${weight}, ${base}) AS base_n
      FROM performance_metrics FINAL
      WHERE $__timeFilter(window_start) AND segment = '' AND is_shadow = 0 AND kind = '${kind}'
        AND metric IN (${metrics.map((m) => `'${m}'`).join(', ')}) AND value IS NOT NULL
      GROUP BY model_name, model_version, metric
    )
    WHERE recent_n >= 200 AND base_n >= 500`;
}

const modelRules: RuleSpec[] = [
  {
    uid: 'dw-drift-warning',
    title: 'Model drift: warning',
    firesOn: 'drift',
    format: 'table',
    sql: driftSeverityQuery,
    rangeSeconds: 1800,
    reducer: 'last',
    threshold: { type: 'gt', value: 0.5 },
    for: '10m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'warning',
    team: 'ml-platform',
    summary: 'Drift on {{ $labels.model }} v{{ $labels.version }} (severity level {{ $values.B.Value }})',
    description:
      'The newest window of {{ $labels.model }} v{{ $labels.version }} (whole population) has drift severity level {{ $values.B.Value }} (1 warning, 2 critical) against its reference profile, for at least 10 minutes. Which features drifted, by which method and how far: Model drift dashboard.',
    runbook: 'drift-severity.md',
    dashboard: { uid: 'dw-model-drift', panelTitle: 'Drift severity by version' },
  },
  {
    uid: 'dw-drift-critical',
    title: 'Model drift: critical',
    firesOn: 'drift',
    format: 'table',
    sql: driftSeverityQuery,
    rangeSeconds: 1800,
    reducer: 'last',
    threshold: { type: 'gt', value: 1.5 },
    for: '10m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'critical',
    team: 'ml-platform',
    summary: 'Critical drift on {{ $labels.model }} v{{ $labels.version }} (severity level {{ $values.B.Value }})',
    description:
      'The newest window of {{ $labels.model }} v{{ $labels.version }} has critical drift (severity level {{ $values.B.Value }}): at least the critical share of its features, or the prediction distribution, drifted beyond the critical factor of their thresholds, for at least 10 minutes.',
    runbook: 'drift-severity.md',
    dashboard: { uid: 'dw-model-drift', panelTitle: 'Drift severity by version' },
  },
  {
    uid: 'dw-realized-performance-drop',
    title: 'Realized performance drop',
    firesOn: 'drift',
    format: 'table',
    sql: performanceDropQuery('realized', ['accuracy', 'roc_auc', 'mae'], 2),
    rangeSeconds: 6 * 3600,
    reducer: 'last',
    threshold: { type: 'gt', value: 0.1 },
    for: '15m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'warning',
    team: 'ml-platform',
    summary: '{{ $labels.metric }} of {{ $labels.model }} v{{ $labels.version }} degraded by {{ humanizePercentage $values.B.Value }}',
    description:
      'Realized {{ $labels.metric }} (from joined labels, label-weighted) of {{ $labels.model }} v{{ $labels.version }} over the last 2 hours is {{ humanizePercentage $values.B.Value }} worse than over the 4 hours before (alert above 10%; at least 200 recent and 500 earlier labels).',
    runbook: 'performance-drop.md',
    dashboard: { uid: 'dw-performance', panelTitle: 'Realized vs estimated ${metric}' },
  },
  {
    uid: 'dw-estimated-performance-drop',
    title: 'Estimated performance drop (CBPE)',
    firesOn: 'drift',
    format: 'table',
    sql: performanceDropQuery('estimated', ['accuracy', 'roc_auc'], 1),
    rangeSeconds: 6 * 3600,
    reducer: 'last',
    threshold: { type: 'gt', value: 0.03 },
    for: '15m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'warning',
    team: 'ml-platform',
    summary: 'Estimated {{ $labels.metric }} of {{ $labels.model }} v{{ $labels.version }} down {{ humanizePercentage $values.B.Value }}',
    description:
      'The label-free CBPE estimate of {{ $labels.metric }} for {{ $labels.model }} v{{ $labels.version }} over the last hour is {{ humanizePercentage $values.B.Value }} below the windows that started 2 to 6 hours ago (alert above 3%, at least 200 recent and 500 earlier predictions). Labels are not needed: this is the early warning before realized performance can be measured.',
    runbook: 'performance-drop.md',
    dashboard: { uid: 'dw-performance', panelTitle: 'Realized vs estimated ${metric}' },
  },
  {
    uid: 'dw-kpi-drop',
    title: 'Business KPI drop',
    firesOn: 'drift',
    format: 'table',
    sql: `
      SELECT model_name AS model, model_version AS version, kpi,
             (kpi_baseline - recent) / nullIf(abs(kpi_baseline), 0) AS drop
      FROM (
        SELECT model_name, model_version, kpi,
               sumIf(value * n, value IS NOT NULL) / nullIf(sumIf(n, value IS NOT NULL), 0) AS recent,
               avg(baseline) AS kpi_baseline,
               sum(n) AS events
        FROM kpi_metrics FINAL
        WHERE $__timeFilter(window_start) AND segment = '' AND baseline IS NOT NULL
        GROUP BY model_name, model_version, kpi
      )
      WHERE events >= 200`,
    rangeSeconds: 2 * 3600,
    reducer: 'last',
    threshold: { type: 'gt', value: 0.1 },
    for: '15m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'warning',
    team: 'ml-platform',
    summary: 'KPI {{ $labels.kpi }} of {{ $labels.model }} v{{ $labels.version }} is {{ humanizePercentage $values.B.Value }} below baseline',
    description:
      'KPI {{ $labels.kpi }} of {{ $labels.model }} v{{ $labels.version }} (whole population, event-weighted over the last 2 hours) is {{ humanizePercentage $values.B.Value }} below its reference baseline (alert above 10%, at least 200 events).',
    runbook: 'kpi-drop.md',
    dashboard: { uid: 'dw-kpis', panelTitle: 'Change against baseline' },
  },
];

const pipelineRules: RuleSpec[] = [
  {
    uid: 'dw-label-coverage-collapse',
    title: 'Label coverage collapse',
    firesOn: 'incident',
    format: 'table',
    // Windows that ended 1-2 h ago have had time for most labels (median delay 20 min); compare them
    // with the windows that ended before, up to 7 h ago. A fresh window's low coverage is expected.
    sql: `
      SELECT model_name AS model, model_version AS version,
             recent_coverage / nullIf(base_coverage, 0) AS coverage_ratio
      FROM (
        SELECT model_name, model_version,
               sumIf(n_labeled, recent) / nullIf(sumIf(n_total, recent), 0) AS recent_coverage,
               sumIf(n_labeled, NOT recent) / nullIf(sumIf(n_total, NOT recent), 0) AS base_coverage,
               sumIf(n_total, recent) AS recent_n
        FROM (
          SELECT *, window_end >= $__toTime - INTERVAL 2 HOUR AS recent
          FROM performance_metrics FINAL
          WHERE $__timeFilter(window_start) AND window_end <= $__toTime - INTERVAL 1 HOUR
            AND segment = '' AND is_shadow = 0 AND metric = 'label_coverage'
        )
        GROUP BY model_name, model_version
      )
      WHERE recent_n >= 200 AND base_coverage > 0`,
    rangeSeconds: 7 * 3600,
    reducer: 'last',
    threshold: { type: 'lt', value: 0.5 },
    for: '10m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'critical',
    team: 'data-platform',
    summary: 'Label coverage of {{ $labels.model }} v{{ $labels.version }} collapsed to {{ humanizePercentage $values.B.Value }} of normal',
    description:
      'Windows of {{ $labels.model }} v{{ $labels.version }} that ended 1 to 2 hours ago have {{ humanizePercentage $values.B.Value }} of the label coverage of the windows before them (up to 7 hours back; alert below 50%). Outcomes stopped arriving or stopped joining: realized performance and label-based KPIs go blind.',
    runbook: 'label-coverage.md',
    dashboard: { uid: 'dw-performance', panelTitle: 'Label coverage' },
  },
  {
    uid: 'dw-pipeline-stalled',
    title: 'Pipeline stalled: no new windows',
    firesOn: 'incident',
    format: 'table',
    sql: `
      SELECT model_name AS model, toFloat64(dateDiff('second', max(window_end), $__toTime)) AS seconds_since_window
      FROM model_drift_summary
      WHERE $__timeFilter(window_start)
      GROUP BY model`,
    rangeSeconds: 2 * 3600,
    reducer: 'last',
    threshold: { type: 'gt', value: 1200 },
    for: '5m',
    // No window at all for two hours is the worst stall: alert on no data.
    noDataState: 'Alerting',
    execErrState: 'Error',
    severity: 'critical',
    team: 'data-platform',
    summary: 'No new window for {{ $labels.model }} in {{ humanizeDuration $values.B.Value }}',
    description:
      'The newest window written for {{ $labels.model }} ended {{ humanizeDuration $values.B.Value }} before now (alert above 20 minutes; windows are 5 minutes). When no model has any window in 2 hours the rule fires with no data. Check ingest, scoring, the label-joiner and window-metrics.',
    runbook: 'pipeline-stalled.md',
    dashboard: { uid: 'dw-pipeline', panelTitle: 'Throughput' },
  },
  {
    uid: 'dw-consumer-stalled',
    title: 'Consumer stalled: lag and no progress',
    firesOn: 'incident',
    format: 'table',
    // One instance per consumer group, whatever process reported the samples: the API measures every
    // group from outside (component 'api'), a group's own process may too. Per partition, the newest
    // lag sample and whether the committed offset moved in the range; a partition is stalled when it
    // has lag and its offset did not move. Only partitions whose committed offset was observed over at
    // least 5 minutes of the range are judged (a poller that just started has seen no progress yet).
    sql: `
      SELECT consumer_group, toFloat64(sumIf(lag, advanced = 0)) AS stalled_lag
      FROM (${consumerPartitions()})
      WHERE observations >= 2 AND observed_s >= 300
      GROUP BY consumer_group`,
    rangeSeconds: 600,
    reducer: 'last',
    threshold: { type: 'gt', value: 0 },
    for: '5m',
    // No committed offsets observed for 10 minutes: the API's lag poller (API_LAG_POLL_MS) or the
    // ops sampler is off or down, and no stall could be seen.
    noDataState: 'Alerting',
    execErrState: 'Error',
    severity: 'critical',
    team: 'data-platform',
    summary: 'Consumer group {{ $labels.consumer_group }} committed nothing for 10 minutes with {{ $values.B.Value }} messages of lag',
    description:
      'The committed offsets of consumer group {{ $labels.consumer_group }} did not move in the last 10 minutes on partitions where {{ $values.B.Value }} messages wait (consumer lag, newest sample; measured by the API lag poller). When no committed offset was observed at all for 10 minutes the rule fires with no data: the API lag poller or the ops sampler is not running.',
    runbook: 'pipeline-stalled.md',
    dashboard: { uid: 'dw-pipeline', panelTitle: 'Consumer lag' },
  },
  {
    uid: 'dw-dead-letter-spike',
    title: 'Dead-letter spike',
    firesOn: 'incident',
    format: 'table',
    sql: `
      SELECT component, code, if(recent >= 20, recent / greatest(before / 36, 1), 0) AS spike_ratio
      FROM (
        SELECT component, code,
               countIf(failed_at > $__toTime - INTERVAL 10 MINUTE) AS recent,
               countIf(failed_at <= $__toTime - INTERVAL 10 MINUTE) AS before
        FROM dead_letter_events FINAL
        WHERE $__timeFilter(failed_at)
        GROUP BY component, code
      )`,
    rangeSeconds: 6 * 3600 + 600,
    reducer: 'last',
    threshold: { type: 'gt', value: 5 },
    for: '0s',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'warning',
    team: 'data-platform',
    summary: 'Dead letters {{ $labels.code }} from {{ $labels.component }}: {{ humanize $values.B.Value }}× the usual rate',
    description:
      '{{ $labels.component }} dead-lettered events with code {{ $labels.code }} in the last 10 minutes at {{ humanize $values.B.Value }} times its rate of the 6 hours before (alert above 5×, at least 20 events). A producer is sending bad events, or a contract changed.',
    runbook: 'dead-letters.md',
    dashboard: { uid: 'dw-pipeline', panelTitle: 'Dead letters by code' },
  },
  {
    uid: 'dw-scoring-error-rate',
    title: 'Scoring errors: predictions served by a fallback',
    firesOn: 'incident',
    format: 'table',
    // Every prediction the champion could not make (it failed to load or to infer) is served by the
    // fallback chain (previous version, default score) and counted in scoring_fallbacks_total; the
    // failures themselves are counted per batch in scoring_errors_total (Pipeline operations dashboard).
    sql: `
      SELECT model, fallbacks / nullIf(served, 0) AS fallback_share
      FROM (
        SELECT labels['model'] AS model,
               sumIf(inc, metric = '${OPS_METRICS.scoringFallbacks}') AS fallbacks,
               sumIf(inc, metric = '${OPS_METRICS.scoringPredictions}' AND labels['role'] = 'served') AS served
        FROM (${counterIncreases([OPS_METRICS.scoringFallbacks, OPS_METRICS.scoringPredictions], '1')})
        GROUP BY model
      )
      WHERE served >= 50`,
    rangeSeconds: 600,
    reducer: 'last',
    threshold: { type: 'gt', value: 0.01 },
    for: '5m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'critical',
    team: 'ml-platform',
    summary: '{{ humanizePercentage $values.B.Value }} of {{ $labels.model }} predictions not made by the champion',
    description:
      '{{ humanizePercentage $values.B.Value }} of the predictions served for {{ $labels.model }} over the last 10 minutes came from a fallback (previous version or default score) because the champion failed to load or to infer (alert above 1%, at least 50 predictions).',
    runbook: 'scoring.md',
    dashboard: { uid: 'dw-pipeline', panelTitle: 'Predictions, fallbacks and errors' },
  },
  {
    uid: 'dw-scoring-latency',
    title: 'Scoring latency p99',
    firesOn: 'incident',
    format: 'timeseries',
    sql: histogramQuantiles(OPS_METRICS.scoringLatency, [0.99], ['model'], '1'),
    rangeSeconds: 600,
    intervalMs: 60_000,
    reducer: 'max',
    threshold: { type: 'gt', value: 0.5 },
    for: '5m',
    noDataState: 'OK',
    execErrState: 'Error',
    severity: 'warning',
    team: 'ml-platform',
    summary: 'Scoring p99 latency of {{ $labels.model }} is {{ humanizeDuration $values.B.Value }}',
    description:
      'The 99th percentile of inference time per micro-batch for {{ $labels.model }} reached {{ humanizeDuration $values.B.Value }} in a minute of the last 10 (alert above 0.5 s, from the driftwatch_scoring_latency_seconds histogram).',
    runbook: 'scoring.md',
    dashboard: { uid: 'dw-pipeline', panelTitle: 'Scoring latency' },
  },
];

export const RULE_GROUPS: readonly RuleGroupSpec[] = [
  { name: 'driftwatch-models', interval: '1m', rules: modelRules },
  { name: 'driftwatch-pipeline', interval: '1m', rules: pipelineRules },
];

/** The provisioning form of a rule (AlertRuleV1), with the panel id resolved by the caller. */
export function ruleToProvisioning(r: RuleSpec, panelId: number): Record<string, unknown> {
  return {
    uid: r.uid,
    title: r.title,
    condition: 'C',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: r.rangeSeconds, to: 0 },
        datasourceUid: DATASOURCE.uid,
        model: {
          refId: 'A',
          datasource: { ...DATASOURCE },
          editorType: 'sql',
          format: r.format === 'timeseries' ? 0 : 1,
          rawSql: dedent(r.sql),
          intervalMs: r.intervalMs ?? 60_000,
          maxDataPoints: 43200,
        },
      },
      {
        refId: 'B',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: {
          refId: 'B',
          datasource: { type: '__expr__', uid: '__expr__' },
          type: 'reduce',
          expression: 'A',
          reducer: r.reducer,
          settings: { mode: 'dropNN' },
        },
      },
      {
        refId: 'C',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: '__expr__',
        model: {
          refId: 'C',
          datasource: { type: '__expr__', uid: '__expr__' },
          type: 'threshold',
          expression: 'B',
          conditions: [{ evaluator: { type: r.threshold.type, params: [r.threshold.value] } }],
        },
      },
    ],
    dashboardUid: r.dashboard.uid,
    panelId,
    noDataState: r.noDataState,
    execErrState: r.execErrState,
    for: r.for,
    annotations: { summary: r.summary, description: r.description, runbook_url: `${RUNBOOK_BASE}${r.runbook}` },
    labels: { severity: r.severity, team: r.team },
    isPaused: false,
  };
}
