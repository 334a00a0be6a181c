/**
 * Operational metrics (prom-client), defined once so every process exports the same names and the
 * Grafana "Pipeline operations" dashboard and alert rules can rely on them.
 *
 * Naming follows Prometheus conventions: `driftwatch_` prefix, `_total` for counters, base units
 * (seconds, bytes).
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(component: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry, prefix: 'driftwatch_process_' });
  const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    eventsConsumed: new Counter({ name: 'driftwatch_events_consumed_total', help: 'Events consumed, per topic', labelNames: ['topic'], registers: [registry] }),
    eventsProduced: new Counter({ name: 'driftwatch_events_produced_total', help: 'Events produced, per topic', labelNames: ['topic'], registers: [registry] }),
    deadLetters: new Counter({
      name: 'driftwatch_dead_letters_total',
      help: 'Events dead-lettered, per error code and source topic',
      labelNames: ['code', 'topic'],
      registers: [registry],
    }),
    retries: new Counter({ name: 'driftwatch_retries_total', help: 'Retriable failures retried, per error code', labelNames: ['code'], registers: [registry] }),
    consumerLag: new Gauge({
      name: 'driftwatch_consumer_lag',
      help: 'Consumer group lag in messages',
      labelNames: ['group', 'topic', 'partition'],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'driftwatch_batch_duration_seconds',
      help: 'Time to process and persist one consumed batch',
      labelNames: ['topic'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'driftwatch_batch_size',
      help: 'Records per consumed batch',
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000],
      registers: [registry],
    }),
    processingLatency: new Histogram({
      name: 'driftwatch_processing_latency_seconds',
      help: 'Event timestamp to durable effect',
      labelNames: ['topic'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    joinPending: new Gauge({ name: 'driftwatch_join_pending_predictions', help: 'Predictions waiting for their label', registers: [registry] }),
    joinPendingBytes: new Gauge({
      name: 'driftwatch_join_pending_bytes_estimate',
      help: 'Estimated heap held by the pending join state',
      registers: [registry],
    }),
    joinOutcomes: new Counter({
      name: 'driftwatch_join_results_total',
      help: 'Join results by kind: labeled, unlabeled, unlabeled_evicted, duplicate_prediction, duplicate_outcome, redelivered, late_after_expiry, late_over_max_delay, late_no_prediction, late_orphan_evicted (docs/join-semantics.md)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    joinStateEntries: new Gauge({
      name: 'driftwatch_join_state_entries',
      help: 'Label-joiner state entries by kind: pending (predictions), outcome (buffered outcomes), closed (remembered for dedup)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    joinWaitingOutcomes: new Gauge({
      name: 'driftwatch_join_waiting_outcomes',
      help: 'Buffered outcomes still waiting for their prediction (part of driftwatch_join_state_entries{kind="outcome"}); what flow control bounds',
      registers: [registry],
    }),
    joinOutcomesPaused: new Gauge({
      name: 'driftwatch_join_outcomes_paused_partitions',
      help: 'Outcome-topic partitions the label-joiner paused because outcomes ran ahead of predictions in event time and the outcomes waiting for their predictions reached half the buffer cap (stream-processors/label-joiner/flow.ts)',
      registers: [registry],
    }),
    joinFlowPauses: new Counter({
      name: 'driftwatch_join_flow_pauses_total',
      help: 'Times the label-joiner paused an outcome-topic partition (flow control during catch-up)',
      registers: [registry],
    }),
    joinWatermarkLag: new Gauge({
      name: 'driftwatch_join_watermark_lag_seconds',
      help: 'Wall clock minus the lowest join watermark (event time) over the partitions this instance holds',
      registers: [registry],
    }),
    scoringLatency: new Histogram({
      name: 'driftwatch_scoring_latency_seconds',
      help: 'Model inference latency per micro-batch',
      labelNames: ['model', 'version', 'role'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    scoringFallbacks: new Counter({
      name: 'driftwatch_scoring_fallbacks_total',
      help: 'Predictions produced by a fallback',
      labelNames: ['model', 'reason'],
      registers: [registry],
    }),
    scoringErrors: new Counter({
      name: 'driftwatch_scoring_errors_total',
      help: 'Model load or inference failures',
      labelNames: ['model', 'kind'],
      registers: [registry],
    }),
    scoringPredictions: new Counter({
      name: 'driftwatch_scoring_predictions_total',
      help: 'Predictions made, by model, version and role (served | shadow)',
      labelNames: ['model', 'version', 'role'],
      registers: [registry],
    }),
    scoringImputed: new Counter({
      name: 'driftwatch_scoring_imputed_values_total',
      help: 'Feature values replaced by the model default (missing | type_mismatch | unknown_category)',
      labelNames: ['model', 'reason'],
      registers: [registry],
    }),
    modelSwaps: new Counter({
      name: 'driftwatch_model_swaps_total',
      help: 'Hot swaps of a model version into a role (champion | challenger)',
      labelNames: ['model', 'role'],
      registers: [registry],
    }),
    windowCloseDelay: new Histogram({
      name: 'driftwatch_window_close_delay_seconds',
      help: 'Wall time from a window end to its rows being written',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
      registers: [registry],
    }),
    windowsClosed: new Counter({ name: 'driftwatch_windows_closed_total', help: 'Windows finalised', labelNames: ['kind'], registers: [registry] }),
    windowDuplicateEvents: new Counter({
      name: 'driftwatch_window_duplicate_events_total',
      help: 'Labeled predictions already folded into their window (redeliveries of the label-joiner output; skipped)',
      labelNames: ['topic'],
      registers: [registry],
    }),
    windowLateEvents: new Counter({
      name: 'driftwatch_window_late_events_total',
      help: 'Events that arrived after their window closed in their partition (counted, not added)',
      labelNames: ['topic'],
      registers: [registry],
    }),
    retrainDecisions: new Counter({
      name: 'driftwatch_retrain_decisions_total',
      help: 'Retrain-policy decisions, per policy, decision (fired, suppressed) and reason',
      labelNames: ['policy', 'decision', 'reason'],
      registers: [registry],
    }),
    policyReloads: new Counter({
      name: 'driftwatch_policy_reloads_total',
      help: 'Retrain policy reloads, per result (applied, invalid)',
      labelNames: ['result'],
      registers: [registry],
    }),
    // API (services/api): route is the route pattern (never the raw URL: bounded label cardinality).
    httpRequests: new Counter({
      name: 'driftwatch_http_requests_total',
      help: 'API requests answered, per method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'driftwatch_http_request_duration_seconds',
      help: 'API request handling time, per method and route pattern',
      labelNames: ['method', 'route'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'driftwatch_dependency_up',
      help: 'Last readiness check result per dependency (1 up, 0 down)',
      labelNames: ['dependency'],
      registers: [registry],
    }),
    lagPollErrors: new Counter({
      name: 'driftwatch_consumer_lag_poll_errors_total',
      help: 'Failed consumer-lag measurements, per group',
      labelNames: ['group'],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** A /metrics listener for processes without an HTTP API. Port 0 disables it. */
export async function serveMetrics(metrics: Metrics, port: number, host = '127.0.0.1'): Promise<Server | undefined> {
  if (!port) return undefined;
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
    } else if (req.url === '/health/live') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"ok"}');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, host, () => ok()));
  return server;
}
