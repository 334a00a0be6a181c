import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type TestClickHouse } from '../../../support/stack.js';
import { WRITE_TOKEN, auth, buildTestApp, type TestApp } from '../support/app.js';
import { T0, seedRawPredictions } from '../support/seed.js';

let ch: TestClickHouse;
let t: TestApp;

beforeAll(async () => {
  ch = await embeddedClickHouse();
  await seedRawPredictions(ch.ch, 'credit-risk', '1', 200);
  t = await buildTestApp(ch.ch, { API_BODY_LIMIT_BYTES: '4096', API_REFERENCE_MAX_ROWS: '150' });
});
afterAll(async () => {
  await t?.close();
  await ch?.close();
});

const base = '/v1/models/credit-risk/versions/1/references';
const upload = (body: string, type: string, headers: Record<string, string> = auth(WRITE_TOKEN), url = base) =>
  t.app.inject({ method: 'POST', url, payload: body, headers: { ...headers, 'content-type': type } });

describe('reference profiles', () => {
  it('uploads a CSV dataset and stores the profile lib/reference builds from it', async () => {
    const csv = 'age,region,vip,code,score,label\n31,eu,true,"007",0.9,1\n45,us,false,"008",0.2,0\n,eu,true,"007",0.7,1\n';
    const r = await upload(csv, 'text/csv; charset=utf-8', auth(WRITE_TOKEN), `${base}?source=unit-test`);
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({
      model_name: 'credit-risk',
      model_version: '1',
      profile_version: 1,
      n_rows: 3,
      source: 'upload:unit-test',
      features: ['age', 'code', 'region', 'vip'],
    });
    const stored = (await t.app.inject({ url: `${base}/1` })).json();
    // The stored JSON is lib/reference's StoredProfile: features, the prediction profile, the task.
    expect(stored.profile).toMatchObject({ format: 1, model: 'credit-risk', version: '1', rowCount: 3, source: 'upload:unit-test' });
    expect(stored.profile.features.features.code.kind).toBe('categorical'); // quoted: kept categorical
    expect(stored.profile.features.features.age).toMatchObject({ kind: 'numeric', missing: 1 });
    expect(stored.profile.prediction.featureOrder).toEqual(['__prediction__']);
  });

  it('uploads JSON lines as the next profile version; latest returns it', async () => {
    const r = await upload('{"age": 30, "region": "eu"}\n\n{"age": 40, "region": null}\n', 'application/x-ndjson');
    expect(r.statusCode).toBe(201);
    expect(r.json().profile_version).toBe(2);
    const latest = (await t.app.inject({ url: `${base}/latest` })).json();
    expect(latest).toMatchObject({ profile_version: 2, n_rows: 2, profile: { rowCount: 2, features: { featureOrder: ['age', 'region'] } } });
    const list = (await t.app.inject({ url: `${base}?limit=1` })).json();
    expect(list.items.map((x: { profile_version: number }) => x.profile_version)).toEqual([2]);
    const page2 = (await t.app.inject({ url: `${base}?limit=1&cursor=${list.next_cursor}` })).json();
    expect(page2).toMatchObject({ items: [{ profile_version: 1 }], next_cursor: null });
  });

  it('builds a profile from the predictions stored in a time range', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: `${base}/from-range`,
      headers: auth(WRITE_TOKEN),
      payload: { from: new Date(T0).toISOString(), to: String(T0 + 100_000) },
    });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ profile_version: 3, n_rows: 100 });
    expect(r.json().features).toEqual(['age', 'income', 'region', 'tenure', 'vip']);
    const profile = (await t.app.inject({ url: `${base}/3` })).json().profile;
    expect(profile.features.features.region.categories).toEqual(['eu', 'us']);
    expect(profile.prediction.rowCount).toBe(100);
    // More rows than API_REFERENCE_MAX_ROWS (150) in the range: the first 150 are used.
    const capped = await t.app.inject({
      method: 'POST',
      url: `${base}/from-range`,
      headers: auth(WRITE_TOKEN),
      payload: { from: String(T0), to: String(T0 + 200_000) },
    });
    expect(capped.json()).toMatchObject({ profile_version: 4, n_rows: 150 });
    const empty = await t.app.inject({
      method: 'POST',
      url: `${base}/from-range`,
      headers: auth(WRITE_TOKEN),
      payload: { from: String(T0 - 10_000), to: String(T0 - 1) },
    });
    expect(empty.statusCode).toBe(400);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `${base}/from-range`,
          headers: auth(WRITE_TOKEN),
          payload: { from: String(T0), to: String(T0 + 1), segment: 'region=eu' },
        })
      ).statusCode,
    ).toBe(400);
  });

  it('maps every bad upload to the right status', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['{"age": 1}', 'application/json', 415, 'DW_UNSUPPORTED_MEDIA_TYPE'],
      ['age\n1\n', 'application/json', 400, 'DW_INVALID_REQUEST'], // not JSON at all
      ['age\n1\n', 'application/xml', 415, 'DW_UNSUPPORTED_MEDIA_TYPE'],
      ['age,age\n1,2\n', 'text/csv', 400, 'DW_INVALID_REQUEST'],
      ['age,b\n1\n', 'text/csv', 400, 'DW_INVALID_REQUEST'],
      ['age\n"unterminated\n', 'text/csv', 400, 'DW_INVALID_REQUEST'],
      ['__proto__\n1\n', 'text/csv', 400, 'DW_INVALID_REQUEST'],
      ['{"a": {"nested": 1}}\n', 'application/x-ndjson', 400, 'DW_INVALID_REQUEST'],
      ['[1,2]\n', 'application/x-ndjson', 400, 'DW_INVALID_REQUEST'],
      ['{"a": 1e999}\n', 'application/x-ndjson', 400, 'DW_INVALID_REQUEST'],
      [`a\n${'1\n'.repeat(151)}`, 'text/csv', 400, 'DW_INVALID_REQUEST'],
      [`a\n${'1234567\n'.repeat(600)}`, 'text/csv', 413, 'DW_PAYLOAD_TOO_LARGE'],
    ];
    for (const [body, type, status, code] of cases) {
      const r = await upload(body, type);
      expect({ type, body: body.slice(0, 20), status: r.statusCode, code: r.json().error?.code }).toEqual({ type, body: body.slice(0, 20), status, code });
    }
    expect((await upload('a\n1\n', 'text/csv', {})).statusCode).toBe(401);
    expect((await t.app.inject({ url: `${base}/99` })).json().error.code).toBe('DW_REFERENCE_PROFILE_MISSING');
    expect((await t.app.inject({ url: `${base}/0` })).statusCode).toBe(400);
    // CSV is accepted only where a dataset is expected.
    expect(
      (await t.app.inject({ method: 'PUT', url: '/v1/monitors/x', headers: { ...auth(WRITE_TOKEN), 'content-type': 'text/csv' }, payload: 'a\n1\n' }))
        .statusCode,
    ).toBe(415);
  });
});
