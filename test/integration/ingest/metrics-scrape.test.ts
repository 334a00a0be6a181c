/**
 * `/metrics` of real processors, scraped over HTTP while real events flow (issue 9, "the counters
 * move when events flow"). Ingest and the label-joiner run as child processes of their own entry
 * points (`node --import tsx .../main.ts`, test/support/pipeline.ts) with METRICS_PORT set, as in
 * production, on the real Kafka broker and schema registry, sharing a real ClickHouse engine served
 * over HTTP from this test process. Nothing in this file touches a metric: every value comes from
 * the processors' own instrumentation, read back with the strict text-format parser.
 *
 *  1. warm-up: one joined pair flows through, so both processes are consuming (their first scrape
 *     is the baseline; all later checks are deltas from it);
 *  2. ClickHouse goes away (fault injected in the served engine) and 20 predictions, 20 outcomes
 *     and one undecodable record are produced: ingest cannot make its batches durable, commits
 *     nothing, and its own consumer-lag gauge reports exactly the records produced;
 *  3. ClickHouse comes back: the backlog drains; consumed counters per topic, dead letters by code,
 *     the joiner's produced counter, batch histograms move by exactly the right amounts, the lag
 *     gauge falls to 0, and the processing-latency histogram shows the outage (no record of the
 *     backlog was durable faster than ClickHouse was down).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../../support/pipeline.js';
import { waitFor } from '../../support/stack.js';
import { parsePrometheusText, sampleValue, type Family } from '../../services/api/support/prom-text.js';
import type { Producer } from '../../../lib/runtime/kafka.js';
import { outcome, prediction } from './support.js';

const MODEL = 'm-metrics';
const N = 20;
/** ingest's consumer-lag refresh (stream-processors/ingest/main.ts, `lagIntervalMs` default). */
const LAG_POLL_MS = 15_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

type Metrics = Map<string, Family>;

async function scrape(port: number): Promise<Metrics> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await r.text());
}

/** Value of one series (exact labels besides the process's `component`), 0 when not yet exported. */
const value = (m: Metrics, component: string, name: string, labels: Record<string, string> = {}) => sampleValue(m, name, { component, ...labels }) ?? 0;

