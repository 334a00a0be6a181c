import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type TestClickHouse } from '../../../support/stack.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { STATUS_JS } from '../../../../services/api/status/assets.js';

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

describe('status page', () => {
  it('serves the HTML shell at / and /status with the stable hooks and a strict CSP', async () => {
    for (const url of ['/', '/status']) {
      const r = await t.app.inject({ url });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(r.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
      for (const hook of [
        'id="dw-status"',
        'data-state="loading"',
        'id="dw-models"',
        'id="dw-error"',
        'id="dw-token"',
        'id="dw-token-save"',
        'id="dw-updated-at"',
        'src="/status/app.js"',
      ])
        expect(r.body).toContain(hook);
      expect(r.body).not.toMatch(/<script>[^<]/); // no inline script
    }
  });

  it('serves a script that parses, reads the query endpoints and renders only through textContent', async () => {
    const r = await t.app.inject({ url: '/status/app.js' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(() => new Script(r.body)).not.toThrow();
    for (const endpoint of ['/v1/models', '/v1/drift', '/v1/performance', '/v1/kpis', '/v1/alerts', '/v1/retrains']) expect(STATUS_JS).toContain(endpoint);
    for (const attr of ['data-panel', 'data-model', 'data-feature', 'data-drift', 'data-metric', 'data-kpi', 'data-alert-id', 'data-retrain-key'])
      expect(STATUS_JS).toContain(attr);
    expect(STATUS_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect((await t.app.inject({ url: '/status/app.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
  });
});
