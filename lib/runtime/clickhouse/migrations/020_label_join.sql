-- Label-joiner output (stream-processors/label-joiner; semantics in docs/join-semantics.md).
--
-- labeled_predictions: one row per prediction, emitted once it is LABELED (joined with the first
-- matching outcome) or UNLABELED (no outcome within JOIN_MAX_LABEL_DELAY_MS of event time).
--
-- Idempotent re-emission: after a crash between "rows written" and "offsets committed" the joiner
-- emits the same predictions again. ReplacingMergeTree collapses rows with the same sorting key,
-- which is the join's identity of a prediction: (model_name, model_version, is_shadow,
-- prediction_id). prediction_id alone is not enough: the scorer gives a champion's prediction and
-- its shadow challenger's the same prediction_id (services/scoring/core.ts), and both are joined
-- with the same outcome. The version column is_labeled makes a LABELED row win over an UNLABELED
-- one for the same prediction, whatever order they were inserted in (a join decision never goes
-- from LABELED back to UNLABELED; only a replay could produce the pair). Read with FINAL.
--
-- Features are stored as typed maps exactly as in raw_predictions (migration 010).
CREATE TABLE IF NOT EXISTS labeled_predictions (
  prediction_id String,
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  is_shadow Bool,
  prediction_time DateTime64(3, 'UTC'),
  status LowCardinality(String),
  is_labeled UInt8,
  score Nullable(Float64),
  probabilities Map(String, Float64),
  predicted_label Nullable(String),
  predicted_value Nullable(Float64),
  num_features Map(String, Float64),
  cat_features Map(String, String),
  bool_features Map(String, Bool),
  missing_features Array(String),
  segment Map(String, String),
  label Nullable(String),
  target_value Nullable(Float64),
  outcome_time Nullable(DateTime64(3, 'UTC')),
  label_delay_ms Nullable(Int64),
  business Map(String, Float64),
  outcome_event_id Nullable(String),
  emitted_at DateTime64(3, 'UTC'),
  INDEX idx_prediction_id prediction_id TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = ReplacingMergeTree(is_labeled)
PARTITION BY toYYYYMM(prediction_time)
ORDER BY (model_name, model_version, is_shadow, prediction_id)
TTL toDateTime(prediction_time) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;

-- late_labels: every outcome that labeled nothing, with the reason (never dropped silently):
--   after_expiry    the prediction had already been emitted UNLABELED
--   over_max_delay  outcome_time - prediction time > JOIN_MAX_LABEL_DELAY_MS
--   duplicate       another outcome already labeled the prediction (first wins; may be a correction)
--   no_prediction   no prediction with this id and model arrived in time
--   orphan_evicted  the buffer of waiting outcomes was full
-- One row per outcome event: a replay writes the same row again and the sorting key collapses it.
CREATE TABLE IF NOT EXISTS late_labels (
  outcome_event_id String,
  prediction_id String,
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  reason LowCardinality(String),
  outcome_time DateTime64(3, 'UTC'),
  prediction_time Nullable(DateTime64(3, 'UTC')),
  label_delay_ms Nullable(Int64),
  label Nullable(String),
  target_value Nullable(Float64),
  business Map(String, Float64),
  watermark Nullable(DateTime64(3, 'UTC')),
  recorded_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(recorded_at)
PARTITION BY toYYYYMM(outcome_time)
ORDER BY (model_name, prediction_id, outcome_event_id)
TTL toDateTime(outcome_time) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;

-- The views are parameterised by the window length in seconds; window_start/window_end are
-- DateTime64(3, 'UTC') like the metric tables' (migration 030).
--
-- Label coverage per event-time window of prediction time: the labeled share of the predictions
-- emitted so far. A window is complete once the join watermark passed window end +
-- JOIN_MAX_LABEL_DELAY_MS (until then its recent predictions are still pending and not counted).
-- Parameterised view: SELECT * FROM label_coverage(window_s = 3600) WHERE model_name = ...
CREATE VIEW IF NOT EXISTS label_coverage AS
SELECT
  toDateTime64(toStartOfInterval(prediction_time, toIntervalSecond({window_s:UInt32})), 3, 'UTC') AS window_start,
  window_start + toIntervalSecond({window_s:UInt32}) AS window_end,
  model_name,
  model_version,
  is_shadow,
  count() AS n_total,
  countIf(is_labeled = 1) AS n_labeled,
  n_labeled / n_total AS coverage
FROM labeled_predictions FINAL
GROUP BY window_start, model_name, model_version, is_shadow;

-- Label delay distribution per window of prediction time (labeled predictions only): exact
-- quantiles (quantilesExact, nearest rank) plus a histogram over fixed buckets.
-- Parameterised view: SELECT * FROM label_delay(window_s = 3600) WHERE model_name = ...
CREATE VIEW IF NOT EXISTS label_delay AS
SELECT
  toDateTime64(toStartOfInterval(prediction_time, toIntervalSecond({window_s:UInt32})), 3, 'UTC') AS window_start,
  window_start + toIntervalSecond({window_s:UInt32}) AS window_end,
  model_name,
  model_version,
  is_shadow,
  count() AS n_labeled,
  min(label_delay_ms) AS delay_min_ms,
  avg(label_delay_ms) AS delay_avg_ms,
  quantilesExact(0.5, 0.9, 0.95, 0.99)(label_delay_ms) AS delay_quantiles_ms,
  delay_quantiles_ms[1] AS delay_p50_ms,
  delay_quantiles_ms[2] AS delay_p90_ms,
  delay_quantiles_ms[3] AS delay_p95_ms,
  delay_quantiles_ms[4] AS delay_p99_ms,
  max(label_delay_ms) AS delay_max_ms,
  [60000, 300000, 900000, 3600000, 21600000, 86400000] AS bucket_upper_ms,
  [countIf(label_delay_ms <= 60000),
   countIf(label_delay_ms > 60000 AND label_delay_ms <= 300000),
   countIf(label_delay_ms > 300000 AND label_delay_ms <= 900000),
   countIf(label_delay_ms > 900000 AND label_delay_ms <= 3600000),
   countIf(label_delay_ms > 3600000 AND label_delay_ms <= 21600000),
   countIf(label_delay_ms > 21600000 AND label_delay_ms <= 86400000),
   countIf(label_delay_ms > 86400000)] AS bucket_counts
FROM labeled_predictions FINAL
WHERE is_labeled = 1
GROUP BY window_start, model_name, model_version, is_shadow;

-- Outcomes that labeled nothing, per window of outcome time and reason (model_version is '' when the
-- join no longer knew the prediction).
-- Parameterised view: SELECT * FROM late_label_counts(window_s = 3600) WHERE model_name = ...
CREATE VIEW IF NOT EXISTS late_label_counts AS
SELECT
  toDateTime64(toStartOfInterval(outcome_time, toIntervalSecond({window_s:UInt32})), 3, 'UTC') AS window_start,
  window_start + toIntervalSecond({window_s:UInt32}) AS window_end,
  model_name,
  model_version,
  reason,
  count() AS n
FROM late_labels FINAL
GROUP BY window_start, model_name, model_version, reason;
