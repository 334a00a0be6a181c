import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedClickHouse, type TestClickHouse } from '../../../support/stack.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { parsePrometheusText, sampleValue } from '../support/prom-text.js';

// Kafka and the registry point at a closed port: readiness must name them as down; ClickHouse is the
// real engine served over HTTP, taken away mid-test to show the 503 path of readiness and queries.
let ch: TestClickHouse & { url: string };
let t: TestApp;

beforeAll(async () => {
  ch = await servedClickHouse();
  t = await buildTestApp(ch.ch, {
    KAFKA_BROKERS: '127.0.0.1:1',
    SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1/apis/ccompat/v7',
    API_READY_TIMEOUT_MS: '1500',
    RETRY_MAX_MS: '200',
    RETRY_INITIAL_MS: '50',
  });
});
afterAll(async () => {
  await t?.close();
  await ch?.ch.close();
});

describe('health', () => {
  it('liveness answers without touching any dependency', async () => {
    const r = await t.app.inject({ url: '/health/live' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: 'ok' });
  });

  it('readiness is 503 and names each dependency that is down', async () => {
    const r = await t.app.inject({ url: '/health/ready' });
    expect(r.statusCode).toBe(503);
    const body = r.json();
    expect(body.status).toBe('not_ready');
    expect(body.dependencies.kafka).toMatchObject({ status: 'down', reason: expect.stringMatching(/^(timeout|error)$/) });
    expect(body.dependencies.registry).toMatchObject({ status: 'down', reason: 'error' });
    expect(body.dependencies.clickhouse).toMatchObject({ status: 'up' });
    expect(body.dependencies.kafka.latency_ms).toBeLessThan(3000); // the deadline applies
    const m = parsePrometheusText(await (await t.app.inject({ url: '/metrics' })).body);
    expect(sampleValue(m, 'driftwatch_dependency_up', { component: 'api', dependency: 'registry' })).toBe(0);
    expect(sampleValue(m, 'driftwatch_dependency_up', { component: 'api', dependency: 'clickhouse' })).toBe(1);
    // Failure details go to the log, not to the response.
    expect(r.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
    expect(t.logs.join('')).toMatch(/readiness check failed/);
  });

  it('when ClickHouse goes away: readiness reports it and queries answer 503 without internals', async () => {
    ch.server!.server.close();
    ch.server!.server.closeAllConnections();
    const ready = await t.app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().dependencies.clickhouse.status).toBe('down');
    const q = await t.app.inject({ url: '/v1/drift' });
    expect(q.statusCode).toBe(503);
    expect(q.headers['retry-after']).toBe('5');
    expect(q.json()).toEqual({
      error: { code: 'DW_CLICKHOUSE_UNAVAILABLE', message: 'a dependency is unavailable; retry later', request_id: expect.any(String) },
    });
    expect(q.body).not.toMatch(/ECONNREFUSED|stack|127\.0\.0\.1/);
    expect((await t.app.inject({ url: '/health/live' })).statusCode).toBe(200);
  });
});
