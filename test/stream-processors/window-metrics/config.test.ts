import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../lib/runtime/errors.js';
import { DEFAULT_MONITORING, parseMonitoringConfig, performanceFor } from '../../../stream-processors/window-metrics/config.js';

describe('monitoring configuration', () => {
  it('has documented defaults when nothing is configured', () => {
    const c = parseMonitoringConfig({});
    expect(c.drift.correction).toBe('benjamini-hochberg');
    expect(c.drift.minWindowRows).toBe(DEFAULT_MONITORING.minWindowRows);
    expect(c.severity.warning).toEqual({ driftedCount: 1, driftedShare: 0 });
    expect(c.severity.critical).toEqual({ driftedCount: 0, driftedShare: 0.5 });
    expect(c.performance).toMatchObject({ positiveLabel: '1', decisionThreshold: 0.5, average: 'binary' });
    expect(c.segments).toEqual({ keys: [], maxValues: 20 });
    expect(c.kpis).toEqual([]);
  });

  it('reads every section', () => {
    const c = parseMonitoringConfig({
      monitoring: {
        drift: {
          numeric_method: 'ks',
          categorical_method: 'chisquare_gof',
          methods: { age: 'psi' },
          thresholds: { ks: 0.01 },
          feature_thresholds: { age: 0.2 },
          correction: 'bonferroni',
          min_window_rows: 100,
        },
        severity: { warning: { drifted_share: 0.1 }, critical: { drifted_count: 3 }, prediction_drift: 'critical', schema_drift: 'none' },
        performance: { positive_label: 1, decision_threshold: 0.7, models: { fraud: { positive_label: 'fraud', average: 'macro' } } },
      },
      segments: { keys: ['region', 'device'], max_values: 5 },
      kpis: [{ name: 'fallback_rate', expression: 'fallback != null', aggregation: 'rate' }],
    });
    expect(c.drift).toMatchObject({
      numericMethod: 'ks',
      categoricalMethod: 'chisquare_gof',
      methods: { age: 'psi' },
      methodThresholds: { ks: 0.01 },
      featureThresholds: { age: 0.2 },
      correction: 'bonferroni',
      minWindowRows: 100,
    });
    expect(c.severity).toMatchObject({
      warning: { driftedCount: 1, driftedShare: 0.1 },
      critical: { driftedCount: 3, driftedShare: 0.5 },
      predictionDrift: 'critical',
      schemaDrift: 'none',
    });
    expect(performanceFor(c, 'fraud')).toEqual({ positiveLabel: 'fraud', decisionThreshold: 0.7, average: 'macro' });
    expect(performanceFor(c, 'other')).toMatchObject({ positiveLabel: '1', decisionThreshold: 0.7 });
    expect(c.segments).toEqual({ keys: ['region', 'device'], maxValues: 5 });
    expect(c.kpis.map((k) => k.name)).toEqual(['fallback_rate']);
    expect(parseMonitoringConfig({ segments: ['region'] }).segments.keys).toEqual(['region']);
  });

  it('reports every problem at once', () => {
    let err: ConfigInvalidError | undefined;
    try {
      parseMonitoringConfig({
        monitoring: {
          drift: { numeric_method: 'nope', correction: 'holm', typo: 1 },
          severity: { warning: { drifted_count: 0, drifted_share: 0 }, prediction_drift: 'loud' },
          performance: { decision_threshold: 2 },
        },
        segments: { keys: ['bad key'] },
        kpis: [{ name: 'x', expression: '1 +', aggregation: 'mean' }],
      });
    } catch (e) {
      err = e as ConfigInvalidError;
    }
    expect(err).toBeInstanceOf(ConfigInvalidError);
    const text = err!.problems.join('\n');
    for (const m of [
      'numeric_method',
      'correction',
      "unknown key 'typo'",
      'severity.warning: set drifted_count',
      'prediction_drift',
      'decision_threshold',
      'invalid key',
      'kpis[0].expression',
    ])
      expect(text).toContain(m);
  });

  it('wasserstein_raw (feature units, no default threshold) is selectable only with a threshold', () => {
    const ok = parseMonitoringConfig({
      monitoring: {
        drift: { numeric_method: 'wasserstein_raw', thresholds: { wasserstein_raw: 250 }, methods: { age: 'wasserstein_raw' }, feature_thresholds: { age: 2 } },
      },
    });
    expect(ok.drift).toMatchObject({ numericMethod: 'wasserstein_raw', methodThresholds: { wasserstein_raw: 250 }, methods: { age: 'wasserstein_raw' } });
    let err: ConfigInvalidError | undefined;
    try {
      parseMonitoringConfig({ monitoring: { drift: { numeric_method: 'wasserstein_raw', methods: { age: 'wasserstein_raw' } } } });
    } catch (e) {
      err = e as ConfigInvalidError;
    }
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect(err!.problems).toEqual([
      expect.stringContaining('monitoring.drift.numeric_method: wasserstein_raw has no default threshold'),
      expect.stringContaining('monitoring.drift.methods.age: wasserstein_raw has no default threshold'),
    ]);
  });
});
