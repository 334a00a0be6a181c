import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, queryRows, type TestClickHouse } from '../../../support/stack.js';
import { WRITE_TOKEN, auth, buildTestApp, type TestApp } from '../support/app.js';

let ch: TestClickHouse;
let t: TestApp;

beforeAll(async () => {
  ch = await embeddedClickHouse();
  t = await buildTestApp(ch.ch); // the retrain-trigger's real policy validator
});
afterAll(async () => {
  await t?.close();
  await ch?.close();
});

const monitor = {
  description: 'credit model',
  task: 'binary',
  features: [
    { name: 'age', kind: 'numeric', method: 'psi', threshold: 0.2 },
    { name: 'region', kind: 'categorical', method: 'chisquare_gof', threshold: 0.01 },
    { name: 'income' },
  ],
  segments: ['region'],
  drift: { dataset_drift_share: 0.5, correction: 'benjamini-hochberg' },
  performance: { metrics: ['accuracy', 'roc_auc'], min_labels: 50 },
  kpis: [{ name: 'revenue', field: 'revenue', aggregation: 'sum', baseline: 1000 }],
  alerts: [{ rule: 'income-drift', metric: 'drift.income', comparator: 'gte', threshold: 0.2, severity: 'critical' }],
};

/** A policy in the retrain-trigger's language (stream-processors/retrain-trigger/policy.ts). */
const policy = {
  model: 'credit-risk',
  when: {
    any_of: [{ drift: { min_features: 2, min_severity: 'critical', for_windows: 3 } }, { performance: { metric: 'roc_auc', kind: 'estimated', below: 0.7 } }],
  },
  fire_after_windows: 1,
  cooldown: '6h',
  training_lookback: '30d',
};

function put(url: string, payload: unknown, headers: Record<string, string> = auth(WRITE_TOKEN)) {
  return t.app.inject({ method: 'PUT', url, payload: payload as object, headers });
}

