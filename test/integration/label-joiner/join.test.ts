/**
 * The label-joiner end to end, in-process, against the real broker, registry and ClickHouse engine:
 * every join case of the dataset lands in labeled_predictions / late_labels exactly as the pure core
 * computes it, the labeled-predictions topic carries the same records (Avro), bad records are
 * dead-lettered with their code, and the changelog holds the state with the input positions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import type { LabeledPrediction } from '../../../lib/contracts/schemas.js';
import { DEAD_LETTER_HEADERS, topicNames } from '../../../lib/contracts/topics.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { startLabelJoiner, type RunningLabelJoiner } from '../../../stream-processors/label-joiner/main.js';
import { WATERMARK_KEY } from '../../../stream-processors/label-joiner/changelog.js';
import { committedToEnd, embeddedClickHouse, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { JOIN_ENV, PARTITIONS, countVisible, joinDataset, oracle, produce, readVisible } from './support.js';

const ns = uniqueName('it-lj');
const topics = topicNames(ns);
const cfg = testConfig({ DW_TOPIC_NAMESPACE: ns, KAFKA_TOPIC_PARTITIONS: String(PARTITIONS), ...JOIN_ENV, RETRY_INITIAL_MS: '100', RETRY_MAX_MS: '1000' });
const dataset = joinDataset(1, 1500, Date.now() - 2 * 86_400_000);
const expected = oracle(dataset);
let tch: TestClickHouse;
let kafka: KafkaAdapter;
let codec: EventCodec;
let joiner: RunningLabelJoiner | undefined;
const metrics = createMetrics('label-joiner');

beforeAll(async () => {
  tch = await embeddedClickHouse();
  kafka = createKafkaAdapter(cfg.settings, testLogger, 'lj-test');
  codec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, topics);
  await kafka.ensureTopics(topics);
  await codec.registerAll();
  await produce(kafka, codec, topics, dataset.phases.flat());
});

afterAll(async () => {
  await joiner?.stop();
  await kafka?.disconnect();
  await tch?.close();
});

describe('label-joiner end to end (in-process)', () => {
  it('joins every case of the dataset exactly as the pure core does, into ClickHouse', async () => {
    const rt = {
      config: cfg,
      logger: testLogger,
      metrics,
      clickhouse: async () => tch.ch,
      kafka: () => createKafkaAdapter(cfg.settings, testLogger, 'lj-run'),
    };
    joiner = await startLabelJoiner(rt, { lagIntervalMs: 0 });
    expect(joiner.partitions).toBe(PARTITIONS);
    await waitFor(
      'all joined rows',
      async () => {
        const c = await countVisible(tch.ch);
        return c.labeled === expected.labeled.size && c.late === expected.late.size;
      },
      45_000,
      500,
    );
    // Rows are visible before the joiner has produced every output record and committed: it
    // inserts, publishes, then commits (offsets only after results are durable). Lag 0 on its
    // group means every output of every input is on its topic, which the next tests read to end.
    await waitFor(
      'the joiner committed every input',
      async () => committedToEnd(kafka, `${ns}.label-joiner`, [topics.predictions, topics.outcomes]),
      45_000,
      500,
    );
    const got = await readVisible(tch.ch);
    expect(got.labeled).toEqual(expected.labeled);
    expect(got.late).toEqual(expected.late);
    // The dataset exercises every case the integration can show deterministically.
    const statuses = [...expected.labeled.values()].map((v) => v.split('|')[0]);
    expect(statuses).toContain('LABELED');
    expect(statuses).toContain('UNLABELED');
    expect(new Set(expected.late.values())).toEqual(new Set(['duplicate', 'over_max_delay', 'no_prediction']));
    expect([...expected.labeled.keys()].some((k) => k.includes('|v2|1|'))).toBe(true); // shadow variants
    const kinds = await metrics.joinOutcomes.get();
    const byKind = Object.fromEntries(kinds.values.map((v) => [v.labels.kind, v.value]));
    expect(byKind.duplicate_prediction).toBeGreaterThan(0);
    expect(byKind.redelivered).toBeGreaterThan(0);
  });

  it('publishes the same LabeledPredictions on the labeled-predictions topic, in Avro, in the input partition', async () => {
    const seen = new Map<string, LabeledPrediction>();
    let wrongPartition = 0;
    const decodes: Promise<void>[] = [];
    await kafka.readToEnd(topics.labeledPredictions, 'all', (r) => {
      expect(r.value![0]).toBe(0); // Confluent wire format
      decodes.push(
        codec.decode<LabeledPrediction>(r.topic, r.value, Date.now()).then((d) => {
          if (d.value.prediction_id !== r.key?.toString()) wrongPartition++;
          seen.set(`${d.value.model_name}|${d.value.model_version}|${d.value.is_shadow ? 1 : 0}|${d.value.prediction_id}`, d.value);
        }),
      );
    });
    await Promise.all(decodes);
    expect(wrongPartition).toBe(0);
    expect(new Set(seen.keys())).toEqual(new Set(expected.labeled.keys()));
  });

  it('dead-letters undecodable and mis-keyed records with their code, and goes on', async () => {
    const codes = new Map<string, string>();
    await kafka.readToEnd(topics.deadLetter, 'all', (r) => {
      codes.set(
        `${r.headers[DEAD_LETTER_HEADERS.sourceTopic]}:${r.headers[DEAD_LETTER_HEADERS.sourcePartition]}:${r.headers[DEAD_LETTER_HEADERS.sourceOffset]}`,
        r.headers[DEAD_LETTER_HEADERS.code]!,
      );
    });
    expect([...codes.values()].sort()).toEqual(['DW_CONTRACT_VIOLATION', 'DW_WRONG_MAGIC_BYTE']);
    expect(joiner!.stats().deadLetters).toBe(dataset.poisonCount);
  });

  it('keeps its state in the compacted changelog: keys by prediction_id, a watermark record with positions per partition', async () => {
    const keys = new Map<number, Set<string>>();
    const watermarks = new Map<number, { o: Record<string, number> }>();
    await kafka.readToEnd(topics.joinChangelog, 'all', (r) => {
      const key = r.key!.toString();
      if (key === WATERMARK_KEY) watermarks.set(r.partition, JSON.parse(r.value!.toString()) as { o: Record<string, number> });
      else (keys.get(r.partition) ?? keys.set(r.partition, new Set()).get(r.partition)!).add(key);
    });
    expect([...watermarks.keys()].sort()).toEqual([0, 1, 2, 3]);
    const ends = { predictions: await kafka.endOffsets(topics.predictions), outcomes: await kafka.endOffsets(topics.outcomes) };
    for (const [p, w] of watermarks) {
      expect(w.o.predictions).toBe(ends.predictions.get(p));
      expect(w.o.outcomes).toBe(ends.outcomes.get(p));
    }
    // Every key written lives in the partition of its prediction_id (co-partitioned with the inputs).
    const { partitionOf } = await import('./support.js');
    for (const [p, ks] of keys) for (const k of ks) if (!k.startsWith('zz-sentinel')) expect(partitionOf(k)).toBe(p);
    // Memory is accounted for: nothing is pending any more (the sentinels pushed every watermark past
    // every deadline); closed predictions are still remembered, and the bytes gauge counts them.
    expect((await metrics.joinPending.get()).values[0]!.value).toBe(0);
    const entries = Object.fromEntries((await metrics.joinStateEntries.get()).values.map((v) => [v.labels.kind, v.value]));
    expect(entries.closed).toBeGreaterThan(0);
    expect((await metrics.joinPendingBytes.get()).values[0]!.value).toBeGreaterThan(entries.closed! * 100);
  });
});
