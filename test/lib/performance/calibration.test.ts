import { describe, expect, it } from 'vitest';
import { binIndexEdges, calibrate, equalFrequencyEce, fitCalibration } from '../../../lib/performance/calibration.js';
import { bernoulli, mulberry32, normalSampler } from '../../../lib/stats/random.js';

function referenceSet(n: number, distort: (p: number) => number, seed = 5) {
  const rng = mulberry32(seed);
  const normal = normalSampler(rng);
  const scores: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = 1 / (1 + Math.exp(-normal(0, 1.5)));
    y.push(bernoulli(rng, p));
    scores.push(distort(p));
  }
  return { scores, y };
}

describe('CBPE calibration (NannyML needs_calibration)', () => {
  it('reproduces NannyML bin index edges', () => {
    expect(binIndexEdges(20, 4)).toEqual([
      [0, 5],
      [5, 10],
      [10, 15],
      [15, 20],
    ]);
    // 25 rows, 10 bins: width 2, the last bin takes the remainder (NannyML quirk kept)
    const e = binIndexEdges(25, 10);
    expect(e).toHaveLength(12);
    expect(e[e.length - 1]).toEqual([22, 25]);
    expect(binIndexEdges(10, 10)).toHaveLength(5);
    expect(() => binIndexEdges(3, 10)).toThrow();
  });

  it('computes the equal-frequency ECE', () => {
    // two bins of two rows: |mean p - mean y|
    expect(equalFrequencyEce([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], binIndexEdges(4, 2))).toBeCloseTo(0.5 * 0.2 + 0.5 * 0.3, 14);
  });

  it('applies isotonic calibration to miscalibrated scores and it lowers the error', () => {
    const { scores, y } = referenceSet(4000, (p) => p ** 3);
    const c = fitCalibration(scores, y);
    expect(c.applied).toBe(true);
    expect(c.reason).toBe('lowers_ece');
    expect(c.eceAfter!).toBeLessThan(c.eceBefore!);
    // calibrated probabilities track the truth: p^3 = 0.125 means p = 0.5
    expect(calibrate(c, 0.125)).toBeGreaterThan(0.4);
    expect(calibrate(c, 0.125)).toBeLessThan(0.6);
  });

  it('is deterministic', () => {
    const { scores, y } = referenceSet(1000, (p) => p ** 2);
    expect(JSON.stringify(fitCalibration(scores, y))).toBe(JSON.stringify(fitCalibration(scores, y)));
  });

  it('skips single-class references and near-perfect rankers', () => {
    expect(fitCalibration([0.2, 0.4, 0.6], [1, 1, 1]).reason).toBe('single_class');
    const scores = Array.from({ length: 100 }, (_, i) => i / 100);
    expect(
      fitCalibration(
        scores,
        scores.map((s) => (s >= 0.5 ? 1 : 0)),
      ).reason,
    ).toBe('auc_near_one');
    expect(calibrate(fitCalibration([0.2], [1]), 0.3)).toBe(0.3);
  });
});
