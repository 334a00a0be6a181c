-- Durable state of the window-metrics processor (stream-processors/window-metrics; docs/windows.md).
--
-- window_state: the unit of state is a partial window summary per (input topic, partition, window,
-- model, version) (kind 'partial'), plus one progress row per (topic, partition) (kind 'progress':
-- watermark, late events). A consumed batch writes its progress row and every partial it touched in
-- ONE insert (no PARTITION BY, so the insert is one part and lands atomically), before the Kafka offset
-- is committed. next_offset is the offset after the last record folded in; it is the
-- ReplacingMergeTree version, so the newest state of a row wins, and a restart or the instance that
-- takes the partition over restores exactly that state and skips records below next_offset (no double
-- counting, nothing lost). Partial state is a deterministic function of the records below next_offset,
-- so a late write by a superseded instance can only write the same content.
-- counts: champion/shadow prediction counts per segment (small; read for label coverage without
-- decoding the drift state). Partials expire RAW_EVENTS_TTL_DAYS after their last update; progress
-- rows never expire.
CREATE TABLE IF NOT EXISTS window_state (
  topic String,
  partition UInt32,
  kind LowCardinality(String),
  model_name String,
  model_version String,
  window_start DateTime64(3, 'UTC'),
  next_offset UInt64,
  watermark Int64,
  late_events UInt64,
  profile_version UInt32,
  n_rows UInt64,
  counts String,
  state String CODEC(ZSTD(3)),
  updated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(next_offset)
ORDER BY (topic, partition, kind, model_name, model_version, window_start)
TTL toDateTime(updated_at) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY WHERE kind = 'partial';

-- window_evaluations: which windows have been evaluated, so no instance evaluates a final window twice
-- and a provisional (is_final = 0) write can never replace a final one (see docs/windows.md,
-- "Finality"). stage: predictions (drift, data quality, CBPE, prediction KPIs; always final),
-- performance_final_started / performance_final (realized performance and outcome KPIs).
CREATE TABLE IF NOT EXISTS window_evaluations (
  namespace LowCardinality(String),
  model_name String,
  model_version String,
  window_start DateTime64(3, 'UTC'),
  stage LowCardinality(String),
  fingerprint String,
  instance String,
  evaluated_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree(evaluated_at)
ORDER BY (namespace, stage, model_name, model_version, window_start)
TTL toDateTime(window_start) + INTERVAL {{METRICS_TTL_DAYS}} DAY;
