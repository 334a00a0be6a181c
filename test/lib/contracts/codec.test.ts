/**
 * The codec's pure paths: JSON events, framing checks and contract validation. Avro through the real
 * registry (and schema evolution) is tested in test/integration/ingest/contracts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createEventCodec, parseJsonEvent, validateEvent } from '../../../lib/contracts/codec.js';
import { FeatureEventSchema, OutcomeEventSchema, PredictionEventSchema } from '../../../lib/contracts/schemas.js';
import { topicNames } from '../../../lib/contracts/topics.js';

const NOW = Date.UTC(2025, 5, 1);
const LIMITS = { maxPayloadBytes: 2048, maxFutureSkewMs: 60_000 };
const topics = topicNames('unit');
// Nothing listens on port 1: any registry call would fail, so these tests prove the JSON path never needs one.
const codec = createEventCodec('http://127.0.0.1:1/apis/ccompat/v7', LIMITS, topics);

const prediction = () => ({
  event_id: 'e-1',
  prediction_id: 'p-1',
  model_name: 'm',
  model_version: '1',
  event_time: NOW - 1000,
  features: { x: 1.5, c: 'a', b: true, gone: null } as Record<string, unknown>,
});
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('JSON events', () => {
  it('decodes a JSON event, detected by content, filling the defaults of omitted fields', async () => {
    const d = await codec.decode(topics.predictions, bytes(`  \n${JSON.stringify(prediction())}`), NOW);
    expect(d).toEqual({
      encoding: 'json',
      schemaId: null,
      value: {
        ...prediction(),
        score: null,
        probabilities: {},
        predicted_label: null,
        predicted_value: null,
        latency_ms: null,
        segment: {},
        is_shadow: false,
        fallback: null,
      },
    });
  });

  it('ignores fields the contract does not know (a producer ahead of this consumer)', () => {
    const v = parseJsonEvent(PredictionEventSchema, bytes({ ...prediction(), explanation: 'added later' }));
    expect(v).not.toHaveProperty('explanation');
  });

  it('rejects text that is not JSON, or JSON that is not an object', async () => {
    await expect(codec.decode(topics.predictions, bytes('{"event_id": '), NOW)).rejects.toMatchObject({ code: 'DW_INVALID_JSON' });
    expect(() => parseJsonEvent(PredictionEventSchema, bytes('[1,2]'))).toThrow(expect.objectContaining({ code: 'DW_INVALID_JSON' }));
  });

  it('rejects a prediction or outcome without prediction_id with its own code', async () => {
    const { prediction_id: _drop, ...noId } = prediction();
    await expect(codec.decode(topics.predictions, bytes(noId), NOW)).rejects.toMatchObject({ code: 'DW_MISSING_PREDICTION_ID' });
    await expect(codec.decode(topics.predictions, bytes({ ...prediction(), prediction_id: '  ' }), NOW)).rejects.toMatchObject({
      code: 'DW_MISSING_PREDICTION_ID',
    });
    const outcome = { event_id: 'o', prediction_id: '', model_name: 'm', outcome_time: NOW };
    await expect(codec.decode(topics.outcomes, bytes(outcome), NOW)).rejects.toMatchObject({ code: 'DW_MISSING_PREDICTION_ID' });
  });

  it('rejects mistyped fields as contract violations, naming the path', async () => {
    await expect(codec.decode(topics.predictions, bytes({ ...prediction(), event_time: '2025-06-01T00:00:00Z' }), NOW)).rejects.toMatchObject({
      code: 'DW_CONTRACT_VIOLATION',
      message: expect.stringContaining('event_time'),
    });
    await expect(codec.decode(topics.predictions, bytes({ ...prediction(), features: { x: [1, 2] } }), NOW)).rejects.toMatchObject({
      code: 'DW_CONTRACT_VIOLATION',
    });
    await expect(codec.decode(topics.features, bytes({ event_id: 'f', model_name: 'm', event_time: NOW, features: {} }), NOW)).rejects.toMatchObject({
      code: 'DW_CONTRACT_VIOLATION',
    });
  });

  it('rejects non-finite numbers (JSON 1e999 parses to Infinity)', async () => {
    await expect(
      codec.decode(
        topics.predictions,
        bytes(`{"event_id":"e","prediction_id":"p","model_name":"m","model_version":"1","event_time":${NOW},"features":{},"score":1e999}`),
        NOW,
      ),
    ).rejects.toMatchObject({
      code: 'DW_NON_FINITE_NUMBER',
    });
  });
});

describe('framing and limits', () => {
  it('rejects bytes that are neither Confluent framing nor JSON', async () => {
    await expect(codec.decode(topics.predictions, Buffer.from([0x07, 0, 0, 0, 1]), NOW)).rejects.toMatchObject({
      code: 'DW_WRONG_MAGIC_BYTE',
      retriable: false,
    });
    await expect(codec.decode(topics.predictions, bytes('hello'), NOW)).rejects.toMatchObject({ code: 'DW_WRONG_MAGIC_BYTE' });
  });

  it('rejects empty values and Confluent frames too short to hold a schema id', async () => {
    await expect(codec.decode(topics.predictions, null, NOW)).rejects.toMatchObject({ code: 'DW_DECODE_FAILED' });
    await expect(codec.decode(topics.predictions, Buffer.alloc(0), NOW)).rejects.toMatchObject({ code: 'DW_DECODE_FAILED' });
    await expect(codec.decode(topics.predictions, Buffer.from([0, 0, 1]), NOW)).rejects.toMatchObject({ code: 'DW_DECODE_FAILED' });
  });

  it('rejects payloads above MAX_PAYLOAD_BYTES and accepts one exactly at the limit', async () => {
    const base = JSON.stringify({ ...prediction(), features: { pad: '' } });
    const atLimit = base.replace('"pad":""', `"pad":"${'x'.repeat(LIMITS.maxPayloadBytes - base.length)}"`);
    expect(Buffer.byteLength(atLimit)).toBe(LIMITS.maxPayloadBytes);
    await expect(codec.decode(topics.predictions, bytes(atLimit), NOW)).resolves.toMatchObject({ encoding: 'json' });
    await expect(codec.decode(topics.predictions, bytes(`${atLimit} `), NOW)).rejects.toMatchObject({ code: 'DW_PAYLOAD_TOO_LARGE' });
  });

  it('refuses to decode for a topic that carries no event schema', async () => {
    await expect(codec.decode(topics.deadLetter, bytes(prediction()), NOW)).rejects.toMatchObject({ code: 'DW_CONTRACT_VIOLATION' });
  });
});

describe('validateEvent', () => {
  const valid = () => ({ ...prediction(), score: 0.5, probabilities: { a: 0.5 } }) as Record<string, unknown>;

  it('accepts an event time up to MAX_FUTURE_SKEW_MS ahead, and rejects one further', () => {
    expect(() => validateEvent(PredictionEventSchema, { ...valid(), event_time: NOW + LIMITS.maxFutureSkewMs }, NOW, LIMITS)).not.toThrow();
    expect(() => validateEvent(PredictionEventSchema, { ...valid(), event_time: NOW + LIMITS.maxFutureSkewMs + 1 }, NOW, LIMITS)).toThrow(
      expect.objectContaining({ code: 'DW_FUTURE_TIMESTAMP' }),
    );
  });

  it('checks the outcome time of outcomes', () => {
    const outcome = { event_id: 'o', prediction_id: 'p', model_name: 'm', outcome_time: NOW + 3_600_000 };
    expect(() => validateEvent(OutcomeEventSchema, outcome, NOW, LIMITS)).toThrow(expect.objectContaining({ code: 'DW_FUTURE_TIMESTAMP' }));
  });

  it('rejects a negative event time', () => {
    expect(() => validateEvent(FeatureEventSchema, { event_id: 'f', model_name: 'm', entity_id: 'x', event_time: -1, features: {} }, NOW, LIMITS)).toThrow(
      expect.objectContaining({ code: 'DW_CONTRACT_VIOLATION' }),
    );
  });

  it('finds NaN and Infinity anywhere in the event, naming the path', () => {
    expect(() => validateEvent(PredictionEventSchema, { ...valid(), features: { x: Number.NaN } }, NOW, LIMITS)).toThrow(
      expect.objectContaining({ code: 'DW_NON_FINITE_NUMBER', message: expect.stringContaining('features.x') }),
    );
    expect(() => validateEvent(PredictionEventSchema, { ...valid(), probabilities: { a: -Infinity } }, NOW, LIMITS)).toThrow(
      expect.objectContaining({ code: 'DW_NON_FINITE_NUMBER' }),
    );
  });

  it('rejects empty ids other than prediction_id as contract violations', () => {
    expect(() => validateEvent(PredictionEventSchema, { ...valid(), model_name: '' }, NOW, LIMITS)).toThrow(
      expect.objectContaining({ code: 'DW_CONTRACT_VIOLATION' }),
    );
  });
});
