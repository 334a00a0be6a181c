import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../../../lib/runtime/errors.js';
import { wassersteinRaw } from '../../../../../lib/stats/drift/methods/wasserstein.js';
import { runMethod } from '../../../../../lib/stats/drift/registry.js';
import { binSide } from '../../../../../lib/stats/drift/inputs.js';
import { sketchEdges } from '../../../../../lib/stats/quantile.js';
import { mulberry32, normalSampler } from '../../../../../lib/stats/random.js';
import { fixture, relErr, sampleFromSpec } from '../../golden.js';
import type { SampleSpec } from '../../golden.js';

interface WCase {
  ref?: number[];
  cur?: number[];
  specA?: SampleSpec;
  specB?: SampleSpec;
  w1: number;
  refStd: number;
}

describe('wasserstein', () => {
  it.each(fixture.wasserstein as WCase[])('matches scipy wasserstein_distance and np.std (%#)', (c) => {
    const ref = c.ref ?? sampleFromSpec(c.specA!);
    const cur = c.cur ?? sampleFromSpec(c.specB!);
    const r = runMethod('wasserstein', { type: 'samples', ref, cur });
    expect(relErr(r.extras.w1 as number, c.w1)).toBeLessThan(1e-9);
    expect(relErr(r.extras.refStd as number, c.refStd)).toBeLessThan(1e-9);
    expect(relErr(r.score!, c.w1 / Math.max(c.refStd, 0.001))).toBeLessThan(1e-9);
  });

  it('golden: [0,1,2,3] vs [1,2,3,4] -> W1 1, normalised 0.8944272', () => {
    const r = runMethod('wasserstein', { type: 'samples', ref: [0, 1, 2, 3], cur: [1, 2, 3, 4] });
    expect(r.extras.w1).toBeCloseTo(1, 14);
    expect(r.score).toBeCloseTo(0.8944272, 7);
    expect(r.drift).toBe(true);
  });

  it('floors the reference std at 0.001 for a constant reference', () => {
    const r = runMethod('wasserstein', { type: 'samples', ref: [2, 2, 2], cur: [2.001, 2.001] });
    expect(r.score).toBeCloseTo(1, 9);
  });

  it('binned W1 stays within its reported bound of the exact W1', () => {
    const n = normalSampler(mulberry32(21));
    const ref = Float64Array.from({ length: 20000 }, () => n()).sort();
    const cur = Float64Array.from({ length: 25000 }, () => n(0.2, 1.3)).sort();
    const edges = sketchEdges(ref, 1000);
    const h = runMethod('wasserstein', { type: 'histogram', edges, ref: binSide(ref, edges, 0), cur: binSide(cur, edges, 0) });
    const e = runMethod('wasserstein', { type: 'samples', ref, cur });
    const err = Math.abs((h.extras.w1 as number) - (e.extras.w1 as number));
    expect(err).toBeLessThanOrEqual(h.extras.w1ErrorBound as number);
    expect(err / (e.extras.w1 as number)).toBeLessThan(0.01);
  });

  it('binned W1 is exact for discrete data (point masses)', () => {
    const ref = [1, 1, 2, 3, 3, 3];
    const cur = [1, 2, 2, 2, 3];
    const edges = [1, 2, 3];
    const h = runMethod('wasserstein', { type: 'histogram', edges, ref: binSide(ref, edges, 0), cur: binSide(cur, edges, 0) });
    const e = runMethod('wasserstein', { type: 'samples', ref, cur });
    expect(h.extras.w1).toBeCloseTo(e.extras.w1 as number, 14);
    expect(h.extras.w1ErrorBound).toBe(0);
  });
});

