import { describe, expect, it } from 'vitest';
import { parseKpiDefinitions } from '../../../lib/performance/kpi/kpi.js';
import { buildStoredProfile, detectTask } from '../../../lib/reference/build.js';
import { rowFromFlat } from '../../../lib/reference/read.js';
import { PREDICTION_FEATURE } from '../../../lib/reference/types.js';
import { referenceRows } from '../../support/window-stream.js';

const { kpis } = parseKpiDefinitions([
  { name: 'conversion_rate', expression: 'business.converted', aggregation: 'mean' },
  { name: 'fallback_rate', expression: 'fallback != null', aggregation: 'rate' },
]);

describe('reference profile building', () => {
  it('profiles features and the prediction, fits CBPE calibration and KPI baselines', () => {
    const rows = referenceRows(1, 3000).map((r) => rowFromFlat(r));
    const p = buildStoredProfile(rows, { model: 'm', version: 'v', source: 's', createdAt: 5, kpis });
    expect(p.features.featureOrder).toEqual(['c1', 'x1', 'x2', 'x3', 'x4', 'x5']);
    expect(p.prediction!.featureOrder).toEqual([PREDICTION_FEATURE]);
    expect(p.task).toBe('binary');
    expect(p.calibration).not.toBeNull();
    expect(p.calibration!.nReference).toBe(3000);
    expect(Object.keys(p.kpiBaselines)).toEqual(['conversion_rate']); // the reference has no fallback field
    const positives = rows.filter((r) => r.label === '1').length / rows.length;
    expect(p.kpiBaselines.conversion_rate!.value).toBeCloseTo(positives, 12);
    expect(p.referencePerformance.accuracy!).toBeGreaterThan(0.6);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('detects the task from labels, targets and predictions', () => {
    expect(detectTask([{ features: {}, target_value: 3, predicted_value: 2 }])).toBe('regression');
    expect(detectTask([{ features: {}, predicted_value: 2 }])).toBe('regression');
    expect(
      detectTask([
        { features: {}, label: 'a' },
        { features: {}, label: 'b' },
        { features: {}, label: 'c' },
      ]),
    ).toBe('multiclass');
    expect(detectTask([{ features: {}, score: 0.3 }])).toBe('binary');
    expect(detectTask([{ features: {} }])).toBe('unknown');
  });

  it('profiles regression references with realized error metrics and no calibration', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({ features: { d: i }, target_value: i * 2, predicted_value: i * 2 + 1 }));
    const p = buildStoredProfile(rows, { model: 'm', version: 'v', source: 's', createdAt: 0 });
    expect(p.task).toBe('regression');
    expect(p.calibration).toBeNull();
    expect(p.referencePerformance.mae).toBe(1);
  });

  it('refuses references without rows or features', () => {
    expect(() => buildStoredProfile([], { model: 'm', version: 'v', source: 's', createdAt: 0 })).toThrow(/no rows/);
    expect(() => buildStoredProfile([{ features: {}, score: 0.5 }], { model: 'm', version: 'v', source: 's', createdAt: 0 })).toThrow(/no feature/);
  });
});
