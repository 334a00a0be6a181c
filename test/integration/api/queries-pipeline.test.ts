/**
 * The query routes on rows the real processors wrote (the route tests in test/services/api use
 * hand-shaped rows, test/services/api/support/seed.ts). Real Kafka broker and schema registry, one
 * embedded ClickHouse engine shared in-process by:
 *
 *  - ingest (startIngest): raw predictions, and the dead letter of one undecodable record;
 *  - window-metrics (startWindowMetrics): a seeded stream, 2 stationary windows then 2 windows with
 *    x1 and x2 shifted by one standard deviation -> drift, drift summary, data quality, performance
 *    and KPI rows;
 *  - the retrain trigger (startRetrainTrigger) with a drift policy -> one decision per window, one
 *    RetrainRequested event, one alert;
 *  - the retrain worker (createRetrainWorker) handling that event as read back from its topic: there
 *    are no labeled rows to train on (the labeled stream went straight to window-metrics), so it
 *    records started, data and failed (DW_TRAINING_FAILED), as it does in production.
 *
 * Then every query endpoint is read through the API (app.inject) and checked against what the
 * processors produced: the same rows as a FINAL read of each table (across pages), the drift the
 * stream was built to show, and the ids of the events on the topics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, RetrainRequested } from '../../../lib/contracts/schemas.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { isDriftwatchError } from '../../../lib/runtime/errors.js';
import { buildAndStoreReferenceProfile } from '../../../lib/reference/store.js';
import { createModelRegistry } from '../../../services/scoring/model-registry.js';
import { createRetrainWorker } from '../../../services/retrain-worker/worker.js';
import { QUERY_PATHS } from '../../../services/api/routes/queries.js';
import { SERIES } from '../../../services/api/store/series.js';
import { startIngest, type RunningIngest } from '../../../stream-processors/ingest/main.js';
import { parseMonitoringConfig } from '../../../stream-processors/window-metrics/config.js';
import { startWindowMetrics, type WindowMetricsProcessor } from '../../../stream-processors/window-metrics/processor.js';
import { startRetrainTrigger, type RetrainTrigger } from '../../../stream-processors/retrain-trigger/trigger.js';
import { embeddedClickHouse, queryRows, testLogger, waitFor, type TestClickHouse } from '../../support/stack.js';
import { generateStream, heartbeatLabeled, heartbeatPrediction, labeledInEmissionOrder, referenceRows } from '../../support/window-stream.js';
import { MONITORING_YAML, harness, type Harness } from '../window-metrics/support.js';
import { ingestRuntime } from '../ingest/support.js';
import { registerSample } from '../scoring/helpers.js';
import { buildTestApp, type TestApp } from '../../services/api/support/app.js';

const MODEL = 'credit-risk';
const VERSION = '1';
const WINDOW = 10_000; // TIMING.WINDOW_SIZE_MS of the window-metrics harness
const PHASES = [
  { name: 'stationary', windows: 2 },
  { name: 'covariate', windows: 2, covariateShift: { x1: 1, x2: -1 } },
];
const N_WINDOWS = 4;
const PER_WINDOW = 600;
const POLICY = 'credit-drift';

const YAML = `${MONITORING_YAML}
policies:
  - id: ${POLICY}
    model: ${MODEL}
    when:
      drift: { min_features: 2, min_severity: warning, id: drift }
    fire_after_windows: 1
    rearm_after_windows: 1
    cooldown: 1h
    training_lookback: 1h
    alert_severity: WARNING
`;

let h: Harness;
let t: TestClickHouse;
let ingest: RunningIngest;
let wm: WindowMetricsProcessor;
let trigger: RetrainTrigger;
let api: TestApp;
let modelDir: string;
let retrainEvent: RetrainRequested;
let alertEvents: Alert[];
let workerError: unknown;
const start = Math.floor((Date.now() - 3 * 3600_000) / WINDOW) * WINDOW;
const iso = (ms: number) => new Date(ms).toISOString();

async function topicValues<T>(topic: string): Promise<T[]> {
  const raw: Buffer[] = [];
  await h.kafka.readToEnd(topic, 'all', (r) => raw.push(r.value!));
  return Promise.all(raw.map(async (b) => (await h.codec.decode<T>(topic, b, Date.now())).value));
}

async function count(sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const [row] = await queryRows<{ n: string }>(t.ch, sql, params);
  return Number(row?.n ?? 0);
}

beforeAll(async () => {
  h = await harness('api-q', { RETRAIN_POLL_INTERVAL_MS: '200', RETRAIN_SETTLE_MS: '0', RETRAIN_POLICY_RELOAD_MS: '0', INGEST_BATCH_MAX_WAIT_MS: '200' }, YAML);
  t = await embeddedClickHouse();
  const cfg = h.config({ CLICKHOUSE_DATA_DIR: t.dir });
  const monitoring = parseMonitoringConfig(cfg.sections);
  await buildAndStoreReferenceProfile(t.ch, {
    model: MODEL,
    version: VERSION,
    rows: referenceRows(101, 3000),
    kpis: monitoring.kpis,
    source: 'test-reference',
  });

  const events = generateStream({
    seed: 11,
    model: MODEL,
    version: VERSION,
    start,
    windowMs: WINDOW,
    eventsPerWindow: PER_WINDOW,
    labelDelayMs: 5000,
    phases: PHASES,
    regions: ['north', 'south'],
  });
  await h.produce(
    events.map((e) => e.prediction),
    labeledInEmissionOrder(events, 5000),
  );
  const producer = await h.kafka.producer();
  await producer.send([{ topic: h.topics.predictions, key: 'bad', value: '{"not": json' }]);
  await producer.disconnect();
  await h.heartbeat(start + (N_WINDOWS + 4) * WINDOW, heartbeatPrediction, heartbeatLabeled);

  ingest = await startIngest(ingestRuntime(cfg, t.ch, h.kafka), { lagIntervalMs: 0 });
  wm = await startWindowMetrics({
    config: cfg,
    logger: testLogger,
    instanceId: 'api-q-1',
    metrics: createMetrics('window-metrics-test'),
    clickhouse: t.ch,
    kafka: h.kafka,
    codec: h.codec,
  });
  await waitFor(
    'final performance rows of every window',
    async () =>
      (await count(
        `SELECT count() AS n FROM window_evaluations FINAL WHERE namespace = {ns:String} AND stage = 'performance_final' AND model_name = {m:String} AND model_version = {v:String}`,
        { ns: h.ns, m: MODEL, v: VERSION },
      )) >= N_WINDOWS,
    60_000,
    250,
  );
  await waitFor('the bad record dead-lettered by ingest', async () => (await count('SELECT count() AS n FROM dead_letter_events')) >= 1, 30_000, 250);

  // The trigger starts once every window is written, so each window is evaluated with all its rows.
  trigger = await startRetrainTrigger({
    config: cfg,
    logger: testLogger,
    metrics: createMetrics('retrain-trigger-test'),
    instanceId: 'api-q',
    clickhouse: async () => t.ch,
    kafka: () => h.kafka,
  });
  await trigger.ready;
  await waitFor(
    'one decision per window',
    async () => (await count('SELECT count() AS n FROM retrain_decisions FINAL WHERE model_name = {m:String}', { m: MODEL })) >= N_WINDOWS,
    30_000,
    250,
  );
  const retrains = await topicValues<RetrainRequested>(h.topics.retrainRequested);
  expect(retrains).toHaveLength(1);
  retrainEvent = retrains[0]!;
  alertEvents = await topicValues<Alert>(h.topics.alerts);

  modelDir = mkdtempSync(join(tmpdir(), 'dw-api-q-models-'));
  const registry = createModelRegistry(t.ch, { modelDir });
  await registerSample(registry, MODEL, VERSION, 'champion');
  const worker = createRetrainWorker({
    ch: t.ch,
    registry,
    logger: testLogger,
    settings: { RETRAIN_WORKER_MIN_ROWS: 10, RETRAIN_WORKER_MAX_ROWS: 1000, RETRAIN_WORKER_MIN_LABEL_COVERAGE: 0.8, RETRAIN_WORKER_LABEL_WAIT_MS: 0 },
    worker: 'api-q-worker',
  });
  workerError = await worker.handle(retrainEvent).then(
    () => undefined,
    (err: unknown) => err,
  );

  api = await buildTestApp(t.ch, { DW_TOPIC_NAMESPACE: h.ns, API_QUERY_MAX_LIMIT: '1000' });
}, 150_000);

afterAll(async () => {
  await trigger?.stop();
  await wm?.stop();
  await ingest?.stop();
  await api?.close();
  await h?.close();
  await t?.close();
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
});

type Item = Record<string, unknown>;

async function get(url: string): Promise<{ items: Item[]; next_cursor: string | null }> {
  const r = await api.app.inject({ url });
  expect(r.statusCode, `${url}: ${r.body.slice(0, 300)}`).toBe(200);
  return r.json();
}

/** Every page of a query, following next_cursor. */
async function all(url: string, limit = 7): Promise<Item[]> {
  const out: Item[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 10_000; i++) {
    const page = await get(`${url}${url.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('pagination did not end');
}

describe('query routes on rows written by the real processors', () => {
  it('the worker ran on the trigger event and failed for lack of labeled rows, as recorded', () => {
    expect(isDriftwatchError(workerError) && workerError.code).toBe('DW_TRAINING_FAILED');
  });

  it('every series returns exactly the rows a FINAL read of its table holds, across pages', async () => {
    const paths = QUERY_PATHS as Record<string, string>;
    for (const [name, spec] of Object.entries(SERIES)) {
      const rows = await all(paths[name]!, 50);
      const n = await count(`SELECT count() AS n FROM ${spec.table} FINAL`);
      expect(rows.length, name).toBe(n);
      expect(new Set(rows.map((r) => JSON.stringify(r))).size, name).toBe(n);
      // Every series has processor-written rows here, except the ones this run cannot produce.
      expect(n, name).toBeGreaterThan(0);
    }
  });

  it('drift: the shifted features drift in the covariate windows, per-feature rows explain themselves', async () => {
    const summary = await all(`/v1/drift/summary?model=${MODEL}&version=${VERSION}&segment=&order=asc`);
    expect(summary.map((s) => s.window_start)).toEqual([0, 1, 2, 3].map((w) => iso(start + w * WINDOW)));
    for (const s of summary) expect(s).toMatchObject({ profile_status: 'ok', n_events: PER_WINDOW });
    for (const s of summary.slice(2)) expect(s.drifted_features).toEqual(expect.arrayContaining(['x1', 'x2']));
    for (const s of summary.slice(0, 2)) expect(s.drifted_features as string[]).not.toContain('x1');

    const x1 = await all(`/v1/drift?model=${MODEL}&feature=x1&segment=&order=asc`);
    expect(x1.map((r) => r.drift)).toEqual([false, false, true, true]);
    for (const r of x1) expect(r).toMatchObject({ method: 'wasserstein', threshold: 0.1, n_ref: 3000, n_cur: PER_WINDOW, is_final: true });
    const [db] = await queryRows<{ score: number }>(
      t.ch,
      `SELECT score FROM drift_metrics FINAL WHERE model_name = {m:String} AND feature = 'x1' AND segment = '' AND window_start = {w:String}`,
      {
        m: MODEL,
        w: iso(start + 2 * WINDOW)
          .replace('T', ' ')
          .replace('Z', ''),
      },
    );
    expect(x1[2]!.score).toBe(db!.score);

    // The summary lists drifted input features; the score distribution (__prediction__) has its own flag.
    const drifted = await all(`/v1/drift?model=${MODEL}&segment=&drifted=true&from=${iso(start + 2 * WINDOW)}`);
    expect(new Set(drifted.map((r) => r.feature).filter((f) => f !== '__prediction__'))).toEqual(
      new Set(summary.slice(2).flatMap((s) => s.drifted_features as string[])),
    );
    const segments = await all(`/v1/drift?model=${MODEL}&feature=x1&segment=region%3Dnorth`);
    expect(segments).toHaveLength(N_WINDOWS);
    // from/to bound window_start: [window 1, window 3) is windows 1 and 2, newest first.
    const range = await all(`/v1/drift?model=${MODEL}&feature=x2&segment=&from=${start + WINDOW}&to=${iso(start + 3 * WINDOW)}`);
    expect(range.map((r) => r.window_start)).toEqual([iso(start + 2 * WINDOW), iso(start + WINDOW)]);
  });

  it('performance, KPIs and data quality per window', async () => {
    const acc = await all(`/v1/performance?model=${MODEL}&segment=&metric=accuracy&kind=realized&shadow=false&order=asc`);
    expect(acc).toHaveLength(N_WINDOWS);
    for (const r of acc) {
      expect(r).toMatchObject({ model_version: VERSION, is_final: true, n_total: PER_WINDOW, is_shadow: false });
      expect(r.value as number).toBeGreaterThan(0.5);
      expect(r.value as number).toBeLessThan(1);
    }
    const estimated = await all(`/v1/performance?model=${MODEL}&segment=&metric=accuracy&kind=estimated`);
    expect(estimated).toHaveLength(N_WINDOWS);
    const conv = await all(`/v1/kpis?model=${MODEL}&segment=&metric=conversion_rate`);
    expect(conv).toHaveLength(N_WINDOWS);
    for (const k of conv) expect(k.baseline).not.toBeNull();
    const bySegment = await all(`/v1/kpis?model=${MODEL}&metric=conversion_rate`);
    expect(new Set(bySegment.map((k) => k.segment))).toEqual(new Set(['', 'region=north', 'region=south']));
    const dq = await all(`/v1/data-quality?model=${MODEL}&segment=&feature=x1`);
    expect(dq.map((r) => r.schema_status)).toEqual(Array(N_WINDOWS).fill('ok'));
  });

  it('alerts, retrain events, decisions and runs are the ones the trigger and the worker produced', async () => {
    const key = retrainEvent.idempotency_key;
    const retrains = await all(`/v1/retrains?model=${MODEL}&policy=${POLICY}`);
    expect(retrains).toEqual([
      expect.objectContaining({
        idempotency_key: key,
        policy_id: POLICY,
        model_version: VERSION,
        training_range_end: iso(retrainEvent.training_range_end),
        event: expect.objectContaining({ idempotency_key: key, model_name: MODEL }),
      }),
    ]);
    expect(retrains[0]!.drifted_features).toEqual(expect.arrayContaining(['x1', 'x2']));

    const decisions = await all(`/v1/retrains/decisions?model=${MODEL}&policy=${POLICY}&order=asc`);
    expect(decisions.map((d) => d.window_start)).toEqual([0, 1, 2, 3].map((w) => iso(start + w * WINDOW)));
    expect(decisions.map((d) => d.decision)).toEqual(['suppressed', 'suppressed', 'fired', 'suppressed']);
    expect(decisions[2]).toMatchObject({ idempotency_key: key, reason: 'condition_met' });
    // Window 3 still drifts, but the episode already fired (hysteresis / cooldown): no second event.
    expect(['hysteresis', 'cooldown']).toContain(decisions[3]!.reason);
    expect(await all(`/v1/retrains/decisions?model=${MODEL}&decision=fired`)).toHaveLength(1);

    const firing = await all(`/v1/alerts?model=${MODEL}&status=FIRING`);
    expect(firing.map((a) => a.alert_id).sort()).toEqual([...new Set(alertEvents.filter((a) => a.status === 'FIRING').map((a) => a.alert_id))].sort());
    expect(firing.length).toBeGreaterThan(0);
    expect(firing[0]).toMatchObject({ model_version: VERSION, severity: 'WARNING' });

    const runs = await all(`/v1/retrains/runs?idempotency_key=${encodeURIComponent(key)}&order=asc`);
    expect(runs.map((r) => r.step)).toEqual(['started', 'data', 'failed']);
    expect(runs.every((r) => r.model_name === MODEL && r.source_version === VERSION && r.policy_id === POLICY && r.worker === 'api-q-worker')).toBe(true);
    expect(runs[1]!.detail).toMatchObject({ rows: 0, table: 'labeled_predictions' });
    expect(runs[2]!.detail).toMatchObject({ code: 'DW_TRAINING_FAILED' });
    expect(await all(`/v1/retrains/runs?model=${MODEL}&step=failed`)).toHaveLength(1);
    expect(await all(`/v1/retrains/runs?idempotency_key=not-${encodeURIComponent(key)}`)).toEqual([]);
  });

  it("dead letters: ingest's record of the undecodable event", async () => {
    const dl = await all(`/v1/dead-letters?component=ingest&topic=${h.topics.predictions}`);
    expect(dl).toEqual([expect.objectContaining({ code: 'DW_INVALID_JSON', source_topic: h.topics.predictions })]);
  });
});
