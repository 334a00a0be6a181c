-- Retrain runs of the reference retrain worker (services/retrain-worker): one row per step of the
-- run started by a RetrainRequested event (started, data, trained, registered, profiled, promoted,
-- or skipped / failed), keyed by the event's idempotency_key. The worker reads it to stay idempotent
-- across redeliveries and restarts (a key with a `promoted` row is never trained again), and it is
-- the audit trail of what the loop did. `detail` is JSON (rows, label coverage, loss, metrics ...).
CREATE TABLE IF NOT EXISTS retrain_runs (
  idempotency_key String,
  step LowCardinality(String),
  at DateTime64(3, 'UTC'),
  model_name LowCardinality(String),
  source_version String,
  new_version String,
  policy_id LowCardinality(String),
  worker String,
  detail String
) ENGINE = ReplacingMergeTree(at)
ORDER BY (model_name, idempotency_key, step)
TTL toDateTime(at) + INTERVAL {{METRICS_TTL_DAYS}} DAY;
