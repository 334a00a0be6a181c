import { describe, expect, it } from 'vitest';
import { chisquareContingencyFromCounts, chisquareGofFromCounts } from '../../../../../lib/stats/drift/methods/chisquare.js';
import { runMethod } from '../../../../../lib/stats/drift/registry.js';
import { fixture, relErr } from '../../golden.js';

describe('chisquare_gof', () => {
  it.each(fixture.chisquare.gof as Array<{ ref: number[]; cur: number[]; chi2: number; p: number }>)('matches scipy.stats.chisquare (%#)', (c) => {
    const r = chisquareGofFromCounts(c.ref, c.cur);
    expect(relErr(r.chi2!, c.chi2)).toBeLessThan(1e-9);
    expect(relErr(r.pValue!, c.p)).toBeLessThan(1e-9);
  });

  it('conventions golden: chi2 28.0, p 8.3153e-07', () => {
    const r = runMethod('chisquare_gof', { type: 'categorical', ref: { A: 50, B: 30, C: 20 }, cur: { A: 30, B: 30, C: 40 } });
    expect(r.score).toBeCloseTo(28, 10);
    expect(relErr(r.pValue!, 8.3153e-7)).toBeLessThan(1e-4);
    expect(r.extras.dof).toBe(2);
    expect(r.drift).toBe(true);
  });

  it('excludes unseen categories, reports their share, and can treat them as drift', () => {
    const input = { type: 'categorical' as const, ref: { A: 50, B: 50 }, cur: { A: 50, B: 49, Z: 1 } };
    const r = runMethod('chisquare_gof', input);
    expect(r.extras.unseenCount).toBe(1);
    expect(r.extras.unseenShare).toBeCloseTo(0.01, 15);
    expect(r.drift).toBe(false);
    expect(runMethod('chisquare_gof', input, { options: { unseenPolicy: 'drift' } }).drift).toBe(true);
    const all = runMethod('chisquare_gof', { type: 'categorical', ref: { A: 1 }, cur: { Z: 3 } });
    expect(all.score).toBeNull();
    expect(all.drift).toBe(true);
  });

  it('single category: dof 0, p 1, no drift', () => {
    const r = runMethod('chisquare_gof', { type: 'categorical', ref: { A: 5 }, cur: { A: 1 } });
    expect(r.pValue).toBe(1);
    expect(r.drift).toBe(false);
  });
});

describe('chisquare_contingency', () => {
  type Ct = { ref: number[]; cur: number[]; chi2: number; p: number; dof: number; yates?: boolean };
  const cases = fixture.chisquare.contingency as Ct[];
  // scipy's correction=False case is not a driftwatch variant (Yates is always on for dof 1)
  const uncorrected = cases.filter((c) => c.yates === false && c.dof === 1);
  it.each(cases.filter((c) => !uncorrected.includes(c)))('matches scipy.stats.chi2_contingency (%#)', (c) => {
    const r = chisquareContingencyFromCounts(c.ref, c.cur);
    expect(r.dof).toBe(c.dof);
    expect(relErr(r.chi2, c.chi2)).toBeLessThan(1e-9);
    expect(relErr(r.pValue, c.p)).toBeLessThan(1e-9);
  });

  it('conventions golden: Yates 2x2 and the 2x3 table', () => {
    const y = runMethod('chisquare_contingency', { type: 'categorical', ref: { a: 60, b: 40 }, cur: { a: 45, b: 55 } });
    expect(y.score).toBeCloseTo(3.92982, 5);
    expect(y.pValue).toBeCloseTo(0.0474369, 7);
    expect(y.extras.yates).toBe(true);
    const t = runMethod('chisquare_contingency', { type: 'categorical', ref: { A: 50, B: 30, C: 20 }, cur: { A: 30, B: 30, C: 40 } });
    expect(t.score).toBeCloseTo(11.6667, 4);
    expect(t.pValue).toBeCloseTo(0.0029283, 7);
  });

  it('applies Yates: the corrected 2x2 statistic is below scipy correction=False (4.51128)', () => {
    expect(uncorrected).toHaveLength(1);
    expect(uncorrected[0]!.chi2).toBeCloseTo(4.51128, 5);
    expect(chisquareContingencyFromCounts([60, 40], [45, 55]).chi2).toBeLessThan(uncorrected[0]!.chi2);
  });

  it('drops all-zero columns instead of dividing by a zero expectation', () => {
    const r = runMethod('chisquare_contingency', { type: 'categorical', ref: { a: 10, b: 0 }, cur: { a: 10, b: 0 } });
    expect(r.pValue).toBe(1);
    expect(r.extras.dof).toBe(0);
  });
});
