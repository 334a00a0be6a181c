-- Raw events as ingested from Kafka (stream-processors/ingest), one table per input topic.
--
-- Features are stored as typed maps so one table fits any model: num_features (doubles),
-- cat_features (strings), bool_features (booleans) and missing_features (names whose value was null).
-- Every feature name of an event lands in exactly one of the four.
--
-- Exactly-once effect over at-least-once delivery: a replay, a restart after a crash between the
-- insert and the offset commit, or a retrying producer delivers the same event again. The tables are
-- ReplacingMergeTree and the sorting key ends with event_id; every other key column is a field of the
-- event itself, so two copies of one event always share the whole key (and the partition) and
-- collapse into one. Merges collapse them on disk eventually; queries that need exact counts read with
-- FINAL (see docs/events.md, "Duplicates"). ReplacingMergeTree(ingested_at) keeps the latest copy.
--
-- source_topic/partition/offset trace each row back to its Kafka record; encoding and schema_id tell
-- how it was produced (Avro through the registry, or JSON).

CREATE TABLE IF NOT EXISTS raw_predictions (
  event_id String,
  prediction_id String,
  model_name LowCardinality(String),
  model_version LowCardinality(String),
  event_time DateTime64(3, 'UTC'),
  num_features Map(String, Float64),
  cat_features Map(String, String),
  bool_features Map(String, Bool),
  missing_features Array(String),
  score Nullable(Float64),
  probabilities Map(String, Float64),
  predicted_label Nullable(String),
  predicted_value Nullable(Float64),
  latency_ms Nullable(Float64),
  segment Map(String, String),
  is_shadow Bool,
  fallback LowCardinality(Nullable(String)),
  encoding LowCardinality(String),
  schema_id Nullable(UInt32),
  source_topic LowCardinality(String),
  source_partition UInt32,
  source_offset UInt64,
  ingested_at DateTime64(3, 'UTC'),
  INDEX idx_prediction_id prediction_id TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (model_name, model_version, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;

-- Outcomes (labels) arrive later than their predictions; lookups by prediction_id use the bloom filter.
CREATE TABLE IF NOT EXISTS raw_outcomes (
  event_id String,
  prediction_id String,
  model_name LowCardinality(String),
  outcome_time DateTime64(3, 'UTC'),
  label Nullable(String),
  target_value Nullable(Float64),
  business Map(String, Float64),
  encoding LowCardinality(String),
  schema_id Nullable(UInt32),
  source_topic LowCardinality(String),
  source_partition UInt32,
  source_offset UInt64,
  ingested_at DateTime64(3, 'UTC'),
  INDEX idx_prediction_id prediction_id TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(outcome_time)
ORDER BY (model_name, outcome_time, event_id)
TTL toDateTime(outcome_time) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;

-- Feature events sent for scoring. prediction_id is the id the resulting prediction will carry
-- (the event's own event_id when the producer left it null, as the contract says).
CREATE TABLE IF NOT EXISTS raw_features (
  event_id String,
  model_name LowCardinality(String),
  entity_id String,
  prediction_id String,
  event_time DateTime64(3, 'UTC'),
  num_features Map(String, Float64),
  cat_features Map(String, String),
  bool_features Map(String, Bool),
  missing_features Array(String),
  segment Map(String, String),
  encoding LowCardinality(String),
  schema_id Nullable(UInt32),
  source_topic LowCardinality(String),
  source_partition UInt32,
  source_offset UInt64,
  ingested_at DateTime64(3, 'UTC'),
  INDEX idx_entity_id entity_id TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (model_name, event_time, event_id)
TTL toDateTime(event_time) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;
