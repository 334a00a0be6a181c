import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type TestClickHouse } from '../../../support/stack.js';
import { WRITE_TOKEN, auth, buildTestApp, type TestApp } from '../support/app.js';
import { seedMonitoring } from '../support/seed.js';
import { exportLinearModel } from '../../../../services/scoring/onnx-export.js';

let ch: TestClickHouse;
let t: TestApp;
let modelDir: string;

function model(name: string, intercept: number) {
  const m = exportLinearModel(
    { task: 'regression', features: [{ name: 'x', type: 'numeric', mean: 0, scale: 1, default: 0 }], weights: [2], intercept },
    { name },
  );
  return { onnx_base64: m.onnx.toString('base64'), metadata: m.metadata as unknown as Record<string, unknown> };
}

beforeAll(async () => {
  ch = await embeddedClickHouse();
  await seedMonitoring(ch.ch); // 'churn' is monitored but never registered
  modelDir = mkdtempSync(join(tmpdir(), 'dw-api-models-'));
  t = await buildTestApp(ch.ch, { MODEL_DIR: modelDir });
});
afterAll(async () => {
  await t?.close();
  await ch?.close();
  rmSync(modelDir, { recursive: true, force: true });
});

const post = (url: string, payload: object, headers = auth(WRITE_TOKEN)) => t.app.inject({ method: 'POST', url, payload, headers });

describe('models and versions', () => {
  it('registers versions through the scoring registry, lists them and their metadata', async () => {
    const r1 = await post('/v1/models/credit-risk/versions', { ...model('credit-risk', 1), promote_to: 'champion', reason: 'first' });
    expect(r1.statusCode).toBe(201);
    expect(r1.json()).toMatchObject({ version: { name: 'credit-risk', version: '1', task: 'regression' }, assignment: { champion: '1', challenger: null } });
    const r2 = await post('/v1/models/credit-risk/versions', { ...model('credit-risk', 2), version: '2' });
    expect(r2.statusCode).toBe(201);
    const dup = await post('/v1/models/credit-risk/versions', { ...model('credit-risk', 2), version: '2' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('DW_MODEL_VERSION_EXISTS');
    const broken = await post('/v1/models/credit-risk/versions', {
      onnx_base64: Buffer.from('not an onnx file').toString('base64'),
      metadata: model('credit-risk', 1).metadata,
    });
    expect(broken.statusCode).toBe(422);
    expect(broken.json().error.code).toBe('DW_MODEL_INVALID');

    const versions = (await t.app.inject({ url: '/v1/models/credit-risk/versions?limit=1' })).json();
    expect(versions.items.map((v: { version: string }) => v.version)).toEqual(['2']);
    const rest = (await t.app.inject({ url: `/v1/models/credit-risk/versions?limit=1&cursor=${versions.next_cursor}` })).json();
    expect(rest).toMatchObject({ items: [{ version: '1' }], next_cursor: null });
    const one = (await t.app.inject({ url: '/v1/models/credit-risk/versions/1' })).json();
    expect(one).toMatchObject({ version: '1', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), metadata: { name: 'credit-risk', task: 'regression' } });
    expect((await t.app.inject({ url: '/v1/models/credit-risk/versions/9' })).json().error.code).toBe('DW_MODEL_NOT_FOUND');
  });

  it('lists registered and monitored-only models', async () => {
    const list = (await t.app.inject({ url: '/v1/models' })).json();
    expect(list.items).toEqual([
      expect.objectContaining({ name: 'churn', registered: false, versions: 0, champion: null, last_window_start: expect.any(String) }),
      expect.objectContaining({ name: 'credit-risk', registered: true, versions: 2, latest_version: '2', champion: '1' }),
    ]);
    const churn = (await t.app.inject({ url: '/v1/models/churn' })).json();
    expect(churn).toMatchObject({ name: 'churn', registered: false, assignment: { champion: null } });
    const missing = await t.app.inject({ url: '/v1/models/nobody' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('DW_MODEL_NOT_FOUND');
  });

  it('promotes, rolls back and clears the challenger, recording the caller in the history', async () => {
    const p = await post('/v1/models/credit-risk/promotions', { action: 'promote', version: '2', role: 'challenger' });
    expect(p.json()).toEqual({ champion: '1', challenger: '2', previous_champion: null });
    const c = await post('/v1/models/credit-risk/promotions', { action: 'promote', version: '2', reason: 'better auc' });
    expect(c.json()).toEqual({ champion: '2', challenger: null, previous_champion: '1' });
    const rb = await post('/v1/models/credit-risk/promotions', { action: 'rollback' });
    expect(rb.json()).toEqual({ champion: '1', challenger: null, previous_champion: null });
    await post('/v1/models/credit-risk/promotions', { action: 'promote', version: '2', role: 'challenger' });
    expect((await post('/v1/models/credit-risk/promotions', { action: 'clear_challenger' })).json().challenger).toBeNull();
    const history = (await t.app.inject({ url: '/v1/models/credit-risk/promotions?limit=100' })).json();
    expect(history.items[0]).toMatchObject({ role: 'challenger', action: 'clear' });
    expect(history.items.map((h: { action: string }) => h.action)).toContain('rollback');
    expect(history.items.every((h: { actor: string }) => /^token:[0-9a-f]{8}$/.test(h.actor))).toBe(true);
    expect((await t.app.inject({ url: '/v1/models/credit-risk' })).json().assignment).toEqual({ champion: '1', challenger: null, previous_champion: null });
  });

  it('rejects bad role changes and unauthenticated writes', async () => {
    expect((await post('/v1/models/credit-risk/promotions', { action: 'promote' })).statusCode).toBe(400);
    expect((await post('/v1/models/credit-risk/promotions', { action: 'rollback', version: '1' })).statusCode).toBe(400);
    expect((await post('/v1/models/credit-risk/promotions', { action: 'promote', version: '7' })).statusCode).toBe(404);
    expect((await post('/v1/models/credit-risk/promotions', { action: 'promote', version: '1', role: 'challenger' })).statusCode).toBe(400); // the champion
    expect((await post('/v1/models/credit-risk/promotions', { action: 'demote', version: '1' })).statusCode).toBe(400);
    expect((await post('/v1/models/credit-risk/promotions', { action: 'rollback' }, {} as never)).statusCode).toBe(401);
    expect((await post('/v1/models/credit-risk/versions', model('credit-risk', 3), {} as never)).statusCode).toBe(401);
    expect((await post('/v1/models/credit-risk/versions', { ...model('credit-risk', 3), onnx_base64: '***' })).statusCode).toBe(400);
  });
});
