/**
 * Label-joiner processor: joins PredictionEvents with their delayed OutcomeEvents (core.ts; rules in
 * docs/join-semantics.md) and writes LabeledPredictions to `<ns>.labeled-predictions.v1` (Avro
 * through the registry) and to ClickHouse (`labeled_predictions`, `late_labels`, migration 020).
 *
 * Co-partitioning. Predictions and outcomes are keyed by prediction_id and their topics must have
 * the same partition count, so a prediction and its outcome are in the same partition number (the
 * Kafka Streams co-partitioning requirement; producers use kafkajs' default murmur2 partitioner on
 * that key). Startup checks the counts (`checkCoPartitioned`) and creates the output and changelog
 * topics with the same count. A record whose key is not its prediction_id may sit in the wrong
 * partition and could never be joined: it is dead-lettered (DW_CONTRACT_VIOLATION). A batch whose
 * partition is not assigned to this instance on both topics is refused (DW_TOPIC_LAYOUT_INVALID,
 * retried, never committed): joining it would silently emit its predictions UNLABELED.
 *
 * State. One JoinCore per partition number, fed by both topics' partitions of that number; work on
 * one partition number is serialised. The state is durable in the compacted changelog topic
 * `<ns>.label-joiner-state.v1` (same partition number, keyed by prediction_id). A partition's
 * restore (`readToEnd`) starts in `onPartitionStart` when its first batch arrives and is awaited by
 * that batch's handler, which heartbeats meanwhile; the state is dropped in `onPartitionsRevoked`,
 * and the instance that takes the partition over restores it.
 *
 * Order of effects per batch (what makes a crash anywhere safe):
 *  1. decode; bad records become dead letters;
 *  2. apply the records not yet in the state (offset >= the partition's position for that topic);
 *  3. write the outputs: ClickHouse rows (ReplacingMergeTree, idempotent) and the labeled topic;
 *  4. write the changelog: changed keys, then the watermark record with the input positions, all
 *     acknowledged (acks=all);
 *  5. return: the adapter dead-letters, then commits the offsets.
 * A crash before 4 completes: the restore rolls back the unfinished changelog write, the batch is
 * re-delivered and recomputed; outputs repeat identically (the tables collapse them). A crash after
 * 4: the restored positions say the batch is in the state, its re-delivered records are skipped and
 * nothing repeats. Outputs that were computed but not yet written stay in the partition's outbox and
 * are written first by the next attempt. The labeled-predictions topic is at-least-once: a consumer
 * dedups by (model_name, model_version, is_shadow, prediction_id), as the table does.
 *
 * Run as a process: `node --import tsx stream-processors/label-joiner/main.ts`; the main job calls
 * `startLabelJoiner` in-process.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEventCodec, type EventCodec } from '../../lib/contracts/codec.js';
import type { LabeledPrediction, OutcomeEvent, PredictionEvent } from '../../lib/contracts/schemas.js';
import { topicNames } from '../../lib/contracts/topics.js';
import { toClickHouseError, type ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import type { Config } from '../../lib/runtime/config.js';
import {
  ClickHouseQueryError,
  ClickHouseUnavailableError,
  ContractViolationError,
  KafkaUnavailableError,
  TopicLayoutError,
  isDriftwatchError,
  isRetriable,
  type DriftwatchError,
} from '../../lib/runtime/errors.js';
import type {
  BatchContext,
  BatchOutcome,
  DeadLetter,
  KafkaAdapter,
  OutboundRecord,
  Producer,
  RunningConsumer,
  StreamRecord,
  TopicPartition,
} from '../../lib/runtime/kafka.js';
import type { Logger } from '../../lib/runtime/logger.js';
import type { Metrics } from '../../lib/runtime/metrics.js';
import { createRuntime, runMain, untilAvailable } from '../../lib/runtime/process.js';
import { JoinCore, joinSettingsFor, type JoinInput, type JoinOutput, type JoinSettings } from './core.js';
import { outcomesPaused } from './flow.js';
import { labeledPredictionRow, lateLabelRow, resultKind } from './rows.js';

export const COMPONENT = 'label-joiner';

/** Input streams, as named in the changelog's position record. */
type Stream = 'predictions' | 'outcomes';

