import { describe, expect, it } from 'vitest';
import { kolmognSf, smirnovSf } from '../../../../lib/stats/special/kolmogorov.js';
import { fixture, relErr } from '../golden.js';

describe('kolmognSf = scipy.stats.kstwo.sf', () => {
  it.each(fixture.kstwoSf as Array<{ n: number; x: number; p: number }>)('n=$n x=$x', ({ n, x, p }) => {
    // every algorithm branch (Ruben-Gambino, Durbin matrix, Pomeranz, Pelz-Good, 2*Smirnov) is hit by the grid
    const got = kolmognSf(n, x);
    if (p < 1e-300) expect(got).toBeLessThan(1e-300);
    else expect(relErr(got, p)).toBeLessThan(1e-9);
  });
  it('is 1 at 0, 0 at 1, NaN for non-integer n', () => {
    expect(kolmognSf(10, 0)).toBe(1);
    expect(kolmognSf(10, 1)).toBe(0);
    expect(kolmognSf(10.5, 0.2)).toBeNaN();
  });
});

describe('smirnovSf', () => {
  it('has the closed forms of n = 1 and x >= 1 - 1/n', () => {
    expect(smirnovSf(1, 0.3)).toBeCloseTo(0.7, 15);
    expect(smirnovSf(5, 0.9)).toBeCloseTo(0.1 ** 5, 15);
  });
});
