/**
 * Ingest processor: consumes the features, predictions and outcomes topics, decodes each record
 * (Confluent Avro through the registry, or JSON; lib/contracts/codec.ts), and writes raw rows to
 * ClickHouse in batches (migration 010). Bad events are dead-lettered; outages are waited out.
 *
 * Delivery: at-least-once, with an exactly-once effect.
 *  - The Kafka adapter commits a batch's offsets only after `handleBatch` resolved, and
 *    `handleBatch` resolves only after the insert holding its rows returned (group commit, see
 *    group-commit.ts). A crash before that re-delivers the batch; a crash after the insert but before
 *    the commit re-inserts it, and the ReplacingMergeTree tables collapse the copies (read with FINAL).
 *  - A non-retriable decode error (DW_DECODE_FAILED, DW_WRONG_MAGIC_BYTE, DW_UNKNOWN_SCHEMA_ID,
 *    DW_INVALID_JSON, DW_CONTRACT_VIOLATION, DW_MISSING_PREDICTION_ID, DW_NON_FINITE_NUMBER,
 *    DW_FUTURE_TIMESTAMP, DW_PAYLOAD_TOO_LARGE) makes that one record a dead letter: the adapter
 *    produces its original bytes and headers to the dead-letter topic, a dead_letter_events row is
 *    written with the batch, and the pipeline goes on.
 *  - A retriable error (registry or ClickHouse unavailable, or an unexpected bug) fails the whole
 *    batch: nothing is dead-lettered or committed, and the adapter retries it with backoff.
 *
 * Run as a process: `node --import tsx stream-processors/ingest/main.ts` (configuration from the
 * environment, see .env.example). Tests and the all-in-one launcher call `startIngest` in-process.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEventCodec, type EventCodec } from '../../lib/contracts/codec.js';
import { topicNames } from '../../lib/contracts/topics.js';
import type { Config } from '../../lib/runtime/config.js';
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { isDriftwatchError, isRetriable } from '../../lib/runtime/errors.js';
import type { BatchContext, BatchOutcome, KafkaAdapter, RunningConsumer, StreamRecord } from '../../lib/runtime/kafka.js';
import type { Logger } from '../../lib/runtime/logger.js';
import type { Metrics } from '../../lib/runtime/metrics.js';
import { createRuntime, runMain, untilAvailable } from '../../lib/runtime/process.js';
import { INGEST_TOPIC_KEYS, mergeRows, planBatch, rowCount, type DecodeResult, type IngestRows, type IngestTopicKey } from './core.js';
import { createGroupCommit } from './group-commit.js';
import { insertRows } from './sink.js';

export const COMPONENT = 'ingest';

/** What ingest needs from a runtime: `createRuntime('ingest')` provides it, tests build one. */
export interface IngestRuntime {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  clickhouse(): Promise<ClickHouse>;
  kafka(): KafkaAdapter;
}

export interface IngestOptions {
  /** Consumer group id; default `<namespace>.ingest`. A new group replays the topics from offset 0. */
  readonly groupId?: string;
  /** Codec to use instead of one built from the settings (tests point it at a proxied registry). */
  readonly codec?: EventCodec;
  /** Wall clock for the future-timestamp check and ingested_at. */
  readonly now?: () => number;
  /** Defaults: INGEST_BATCH_MAX_ROWS / INGEST_BATCH_MAX_WAIT_MS. */
  readonly maxRows?: number;
  readonly maxWaitMs?: number;
  /** Partition batches processed at once (and so grouped into one insert); default 16. */
  readonly partitionsConsumedConcurrently?: number;
  /** Largest fetch per partition; default the adapter's (1 MiB). */
  readonly maxBytesPerPartition?: number;
  /** Period of the consumer-lag gauge refresh; 0 disables it. Default 15 s. */
  readonly lagIntervalMs?: number;
}

export interface IngestStats {
  /** Records whose batch was made durable (rows written or dead-lettered). */
  readonly records: number;
  readonly rowsInserted: number;
  readonly deadLetters: number;
  readonly inserts: number;
  readonly retries: number;
}

export interface RunningIngest {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Resolves once the consumer group assigned partitions to this instance. */
  readonly joined: Promise<void>;
  stats(): IngestStats;
  stop(): Promise<void>;
}

/**
 * Awaits `work`, heartbeating the consumer group meanwhile: kafkajs 2.2.4 sends heartbeats only when
 * the handler calls them, so a slow insert (ClickHouse under load) would otherwise outlive the session
 * and cost a rebalance. A failed heartbeat (a rebalance already started) is left to the commit, which
 * then fails and the batch is re-delivered to the partition's new owner.
 */
