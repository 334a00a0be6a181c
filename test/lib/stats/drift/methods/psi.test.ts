import { describe, expect, it } from 'vitest';
import { psi, psiFromCounts } from '../../../../../lib/stats/drift/methods/psi.js';
import { runMethod } from '../../../../../lib/stats/drift/registry.js';
import { fixture, relErr } from '../../golden.js';

describe('psi', () => {
  it.each(fixture.psi as Array<{ ref: number[]; cur: number[]; expected: number; exact: number }>)('golden %#', (c) => {
    const got = psiFromCounts(c.ref, c.cur);
    expect(relErr(got, c.exact)).toBeLessThan(1e-12);
    expect(got).toBeCloseTo(c.expected, 7);
  });

  it('uses epsilon 1e-4 for an empty bin, so PSI stays finite', () => {
    const got = psiFromCounts([50, 50], [100, 0]);
    expect(got).toBeCloseTo((1 - 0.5) * Math.log(1 / 0.5) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5), 12);
    expect(psiFromCounts([50, 50], [100, 0], 1e-6)).toBeGreaterThan(got);
  });

  it('bins raw samples on reference deciles and adds a missing bin', () => {
    const ref = Array.from({ length: 100 }, (_, i) => i);
    const r = runMethod('psi', { type: 'samples', ref, cur: [...ref.slice(0, 90), NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN] });
    expect(r.extras.missingBin).toBe(true);
    expect(r.extras.bins).toBe(11);
    // 10 of 100 current values moved into the missing bin: last decile emptied (-> epsilon)
    expect(r.score).toBeGreaterThan(0.25);
    expect(r.drift).toBe(true);
  });

  it('edge cases: constant column does not drift, empty window is insufficient_data', () => {
    const c = runMethod('psi', { type: 'samples', ref: [3, 3, 3], cur: [3, 3] });
    expect(c.score).toBe(0);
    expect(c.drift).toBe(false);
    const e = runMethod('psi', { type: 'samples', ref: [1, 2, 3], cur: [] });
    expect(e.status).toBe('insufficient_data');
    expect(e.score).toBeNull();
    expect(e.drift).toBe(false);
  });

  it('declares its convention in the registry entry', () => {
    expect(psi.thresholdType).toBe('distance');
    expect(psi.defaultThreshold).toBe(0.1);
  });
});
