/**
 * Ingest core: decoded Kafka records in, ClickHouse rows and dead letters out. Pure: no I/O, no
 * clock (the caller passes `ingestedAt`), so every mapping rule is tested with plain arrays
 * (test/stream-processors/ingest/core.test.ts).
 *
 * One input record becomes exactly one of:
 *  - a row of raw_predictions / raw_outcomes / raw_features (migration 010), or
 *  - a dead letter (its original bytes go to the dead-letter topic, done by the Kafka adapter) plus a
 *    row of dead_letter_events (migration 001) so dashboards can chart dead letters by code.
 *
 * Rows are idempotent: a re-delivered record maps to a row with the same sorting key (the key columns
 * are fields of the event), so ReplacingMergeTree collapses the copies (see migration 010).
 */
import type { Decoded } from '../../lib/contracts/codec.js';
import type { FeatureEvent, FeatureValue, OutcomeEvent, PredictionEvent } from '../../lib/contracts/schemas.js';
import type { TopicKey } from '../../lib/contracts/topics.js';
import type { DriftwatchError } from '../../lib/runtime/errors.js';
import type { DeadLetter, StreamRecord } from '../../lib/runtime/kafka.js';

/** The input topics ingest consumes, by topic key. */
export const INGEST_TOPIC_KEYS = ['features', 'predictions', 'outcomes'] as const satisfies readonly TopicKey[];
export type IngestTopicKey = (typeof INGEST_TOPIC_KEYS)[number];

export const RAW_TABLES = {
  predictions: 'raw_predictions',
  outcomes: 'raw_outcomes',
  features: 'raw_features',
} as const satisfies Record<IngestTopicKey, string>;

export const DEAD_LETTER_TABLE = 'dead_letter_events';

/** Dead-letter reasons are cut to this length, as the adapter cuts the dw-error-reason header. */
export const MAX_REASON_CHARS = 1000;

/** One record after decoding: the event, or the typed error that makes it a dead letter. */
export type DecodeResult =
  | { readonly ok: true; readonly record: StreamRecord; readonly kind: IngestTopicKey; readonly decoded: Decoded<Record<string, unknown>> }
  | { readonly ok: false; readonly record: StreamRecord; readonly error: DriftwatchError };

/** A feature map split by value type; every name lands in exactly one part. */
export interface SplitFeatures {
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  bool_features: Record<string, boolean>;
  missing_features: string[];
}

interface SourceColumns {
  encoding: string;
  schema_id: number | null;
  source_topic: string;
  source_partition: number;
  source_offset: string;
  ingested_at: string;
}

export interface RawPredictionRow extends SplitFeatures, SourceColumns {
  event_id: string;
  prediction_id: string;
  model_name: string;
  model_version: string;
  event_time: string;
  score: number | null;
  probabilities: Record<string, number>;
  predicted_label: string | null;
  predicted_value: number | null;
  latency_ms: number | null;
  segment: Record<string, string>;
  is_shadow: boolean;
  fallback: string | null;
}

export interface RawOutcomeRow extends SourceColumns {
  event_id: string;
  prediction_id: string;
  model_name: string;
  outcome_time: string;
  label: string | null;
  target_value: number | null;
  business: Record<string, number>;
}

export interface RawFeatureRow extends SplitFeatures, SourceColumns {
  event_id: string;
  model_name: string;
  entity_id: string;
  prediction_id: string;
  event_time: string;
  segment: Record<string, string>;
}

export interface DeadLetterRow {
  failed_at: string;
  component: string;
  code: string;
  reason: string;
  source_topic: string;
  source_partition: number;
  source_offset: string;
}

/**
 * Column order of each table as ingest writes it. Inserts name these columns explicitly
 * (`INSERT INTO t (cols…) FORMAT JSONCompactEachRow`), so rows travel as arrays (half the bytes of
 * JSONEachRow, and faster for ClickHouse to parse) and a column added later by a migration does not
 * shift them. test/integration/ingest/ingest.test.ts pins these lists to the migrated tables.
 */
