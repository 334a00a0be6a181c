/**
 * Scale-out: two processor instances in one consumer group — one joining mid-stream, then one leaving
 * (two rebalances) — write exactly the same rows as one instance on the same stream. Every table the
 * processor writes is compared row for row (all columns but computed_at), after FINAL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, type ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../../lib/runtime/clickhouse/migrations.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { buildAndStoreReferenceProfile } from '../../../lib/reference/store.js';
import { startWindowMetrics, type WindowMetricsProcessor } from '../../../stream-processors/window-metrics/processor.js';
import { parseMonitoringConfig } from '../../../stream-processors/window-metrics/config.js';
import { queryRows, servedClickHouse, testLogger, waitFor, type TestClickHouse } from '../../support/stack.js';
import { generateStream, heartbeatLabeled, heartbeatPrediction, labeledInEmissionOrder, referenceRows, type SimEvent } from '../../support/window-stream.js';
import { harness, type Harness } from './support.js';

const WINDOW = 10_000;
const DELAY = 20_000;
const N_WINDOWS = 6;
const TABLES = ['drift_metrics', 'data_quality_metrics', 'model_drift_summary', 'performance_metrics', 'kpi_metrics'];

describe('scale-out: two instances write the same rows as one', () => {
  let served: TestClickHouse & { url: string };
  const dbs: ClickHouse[] = [];
  const harnesses: Harness[] = [];
  const procs: WindowMetricsProcessor[] = [];
  const start = Math.floor((Date.now() - 3 * 3600_000) / WINDOW) * WINDOW;
  let events: SimEvent[];

  async function db(name: string, h: Harness): Promise<ClickHouse> {
    const cfg = h.config({ CLICKHOUSE_URL: served.url, CLICKHOUSE_DATABASE: name });
    const ch = await openClickHouse(cfg.settings);
    await migrate(ch, cfg.settings);
    await buildAndStoreReferenceProfile(ch, {
      model: 'credit',
      version: 'v1',
      rows: referenceRows(5, 3000),
      kpis: parseMonitoringConfig(cfg.sections).kpis,
      now: 0,
    });
    dbs.push(ch);
    return ch;
  }

  function start1(h: Harness, ch: ClickHouse, id: string): Promise<WindowMetricsProcessor> {
    const cfg = h.config({ CLICKHOUSE_URL: served.url, CLICKHOUSE_DATABASE: ch.database });
    return startWindowMetrics({
      config: cfg,
      logger: testLogger,
      instanceId: id,
      metrics: createMetrics(`wm-${id}`),
      clickhouse: ch,
      kafka: h.kafka,
      codec: h.codec,
    }).then((p) => {
      procs.push(p);
      return p;
    });
  }

  async function allFinal(ch: ClickHouse, ns: string): Promise<boolean> {
    const r = await queryRows<{ n: string }>(
      ch,
      `SELECT count() AS n FROM window_evaluations FINAL WHERE namespace = {ns:String} AND stage = 'performance_final' AND model_name = 'credit'`,
      { ns },
    );
    return Number(r[0]!.n) >= N_WINDOWS;
  }

  async function produceHalf(h: Harness, part: 0 | 1): Promise<void> {
    const cut = start + 3 * WINDOW;
    const half = events.filter((e) => (part === 0 ? e.prediction.event_time < cut : e.prediction.event_time >= cut));
    // Labels of the first half that are emitted (progress time) after the cut go with the second half.
    const labeled = labeledInEmissionOrder(events, DELAY).filter((l) => {
      const p = l.status === 'LABELED' ? l.outcome_time! : l.prediction_time + DELAY;
      return part === 0 ? p < cut : p >= cut;
    });
    await h.produce(
      half.map((e) => e.prediction),
      labeled,
    );
    if (part === 1) await h.heartbeat(start + (N_WINDOWS + 5) * WINDOW, heartbeatPrediction, heartbeatLabeled);
  }

  beforeAll(async () => {
    served = await servedClickHouse();
    events = generateStream({
      seed: 21,
      model: 'credit',
      version: 'v1',
      start,
      windowMs: WINDOW,
      eventsPerWindow: 800,
      labelDelayMs: DELAY,
      phases: [
        { name: 's', windows: 3 },
        { name: 'c', windows: 3, covariateShift: { x1: 1 } },
      ],
      regions: ['north', 'south', 'east'],
    });
    harnesses.push(await harness('wm-one'), await harness('wm-two'));
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
    for (const h of harnesses) await h.close();
    for (const ch of dbs) await ch.close();
    await served?.close();
  });

  it('produces identical rows through a join and a leave of the group', async () => {
    const [one, two] = harnesses as [Harness, Harness];
    // Reference run: one instance, whole stream.
    const chOne = await db('wm_one', one);
    await produceHalf(one, 0);
    await produceHalf(one, 1);
    await start1(one, chOne, 'one');
    await waitFor('single instance finalises every window', () => allFinal(chOne, one.ns), 60_000, 300);

    // Scale-out run: instance A alone, B joins mid-stream, then A leaves.
    const chTwo = await db('wm_two', two);
    await produceHalf(two, 0);
    const a = await start1(two, chTwo, 'A');
    await waitFor(
      'A checkpoints something',
      async () => (await queryRows<{ n: string }>(chTwo, `SELECT count() AS n FROM window_state WHERE kind = 'progress'`))[0]!.n !== '0',
      20_000,
      200,
    );
    const b = await start1(two, chTwo, 'B');
    await waitFor('B is assigned partitions', async () => b.consumer.assigned().length > 0, 30_000, 200);
    await produceHalf(two, 1);
    await new Promise((r) => setTimeout(r, 1500));
    await a.stop();
    procs.splice(procs.indexOf(a), 1);
    await waitFor('two instances finalise every window', () => allFinal(chTwo, two.ns), 60_000, 300);
    await b.evaluateNow();

    for (const table of TABLES) {
      const q = `SELECT * EXCEPT computed_at FROM ${table} FINAL ORDER BY ALL`;
      const rowsOne = await queryRows(chOne, q);
      const rowsTwo = await queryRows(chTwo, q);
      expect(rowsOne.length, `${table} has rows`).toBeGreaterThan(0);
      expect(JSON.stringify(rowsTwo), table).toBe(JSON.stringify(rowsOne));
    }
    // Nothing was double counted or lost: every window saw all its predictions.
    const n = await queryRows<{ n: string }>(chTwo, `SELECT sum(n_events) AS n FROM model_drift_summary FINAL WHERE segment = ''`);
    expect(Number(n[0]!.n)).toBe(events.length);

    // Replay: the group's offsets are gone, a new instance re-reads both topics from offset 0. Every
    // record is below its partition's checkpointed next_offset and is skipped: no late events, no
    // change to any partial or row.
    const progressBefore = await queryRows(
      chTwo,
      `SELECT topic, partition, next_offset, late_events FROM window_state FINAL WHERE kind = 'progress' ORDER BY ALL`,
    );
    const partialsBefore = await queryRows(
      chTwo,
      `SELECT topic, partition, model_name, window_start, next_offset, n_rows FROM window_state FINAL WHERE kind = 'partial' ORDER BY ALL`,
    );
    await b.stop();
    procs.splice(procs.indexOf(b), 1);
    await two.kafka.deleteGroup(`${two.ns}.window-metrics`);
    let total = 0;
    for (const topic of [two.topics.predictions, two.topics.labeledPredictions]) for (const end of (await two.kafka.endOffsets(topic)).values()) total += end;
    const c = await start1(two, chTwo, 'C');
    await waitFor('the replaying instance has seen every record', async () => c.stats().records >= total, 60_000, 200);
    await c.evaluateNow();
    expect(await queryRows(chTwo, `SELECT topic, partition, next_offset, late_events FROM window_state FINAL WHERE kind = 'progress' ORDER BY ALL`)).toEqual(
      progressBefore,
    );
    expect(
      await queryRows(
        chTwo,
        `SELECT topic, partition, model_name, window_start, next_offset, n_rows FROM window_state FINAL WHERE kind = 'partial' ORDER BY ALL`,
      ),
    ).toEqual(partialsBefore);
    const q = `SELECT * EXCEPT computed_at FROM performance_metrics FINAL ORDER BY ALL`;
    expect(JSON.stringify(await queryRows(chTwo, q))).toBe(JSON.stringify(await queryRows(chOne, q)));
  }, 150_000);
});
