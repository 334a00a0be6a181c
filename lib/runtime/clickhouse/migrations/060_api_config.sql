-- Configuration written through the API (services/api): monitor settings per model and retrain
-- policies, versioned. Every PUT appends a row with version = current + 1 (rows are never updated
-- in place), so the table is also the audit trail; a DELETE appends a row with deleted = 1.
-- The current configuration of (kind, name) is its highest version; read with FINAL.
-- kind: monitor (name = model name) | retrain_policy (name = policy id).
-- write_id lets the writer check, after its insert, that its row is the one stored under that
-- version (a concurrent writer on another API instance would otherwise replace it silently).
CREATE TABLE IF NOT EXISTS api_config (
  kind LowCardinality(String),
  name String,
  version UInt32,
  updated_at DateTime64(3, 'UTC'),
  actor String,
  deleted UInt8,
  write_id String,
  body String
) ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (kind, name, version);