export const TABLE_COLUMNS = {
  raw_predictions: [
    'event_id',
    'prediction_id',
    'model_name',
    'model_version',
    'event_time',
    'num_features',
    'cat_features',
    'bool_features',
    'missing_features',
    'score',
    'probabilities',
    'predicted_label',
    'predicted_value',
    'latency_ms',
    'segment',
    'is_shadow',
    'fallback',
    'encoding',
    'schema_id',
    'source_topic',
    'source_partition',
    'source_offset',
    'ingested_at',
  ] as const satisfies readonly (keyof RawPredictionRow)[],
  raw_outcomes: [
    'event_id',
    'prediction_id',
    'model_name',
    'outcome_time',
    'label',
    'target_value',
    'business',
    'encoding',
    'schema_id',
    'source_topic',
    'source_partition',
    'source_offset',
    'ingested_at',
  ] as const satisfies readonly (keyof RawOutcomeRow)[],
  raw_features: [
    'event_id',
    'model_name',
    'entity_id',
    'prediction_id',
    'event_time',
    'num_features',
    'cat_features',
    'bool_features',
    'missing_features',
    'segment',
    'encoding',
    'schema_id',
    'source_topic',
    'source_partition',
    'source_offset',
    'ingested_at',
  ] as const satisfies readonly (keyof RawFeatureRow)[],
  dead_letter_events: [
    'failed_at',
    'component',
    'code',
    'reason',
    'source_topic',
    'source_partition',
    'source_offset',
  ] as const satisfies readonly (keyof DeadLetterRow)[],
} as const;

/** Rows per table, keyed by table name. */
export interface IngestRows {
  raw_predictions: RawPredictionRow[];
  raw_outcomes: RawOutcomeRow[];
  raw_features: RawFeatureRow[];
  dead_letter_events: DeadLetterRow[];
}

export interface BatchPlan {
  readonly rows: IngestRows;
  /** Returned to the Kafka adapter, which produces them to the dead-letter topic before committing. */
  readonly deadLetters: DeadLetter[];
}

/**
 * ClickHouse DateTime64(3,'UTC') text for an epoch-ms instant (the format of `toClickHouseTime` in
 * lib/runtime/clickhouse/client.ts, repeated here so the pure core does not load the native engine).
 */
export function clickHouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Splits a contract feature map (null | double | string | boolean values) into typed maps. */
export function splitFeatures(features: Readonly<Record<string, FeatureValue>> | undefined): SplitFeatures {
  const out: SplitFeatures = { num_features: {}, cat_features: {}, bool_features: {}, missing_features: [] };
  if (!features) return out;
  for (const name of Object.keys(features)) {
    const value = features[name];
    if (value === null || value === undefined) out.missing_features.push(name);
    else if (typeof value === 'number') out.num_features[name] = value;
    else if (typeof value === 'boolean') out.bool_features[name] = value;
    else out.cat_features[name] = value;
  }
  return out;
}

// Every row of a batch carries the same ingested_at: format it once (a one-entry memo keeps the
// functions pure while sparing a Date per row on the hot path).
let lastIngestedAt = Number.NaN;
let lastIngestedAtText = '';
function ingestedAtText(ms: number): string {
  if (ms !== lastIngestedAt) {
    lastIngestedAtText = clickHouseTime(ms);
    lastIngestedAt = ms;
  }
  return lastIngestedAtText;
}

export function predictionRow(ev: PredictionEvent, record: StreamRecord, decoded: Decoded<unknown>, ingestedAt: number): RawPredictionRow {
  const f = splitFeatures(ev.features);
  return {
    event_id: ev.event_id,
    prediction_id: ev.prediction_id,
    model_name: ev.model_name,
    model_version: ev.model_version,
    event_time: clickHouseTime(ev.event_time),
    num_features: f.num_features,
    cat_features: f.cat_features,
    bool_features: f.bool_features,
    missing_features: f.missing_features,
    score: ev.score ?? null,
    probabilities: ev.probabilities ?? {},
    predicted_label: ev.predicted_label ?? null,
    predicted_value: ev.predicted_value ?? null,
    latency_ms: ev.latency_ms ?? null,
    segment: ev.segment ?? {},
    is_shadow: ev.is_shadow ?? false,
    fallback: ev.fallback ?? null,
    encoding: decoded.encoding,
    schema_id: decoded.schemaId,
    source_topic: record.topic,
    source_partition: record.partition,
    source_offset: record.offset,
    ingested_at: ingestedAtText(ingestedAt),
  };
}

