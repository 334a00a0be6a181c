import { describe, expect, it } from 'vitest';
import { addCbpe, createCbpeSummary, estimatePerformance, mergeCbpe } from '../../../lib/performance/cbpe.js';
import {
  addClassification,
  classificationMetrics,
  createClassificationSummary,
  DEFAULT_CLASSIFICATION_OPTIONS,
} from '../../../lib/performance/classification.js';
import { bernoulli, mulberry32 } from '../../../lib/stats/random.js';

describe('CBPE expected confusion matrix', () => {
  it('matches the hand-computed expected confusion matrix', () => {
    const s = createCbpeSummary();
    addCbpe(s, 0.9, true);
    addCbpe(s, 0.8, true);
    addCbpe(s, 0.3, false);
    addCbpe(s, 0.2, false);
    // E[TP] 1.7, E[FP] 0.3, E[FN] 0.5, E[TN] 1.5
    const e = estimatePerformance(s);
    expect(e.accuracy).toBeCloseTo(0.8, 12);
    expect(e.precision).toBeCloseTo(0.85, 12);
    expect(e.recall).toBeCloseTo(1.7 / 2.2, 12);
    expect(e.f1).toBeCloseTo(1.7 / 2.1, 12);
  });

  it('is unbiased for calibrated probabilities (estimate tracks realized on a simulated window)', () => {
    const rng = mulberry32(21);
    const est = createCbpeSummary();
    const real = createClassificationSummary();
    for (let i = 0; i < 20000; i++) {
      const p = rng();
      const y = bernoulli(rng, p);
      addCbpe(est, p, p >= 0.5);
      addClassification(real, { label: String(y), score: p, predictedLabel: null }, DEFAULT_CLASSIFICATION_OPTIONS);
    }
    const e = estimatePerformance(est);
    const r = classificationMetrics(real);
    expect(Math.abs(e.accuracy! - r.accuracy!)).toBeLessThan(0.015);
    expect(Math.abs(e.f1! - r.f1!)).toBeLessThan(0.015);
    expect(Math.abs(e.roc_auc! - r.roc_auc!)).toBeLessThan(0.015);
    // for uniform calibrated p the expected accuracy is 0.75 and the AUC 5/6
    expect(e.accuracy!).toBeCloseTo(0.75, 2);
    expect(e.roc_auc!).toBeCloseTo(5 / 6, 2);
  });

  it('merges to identical estimates for any split and is null when empty', () => {
    const rng = mulberry32(2);
    const all = createCbpeSummary();
    const a = createCbpeSummary();
    const b = createCbpeSummary();
    for (let i = 0; i < 1000; i++) {
      const p = rng();
      addCbpe(all, p, p > 0.4);
      addCbpe(rng() < 0.5 ? a : b, p, p > 0.4);
    }
    expect(JSON.stringify(estimatePerformance(mergeCbpe(a, b)))).toBe(JSON.stringify(estimatePerformance(all)));
    expect(estimatePerformance(createCbpeSummary()).accuracy).toBeNull();
  });
});
