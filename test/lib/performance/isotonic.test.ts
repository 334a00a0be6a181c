import { describe, expect, it } from 'vitest';
import { fitIsotonic, predictIsotonic } from '../../../lib/performance/isotonic.js';

describe('isotonic regression (sklearn IsotonicRegression, clip)', () => {
  it('pools adjacent violators', () => {
    const m = fitIsotonic([1, 2, 3, 4, 5], [1, 3, 2, 4, 3.5]);
    expect(m.y).toEqual([1, 2.5, 2.5, 3.75, 3.75]);
    expect(predictIsotonic(m, 0)).toBe(1);
    expect(predictIsotonic(m, 1.5)).toBe(1.75);
    expect(predictIsotonic(m, 4.5)).toBe(3.75);
    expect(predictIsotonic(m, 99)).toBe(3.75);
  });

  it('averages equal x values and trims flat interior points', () => {
    const m = fitIsotonic([0.1, 0.1, 0.2, 0.3, 0.4], [0, 1, 0.5, 0.5, 1]);
    // x=0.1 -> mean 0.5; then 0.5, 0.5, 1: the middle 0.5 at x=0.2 is interior and flat on both sides
    expect(m.x).toEqual([0.1, 0.3, 0.4]);
    expect(m.y).toEqual([0.5, 0.5, 1]);
  });

  it('is non-decreasing on any input', () => {
    const xs = Array.from({ length: 200 }, (_, i) => (i * 7919) % 200);
    const ys = xs.map((x, i) => Math.sin(i) + x / 100);
    const m = fitIsotonic(xs, ys);
    for (let i = 1; i < m.y.length; i++) expect(m.y[i]!).toBeGreaterThanOrEqual(m.y[i - 1]!);
  });
});
