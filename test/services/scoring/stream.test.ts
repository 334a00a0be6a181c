/**
 * The stream handler's contract with the Kafka adapter (which commits only after handleBatch
 * resolves): it resolves only after the producer acknowledged the predictions, rejects (so nothing
 * is committed) when producing or scoring fails retriably, and returns bad events as dead letters.
 * The adapter and producer are stand-ins here; the real ones are exercised in
 * test/integration/scoring/stream.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createEventCodec } from '../../../lib/contracts/codec.js';
import type { FeatureEvent } from '../../../lib/contracts/schemas.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { ClickHouseUnavailableError, KafkaUnavailableError, ModelNotFoundError } from '../../../lib/runtime/errors.js';
import type { ConsumerOptions, KafkaAdapter, OutboundRecord, StreamRecord } from '../../../lib/runtime/kafka.js';
import { createLogger } from '../../../lib/runtime/logger.js';
import { buildPrediction } from '../../../services/scoring/core.js';
import type { Scorer } from '../../../services/scoring/scorer.js';
import { startScoringStream } from '../../../services/scoring/stream.js';

const topics = topicNames('unit');
const logger = createLogger('test', 'silent');
// JSON events decode without the schema registry; encoding is replaced by a JSON stand-in.
const realCodec = createEventCodec('http://127.0.0.1:1', { maxPayloadBytes: 100_000, maxFutureSkewMs: 3_600_000 }, topics);
const codec = { ...realCodec, decode: realCodec.decode.bind(realCodec), encode: async (_t: string, v: object) => Buffer.from(JSON.stringify(v)) };

const feature = (id: string, model = 'm', prediction_id: string | null = null): FeatureEvent => ({
  event_id: id,
  model_name: model,
  entity_id: 'u',
  prediction_id,
  event_time: Date.now() - 1000,
  features: { x: 1 },
  segment: {},
});
const record = (offset: number, value: Buffer): StreamRecord => ({
  topic: topics.features,
  partition: 2,
  offset: String(offset),
  key: null,
  value,
  headers: {},
  timestamp: 0,
});

function harness(scorer: Pick<Scorer, 'scoreEvents'>, send: (r: readonly OutboundRecord[]) => Promise<void>) {
  let opts: ConsumerOptions | undefined;
  const kafka = {
    runConsumer: async (o: ConsumerOptions) => ((opts = o), { joined: Promise.resolve(), assigned: () => [], stop: async () => undefined }),
  } as unknown as KafkaAdapter;
  return {
    start: () =>
      startScoringStream({
        kafka,
        codec: codec as never,
        topics,
        scorer: scorer as Scorer,
        producer: { send, disconnect: async () => undefined },
        logger,
        groupId: 'g',
        batchMaxSize: 10,
        batchMaxWaitMs: 0,
        concurrency: 1,
      }),
    handle: (records: StreamRecord[]) => opts!.handleBatch(records, { heartbeat: async () => undefined, isRunning: () => true }),
  };
}

const servingScorer: Pick<Scorer, 'scoreEvents'> = {
  scoreEvents: async (events) =>
    events.map((e) =>
      e.model_name === 'gone'
        ? { error: new ModelNotFoundError('no champion') }
        : {
            predictions: [
              buildPrediction(
                e,
                { score: 0.5, probabilities: {}, label: null, value: null },
                { modelName: e.model_name, version: '1', isShadow: false, fallback: null, latencyMs: 1 },
              ),
            ],
          },
    ),
};

describe('scoring stream handler', () => {
  it('resolves only after the producer acknowledged the predictions, keyed by prediction_id with their source', async () => {
    const order: string[] = [];
    let sent: readonly OutboundRecord[] = [];
    const h = harness(servingScorer, async (r) => {
      order.push('send-start');
      await new Promise((res) => setTimeout(res, 30));
      sent = r;
      order.push('send-acked');
    });
    await h.start();
    const outcome = await h.handle([record(7, Buffer.from(JSON.stringify(feature('a', 'm', 'pid-a')))), record(8, Buffer.from(JSON.stringify(feature('b'))))]);
    order.push('handled');
    expect(order).toEqual(['send-start', 'send-acked', 'handled']);
    expect(outcome.deadLetters).toEqual([]);
    expect(sent.map((r) => [r.topic, r.key, r.headers?.['dw-source']])).toEqual([
      [topics.predictions, 'pid-a', `${topics.features}:2:7`],
      [topics.predictions, 'b', `${topics.features}:2:8`],
    ]);
  });

  it('dead-letters undecodable events and events the scorer rejects, and still produces the rest', async () => {
    let sent: readonly OutboundRecord[] = [];
    const h = harness(servingScorer, async (r) => void (sent = r));
    await h.start();
    const bad = record(1, Buffer.from([0x07, 0x01]));
    const gone = record(2, Buffer.from(JSON.stringify(feature('c', 'gone'))));
    const outcome = await h.handle([bad, gone, record(3, Buffer.from(JSON.stringify(feature('d'))))]);
    expect(outcome.deadLetters.map((d) => [d.record.offset, d.error.code])).toEqual([
      ['1', 'DW_WRONG_MAGIC_BYTE'],
      ['2', 'DW_MODEL_NOT_FOUND'],
    ]);
    expect(sent.map((r) => r.key)).toEqual(['d']);
  });

  it('rejects (nothing committed) when the produce fails or the scorer hits a retriable outage', async () => {
    const failingSend = harness(servingScorer, async () => {
      throw new KafkaUnavailableError('broker down');
    });
    await failingSend.start();
    await expect(failingSend.handle([record(1, Buffer.from(JSON.stringify(feature('a'))))])).rejects.toBeInstanceOf(KafkaUnavailableError);

    const outage = harness({ scoreEvents: async () => Promise.reject(new ClickHouseUnavailableError('down')) }, async () => undefined);
    await outage.start();
    await expect(outage.handle([record(1, Buffer.from(JSON.stringify(feature('a'))))])).rejects.toBeInstanceOf(ClickHouseUnavailableError);
  });
});
