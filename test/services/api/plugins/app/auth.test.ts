import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type TestClickHouse } from '../../../../support/stack.js';
import { READ_TOKEN, WRITE_TOKEN, auth, buildTestApp, type TestApp } from '../../support/app.js';
import { operations, type Operation } from '../../support/routes.js';
// The token parsing and constant-time comparison themselves are tested in test/lib/runtime/auth.test.ts.

describe('route access', () => {
  let ch: TestClickHouse;
  let open: TestApp;
  let closed: TestApp;
  let noWrites: TestApp;
  let ops: Operation[];

  beforeAll(async () => {
    ch = await embeddedClickHouse();
    open = await buildTestApp(ch.ch);
    closed = await buildTestApp(ch.ch, { API_READ_TOKENS: READ_TOKEN });
    noWrites = await buildTestApp(ch.ch, { API_WRITE_TOKENS: '' });
    ops = await operations(open.app);
  });
  afterAll(async () => {
    for (const t of [open, closed, noWrites]) await t?.close();
    await ch?.close();
  });

  const writes = () => ops.filter((o) => o.method !== 'GET');
  const reads = () => ops.filter((o) => o.method === 'GET' && o.secured);

  it('the document marks every write and every data read as bearer-secured', () => {
    expect(writes().length).toBeGreaterThanOrEqual(8);
    expect(writes().every((o) => o.secured)).toBe(true);
    const publicOps = ops.filter((o) => !o.secured).map((o) => o.template);
    expect(publicOps.sort()).toEqual(['/health/live', '/health/ready', '/metrics']);
  });

  it('every write endpoint refuses a missing, wrong or read-only token with 401', async () => {
    for (const o of writes()) {
      for (const headers of [{}, auth('not-a-token'), auth(READ_TOKEN), { authorization: `Basic ${Buffer.from(`u:${WRITE_TOKEN}`).toString('base64')}` }]) {
        const r = await closed.app.inject({ method: o.method, url: o.url, headers, payload: {} });
        expect({ op: `${o.method} ${o.template}`, status: r.statusCode, code: r.json().error?.code }).toEqual({
          op: `${o.method} ${o.template}`,
          status: 401,
          code: 'DW_UNAUTHORIZED',
        });
        expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
  });

  it('with no write tokens configured, writes are refused even with a token', async () => {
    const r = await noWrites.app.inject({ method: 'PUT', url: '/v1/monitors/m', headers: auth(WRITE_TOKEN), payload: { features: [] } });
    expect(r.statusCode).toBe(401);
    expect(r.json().error.message).toMatch(/writes are disabled/);
  });

  it('a valid write token passes auth (the request then reaches validation)', async () => {
    for (const o of writes()) {
      const r = await open.app.inject({ method: o.method, url: o.url, headers: auth(WRITE_TOKEN), payload: { not: 'valid' } });
      expect(r.statusCode, `${o.method} ${o.template}`).not.toBe(401);
      expect(r.statusCode, `${o.method} ${o.template}`).toBeLessThan(500);
    }
  });

  it('reads are open without API_READ_TOKENS, and need a read or write token with it', async () => {
    for (const o of reads()) {
      expect((await open.app.inject({ url: o.url })).statusCode, o.template).not.toBe(401);
      expect((await closed.app.inject({ url: o.url })).statusCode, o.template).toBe(401);
      expect((await closed.app.inject({ url: o.url, headers: auth('nope') })).statusCode, o.template).toBe(401);
      expect((await closed.app.inject({ url: o.url, headers: auth(READ_TOKEN) })).statusCode, o.template).not.toBe(401);
      expect((await closed.app.inject({ url: o.url, headers: auth(WRITE_TOKEN) })).statusCode, o.template).not.toBe(401);
    }
    for (const url of ['/health/live', '/metrics', '/openapi.json', '/docs', '/docs/json', '/', '/status', '/status/app.js']) {
      expect((await closed.app.inject({ url })).statusCode, url).toBe(200);
    }
  });

  it('tokens never reach the logs, though requests are logged', async () => {
    const secret = 'Bearer-secret-that-must-not-leak-42';
    const t = closed;
    await t.app.inject({ method: 'PUT', url: '/v1/monitors/m', headers: auth(secret), payload: {} });
    await t.app.inject({ url: '/v1/drift', headers: auth(READ_TOKEN) });
    await t.app.inject({ method: 'PUT', url: '/v1/monitors/m', headers: auth(WRITE_TOKEN), payload: { features: [{ name: 'a' }] } });
    const logs = t.logs.join('');
    expect(logs).toMatch(/request completed/);
    expect(logs).toMatch(/configuration written/);
    for (const token of [secret, READ_TOKEN, WRITE_TOKEN]) expect(logs).not.toContain(token);
  });
});
