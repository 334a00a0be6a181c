/**
 * The contract of the `ops_metrics` table (migration 001) as the "Pipeline operations" dashboard and
 * the pipeline alert rules read it, and the pure conversion that produces its rows from a process's
 * prom-client registry (lib/runtime/metrics.ts).
 *
 * One row per Prometheus sample, taken every few seconds by each process (the sampler in
 * lib/runtime/process.ts calls `sampleRegistry(registry, ...)` and inserts the rows):
 * - `metric` is the Prometheus sample name (`driftwatch_events_consumed_total`,
 *   `driftwatch_scoring_latency_seconds_bucket`, `..._sum`, `..._count`);
 * - `labels` are the sample's labels without `component` (a column of its own); histogram buckets
 *   keep `le` as Prometheus prints it (`0.005`, `+Inf`);
 * - `value` is the sample value as the process holds it: counters and histogram buckets are
 *   cumulative since the process started (a restart resets them; queries detect the drop, as
 *   Prometheus' rate() does), gauges are current values.
 * The process's default Node.js metrics (`driftwatch_process_*`) are left out: Prometheus scrapes them.
 *
 * `component` is the process that *reported* a sample, not what the sample is about. Consumer lag is
 * the case where the two differ: the API measures the lag of every consumer group from outside
 * (services/api/lib/lag.ts), so its rows (component 'api') describe other processes' groups. Queries
 * about consumers therefore key on `labels['group']`, take the newest sample of a partition whatever
 * process reported it (a group's own process may report it too), and judge progress by the group's
 * committed offsets (`driftwatch_consumer_committed_offset`, written by the API's lag poller).
 */
import type { Registry } from 'prom-client';

export interface OpsMetricsRow {
  readonly ts: string;
  readonly component: string;
  readonly instance: string;
  readonly metric: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** prom-client `Registry.getMetricsAsJSON()` entries (the parts used here). */
export interface PromMetricJson {
  readonly name: string;
  readonly type: unknown;
  readonly values: ReadonlyArray<{ readonly value: number; readonly labels: Readonly<Partial<Record<string, string | number>>>; readonly metricName?: string }>;
}

/** Metric names the dashboards and alert rules query (lib/runtime/metrics.ts defines them). */
export const OPS_METRICS = {
  eventsConsumed: 'driftwatch_events_consumed_total',
  eventsProduced: 'driftwatch_events_produced_total',
  deadLetters: 'driftwatch_dead_letters_total',
  retries: 'driftwatch_retries_total',
  consumerLag: 'driftwatch_consumer_lag',
  /** Set only by the API's lag poller (services/api/lib/lag.ts defines it). */
  consumerCommitted: 'driftwatch_consumer_committed_offset',
  joinPending: 'driftwatch_join_pending_predictions',
  joinPendingBytes: 'driftwatch_join_pending_bytes_estimate',
  joinResults: 'driftwatch_join_results_total',
  scoringLatency: 'driftwatch_scoring_latency_seconds',
  scoringPredictions: 'driftwatch_scoring_predictions_total',
  scoringFallbacks: 'driftwatch_scoring_fallbacks_total',
  scoringErrors: 'driftwatch_scoring_errors_total',
  windowCloseDelay: 'driftwatch_window_close_delay_seconds',
  windowsClosed: 'driftwatch_windows_closed_total',
} as const;

const EXCLUDED_PREFIX = 'driftwatch_process_';

function chTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function labelText(v: string | number): string {
  if (typeof v === 'number') return v === Infinity ? '+Inf' : String(v);
  return v;
}

/** Rows of one sampling of a registry. Non-finite gauge values (NaN) are skipped. */
export function opsMetricsRows(
  metrics: readonly PromMetricJson[],
  sample: { readonly component: string; readonly instance: string; readonly atMs: number },
): OpsMetricsRow[] {
  const rows: OpsMetricsRow[] = [];
  const ts = chTime(sample.atMs);
  for (const m of metrics) {
    if (m.name.startsWith(EXCLUDED_PREFIX)) continue;
    for (const v of m.values) {
      if (!Number.isFinite(v.value)) continue;
      const labels: Record<string, string> = {};
      for (const [k, lv] of Object.entries(v.labels ?? {})) if (k !== 'component' && lv !== undefined) labels[k] = labelText(lv);
      rows.push({ ts, component: sample.component, instance: sample.instance, metric: v.metricName ?? m.name, labels, value: v.value });
    }
  }
  return rows;
}

/**
 * One sampling of a registry: `opsMetricsRows` over the registry's driftwatch metrics. The default
 * Node.js metrics are not collected at all (rather than collected by `getMetricsAsJSON()` and then
 * dropped): collecting them is most of the cost of a sample. The registry's default `component` label
 * is not added either; it would be dropped.
 */
export async function sampleRegistry(
  registry: Registry,
  sample: { readonly component: string; readonly instance: string; readonly atMs: number },
): Promise<OpsMetricsRow[]> {
  // prom-client's MetricObject type omits get(), which every metric class has (Registry.getMetricsAsJSON calls it).
  const metrics = registry.getMetricsAsArray() as unknown as Array<{ name: string; get(): Promise<PromMetricJson> | PromMetricJson }>;
  const json = await Promise.all(metrics.filter((m) => !m.name.startsWith(EXCLUDED_PREFIX)).map((m) => m.get()));
  return opsMetricsRows(json, sample);
}
