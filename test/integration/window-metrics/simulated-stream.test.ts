/**
 * The end-to-end check on the real stack (Kafka broker, schema registry, ClickHouse engine):
 * a seeded stream that is stationary, then drifts in two covariates, then flips its concept, through
 * the window-metrics processor, asserting what lands in the migration-030 tables.
 *
 * Documented tolerances (docs/windows.md, "What the tests guarantee"):
 *  - false alarms: 0 drifted feature-windows in the stationary phase. With the default methods
 *    (n_ref > 1000: Wasserstein/σ >= 0.1, JS distance >= 0.1) the false-alarm rate per feature-window
 *    measured on this generator is 2.4 % at 600 events per window, 0.6 % at 1000 and 0 of 900 at
 *    1500 (test/stream-processors/window-metrics/false-alarms.test.ts pins <= 1 % at 1500), so the
 *    test uses 1500 events per window;
 *  - detection: exactly {x1, x2} flagged in every covariate window, from the first one;
 *  - CBPE: |estimated − realized accuracy| <= 0.06 in every covariate window (sampling sd of the
 *    realized accuracy at 1350 labels is ~0.011, so 0.06 is > 5 sd), mean difference <= 0.03;
 *  - concept drift: realized accuracy drops by > 0.3 once the labels are final.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { buildAndStoreReferenceProfile } from '../../../lib/reference/store.js';
import { parseMonitoringConfig } from '../../../stream-processors/window-metrics/config.js';
import { startWindowMetrics, type WindowMetricsProcessor } from '../../../stream-processors/window-metrics/processor.js';
import { embeddedClickHouse, queryRows, testLogger, waitFor, type TestClickHouse } from '../../support/stack.js';
import { generateStream, heartbeatLabeled, heartbeatPrediction, labeledInEmissionOrder, referenceRows } from '../../support/window-stream.js';
import { harness, type Harness } from './support.js';

const WINDOW = 10_000;
const DELAY = 20_000;
const PHASES = [
  { name: 'stationary', windows: 4 },
  { name: 'covariate', windows: 3, covariateShift: { x1: 1, x2: -1 } },
  { name: 'concept', windows: 3, conceptFlip: true },
];
const N_WINDOWS = 10;
const PER_WINDOW = 1500;

describe('window-metrics on a simulated stream (real Kafka, registry, ClickHouse)', () => {
  let h: Harness;
  let t: TestClickHouse;
  let proc: WindowMetricsProcessor;
  const start = Math.floor((Date.now() - 3 * 3600_000) / WINDOW) * WINDOW;
  const ws = (w: number) => new Date(start + w * WINDOW).toISOString().replace('T', ' ').replace('Z', '');

  beforeAll(async () => {
    h = await harness('wm-sim');
    t = await embeddedClickHouse();
    const cfg = h.config({ CLICKHOUSE_DATA_DIR: t.dir });
    const monitoring = parseMonitoringConfig(cfg.sections);
    await buildAndStoreReferenceProfile(t.ch, {
      model: 'credit',
      version: 'v1',
      rows: referenceRows(101, 5000),
      kpis: monitoring.kpis,
      source: 'test-reference',
    });
    // A schema-drift model: its reference has x5 and a categorical c1; the stream drops x5, adds x_new and sends c1 as numbers.
    await buildAndStoreReferenceProfile(t.ch, { model: 'schema', version: 'v1', rows: referenceRows(102, 2000) });

    const events = generateStream({
      seed: 7,
      model: 'credit',
      version: 'v1',
      start,
      windowMs: WINDOW,
      eventsPerWindow: PER_WINDOW,
      labelDelayMs: DELAY,
      phases: PHASES,
      regions: ['north', 'south'],
    });
    const noRef = generateStream({
      seed: 8,
      model: 'credit',
      version: 'v2-noref',
      start,
      windowMs: WINDOW,
      eventsPerWindow: 50,
      labelDelayMs: DELAY,
      phases: [{ name: 's', windows: 2 }],
    });
    const schema = generateStream({
      seed: 9,
      model: 'schema',
      version: 'v1',
      start,
      windowMs: WINDOW,
      eventsPerWindow: 100,
      labelDelayMs: DELAY,
      phases: [{ name: 's', windows: 1 }],
    }).map((e) => {
      const { x5: _x5, c1, ...rest } = e.prediction.features as Record<string, number | string | null>;
      return { ...e, prediction: { ...e.prediction, features: { ...rest, x_new: 1, c1: c1 === 'a' ? 1 : 2 } } };
    });
    const all = [...events, ...noRef, ...schema].sort((a, b) => a.prediction.event_time - b.prediction.event_time);
    await h.produce(
      all.map((e) => e.prediction),
      labeledInEmissionOrder(all, DELAY),
    );
    // Close every window: a heartbeat well after the last window's label delay, in every partition.
    await h.heartbeat(start + (N_WINDOWS + 6) * WINDOW, heartbeatPrediction, heartbeatLabeled);
    proc = await startWindowMetrics({
      config: cfg,
      logger: testLogger,
      instanceId: 'sim-1',
      metrics: createMetrics('window-metrics-test'),
      clickhouse: t.ch,
      kafka: h.kafka,
      codec: h.codec,
    });
    await waitFor(
      'final performance rows of every window',
      async () => {
        const r = await queryRows<{ n: string }>(
          t.ch,
          `SELECT count() AS n FROM window_evaluations FINAL WHERE namespace = {ns:String} AND stage = 'performance_final' AND model_name = 'credit' AND model_version = 'v1'`,
          { ns: h.ns },
        );
        return Number(r[0]!.n) >= N_WINDOWS;
      },
      90_000,
      500,
    );
  }, 150_000);

  afterAll(async () => {
    await proc?.stop();
    await h?.close();
    await t?.close();
  });

  it('flags no feature in the stationary phase and exactly the drifted features from the first covariate window', async () => {
    const rows = await queryRows<{
      w: string;
      drifted_features: string[];
      n_drifted: number;
      severity: string;
      profile_status: string;
      n_events: string;
      prediction_drift: number;
    }>(
      t.ch,
      `SELECT toString(window_start) AS w, drifted_features, n_drifted, severity, profile_status, n_events, prediction_drift FROM model_drift_summary FINAL
       WHERE model_name = 'credit' AND model_version = 'v1' AND segment = '' ORDER BY window_start`,
    );
    const byWindow = new Map(rows.map((r) => [r.w, r]));
    expect(rows.length).toBeGreaterThanOrEqual(N_WINDOWS);
    for (let w = 0; w < 4; w++) {
      const r = byWindow.get(ws(w))!;
      expect(r, `stationary window ${w}`).toBeDefined();
      expect(r.drifted_features, `stationary window ${w}`).toEqual([]);
      expect(r.severity).toBe('none');
      expect(r.profile_status).toBe('ok');
      expect(Number(r.n_events)).toBe(PER_WINDOW);
    }
    for (let w = 4; w < 7; w++) {
      const r = byWindow.get(ws(w))!;
      expect(r.drifted_features, `covariate window ${w}`).toEqual(['x1', 'x2']);
      expect(r.severity).toBe('warning');
      expect(r.prediction_drift).toBe(1);
    }
    // Per-feature rows explain themselves: method, score, threshold, sample sizes.
    const x1 = await queryRows<{ method: string; score: number; threshold: number; drift: number; n_ref: string; n_cur: string; severity: string }>(
      t.ch,
      `SELECT method, score, threshold, drift, n_ref, n_cur, severity FROM drift_metrics FINAL
       WHERE model_name = 'credit' AND model_version = 'v1' AND segment = '' AND feature = 'x1' AND window_start = {w:String}`,
      { w: ws(4) },
    );
    expect(x1[0]).toMatchObject({ method: 'wasserstein', drift: 1, threshold: 0.1, severity: 'critical' });
    expect(Number(x1[0]!.n_ref)).toBe(5000);
    expect(Number(x1[0]!.n_cur)).toBe(PER_WINDOW);
  });

  it('drops realized performance after the concept flip once labels are final, and CBPE tracks it under covariate drift', async () => {
    const rows = await queryRows<{ w: string; metric: string; kind: string; value: number | null; is_final: number; n_labeled: string; n_total: string }>(
      t.ch,
      `SELECT toString(window_start) AS w, metric, kind, value, is_final, n_labeled, n_total FROM performance_metrics FINAL
       WHERE model_name = 'credit' AND model_version = 'v1' AND segment = '' AND is_shadow = 0 ORDER BY window_start`,
    );
    const get = (w: number, metric: string, kind: string) => rows.find((r) => r.w === ws(w) && r.metric === metric && r.kind === kind);
    const realized = (w: number) => get(w, 'accuracy', 'realized')!;
    for (let w = 0; w < N_WINDOWS; w++) {
      expect(realized(w).is_final, `window ${w} final`).toBe(1);
      const cov = get(w, 'label_coverage', 'realized')!;
      expect(cov.value!).toBeGreaterThan(0.85);
      expect(cov.value!).toBeLessThan(0.95);
      expect(Number(cov.n_total)).toBe(PER_WINDOW);
    }
    const mean = (ws: number[]) => ws.reduce((a, w) => a + realized(w).value!, 0) / ws.length;
    const stationary = mean([0, 1, 2, 3]);
    const concept = mean([7, 8, 9]);
    expect(stationary).toBeGreaterThan(0.65);
    expect(concept).toBeLessThan(stationary - 0.3);
    let sumDiff = 0;
    for (const w of [4, 5, 6]) {
      const est = get(w, 'accuracy', 'estimated')!;
      const diff = est.value! - realized(w).value!;
      expect(Math.abs(diff), `CBPE vs realized, window ${w}`).toBeLessThanOrEqual(0.06);
      sumDiff += diff;
    }
    expect(Math.abs(sumDiff / 3)).toBeLessThanOrEqual(0.03);
    // Delay quantiles within the simulated U(0, 20 s): p50 near 10 s.
    const p50 = get(2, 'label_delay_p50_ms', 'realized')!.value!;
    expect(p50).toBeGreaterThan(7000);
    expect(p50).toBeLessThan(13000);
    for (const m of ['precision', 'recall', 'f1', 'roc_auc', 'log_loss', 'brier', 'ece']) expect(get(1, m, 'realized')?.value, m).not.toBeNull();
  });

  it('writes KPIs per window and segment with a reference baseline where the reference can measure it', async () => {
    const rows = await queryRows<{ kpi: string; segment: string; value: number | null; baseline: number | null; is_final: number }>(
      t.ch,
      `SELECT kpi, segment, value, baseline, is_final FROM kpi_metrics FINAL WHERE model_name = 'credit' AND model_version = 'v1' AND window_start = {w:String}`,
      { w: ws(1) },
    );
    const conv = rows.find((r) => r.kpi === 'conversion_rate' && r.segment === '')!;
    expect(conv.baseline).not.toBeNull();
    expect(Math.abs(conv.value! - conv.baseline!)).toBeLessThan(0.08);
    expect(conv.is_final).toBe(1);
    const fallback = rows.find((r) => r.kpi === 'fallback_rate' && r.segment === '')!;
    expect(fallback.value!).toBeGreaterThan(0.01);
    expect(fallback.value!).toBeLessThan(0.1);
    expect(fallback.baseline).toBeNull(); // the reference has no fallback column: no silent 0
    const segments = new Set(rows.map((r) => r.segment));
    expect(segments).toEqual(new Set(['', 'region=north', 'region=south']));
  });

  it('gives a version without a reference profile a clear no_reference status', async () => {
    const rows = await queryRows<{ profile_status: string; severity: string; n_events: string }>(
      t.ch,
      `SELECT profile_status, severity, n_events FROM model_drift_summary FINAL WHERE model_name = 'credit' AND model_version = 'v2-noref' AND segment = ''`,
    );
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r).toMatchObject({ profile_status: 'no_reference', severity: 'unknown' });
    const dq = await queryRows<{ schema_status: string }>(
      t.ch,
      `SELECT DISTINCT schema_status FROM data_quality_metrics FINAL WHERE model_version = 'v2-noref'`,
    );
    expect(dq.map((r) => r.schema_status)).toEqual(['no_reference']);
    const drift = await queryRows(t.ch, `SELECT * FROM drift_metrics FINAL WHERE model_version = 'v2-noref'`);
    expect(drift).toEqual([]);
  });

  it('reports schema drift and missing rates in data_quality_metrics', async () => {
    const rows = await queryRows<{ feature: string; schema_status: string; missing_rate: number; observed_type: string; expected_type: string }>(
      t.ch,
      `SELECT feature, schema_status, missing_rate, observed_type, expected_type FROM data_quality_metrics FINAL WHERE model_name = 'schema' AND segment = '' ORDER BY feature`,
    );
    const by = Object.fromEntries(rows.map((r) => [r.feature, r]));
    expect(by.x5).toMatchObject({ schema_status: 'missing', missing_rate: 1 });
    expect(by.x_new).toMatchObject({ schema_status: 'new', missing_rate: 0 });
    expect(by.c1).toMatchObject({ schema_status: 'type_changed', observed_type: 'number', expected_type: 'string' });
    expect(by.x1).toMatchObject({ schema_status: 'ok', missing_rate: 0 });
    const summary = await queryRows<{ severity: string }>(t.ch, `SELECT severity FROM model_drift_summary FINAL WHERE model_name = 'schema' AND segment = ''`);
    expect(summary[0]!.severity).not.toBe('none');
  });
});
