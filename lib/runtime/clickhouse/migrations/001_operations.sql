-- Operational tables shared by every component.
-- dead_letter_events: one row per dead-lettered event (the event itself is on the dead-letter topic);
-- lets Grafana chart dead letters by code without a Prometheus datasource.
CREATE TABLE IF NOT EXISTS dead_letter_events (
  failed_at DateTime64(3, 'UTC'),
  component LowCardinality(String),
  code LowCardinality(String),
  reason String,
  source_topic LowCardinality(String),
  source_partition UInt32,
  source_offset UInt64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(failed_at)
ORDER BY (source_topic, source_partition, source_offset, code)
TTL toDateTime(failed_at) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;

-- ops_metrics: periodic samples of pipeline health (throughput, lag, join state, scoring latency,
-- window close delay), written by each process, for the "Pipeline operations" dashboard and alerts.
CREATE TABLE IF NOT EXISTS ops_metrics (
  ts DateTime64(3, 'UTC'),
  component LowCardinality(String),
  instance String,
  metric LowCardinality(String),
  labels Map(String, String),
  value Float64
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (component, metric, ts)
TTL toDateTime(ts) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;
