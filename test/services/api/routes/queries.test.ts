import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type TestClickHouse } from '../../../support/stack.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { FEATURES, T0, WINDOW, WINDOWS, seedMonitoring, type SeedCounts } from '../support/seed.js';
import { QUERY_PATHS } from '../../../../services/api/routes/queries.js';

let ch: TestClickHouse;
let t: TestApp;
let counts: SeedCounts;

beforeAll(async () => {
  ch = await embeddedClickHouse();
  counts = await seedMonitoring(ch.ch);
  t = await buildTestApp(ch.ch, { API_QUERY_MAX_LIMIT: '50' });
});
afterAll(async () => {
  await t?.close();
  await ch?.close();
});

async function get(url: string) {
  const r = await t.app.inject({ url });
  return {
    status: r.statusCode,
    body: r.json() as { items: Record<string, unknown>[]; next_cursor: string | null; error?: { code: string; message: string } },
  };
}

/** Follows next_cursor to the end. */
async function all(url: string, limit = 7): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const sep = url.includes('?') ? '&' : '?';
    const r = await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    out.push(...r.body.items);
    cursor = r.body.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('pagination did not end');
}

describe('query endpoints', () => {
  it('every series returns exactly the rows a FINAL read holds, across pages, without duplicates', async () => {
    const expected: Record<keyof typeof QUERY_PATHS, number> = counts;
    for (const [name, path] of Object.entries(QUERY_PATHS) as [keyof typeof QUERY_PATHS, string][]) {
      const rows = await all(path);
      expect(rows.length, name).toBe(expected[name]);
      expect(new Set(rows.map((r) => JSON.stringify(r))).size, name).toBe(rows.length);
    }
  });

  it('drift: the re-evaluated window shows its latest row only, typed fields, newest first', async () => {
    const r = await get(`/v1/drift?model=credit-risk&feature=income&limit=50`);
    expect(r.status).toBe(200);
    expect(r.body.items).toHaveLength(WINDOWS);
    const times = r.body.items.map((x) => Date.parse(String(x.window_start)));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const first = r.body.items.at(-1)!;
    expect(first.window_start).toBe(new Date(T0).toISOString());
    expect(first.score).not.toBe(99); // the stale evaluation is hidden by FINAL
    expect(first).toMatchObject({
      model_name: 'credit-risk',
      model_version: '1',
      segment: '',
      feature: 'income',
      drift: false,
      is_final: true,
      n_ref: 1000,
      method: 'psi',
      p_value: null,
    });
    expect(r.body.items[0]).toMatchObject({ drift: true, severity: 'high' });
  });

  it('filters combine: model, version, segment, feature, method, drifted, from/to', async () => {
    const drifted = await all('/v1/drift?model=credit-risk&drifted=true');
    expect(drifted.map((x) => x.feature)).toEqual(Array(WINDOWS - 3).fill('income'));
    const method = await all('/v1/drift?method=chisquare_gof&model=churn');
    expect(method).toHaveLength(WINDOWS);
    expect(method.every((x) => x.feature === 'region')).toBe(true);
    const range = await all(`/v1/drift?model=churn&feature=age&from=${new Date(T0 + WINDOW).toISOString()}&to=${T0 + 3 * WINDOW}`);
    expect(range.map((x) => x.window_start)).toEqual([new Date(T0 + 2 * WINDOW).toISOString(), new Date(T0 + WINDOW).toISOString()]);
    expect(await all('/v1/drift?segment=region%3Deu')).toEqual([]);
    expect(await all('/v1/drift?segment=&version=1&model=churn')).toHaveLength(WINDOWS * FEATURES.length);
    expect(await all('/v1/drift?version=2')).toEqual([]);
  });

  it('ascending order pages cover the same rows in reverse', async () => {
    const desc = await all('/v1/kpis?model=churn&metric=revenue', 4);
    const asc = await all('/v1/kpis?model=churn&metric=revenue&order=asc', 4);
    expect(asc).toEqual([...desc].reverse());
    expect(asc[0]).toMatchObject({ kpi: 'revenue', value: 1000, baseline: 1000 });
  });

  it('performance: metric, kind and shadow filters; KPIs keep null values', async () => {
    const est = await all('/v1/performance?model=credit-risk&metric=accuracy&kind=estimated');
    expect(est).toHaveLength(WINDOWS);
    const shadow = await all('/v1/performance?shadow=true');
    expect(shadow).toHaveLength(2 * WINDOWS);
    expect(shadow.every((x) => x.is_shadow === true && x.model_version === '2')).toBe(true);
    const conv = await all('/v1/kpis?metric=conversion&model=credit-risk');
    expect(conv.every((x) => x.value === null && x.baseline === null && x.is_final === false)).toBe(true);
  });

  it('alerts show the latest state; retrains parse their stored JSON; dead letters keep 64-bit offsets exact', async () => {
    const firing = await all('/v1/alerts?status=firing');
    expect(firing.map((a) => a.alert_id).sort()).toEqual(['a1', 'a2']);
    const resolved = await all('/v1/alerts?model=churn');
    expect(resolved).toEqual([expect.objectContaining({ alert_id: 'a3', status: 'resolved', window_start: null })]);
    const crit = await all('/v1/alerts?severity=critical&rule=income_drift');
    expect(crit.map((a) => a.alert_id)).toEqual(['a1']);
    const retrains = await all('/v1/retrains?model=credit-risk&policy=drift-policy');
    expect(retrains).toHaveLength(1);
    expect(retrains[0]).toMatchObject({ idempotency_key: 'k1', drifted_features: ['income'], event: { idempotency_key: 'k1' } });
    const decisions = await all('/v1/retrains/decisions?decision=suppressed');
    expect(decisions).toEqual([expect.objectContaining({ reason: 'cooldown', conditions: [], detail: 'not json' })]);
    const dl = await all('/v1/dead-letters?code=DW_CONTRACT_VIOLATION');
    expect(dl).toEqual([expect.objectContaining({ source_offset: '18446744073709551000', component: 'ingest' })]);
    expect(await all('/v1/drift/summary?severity=high&model=churn')).toHaveLength(WINDOWS - 3);
    expect(await all('/v1/data-quality?feature=age&model=churn')).toHaveLength(WINDOWS);
  });

  it("retrain runs: the worker's steps per idempotency key, latest row of a re-recorded step, parsed detail, time order", async () => {
    const k1 = await all('/v1/retrains/runs?idempotency_key=k1&order=asc', 2);
    expect(k1.map((r) => r.step)).toEqual(['started', 'data', 'trained', 'registered', 'profiled', 'promoted']);
    expect(k1.find((r) => r.step === 'registered')).toMatchObject({ new_version: '2', detail: { resumed: true } });
    expect(k1[0]).toEqual({
      idempotency_key: 'k1',
      step: 'started',
      at: new Date(T0 + 4 * WINDOW + 5000).toISOString(),
      model_name: 'credit-risk',
      source_version: '1',
      new_version: '',
      policy_id: 'drift-policy',
      worker: 'worker-1',
      detail: { policy_id: 'drift-policy' },
    });
    // Newest first by default: k2's steps come before k1's.
    const newest = await get('/v1/retrains/runs?model=credit-risk&limit=3');
    expect(newest.body.items.map((r) => `${r.idempotency_key}:${r.step}`)).toEqual(['k2:failed', 'k2:data', 'k2:started']);
    expect(newest.body.next_cursor).not.toBeNull();
    expect(await all('/v1/retrains/runs?step=failed')).toEqual([
      expect.objectContaining({ idempotency_key: 'k2', policy_id: 'perf-policy', detail: { code: 'DW_TRAINING_FAILED', message: 'too few labeled rows' } }),
    ]);
    expect(await all('/v1/retrains/runs?policy=drift-policy&version=1&step=promoted')).toEqual([
      expect.objectContaining({ idempotency_key: 'k1', new_version: '2' }),
    ]);
    // [from, to) on `at`: 'registered' counts at its re-recorded time (r0 + 3500), the only one after FINAL.
    const r0 = T0 + 4 * WINDOW + 5000;
    const during = await all(`/v1/retrains/runs?from=${r0 + 1500}&to=${new Date(r0 + 4000).toISOString()}&order=asc`);
    expect(during.map((r) => r.step)).toEqual(['trained', 'registered']);
    expect(await all('/v1/retrains/runs?model=churn')).toEqual([]);
    expect(await all('/v1/retrains/runs?version=2')).toEqual([]);
    for (const url of ['/v1/retrains/runs?key=k1', '/v1/retrains/runs?idempotency_key=a&idempotency_key=b', '/v1/retrains/runs?decision=fired'])
      expect((await get(url)).status, url).toBe(400);
  });

  it('rejects bad paging and filter input with 400 DW_INVALID_REQUEST', async () => {
    const bad = [
      '/v1/drift?limit=0',
      '/v1/drift?limit=51', // above API_QUERY_MAX_LIMIT
      '/v1/drift?limit=ten',
      '/v1/drift?cursor=not-a-cursor',
      `/v1/drift?cursor=${Buffer.from(JSON.stringify({ t: 'kpis', o: 'desc', k: [1, 'a', 'b', 'c', 'd'] })).toString('base64url')}`,
      `/v1/drift?cursor=${Buffer.from(JSON.stringify({ t: 'drift', o: 'desc', k: ['x', 'a', 'b', 'c', 'd'] })).toString('base64url')}`,
      '/v1/drift?from=yesterday',
      '/v1/drift?from=2024-05-02T00:00:00Z&to=2024-05-01T00:00:00Z',
      '/v1/drift?order=sideways',
      '/v1/drift?unknown=1',
      '/v1/drift?model=a&model=b',
      '/v1/drift?drifted=maybe',
      `/v1/drift?feature=${'x'.repeat(300)}`,
      '/v1/drift?feature=a%00b',
      '/v1/alerts?feature=age',
      '/v1/drift?limit=1e309', // ajv coerces this to Infinity; the finite-number guard rejects it
      '/v1/drift?from=1e309',
    ];
    for (const url of bad) {
      const r = await get(url);
      expect({ url, status: r.status, code: r.body.error?.code }).toEqual({ url, status: 400, code: 'DW_INVALID_REQUEST' });
    }
  });
});
