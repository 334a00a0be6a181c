-- Every retrain-policy decision, fired or suppressed, with its reason (audit trail).
CREATE TABLE IF NOT EXISTS retrain_decisions (
  decided_at DateTime64(3, 'UTC'),
  policy_id LowCardinality(String),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  decision LowCardinality(String),
  reason LowCardinality(String),
  idempotency_key String,
  conditions String,
  detail String
) ENGINE = ReplacingMergeTree(decided_at)
PARTITION BY toYYYYMM(decided_at)
ORDER BY (model_name, policy_id, window_start, decision, idempotency_key);

-- RetrainRequested events as published (dedup on idempotency_key).
CREATE TABLE IF NOT EXISTS retrain_events (
  idempotency_key String,
  created_at DateTime64(3, 'UTC'),
  policy_id LowCardinality(String),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  drifted_features Array(String),
  training_range_start DateTime64(3, 'UTC'),
  training_range_end DateTime64(3, 'UTC'),
  reason String,
  event String
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY (model_name, idempotency_key);

-- Alerts as emitted on the alerts topic.
CREATE TABLE IF NOT EXISTS alerts (
  alert_id String,
  created_at DateTime64(3, 'UTC'),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  rule LowCardinality(String),
  severity LowCardinality(String),
  status LowCardinality(String),
  metric String,
  value Nullable(Float64),
  threshold Nullable(Float64),
  window_start Nullable(DateTime64(3, 'UTC')),
  window_end Nullable(DateTime64(3, 'UTC')),
  message String
) ENGINE = ReplacingMergeTree(created_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (model_name, rule, alert_id);
