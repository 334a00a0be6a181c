/**
 * subscribeRetrainEvents (services/retrain-consumer-example/subscribe.ts) against the real broker and
 * registry: Avro events are decoded through the registry (JSON too), duplicates by idempotency key
 * are skipped, undecodable records and events the handler rejects for good are dead-lettered with
 * their code, a handler failure that may be transient is retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import type { RetrainRequested } from '../../../lib/contracts/schemas.js';
import { DEAD_LETTER_HEADERS, topicNames } from '../../../lib/contracts/topics.js';
import { InvalidRequestError } from '../../../lib/runtime/errors.js';
import { createKafkaAdapter, type KafkaAdapter, type StreamRecord } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { subscribeRetrainEvents, type RetrainEventContext, type RetrainSubscription } from '../../../services/retrain-consumer-example/subscribe.js';
import { testConfig, testLogger, uniqueName, waitFor } from '../../support/stack.js';

const ns = uniqueName('rtcons');
const topics = topicNames(ns);
const config = testConfig({ DW_TOPIC_NAMESPACE: ns, KAFKA_TOPIC_PARTITIONS: '1' });
let kafka: KafkaAdapter;
let codec: EventCodec;
let subscription: RetrainSubscription;
const handled: { event: RetrainRequested; ctx: RetrainEventContext }[] = [];
let flaky = 1;

function event(key: string, model = 'churn'): RetrainRequested {
  return {
    idempotency_key: key,
    policy_id: 'p',
    model_name: model,
    model_version: '3',
    created_at: Date.now(),
    conditions: [{ kind: 'drift', metric: 'features_at_or_above_critical', value: 2, threshold: 2, comparator: 'gte', window_start: 1, window_end: 2 }],
    drifted_features: ['age'],
    training_range_start: 0,
    training_range_end: 1000,
    reason: 'test',
  };
}

beforeAll(async () => {
  kafka = createKafkaAdapter(config.settings, testLogger, 'rt-consumer-test');
  await kafka.ensureTopics(topics);
  codec = createEventCodec(config.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 1e6, maxFutureSkewMs: 3_600_000 }, topics);
  await codec.registerAll();
  subscription = await subscribeRetrainEvents(
    { config, logger: testLogger, metrics: createMetrics('retrain-consumer'), kafka: () => kafka },
    (ev, ctx) => {
      if (ev.model_name === 'reject-me') throw new InvalidRequestError('this pipeline does not train reject-me');
      if (ev.model_name === 'flaky' && flaky-- > 0) throw new Error('training cluster busy');
      handled.push({ event: ev, ctx });
    },
    { groupId: `${ns}-group` },
  );
}, 60_000);

afterAll(async () => {
  await subscription?.stop();
  await kafka?.disconnect();
});

describe('subscribeRetrainEvents', () => {
  it('decodes through the registry, dedups by key, dead-letters bad records, retries transient failures', async () => {
    const producer = await kafka.producer();
    const avro = await codec.encode(topics.retrainRequested, event('k1'));
    const unknownId = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x01]), avro.subarray(5)]);
    await producer.send(
      [
        avro,
        avro, // a duplicate copy with the same idempotency key
        Buffer.from(JSON.stringify(event('k2'))),
        Buffer.from('not an event'),
        unknownId,
        await codec.encode(topics.retrainRequested, event('k3', 'reject-me')),
        await codec.encode(topics.retrainRequested, event('k4', 'flaky')),
      ].map((value) => ({ topic: topics.retrainRequested, key: 'churn', value })),
    );
    await producer.disconnect();

    await waitFor('three handled events', async () => handled.length === 3, 30_000);
    expect(handled.map((h) => h.event.idempotency_key)).toEqual(['k1', 'k2', 'k4']);
    const { created_at: _c, ...expected } = event('k1');
    expect(handled[0]!.event).toMatchObject(expected);
    expect(handled[0]!.ctx.encoding).toBe('avro');
    expect(handled[0]!.ctx.schemaId).toEqual(expect.any(Number));
    expect(handled[1]!.ctx).toMatchObject({ encoding: 'json', schemaId: null });
    // The flaky failure re-delivers the batch: records already handled are skipped as duplicates,
    // so the copy of k1 and the redelivered k1 and k2 all count; none is handled twice.
    expect(subscription.stats()).toMatchObject({ handled: 3, deadLetters: 3 });
    expect(subscription.stats().duplicates).toBeGreaterThanOrEqual(1);

    const dead: StreamRecord[] = [];
    await waitFor('three dead letters', async () => {
      dead.length = 0;
      await kafka.readToEnd(topics.deadLetter, 'all', (r) => dead.push(r));
      return dead.length === 3;
    });
    expect(dead.map((d) => d.headers[DEAD_LETTER_HEADERS.code])).toEqual(['DW_WRONG_MAGIC_BYTE', 'DW_UNKNOWN_SCHEMA_ID', 'DW_INVALID_REQUEST']);
    expect(dead[2]!.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/does not train reject-me/);
    expect(dead.every((d) => d.headers[DEAD_LETTER_HEADERS.component] === 'retrain-consumer')).toBe(true);
  });
});
