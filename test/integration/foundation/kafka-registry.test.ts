/**
 * Needs the real stack: Kafka broker + Apicurio (Confluent-compatible API). Exercises the adapter
 * and the codec end to end: topic creation, Avro through the registry, plain JSON, dead letters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaAdapter, type KafkaAdapter, type StreamRecord } from '../../../lib/runtime/kafka.js';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import { topicNames, DEAD_LETTER_HEADERS } from '../../../lib/contracts/topics.js';
import { DecodeError, isDriftwatchError } from '../../../lib/runtime/errors.js';
import type { PredictionEvent } from '../../../lib/contracts/schemas.js';
import { testConfig, testLogger, uniqueName, waitFor } from '../../support/stack.js';

const ns = uniqueName('it-found');
const topics = topicNames(ns);
const cfg = testConfig({ DW_TOPIC_NAMESPACE: ns });
let kafka: KafkaAdapter;
let codec: EventCodec;

const prediction = (id: string): PredictionEvent => ({
  event_id: `e-${id}`,
  prediction_id: id,
  model_name: 'credit-risk',
  model_version: '1',
  event_time: Date.now() - 1000,
  features: { income: 52000.5, region: 'north', has_card: true, missing: null },
  score: 0.73,
  probabilities: { '0': 0.27, '1': 0.73 },
  predicted_label: '1',
  predicted_value: null,
  latency_ms: 1.5,
  segment: { region: 'north' },
  is_shadow: false,
  fallback: null,
});

beforeAll(async () => {
  kafka = createKafkaAdapter(cfg.settings, testLogger, 'foundation-test');
  codec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, topics);
});
afterAll(async () => {
  await kafka?.disconnect();
});

describe('Kafka + schema registry (real services)', () => {
  it('creates every topic of a namespace, idempotently, with equal partition counts for the co-partitioned ones', async () => {
    await kafka.ensureTopics(topics);
    await kafka.ensureTopics(topics);
    expect(await kafka.partitionCount(topics.predictions)).toBe(cfg.settings.KAFKA_TOPIC_PARTITIONS);
    expect(await kafka.checkCoPartitioned([topics.predictions, topics.outcomes, topics.labeledPredictions])).toBe(cfg.settings.KAFKA_TOPIC_PARTITIONS);
  });

  it('detects topics that are not co-partitioned', async () => {
    const odd = `${ns}.odd.v1`;
    await kafka.createTopic(odd, 1);
    await expect(kafka.checkCoPartitioned([topics.predictions, odd])).rejects.toMatchObject({ code: 'DW_TOPIC_LAYOUT_INVALID' });
  });

  it('registers the schemas and round-trips Avro and JSON events through the broker', async () => {
    const ids = await codec.registerAll();
    expect(ids.get(topics.predictions)).toBeGreaterThan(0);
    // Ask for the subject itself: the /subjects listing is paginated (1000 by default).
    const versions = (await (await fetch(`${cfg.settings.SCHEMA_REGISTRY_URL}/subjects/${topics.predictions}-value/versions`)).json()) as number[];
    expect(versions).toEqual([1]);

    const avroBytes = await codec.encode(topics.predictions, prediction('p-avro'));
    expect(avroBytes[0]).toBe(0);
    const jsonEvent = { ...prediction('p-json') } as Record<string, unknown>;
    delete jsonEvent.probabilities; // defaulted field may be omitted in JSON
    const producer = await kafka.producer();
    await producer.send([
      { topic: topics.predictions, key: 'p-avro', value: avroBytes },
      { topic: topics.predictions, key: 'p-json', value: JSON.stringify(jsonEvent) },
      { topic: topics.predictions, key: 'p-bad', value: Buffer.from([0x07, 1, 2, 3]) },
    ]);
    await producer.disconnect();

    const decoded = new Map<string, { encoding: string; value: PredictionEvent }>();
    const dead: StreamRecord[] = [];
    const consumer = await kafka.runConsumer({
      groupId: uniqueName('g'),
      topics: [topics.predictions],
      component: 'foundation-test',
      deadLetterTopic: topics.deadLetter,
      handleBatch: async (records) => {
        const deadLetters = [];
        for (const r of records) {
          try {
            const d = await codec.decode<PredictionEvent>(r.topic, r.value, Date.now());
            decoded.set(d.value.prediction_id, { encoding: d.encoding, value: d.value });
          } catch (err) {
            if (!isDriftwatchError(err) || err.retriable) throw err;
            deadLetters.push({ record: r, error: err });
          }
        }
        return { deadLetters };
      },
    });
    const dlq = await kafka.runConsumer({
      groupId: uniqueName('g-dlq'),
      topics: [topics.deadLetter],
      component: 'foundation-test-dlq',
      deadLetterTopic: topics.deadLetter,
      handleBatch: async (records) => {
        dead.push(...records);
        return { deadLetters: [] };
      },
    });
    await waitFor('two decoded events and one dead letter', async () => decoded.size === 2 && dead.length === 1, 45_000);
    await consumer.stop();
    await dlq.stop();

    expect(decoded.get('p-avro')).toMatchObject({
      encoding: 'avro',
      value: { model_name: 'credit-risk', score: 0.73, features: { income: 52000.5, region: 'north', has_card: true, missing: null } },
    });
    expect(decoded.get('p-json')).toMatchObject({ encoding: 'json', value: { prediction_id: 'p-json', probabilities: {} } });
    const d = dead[0]!;
    expect(d.headers[DEAD_LETTER_HEADERS.code]).toBe('DW_WRONG_MAGIC_BYTE');
    expect(d.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(topics.predictions);
    expect(d.value).toEqual(Buffer.from([0x07, 1, 2, 3]));
    expect(d.key?.toString()).toBe('p-bad');
  });

  it('commits offsets only after the batch handler resolved: a failing handler is retried and commits nothing meanwhile', async () => {
    const topic = `${ns}.retry.v1`;
    await kafka.createTopic(topic, 1);
    const producer = await kafka.producer();
    await producer.send([{ topic, key: 'k', value: 'v1' }]);
    await producer.disconnect();
    const groupId = uniqueName('g-retry');
    let calls = 0;
    const consumer = await kafka.runConsumer({
      groupId,
      topics: [topic],
      component: 'retry-test',
      deadLetterTopic: topics.deadLetter,
      handleBatch: async () => {
        calls++;
        if (calls < 3) throw new Error('ClickHouse is down (simulated)');
        return { deadLetters: [] };
      },
    });
    await waitFor('handler called three times', async () => calls >= 3, 30_000);
    await waitFor('offset committed', async () => (await kafka.consumerLag(groupId, [topic]))[0]?.committed === 1, 15_000);
    await consumer.stop();
    expect(calls).toBe(3);
  });

  it('classifies bad Confluent frames: unknown schema id is bad input, not an outage', async () => {
    const frame = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x00]), Buffer.from([2, 3])]);
    await expect(codec.decode(topics.predictions, frame, Date.now())).rejects.toMatchObject({ code: 'DW_UNKNOWN_SCHEMA_ID', retriable: false });
    await expect(codec.decode(topics.predictions, Buffer.alloc(0), Date.now())).rejects.toBeInstanceOf(DecodeError);
  });

  it('classifies an unreachable registry as retriable', async () => {
    const down = createEventCodec('http://127.0.0.1:1/apis/ccompat/v7', { maxPayloadBytes: 1000, maxFutureSkewMs: 1000 }, topics);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from([2])]);
    await expect(down.decode(topics.predictions, frame, Date.now())).rejects.toMatchObject({ code: 'DW_REGISTRY_UNAVAILABLE', retriable: true });
  });
});
