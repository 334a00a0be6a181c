/**
 * The API against the real stack: Kafka broker, schema registry (Apicurio ccompat), ClickHouse
 * engine (chdb), and the real HTTP server on a socket.
 *
 *  - readiness: 200 with every dependency up in a namespace whose topics exist;
 *  - the API's own lag measurement: a real consumer group behind and then caught up, as the API's
 *    /metrics (strictly parsed) reports it. The processors' counters, dead letters, lag and latency
 *    histograms, scraped from real processes, are test/integration/ingest/metrics-scrape.test.ts;
 *  - security: injection strings in every filter of every query endpoint are harmless (tables intact,
 *    counts right), unauthenticated writes are 401 and oversized bodies 413 over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createKafkaAdapter, type KafkaAdapter, type RunningConsumer } from '../../../lib/runtime/kafka.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { embeddedClickHouse, queryRows, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { WRITE_TOKEN, buildTestApp, type TestApp } from '../../services/api/support/app.js';
import { parsePrometheusText } from '../../services/api/support/prom-text.js';
import { seedMonitoring, type SeedCounts } from '../../services/api/support/seed.js';
import { measureLag, parseLagGroups } from '../../../services/api/lib/lag.js';
import { SERIES } from '../../../services/api/store/series.js';
import { QUERY_PATHS } from '../../../services/api/routes/queries.js';

const ns = uniqueName('apitest');
const topics = topicNames(ns);
const group = `${ns}.ingest-like`;
let ch: TestClickHouse;
let t: TestApp;
let kafka: KafkaAdapter;
let counts: SeedCounts;

beforeAll(async () => {
  ch = await embeddedClickHouse();
  counts = await seedMonitoring(ch.ch);
  t = await buildTestApp(ch.ch, { DW_TOPIC_NAMESPACE: ns, KAFKA_TOPIC_PARTITIONS: '2', API_BODY_LIMIT_BYTES: '2048', API_LAG_GROUPS: `${group}:predictions` });
  kafka = createKafkaAdapter(t.deps.settings, testLogger, `api-it-${process.pid}`);
  await kafka.ensureTopics(topics);
});
afterAll(async () => {
  await kafka?.deleteGroup(group).catch(() => undefined);
  await kafka?.disconnect();
  await t?.close();
  await ch?.close();
});

async function scrape() {
  const r = await t.app.inject({ url: '/metrics' });
  expect(r.statusCode).toBe(200);
  return parsePrometheusText(r.body);
}

describe('API on the real stack', () => {
  it('is ready when Kafka, the registry and ClickHouse all answer', async () => {
    const r = await t.app.inject({ url: '/health/ready' });
    expect(r.json()).toMatchObject({ status: 'ready', dependencies: { kafka: { status: 'up' }, registry: { status: 'up' }, clickhouse: { status: 'up' } } });
    expect(r.statusCode).toBe(200);
  });

  it("the API's lag gauge reports a real consumer group: everything behind, then caught up", async () => {
    const producer = await kafka.producer();
    await producer.send(Array.from({ length: 21 }, (_, i) => ({ topic: topics.predictions, key: `p${i}`, value: `{"n":${i}}` })));
    await producer.disconnect();
    const groups = parseLagGroups(t.deps.settings.API_LAG_GROUPS, ns);
    const lagTotal = async () => {
      await measureLag(kafka, groups, t.metrics, (_g, err) => {
        throw err;
      });
      const f = await scrape();
      return f
        .get('driftwatch_consumer_lag')!
        .samples.filter((s) => s.labels.group === group && s.labels.topic === topics.predictions)
        .reduce((a, s) => a + s.value, 0);
    };
    // Nobody consumed yet: no committed offset, so the whole topic is behind.
    expect(await lagTotal()).toBe(21);
    // The group reads and commits everything (its handler does nothing: only its offsets matter here).
    let consumer: RunningConsumer | undefined;
    let seen = 0;
    try {
      consumer = await kafka.runConsumer({
        groupId: group,
        topics: [topics.predictions],
        component: 'api-test',
        deadLetterTopic: topics.deadLetter,
        handleBatch: async (records) => {
          seen += records.length;
          return { deadLetters: [] };
        },
      });
      await waitFor('the group to commit all 21 records', async () => seen >= 21 && (await lagTotal()) === 0, 45_000, 500);
    } finally {
      await consumer?.stop();
    }
    expect(await lagTotal()).toBe(0);
  });

  it('injection attempts in every filter of every query endpoint are harmless', async () => {
    const payloads = [
      "' OR '1'='1",
      "credit-risk' OR 1=1 --",
      "x'); DROP TABLE drift_metrics; --",
      '1; DROP TABLE alerts',
      "' UNION SELECT name FROM system.tables --",
      '{f_model:String}',
      "\\' OR 1=1 #",
      '") OR ("1"="1',
      '%27%20OR%201%3D1',
    ];
    const pathOf = QUERY_PATHS as Record<string, string>;
    let probes = 0;
    for (const [name, spec] of Object.entries(SERIES)) {
      for (const [filter, f] of Object.entries(spec.filters)) {
        for (const p of payloads) {
          const r = await t.app.inject({ url: pathOf[name]!, query: { [filter]: p, limit: '50' } });
          probes++;
          if (f.type === 'Bool') {
            expect(r.statusCode, `${name} ${filter}`).toBe(400);
          } else {
            expect(r.statusCode, `${name} ${filter} ${p}`).toBe(200);
            expect(r.json().items, `${name} ${filter} ${p}`).toEqual([]); // no row has such a value
          }
        }
      }
      for (const p of payloads) {
        for (const q of [{ from: p }, { to: p }, { cursor: p }, { order: p }, { limit: p }] as Record<string, string>[]) {
          expect((await t.app.inject({ url: pathOf[name]!, query: q })).statusCode, `${name} ${JSON.stringify(q)}`).toBe(400);
          probes++;
        }
      }
    }
    for (const p of payloads) {
      for (const url of [
        `/v1/models/${encodeURIComponent(p)}`,
        `/v1/monitors/${encodeURIComponent(p)}`,
        `/v1/models/credit-risk/versions/${encodeURIComponent(p)}/references`,
      ]) {
        expect((await t.app.inject({ url })).statusCode, url).toBe(400);
      }
    }
    expect(probes).toBeGreaterThan(300);
    // Every table is still there with the rows it had, and a legitimate filter still works.
    const tables = await queryRows<{ name: string }>(ch.ch, 'SELECT name FROM system.tables WHERE database = currentDatabase()');
    for (const tbl of ['drift_metrics', 'alerts', 'kpi_metrics', 'performance_metrics', 'retrain_events', 'api_config'])
      expect(tables.map((x) => x.name)).toContain(tbl);
    for (const [name, spec] of Object.entries(SERIES)) {
      const [row] = await queryRows<{ n: number }>(ch.ch, `SELECT count() AS n FROM ${spec.table} FINAL`);
      expect(Number(row?.n), name).toBe(counts[name as keyof SeedCounts]);
    }
    const legit = await t.app.inject({ url: '/v1/drift', query: { model: 'credit-risk', feature: 'income', limit: '50' } });
    expect(legit.json().items).toHaveLength(6);
  });

  describe('over real HTTP', () => {
    let server: FastifyInstance;
    let base: string;
    beforeAll(async () => {
      server = t.app;
      base = await server.listen({ host: '127.0.0.1', port: 0 });
    });

    it('refuses unauthenticated writes with 401', async () => {
      for (const [method, path] of [
        ['PUT', '/v1/monitors/m'],
        ['DELETE', '/v1/policies/p'],
        ['POST', '/v1/models/m/promotions'],
        ['POST', '/v1/models/m/versions/1/references'],
      ] as const) {
        const r = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'DELETE' ? undefined : '{}' });
        expect(r.status, `${method} ${path}`).toBe(401);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe('DW_UNAUTHORIZED');
      }
    });

    it('answers 413 to bodies above API_BODY_LIMIT_BYTES, with or without Content-Length', async () => {
      const big = JSON.stringify({ features: [{ name: 'x'.repeat(100) }], description: 'y'.repeat(4000) });
      const r = await fetch(`${base}/v1/monitors/m`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WRITE_TOKEN}` },
        body: big,
      });
      expect(r.status).toBe(413);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('DW_PAYLOAD_TOO_LARGE');
      const csv = `a\n${'1\n'.repeat(3000)}`;
      const chunked = await fetch(`${base}/v1/models/m/versions/1/references`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', authorization: `Bearer ${WRITE_TOKEN}` },
        body: new ReadableStream({
          start(c) {
            c.enqueue(new TextEncoder().encode(csv));
            c.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      const ok = await fetch(`${base}/v1/monitors/m`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WRITE_TOKEN}` },
        body: JSON.stringify({ features: [{ name: 'x' }] }),
      });
      expect(ok.status).toBe(200);
    });
  });
});
