/**
 * `subscribeRetrainEvents(runtime, handler)`: what a training pipeline needs to act on driftwatch's
 * RetrainRequested events, reusable by the retrain worker.
 *
 * - Consumes `<namespace>.retrain-requested.v1` in its own consumer group (at-least-once: the offset
 *   is committed after the handler resolved).
 * - Decodes every record through the schema registry (Confluent wire format, the writer schema
 *   fetched by id and resolved to the reader schema in lib/contracts/schemas.ts), or JSON.
 * - Dedups on `idempotency_key`: the trigger guarantees one event per episode, but a copy with the
 *   same key can appear after a trigger rebalance, and this consumer re-reads uncommitted records
 *   after its own crash. Keys already handled by this process are skipped (bounded memory, the most
 *   recent `dedupCapacity` keys). Across restarts of the consumer the handler itself must be
 *   idempotent by key (e.g. "is there a training run for this key already?").
 * - A record that cannot be decoded (wrong magic byte, unknown schema id, contract violation) or that
 *   the handler rejects with a non-retriable DriftwatchError goes to the dead-letter topic with its
 *   reason, and consumption goes on. Retriable failures (registry down, or any other error thrown by
 *   the handler) retry the batch with backoff and commit nothing.
 */
import { createEventCodec, type Encoding } from '../../lib/contracts/codec.js';
import type { RetrainRequested } from '../../lib/contracts/schemas.js';
import { topicNames } from '../../lib/contracts/topics.js';
import { isDriftwatchError, type DriftwatchError } from '../../lib/runtime/errors.js';
import type { DeadLetter } from '../../lib/runtime/kafka.js';
import type { Runtime } from '../../lib/runtime/process.js';

export interface RetrainEventContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly encoding: Encoding;
  /** Registry id of the writer schema (null for JSON). */
  readonly schemaId: number | null;
  /** Keeps the consumer's group membership alive; a handler that runs longer than the session timeout calls it now and then. */
  heartbeat(): Promise<void>;
}

export type RetrainEventHandler = (event: RetrainRequested, ctx: RetrainEventContext) => Promise<void> | void;

export interface SubscribeOptions {
  /** Consumer group (default RETRAIN_CONSUMER_GROUP). */
  readonly groupId?: string;
  /** Where a new group starts (default true: from the oldest retained event). */
  readonly fromBeginning?: boolean;
  /** How many recent idempotency keys are remembered for dedup (default 10000). */
  readonly dedupCapacity?: number;
  readonly now?: () => number;
}

export interface RetrainSubscription {
  /** Resolves once the group assigned partitions to this consumer. */
  readonly joined: Promise<void>;
  stats(): { readonly handled: number; readonly duplicates: number; readonly deadLetters: number };
  stop(): Promise<void>;
}

export type SubscriberRuntime = Pick<Runtime, 'config' | 'logger' | 'metrics' | 'kafka'>;

/** Insertion-ordered set with a capacity: the oldest key goes when a new one comes. */
class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(k: string): boolean {
    return this.keys.has(k);
  }
  add(k: string): void {
    this.keys.add(k);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value as string);
  }
}

export async function subscribeRetrainEvents(
  runtime: SubscriberRuntime,
  handler: RetrainEventHandler,
  options: SubscribeOptions = {},
): Promise<RetrainSubscription> {
  const s = runtime.config.settings;
  const topics = topicNames(s.DW_TOPIC_NAMESPACE);
  const topic = topics.retrainRequested;
  const now = options.now ?? Date.now;
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics, {
    requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
  });
  const kafka = runtime.kafka();
  // The consumer may start before any trigger: make sure the topics it reads and dead-letters to exist.
  await kafka.createTopic(topic, s.KAFKA_TOPIC_PARTITIONS);
  await kafka.createTopic(topics.deadLetter, s.KAFKA_TOPIC_PARTITIONS);
  const seen = new RecentKeys(options.dedupCapacity ?? 10_000);
  const counts = { handled: 0, duplicates: 0, deadLetters: 0 };
  const groupId = options.groupId ?? s.RETRAIN_CONSUMER_GROUP ?? `${s.DW_TOPIC_NAMESPACE}.retrain-consumer-example`;

  const consumer = await kafka.runConsumer({
    groupId,
    topics: [topic],
    component: 'retrain-consumer',
    deadLetterTopic: topics.deadLetter,
    fromBeginning: options.fromBeginning ?? true,
    async handleBatch(records, batchCtx) {
      const deadLetters: DeadLetter[] = [];
      for (const record of records) {
        runtime.metrics.eventsConsumed.inc({ topic });
        let decoded;
        try {
          decoded = await codec.decode<RetrainRequested>(topic, record.value, now());
        } catch (err) {
          if (isDriftwatchError(err) && !err.retriable) {
            deadLetters.push({ record, error: err });
            continue;
          }
          throw err; // registry down: retry the batch, never dead-letter a good event
        }
        const event = decoded.value;
        if (seen.has(event.idempotency_key)) {
          counts.duplicates += 1;
          runtime.logger.info(
            { idempotency_key: event.idempotency_key, partition: record.partition, offset: record.offset },
            'duplicate retrain event skipped',
          );
          continue;
        }
        try {
          await handler(event, {
            topic,
            partition: record.partition,
            offset: record.offset,
            encoding: decoded.encoding,
            schemaId: decoded.schemaId,
            heartbeat: () => batchCtx.heartbeat(),
          });
        } catch (err) {
          if (isDriftwatchError(err) && !err.retriable) {
            deadLetters.push({ record, error: err as DriftwatchError });
            continue;
          }
          throw err;
        }
        seen.add(event.idempotency_key);
        counts.handled += 1;
      }
      counts.deadLetters += deadLetters.length;
      return { deadLetters };
    },
    onDeadLetter: (dl) => runtime.metrics.deadLetters.inc({ code: dl.error.code, topic }),
    onRetry: (err) => runtime.metrics.retries.inc({ code: isDriftwatchError(err) ? err.code : 'UNKNOWN' }),
  });
  runtime.logger.info({ topic, groupId }, 'subscribed to retrain events');
  return {
    joined: consumer.joined,
    stats: () => ({ ...counts }),
    stop: () => consumer.stop(),
  };
}
