/**
 * Finality on the real stack: a window's performance rows are written provisional (is_final = 0) as
 * soon as its predictions are final, updated as late labels arrive, and final (is_final = 1) once the
 * label watermark passed window end + JOIN_MAX_LABEL_DELAY_MS + lateness; a label arriving after that
 * is counted as late, not added. Bad records go to the dead-letter topic and processing goes on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS } from '../../../lib/contracts/topics.js';
import type { LabeledPrediction } from '../../../lib/contracts/schemas.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { buildAndStoreReferenceProfile } from '../../../lib/reference/store.js';
import { startWindowMetrics, type WindowMetricsProcessor } from '../../../stream-processors/window-metrics/processor.js';
import { embeddedClickHouse, queryRows, testLogger, waitFor, type TestClickHouse } from '../../support/stack.js';
import { generateStream, heartbeatLabeled, heartbeatPrediction, referenceRows } from '../../support/window-stream.js';
import { harness, type Harness } from './support.js';

const WINDOW = 10_000;
const DELAY = 20_000;

describe('performance finality with delayed labels', () => {
  let h: Harness;
  let t: TestClickHouse;
  let proc: WindowMetricsProcessor;
  const start = Math.floor((Date.now() - 3 * 3600_000) / WINDOW) * WINDOW;
  const w0 = new Date(start).toISOString().replace('T', ' ').replace('Z', '');

  beforeAll(async () => {
    h = await harness('wm-final');
    t = await embeddedClickHouse();
    await buildAndStoreReferenceProfile(t.ch, { model: 'credit', version: 'v1', rows: referenceRows(3, 2000) });
    proc = await startWindowMetrics({
      config: h.config({ CLICKHOUSE_DATA_DIR: t.dir }),
      logger: testLogger,
      instanceId: 'final-1',
      metrics: createMetrics('wm-final'),
      clickhouse: t.ch,
      kafka: h.kafka,
      codec: h.codec,
    });
  }, 60_000);

  afterAll(async () => {
    await proc?.stop();
    await h?.close();
    await t?.close();
  });

  const coverage = async () =>
    queryRows<{ value: number; is_final: number; n_labeled: string }>(
      t.ch,
      `SELECT value, is_final, n_labeled FROM performance_metrics FINAL
       WHERE model_name = 'credit' AND segment = '' AND is_shadow = 0 AND metric = 'label_coverage' AND kind = 'realized' AND window_start = {w:String}`,
      { w: w0 },
    );

  it('writes provisional rows, updates them with late labels, then final rows; later labels are late', async () => {
    const events = generateStream({
      seed: 4,
      model: 'credit',
      version: 'v1',
      start,
      windowMs: WINDOW,
      eventsPerWindow: 200,
      labelDelayMs: 5000,
      phases: [{ name: 's', windows: 4 }],
      unlabeledShare: 0,
    });
    const window0 = events.filter((e) => e.window === 0).map((e) => e.labeled);
    const [firstHalf, secondHalf] = [window0.slice(0, 100), window0.slice(100)];
    // Predictions of windows 0-3 (their watermark closes windows 0-2 for drift) and half the labels of window 0.
    await h.produce(
      events.map((e) => e.prediction),
      firstHalf,
    );
    await waitFor('provisional coverage of 0.5', async () => {
      const r = await coverage();
      return r.length === 1 && r[0]!.is_final === 0 && r[0]!.value === 0.5;
    });
    // More labels arrive (still before the label deadline): the provisional row is updated.
    await h.produce([], secondHalf.slice(0, 50));
    await waitFor('provisional coverage of 0.75', async () => {
      const r = await coverage();
      return r[0]?.is_final === 0 && r[0]?.value === 0.75;
    });
    // The rest, then a heartbeat past the label deadline: final.
    await h.produce([], secondHalf.slice(50));
    await h.heartbeat(start + WINDOW + DELAY + 5000, heartbeatPrediction, heartbeatLabeled);
    await waitFor('final coverage of 1', async () => {
      const r = await coverage();
      return r[0]?.is_final === 1 && r[0]?.value === 1;
    });
    // A label for window 0 after its deadline: late (counted in the progress row), rows unchanged.
    const late: LabeledPrediction = { ...window0[0]!, prediction_id: 'late-1', outcome_time: start + 60_000 };
    await h.produce([], [late]);
    await waitFor('late event counted', async () => {
      const r = await queryRows<{ n: string }>(t.ch, `SELECT sum(late_events) AS n FROM window_state FINAL WHERE kind = 'progress' AND topic = {t:String}`, {
        t: h.topics.labeledPredictions,
      });
      return Number(r[0]!.n) === 1;
    });
    await proc.evaluateNow();
    const after = await coverage();
    expect(after.map((r) => ({ ...r, n_labeled: Number(r.n_labeled) }))).toEqual([{ value: 1, is_final: 1, n_labeled: 200 }]);
  }, 120_000);

  it('dead-letters a bad record with its code and keeps going', async () => {
    const producer = await h.kafka.producer();
    await producer.send([{ topic: h.topics.predictions, key: 'bad', value: Buffer.from('not an event') }]);
    await producer.disconnect();
    const seen: Array<Record<string, string>> = [];
    await waitFor('dead letter on the topic', async () => {
      seen.length = 0;
      await h.kafka.readToEnd(h.topics.deadLetter, 'all', (r) => seen.push(r.headers));
      return seen.length > 0;
    });
    expect(seen[0]![DEAD_LETTER_HEADERS.code]).toBe('DW_WRONG_MAGIC_BYTE');
    expect(seen[0]![DEAD_LETTER_HEADERS.component]).toBe('window-metrics');
    // Processing continues after the poison record: a window of new predictions still gets evaluated.
    const later = generateStream({
      seed: 5,
      model: 'credit',
      version: 'v1',
      start: start + 20 * WINDOW,
      windowMs: WINDOW,
      eventsPerWindow: 50,
      labelDelayMs: 5000,
      phases: [{ name: 's', windows: 1 }],
    });
    await h.produce(
      later.map((e) => e.prediction),
      [],
    );
    await h.heartbeat(start + 30 * WINDOW, heartbeatPrediction, heartbeatLabeled);
    await waitFor('window after the poison record evaluated', async () => {
      const r = await queryRows(t.ch, `SELECT 1 FROM model_drift_summary FINAL WHERE window_start = {w:String}`, {
        w: new Date(start + 20 * WINDOW).toISOString().replace('T', ' ').replace('Z', ''),
      });
      return r.length > 0;
    });
  }, 120_000);
});
