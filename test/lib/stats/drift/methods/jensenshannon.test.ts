import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../../../lib/stats/drift/registry.js';
import { fixture, relErr } from '../../golden.js';

const asCounts = (xs: number[]): Record<string, number> => Object.fromEntries(xs.map((x, i) => [`c${i}`, x]));

describe('jensenshannon variants', () => {
  it.each(fixture.jensenshannon as Array<{ ref: number[]; cur: number[]; dist_e: number; dist_2: number; div_2: number }>)(
    'match scipy jensenshannon (%#)',
    (c) => {
      const input = { type: 'categorical' as const, ref: asCounts(c.ref), cur: asCounts(c.cur) };
      const e = runMethod('jensenshannon', input).score!;
      const b2 = runMethod('jensenshannon_base2', input).score!;
      const d2 = runMethod('jensenshannon_divergence_base2', input).score!;
      for (const [got, want] of [
        [e, c.dist_e],
        [b2, c.dist_2],
        [d2, c.div_2],
      ] as const) {
        if (want === 0) expect(got).toBeLessThan(1e-7);
        else expect(relErr(got, want)).toBeLessThan(1e-9);
      }
    },
  );

  it('conventions golden: p=[.5,.5] q=[.9,.1]', () => {
    const input = { type: 'categorical' as const, ref: { a: 5, b: 5 }, cur: { a: 9, b: 1 } };
    const r = runMethod('jensenshannon', input);
    expect(r.score).toBeCloseTo(0.3189815, 7);
    expect(r.extras.divergence).toBeCloseTo(0.1017492, 7);
    expect(runMethod('jensenshannon_base2', input).score).toBeCloseTo(0.3831359, 7);
    expect(runMethod('jensenshannon_divergence_base2', input).score).toBeCloseTo(0.1467931, 7);
    expect(runMethod('jensenshannon_divergence_base2', input).threshold).toBe(0.3);
  });

  it('categorical example: dist_e 0.1721147, dist_2 0.2067309', () => {
    const input = { type: 'categorical' as const, ref: { A: 50, B: 30, C: 20 }, cur: { A: 30, B: 30, C: 40 } };
    expect(runMethod('jensenshannon', input).score).toBeCloseTo(0.1721147, 7);
    expect(runMethod('jensenshannon_base2', input).score).toBeCloseTo(0.2067309, 7);
  });

  it('unseen category counts as mass the reference lacks; disjoint supports give the maximum', () => {
    const r = runMethod('jensenshannon_divergence_base2', { type: 'categorical', ref: { a: 10 }, cur: { b: 10 } });
    expect(r.score).toBeCloseTo(1, 12);
  });
});
