import { describe, expect, it } from 'vitest';
import { aucFromBins, scoreBin, SCORE_BINS } from '../../../lib/performance/score-bins.js';
import { mulberry32 } from '../../../lib/stats/random.js';

/** Brute-force Mann-Whitney AUC (what sklearn roc_auc_score computes). */
function bruteAuc(scores: number[], y: number[]): number {
  let num = 0;
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < scores.length; i++) {
    if (y[i] === 1) pos++;
    else neg++;
  }
  for (let i = 0; i < scores.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (y[j] === 1) continue;
      num += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return num / (pos * neg);
}

describe('score bins and ROC AUC', () => {
  it('bins [0,1] into SCORE_BINS bins, clamping the ends', () => {
    expect(scoreBin(0)).toBe(0);
    expect(scoreBin(1)).toBe(SCORE_BINS - 1);
    expect(scoreBin(-0.2)).toBe(0);
    expect(scoreBin(0.12345)).toBe(1234);
  });

  it('equals the exact Mann-Whitney AUC for scores with 4 decimals', () => {
    const rng = mulberry32(11);
    const scores: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 400; i++) {
      const label = rng() < 0.4 ? 1 : 0;
      const s = Math.round(Math.min(0.9999, Math.max(0, 0.3 * label + 0.7 * rng())) * 1e4) / 1e4;
      scores.push(s);
      y.push(label);
    }
    const bins = new Map<number, [number, number]>();
    scores.forEach((s, i) => {
      const b = scoreBin(s);
      const e = bins.get(b) ?? [0, 0];
      e[y[i] === 1 ? 0 : 1]++;
      bins.set(b, e);
    });
    expect(aucFromBins(bins)!).toBeCloseTo(bruteAuc(scores, y), 12);
  });

  it('is 1 for perfect separation, 0.5 for all ties, null with one class', () => {
    expect(
      aucFromBins([
        [10, 0, 5],
        [90, 3, 0],
      ]),
    ).toBe(1);
    expect(aucFromBins([[50, 4, 4]])).toBe(0.5);
    expect(aucFromBins([[50, 4, 0]])).toBeNull();
  });
});
