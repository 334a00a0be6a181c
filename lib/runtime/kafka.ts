/**
 * The Kafka adapter: the only module in driftwatch that imports kafkajs. Everything else sees plain
 * records and the small interfaces below, so a maintained client (e.g. @platformatic/kafka) can
 * replace kafkajs 2.2.4 (its last release) by rewriting this file alone.
 *
 * Consumer semantics (at-least-once delivery, effect made exactly-once by idempotent sinks):
 *  - autoCommit is off. A batch's offset is committed only after `handleBatch` resolved (its results
 *    are durable) and every dead letter it returned was acknowledged by the broker (acks=all).
 *  - A retriable failure (broker, registry or ClickHouse unavailable) is retried in place with
 *    exponential backoff, heartbeating so the member keeps its partitions; nothing is committed and
 *    nothing is dead-lettered. kafkajs' own behaviour on a throw from eachBatch is to retry and then
 *    restart the consumer, which would re-deliver a poison message forever
 *    (kafkajs src/consumer/runner.js); the adapter therefore never lets a poison event escape.
 *  - A non-retriable failure of one event is returned by the handler as a dead letter: the original
 *    bytes and key go to the dead-letter topic with dw-error-* headers, and the offset moves on.
 *  - Partition lifecycle: `onPartitionStart` runs (awaited) before the first batch of a newly
 *    assigned partition, so stateful processors restore state first; `onPartitionsRevoked` runs on
 *    the next group join that no longer assigns a partition.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type IHeaders, type KafkaMessage, type Producer as KafkaProducer, type LogEntry } from 'kafkajs';
import { DEAD_LETTER_HEADERS, TOPIC_SPECS, type TopicNames } from '../contracts/topics.js';
import { KafkaUnavailableError, TopicLayoutError, isDriftwatchError, isRetriable, type DriftwatchError } from './errors.js';
import type { Logger } from './logger.js';

export interface KafkaSettings {
  readonly KAFKA_BROKERS: readonly string[];
  readonly KAFKA_CLIENT_ID: string;
  readonly KAFKA_SESSION_TIMEOUT_MS: number;
  readonly KAFKA_HEARTBEAT_INTERVAL_MS: number;
  readonly KAFKA_TOPIC_PARTITIONS: number;
  readonly KAFKA_REPLICATION_FACTOR: number;
  readonly RETRY_INITIAL_MS: number;
  readonly RETRY_MAX_MS: number;
}

export interface StreamRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Broker/producer timestamp, epoch ms. */
  readonly timestamp: number;
}

export interface OutboundRecord {
  readonly topic: string;
  readonly key: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
  readonly partition?: number;
}

export interface DeadLetter {
  readonly record: StreamRecord;
  readonly error: DriftwatchError;
}

