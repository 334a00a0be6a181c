import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type TestClickHouse } from '../../../support/stack.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { parsePrometheusText, sampleValue } from '../support/prom-text.js';

let ch: TestClickHouse;
let t: TestApp;

beforeAll(async () => {
  ch = await embeddedClickHouse();
  t = await buildTestApp(ch.ch);
});
afterAll(async () => {
  await t?.close();
  await ch?.close();
});

async function scrape() {
  const r = await t.app.inject({ url: '/metrics' });
  expect(r.statusCode).toBe(200);
  expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(r.body);
}

describe('/metrics', () => {
  it('is valid Prometheus text and declares every pipeline metric with its type', async () => {
    const m = await scrape();
    const expected: Record<string, string> = {
      driftwatch_events_consumed_total: 'counter',
      driftwatch_events_produced_total: 'counter',
      driftwatch_dead_letters_total: 'counter',
      driftwatch_consumer_lag: 'gauge',
      driftwatch_batch_duration_seconds: 'histogram',
      driftwatch_processing_latency_seconds: 'histogram',
      driftwatch_join_pending_predictions: 'gauge',
      driftwatch_scoring_latency_seconds: 'histogram',
      driftwatch_scoring_fallbacks_total: 'counter',
      driftwatch_window_close_delay_seconds: 'histogram',
      driftwatch_http_requests_total: 'counter',
      driftwatch_http_request_duration_seconds: 'histogram',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(m.get(name)?.type, name).toBe(type);
      expect(m.get(name)?.help, name).toBeTruthy();
    }
  });

  it('counts API requests by route pattern and status (never by raw URL)', async () => {
    const before =
      sampleValue(await scrape(), 'driftwatch_http_requests_total', { component: 'api', method: 'GET', route: '/v1/monitors/:name', status_code: '404' }) ?? 0;
    for (const name of ['a', 'b', 'c']) await t.app.inject({ url: `/v1/monitors/${name}` });
    await t.app.inject({ url: '/definitely/not/a/route' });
    const m = await scrape();
    expect(sampleValue(m, 'driftwatch_http_requests_total', { component: 'api', method: 'GET', route: '/v1/monitors/:name', status_code: '404' })).toBe(
      before + 3,
    );
    expect(sampleValue(m, 'driftwatch_http_requests_total', { component: 'api', method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    const routes = m.get('driftwatch_http_requests_total')!.samples.map((s) => s.labels.route);
    expect(routes.some((r) => r?.includes('definitely'))).toBe(false);
    expect(
      m
        .get('driftwatch_http_request_duration_seconds')!
        .samples.some((s) => s.name.endsWith('_count') && s.labels.route === '/v1/monitors/:name' && s.value >= 3),
    ).toBe(true);
  });

  it('exports what the shared registry records, including label values that need escaping', async () => {
    t.metrics.eventsConsumed.inc({ topic: 'ns.predictions.v1' }, 5);
    t.metrics.deadLetters.inc({ code: 'DW_INVALID_JSON', topic: 'ns "quoted"\\path\nline' });
    t.metrics.windowCloseDelay.observe(2);
    const m = await scrape();
    expect(sampleValue(m, 'driftwatch_events_consumed_total', { component: 'api', topic: 'ns.predictions.v1' })).toBe(5);
    expect(sampleValue(m, 'driftwatch_dead_letters_total', { component: 'api', code: 'DW_INVALID_JSON', topic: 'ns "quoted"\\path\nline' })).toBe(1);
    expect(sampleValue(m, 'driftwatch_window_close_delay_seconds_count', { component: 'api' })).toBe(1);
  });
  // The parser itself is checked against prom-client's output in test/services/api/support/prom-text.test.ts.
});
