/**
 * Bounded fuzzing of the whole API through app.inject: a seeded PRNG (lib/stats/random.ts mulberry32)
 * generates thousands of random and malformed requests: every documented operation with mangled
 * path parameters, query strings, headers, content types and bodies (mutated valid bodies, truncated
 * JSON, binary noise, injection strings), plus random paths and methods. Against real ClickHouse with
 * real data, none may produce a 5xx or crash the process. The seed is fixed so a failure reproduces;
 * the failing request is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32, randInt, type Rng } from '../../../lib/stats/random.js';
import { embeddedClickHouse, queryRows, type TestClickHouse } from '../../support/stack.js';
import { WRITE_TOKEN, READ_TOKEN, buildTestApp, type TestApp } from './support/app.js';
import { seedMonitoring, seedRawPredictions } from './support/seed.js';
import { operations, type Operation } from './support/routes.js';

const REQUESTS = 5000;
const SEED = Number(process.env.DW_FUZZ_SEED ?? 20240501);

let ch: TestClickHouse;
let t: TestApp;
let ops: Operation[];

beforeAll(async () => {
  ch = await embeddedClickHouse();
  await seedMonitoring(ch.ch);
  await seedRawPredictions(ch.ch, 'credit-risk', '1', 50);
  t = await buildTestApp(ch.ch, { API_READ_TOKENS: READ_TOKEN, API_BODY_LIMIT_BYTES: '65536', API_QUERY_MAX_LIMIT: '200' });
  // /health/ready answers 503 by contract when a dependency is down (here: the default namespace's
  // topics do not exist); it is exercised in routes/health.test.ts and the integration tests.
  ops = (await operations(t.app)).filter((o) => o.template !== '/health/ready');
});
afterAll(async () => {
  await t?.close();
  await ch?.close();
});

const NASTY = [
  "' OR 1=1 --",
  "'; DROP TABLE drift_metrics; --",
  '{model:String}',
  '\\',
  '"',
  '%00',
  '\u0000',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${7*7}',
  '-1',
  '0',
  '1e309',
  'NaN',
  '9'.repeat(40),
  'ñ漢字🙂',
  '',
  ' ',
  'true',
  'null',
  '[]',
  '{}',
  'latest',
  'credit-risk',
  '1',
  '2024-05-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  'x'.repeat(300),
];
const QUERY_KEYS = [
  'model',
  'version',
  'segment',
  'feature',
  'metric',
  'method',
  'kind',
  'shadow',
  'drifted',
  'severity',
  'status',
  'rule',
  'policy',
  'decision',
  'code',
  'topic',
  'component',
  'from',
  'to',
  'limit',
  'cursor',
  'order',
  'source',
  'junk',
];
const TYPES = [
  'application/json',
  'text/csv',
  'application/x-ndjson',
  'application/jsonl',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'garbage',
];

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[randInt(rng, xs.length)]!;

function randomString(rng: Rng): string {
  if (rng() < 0.6) return pick(rng, NASTY);
  const n = randInt(rng, 40);
  let s = '';
  // Any BMP code point except lone surrogates (which no URL or JSON encoder can carry).
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng() < 0.9 ? 32 + randInt(rng, 95) : (randInt(rng, 0xd800 + 0x1fff) + 0x800) % 0xd800 || 1);
  return s;
}

function randomValue(rng: Rng, depth = 0): unknown {
  const r = rng();
  if (r < 0.2) return randomString(rng);
  if (r < 0.35) return (rng() - 0.5) * 10 ** randInt(rng, 20);
  if (r < 0.45) return randInt(rng, 10);
  if (r < 0.5) return rng() < 0.5;
  if (r < 0.55) return null;
  if (depth > 3) return 1;
  if (r < 0.75) return Array.from({ length: randInt(rng, 4) }, () => randomValue(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = randInt(rng, 5); i > 0; i--)
    o[
      pick(rng, [
        'features',
        'name',
        'method',
        'threshold',
        'kind',
        'model',
        'conditions',
        'action',
        'version',
        'role',
        'from',
        'to',
        'segment',
        'onnx_base64',
        'metadata',
        '__proto__',
        'constructor',
        randomString(rng),
      ])
    ] = randomValue(rng, depth + 1);
  return o;
}

/** Valid bodies, to be mutated so the fuzzer also reaches deep validation and the handlers. */
const VALID: unknown[] = [
  { features: [{ name: 'age', kind: 'numeric', method: 'psi', threshold: 0.2 }] },
  { model: 'credit-risk', conditions: [{ kind: 'drift', metric: 'drifted_share', comparator: 'gte', threshold: 0.3 }] },
  { action: 'promote', version: '1', role: 'champion' },
  { from: '2024-05-01T00:00:00Z', to: String(Date.now()) },
];