export interface BatchOutcome {
  /** Events that failed for good; they are dead-lettered before the batch is committed. */
  readonly deadLetters: readonly DeadLetter[];
  /**
   * How many leading records of the batch the handler processed; default all. The rest are neither
   * committed nor resolved, so kafkajs fetches them again from the first unprocessed offset (its
   * fetch offset is the resolved offset: src/consumer/consumerGroup.js `nextOffset`). A handler
   * that stops early pauses the partition first (flow control), or the rest come back at once.
   */
  readonly consumed?: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface BatchContext {
  /** Keeps the group membership alive during long work. */
  heartbeat(): Promise<void>;
  isRunning(): boolean;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly component: string;
  /** Where this consumer's dead letters go (`<namespace>.dead-letter.v1`). */
  readonly deadLetterTopic: string;
  readonly fromBeginning?: boolean;
  readonly partitionsConsumedConcurrently?: number;
  readonly maxBytesPerPartition?: number;
  readonly handleBatch: (records: readonly StreamRecord[], ctx: BatchContext) => Promise<BatchOutcome>;
  readonly onPartitionStart?: (tp: TopicPartition) => Promise<void>;
  readonly onPartitionsRevoked?: (tps: readonly TopicPartition[]) => Promise<void>;
  /** Observability hooks (metrics). */
  readonly onDeadLetter?: (dl: DeadLetter) => void;
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  readonly onCommitted?: (tp: TopicPartition, offset: string, records: number) => void;
}

export interface RunningConsumer {
  stop(): Promise<void>;
  /** Resolves when the group has assigned partitions to this member at least once. */
  readonly joined: Promise<void>;
  assigned(): TopicPartition[];
  /**
   * Stops fetching these partitions until `resume` (kafkajs consumer.pause). With a single fetcher per
   * broker, kafkajs fetches a partition again only after its batch was handled (src/consumer/fetcher.js),
   * and a fetched batch of a paused partition is dropped unread and fetched again on resume; nothing
   * is skipped. kafkajs keeps the paused set across
   * rebalances (src/consumer/subscriptionState.js), so a caller resumes partitions it loses.
   */
  pause(tps: readonly TopicPartition[]): void;
  resume(tps: readonly TopicPartition[]): void;
}

export interface Producer {
  send(records: readonly OutboundRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly committed: number;
  readonly high: number;
  readonly lag: number;
}

export interface KafkaAdapter {
  /** Creates every driftwatch topic of a namespace (idempotent). */
  ensureTopics(topics: TopicNames): Promise<void>;
  createTopic(name: string, partitions: number, options?: { compacted?: boolean }): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  checkCoPartitioned(topics: readonly string[]): Promise<number>;
  producer(options?: { idempotent?: boolean }): Promise<Producer>;
  runConsumer(options: ConsumerOptions): Promise<RunningConsumer>;
  readToEnd(topic: string, partitions: readonly number[] | 'all', onRecord: (r: StreamRecord) => void): Promise<number>;
  consumerLag(groupId: string, topics: readonly string[]): Promise<PartitionLag[]>;
  endOffsets(topic: string): Promise<Map<number, number>>;
  deleteGroup(groupId: string): Promise<void>;
  disconnect(): Promise<void>;
}

function toLogger(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      // kafkajs logs every transient coordinator error at ERROR; they are expected while a broker restarts.
      const fn = level === logLevel.ERROR ? 'warn' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'debug' : 'trace';
      logger[fn]({ kafkajs: extra }, message);
    };
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(String).join(',') : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  return out;
}

/** The one mapping of a kafkajs message to the adapter's record, for every consumer path. */
function toStreamRecord(topic: string, partition: number, m: KafkaMessage): StreamRecord {
  return { topic, partition, offset: m.offset, key: m.key, value: m.value, headers: headersToStrings(m.headers), timestamp: Number(m.timestamp) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function deadLetterRecord(dl: DeadLetter, component: string, now: number, deadLetterTopic: string): OutboundRecord {
  const { record, error } = dl;
  return {
    topic: deadLetterTopic,
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DEAD_LETTER_HEADERS.code]: error.code,
      // Header values are bounded: a reason quoting a huge payload must not exceed the broker limit.
      [DEAD_LETTER_HEADERS.reason]: error.message.slice(0, 1000),
      [DEAD_LETTER_HEADERS.sourceTopic]: record.topic,
      [DEAD_LETTER_HEADERS.sourcePartition]: String(record.partition),
      [DEAD_LETTER_HEADERS.sourceOffset]: record.offset,
      [DEAD_LETTER_HEADERS.failedAt]: String(now),
      [DEAD_LETTER_HEADERS.component]: component,
    },
  };
}

export function createKafkaAdapter(settings: KafkaSettings, logger: Logger, instanceId = `${process.pid}`): KafkaAdapter {
  const kafka = new Kafka({
    clientId: `${settings.KAFKA_CLIENT_ID}-${instanceId}`,
    brokers: [...settings.KAFKA_BROKERS],
    logLevel: logLevel.WARN,
    logCreator: toLogger(logger),
    connectionTimeout: 3000,
    retry: { initialRetryTime: settings.RETRY_INITIAL_MS, maxRetryTime: settings.RETRY_MAX_MS, retries: 8 },
  });
  // The connect promise is cached, not the connected client: concurrent first callers share one
  // connection instead of each opening an admin client of which all but one would leak.
  let admin: Promise<Admin> | undefined;
  const producers = new Set<KafkaProducer>();
  const consumers = new Set<Consumer>();

  function getAdmin(): Promise<Admin> {
    if (!admin) {
      const a = kafka.admin();
      const connecting = a.connect().then(
        () => a,
        (err: unknown) => {
          if (admin === connecting) admin = undefined; // the next call tries again
          throw new KafkaUnavailableError(`cannot reach Kafka at ${settings.KAFKA_BROKERS.join(',')}: ${(err as Error).message}`, {}, { cause: err });
        },
      );
      admin = connecting;
    }
    return admin;
  }

  async function createTopic(name: string, partitions: number, options: { compacted?: boolean } = {}): Promise<void> {
    const a = await getAdmin();
    const existing = await a.listTopics();
    if (!existing.includes(name)) {
      const configEntries = options.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [];
      try {
        // waitForLeaders is off: kafkajs 2.2.4 retries only LEADER_NOT_AVAILABLE there, while a
        // fresh KRaft broker briefly answers UNKNOWN_TOPIC_OR_PARTITION (src/admin/index.js
        // retryOnLeaderNotAvailable). We wait for leaders below, tolerating both.
        await a.createTopics({
          waitForLeaders: false,
          topics: [{ topic: name, numPartitions: partitions, replicationFactor: settings.KAFKA_REPLICATION_FACTOR, configEntries }],
        });
      } catch (err) {
        if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
      }
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const meta = await a.fetchTopicMetadata({ topics: [name] });
        const parts = meta.topics[0]?.partitions ?? [];
        if (parts.length > 0 && parts.every((p) => p.leader >= 0)) return;
      } catch (err) {
        const type = (err as { type?: string }).type;
        if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
      }
      if (Date.now() > deadline) throw new KafkaUnavailableError(`topic ${name} has no leader after 30 s`);
      await sleep(100);
    }
  }

