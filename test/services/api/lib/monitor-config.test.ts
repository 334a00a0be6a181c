import { describe, expect, it } from 'vitest';
import { checkMonitorConfig } from '../../../../services/api/lib/monitor-config.js';
import { jsonDepth, policyWithId } from '../../../../services/api/lib/retrain-policy.js';
import { nonFinitePath } from '../../../../services/api/plugins/app/finite-numbers.js';

describe('monitor configuration rules', () => {
  it('accepts methods that fit the feature kind and threshold semantics', () => {
    expect(
      checkMonitorConfig({
        features: [
          { name: 'a', kind: 'numeric', method: 'ks', threshold: 0.05 },
          { name: 'b', kind: 'categorical', method: 'psi', threshold: 0.2 },
          { name: 'c' },
        ],
      }),
    ).toEqual([]);
  });

  it('lists every problem', () => {
    const problems = checkMonitorConfig({
      features: [
        { name: 'a', kind: 'categorical', method: 'ks' },
        { name: 'a', threshold: 0.1 },
      ],
      prediction_drift: { method: 'ks', threshold: 1 },
      kpis: [
        { name: 'k', field: 'f', aggregation: 'sum' },
        { name: 'k', field: 'g', aggregation: 'mean' },
      ],
      alerts: [
        { rule: 'r', metric: 'm', comparator: 'gt', threshold: 1 },
        { rule: 'r', metric: 'm', comparator: 'lt', threshold: 0 },
      ],
    });
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/"a" is listed twice/);
    expect(problems.join('\n')).toMatch(/ks does not support categorical/);
    expect(problems.join('\n')).toMatch(/a threshold needs a method/);
    expect(problems.join('\n')).toMatch(/prediction_drift: ks compares a p-value/);
  });

  it('requires a threshold for a method whose score is in feature units (wasserstein_raw)', () => {
    expect(checkMonitorConfig({ features: [{ name: 'income', kind: 'numeric', method: 'wasserstein_raw', threshold: 500 }] })).toEqual([]);
    expect(checkMonitorConfig({ features: [{ name: 'income', kind: 'numeric', method: 'wasserstein_raw' }] })).toEqual([
      expect.stringMatching(/income.*wasserstein_raw has no default threshold/),
    ]);
  });
});

describe('retrain policy envelope', () => {
  it('takes its id from the URL and bounds the nesting depth', () => {
    expect(policyWithId('p1', { model: 'm', when: { schedule: { every: '7d' } } })).toEqual({ id: 'p1', model: 'm', when: { schedule: { every: '7d' } } });
    expect(jsonDepth({ a: [{ b: 1 }] })).toBe(3);
    expect(jsonDepth(5)).toBe(0);
    let deep: unknown = { schedule: { every: '1d' } };
    for (let i = 0; i < 100_000; i++) deep = { any_of: [deep] };
    expect(() => policyWithId('p', { model: 'm', when: deep })).toThrow(/nests deeper/);
  });
});

describe('non-finite guard', () => {
  it('finds Infinity and NaN anywhere in an input', () => {
    expect(nonFinitePath({ a: [1, { b: Infinity }] })).toBe('a.1.b');
    expect(nonFinitePath(NaN)).toBe('(value)');
    expect(nonFinitePath({ a: 'Infinity', b: [1, 2], c: null })).toBeNull();
  });
});
