/**
 * The scoring stream: features topic -> micro-batched ONNX scoring -> predictions topic.
 *
 * Thin adapter around the pure pieces: decode (codec) -> micro-batcher -> scorer -> encode ->
 * produce. A Kafka batch handler resolves only after its predictions (served and shadow) were
 * acknowledged by the broker (acks=all), and the adapter commits only after the handler resolves, so
 * an event is never committed unscored. Bad events (undecodable, unknown model, model failing with no
 * fallback left) are returned as dead letters with their code; retriable failures (registry,
 * ClickHouse or Kafka down) are thrown and the adapter retries the batch without committing.
 *
 * Each prediction record is keyed by prediction_id (co-partitioned with outcomes) and carries a
 * `dw-source` header `<topic>:<partition>:<offset>` naming the feature event it came from.
 */
import { performance } from 'node:perf_hooks';
import type { EventCodec } from '../../lib/contracts/codec.js';
import type { FeatureEvent } from '../../lib/contracts/schemas.js';
import type { TopicNames } from '../../lib/contracts/topics.js';
import { isRetriable, type DriftwatchError } from '../../lib/runtime/errors.js';
import type { DeadLetter, KafkaAdapter, OutboundRecord, Producer, RunningConsumer, StreamRecord } from '../../lib/runtime/kafka.js';
import type { Logger } from '../../lib/runtime/logger.js';
import type { Metrics } from '../../lib/runtime/metrics.js';
import { createMicroBatcher, type MicroBatcher } from './micro-batcher.js';
import type { ScoreOutcome, Scorer } from './scorer.js';

export const SOURCE_HEADER = 'dw-source';
export const COMPONENT = 'scoring';

export interface ScoringStreamOptions {
  readonly kafka: KafkaAdapter;
  readonly codec: EventCodec;
  readonly topics: TopicNames;
  readonly scorer: Scorer;
  readonly producer: Producer;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly groupId: string;
  readonly batchMaxSize: number;
  readonly batchMaxWaitMs: number;
  /** Partitions handled concurrently; their events share micro-batches. */
  readonly concurrency: number;
}

export interface ScoringStream {
  readonly consumer: RunningConsumer;
  readonly batcher: MicroBatcher<FeatureEvent, ScoreOutcome>;
  stop(): Promise<void>;
}

/** Encodes the predictions of one handler call into outbound records (pure apart from the codec). */
export async function predictionRecords(
  codec: EventCodec,
  predictionsTopic: string,
  pairs: ReadonlyArray<{ record: StreamRecord; outcome: ScoreOutcome }>,
): Promise<{ records: OutboundRecord[]; deadLetters: DeadLetter[] }> {
  const records: OutboundRecord[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const { record, outcome } of pairs) {
    if (outcome.error) {
      deadLetters.push({ record, error: outcome.error });
      continue;
    }
    for (const p of outcome.predictions) {
      records.push({
        topic: predictionsTopic,
        key: p.prediction_id,
        value: await codec.encode(predictionsTopic, p),
        headers: { [SOURCE_HEADER]: `${record.topic}:${record.partition}:${record.offset}` },
      });
    }
  }
  return { records, deadLetters };
}

export async function startScoringStream(opts: ScoringStreamOptions): Promise<ScoringStream> {
  const { codec, topics, scorer, producer, metrics, logger } = opts;
  const batcher = createMicroBatcher<FeatureEvent, ScoreOutcome>({
    maxSize: opts.batchMaxSize,
    maxWaitMs: opts.batchMaxWaitMs,
    process: (events) => scorer.scoreEvents(events),
  });

  const consumer = await opts.kafka.runConsumer({
    groupId: opts.groupId,
    topics: [topics.features],
    component: COMPONENT,
    deadLetterTopic: topics.deadLetter,
    partitionsConsumedConcurrently: opts.concurrency,
    async handleBatch(records, ctx) {
      const started = performance.now();
      const now = Date.now();
      const decoded: Array<{ record: StreamRecord; event: FeatureEvent }> = [];
      const deadLetters: DeadLetter[] = [];
      for (const record of records) {
        try {
          const d = await codec.decode<FeatureEvent>(topics.features, record.value, now);
          decoded.push({ record, event: d.value });
        } catch (err) {
          if (isRetriable(err)) throw err;
          deadLetters.push({ record, error: err as DriftwatchError });
        }
      }
      metrics?.eventsConsumed.inc({ topic: topics.features }, records.length);
      const outcomes = await batcher.submit(decoded.map((d) => d.event));
      const out = await predictionRecords(
        codec,
        topics.predictions,
        decoded.map((d, i) => ({ record: d.record, outcome: outcomes[i]! })),
      );
      if (ctx.isRunning()) await ctx.heartbeat().catch(() => undefined);
      await producer.send(out.records);
      metrics?.eventsProduced.inc({ topic: topics.predictions }, out.records.length);
      metrics?.batchSize.observe(records.length);
      metrics?.batchDuration.observe({ topic: topics.features }, (performance.now() - started) / 1000);
      return { deadLetters: [...deadLetters, ...out.deadLetters] };
    },
    onDeadLetter: (dl) => {
      metrics?.deadLetters.inc({ code: dl.error.code, topic: dl.record.topic });
      logger.warn({ code: dl.error.code, reason: dl.error.message, partition: dl.record.partition, offset: dl.record.offset }, 'feature event dead-lettered');
    },
    onRetry: (err) => metrics?.retries.inc({ code: (err as DriftwatchError)?.code ?? 'UNKNOWN' }),
  });

  return {
    consumer,
    batcher,
    async stop() {
      await consumer.stop();
      await batcher.drain();
    },
  };
}