export function outcomeRow(ev: OutcomeEvent, record: StreamRecord, decoded: Decoded<unknown>, ingestedAt: number): RawOutcomeRow {
  return {
    event_id: ev.event_id,
    prediction_id: ev.prediction_id,
    model_name: ev.model_name,
    outcome_time: clickHouseTime(ev.outcome_time),
    label: ev.label ?? null,
    target_value: ev.target_value ?? null,
    business: ev.business ?? {},
    encoding: decoded.encoding,
    schema_id: decoded.schemaId,
    source_topic: record.topic,
    source_partition: record.partition,
    source_offset: record.offset,
    ingested_at: ingestedAtText(ingestedAt),
  };
}

export function featureRow(ev: FeatureEvent, record: StreamRecord, decoded: Decoded<unknown>, ingestedAt: number): RawFeatureRow {
  const f = splitFeatures(ev.features);
  return {
    event_id: ev.event_id,
    model_name: ev.model_name,
    entity_id: ev.entity_id,
    // FeatureEvent.prediction_id: "Id to give the resulting prediction; defaults to event_id."
    prediction_id: ev.prediction_id ?? ev.event_id,
    event_time: clickHouseTime(ev.event_time),
    num_features: f.num_features,
    cat_features: f.cat_features,
    bool_features: f.bool_features,
    missing_features: f.missing_features,
    segment: ev.segment ?? {},
    encoding: decoded.encoding,
    schema_id: decoded.schemaId,
    source_topic: record.topic,
    source_partition: record.partition,
    source_offset: record.offset,
    ingested_at: ingestedAtText(ingestedAt),
  };
}

export function deadLetterRow(record: StreamRecord, error: DriftwatchError, failedAt: number, component: string): DeadLetterRow {
  return {
    failed_at: clickHouseTime(failedAt),
    component,
    code: error.code,
    reason: error.message.slice(0, MAX_REASON_CHARS),
    source_topic: record.topic,
    source_partition: record.partition,
    source_offset: record.offset,
  };
}

export function emptyRows(): IngestRows {
  return { raw_predictions: [], raw_outcomes: [], raw_features: [], dead_letter_events: [] };
}

/** Number of rows across tables (the unit of INGEST_BATCH_MAX_ROWS). */
export function rowCount(rows: IngestRows): number {
  return rows.raw_predictions.length + rows.raw_outcomes.length + rows.raw_features.length + rows.dead_letter_events.length;
}

/** Concatenates row sets (group commit of several consumed batches into one insert per table). */
export function mergeRows(parts: readonly IngestRows[]): IngestRows {
  const out = emptyRows();
  for (const p of parts) {
    for (const r of p.raw_predictions) out.raw_predictions.push(r);
    for (const r of p.raw_outcomes) out.raw_outcomes.push(r);
    for (const r of p.raw_features) out.raw_features.push(r);
    for (const r of p.dead_letter_events) out.dead_letter_events.push(r);
  }
  return out;
}

/**
 * Maps one consumed batch to rows and dead letters. Order within each table follows the input, so
 * the mapping is deterministic; nothing is dropped silently (rows + dead letters = input records).
 */
export function planBatch(results: readonly DecodeResult[], ingestedAt: number, component = 'ingest'): BatchPlan {
  const rows = emptyRows();
  const deadLetters: DeadLetter[] = [];
  for (const r of results) {
    if (!r.ok) {
      deadLetters.push({ record: r.record, error: r.error });
      rows.dead_letter_events.push(deadLetterRow(r.record, r.error, ingestedAt, component));
      continue;
    }
    const value = r.decoded.value;
    switch (r.kind) {
      case 'predictions':
        rows.raw_predictions.push(predictionRow(value as unknown as PredictionEvent, r.record, r.decoded, ingestedAt));
        break;
      case 'outcomes':
        rows.raw_outcomes.push(outcomeRow(value as unknown as OutcomeEvent, r.record, r.decoded, ingestedAt));
        break;
      case 'features':
        rows.raw_features.push(featureRow(value as unknown as FeatureEvent, r.record, r.decoded, ingestedAt));
        break;
    }
  }
  return { rows, deadLetters };
}
