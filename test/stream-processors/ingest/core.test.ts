import { describe, expect, it } from 'vitest';
import {
  clickHouseTime,
  featureRow,
  mergeRows,
  outcomeRow,
  planBatch,
  predictionRow,
  rowCount,
  splitFeatures,
  TABLE_COLUMNS,
  type DecodeResult,
} from '../../../stream-processors/ingest/core.js';
import type { Decoded } from '../../../lib/contracts/codec.js';
import type { FeatureEvent, OutcomeEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import { FutureTimestampError, WrongMagicByteError } from '../../../lib/runtime/errors.js';
import type { StreamRecord } from '../../../lib/runtime/kafka.js';

const T0 = Date.UTC(2025, 0, 15, 12, 30, 45, 123);
const INGESTED = T0 + 5_000;

function rec(topic: string, offset: number, partition = 2): StreamRecord {
  return { topic, partition, offset: String(offset), key: Buffer.from(`k${offset}`), value: Buffer.from('x'), headers: {}, timestamp: T0 };
}

const prediction: PredictionEvent = {
  event_id: 'e-1',
  prediction_id: 'p-1',
  model_name: 'credit-risk',
  model_version: '3',
  event_time: T0,
  features: { income: 52000.5, region: 'north', has_card: true, age: null, zero: 0, empty: '' },
  score: 0.73,
  probabilities: { '0': 0.27, '1': 0.73 },
  predicted_label: '1',
  predicted_value: null,
  latency_ms: 1.5,
  segment: { region: 'north' },
  is_shadow: true,
  fallback: 'previous_version',
};

const outcome: OutcomeEvent = {
  event_id: 'o-1',
  prediction_id: 'p-1',
  model_name: 'credit-risk',
  outcome_time: T0 + 60_000,
  label: '0',
  target_value: null,
  business: { revenue: 12.5 },
};

const feature: FeatureEvent = {
  event_id: 'f-1',
  model_name: 'credit-risk',
  entity_id: 'customer-9',
  prediction_id: null,
  event_time: T0,
  features: { income: 1, region: 'south' },
  segment: {},
};

const avro = <T>(value: T, schemaId = 7): Decoded<Record<string, unknown>> => ({ value: value as Record<string, unknown>, encoding: 'avro', schemaId });
const json = <T>(value: T): Decoded<Record<string, unknown>> => ({ value: value as Record<string, unknown>, encoding: 'json', schemaId: null });

describe('splitFeatures', () => {
  it('puts every feature in exactly one typed part: numbers, categories, flags, missing', () => {
    expect(splitFeatures(prediction.features)).toEqual({
      num_features: { income: 52000.5, zero: 0 },
      cat_features: { region: 'north', empty: '' },
      bool_features: { has_card: true },
      missing_features: ['age'],
    });
  });

  it('maps an empty or absent feature map to empty parts', () => {
    const empty = { num_features: {}, cat_features: {}, bool_features: {}, missing_features: [] };
    expect(splitFeatures({})).toEqual(empty);
    expect(splitFeatures(undefined)).toEqual(empty);
  });

  it('does not mutate its input', () => {
    const input = Object.freeze({ a: 1, b: null, c: 'x' });
    expect(() => splitFeatures(input)).not.toThrow();
    expect(input).toEqual({ a: 1, b: null, c: 'x' });
  });
});

describe('row mapping', () => {
  it('maps a prediction to a raw_predictions row with typed features and its Kafka origin', () => {
    expect(predictionRow(prediction, rec('ns.predictions.v1', 41), avro(prediction), INGESTED)).toEqual({
      event_id: 'e-1',
      prediction_id: 'p-1',
      model_name: 'credit-risk',
      model_version: '3',
      event_time: '2025-01-15 12:30:45.123',
      num_features: { income: 52000.5, zero: 0 },
      cat_features: { region: 'north', empty: '' },
      bool_features: { has_card: true },
      missing_features: ['age'],
      score: 0.73,
      probabilities: { '0': 0.27, '1': 0.73 },
      predicted_label: '1',
      predicted_value: null,
      latency_ms: 1.5,
      segment: { region: 'north' },
      is_shadow: true,
      fallback: 'previous_version',
      encoding: 'avro',
      schema_id: 7,
      source_topic: 'ns.predictions.v1',
      source_partition: 2,
      source_offset: '41',
      ingested_at: '2025-01-15 12:30:50.123',
    });
  });

  it('fills defaulted prediction fields that a JSON producer omitted', () => {
    const minimal = { event_id: 'e', prediction_id: 'p', model_name: 'm', model_version: '1', event_time: T0, features: {} } as unknown as PredictionEvent;
    expect(predictionRow(minimal, rec('t', 0), json(minimal), INGESTED)).toMatchObject({
      score: null,
      probabilities: {},
      predicted_label: null,
      predicted_value: null,
      latency_ms: null,
      segment: {},
      is_shadow: false,
      fallback: null,
      encoding: 'json',
      schema_id: null,
    });
  });

  it('maps an outcome to a raw_outcomes row', () => {
    expect(outcomeRow(outcome, rec('ns.outcomes.v1', 3, 0), json(outcome), INGESTED)).toEqual({
      event_id: 'o-1',
      prediction_id: 'p-1',
      model_name: 'credit-risk',
      outcome_time: '2025-01-15 12:31:45.123',
      label: '0',
      target_value: null,
      business: { revenue: 12.5 },
      encoding: 'json',
      schema_id: null,
      source_topic: 'ns.outcomes.v1',
      source_partition: 0,
      source_offset: '3',
      ingested_at: '2025-01-15 12:30:50.123',
    });
  });

  it('gives a feature event without prediction_id its event_id, as the contract says', () => {
    const row = featureRow(feature, rec('ns.features.v1', 0), avro(feature), INGESTED);
    expect(row).toMatchObject({
      event_id: 'f-1',
      entity_id: 'customer-9',
      prediction_id: 'f-1',
      num_features: { income: 1 },
      cat_features: { region: 'south' },
    });
    expect(featureRow({ ...feature, prediction_id: 'p-77' }, rec('t', 0), avro(feature), INGESTED).prediction_id).toBe('p-77');
  });

  it('formats times as ClickHouse DateTime64(3) UTC text, keeping milliseconds', () => {
    expect(clickHouseTime(0)).toBe('1970-01-01 00:00:00.000');
    expect(clickHouseTime(T0)).toBe('2025-01-15 12:30:45.123');
  });
});

describe('planBatch', () => {
  const results: DecodeResult[] = [
    { ok: true, record: rec('ns.predictions.v1', 10), kind: 'predictions', decoded: avro(prediction) },
    { ok: false, record: rec('ns.predictions.v1', 11), error: new WrongMagicByteError('first byte 0x07') },
    { ok: true, record: rec('ns.outcomes.v1', 5), kind: 'outcomes', decoded: json(outcome) },
    { ok: false, record: rec('ns.features.v1', 8), error: new FutureTimestampError('x'.repeat(5000)) },
    { ok: true, record: rec('ns.features.v1', 9), kind: 'features', decoded: avro(feature) },
  ];

  it('accounts for every record exactly once: a row, or a dead letter with a dead_letter_events row', () => {
    const plan = planBatch(results, INGESTED, 'ingest');
    expect(plan.rows.raw_predictions.map((r) => r.source_offset)).toEqual(['10']);
    expect(plan.rows.raw_outcomes.map((r) => r.source_offset)).toEqual(['5']);
    expect(plan.rows.raw_features.map((r) => r.source_offset)).toEqual(['9']);
    expect(plan.deadLetters.map((d) => [d.record.offset, d.error.code])).toEqual([
      ['11', 'DW_WRONG_MAGIC_BYTE'],
      ['8', 'DW_FUTURE_TIMESTAMP'],
    ]);
    expect(plan.rows.dead_letter_events).toEqual([
      {
        failed_at: '2025-01-15 12:30:50.123',
        component: 'ingest',
        code: 'DW_WRONG_MAGIC_BYTE',
        reason: 'first byte 0x07',
        source_topic: 'ns.predictions.v1',
        source_partition: 2,
        source_offset: '11',
      },
      expect.objectContaining({ code: 'DW_FUTURE_TIMESTAMP', source_topic: 'ns.features.v1', source_offset: '8' }),
    ]);
    expect(plan.rows.dead_letter_events[1]!.reason).toHaveLength(1000);
    expect(rowCount(plan.rows)).toBe(results.length);
  });

  it('is deterministic: a re-delivered batch maps to identical rows (what ReplacingMergeTree collapses)', () => {
    expect(planBatch(results, INGESTED)).toEqual(planBatch(results, INGESTED));
  });

  it('maps an empty batch to no rows', () => {
    const plan = planBatch([], INGESTED);
    expect(rowCount(plan.rows)).toBe(0);
    expect(plan.deadLetters).toEqual([]);
  });

  it('merges the row sets of several batches per table, in order', () => {
    const a = planBatch(results.slice(0, 2), INGESTED).rows;
    const b = planBatch(results.slice(2), INGESTED).rows;
    const merged = mergeRows([a, b]);
    expect(merged).toEqual(planBatch(results, INGESTED).rows);
    expect(rowCount(a)).toBe(2); // inputs untouched
  });
});

describe('TABLE_COLUMNS', () => {
  it('lists exactly the fields of the rows each builder produces', () => {
    const plan = planBatch(
      [
        { ok: true, record: rec('ns.predictions.v1', 1), kind: 'predictions', decoded: avro(prediction) },
        { ok: true, record: rec('ns.outcomes.v1', 1), kind: 'outcomes', decoded: avro(outcome) },
        { ok: true, record: rec('ns.features.v1', 1), kind: 'features', decoded: avro(feature) },
        { ok: false, record: rec('ns.features.v1', 2), error: new WrongMagicByteError('x') },
      ],
      INGESTED,
    );
    for (const table of Object.keys(TABLE_COLUMNS) as (keyof typeof TABLE_COLUMNS)[]) {
      const row = plan.rows[table][0]!;
      expect(Object.keys(row).sort(), table).toEqual([...TABLE_COLUMNS[table]].sort());
    }
  });
});
