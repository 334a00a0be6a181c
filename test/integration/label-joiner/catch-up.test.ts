/**
 * A catch-up on the real broker: a backlog where the outcomes topic runs ahead of the predictions
 * topic by event time, because outcome records are small and a fetch of the same byte size holds
 * many more of them. Without flow control the outcomes waiting for their still-unread predictions
 * pass JOIN_MAX_ORPHANS, the oldest are evicted (`orphan_evicted`), and their predictions go out
 * UNLABELED: the result of a catch-up would differ from live operation. With flow control
 * (stream-processors/label-joiner/flow.ts) the joiner pauses the outcomes partition and every
 * prediction is LABELED.
 *
 * The sizes make the problem certain: a 64 KiB fetch holds ~60 predictions (~1 KB each, 40
 * features) but a whole producer batch of outcomes, which can be thousands of records (a broker
 * returns at least one record batch whatever the fetch size, KIP-74), more than the cap of 1000.
 * Flow control therefore stops applying an outcomes batch mid-way, at the high-water mark, and
 * leaves the rest to be fetched again after the resume; the test checks that the waiting outcomes
 * never passed that mark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import type { OutcomeEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { startLabelJoiner, type RunningLabelJoiner } from '../../../stream-processors/label-joiner/main.js';
import { embeddedClickHouse, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { HIGH_WATER } from '../../../stream-processors/label-joiner/flow.js';
import { JOIN_ENV, produce, type DataRecord } from './support.js';

const N = 5000;
const MAX_ORPHANS = 1000;
const FETCH_BYTES = 64 * 1024;
const ns = uniqueName('it-lj-catchup');
const topics = topicNames(ns);
const cfg = testConfig({
  DW_TOPIC_NAMESPACE: ns,
  KAFKA_TOPIC_PARTITIONS: '1',
  ...JOIN_ENV,
  JOIN_MAX_ORPHANS: String(MAX_ORPHANS),
  RETRY_INITIAL_MS: '100',
  RETRY_MAX_MS: '1000',
});
let tch: TestClickHouse;
let kafka: KafkaAdapter;
let codec: EventCodec;
let joiner: RunningLabelJoiner | undefined;
const metrics = createMetrics('label-joiner');

function backlog(t0: number): DataRecord[] {
  const features: Record<string, number> = {};
  for (let f = 0; f < 40; f++) features[`feature_number_${f}`] = f * 1.25;
  const out: DataRecord[] = [];
  for (let i = 0; i < N; i++) {
    const id = `cu-${i}`;
    const t = t0 + i * 200;
    const prediction: PredictionEvent = {
      event_id: `pe-${id}`,
      prediction_id: id,
      model_name: 'churn',
      model_version: 'v1',
      event_time: t,
      features: { ...features, row: i },
      score: (i % 100) / 100,
      probabilities: {},
      predicted_label: i % 2 === 0 ? '1' : '0',
      predicted_value: null,
      latency_ms: 1,
      segment: {},
      is_shadow: false,
      fallback: null,
    };
    const outcome: OutcomeEvent = {
      event_id: `oe-${id}`,
      prediction_id: id,
      model_name: 'churn',
      outcome_time: t + 1000,
      label: '1',
      target_value: null,
      business: {},
    };
    out.push({ topic: 'predictions', partition: 0, key: id, event: prediction, encoding: 'avro' });
    out.push({ topic: 'outcomes', partition: 0, key: id, event: outcome, encoding: 'avro' });
  }
  return out;
}

beforeAll(async () => {
  tch = await embeddedClickHouse();
  kafka = createKafkaAdapter(cfg.settings, testLogger, 'lj-catchup-test');
  codec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, topics);
  await kafka.ensureTopics(topics);
  await codec.registerAll();
  await produce(kafka, codec, topics, backlog(Date.now() - 2 * 86_400_000));
}, 120_000);

afterAll(async () => {
  await joiner?.stop();
  await kafka?.disconnect();
  await tch?.close();
});

async function counts(): Promise<{ labeled: number; unlabeled: number; late: number; evicted: number }> {
  const [r] = await (
    await tch.ch.client.query({
      query: `SELECT
        (SELECT countIf(status = 'LABELED') FROM labeled_predictions FINAL) AS labeled,
        (SELECT countIf(status = 'UNLABELED') FROM labeled_predictions FINAL) AS unlabeled,
        (SELECT count() FROM late_labels FINAL) AS late,
        (SELECT countIf(reason = 'orphan_evicted') FROM late_labels FINAL) AS evicted`,
      format: 'JSONEachRow',
    })
  ).json<Record<string, number>>();
  return { labeled: Number(r!.labeled), unlabeled: Number(r!.unlabeled), late: Number(r!.late), evicted: Number(r!.evicted) };
}

describe('label-joiner catch-up with outcomes ahead of predictions (real broker)', () => {
  it('pauses the outcomes input instead of evicting outcomes: every prediction is LABELED', async () => {
    joiner = await startLabelJoiner(
      { config: cfg, logger: testLogger, metrics, clickhouse: async () => tch.ch, kafka: () => createKafkaAdapter(cfg.settings, testLogger, 'lj-catchup') },
      { lagIntervalMs: 0, maxBytesPerPartition: FETCH_BYTES },
    );
    let maxWaiting = 0;
    const sampler = setInterval(() => {
      void metrics.joinWaitingOutcomes.get().then((g) => {
        maxWaiting = Math.max(maxWaiting, g.values[0]?.value ?? 0);
      });
    }, 20);
    try {
      await waitFor('every prediction joined', async () => ((await counts()).labeled === N ? true : undefined), 90_000, 500);
    } finally {
      clearInterval(sampler);
    }
    const c = await counts();
    expect(c).toEqual({ labeled: N, unlabeled: 0, late: 0, evicted: 0 });
    const pauses = (await metrics.joinFlowPauses.get()).values[0]?.value ?? 0;
    expect(pauses, 'the outcomes input was paused at least once').toBeGreaterThan(0);
    expect(maxWaiting, 'outcomes waiting for their prediction').toBeLessThanOrEqual(HIGH_WATER * MAX_ORPHANS);
    // Once the predictions caught up, nothing is left paused.
    await waitFor('outcomes resumed', async () => ((await metrics.joinOutcomesPaused.get()).values[0]?.value === 0 ? true : undefined), 10_000, 200);
    console.log(`[catch-up] ${N} joined, ${pauses} pauses, at most ${maxWaiting} outcomes waiting (cap ${MAX_ORPHANS})`);
  }, 150_000);
});
