/**
 * Issue 8, "shadow predictions are stored": the scoring service with a champion and a challenger,
 * and the real ingest processor behind it, on the real stack (Kafka, Apicurio, embedded ClickHouse,
 * onnxruntime). Every feature event ends up in raw_predictions twice: once served (the champion,
 * is_shadow = false) and once in shadow (the challenger, is_shadow = true), with the same
 * prediction_id, so dashboards can compare the two. (stream.test.ts checks what is published.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { startScoring, type ScoringService } from '../../../services/scoring/main.js';
import { startIngest, type RunningIngest } from '../../../stream-processors/ingest/main.js';
import { embeddedClickHouse, queryRows, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { ingestRuntime } from '../ingest/support.js';
import { featureEvents, produceFeatures, registerSample } from './helpers.js';

const EVENTS = 250;
const modelDir = mkdtempSync(join(tmpdir(), 'dw-models-'));
const config = testConfig({
  DW_TOPIC_NAMESPACE: uniqueName('it-shadow'),
  MODEL_DIR: modelDir,
  KAFKA_TOPIC_PARTITIONS: '3',
  SCORING_CONSUMER_GROUP: uniqueName('scoring'),
  SCORING_MODEL_POLL_MS: '300',
  SCORING_BATCH_MAX_SIZE: '64',
  SCORING_BATCH_MAX_WAIT_MS: '5',
  INGEST_BATCH_MAX_WAIT_MS: '200',
});
let tch: TestClickHouse;
let kafka: KafkaAdapter;
let svc: ScoringService;
let ingest: RunningIngest;

beforeAll(async () => {
  // One private ClickHouse for both: ingest writes the tables the scorer's registry lives in too.
  tch = await embeddedClickHouse();
  kafka = createKafkaAdapter(config.settings, testLogger, 'shadow-test');
  const serviceKafka = createKafkaAdapter(config.settings, testLogger, 'shadow-scoring');
  svc = await startScoring(
    { config, logger: testLogger, metrics: createMetrics('scoring'), clickhouse: async () => tch.ch, kafka: () => serviceKafka },
    { http: false },
  );
  await registerSample(svc.registry, 'credit-risk', '1', 'champion');
  // Both roles are assigned before the first event: the scorer loads the model's champion and
  // challenger together on first use, so every event is scored by both.
  await registerSample(svc.registry, 'credit-risk', '2', 'challenger');
  ingest = await startIngest(ingestRuntime(config, tch.ch), { lagIntervalMs: 0 });
  await Promise.all([svc.stream!.consumer.joined, ingest.joined]);
}, 120_000);

afterAll(async () => {
  await ingest?.stop();
  await svc?.stop();
  await kafka?.disconnect();
  await tch?.close();
  rmSync(modelDir, { recursive: true, force: true });
});

describe('shadow scoring, stored', () => {
  it('stores one shadow prediction (the challenger) per event next to the served one (the champion)', async () => {
    const events = featureEvents('credit-risk', EVENTS, 'sh', 41);
    await produceFeatures(kafka, svc.codec, svc.topics, events);

    const counts = async () => {
      const [r] = await queryRows<{ shadow: string; served: string }>(
        tch.ch,
        'SELECT (SELECT count() FROM raw_predictions FINAL WHERE is_shadow) AS shadow, (SELECT count() FROM raw_predictions FINAL WHERE NOT is_shadow) AS served',
      );
      return { shadow: Number(r!.shadow), served: Number(r!.served) };
    };
    await waitFor(
      'every event stored served and in shadow',
      async () => {
        const c = await counts();
        return c.shadow >= EVENTS && c.served >= EVENTS;
      },
      90_000,
      250,
    );
    // Settled: one more ingest flush could not add a row that is not there yet.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await counts()).toEqual({ shadow: EVENTS, served: EVENTS });

    expect(svc.scorer.state().find((m) => m.name === 'credit-risk')).toMatchObject({
      champion: { version: '1', loaded: true },
      challenger: { version: '2', loaded: true },
    });

    const rows = await queryRows<{
      prediction_id: string;
      event_id: string;
      model_version: string;
      is_shadow: boolean;
      fallback: string | null;
      score: number | null;
    }>(tch.ch, 'SELECT prediction_id, event_id, model_version, is_shadow, fallback, score FROM raw_predictions FINAL');
    const shadow = rows.filter((r) => r.is_shadow);
    const served = rows.filter((r) => !r.is_shadow);
    // Served rows are the champion's and are not flagged; shadow rows are the challenger's.
    expect(new Set(served.map((r) => r.model_version))).toEqual(new Set(['1']));
    expect(new Set(shadow.map((r) => r.model_version))).toEqual(new Set(['2']));
    expect(served.every((r) => r.fallback === null && r.score !== null)).toBe(true);
    expect(shadow.every((r) => r.score !== null)).toBe(true);
    // One of each per event, sharing the prediction id (so the label joins both).
    const expectedIds = new Set(events.map((e) => e.prediction_id ?? e.event_id));
    expect(new Set(served.map((r) => r.prediction_id))).toEqual(expectedIds);
    expect(new Set(shadow.map((r) => r.prediction_id))).toEqual(expectedIds);
    // Separate rows: a shadow prediction has its own event id, not the served one's.
    const servedEventIds = new Set(served.map((r) => r.event_id));
    expect(new Set(shadow.map((r) => r.event_id)).size).toBe(EVENTS);
    expect(shadow.filter((r) => servedEventIds.has(r.event_id))).toEqual([]);
  });
});