describe('wasserstein_raw', () => {
  it.each(fixture.wasserstein as WCase[])('score is scipy wasserstein_distance in feature units (%#)', (c) => {
    const ref = c.ref ?? sampleFromSpec(c.specA!);
    const cur = c.cur ?? sampleFromSpec(c.specB!);
    const r = runMethod('wasserstein_raw', { type: 'samples', ref, cur }, { threshold: 1 });
    expect(relErr(r.score!, c.w1)).toBeLessThan(1e-9);
    expect(relErr(r.extras.refStd as number, c.refStd)).toBeLessThan(1e-9);
    expect(relErr(r.extras.normalised as number, c.w1 / Math.max(c.refStd, 0.001))).toBeLessThan(1e-9);
    expect(r.exact).toBe(true);
  });

  it('golden: [0,1,2,3] vs [1,2,3,4] -> W1 1; decides against the explicit threshold in feature units', () => {
    const input = { type: 'samples', ref: [0, 1, 2, 3], cur: [1, 2, 3, 4] } as const;
    expect(runMethod('wasserstein_raw', input, { threshold: 1 })).toMatchObject({ score: 1, threshold: 1, thresholdType: 'distance', drift: true });
    expect(runMethod('wasserstein_raw', input, { threshold: 1.5 }).drift).toBe(false);
    // same data, same decision as the normed method once the threshold is t · σ_ref
    const sigma = runMethod('wasserstein_raw', input, { threshold: 1 }).extras.refStd as number;
    expect(sigma).toBeCloseTo(1.118034, 6);
    for (const t of [0.5, 0.9, 1]) {
      expect(runMethod('wasserstein_raw', input, { threshold: t * sigma }).drift).toBe(runMethod('wasserstein', input, { threshold: t }).drift);
    }
  });

  it('has no default threshold: running without one is a ConfigInvalidError', () => {
    expect(wassersteinRaw.defaultThreshold).toBeNull();
    expect(() => runMethod('wasserstein_raw', { type: 'samples', ref: [1, 2], cur: [2, 3] })).toThrow(ConfigInvalidError);
  });

  it('scale matters for raw W1 and not for the normed score', () => {
    const n = normalSampler(mulberry32(5));
    const ref = Array.from({ length: 500 }, () => n());
    const cur = Array.from({ length: 500 }, () => n(0.3, 1));
    const raw = runMethod('wasserstein_raw', { type: 'samples', ref, cur }, { threshold: 1 }).score!;
    const raw1000 = runMethod('wasserstein_raw', { type: 'samples', ref: ref.map((x) => x * 1000), cur: cur.map((x) => x * 1000) }, { threshold: 1 }).score!;
    expect(raw1000 / raw).toBeCloseTo(1000, 9);
    const norm = runMethod('wasserstein', { type: 'samples', ref, cur }).score!;
    const norm1000 = runMethod('wasserstein', { type: 'samples', ref: ref.map((x) => x * 1000), cur: cur.map((x) => x * 1000) }).score!;
    expect(relErr(norm1000, norm)).toBeLessThan(1e-12);
  });

  it('on a binned summary reports the same W1 as the normed variant, with its error bound in feature units', () => {
    const n = normalSampler(mulberry32(22));
    const ref = Float64Array.from({ length: 20000 }, () => n(50, 10)).sort();
    const cur = Float64Array.from({ length: 15000 }, () => n(52, 12)).sort();
    const edges = sketchEdges(ref, 1000);
    const h = { type: 'histogram', edges, ref: binSide(ref, edges, 0), cur: binSide(cur, edges, 0), refStd: 10 } as const;
    const raw = runMethod('wasserstein_raw', h, { threshold: 1 });
    const norm = runMethod('wasserstein', h);
    expect(raw.score).toBe(norm.extras.w1);
    expect(raw.extras.w1ErrorBound).toBe(norm.extras.w1ErrorBound);
    expect(raw.extras.normalised).toBe(norm.score);
    expect(raw.exact).toBe(false);
    const exact = runMethod('wasserstein_raw', { type: 'samples', ref, cur }, { threshold: 1 }).score!;
    expect(Math.abs(raw.score! - exact)).toBeLessThanOrEqual(raw.extras.w1ErrorBound as number);
  });
});
