/**
 * Scorer semantics (hot swap between batches, shadow, fallback chain) with real onnxruntime sessions
 * and real exported models, over an in-memory registry (the ClickHouse-backed registry has its own
 * integration test).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FeatureEvent } from '../../../lib/contracts/schemas.js';
import { ClickHouseUnavailableError, InvalidRequestError, ModelLoadError, ModelNotFoundError } from '../../../lib/runtime/errors.js';
import { createLogger } from '../../../lib/runtime/logger.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { predictLinear, type LinearModelSpec } from '../../../services/scoring/linear-model.js';
import type { ModelRegistry, ModelVersionInfo } from '../../../services/scoring/model-registry.js';
import { exportLinearModel } from '../../../services/scoring/onnx-export.js';
import { resolveAssignment, type PromotionRow } from '../../../services/scoring/promotions.js';
import { createScorer } from '../../../services/scoring/scorer.js';

const logger = createLogger('test', 'silent');

const spec = (w: number): LinearModelSpec => ({
  task: 'classification',
  classes: ['0', '1'],
  features: [
    { name: 'x', type: 'numeric', mean: 0, scale: 1, default: 0 },
    { name: 'r', type: 'categorical', categories: ['a', 'b'], default: 'a' },
  ],
  weights: [w, 0.5, -0.5],
  intercept: 0.1,
});

class MemoryRegistry {
  files = new Map<string, Buffer>();
  infos = new Map<string, ModelVersionInfo>();
  rows: PromotionRow[] = [];
  failLookups = 0;
  t = 0;
  add(version: string, s: LinearModelSpec, defaultScore?: number) {
    const { onnx, metadata } = exportLinearModel(s, { name: 'm', ...(defaultScore !== undefined ? { defaultScore } : {}) });
    this.files.set(version, onnx);
    this.infos.set(version, {
      name: 'm',
      version,
      registeredAt: 0,
      path: `m/${version}/model.onnx`,
      sha256: createHash('sha256').update(onnx).digest('hex'),
      task: 'classification',
      metadata,
    });
  }
  promote(version: string, role: 'champion' | 'challenger' = 'champion') {
    this.rows.push({ model_name: 'm', role, model_version: version, action: 'promote', at_ms: ++this.t, actor: 't', reason: '' });
  }
  corrupt(version: string) {
    this.files.set(version, Buffer.from('not an onnx file'));
  }
  api(): ModelRegistry {
    const assignment = async (name: string) => {
      if (this.failLookups > 0) {
        this.failLookups--;
        throw new ClickHouseUnavailableError('down');
      }
      return resolveAssignment(this.rows.filter((r) => r.model_name === name));
    };
    return {
      modelDir: '/nowhere',
      assignment,
      assignments: async (names) => new Map(await Promise.all((names ?? ['m']).map(async (n) => [n, await assignment(n)] as const))),
      getVersion: async (_n, v) => {
        const i = this.infos.get(v);
        if (!i) throw new ModelNotFoundError(`no ${v}`);
        return i;
      },
      readModelFile: async (info) => {
        const b = this.files.get(info.version)!;
        if (createHash('sha256').update(b).digest('hex') !== info.sha256) throw new ModelLoadError(`${info.version} is corrupt`);
        return b;
      },
    } as ModelRegistry;
  }
}

const events = (n: number, model = 'm', from = 0): FeatureEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    event_id: `e${from + i}`,
    model_name: model,
    entity_id: `u${i}`,
    prediction_id: i % 2 ? `p${from + i}` : null,
    event_time: 1000 + i,
    features: { x: i / 10, r: i % 3 === 0 ? 'b' : 'a' },
    segment: { r: 'a' },
  }));

describe('scorer', () => {
  it('serves the champion with predictions matching the model formula', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.promote('1');
    const scorer = createScorer({ registry: reg.api(), logger, fallback: ['previous_version', 'default_score'] });
    const evs = events(5);
    const out = await scorer.scoreEvents(evs);
    out.forEach((o, i) => {
      expect(o.predictions).toHaveLength(1);
      const p = o.predictions![0]!;
      expect(p).toMatchObject({
        model_name: 'm',
        model_version: '1',
        is_shadow: false,
        fallback: null,
        prediction_id: evs[i]!.prediction_id ?? evs[i]!.event_id,
        segment: { r: 'a' },
      });
      expect(p.score).toBeCloseTo(predictLinear(spec(1), evs[i]!.features), 5);
    });
    await scorer.close();
  });

  it('shadow-scores every event with the challenger, flagged is_shadow', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.add('2', spec(-2));
    reg.promote('1');
    reg.promote('2', 'challenger');
    const metrics = createMetrics('test');
    const scorer = createScorer({ registry: reg.api(), logger, metrics, fallback: [] });
    const evs = events(4);
    const out = await scorer.scoreEvents(evs);
    for (const [i, o] of out.entries()) {
      const [served, shadow] = o.predictions!;
      expect(served).toMatchObject({ model_version: '1', is_shadow: false, event_id: `e${i}:1` });
      expect(shadow).toMatchObject({ model_version: '2', is_shadow: true, event_id: `e${i}:2:shadow`, prediction_id: served!.prediction_id, fallback: null });
      expect(shadow!.score).toBeCloseTo(predictLinear(spec(-2), evs[i]!.features), 5);
    }
    const counted = await metrics.scoringPredictions.get();
    expect(counted.values.map((v) => [v.labels.role, v.labels.version, v.value])).toEqual([
      ['served', '1', 4],
      ['shadow', '2', 4],
    ]);
    await scorer.close();
  });

  it('swaps versions between batches: a batch already running keeps its version, the next uses the new one', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.add('2', spec(3));
    reg.promote('1');
    const scorer = createScorer({ registry: reg.api(), logger, fallback: [] });
    await scorer.scoreEvents(events(1)); // load v1
    const inFlight = scorer.scoreEvents(events(50, 'm', 100));
    reg.promote('2');
    const swapped = scorer.refresh();
    const first = await inFlight;
    await swapped;
    const second = await scorer.scoreEvents(events(50, 'm', 200));
    expect(new Set(first.map((o) => o.predictions![0]!.model_version))).toEqual(new Set(['1']));
    expect(new Set(second.map((o) => o.predictions![0]!.model_version))).toEqual(new Set(['2']));
    expect(scorer.state()[0]).toMatchObject({ champion: { version: '2', loaded: true }, previous: { version: '1', loaded: true } });
    await scorer.close();
  });

  it('falls back to the previous version when a newly promoted champion is corrupt, and counts it', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.add('2', spec(3));
    reg.promote('1');
    const metrics = createMetrics('test');
    const scorer = createScorer({ registry: reg.api(), logger, metrics, fallback: ['previous_version', 'default_score'] });
    await scorer.scoreEvents(events(1));
    reg.corrupt('2');
    reg.promote('2');
    await scorer.refresh();
    const evs = events(6);
    const out = await scorer.scoreEvents(evs);
    out.forEach((o, i) => {
      expect(o.predictions![0]).toMatchObject({ model_version: '1', fallback: 'previous_version' });
      expect(o.predictions![0]!.score).toBeCloseTo(predictLinear(spec(1), evs[i]!.features), 5);
    });
    expect((await metrics.scoringFallbacks.get()).values).toEqual([{ labels: { model: 'm', reason: 'previous_version' }, value: 6 }]);
    expect((await metrics.scoringErrors.get()).values).toEqual([{ labels: { model: 'm', kind: 'load' }, value: 1 }]);
    expect(scorer.state()[0]!.champion).toMatchObject({ version: '2', loaded: false, error: expect.stringMatching(/corrupt/) });
    await scorer.close();
  });

  it('loads the previous version on demand when the scorer starts with a corrupt champion', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.add('2', spec(3));
    reg.promote('1');
    reg.promote('2');
    reg.corrupt('2');
    const scorer = createScorer({ registry: reg.api(), logger, fallback: ['previous_version'] });
    const out = await scorer.scoreEvents(events(3));
    expect(out.map((o) => o.predictions![0]!.model_version)).toEqual(['1', '1', '1']);
    await scorer.close();
  });

  it('uses the default score (config first, then metadata) when no previous version can serve', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1), 0.25);
    reg.promote('1');
    reg.corrupt('1');
    const fromMeta = createScorer({ registry: reg.api(), logger, fallback: ['previous_version', 'default_score'] });
    const out = await fromMeta.scoreEvents(events(2));
    expect(out[0]!.predictions![0]).toMatchObject({
      model_version: 'default',
      fallback: 'default_score',
      score: 0.25,
      probabilities: { '0': 0.75, '1': 0.25 },
      predicted_label: '0',
    });
    const fromConfig = createScorer({
      registry: reg.api(),
      logger,
      fallback: ['default_score'],
      models: new Map([['m', { fallback: ['default_score'], defaultScore: 0.9 }]]),
    });
    expect((await fromConfig.scoreEvents(events(1)))[0]!.predictions![0]).toMatchObject({ score: 0.9, predicted_label: '1' });
    await fromMeta.close();
    await fromConfig.close();
  });

  it('fails the events with the load error when the chain is exhausted', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.promote('1');
    reg.corrupt('1');
    const scorer = createScorer({ registry: reg.api(), logger, fallback: ['previous_version', 'default_score'] });
    const out = await scorer.scoreEvents(events(2));
    expect(out.map((o) => o.error?.code)).toEqual(['DW_MODEL_LOAD_FAILED', 'DW_MODEL_LOAD_FAILED']);
    await scorer.close();
  });

  it('falls back when the champion loads but fails to infer', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    // v2's graph declares 3 input columns while its metadata lists 2 features: onnxruntime rejects the run.
    const wide: LinearModelSpec = {
      ...spec(1),
      features: [...spec(1).features, { name: 'z', type: 'numeric', mean: 0, scale: 1, default: 0 }],
      weights: [1, 0.5, -0.5, 2],
    };
    const { onnx } = exportLinearModel(wide, { name: 'm' });
    reg.add('2', spec(1));
    reg.files.set('2', onnx);
    reg.infos.set('2', { ...reg.infos.get('2')!, sha256: createHash('sha256').update(onnx).digest('hex') });
    reg.promote('1');
    reg.promote('2');
    const metrics = createMetrics('test');
    const scorer = createScorer({ registry: reg.api(), logger, metrics, fallback: ['previous_version'] });
    const out = await scorer.scoreEvents(events(3));
    expect(out.map((o) => [o.predictions![0]!.model_version, o.predictions![0]!.fallback])).toEqual([
      ['1', 'previous_version'],
      ['1', 'previous_version'],
      ['1', 'previous_version'],
    ]);
    expect((await metrics.scoringErrors.get()).values).toEqual([{ labels: { model: 'm', kind: 'inference' }, value: 1 }]);
    await scorer.close();
  });

  it('reports an unknown model per event, and propagates retriable registry outages', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.promote('1');
    const scorer = createScorer({ registry: reg.api(), logger, fallback: [] });
    const mixed = [...events(1, 'nope'), ...events(1)];
    const out = await scorer.scoreEvents(mixed);
    expect(out[0]!.error).toBeInstanceOf(ModelNotFoundError);
    expect(out[1]!.predictions).toHaveLength(1);
    const fresh = createScorer({ registry: reg.api(), logger, fallback: [] });
    reg.failLookups = 1;
    await expect(fresh.scoreEvents(events(1))).rejects.toBeInstanceOf(ClickHouseUnavailableError);
    expect((await fresh.scoreEvents(events(1)))[0]!.predictions).toHaveLength(1);
    await scorer.close();
    await fresh.close();
  });

  it('rejects mistyped features in strict (HTTP) mode instead of imputing', async () => {
    const reg = new MemoryRegistry();
    reg.add('1', spec(1));
    reg.promote('1');
    const scorer = createScorer({ registry: reg.api(), logger, fallback: [] });
    const bad = events(1);
    bad[0]!.features = { x: 'high', r: 'a' };
    await expect(scorer.scoreEvents(bad, { strict: true })).rejects.toBeInstanceOf(InvalidRequestError);
    expect((await scorer.scoreEvents(bad))[0]!.predictions).toHaveLength(1);
    await scorer.close();
  });
});
