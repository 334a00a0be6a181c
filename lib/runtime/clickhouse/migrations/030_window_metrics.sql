-- Windowed monitoring results, shaped for Grafana: a time column (window_start), model, version,
-- segment ('' = whole population; otherwise 'key=value'), and one value per row.
-- ReplacingMergeTree(computed_at): a window re-evaluated (late labels, late events, a replay or a
-- second instance) replaces its earlier row instead of adding one; read with FINAL or argMax.

-- Drift per feature (and the prediction/score distribution as feature '__prediction__').
CREATE TABLE IF NOT EXISTS drift_metrics (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  segment String,
  feature String,
  feature_kind LowCardinality(String),
  method LowCardinality(String),
  score Nullable(Float64),
  p_value Nullable(Float64),
  p_value_adjusted Nullable(Float64),
  threshold Float64,
  threshold_kind LowCardinality(String),
  drift UInt8,
  severity LowCardinality(String),
  n_ref UInt64,
  n_cur UInt64,
  status LowCardinality(String),
  is_final UInt8,
  computed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_name, model_version, segment, feature, window_start)
TTL toDateTime(window_start) + INTERVAL {{METRICS_TTL_DAYS}} DAY;

-- Data quality per feature and window: missing rate and schema drift.
CREATE TABLE IF NOT EXISTS data_quality_metrics (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  segment String,
  feature String,
  missing_rate Float64,
  reference_missing_rate Float64,
  schema_status LowCardinality(String),
  observed_type LowCardinality(String),
  expected_type LowCardinality(String),
  n UInt64,
  computed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_name, model_version, segment, feature, window_start)
TTL toDateTime(window_start) + INTERVAL {{METRICS_TTL_DAYS}} DAY;

-- One row per model, version, segment and window: the drift verdict for the model.
CREATE TABLE IF NOT EXISTS model_drift_summary (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  segment String,
  n_features UInt32,
  n_drifted UInt32,
  drifted_share Float64,
  drifted_features Array(String),
  prediction_drift UInt8,
  dataset_drift UInt8,
  severity LowCardinality(String),
  severity_level UInt8,
  correction LowCardinality(String),
  n_events UInt64,
  profile_status LowCardinality(String),
  computed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_name, model_version, segment, window_start)
TTL toDateTime(window_start) + INTERVAL {{METRICS_TTL_DAYS}} DAY;

-- Performance per window: realized (from joined labels) and estimated (CBPE) side by side.
-- metric: accuracy | precision | recall | f1 | roc_auc | log_loss | brier | ece | mae | rmse | mape
--         | label_coverage | label_delay_p50_ms | label_delay_p95_ms
-- kind: realized | estimated
CREATE TABLE IF NOT EXISTS performance_metrics (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  segment String,
  is_shadow UInt8,
  metric LowCardinality(String),
  kind LowCardinality(String),
  value Nullable(Float64),
  n_labeled UInt64,
  n_total UInt64,
  is_final UInt8,
  computed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_name, model_version, segment, is_shadow, metric, kind, window_start)
TTL toDateTime(window_start) + INTERVAL {{METRICS_TTL_DAYS}} DAY;

-- Business KPIs declared in configuration, per window and segment.
CREATE TABLE IF NOT EXISTS kpi_metrics (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  segment String,
  kpi LowCardinality(String),
  value Nullable(Float64),
  baseline Nullable(Float64),
  n UInt64,
  is_final UInt8,
  computed_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(window_start)
ORDER BY (model_name, model_version, segment, kpi, window_start)
TTL toDateTime(window_start) + INTERVAL {{METRICS_TTL_DAYS}} DAY;

-- Versioned reference profiles per model version (the frozen baseline drift is measured against).
CREATE TABLE IF NOT EXISTS reference_profiles (
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  profile_version UInt32,
  created_at DateTime64(3, 'UTC'),
  source String,
  n_rows UInt64,
  features Array(String),
  profile String
) ENGINE = ReplacingMergeTree(created_at)
ORDER BY (model_name, model_version, profile_version);
