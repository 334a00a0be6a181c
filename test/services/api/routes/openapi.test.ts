import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type TestClickHouse } from '../../../support/stack.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { operations } from '../support/routes.js';

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

describe('OpenAPI document', () => {
  it('is generated from the route schemas: every registered API route is an operation with closed, bounded inputs', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ops = await operations(t.app);
    for (const path of [
      '/v1/drift',
      '/v1/drift/summary',
      '/v1/data-quality',
      '/v1/performance',
      '/v1/kpis',
      '/v1/alerts',
      '/v1/retrains',
      '/v1/retrains/decisions',
      '/v1/retrains/runs',
      '/v1/dead-letters',
      '/v1/models',
      '/v1/monitors',
      '/v1/policies',
    ]) {
      expect(t.app.hasRoute({ method: 'GET', url: path }), path).toBe(true);
      expect(
        ops.some((o) => o.template === path && o.method === 'GET'),
        path,
      ).toBe(true);
    }
    expect(
      ops
        .filter((o) => o.method !== 'GET')
        .map((o) => `${o.method} ${o.template}`)
        .sort(),
    ).toEqual([
      'DELETE /v1/monitors/{name}',
      'DELETE /v1/policies/{name}',
      'POST /v1/models/{model}/promotions',
      'POST /v1/models/{model}/versions',
      'POST /v1/models/{model}/versions/{version}/references',
      'POST /v1/models/{model}/versions/{version}/references/from-range',
      'PUT /v1/monitors/{name}',
      'PUT /v1/policies/{name}',
    ]);
    for (const [path, methods] of Object.entries(
      doc.paths as Record<
        string,
        Record<
          string,
          {
            parameters?: Array<{ in: string; schema: Record<string, unknown> }>;
            requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
            responses: Record<string, unknown>;
          }
        >
      >,
    )) {
      for (const [method, op] of Object.entries(methods)) {
        for (const p of op.parameters ?? []) {
          const s = p.schema;
          const bounded = s.enum || s.maximum !== undefined || s.maxLength !== undefined || s.anyOf || s.type === 'boolean';
          expect(bounded, `${method} ${path} ${p.in}`).toBeTruthy();
        }
        for (const c of Object.values(op.requestBody?.content ?? {})) {
          if (c.schema.type === 'object') expect(c.schema.additionalProperties, `${method} ${path} body`).toBe(false);
        }
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
  });

  it('docs/api.md lists every operation of the document', async () => {
    const doc = readFileSync(new URL('../../../../docs/api.md', import.meta.url), 'utf8');
    for (const o of await operations(t.app))
      expect(doc, `${o.method} ${o.template}`).toMatch(new RegExp(`\\|\\s*${o.method}\\s*\\|[^\\n]*\`${o.template.replace(/[{}]/g, '\\$&')}\``));
  });

  it('serves the browsable docs at /docs', async () => {
    const r = await t.app.inject({ url: '/docs/' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatch(/swagger/i);
    expect((await t.app.inject({ url: '/docs/json' })).json().info.title).toBe('driftwatch monitoring API');
  });
});
