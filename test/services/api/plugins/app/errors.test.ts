import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigInvalidError, ERROR_CATALOGUE, type DriftwatchError } from '../../../../../lib/runtime/errors.js';
import errors, { toCatalogueError } from '../../../../../services/api/plugins/app/errors.js';
import { captureLogger } from '../../support/app.js';

// A bare fastify instance with only the error plugin: each route throws one kind of failure.
let app: FastifyInstance;
let logs: string[];

function instance(cls: (typeof ERROR_CATALOGUE)[number]): DriftwatchError {
  return cls === ConfigInvalidError
    ? new ConfigInvalidError(['secret-detail'])
    : new (cls as unknown as new (m: string) => DriftwatchError)('secret-detail in message');
}

beforeAll(async () => {
  const cap = captureLogger();
  logs = cap.lines;
  app = Fastify({ loggerInstance: cap.logger, bodyLimit: 1024, ajv: { customOptions: { removeAdditional: false } } }) as unknown as FastifyInstance;
  await app.register(errors);
  app.get('/throw/:i', async (req) => {
    throw instance(ERROR_CATALOGUE[Number((req.params as { i: string }).i)]!);
  });
  app.get('/bug', async () => {
    throw new TypeError('cannot read property x of undefined at /srv/secret/path.ts:12');
  });
  app.post(
    '/echo',
    { schema: { body: { type: 'object', additionalProperties: false, properties: { n: { type: 'integer', maximum: 5 } } } } },
    async (req) => req.body,
  );
  await app.ready();
});
afterAll(async () => app?.close());

describe('error handler', () => {
  it('maps every catalogue code to its httpStatus, and hides 5xx details', async () => {
    for (let i = 0; i < ERROR_CATALOGUE.length; i++) {
      const cls = ERROR_CATALOGUE[i]!;
      const r = await app.inject({ url: `/throw/${i}` });
      expect({ code: cls.code, status: r.statusCode }).toEqual({ code: cls.code, status: cls.httpStatus });
      const body = r.json();
      expect(body.error.code).toBe(cls.code);
      expect(body.error.request_id).toEqual(expect.any(String));
      if (cls.httpStatus >= 500) expect(r.body).not.toContain('secret-detail');
      else expect(body.error.message).toContain('secret-detail');
    }
  });

  it('turns an unexpected exception into a bare 500 and logs it with the request id', async () => {
    const r = await app.inject({ url: '/bug' });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: { code: 'DW_INTERNAL', message: 'internal error', request_id: expect.any(String) } });
    const line = logs.find((l) => l.includes('cannot read property x'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).reqId).toBe(r.json().error.request_id);
  });

  it('maps fastify failures: validation 400 with problems, 413, 415, malformed JSON 400, unknown route 404', async () => {
    const v = await app.inject({ method: 'POST', url: '/echo', payload: { n: 9, extra: 1 } });
    expect(v.statusCode).toBe(400);
    expect(v.json().error).toMatchObject({ code: 'DW_INVALID_REQUEST', problems: [expect.stringMatching(/^body /)] });
    const big = await app.inject({ method: 'POST', url: '/echo', payload: { n: 1, pad: 'x'.repeat(2000) } });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('DW_PAYLOAD_TOO_LARGE');
    const media = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/x-whatever' }, payload: 'x' });
    expect(media.statusCode).toBe(415);
    expect(media.json().error.code).toBe('DW_UNSUPPORTED_MEDIA_TYPE');
    const bad = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"n":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('DW_INVALID_REQUEST');
    const missing = await app.inject({ url: '/no/such/route?x=<script>' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('DW_NOT_FOUND');
    expect(missing.body).not.toContain('<script>');
  });

  it('classifies thrown values that are not errors at all', () => {
    expect(toCatalogueError('a string').httpStatus).toBe(500);
    expect(toCatalogueError(null).httpStatus).toBe(500);
    expect(toCatalogueError({ statusCode: 401 }).code).toBe('DW_UNAUTHORIZED');
    expect(toCatalogueError({ statusCode: 418, message: 'teapot' }).code).toBe('DW_INVALID_REQUEST');
  });
});