/** Sum of a family's samples named `name` whose labels include `labels`. */
function sum(m: Metrics, family: string, name: string, labels: Record<string, string>): number {
  const f = m.get(family);
  if (!f) return 0;
  return f.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

let pl: Pipeline;
let producer: Producer;
let ingestPort: number;
let joinerPort: number;

beforeAll(async () => {
  pl = await startPipeline({
    env: {
      // Short backoff, so the backlog drains promptly once ClickHouse is back.
      RETRY_INITIAL_MS: '100',
      RETRY_MAX_MS: '1000',
      INGEST_BATCH_MAX_WAIT_MS: '100',
      OPS_SAMPLE_INTERVAL_MS: '0',
    },
  });
  ingestPort = await freePort();
  joinerPort = await freePort();
  pl.start('ingest', { METRICS_PORT: String(ingestPort) });
  pl.start('label-joiner', { METRICS_PORT: String(joinerPort) });
  producer = await pl.kafka.producer();
}, 120_000);

afterAll(async () => {
  pl?.clickhouse.server.setUnavailable(false);
  await producer?.disconnect();
  await pl?.stop();
});

describe('/metrics of the ingest and label-joiner processes', () => {
  it('counters, dead letters, lag and latency histograms move with real events', async () => {
    const t = pl.topics;
    const encode = async (topic: string, e: object) => pl.codec.encode(topic, e);

    // 1. Warm-up: both processes up and consuming.
    await producer.send([{ topic: t.predictions, key: 'warm', value: await encode(t.predictions, prediction('warm', MODEL)) }]);
    await producer.send([{ topic: t.outcomes, key: 'warm', value: await encode(t.outcomes, outcome('warm', MODEL)) }]);
    await waitFor(
      'warm-up pair consumed by ingest and joined by the label-joiner',
      async () => {
        const i = await scrape(ingestPort);
        const j = await scrape(joinerPort);
        return (
          value(i, 'ingest', 'driftwatch_events_consumed_total', { topic: t.outcomes }) >= 1 &&
          value(j, 'label-joiner', 'driftwatch_events_produced_total', { topic: t.labeledPredictions }) >= 1
        );
      },
      90_000,
      500,
    );
    const i0 = await scrape(ingestPort);
    const j0 = await scrape(joinerPort);
    expect(i0.get('driftwatch_events_consumed_total')?.type).toBe('counter');
    expect(value(i0, 'ingest', 'driftwatch_dead_letters_total', { code: 'DW_INVALID_JSON', topic: t.predictions })).toBe(0);

    // 2. ClickHouse down; events arrive.
    pl.clickhouse.server.setUnavailable(true);
    const records = [];
    for (let k = 0; k < N; k++) records.push({ topic: t.predictions, key: `p${k}`, value: await encode(t.predictions, prediction(`p${k}`, MODEL)) });
    for (let k = 0; k < N; k++) records.push({ topic: t.outcomes, key: `p${k}`, value: await encode(t.outcomes, outcome(`p${k}`, MODEL)) });
    records.push({ topic: t.predictions, key: 'bad', value: '{"this is": not json' });
    await producer.send(records);
    const producedAt = Date.now();

    const ingestGroup = `${pl.namespace}.ingest`;
    const lag = (m: Metrics, topic: string) => sum(m, 'driftwatch_consumer_lag', 'driftwatch_consumer_lag', { component: 'ingest', group: ingestGroup, topic });
    await waitFor(
      "ingest's own lag gauge to report the backlog it cannot make durable",
      async () => {
        const m = await scrape(ingestPort);
        return lag(m, t.predictions) === N + 1 && lag(m, t.outcomes) === N;
      },
      LAG_POLL_MS * 3,
      500,
    );
    const during = await scrape(ingestPort);
    // Nothing was counted as consumed while nothing could be made durable.
    expect(value(during, 'ingest', 'driftwatch_events_consumed_total', { topic: t.predictions })).toBe(
      value(i0, 'ingest', 'driftwatch_events_consumed_total', { topic: t.predictions }),
    );
    expect(value(during, 'ingest', 'driftwatch_retries_total', { code: 'DW_CLICKHOUSE_UNAVAILABLE' })).toBeGreaterThan(
      value(i0, 'ingest', 'driftwatch_retries_total', { code: 'DW_CLICKHOUSE_UNAVAILABLE' }),
    );

    // 3. ClickHouse back: the backlog drains.
    const downMs = Date.now() - producedAt;
    pl.clickhouse.server.setUnavailable(false);
    const delta = (now: Metrics, before: Metrics, component: string, name: string, labels: Record<string, string> = {}) =>
      value(now, component, name, labels) - value(before, component, name, labels);
    await waitFor(
      'the backlog consumed by both processes, and the lag gauge back to 0',
      async () => {
        const i = await scrape(ingestPort);
        const j = await scrape(joinerPort);
        return (
          delta(i, i0, 'ingest', 'driftwatch_events_consumed_total', { topic: t.predictions }) >= N + 1 &&
          delta(i, i0, 'ingest', 'driftwatch_events_consumed_total', { topic: t.outcomes }) >= N &&
          delta(j, j0, 'label-joiner', 'driftwatch_events_produced_total', { topic: t.labeledPredictions }) >= N &&
          lag(i, t.predictions) === 0 &&
          lag(i, t.outcomes) === 0
        );
      },
      LAG_POLL_MS * 4,
      500,
    );
    const i1 = await scrape(ingestPort);
    const j1 = await scrape(joinerPort);

    // Consumed and produced per topic, exactly.
    expect(delta(i1, i0, 'ingest', 'driftwatch_events_consumed_total', { topic: t.predictions })).toBe(N + 1);
    expect(delta(i1, i0, 'ingest', 'driftwatch_events_consumed_total', { topic: t.outcomes })).toBe(N);
    expect(delta(i1, i0, 'ingest', 'driftwatch_events_consumed_total', { topic: t.features })).toBe(0);
    expect(delta(j1, j0, 'label-joiner', 'driftwatch_events_consumed_total', { topic: t.predictions })).toBe(N + 1);
    expect(delta(j1, j0, 'label-joiner', 'driftwatch_events_consumed_total', { topic: t.outcomes })).toBe(N);
    expect(delta(j1, j0, 'label-joiner', 'driftwatch_events_produced_total', { topic: t.labeledPredictions })).toBe(N);
    // Dead letters by code, in each process that read the bad record.
    for (const [m, before, component] of [
      [i1, i0, 'ingest'],
      [j1, j0, 'label-joiner'],
    ] as const) {
      expect(delta(m, before, component, 'driftwatch_dead_letters_total', { code: 'DW_INVALID_JSON', topic: t.predictions }), component).toBe(1);
      const otherCodes = (m.get('driftwatch_dead_letters_total')?.samples ?? []).filter((s) => s.labels.code !== 'DW_INVALID_JSON');
      expect(otherCodes, component).toEqual([]);
    }
    // Batch histograms moved in both processes.
    for (const topic of [t.predictions, t.outcomes]) {
      expect(delta(i1, i0, 'ingest', 'driftwatch_batch_duration_seconds_count', { topic }), topic).toBeGreaterThanOrEqual(1);
      expect(delta(j1, j0, 'label-joiner', 'driftwatch_batch_duration_seconds_count', { topic }), topic).toBeGreaterThanOrEqual(1);
    }
    // Processing latency: one observation per record of the backlog, none faster than the outage.
    expect(delta(i1, i0, 'ingest', 'driftwatch_processing_latency_seconds_count', { topic: t.predictions })).toBe(N + 1);
    expect(delta(i1, i0, 'ingest', 'driftwatch_processing_latency_seconds_count', { topic: t.outcomes })).toBe(N);
    const bounds = (i1.get('driftwatch_processing_latency_seconds')?.samples ?? [])
      .filter((s) => s.name.endsWith('_bucket') && s.labels.le !== '+Inf')
      .map((s) => Number(s.labels.le));
    const below = Math.max(...bounds.filter((b) => b * 1000 < downMs));
    for (const topic of [t.predictions, t.outcomes]) {
      const le = String(below);
      expect(delta(i1, i0, 'ingest', 'driftwatch_processing_latency_seconds_bucket', { topic, le }), `${topic} le=${le}`).toBe(0);
      expect(
        delta(i1, i0, 'ingest', 'driftwatch_processing_latency_seconds_sum', { topic }) /
          delta(i1, i0, 'ingest', 'driftwatch_processing_latency_seconds_count', { topic }),
      ).toBeGreaterThanOrEqual(downMs / 1000);
    }
    // The joiner's pending state: every backlog prediction was joined, so none is left waiting.
    expect(value(j1, 'label-joiner', 'driftwatch_join_pending_predictions')).toBe(0);
  }, 240_000);
});
