import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../../../lib/stats/drift/registry.js';
import { fixture, relErr } from '../../golden.js';

describe('linf', () => {
  it('matches the numpy value and the conventions golden 0.2', () => {
    const c = fixture.distances[0];
    const r = runMethod('linf', { type: 'categorical', ref: { A: 50, B: 30, C: 20 }, cur: { A: 30, B: 30, C: 40 } });
    expect(relErr(r.score!, c.linf)).toBeLessThan(1e-12);
    expect(r.score).toBeCloseTo(0.2, 12);
    expect(r.drift).toBe(true);
  });
  it('uses the union of categories, each side normalised by its own total', () => {
    const r = runMethod('linf', { type: 'categorical', ref: { a: 1, b: 1 }, cur: { a: 2, b: 1, c: 1 } });
    expect(r.score).toBeCloseTo(0.25, 15);
  });
});
