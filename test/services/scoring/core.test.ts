import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../lib/runtime/errors.js';
import type { FeatureEvent } from '../../../lib/contracts/schemas.js';
import { buildPrediction, groupByModel, parseServingConfig, predictionEventId, predictionIdOf } from '../../../services/scoring/core.js';

const event = (over: Partial<FeatureEvent> = {}): FeatureEvent => ({
  event_id: 'e1',
  model_name: 'credit-risk',
  entity_id: 'u1',
  prediction_id: null,
  event_time: 1_700_000_000_000,
  features: { income: 50000, region: 'north' },
  segment: { region: 'north' },
  ...over,
});

describe('prediction identity', () => {
  it('uses prediction_id when given, else event_id', () => {
    expect(predictionIdOf(event())).toBe('e1');
    expect(predictionIdOf(event({ prediction_id: 'p9' }))).toBe('p9');
  });

  it('derives deterministic, distinct event ids for served and shadow predictions', () => {
    expect(predictionEventId('e1', '2', false)).toBe('e1:2');
    expect(predictionEventId('e1', '3', true)).toBe('e1:3:shadow');
  });
});

describe('buildPrediction', () => {
  it('copies features, segment and event time through and sets model, version, flags and scores', () => {
    const p = buildPrediction(
      event({ prediction_id: 'p9' }),
      { score: 0.25, probabilities: { '0': 0.75, '1': 0.25 }, label: '0', value: null },
      { modelName: 'credit-risk', version: '2', isShadow: true, fallback: null, latencyMs: 1.23456 },
    );
    expect(p).toEqual({
      event_id: 'e1:2:shadow',
      prediction_id: 'p9',
      model_name: 'credit-risk',
      model_version: '2',
      event_time: 1_700_000_000_000,
      features: { income: 50000, region: 'north' },
      score: 0.25,
      probabilities: { '0': 0.75, '1': 0.25 },
      predicted_label: '0',
      predicted_value: null,
      latency_ms: 1.235,
      segment: { region: 'north' },
      is_shadow: true,
      fallback: null,
    });
  });
});

describe('groupByModel', () => {
  it('groups indexes per model, keeping arrival order', () => {
    const g = groupByModel([{ model_name: 'a' }, { model_name: 'b' }, { model_name: 'a' }]);
    expect([...g]).toEqual([
      ['a', [0, 2]],
      ['b', [1]],
    ]);
  });
});

describe('parseServingConfig', () => {
  it('reads the global chain and per-model overrides, ignoring keys other modules own', () => {
    const c = parseServingConfig(['previous_version', 'default_score'], { 'credit-risk': { fallback: ['default_score'], default_score: 0.1, kpis: ['x'] } });
    expect(c.fallback).toEqual(['previous_version', 'default_score']);
    expect(c.models.get('credit-risk')).toEqual({ fallback: ['default_score'], defaultScore: 0.1 });
  });

  it('reports every problem at once', () => {
    try {
      parseServingConfig(['retry'], { a: { fallback: 'default_score', default_score: 'high' }, b: 3 });
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigInvalidError);
      const problems = (err as ConfigInvalidError).problems;
      expect(problems).toEqual([
        'SCORING_FALLBACK: unknown fallback "retry" (valid: previous_version, default_score)',
        'models.a.fallback: expected a list of previous_version, default_score',
        'models.a.default_score: expected a finite number',
        'models.b: expected a mapping',
      ]);
    }
  });
});
