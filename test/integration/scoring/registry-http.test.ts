/**
 * The model registry (real embedded ClickHouse + MODEL_DIR on disk + onnxruntime) through its HTTP
 * routes (app.inject) and its CLI, and POST /v1/predict validation with the single error handler.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { buildScoringApp } from '../../../services/scoring/http/app.js';
import { runCli, UsageError } from '../../../services/scoring/cli.js';
import { createModelRegistry, type ModelRegistry } from '../../../services/scoring/model-registry.js';
import { createScorer, type Scorer } from '../../../services/scoring/scorer.js';
import { decodeOutputs, encodeDense, requiredOutputs } from '../../../services/scoring/tensor-codec.js';
import type { ModelMetadata } from '../../../services/scoring/model-metadata.js';
import { embeddedClickHouse, queryRows, testLogger, type TestClickHouse } from '../../support/stack.js';
import { sampleModel } from './helpers.js';

const WRITE = { authorization: 'Bearer w-token' };
let tch: TestClickHouse;
let modelDir: string;
let registry: ModelRegistry;
let scorer: Scorer;
let app: FastifyInstance;

beforeAll(async () => {
  tch = await embeddedClickHouse();
  modelDir = mkdtempSync(join(tmpdir(), 'dw-models-'));
  registry = createModelRegistry(tch.ch, { modelDir });
  const metrics = createMetrics('scoring');
  scorer = createScorer({ registry, logger: testLogger, metrics, fallback: ['previous_version', 'default_score'] });
  app = await buildScoringApp({
    scorer,
    registry,
    logger: testLogger,
    metrics,
    bodyLimitBytes: 200_000,
    maxInstances: 50,
    writeTokens: ['w-token'],
    readTokens: [],
  });
});
afterAll(async () => {
  await app?.close();
  await scorer?.close();
  await tch?.close();
  rmSync(modelDir, { recursive: true, force: true });
});

const registerBody = (name: string, version: string | undefined, extra: Record<string, unknown> = {}) => {
  const m = sampleModel(name, version && version !== '9' ? version : '1');
  return { metadata: m.metadata, onnx_base64: m.onnx.toString('base64'), ...(version ? { version } : {}), ...extra };
};

async function ortScore(name: string, version: string, features: Record<string, unknown>): Promise<number> {
  const m = sampleModel(name, version);
  const meta = m.metadata as unknown as ModelMetadata;
  const s = await ort.InferenceSession.create(m.onnx);
  const out = await s.run({ X: new ort.Tensor('float32', encodeDense(meta, [features as never]).data, [1, meta.features.length]) }, requiredOutputs(meta));
  await s.release();
  return decodeOutputs(meta, out as never, 1)[0]!.score;
}

const creditFeatures = { income: 48000, age: 35, debt_ratio: 0.4, credit_lines: 4, utilization: 0.7, region: 'south', device: 'mobile' };

describe('model registry over HTTP', () => {
  it('registers a version (files on disk, indexed in ClickHouse) and promotes it', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/versions',
      headers: WRITE,
      payload: registerBody('credit-risk', '1', { promote: 'champion', reason: 'first' }),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      name: 'credit-risk',
      version: '1',
      champion: '1',
      challenger: null,
      task: 'classification',
      path: 'credit-risk/1/model.onnx',
    });
    expect(readFileSync(join(modelDir, 'credit-risk/1/model.onnx')).equals(sampleModel('credit-risk', '1').onnx)).toBe(true);
    expect(JSON.parse(readFileSync(join(modelDir, 'credit-risk/1/metadata.json'), 'utf8')).name).toBe('credit-risk');
    const rows = await queryRows(tch.ch, "SELECT model_version, task, length(sha256) AS l FROM model_versions FINAL WHERE model_name = 'credit-risk'");
    expect(rows).toEqual([{ model_version: '1', task: 'classification', l: 64 }]);
    const promotions = await queryRows(tch.ch, "SELECT role, model_version, action, actor, reason FROM model_promotions WHERE model_name = 'credit-risk'");
    expect(promotions).toEqual([{ role: 'champion', model_version: '1', action: 'promote', actor: 'api', reason: 'first' }]);
  });

  it('gives the next integer version when none is named, and refuses to overwrite a version (409)', async () => {
    const auto = await app.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/versions',
      headers: WRITE,
      payload: { ...registerBody('credit-risk', '2'), version: undefined },
    });
    expect(auto.statusCode, auto.body).toBe(201);
    expect(auto.json().version).toBe('2');
    const dup = await app.inject({ method: 'POST', url: '/v1/models/credit-risk/versions', headers: WRITE, payload: registerBody('credit-risk', '2') });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'DW_MODEL_VERSION_EXISTS', message: expect.stringContaining('already has version 2') });
  });

  it('refuses an unloadable ONNX file or bad metadata with 422 and stores nothing', async () => {
    const corrupt = await app.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/versions',
      headers: WRITE,
      payload: { ...registerBody('credit-risk', '9'), onnx_base64: Buffer.from('garbage bytes').toString('base64') },
    });
    expect(corrupt.statusCode).toBe(422);
    expect(corrupt.json()).toMatchObject({ code: 'DW_MODEL_INVALID', message: expect.stringContaining('onnxruntime cannot load') });
    const meta = { ...sampleModel('credit-risk', '1').metadata, outputs: { score: { tensor: 'no_such_output' } } };
    const mismatch = await app.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/versions',
      headers: WRITE,
      payload: { ...registerBody('credit-risk', '9'), metadata: meta },
    });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().message).toMatch(/metadata output "no_such_output" is not a model output/);
    const badMeta = await app.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/versions',
      headers: WRITE,
      payload: { ...registerBody('credit-risk', '9'), metadata: { format: 1 } },
    });
    expect(badMeta.statusCode).toBe(422);
    expect(badMeta.json().details.problems).toContain('features: expected a non-empty array');
    expect(existsSync(join(modelDir, 'credit-risk/9'))).toBe(false);
    expect((await registry.listVersions('credit-risk')).map((v) => v.version)).toEqual(['1', '2']);
  });

  it('requires a write token for registry writes', async () => {
    const none = await app.inject({ method: 'POST', url: '/v1/models/credit-risk/promote', payload: { version: '2' } });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('DW_UNAUTHORIZED');
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/promote',
      headers: { authorization: 'Bearer nope' },
      payload: { version: '2' },
    });
    expect(wrong.statusCode).toBe(401);
    // Same length as the real token, and a prefix of it: refused by the shared constant-time check (lib/runtime/auth.ts).
    for (const token of ['w-tokem', 'w-toke']) {
      const near = await app.inject({
        method: 'POST',
        url: '/v1/models/credit-risk/promote',
        headers: { authorization: `Bearer ${token}` },
        payload: { version: '2' },
      });
      expect(near.statusCode, token).toBe(401);
    }
    // The scheme is case-insensitive (RFC 6750): a lowercase "bearer" with the right token passes auth and reaches the route.
    const lower = await app.inject({
      method: 'POST',
      url: '/v1/models/no-such-model/promote',
      headers: { authorization: 'bearer w-token' },
      payload: { version: '2' },
    });
    expect(lower.statusCode).toBe(404);
  });

  it('scores synchronously with the champion, then follows promote, rollback and the challenger', async () => {
    const predict = () =>
      app.inject({ method: 'POST', url: '/v1/predict', payload: { model: 'credit-risk', instances: [{ features: creditFeatures, prediction_id: 'p-1' }] } });
    const r1 = await predict();
    expect(r1.statusCode, r1.body).toBe(200);
    const p1 = r1.json().predictions[0];
    expect(p1).toMatchObject({ prediction_id: 'p-1', model_version: '1', fallback: null });
    expect(p1.score).toBeCloseTo(await ortScore('credit-risk', '1', creditFeatures), 6);
    expect(p1.probabilities['0'] + p1.probabilities['1']).toBeCloseTo(1, 6);

    const promoted = await app.inject({
      method: 'POST',
      url: '/v1/models/credit-risk/promote',
      headers: WRITE,
      payload: { version: '2', reason: 'better AUC' },
    });
    expect(promoted.json()).toMatchObject({ champion: '2', previous_champion: '1' });
    const r2 = (await predict()).json().predictions[0];
    expect(r2.model_version).toBe('2');
    expect(r2.score).toBeCloseTo(await ortScore('credit-risk', '2', creditFeatures), 6);

    const rolled = await app.inject({ method: 'POST', url: '/v1/models/credit-risk/rollback', headers: WRITE, payload: { reason: 'regression in prod' } });
    expect(rolled.json()).toMatchObject({ champion: '1', rolled_back_from: '2' });
    expect((await predict()).json().predictions[0].model_version).toBe('1');
    const noFurther = await app.inject({ method: 'POST', url: '/v1/models/credit-risk/rollback', headers: WRITE, payload: {} });
    expect(noFurther.statusCode).toBe(400);
    expect(noFurther.json().message).toMatch(/no previous champion/);

    const ch = await app.inject({ method: 'POST', url: '/v1/models/credit-risk/promote', headers: WRITE, payload: { version: '2', role: 'challenger' } });
    expect(ch.json()).toMatchObject({ champion: '1', challenger: '2' });
    // Shadow predictions are published, not returned: the response holds the served one only.
    expect((await predict()).json().predictions).toHaveLength(1);
    const detail = (await app.inject({ method: 'GET', url: '/v1/models/credit-risk' })).json();
    expect(detail).toMatchObject({ champion: '1', challenger: '2', serving: { challenger: { version: '2', loaded: true } } });
    expect(detail.history.map((h: { action: string; version: string }) => `${h.action}:${h.version}`)).toEqual([
      'promote:1',
      'promote:2',
      'rollback:1',
      'promote:2',
    ]);
    const cleared = await app.inject({ method: 'DELETE', url: '/v1/models/credit-risk/challenger', headers: WRITE });
    expect(cleared.json()).toMatchObject({ champion: '1', challenger: null });
    const list = (await app.inject({ method: 'GET', url: '/v1/models' })).json();
    expect(list.models).toEqual([{ name: 'credit-risk', versions: 2, latestVersion: '2', champion: '1', challenger: null }]);
  });
});

describe('POST /v1/predict validation (4xx with a reason)', () => {
  const cases: Array<[string, Record<string, unknown>, number, string, RegExp]> = [
    ['missing model', { instances: [{ features: {} }] }, 400, 'DW_INVALID_REQUEST', /must have required property 'model'/],
    ['no instances', { model: 'credit-risk', instances: [] }, 400, 'DW_INVALID_REQUEST', /instances must NOT have fewer than 1 items/],
    [
      'too many instances',
      { model: 'credit-risk', instances: Array.from({ length: 51 }, () => ({ features: {} })) },
      400,
      'DW_INVALID_REQUEST',
      /must NOT have more than 50 items/,
    ],
    [
      'unknown field',
      { model: 'credit-risk', instances: [{ features: {}, colour: 'red' }] },
      400,
      'DW_INVALID_REQUEST',
      /must NOT have additional properties \(colour\)/,
    ],
    [
      'object as feature value',
      { model: 'credit-risk', instances: [{ features: { income: { a: 1 } } }] },
      400,
      'DW_INVALID_REQUEST',
      /features\/income must be number,string,boolean,null/,
    ],
    [
      'wrong feature type for the model',
      { model: 'credit-risk', instances: [{ features: { ...creditFeatures, income: 'lots' } }] },
      400,
      'DW_INVALID_REQUEST',
      /instances\[0\]\.features\.income: expected a number, got string/,
    ],
    ['unknown model', { model: 'no-such-model', instances: [{ features: {} }] }, 404, 'DW_MODEL_NOT_FOUND', /no-such-model/],
    ['bad model name', { model: 'Bad Name', instances: [{ features: {} }] }, 400, 'DW_INVALID_REQUEST', /model must match pattern/],
  ];
  for (const [what, payload, status, code, reason] of cases) {
    it(`${what} -> ${status} ${code}`, async () => {
      const res = await app.inject({ method: 'POST', url: '/v1/predict', payload });
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().code).toBe(code);
      expect(res.json().message).toMatch(reason);
    });
  }

  it('invalid JSON -> 400 DW_INVALID_JSON', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'application/json' }, payload: '{"model": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('DW_INVALID_JSON');
  });

  it('wrong content type -> 415, oversized body -> 413, unknown route -> 404', async () => {
    const text = await app.inject({ method: 'POST', url: '/v1/predict', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(text.statusCode).toBe(415);
    expect(text.json().code).toBe('DW_UNSUPPORTED_MEDIA_TYPE');
    const big = await app.inject({
      method: 'POST',
      url: '/v1/predict',
      payload: { model: 'credit-risk', instances: [{ features: { blob: 'x'.repeat(300_000) } }] },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('DW_PAYLOAD_TOO_LARGE');
    const nope = await app.inject({ method: 'GET', url: '/v1/nope' });
    expect(nope.statusCode).toBe(404);
    expect(nope.json()).toEqual({ code: 'DW_NOT_FOUND', message: 'no route GET /v1/nope' });
  });

  it('imputes missing features (not an error) and serves /metrics and health', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/predict',
      payload: { model: 'credit-risk', instances: [{ features: { income: null } }, { features: creditFeatures }] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().predictions).toHaveLength(2);
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/driftwatch_scoring_predictions_total\{model="credit-risk",version="1",role="served",component="scoring"\} \d+/);
  });
});

describe('registry CLI', () => {
  it('registers from a version directory, promotes, rolls back and lists', async () => {
    const dir = new URL('../../../models/delivery-eta/1', import.meta.url).pathname;
    const reg = (await runCli(['register', 'delivery-eta', '--dir', dir, '--promote', 'champion'], registry, 'cli:test')) as {
      registered: { version: string };
      champion: string;
    };
    expect(reg).toMatchObject({ registered: { version: '1' }, champion: '1' });
    const onnx = join(dir, 'model.onnx');
    const meta = join(dir, 'metadata.json');
    expect(await runCli(['register', 'delivery-eta', '--onnx', onnx, '--metadata', meta], registry)).toMatchObject({
      registered: { version: '2' },
      champion: '1',
    });
    expect(await runCli(['promote', 'delivery-eta', '2'], registry)).toMatchObject({ champion: '2', previousChampion: '1' });
    expect(await runCli(['rollback', 'delivery-eta', '--reason', 'test'], registry)).toMatchObject({ champion: '1', rolledBackFrom: '2' });
    expect(await runCli(['promote', 'delivery-eta', '2', '--role', 'challenger'], registry)).toMatchObject({ champion: '1', challenger: '2' });
    expect(await runCli(['clear-challenger', 'delivery-eta'], registry)).toMatchObject({ challenger: null });
    expect(await runCli(['list', 'delivery-eta'], registry)).toMatchObject({ champion: '1', versions: [{ version: '1' }, { version: '2' }] });
    const history = await registry.history('delivery-eta');
    expect(history[0]).toMatchObject({ actor: 'cli:test', action: 'promote', model_version: '1' });
  });

  it('reports usage errors and registry errors', async () => {
    await expect(runCli(['promote', 'delivery-eta'], registry)).rejects.toBeInstanceOf(UsageError);
    await expect(runCli(['frobnicate'], registry)).rejects.toThrow(/unknown command frobnicate/);
    await expect(runCli(['promote', 'delivery-eta', '42'], registry)).rejects.toMatchObject({ code: 'DW_MODEL_NOT_FOUND' });
  });
});
