-- Model registry index (the ONNX files and metadata live on disk under MODEL_DIR).
CREATE TABLE IF NOT EXISTS model_versions (
  model_name LowCardinality(String),
  model_version String,
  registered_at DateTime64(3, 'UTC'),
  path String,
  sha256 String,
  task LowCardinality(String),
  metadata String
) ENGINE = ReplacingMergeTree(registered_at)
ORDER BY (model_name, model_version);

-- Promotion history; the current champion/challenger is the latest row per (model, role).
CREATE TABLE IF NOT EXISTS model_promotions (
  model_name LowCardinality(String),
  role LowCardinality(String),
  model_version String,
  action LowCardinality(String),
  at DateTime64(3, 'UTC'),
  actor String,
  reason String
) ENGINE = MergeTree
ORDER BY (model_name, role, at);
