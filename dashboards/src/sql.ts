/**
 * SQL shared by the dashboards. Conventions (see docs/dashboards.md):
 * - Variables are interpolated with the `sqlstring` format (`${model:sqlstring}`): a quoted,
 *   escaped list whether the variable is single, multi or All, so `IN (...)` always works.
 * - The whole population is segment '' in the tables and 'overall' in the segment variable.
 * - ReplacingMergeTree tables are read with FINAL (a re-evaluated window replaces its rows).
 * - Time buckets use $__timeInterval (whole seconds, at least the panel's min interval of 5m,
 *   the default window size) so long ranges aggregate windows instead of drawing every one.
 * - Only the plugin's stable macros are used (lib/grafana/macros.ts STABLE_MACROS).
 */
import { OPS_METRICS } from '../../lib/grafana/ops-metrics.js';

export const SEGMENT_LABEL = "if(segment = '', 'overall', segment)";

export const IN = {
  model: 'model_name IN (${model:sqlstring})',
  version: 'model_version IN (${version:sqlstring})',
  segment: `${SEGMENT_LABEL} IN (\${segment:sqlstring})`,
  feature: 'feature IN (${feature:sqlstring})',
  metric: 'metric IN (${metric:sqlstring})',
  kpi: 'kpi IN (${kpi:sqlstring})',
  component: 'component IN (${component:sqlstring})',
  consumerGroup: "labels['group'] IN (${consumer_group:sqlstring})",
} as const;

/**
 * A window's drift for one feature on one scale, whatever the method: 1 at the threshold, above 1
 * drifted, capped at 5. Distance methods: score / threshold. p-value methods: log(p) / log(threshold)
 * (adjusted p-value when a correction applies), so p = threshold gives 1 and p = threshold² gives 2.
 */
export const DRIFT_RATIO = `multiIf(
    status != 'ok', NULL,
    threshold_kind = 'distance', least(score / nullIf(threshold, 0), 5),
    least(log(greatest(coalesce(p_value_adjusted, p_value), 1e-300)) / nullIf(log(threshold), 0), 5))`;

export const PERFORMANCE_METRIC_VALUES = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss', 'brier', 'ece', 'mae', 'rmse', 'mape'];

/**
 * Per-interval increase of cumulative counters in ops_metrics, per series (component, instance,
 * metric, labels): the difference to the previous sample, or the value itself after a restart (the
 * counter dropped), as Prometheus' increase() treats resets. Yields t, component, metric, labels, inc.
 */
export function counterIncreases(metrics: string | readonly string[], scope: string = IN.component): string {
  const list = (typeof metrics === 'string' ? [metrics] : metrics).map((m) => `'${m}'`).join(', ');
  return `
    SELECT $__timeInterval(ts) AS t, component, metric, labels,
           value - lagInFrame(value, 1, value) OVER w AS d,
           if(d < 0, value, d) AS inc
    FROM ops_metrics
    WHERE metric IN (${list}) AND $__timeFilter(ts) AND ${scope}
    WINDOW w AS (PARTITION BY component, instance, metric, labels ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)`;
}

/**
 * Per consumer group partition, from the lag poller's samples (lib/grafana/ops-metrics.ts explains why
 * these key on the `group` label and not on `component`): the newest lag whatever process reported
 * it (`lag`), how far the committed offset moved in the range (`advanced`), and how many committed
 * samples span how long (`observations`, `observed_s`). Yields consumer_group, topic, partition and
 * those.
 */
export function consumerPartitions(scope = '1'): string {
  const lag = `metric = '${OPS_METRICS.consumerLag}'`;
  const committed = `metric = '${OPS_METRICS.consumerCommitted}'`;
  return `
    SELECT labels['group'] AS consumer_group, labels['topic'] AS topic, labels['partition'] AS partition,
           argMaxIf(value, ts, ${lag}) AS lag,
           maxIf(value, ${committed}) - minIf(value, ${committed}) AS advanced,
           countIf(${committed}) AS observations,
           dateDiff('second', minIf(ts, ${committed}), maxIf(ts, ${committed})) AS observed_s
    FROM ops_metrics
    WHERE $__timeFilter(ts) AND metric IN ('${OPS_METRICS.consumerLag}', '${OPS_METRICS.consumerCommitted}') AND ${scope}
    GROUP BY consumer_group, topic, partition`;
}

/**
 * Quantiles of a Prometheus histogram over each interval, exactly as Prometheus' histogram_quantile
 * (promql/quantile.go bucketQuantile): bucket increases are summed over instances, counts made
 * monotonic, rank = q × total, linear interpolation inside the first bucket whose cumulative count
 * reaches the rank (from 0 for the first bucket), the highest finite bound when the rank falls in
 * +Inf, NULL without observations. Yields time, quantile ('p50'...), seconds.
 */
export function histogramQuantiles(metric: string, quantiles: readonly number[], groupLabels: readonly string[] = [], scope: string = IN.component): string {
  const by = groupLabels.map((l) => `, ${l}`).join('');
  const labelCols = groupLabels.map((l) => `, labels['${l}'] AS ${l}`).join('');
  return `
    SELECT time${by}, concat('p', toString(round(q * 100, 1))) AS quantile,
           multiIf(total = 0 OR length(b) < 2, NULL,
                   i = length(b), b[length(b) - 1].1,
                   i = 1 AND b[1].1 <= 0, b[1].1,
                   i = 1, b[1].1 * (rank / b[1].2),
                   b[i - 1].1 + (b[i].1 - b[i - 1].1) * ((rank - b[i - 1].2) / (b[i].2 - b[i - 1].2))) AS seconds
    FROM (
      SELECT time${by}, b0,
             arrayMap((x, k) -> (x.1, arrayMax(arraySlice(arrayMap(y -> y.2, b0), 1, k))), b0, arrayEnumerate(b0)) AS b,
             b[length(b)].2 AS total,
             arrayJoin([${quantiles.join(', ')}]) AS q,
             q * total AS rank,
             arrayFirstIndex(x -> x.2 >= rank, arraySlice(b, 1, length(b) - 1)) AS i0,
             if(i0 = 0, length(b), i0) AS i
      FROM (
        SELECT t AS time${by}, arraySort(x -> x.1, groupArray((le, c))) AS b0
        FROM (
          SELECT t${labelCols}, if(labels['le'] = '+Inf', inf, toFloat64OrZero(labels['le'])) AS le, sum(inc) AS c
          FROM (${counterIncreases(`${metric}_bucket`, scope)})
          GROUP BY t${by}, le
        )
        GROUP BY t${by}
      )
    )
    ORDER BY time${by}, quantile`;
}

export { OPS_METRICS };