async function whileHeartbeating<T>(ctx: BatchContext, everyMs: number, work: Promise<T>): Promise<T> {
  const timer = setInterval(() => void ctx.heartbeat().catch(() => undefined), everyMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export async function startIngest(rt: IngestRuntime, options: IngestOptions = {}): Promise<RunningIngest> {
  const s = rt.config.settings;
  const names = topicNames(s.DW_TOPIC_NAMESPACE);
  const now = options.now ?? Date.now;
  const maxRows = options.maxRows ?? s.INGEST_BATCH_MAX_ROWS;
  const maxWaitMs = options.maxWaitMs ?? s.INGEST_BATCH_MAX_WAIT_MS;
  const groupId = options.groupId ?? `${s.DW_TOPIC_NAMESPACE}.ingest`;
  const codec =
    options.codec ??
    createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, names, {
      requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
    });
  const kindOf = new Map<string, IngestTopicKey>(INGEST_TOPIC_KEYS.map((k) => [names[k], k]));
  const topics = INGEST_TOPIC_KEYS.map((k) => names[k]);
  const { metrics, logger } = rt;

  // Not retried here: createRuntime's clickhouse() keeps its first promise, so a failed open would be
  // retried forever against the same rejection. Failing fast lets the launcher restart the process.
  const ch = await rt.clickhouse();
  const kafka = rt.kafka();
  await untilAvailable(rt, 'Kafka', () => kafka.ensureTopics(names));
  await untilAvailable(rt, 'schema registry', () => codec.registerAll());

  let records = 0;
  let rowsInserted = 0;
  let deadLetters = 0;
  let inserts = 0;
  let retries = 0;

  const commits = createGroupCommit<IngestRows>({
    maxRows,
    maxWaitMs,
    size: rowCount,
    flush: async (parts) => {
      rowsInserted += await insertRows(ch, mergeRows(parts), maxRows);
      inserts++;
    },
  });

  async function handleBatch(batch: readonly StreamRecord[], ctx: BatchContext): Promise<BatchOutcome> {
    const started = now();
    const topic = batch[0]!.topic;
    const kind = kindOf.get(topic);
    const ticket = commits.begin();
    try {
      const results: DecodeResult[] = [];
      for (const record of batch) {
        try {
          const decoded = await codec.decode<Record<string, unknown>>(record.topic, record.value, started);
          results.push({ ok: true, record, kind: kind!, decoded });
        } catch (err) {
          // An outage (or a bug) fails the whole batch: it is retried, never dead-lettered.
          if (isRetriable(err) || !isDriftwatchError(err)) throw err;
          results.push({ ok: false, record, error: err });
        }
      }
      const plan = planBatch(results, started, COMPONENT);
      await whileHeartbeating(ctx, s.KAFKA_HEARTBEAT_INTERVAL_MS, ticket.submit(plan.rows));

      const durableAt = now();
      records += batch.length;
      metrics.eventsConsumed.inc({ topic }, batch.length);
      metrics.batchSize.observe(batch.length);
      metrics.batchDuration.observe({ topic }, (durableAt - started) / 1000);
      const latency = metrics.processingLatency.labels({ topic }); // one label lookup per batch, not per record
      for (const r of batch) if (r.timestamp > 0) latency.observe(Math.max(0, durableAt - r.timestamp) / 1000);
      return { deadLetters: plan.deadLetters };
    } finally {
      ticket.end();
    }
  }

  const consumer: RunningConsumer = await kafka.runConsumer({
    groupId,
    topics,
    component: COMPONENT,
    deadLetterTopic: names.deadLetter,
    fromBeginning: true,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 16,
    ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    handleBatch,
    onDeadLetter: (dl) => {
      deadLetters++;
      metrics.deadLetters.inc({ code: dl.error.code, topic: dl.record.topic });
    },
    onRetry: (err) => {
      retries++;
      metrics.retries.inc({ code: isDriftwatchError(err) ? err.code : 'UNEXPECTED' });
    },
  });

  const lagIntervalMs = options.lagIntervalMs ?? 15_000;
  const lagTimer =
    lagIntervalMs > 0
      ? setInterval(() => {
          kafka
            .consumerLag(groupId, topics)
            .then((lags) => {
              for (const l of lags) metrics.consumerLag.set({ group: groupId, topic: l.topic, partition: String(l.partition) }, l.lag);
            })
            .catch((err) => logger.debug({ err: (err as Error).message }, 'consumer lag refresh failed'));
        }, lagIntervalMs)
      : undefined;
  lagTimer?.unref();

  logger.info({ groupId, topics, maxRows, maxWaitMs }, 'ingest started');
  let stopped = false;
  return {
    groupId,
    topics,
    joined: consumer.joined,
    stats: () => ({ records, rowsInserted, deadLetters, inserts, retries }),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (lagTimer) clearInterval(lagTimer);
      await consumer.stop();
    },
  };
}

async function main(): Promise<void> {
  const rt = createRuntime(COMPONENT);
  const ingest = await startIngest(rt);
  rt.onShutdown(() => ingest.stop());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain(COMPONENT, main);
