import { describe, expect, it } from 'vitest';
import {
  addClassification,
  classificationMetrics,
  createClassificationSummary,
  DEFAULT_CLASSIFICATION_OPTIONS,
  mergeClassification,
  type ClassificationSummary,
} from '../../../lib/performance/classification.js';
import { mulberry32 } from '../../../lib/stats/random.js';

const labels = ['1', '0', '1', '1', '0', '0', '1', '0'];
const scores = [0.9, 0.2, 0.4, 0.8, 0.6, 0.1, 0.7, 0.3];

function summaryOf(idx: number[], withPredictedLabel = false): ClassificationSummary {
  const s = createClassificationSummary();
  for (const i of idx) {
    addClassification(
      s,
      { label: labels[i]!, score: scores[i]!, predictedLabel: withPredictedLabel ? (scores[i]! >= 0.5 ? '1' : '0') : null },
      DEFAULT_CLASSIFICATION_OPTIONS,
    );
  }
  return s;
}

describe('realized classification metrics', () => {
  it('matches hand-computed sklearn values on a small binary example', () => {
    const m = classificationMetrics(summaryOf([0, 1, 2, 3, 4, 5, 6, 7]));
    // TP=3 FP=1 FN=1 TN=3
    expect(m.accuracy).toBe(0.75);
    expect(m.precision).toBe(0.75);
    expect(m.recall).toBe(0.75);
    expect(m.f1).toBe(0.75);
    expect(m.roc_auc).toBe(15 / 16);
    expect(m.log_loss).toBeCloseTo((-2 * (Math.log(0.9) + Math.log(0.8) + Math.log(0.4) + Math.log(0.7))) / 8, 14);
    expect(m.brier).toBeCloseTo(0.125, 14);
    // each score alone in its 0.1-wide bin: Σ|y - p| / 8
    expect(m.ece).toBeCloseTo(2.4 / 8, 14);
  });

  it('uses the predicted label when present and the threshold otherwise', () => {
    const a = classificationMetrics(summaryOf([0, 1, 2, 3, 4, 5, 6, 7], true));
    const b = classificationMetrics(summaryOf([0, 1, 2, 3, 4, 5, 6, 7], false));
    expect(a.accuracy).toBe(b.accuracy);
    const s = createClassificationSummary();
    addClassification(s, { label: '1', predictedLabel: '0', score: 0.99 }, DEFAULT_CLASSIFICATION_OPTIONS);
    expect(classificationMetrics(s).accuracy).toBe(0);
  });

  it('macro-averages over classes for multiclass labels', () => {
    const s = createClassificationSummary();
    const pairs: Array<[string, string]> = [
      ['a', 'a'],
      ['a', 'b'],
      ['b', 'b'],
      ['c', 'c'],
      ['c', 'a'],
    ];
    for (const [label, pred] of pairs)
      addClassification(s, { label, predictedLabel: pred, score: null }, { ...DEFAULT_CLASSIFICATION_OPTIONS, average: 'macro' });
    const m = classificationMetrics(s, 'macro');
    // a: tp1 fp1 fn1 -> p .5 r .5; b: tp1 fp1 fn0 -> p .5 r 1; c: tp1 fp0 fn1 -> p 1 r .5
    expect(m.accuracy).toBeCloseTo(3 / 5, 14);
    expect(m.precision).toBeCloseTo(2 / 3, 14);
    expect(m.recall).toBeCloseTo(2 / 3, 14);
    expect(m.roc_auc).toBeNull();
  });

  it('gives null, not 0, when a metric is undefined', () => {
    const m = classificationMetrics(createClassificationSummary());
    expect(m).toEqual({ accuracy: null, precision: null, recall: null, f1: null, roc_auc: null, log_loss: null, brier: null, ece: null });
  });

  it('merges any split of a window into identical metrics', () => {
    const rng = mulberry32(3);
    const all = createClassificationSummary();
    const parts = [createClassificationSummary(), createClassificationSummary(), createClassificationSummary()];
    for (let i = 0; i < 2000; i++) {
      const o = { label: rng() < 0.3 ? '1' : '0', score: rng(), predictedLabel: null };
      addClassification(all, o, DEFAULT_CLASSIFICATION_OPTIONS);
      addClassification(parts[Math.floor(rng() * 3)]!, o, DEFAULT_CLASSIFICATION_OPTIONS);
    }
    const merged = mergeClassification(mergeClassification(parts[2]!, parts[0]!), parts[1]!);
    expect(JSON.stringify(classificationMetrics(merged))).toBe(JSON.stringify(classificationMetrics(all)));
    expect(JSON.stringify(merged)).toBe(JSON.stringify(mergeClassification(all, createClassificationSummary())));
  });
});
