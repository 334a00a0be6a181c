import { describe, expect, it } from 'vitest';
import { mulberry32, normalSampler } from '../../../lib/stats/random.js';

describe('mulberry32', () => {
  it('is deterministic per seed and matches the reference sequence', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(xs);
    // same values as the independent Python port in scripts/golden/generate_drift_fixtures.py
    expect(xs).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(2)()).not.toBe(xs[0]);
  });
  it('normalSampler has roughly zero mean and unit variance', () => {
    const n = normalSampler(mulberry32(3));
    const xs = Array.from({ length: 20000 }, () => n());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
  });
});
