import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../../../lib/stats/drift/registry.js';
import { fixture, relErr } from '../../golden.js';

describe('hellinger', () => {
  it('matches the numpy value and the conventions golden 0.1727974', () => {
    const c = fixture.distances[0];
    const r = runMethod('hellinger', { type: 'categorical', ref: { A: 50, B: 30, C: 20 }, cur: { A: 30, B: 30, C: 40 } });
    expect(relErr(r.score!, c.hellinger)).toBeLessThan(1e-12);
    expect(r.score).toBeCloseTo(0.1727974, 7);
  });
  it('is 1 for disjoint supports and 0 for identical distributions', () => {
    expect(runMethod('hellinger', { type: 'categorical', ref: { a: 3 }, cur: { b: 3 } }).score).toBeCloseTo(1, 15);
    expect(runMethod('hellinger', { type: 'categorical', ref: { a: 3, b: 1 }, cur: { a: 6, b: 2 } }).score).toBe(0);
  });
});
