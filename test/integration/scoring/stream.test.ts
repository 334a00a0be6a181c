/**
 * The scoring stream on the real stack (Kafka, Apicurio registry, embedded ClickHouse, onnxruntime):
 * features in, predictions out through the registry; a hot swap under load with no event lost or
 * scored twice; shadow predictions published next to served ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../../../lib/contracts/schemas.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { startScoring, type ScoringService } from '../../../services/scoring/main.js';
import { committedToEnd, embeddedClickHouse, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { collect, featureEvents, produceFeatures, registerSample, type Collector } from './helpers.js';

const ns = uniqueName('it-scoring');
const group = uniqueName('scoring');
let tch: TestClickHouse;
let modelDir: string;
let kafka: KafkaAdapter;
let svc: ScoringService;
let out: Collector;

beforeAll(async () => {
  tch = await embeddedClickHouse();
  modelDir = mkdtempSync(join(tmpdir(), 'dw-models-'));
  const config = testConfig({
    DW_TOPIC_NAMESPACE: ns,
    KAFKA_TOPIC_PARTITIONS: '3',
    MODEL_DIR: modelDir,
    SCORING_CONSUMER_GROUP: group,
    SCORING_HTTP_PORT: '0',
    SCORING_MODEL_POLL_MS: '300',
    SCORING_BATCH_MAX_SIZE: '64',
    SCORING_BATCH_MAX_WAIT_MS: '5',
    API_WRITE_TOKENS: 'w',
  });
  kafka = createKafkaAdapter(config.settings, testLogger, 'scoring-test');
  // The service's own adapter; the test uses `kafka` for producing and collecting.
  const serviceKafka = createKafkaAdapter(config.settings, testLogger, 'scoring-svc');
  svc = await startScoring({ config, logger: testLogger, metrics: createMetrics('scoring'), clickhouse: async () => tch.ch, kafka: () => serviceKafka });
  await registerSample(svc.registry, 'credit-risk', '1', 'champion');
  await registerSample(svc.registry, 'credit-risk', '2');
  await registerSample(svc.registry, 'delivery-eta', '1', 'champion');
  out = await collect(kafka, svc.codec, svc.topics);
  await svc.stream!.consumer.joined;
}, 120_000);

afterAll(async () => {
  await out?.stop();
  await svc?.stop();
  await kafka?.disconnect();
  await tch?.close();
  rmSync(modelDir, { recursive: true, force: true });
});

const served = (prefix: string) => out.predictions.filter((p) => p.value.event_id.startsWith(`${prefix}-`) && !p.value.is_shadow);
const shadow = (prefix: string) => out.predictions.filter((p) => p.value.event_id.startsWith(`${prefix}-`) && p.value.is_shadow);

describe('scoring stream', () => {
  it('scores feature events into predictions keyed by prediction_id, copying features and segment, and dead-letters bad events', async () => {
    const credit = featureEvents('credit-risk', 300, 'a', 11);
    const eta = featureEvents('delivery-eta', 100, 'b', 12);
    await produceFeatures(kafka, svc.codec, svc.topics, [...credit, ...eta]);
    const producer = await kafka.producer();
    const unknownModel = { ...featureEvents('credit-risk', 1, 'c')[0]!, model_name: 'no-such-model' };
    await producer.send([
      { topic: svc.topics.features, key: 'x', value: Buffer.from([0x07, 0x01, 0x02]) },
      { topic: svc.topics.features, key: 'y', value: await svc.codec.encode(svc.topics.features, unknownModel) },
    ]);
    await producer.disconnect();

    await waitFor('400 predictions and 2 dead letters', async () => served('a').length + served('b').length >= 400 && out.deadLetters.length >= 2, 60_000);
    const byEvent = new Map([...credit, ...eta].map((e) => [e.event_id, e] as const));
    for (const p of [...served('a'), ...served('b')]) {
      const src = byEvent.get(p.value.event_id.split(':')[0]!)!;
      const pid = src.prediction_id ?? src.event_id;
      expect(p.key).toBe(pid);
      expect(p.value).toMatchObject({
        prediction_id: pid,
        model_name: src.model_name,
        model_version: '1',
        event_time: src.event_time,
        features: src.features,
        segment: src.segment,
        is_shadow: false,
        fallback: null,
      });
      expect(p.value.latency_ms).toBeGreaterThan(0);
      if (src.model_name === 'credit-risk') {
        expect(p.value.score).toBeGreaterThan(0);
        expect(p.value.score).toBeLessThan(1);
        expect(['0', '1']).toContain(p.value.predicted_label);
        expect(p.value.predicted_value).toBeNull();
      } else {
        expect(p.value.predicted_value).toBe(p.value.score);
        expect(p.value.predicted_label).toBeNull();
      }
    }
    expect(new Set(served('a').map((p) => p.value.event_id)).size).toBe(300);
    expect(new Set(served('b').map((p) => p.value.event_id)).size).toBe(100);
    expect(out.deadLetters.map((d) => d.code).sort()).toEqual(['DW_MODEL_NOT_FOUND', 'DW_WRONG_MAGIC_BYTE']);
    // Offsets are committed once the predictions are acked: the group catches up to the end.
    await waitFor('committed offsets at the end', async () => committedToEnd(kafka, group, [svc.topics.features]));
  });

  it('hot-swaps the champion under load: every event scored exactly once, each partition switching once, between batches', async () => {
    const events = featureEvents('credit-risk', 3000, 'h', 21);
    const producing = (async () => {
      for (let i = 0; i < events.length; i += 150) {
        await produceFeatures(kafka, svc.codec, svc.topics, events.slice(i, i + 150));
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    await waitFor('some v1 predictions under load', async () => served('h').length >= 600, 60_000, 20);
    // "Told via API": the promote route records the change and swaps the local scorer at once.
    const res = await svc.app!.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/promote',
      headers: { authorization: 'Bearer w' },
      payload: { version: '2', reason: 'hot swap test' },
    });
    expect(res.statusCode, res.body).toBe(200);
    await producing;
    await waitFor('3000 predictions', async () => served('h').length >= 3000, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // any duplicate would have arrived by now

    const preds = served('h');
    const perEvent = new Map<string, number>();
    for (const p of preds) perEvent.set(p.value.event_id.split(':')[0]!, (perEvent.get(p.value.event_id.split(':')[0]!) ?? 0) + 1);
    expect(perEvent.size).toBe(3000);
    expect([...perEvent.values()].every((n) => n === 1)).toBe(true);
    const versions = new Map<string, number>();
    for (const p of preds) versions.set(p.value.model_version, (versions.get(p.value.model_version) ?? 0) + 1);
    expect(versions.get('1')).toBeGreaterThan(0);
    expect(versions.get('2')).toBeGreaterThan(0);
    expect((versions.get('1') ?? 0) + (versions.get('2') ?? 0)).toBe(3000);
    // In source-offset order, each features partition goes v1...v1 v2...v2: no interleaving.
    const byPartition = new Map<string, Array<[number, string]>>();
    for (const p of preds) {
      const [, partition, offset] = p.source!.split(':').slice(-3);
      const list = byPartition.get(partition!) ?? [];
      list.push([Number(offset), p.value.model_version]);
      byPartition.set(partition!, list);
    }
    for (const [, list] of byPartition) {
      const seq = list.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
      const firstV2 = seq.indexOf('2');
      if (firstV2 >= 0) expect(seq.slice(firstV2).every((v) => v === '2')).toBe(true);
    }
    expect(svc.scorer.state().find((s) => s.name === 'credit-risk')).toMatchObject({ champion: { version: '2', loaded: true }, previous: { version: '1' } });
  });

  it('shadow-scores every event with a challenger and publishes both, sharing the prediction id', async () => {
    // Registry write without the API: the scorer picks the challenger up on its next poll.
    await svc.registry.promote('credit-risk', '1', 'challenger', { actor: 'test', reason: 'shadow test' });
    await waitFor(
      'challenger loaded by the poller',
      async () => svc.scorer.state().find((s) => s.name === 'credit-risk')?.challenger?.loaded === true,
      10_000,
      50,
    );
    const events: FeatureEvent[] = featureEvents('credit-risk', 200, 's', 31);
    await produceFeatures(kafka, svc.codec, svc.topics, events);
    await waitFor('200 served + 200 shadow', async () => served('s').length >= 200 && shadow('s').length >= 200, 60_000);
    expect(served('s').every((p) => p.value.model_version === '2' && p.value.fallback === null)).toBe(true);
    expect(shadow('s').every((p) => p.value.model_version === '1' && p.value.is_shadow && p.value.event_id.endsWith(':1:shadow'))).toBe(true);
    const servedIds = new Set(served('s').map((p) => p.value.prediction_id));
    expect(new Set(shadow('s').map((p) => p.value.prediction_id))).toEqual(servedIds);
    // Shadow records are keyed by prediction_id too, so they co-partition with outcomes.
    expect(shadow('s').every((p) => p.key === p.value.prediction_id)).toBe(true);
    // Champion and challenger really are different models: their scores differ.
    const served0 = new Map(served('s').map((p) => [p.value.prediction_id, p.value.score!]));
    const diffs = shadow('s').map((p) => Math.abs(p.value.score! - served0.get(p.value.prediction_id)!));
    expect(Math.max(...diffs)).toBeGreaterThan(0.01);
  });
});
