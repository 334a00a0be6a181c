import { describe, expect, it } from 'vitest';
import { chi2Sf, gammaincP, gammaincQ, lgamma } from '../../../../lib/stats/special/gamma.js';
import { fixture, relErr } from '../golden.js';

describe('lgamma', () => {
  it.each(fixture.lgamma as Array<{ x: number; y: number }>)('matches scipy gammaln($x)', ({ x, y }) => {
    expect(relErr(lgamma(x), y)).toBeLessThan(1e-12);
  });
  it('is NaN outside the positive axis', () => {
    expect(lgamma(0)).toBeNaN();
    expect(lgamma(-1.5)).toBeNaN();
  });
});

describe('chi2Sf (regularized upper incomplete gamma)', () => {
  it.each(fixture.chi2sf as Array<{ x: number; dof: number; p: number }>)('matches scipy chi2.sf($x, $dof) to 1e-9', ({ x, dof, p }) => {
    expect(relErr(chi2Sf(x, dof), p)).toBeLessThan(1e-9);
  });
  it('P + Q = 1 on both branches', () => {
    for (const [a, x] of [
      [0.5, 0.2],
      [3, 10],
      [100, 90],
      [100, 130],
    ] as const) {
      expect(gammaincP(a, x) + gammaincQ(a, x)).toBeCloseTo(1, 14);
    }
  });
  it('handles the boundaries', () => {
    expect(chi2Sf(0, 3)).toBe(1);
    expect(chi2Sf(-1, 3)).toBe(1);
    expect(gammaincQ(2, Infinity)).toBe(0);
    expect(chi2Sf(1, 0)).toBeNaN();
  });
});