/** What the joiner needs from a runtime: `createRuntime('label-joiner')` provides it, tests build one. */
export interface LabelJoinerRuntime {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  clickhouse(): Promise<ClickHouse>;
  kafka(): KafkaAdapter;
}

export interface LabelJoinerOptions {
  /** Consumer group id; default `<namespace>.label-joiner`. */
  readonly groupId?: string;
  readonly codec?: EventCodec;
  /** Wall clock (future-timestamp check, input idleness, emitted_at). */
  readonly now?: () => number;
  /** Partition batches processed at once (different partition numbers run in parallel). Default 4. */
  readonly partitionsConsumedConcurrently?: number;
  /** Period of the consumer-lag gauge refresh; 0 disables it. Default 15 s. */
  readonly lagIntervalMs?: number;
  /** Largest fetch per partition; default the adapter's (1 MiB). */
  readonly maxBytesPerPartition?: number;
  /** Largest produce request the joiner builds (bytes of keys and values); the broker's default limit is 1 MiB. */
  readonly maxRequestBytes?: number;
}

export interface LabelJoinerStats {
  readonly records: number;
  readonly emitted: number;
  readonly lateLabels: number;
  readonly deadLetters: number;
  readonly restores: number;
  readonly restoredRecords: number;
  readonly partitions: readonly number[];
  readonly pending: number;
}

export interface RunningLabelJoiner {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly partitions: number;
  readonly joined: Promise<void>;
  stats(): LabelJoinerStats;
  stop(): Promise<void>;
}

interface PartitionTask {
  readonly partition: number;
  readonly core: JoinCore;
  /** Outputs computed but not yet written. */
  outbox: JoinOutput[];
  /**
   * How many leading outbox entries are already durable (ClickHouse rows and topic records written)
   * while the changelog write failed: a retry resumes after them instead of producing them again.
   */
  written: number;
  /** Serialises the work of both input topics on this partition number. */
  lock: Promise<void>;
  revoked: boolean;
}

/** ClickHouse refuses inserts touching >100 partitions by default; a replay of months of data would stall on it. */
const INSERT_SETTINGS = { max_partitions_per_insert_block: '0' };

/**
 * An insert failure without a ClickHouse exception type never reached the engine (a 5xx from a
 * proxy, chdb-http's injected outage): an outage, retried. An engine exception is a statement error.
 */
export function classifyInsertError(err: unknown): DriftwatchError {
  const classified = toClickHouseError(err);
  const type = (err as { type?: unknown })?.type;
  if (classified instanceof ClickHouseQueryError && (typeof type !== 'string' || type === '')) {
    return new ClickHouseUnavailableError(`ClickHouse did not accept the insert: ${classified.message}`, {}, { cause: err });
  }
  return classified;
}

/**
 * Why partition `p` cannot be joined by this member, or null: it must own both topics' partition p.
 * (kafkajs' round-robin assigner aligns them only when the member count divides the partition count.)
 */
export function coLocationProblem(assigned: readonly TopicPartition[], p: number, predictionsTopic: string, outcomesTopic: string): string | null {
  const has = (t: string) => assigned.some((tp) => tp.topic === t && tp.partition === p);
  if (has(predictionsTopic) && has(outcomesTopic)) return null;
  return (
    `partition ${p} of ${predictionsTopic} and of ${outcomesTopic} are not both assigned to this instance ` +
    `(assigned: ${assigned.map((tp) => `${tp.topic}:${tp.partition}`).join(', ') || 'none'}); ` +
    `joining would emit its predictions UNLABELED. Run a number of instances that divides the partition count.`
  );
}

