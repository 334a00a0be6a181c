import { describe, expect, it } from 'vitest';
import { runMethod } from '../../../../../lib/stats/drift/registry.js';
import { binSide } from '../../../../../lib/stats/drift/inputs.js';
import { sketchEdges } from '../../../../../lib/stats/quantile.js';
import { mulberry32, normalSampler } from '../../../../../lib/stats/random.js';

describe('ks method', () => {
  it('reports D, p, the p-value method and the decision on raw samples', () => {
    const a = Array.from({ length: 10 }, (_, i) => i + 1);
    const r = runMethod('ks', { type: 'samples', ref: a, cur: a.map((x) => x + 2) });
    expect(r.score).toBeCloseTo(0.2, 15);
    expect(r.pValue).toBeCloseTo(0.9944576, 7);
    expect(r.extras.pMethod).toBe('exact');
    expect(r.threshold).toBe(0.05);
    expect(r.drift).toBe(false);
    expect(r.exact).toBe(true);
  });

  it('drops NaN and detects a clear shift', () => {
    const rng = mulberry32(5);
    const n = normalSampler(rng);
    const ref = Array.from({ length: 300 }, () => n());
    const cur = [...Array.from({ length: 300 }, () => n(1)), NaN];
    const r = runMethod('ks', { type: 'samples', ref, cur });
    expect(r.nCur).toBe(300);
    expect(r.drift).toBe(true);
  });

  it('binned D is within its reported bound of the exact D', () => {
    const rng = mulberry32(9);
    const n = normalSampler(rng);
    const ref = Float64Array.from({ length: 20000 }, () => n()).sort();
    const cur = Float64Array.from({ length: 30000 }, () => n(0.05, 1.1)).sort();
    const edges = sketchEdges(ref, 1000);
    const h = runMethod('ks', { type: 'histogram', edges, ref: binSide(ref, edges, 0), cur: binSide(cur, edges, 0) });
    const e = runMethod('ks', { type: 'samples', ref, cur });
    const bound = h.extras.dErrorBound as number;
    expect(h.exact).toBe(false);
    expect(e.score! - h.score!).toBeGreaterThanOrEqual(0);
    expect(e.score! - h.score!).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThan(0.005);
    expect(e.score! - h.score!).toBeLessThan(0.002);
  });

  it('constant identical columns: D = 0, p = 1', () => {
    const r = runMethod('ks', { type: 'samples', ref: [4, 4, 4], cur: [4] });
    expect(r.score).toBe(0);
    expect(r.pValue).toBe(1);
  });
});