  async function partitionCount(topic: string): Promise<number> {
    const a = await getAdmin();
    const meta = await a.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  }

  async function endOffsets(topic: string): Promise<Map<number, number>> {
    const a = await getAdmin();
    const offsets = await a.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  }

  return {
    createTopic,
    partitionCount,
    endOffsets,

    async ensureTopics(topics) {
      for (const spec of Object.values(TOPIC_SPECS)) await createTopic(topics[spec.key], settings.KAFKA_TOPIC_PARTITIONS, { compacted: spec.compacted });
    },

    async checkCoPartitioned(topics) {
      const counts = await Promise.all(topics.map(async (t) => [t, await partitionCount(t)] as const));
      const distinct = new Set(counts.map(([, n]) => n));
      if (distinct.size !== 1 || counts.some(([, n]) => n === 0)) {
        throw new TopicLayoutError(
          `topics must be co-partitioned (same partition count, keyed by prediction_id): ${counts.map(([t, n]) => `${t}=${n}`).join(', ')}`,
          { counts: Object.fromEntries(counts) },
        );
      }
      return counts[0]![1];
    },

    async producer({ idempotent = true } = {}) {
      const p = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 1 : 5, allowAutoTopicCreation: false });
      try {
        await p.connect();
      } catch (err) {
        throw new KafkaUnavailableError(`producer cannot connect: ${(err as Error).message}`, {}, { cause: err });
      }
      producers.add(p);
      return {
        async send(records) {
          if (records.length === 0) return;
          const byTopic = new Map<string, OutboundRecord[]>();
          for (const r of records) {
            const list = byTopic.get(r.topic) ?? [];
            list.push(r);
            byTopic.set(r.topic, list);
          }
          try {
            await p.sendBatch({
              acks: -1,
              topicMessages: [...byTopic].map(([topic, rs]) => ({
                topic,
                messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers ? { ...r.headers } : undefined, partition: r.partition })),
              })),
            });
          } catch (err) {
            throw new KafkaUnavailableError(`produce failed: ${(err as Error).message}`, {}, { cause: err });
          }
        },
        async disconnect() {
          producers.delete(p);
          await p.disconnect();
        },
      };
    },

    async runConsumer(opts) {
      const consumer = kafka.consumer({
        groupId: opts.groupId,
        sessionTimeout: settings.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatInterval: settings.KAFKA_HEARTBEAT_INTERVAL_MS,
        maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
        allowAutoTopicCreation: false,
        retry: { initialRetryTime: settings.RETRY_INITIAL_MS, maxRetryTime: settings.RETRY_MAX_MS, retries: Number.MAX_SAFE_INTEGER },
      });
      consumers.add(consumer);
      const dlqProducer = await this.producer();
      let assigned: TopicPartition[] = [];
      const started = new Map<string, Promise<void>>();
      let markJoined: () => void = () => undefined;
      const joined = new Promise<void>((r) => (markJoined = r));
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const next: TopicPartition[] = [];
        for (const [topic, parts] of Object.entries(e.payload.memberAssignment)) for (const partition of parts as number[]) next.push({ topic, partition });
        const key = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;
        const nextKeys = new Set(next.map(key));
        const revoked = assigned.filter((tp) => !nextKeys.has(key(tp)));
        for (const tp of revoked) started.delete(key(tp));
        assigned = next;
        logger.info({ component: opts.component, assigned: next.map(key), revoked: revoked.map(key) }, 'partitions assigned');
        if (revoked.length > 0 && opts.onPartitionsRevoked) {
          void opts.onPartitionsRevoked(revoked).catch((err) => logger.error({ err }, 'onPartitionsRevoked failed'));
        }
        markJoined();
      });
      consumer.on(consumer.events.CRASH, (e) =>
        logger.error({ component: opts.component, error: String(e.payload.error) }, 'consumer crashed; kafkajs will restart it'),
      );

      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [...opts.topics], fromBeginning: opts.fromBeginning ?? true });
      } catch (err) {
        // Typed, so that a component starting while the broker is down waits (untilAvailable) rather than crashing.
        await consumer.disconnect().catch(() => undefined);
        throw new KafkaUnavailableError(`consumer cannot start on ${opts.topics.join(', ')}: ${(err as Error).message}`, {}, { cause: err });
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, commitOffsetsIfNecessary, resolveOffset }) => {
          if (batch.messages.length === 0) return;
          const tp = { topic: batch.topic, partition: batch.partition };
          const tpKey = `${tp.topic}:${tp.partition}`;
          if (opts.onPartitionStart) {
            let p = started.get(tpKey);
            if (!p) {
              p = opts.onPartitionStart(tp);
              started.set(tpKey, p);
              p.catch(() => started.delete(tpKey));
            }
            await p;
          }
          const records: StreamRecord[] = batch.messages.map((m) => toStreamRecord(batch.topic, batch.partition, m));
          let attempt = 0;
          let delay = settings.RETRY_INITIAL_MS;
          for (;;) {
            if (!isRunning() || isStale()) return;
            try {
              const outcome = await opts.handleBatch(records, { heartbeat, isRunning });
              if (outcome.deadLetters.length > 0) {
                const now = Date.now();
                await dlqProducer.send(outcome.deadLetters.map((dl) => deadLetterRecord(dl, opts.component, now, opts.deadLetterTopic)));
                for (const dl of outcome.deadLetters) opts.onDeadLetter?.(dl);
              }
              const consumed = Math.min(records.length, Math.max(0, outcome.consumed ?? records.length));
              if (consumed === 0) return; // nothing processed: fetched again from the same offset
              const last = records[consumed - 1]!.offset;
              const next = (BigInt(last) + 1n).toString();
              await commitOffsetsIfNecessary({ topics: [{ topic: tp.topic, partitions: [{ partition: tp.partition, offset: next }] }] });
              resolveOffset(last);
              opts.onCommitted?.(tp, next, consumed);
              return;
            } catch (err) {
              attempt += 1;
              const retriable = isRetriable(err);
              opts.onRetry?.(err, attempt, delay);
              logger[retriable ? 'warn' : 'error'](
                {
                  component: opts.component,
                  err: isDriftwatchError(err) ? err.toJSON() : { message: (err as Error)?.message, stack: (err as Error)?.stack },
                  attempt,
                  delay,
                  ...tp,
                },
                retriable
                  ? 'retriable failure; retrying the batch without committing'
                  : 'unexpected failure in batch handler; retrying (never dead-lettered at batch level)',
              );
              // Sleep in heartbeat-sized slices so the member keeps its partitions during an outage.
              let slept = 0;
              while (slept < delay && isRunning() && !isStale()) {
                const slice = Math.min(delay - slept, settings.KAFKA_HEARTBEAT_INTERVAL_MS);
                await sleep(slice);
                slept += slice;
                try {
                  await heartbeat();
                } catch {
                  return; // rebalance in progress: the batch is re-fetched by whoever owns the partition
                }
              }
              delay = Math.min(delay * 2, settings.RETRY_MAX_MS);
            }
          }
        },
      });
      return {
        joined,
        assigned: () => [...assigned],
        pause: (tps) => {
          if (tps.length > 0) consumer.pause(tps.map((tp) => ({ topic: tp.topic, partitions: [tp.partition] })));
        },
        resume: (tps) => {
          if (tps.length > 0) consumer.resume(tps.map((tp) => ({ topic: tp.topic, partitions: [tp.partition] })));
        },
        async stop() {
          consumers.delete(consumer);
          await consumer.disconnect();
          await dlqProducer.disconnect();
        },
      };
    },

    async readToEnd(topic, partitions, onRecord) {
      const ends = await endOffsets(topic);
      const wanted = new Set(partitions === 'all' ? [...ends.keys()] : partitions);
      const remaining = new Set([...wanted].filter((p) => (ends.get(p) ?? 0) > 0));
      if (remaining.size === 0) return 0;
      const groupId = `${settings.KAFKA_CLIENT_ID}-restore-${randomUUID()}`;
      const consumer = kafka.consumer({
        groupId,
        sessionTimeout: settings.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatInterval: settings.KAFKA_HEARTBEAT_INTERVAL_MS,
        maxBytesPerPartition: 4_194_304,
      });
      let count = 0;
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              if (!wanted.has(batch.partition)) {
                consumer.pause([{ topic, partitions: [batch.partition] }]);
                return;
              }
              const end = ends.get(batch.partition) ?? 0;
              for (const m of batch.messages) {
                if (Number(m.offset) >= end) break;
                onRecord(toStreamRecord(topic, batch.partition, m));
                count++;
              }
              const lastOffset = Number(batch.lastOffset());
              if (lastOffset >= end - 1 || batch.messages.length === 0) {
                remaining.delete(batch.partition);
                consumer.pause([{ topic, partitions: [batch.partition] }]);
              }
              if (remaining.size === 0) resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      await this.deleteGroup(groupId).catch(() => undefined);
      return count;
    },

    async consumerLag(groupId, topics) {
      const a = await getAdmin();
      const out: PartitionLag[] = [];
      const committed = await a.fetchOffsets({ groupId, topics: [...topics] });
      for (const t of committed) {
        const ends = await endOffsets(t.topic);
        for (const p of t.partitions) {
          const high = ends.get(p.partition) ?? 0;
          const c = Number(p.offset) < 0 ? 0 : Number(p.offset);
          out.push({ topic: t.topic, partition: p.partition, committed: c, high, lag: Math.max(0, high - c) });
        }
      }
      return out;
    },

    async deleteGroup(groupId) {
      const a = await getAdmin();
      await a.deleteGroups([groupId]);
    },

    async disconnect() {
      await Promise.allSettled([...consumers].map((c) => c.disconnect()));
      await Promise.allSettled([...producers].map((p) => p.disconnect()));
      const pending = admin;
      admin = undefined;
      if (pending) await pending.then((a) => a.disconnect()).catch(() => undefined);
    },
  };
}