describe('monitor configuration', () => {
  it('PUT stores version 1, GET returns it with an ETag, then version 2 keeps version 1 in the history', async () => {
    const r1 = await put('/v1/monitors/credit-risk', monitor);
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toMatchObject({
      name: 'credit-risk',
      version: 1,
      deleted: false,
      actor: expect.stringMatching(/^token:[0-9a-f]{8}$/),
      body: { ...monitor, enabled: true },
    });
    expect(r1.headers.etag).toBe('"1"');
    const g = await t.app.inject({ url: '/v1/monitors/credit-risk' });
    expect(g.statusCode).toBe(200);
    expect(g.headers.etag).toBe('"1"');
    expect(g.json().body.features).toEqual(monitor.features);

    const r2 = await put('/v1/monitors/credit-risk', { ...monitor, description: 'v2' }, { ...auth(WRITE_TOKEN), 'if-match': '"1"' });
    expect(r2.statusCode).toBe(200);
    expect(r2.json().version).toBe(2);
    const h = (await t.app.inject({ url: '/v1/monitors/credit-risk/versions?limit=1' })).json();
    expect(h.items.map((x: { version: number }) => x.version)).toEqual([2]);
    const h2 = (await t.app.inject({ url: `/v1/monitors/credit-risk/versions?limit=1&cursor=${h.next_cursor}` })).json();
    expect(h2).toMatchObject({ items: [{ version: 1, body: { description: 'credit model' } }], next_cursor: null });
    expect((await t.app.inject({ url: '/v1/monitors/credit-risk/versions/1' })).json().body.description).toBe('credit model');
    // Stored in api_config as appended rows, never updated in place.
    const rows = await queryRows<{ version: number }>(
      ch.ch,
      "SELECT version FROM api_config FINAL WHERE kind = 'monitor' AND name = 'credit-risk' ORDER BY version",
    );
    expect(rows.map((r) => Number(r.version))).toEqual([1, 2]);
  });

  it('a stale If-Match is a 409 conflict and writes nothing', async () => {
    const r = await put('/v1/monitors/credit-risk', monitor, { ...auth(WRITE_TOKEN), 'if-match': '"1"' });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('DW_VERSION_CONFLICT');
    expect((await t.app.inject({ url: '/v1/monitors/credit-risk' })).json().version).toBe(2);
  });

  it('concurrent writes in one process get distinct, consecutive versions', async () => {
    const rs = await Promise.all([1, 2, 3, 4].map((i) => put('/v1/monitors/concurrent', { ...monitor, description: `w${i}` })));
    expect(rs.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(rs.map((r) => r.json().version).sort()).toEqual([1, 2, 3, 4]);
  });

  it('lists current configs, hides deleted ones, DELETE appends a deleted version', async () => {
    await put('/v1/monitors/churn', monitor);
    const list = (await t.app.inject({ url: '/v1/monitors?limit=100' })).json();
    expect(list.items.map((x: { name: string }) => x.name)).toEqual(['churn', 'concurrent', 'credit-risk']);
    const d = await t.app.inject({ method: 'DELETE', url: '/v1/monitors/churn', headers: auth(WRITE_TOKEN) });
    expect(d.statusCode).toBe(200);
    expect(d.json()).toMatchObject({ version: 2, deleted: true, body: null });
    expect((await t.app.inject({ url: '/v1/monitors/churn' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/monitors/churn', headers: auth(WRITE_TOKEN) })).statusCode).toBe(404);
    const after = (await t.app.inject({ url: '/v1/monitors?limit=1' })).json();
    expect(after.items.map((x: { name: string }) => x.name)).toEqual(['concurrent']);
    const next = (await t.app.inject({ url: `/v1/monitors?limit=1&cursor=${after.next_cursor}` })).json();
    expect(next.items.map((x: { name: string }) => x.name)).toEqual(['credit-risk']);
    expect(next.next_cursor).toBeNull();
  });

  it('rejects invalid configurations with every problem listed', async () => {
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{ ...monitor, features: [{ name: 'age', method: 'no-such-method' }] }, 400, 'DW_INVALID_REQUEST', /method/],
      [{ ...monitor, extra: true }, 400, 'DW_INVALID_REQUEST', /additional properties/],
      [{ ...monitor, drift: { dataset_drift_share: 2 } }, 400, 'DW_INVALID_REQUEST', /dataset_drift_share/],
      [{ features: 'age' }, 400, 'DW_INVALID_REQUEST', /features/],
      [
        { ...monitor, features: [{ name: 'region', kind: 'categorical', method: 'ks' }, { name: 'age', method: 'ks', threshold: 5 }, { name: 'age' }] },
        400,
        'DW_POLICY_INVALID',
        /^(?=.*ks does not support categorical)(?=.*p-value)(?=.*listed twice)/,
      ],
      [{ ...monitor, kpis: [monitor.kpis[0], monitor.kpis[0]] }, 400, 'DW_POLICY_INVALID', /revenue.*twice/],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await put('/v1/monitors/bad', body);
      expect(r.statusCode).toBe(status);
      expect(r.json().error.code).toBe(code);
      expect(r.json().error.message).toMatch(message);
    }
    expect((await t.app.inject({ url: '/v1/monitors/bad' })).statusCode).toBe(404);
  });

  it('refuses unauthenticated or read-token writes (401) and bad names (400)', async () => {
    expect((await put('/v1/monitors/x', monitor, {})).statusCode).toBe(401);
    expect((await put('/v1/monitors/x', monitor, auth('wrong'))).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/monitors/credit-risk' })).statusCode).toBe(401);
    expect((await put('/v1/monitors/..%2Fetc', monitor)).statusCode).toBe(400);
    expect((await t.app.inject({ url: '/v1/monitors/x/versions/0' })).statusCode).toBe(400);
    expect((await put('/v1/monitors/x', monitor, { ...auth(WRITE_TOKEN), 'if-match': 'abc' })).statusCode).toBe(400);
  });
});

describe('retrain policies', () => {
  it('stores a policy valid in the retrain-trigger language, with its id from the URL', async () => {
    const ok = await put('/v1/policies/drift-policy', policy);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ name: 'drift-policy', version: 1, body: { id: 'drift-policy', ...policy } });
    expect((await t.app.inject({ url: '/v1/policies' })).json().items.map((p: { name: string }) => p.name)).toEqual(['drift-policy']);
  });

  it("reports the retrain-trigger validator's problems, with their paths, as DW_POLICY_INVALID", async () => {
    const r = await put('/v1/policies/p2', { ...policy, when: { any_of: [{ drift: { min_features: 0, min_severty: 'critical' } }] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('DW_POLICY_INVALID');
    expect(r.json().error.problems.join('\n')).toMatch(/min_severty: unknown key/);
    const perf = await put('/v1/policies/p2', { ...policy, when: { performance: { metric: 'no_such_metric', below: 0.7 } } });
    expect(perf.json().error.code).toBe('DW_POLICY_INVALID');
    expect((await t.app.inject({ url: '/v1/policies/p2' })).statusCode).toBe(404);
  });

  it('rejects structural problems by schema and over-deep condition trees before the validator runs', async () => {
    for (const body of [
      { ...policy, when: {} },
      { ...policy, id: 'other' },
      { ...policy, cooldown: 'soon' },
      { ...policy, fire_after_windows: 0 },
      { model: 'm' },
    ]) {
      const r = await put('/v1/policies/p3', body);
      expect({ body, status: r.statusCode, code: r.json().error.code }).toEqual({ body, status: 400, code: 'DW_INVALID_REQUEST' });
    }
    let when: unknown = { schedule: { every: '7d' } };
    for (let i = 0; i < 40; i++) when = { any_of: [when] };
    const deep = await put('/v1/policies/p3', { ...policy, when });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error.message).toMatch(/nests deeper/);
  });
});