function mutate(rng: Rng, v: unknown): unknown {
  if (v === null || typeof v !== 'object') return rng() < 0.3 ? randomValue(rng) : v;
  if (Array.isArray(v)) return v.map((x) => mutate(rng, x));
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (rng() > 0.1) o[k] = mutate(rng, x);
  if (rng() < 0.2) o[randomString(rng)] = randomValue(rng);
  return o;
}

function randomBody(rng: Rng): { payload: string | Buffer; type: string } | undefined {
  const r = rng();
  if (r < 0.15) return undefined;
  if (r < 0.45) return { payload: JSON.stringify(mutate(rng, pick(rng, VALID))), type: 'application/json' };
  if (r < 0.6) return { payload: JSON.stringify(randomValue(rng)), type: pick(rng, TYPES) };
  if (r < 0.7) {
    const text = JSON.stringify(mutate(rng, pick(rng, VALID)));
    return { payload: text.slice(0, randInt(rng, text.length)), type: 'application/json' };
  }
  if (r < 0.85) {
    const cols = Array.from({ length: 1 + randInt(rng, 4) }, () => randomString(rng).replace(/[\r\n]/g, ''));
    const lines = [cols.join(',')];
    for (let i = randInt(rng, 20); i > 0; i--) lines.push(cols.map(() => (rng() < 0.5 ? String(rng() * 100) : randomString(rng))).join(','));
    return { payload: lines.join(rng() < 0.5 ? '\n' : '\r\n'), type: pick(rng, ['text/csv', 'application/x-ndjson']) };
  }
  const bytes = Buffer.alloc(randInt(rng, rng() < 0.05 ? 100_000 : 2000));
  for (let i = 0; i < bytes.length; i++) bytes[i] = randInt(rng, 256);
  return { payload: bytes, type: pick(rng, TYPES) };
}

function randomUrl(rng: Rng): string {
  let path: string;
  if (rng() < 0.85) {
    const op = pick(rng, ops);
    path = op.template.replace(/\{(\w+)\}/g, () => encodeURIComponent(rng() < 0.5 ? pick(rng, ['credit-risk', '1', 'latest', 'churn']) : randomString(rng)));
  } else {
    path = `/${Array.from({ length: randInt(rng, 5) }, () => encodeURIComponent(randomString(rng))).join('/')}`;
  }
  const params: string[] = [];
  for (let i = randInt(rng, 6); i > 0; i--) {
    const key = pick(rng, QUERY_KEYS);
    params.push(`${rng() < 0.9 ? key : encodeURIComponent(randomString(rng))}=${encodeURIComponent(randomString(rng))}`);
  }
  return params.length > 0 ? `${path}?${params.join('&')}` : path;
}

describe('fuzz', () => {
  it(`${REQUESTS} random and malformed requests: no 5xx, no crash`, async () => {
    const rng = mulberry32(SEED);
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const body = randomBody(rng);
      const headers: Record<string, string> = {};
      const a = rng();
      if (a < 0.5) headers.authorization = `Bearer ${WRITE_TOKEN}`;
      else if (a < 0.7) headers.authorization = `Bearer ${READ_TOKEN}`;
      else if (a < 0.8) headers.authorization = randomString(rng).replace(/[^\x20-\x7e]/g, '');
      if (body) headers['content-type'] = rng() < 0.9 ? body.type : pick(rng, TYPES);
      if (rng() < 0.05) headers['if-match'] = randomString(rng).replace(/[^\x20-\x7e]/g, '');
      const method = rng() < 0.9 ? pick(rng, ['GET', 'GET', 'POST', 'PUT', 'DELETE'] as const) : pick(rng, ['PATCH', 'HEAD', 'OPTIONS'] as const);
      const request = { method, url: randomUrl(rng), headers, ...(body && method !== 'GET' && method !== 'HEAD' ? { payload: body.payload } : {}) };
      const r = await t.app.inject(request);
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
      if (r.statusCode >= 500) {
        throw new Error(
          `request ${i} got ${r.statusCode}: ${JSON.stringify({ ...request, payload: String(request.payload ?? '').slice(0, 300) })} -> ${r.body.slice(0, 500)}`,
        );
      }
    }
    // The generator reaches handlers (2xx), validation (400), auth (401), routing (404) and media checks (415).
    for (const s of [200, 400, 401, 404, 415]) expect(statuses.get(s) ?? 0, `status ${s}: ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
    expect((await t.app.inject({ url: '/health/live' })).statusCode).toBe(200);
    // Injection strings in filters changed nothing: every seeded table is intact.
    const [row] = await queryRows<{ n: number }>(ch.ch, 'SELECT count() AS n FROM drift_metrics FINAL');
    expect(Number(row?.n)).toBe(36);
  });
});