/** Splits records into produce requests of at most `maxBytes` (a record batch must fit the broker's message.max.bytes). */
export function chunkRecords(records: readonly OutboundRecord[], maxBytes: number): OutboundRecord[][] {
  const chunks: OutboundRecord[][] = [];
  let current: OutboundRecord[] = [];
  let size = 0;
  for (const r of records) {
    const n = (r.key?.length ?? 0) + (r.value?.length ?? 0) + 64;
    if (current.length > 0 && size + n > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(r);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export async function startLabelJoiner(rt: LabelJoinerRuntime, options: LabelJoinerOptions = {}): Promise<RunningLabelJoiner> {
  const s = rt.config.settings;
  const names = topicNames(s.DW_TOPIC_NAMESPACE);
  const now = options.now ?? Date.now;
  const groupId = options.groupId ?? `${s.DW_TOPIC_NAMESPACE}.${COMPONENT}`;
  const maxRequestBytes = options.maxRequestBytes ?? 512 * 1024;
  const codec =
    options.codec ??
    createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, names, {
      requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
    });
  const { logger, metrics } = rt;
  const streamOf = new Map<string, Stream>([
    [names.predictions, 'predictions'],
    [names.outcomes, 'outcomes'],
  ]);

  const ch = await untilAvailable(rt, 'ClickHouse', () => rt.clickhouse());
  const kafka = rt.kafka();
  // Inputs first (created with the configured count if missing); the join's own topics then take
  // the inputs' count, whatever it is, and the four are checked together.
  const partitions = await untilAvailable(rt, 'Kafka', async () => {
    await kafka.createTopic(names.predictions, s.KAFKA_TOPIC_PARTITIONS);
    await kafka.createTopic(names.outcomes, s.KAFKA_TOPIC_PARTITIONS);
    const n = await kafka.checkCoPartitioned([names.predictions, names.outcomes]);
    await kafka.createTopic(names.labeledPredictions, n);
    await kafka.createTopic(names.joinChangelog, n, { compacted: true });
    await kafka.createTopic(names.deadLetter, s.KAFKA_TOPIC_PARTITIONS);
    return kafka.checkCoPartitioned([names.predictions, names.outcomes, names.labeledPredictions, names.joinChangelog]);
  });
  await untilAvailable(rt, 'schema registry', () => codec.registerAll());
  const producer: Producer = await untilAvailable(rt, 'Kafka', () => kafka.producer());
  const settings: JoinSettings = joinSettingsFor(s, partitions);

  const tasks = new Map<number, PartitionTask>();
  const restoring = new Map<number, Promise<PartitionTask>>();
  let records = 0;
  let emitted = 0;
  let lateLabels = 0;
  let deadLetters = 0;
  let restores = 0;
  let restoredRecords = 0;

  async function restore(p: number): Promise<PartitionTask> {
    const started = now();
    logger.info({ partition: p }, 'restoring partition state from the changelog');
    const core = new JoinCore(settings, started);
    let corrupt: unknown;
    const n = await kafka.readToEnd(names.joinChangelog, [p], (r) => {
      if (corrupt) return;
      try {
        core.restoreRecord(r.key?.toString('utf8') ?? '', r.value === null ? null : r.value.toString('utf8'));
      } catch (err) {
        // Thrown inside the restore consumer it would make kafkajs re-read forever; surface it here.
        corrupt = isDriftwatchError(err) ? Object.assign(err, { details: { ...err.details, partition: p, offset: r.offset } }) : err;
      }
    });
    if (corrupt) throw corrupt;
    const task: PartitionTask = { partition: p, core, outbox: core.finishRestore(now()), written: 0, lock: Promise.resolve(), revoked: false };
    restores++;
    restoredRecords += n;
    const st = core.stats();
    logger.info(
      {
        partition: p,
        changelogRecords: n,
        pending: st.pending,
        outcomes: st.outcomes,
        closed: st.closed,
        watermark: st.watermark,
        positions: { predictions: core.position('predictions'), outcomes: core.position('outcomes') },
        ms: now() - started,
      },
      'partition state restored',
    );
    return task;
  }

  /** The partition's state, restored on first use (concurrent callers share one restore). */
  async function taskFor(p: number): Promise<PartitionTask> {
    const existing = tasks.get(p);
    if (existing) return existing;
    let pending = restoring.get(p);
    if (!pending) {
      pending = restore(p).then(
        (task) => {
          // Revoked while restoring: hand the task out (the caller's batch is stale anyway) but do not keep it.
          if (restoring.get(p) === pending) {
            tasks.set(p, task);
            restoring.delete(p);
          } else task.revoked = true;
          updateGauges();
          return task;
        },
        (err) => {
          if (restoring.get(p) === pending) restoring.delete(p);
          throw err;
        },
      );
      restoring.set(p, pending);
    }
    return pending;
  }

  function drop(p: number): void {
    const task = tasks.get(p);
    if (task) task.revoked = true;
    tasks.delete(p);
    restoring.delete(p);
  }

  async function insert(table: string, values: readonly object[]): Promise<void> {
    if (values.length === 0) return;
    try {
      await ch.client.insert({ table, values, format: 'JSONEachRow', clickhouse_settings: INSERT_SETTINGS });
    } catch (err) {
      throw classifyInsertError(err);
    }
  }

  async function send(out: readonly OutboundRecord[]): Promise<void> {
    for (const chunk of chunkRecords(out, maxRequestBytes)) await producer.send(chunk);
  }

  /** Steps 3 and 4: outputs, then the changelog. Leaves the outbox in place if anything fails. */
  async function flush(task: PartitionTask): Promise<void> {
    const outputs = task.outbox;
    const fresh = outputs.slice(task.written);
    const at = now();
    if (fresh.length > 0) {
      const labeledRows = [];
      const lateRows = [];
      const emits: LabeledPrediction[] = [];
      for (const o of fresh) {
        if (o.type === 'emit') {
          labeledRows.push(labeledPredictionRow(o.record, at));
          emits.push(o.record);
        } else if (o.type === 'late_label') {
          lateRows.push(lateLabelRow(o.reason, o.outcome, o.predictionTime, o.modelVersion, o.watermark, at));
        }
      }
      // ClickHouse first, then the topic: while ClickHouse is down nothing is produced, so retries of
      // the batch do not put copies of the output on the topic (its consumers dedup, but pay for them).
      await Promise.all([insert('labeled_predictions', labeledRows), insert('late_labels', lateRows)]);
      const topicRecords = await Promise.all(
        emits.map(async (r) => ({
          topic: names.labeledPredictions,
          key: r.prediction_id,
          value: await codec.encode(names.labeledPredictions, r),
          partition: task.partition,
        })),
      );
      await send(topicRecords);
      task.written = outputs.length;
      logger.debug({ partition: task.partition, labeled: labeledRows.length, late: lateRows.length, ms: now() - at }, 'outputs written');
    }
    const changes = task.core.changes();
    if (changes.length > 0) {
      // The watermark record is last in `changes`, so it lands after every key change it vouches for.
      await send(changes.map((c) => ({ topic: names.joinChangelog, key: c.key, value: c.value, partition: task.partition })));
      logger.debug({ partition: task.partition, changes: changes.length, ms: now() - at }, 'changelog written');
    }
    task.core.clearChanges();
    task.outbox = [];
    task.written = 0;
    for (const o of outputs) {
      metrics.joinOutcomes.inc({ kind: resultKind(o) });
      if (o.type === 'emit') {
        emitted++;
        metrics.eventsProduced.inc({ topic: names.labeledPredictions });
      } else if (o.type === 'late_label') lateLabels++;
    }
  }

  function updateGauges(): void {
    let pending = 0;
    let outcomes = 0;
    let waiting = 0;
    let closed = 0;
    let bytes = 0;
    let minWatermark = Infinity;
    for (const t of tasks.values()) {
      const st = t.core.stats();
      pending += st.pending;
      outcomes += st.outcomes;
      waiting += st.waitingOutcomes;
      closed += st.closed;
      bytes += st.bytes;
      minWatermark = Math.min(minWatermark, st.watermark);
    }
    metrics.joinPending.set(pending);
    metrics.joinPendingBytes.set(bytes);
    metrics.joinStateEntries.set({ kind: 'pending' }, pending);
    metrics.joinStateEntries.set({ kind: 'outcome' }, outcomes);
    metrics.joinStateEntries.set({ kind: 'closed' }, closed);
    metrics.joinWaitingOutcomes.set(waiting);
    if (Number.isFinite(minWatermark)) metrics.joinWatermarkLag.set(Math.max(0, now() - minWatermark) / 1000);
  }

  /** Partitions whose outcomes input is paused by flow control (flow.ts). */
  const pausedOutcomes = new Set<number>();

  /**
   * Pauses or resumes partition p of the outcomes topic as flow.ts decides from its join state. Runs
   * after every batch of p (under its lock) and on a timer for paused partitions, since a paused
   * input delivers no batch that could resume it.
   */
  function wantsOutcomesPaused(task: PartitionTask, pausedNow: boolean): boolean {
    const st = task.core.stats();
    return outcomesPaused(
      {
        waitingOutcomes: st.waitingOutcomes,
        maxOutcomes: settings.maxOutcomes,
        maxPredictionTime: st.maxPredictionTime,
        maxOutcomeTime: st.maxOutcomeTime,
        predictionsIdle: task.core.inputIdle('predictions', now()),
      },
      pausedNow,
    );
  }

  function regulate(p: number): void {
    const paused = pausedOutcomes.has(p);
    const task = tasks.get(p);
    const want = task !== undefined && !task.revoked && wantsOutcomesPaused(task, paused);
    if (want === paused) return;
    const tp = [{ topic: names.outcomes, partition: p }];
    if (want) {
      running.pause(tp);
      pausedOutcomes.add(p);
      metrics.joinFlowPauses.inc();
    } else {
      running.resume(tp);
      pausedOutcomes.delete(p);
    }
    metrics.joinOutcomesPaused.set(pausedOutcomes.size);
    const st = task?.core.stats();
    logger.info(
      {
        partition: p,
        waitingOutcomes: st?.waitingOutcomes ?? null,
        maxOutcomes: settings.maxOutcomes,
        maxPredictionTime: st?.maxPredictionTime ?? null,
        maxOutcomeTime: st?.maxOutcomeTime ?? null,
      },
      want ? 'outcomes ran ahead of predictions: outcomes partition paused until predictions catch up' : 'outcomes partition resumed',
    );
  }

  let markRunning: () => void = () => undefined;
  const runningReady = new Promise<void>((r) => (markRunning = r));

  /**
   * Heartbeats the consumer group on a timer while a batch is worked on. kafkajs heartbeats only
   * between batches (kafkajs 2.2.4 src/consumer/runner.js), so a restore of a large partition or a
   * slow flush (a loaded machine, a slow ClickHouse) would outlive the session timeout and get the
   * member evicted, moving its partitions and restarting the restore elsewhere. A failed heartbeat
   * (a rebalance is under way) is ignored: the batch finishes, its commit is refused, and the new
   * owner skips what the changelog already holds.
   */
  function keepAlive(ctx: BatchContext): () => void {
    const timer = setInterval(() => void ctx.heartbeat().catch(() => undefined), Math.max(100, s.KAFKA_HEARTBEAT_INTERVAL_MS));
    return () => clearInterval(timer);
  }

  async function handleBatch(batch: readonly StreamRecord[], ctx: BatchContext): Promise<BatchOutcome> {
    const stopHeartbeat = keepAlive(ctx);
    try {
      return await applyBatch(batch);
    } finally {
      stopHeartbeat();
    }
  }

  async function applyBatch(batch: readonly StreamRecord[]): Promise<BatchOutcome> {
    const started = now();
    const first = batch[0]!;
    const p = first.partition;
    const stream = streamOf.get(first.topic)!;
    // Batches can start before runConsumer returns; `running` exists once runningReady resolves.
    await runningReady;
    const problem = coLocationProblem(running.assigned(), p, names.predictions, names.outcomes);
    if (problem) throw new TopicLayoutError(problem, { partition: p });
    // Started by onPartitionStart; awaited here, where the group is kept alive.
    const task = await taskFor(p);
    const previous = task.lock;
    let release!: () => void;
    task.lock = new Promise<void>((r) => (release = r));
    await previous;
    try {
      if (task.revoked) throw new KafkaUnavailableError(`partition ${p} was revoked from this instance; the batch is left to its new owner`, { partition: p });
      const t = now();
      const dead: (DeadLetter & { readonly index: number })[] = [];
      const inputs: { index: number; offset: number; input: JoinInput }[] = [];
      for (const [index, r] of batch.entries()) {
        try {
          const decoded = await codec.decode<PredictionEvent & OutcomeEvent>(r.topic, r.value, t);
          const key = r.key?.toString('utf8');
          if (key !== decoded.value.prediction_id) {
            throw new ContractViolationError(
              `message key ${JSON.stringify(key ?? null)} is not the prediction_id ${JSON.stringify(decoded.value.prediction_id)}: the record may be in the wrong partition to be joined`,
              {
                key: key ?? null,
              },
            );
          }
          const input: JoinInput = stream === 'predictions' ? { type: 'prediction', event: decoded.value } : { type: 'outcome', event: decoded.value };
          inputs.push({ index, offset: Number(r.offset), input });
        } catch (err) {
          // An outage (or a bug) fails the whole batch: retried, never dead-lettered.
          if (isRetriable(err) || !isDriftwatchError(err)) throw err;
          dead.push({ index, record: r, error: err });
        }
      }
      logger.debug({ topic: first.topic, partition: p, records: batch.length, ms: now() - started }, 'batch decoded');
      const from = task.core.position(stream);
      // Flow control (flow.ts): an outcomes batch is applied only until the buffered outcomes reach
      // the high-water mark while running ahead of the predictions; the rest of the batch is left
      // unconsumed and fetched again once the partition is resumed. Checked per record because one
      // fetch can hold a producer batch of thousands of outcomes, more than the whole cap.
      let consumed = batch.length;
      for (const { index, offset, input } of inputs) {
        if (offset < from) continue;
        task.outbox.push(...task.core.step(input, t));
        if (stream === 'outcomes' && index < batch.length - 1 && wantsOutcomesPaused(task, false)) {
          consumed = index + 1;
          break;
        }
      }
      const next = Number(batch[consumed - 1]!.offset) + 1;
      if (next > from) task.core.setPosition(stream, next);
      const stepped = now();
      await flush(task);
      regulate(p);
      records += consumed;
      const ms = now() - started;
      metrics.eventsConsumed.inc({ topic: first.topic }, consumed);
      metrics.batchSize.observe(consumed);
      metrics.batchDuration.observe({ topic: first.topic }, ms / 1000);
      updateGauges();
      const detail = {
        topic: first.topic,
        partition: p,
        records: batch.length,
        deadLetters: dead.length,
        applyMs: stepped - started,
        flushMs: now() - stepped,
        watermark: task.core.stats().watermark,
      };
      if (ms > s.KAFKA_SESSION_TIMEOUT_MS / 2) logger.warn(detail, 'slow batch');
      else logger.debug(detail, 'batch joined');
      return { deadLetters: dead.filter((d) => d.index < consumed).map(({ record, error }) => ({ record, error })), consumed };
    } finally {
      release();
    }
  }

  const running: RunningConsumer = await kafka.runConsumer({
    groupId,
    topics: [names.predictions, names.outcomes],
    component: COMPONENT,
    deadLetterTopic: names.deadLetter,
    fromBeginning: true,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 4,
    ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
    handleBatch,
    // The restore starts as soon as the partition's first batch arrives, but the adapter is not
    // held on it: the batch handler awaits it while heartbeating (see keepAlive).
    onPartitionStart: async (tp) => {
      taskFor(tp.partition).catch((err) =>
        logger.warn(
          { partition: tp.partition, err: isDriftwatchError(err) ? err.toJSON() : String(err) },
          'partition restore failed; the next batch retries it',
        ),
      );
    },
    onPartitionsRevoked: async (tps) => {
      for (const p of new Set(tps.map((tp) => tp.partition))) {
        drop(p);
        regulate(p); // a dropped partition is never left paused: kafkajs would keep it so if it came back
      }
      logger.info({ partitions: [...new Set(tps.map((tp) => tp.partition))] }, 'partition state dropped (revoked)');
      updateGauges();
    },
    onDeadLetter: (dl) => {
      deadLetters++;
      metrics.deadLetters.inc({ code: dl.error.code, topic: dl.record.topic });
    },
    onRetry: (err) => metrics.retries.inc({ code: isDriftwatchError(err) ? err.code : 'UNEXPECTED' }),
  });
  markRunning();

  const flowTimer = setInterval(() => {
    for (const p of [...pausedOutcomes]) regulate(p);
  }, 1000);
  flowTimer.unref();

  const topics = [names.predictions, names.outcomes];
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

  logger.info({ groupId, topics, partitions, settings }, 'label-joiner started');
  let stopped = false;
  return {
    groupId,
    topics,
    partitions,
    joined: running.joined,
    stats: () => ({
      records,
      emitted,
      lateLabels,
      deadLetters,
      restores,
      restoredRecords,
      partitions: [...tasks.keys()].sort((a, b) => a - b),
      pending: [...tasks.values()].reduce((n, t) => n + t.core.stats().pending, 0),
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (lagTimer) clearInterval(lagTimer);
      clearInterval(flowTimer);
      await running.stop();
      await producer.disconnect();
    },
  };
}

async function main(): Promise<void> {
  const rt = createRuntime(COMPONENT);
  const joiner = await startLabelJoiner(rt);
  rt.onShutdown(() => joiner.stop());
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain(COMPONENT, main);
