import { describe, expect, it } from 'vitest';
import { addToLogHistogram, createLogHistogram, logHistogramQuantile, mergeLogHistograms } from '../../../lib/performance/log-histogram.js';
import { mulberry32 } from '../../../lib/stats/random.js';

describe('log histogram (DDSketch mapping)', () => {
  it('returns nearest-rank quantiles within the relative accuracy', () => {
    const h = createLogHistogram(0.01);
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 37);
    for (const v of values) addToLogHistogram(h, v);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      const got = logHistogramQuantile(h, q)!;
      expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(0.01 + 1e-12);
    }
  });

  it('keeps non-positive values in a zero bucket and is null when empty', () => {
    const h = createLogHistogram();
    expect(logHistogramQuantile(h, 0.5)).toBeNull();
    addToLogHistogram(h, 0);
    addToLogHistogram(h, -5);
    addToLogHistogram(h, 1000);
    expect(logHistogramQuantile(h, 0.5)).toBe(0);
    expect(logHistogramQuantile(h, 1)!).toBeCloseTo(1000, -1);
  });

  it('merges to exactly the sequential sketch for any split', () => {
    const rng = mulberry32(7);
    const xs = Array.from({ length: 500 }, () => Math.exp(rng() * 15));
    const all = createLogHistogram();
    for (const x of xs) addToLogHistogram(all, x);
    const a = createLogHistogram();
    const b = createLogHistogram();
    xs.forEach((x, i) => addToLogHistogram(i % 3 === 0 ? a : b, x));
    expect(JSON.stringify(mergeLogHistograms(b, a))).toBe(JSON.stringify(mergeLogHistograms(all, createLogHistogram())));
  });

  it('refuses to merge sketches of different accuracy', () => {
    expect(() => mergeLogHistograms(createLogHistogram(0.01), createLogHistogram(0.02))).toThrow(/different accuracy/);
  });
});
