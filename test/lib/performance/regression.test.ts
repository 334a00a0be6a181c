import { describe, expect, it } from 'vitest';
import { addRegression, createRegressionSummary, mergeRegression, regressionMetrics } from '../../../lib/performance/regression.js';

describe('realized regression metrics', () => {
  it('matches sklearn on its documentation example', () => {
    const s = createRegressionSummary();
    const y = [3, -0.5, 2, 7];
    const p = [2.5, 0, 2, 8];
    y.forEach((t, i) => addRegression(s, t, p[i]!));
    const m = regressionMetrics(s);
    expect(m.mae).toBe(0.5);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 15);
    expect(m.mape).toBeCloseTo(0.3273809523809524, 15);
  });

  it('leaves zero targets out of MAPE and counts them', () => {
    const s = createRegressionSummary();
    addRegression(s, 0, 1);
    addRegression(s, 2, 1);
    expect(regressionMetrics(s).mape).toBe(0.5);
    expect(s.zeroTargets).toBe(1);
    expect(regressionMetrics(createRegressionSummary())).toEqual({ mae: null, rmse: null, mape: null });
  });

  it('merges exactly', () => {
    const a = createRegressionSummary();
    const b = createRegressionSummary();
    const all = createRegressionSummary();
    for (let i = 1; i <= 100; i++) {
      const t = i * 0.1;
      const p = t + Math.sin(i) * 0.3;
      addRegression(i % 2 ? a : b, t, p);
      addRegression(all, t, p);
    }
    expect(regressionMetrics(mergeRegression(b, a))).toEqual(regressionMetrics(all));
  });
});
