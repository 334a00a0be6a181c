import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../../lib/runtime/errors.js';
import { Cusum } from '../../../../lib/stats/detectors/cusum.js';
import { mulberry32, normalSampler } from '../../../../lib/stats/random.js';
import { fixture } from '../golden.js';

/** Average run lengths from Page's integral equation (generator `cusum_arl`, k = 0.5, h = 5). */
const ARL = fixture.cusum as { h: number; k: number; arl0OneSided: number; arl0TwoSided: number; arl1Shift1TwoSided: number };

function stream(seed: number, segments: Array<[number, number]>): number[] {
  const n = normalSampler(mulberry32(seed));
  return segments.flatMap(([len, mean]) => Array.from({ length: len }, () => n(mean, 1)));
}

function detections(d: Cusum, xs: number[]): number[] {
  const hits: number[] = [];
  xs.forEach((x, i) => {
    if (d.update(x).driftDetected) hits.push(i);
  });
  return hits;
}

describe('Cusum (tabular, k = 0.5σ, h = 5σ)', () => {
  it('computes C+ by hand on a tiny stream', () => {
    const d = new Cusum({ mean: 0, std: 1 });
    d.update(2).update(2);
    expect(d.sums.plus).toBeCloseTo(3, 15);
    d.update(2);
    expect(d.sums.plus).toBeCloseTo(4.5, 15);
    expect(d.driftDetected).toBe(false);
    d.update(2); // C+ = 1.5 * 4 = 6 > h = 5
    expect(d.driftDetected).toBe(true);
    d.update(0); // sums reset after a detection
    expect(d.sums.plus).toBe(0);
  });

  it('detects a 1σ mean shift at pinned indices', () => {
    const xs = stream(7, [
      [500, 0],
      [200, 1],
    ]);
    const hits = detections(new Cusum({ mean: 0, std: 1 }), xs);
    // One false alarm before the change is what the design predicts: 500 samples at ARL₀ ≈ 465
    // (the stationary test below checks that rate). The shift at 500 is caught 7 samples later and
    // keeps re-alarming after each reset.
    expect(hits.filter((i) => i < 500)).toEqual([332]);
    expect(hits.filter((i) => i >= 500).slice(0, 3)).toEqual([506, 527, 541]);
  });

  it('the integral-equation ARLs are the textbook ones (Montgomery Table 9.3: 465 and 10.4)', () => {
    expect([ARL.k, ARL.h]).toEqual([0.5, 5]);
    expect(ARL.arl0TwoSided).toBeCloseTo(465.4, 1);
    expect(ARL.arl0OneSided).toBeCloseTo(2 * ARL.arl0TwoSided, 9);
    expect(ARL.arl1Shift1TwoSided).toBeCloseTo(10.38, 2);
  });

  it('false-alarms on a long stationary stream at the in-control rate 1/ARL₀', () => {
    // 10⁶ N(0, 1) samples, seed 8 (the stream whose 150-sample prefix the old test used). Sums reset
    // after every alarm, so alarms form a renewal process with mean gap ARL₀; CUSUM run lengths are
    // close to exponential (sd ≈ mean), so the count is ≈ Poisson: sd ≈ √(N / ARL₀) ≈ 46.
    const N = 1_000_000;
    const d = new Cusum({ mean: 0, std: 1 });
    const n = normalSampler(mulberry32(8));
    const hits: number[] = [];
    for (let i = 0; i < N; i++) if (d.update(n(0, 1)).driftDetected) hits.push(i);
    const expected = N / ARL.arl0TwoSided;
    expect(Math.abs(hits.length - expected)).toBeLessThan(4 * Math.sqrt(expected));
    // and the exact, seeded outcome (a regression pin, like the river index tests)
    expect(hits.length).toBe(2059);
    expect(hits.slice(0, 3)).toEqual([683, 902, 1445]);
  });

  it('detects a 1σ shift after ARL₁ ≈ 10.4 samples on average', () => {
    // 2000 seeded runs from a zero start, each until its first alarm.
    const R = 2000;
    const delays: number[] = [];
    for (let r = 0; r < R; r++) {
      const n = normalSampler(mulberry32(10_000 + r));
      const d = new Cusum({ mean: 0, std: 1 });
      let t = 1;
      while (!d.update(n(1, 1)).driftDetected) t++;
      delays.push(t);
    }
    const mean = delays.reduce((a, b) => a + b, 0) / R;
    const se = Math.sqrt(delays.reduce((a, b) => a + (b - mean) ** 2, 0) / (R - 1) / R);
    expect(Math.abs(mean - ARL.arl1Shift1TwoSided)).toBeLessThan(4 * se);
  });

  it('estimates μ and σ from a warm-up when not given and checkpoints through JSON', () => {
    const xs = stream(9, [
      [300, 10],
      [100, 8],
    ]);
    const a = new Cusum({ warmup: 50 });
    xs.slice(0, 200).forEach((x) => a.update(x));
    const b = Cusum.fromState(JSON.parse(JSON.stringify(a.toState())));
    expect(detections(b, xs.slice(200))).toEqual(detections(a, xs.slice(200)));
    const hits = detections(new Cusum({ warmup: 50 }), xs);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]!).toBeGreaterThanOrEqual(300);
  });

  it('validates hyperparameters', () => {
    expect(() => new Cusum({ std: 0 })).toThrow(ConfigInvalidError);
    expect(() => new Cusum({ h: 0, k: -1 })).toThrow(/h must be/);
  });
});
