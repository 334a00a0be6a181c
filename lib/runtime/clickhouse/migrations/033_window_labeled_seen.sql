-- Identities of the labeled predictions folded into each open labeled partial of window-metrics
-- (stream-processors/window-metrics/state.ts, applyLabeled; docs/windows.md, "Redeliveries").
--
-- The label-joiner's output topic is at-least-once, so window-metrics deduplicates it on
-- (model, version, is_shadow, prediction_id) within the window. Keeping the identities inside the
-- partial's checkpoint would rewrite every identity of the window on every batch (a window open for
-- a day-long label delay holds millions); this table is appended once per identity instead.
--
-- Rows of a batch are inserted BEFORE that batch's window_state checkpoint and carry the offset of
-- the record that added them. A restore keeps only rows below the restored progress row's
-- next_offset: rows of a batch whose checkpoint never landed are ignored, and its replay adds them
-- again. The record that adds an identity is always the same one (its first on-time copy in the
-- partition), so a re-insert repeats the same row and the engine collapses it. Rows expire with the
-- partials they belong to.
CREATE TABLE IF NOT EXISTS window_labeled_seen (
  topic String,
  partition UInt32,
  model_name String,
  model_version String,
  window_start DateTime64(3, 'UTC'),
  identity String,
  offset UInt64,
  inserted_at DateTime64(3, 'UTC')
) ENGINE = ReplacingMergeTree
ORDER BY (topic, partition, model_name, model_version, window_start, identity)
TTL toDateTime(inserted_at) + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY;
