/**
 * Confidence-Based Performance Estimation (CBPE; NannyML, nannyml/performance_estimation/
 * confidence_based): estimated binary-classification performance from calibrated probabilities,
 * before any label arrives.
 *
 * If p is the calibrated probability that a prediction is positive, each prediction contributes to
 * the *expected* confusion matrix:
 *   ŷ = 1:  E[TP] += p,  E[FP] += 1 − p        ŷ = 0:  E[FN] += p,  E[TN] += 1 − p
 * and accuracy = (TP + TN)/n, precision = TP/(TP + FP), recall = TP/(TP + FN),
 * F1 = TP / (TP + ½(FP + FN)) (NannyML estimate_f1), ROC AUC = the AUC of the expected ROC curve
 * (for each threshold t: E[TP] = Σ_{p≥t} p, E[FP] = Σ_{p≥t} (1 − p); NannyML estimate_roc_auc),
 * computed on the same 1e-4 score bins as the realized AUC (./score-bins.ts), including the (0,0)
 * end point.
 *
 * The estimate is unbiased when the calibration still holds, i.e. under covariate shift with an
 * unchanged P(y | x); it cannot see concept drift (docs/windows.md, "CBPE versus realized").
 *
 * Mergeability: probabilities are accumulated as integer micro-units (round(p · 1e6)), so sums are
 * exact integers whatever the order (exact up to 9·10⁹ predictions per window) and the quantisation
 * error is at most 5e-7 per prediction.
 */
import { aucFromBins, scoreBin } from './score-bins.js';

export const CBPE_UNIT = 1_000_000;

export interface CbpeSummary {
  n: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** Calibrated-probability bin -> [predictions, Σ p in micro-units]. */
  bins: Record<string, [number, number]>;
}

export function createCbpeSummary(): CbpeSummary {
  return { n: 0, tp: 0, fp: 0, fn: 0, tn: 0, bins: {} };
}

/** Adds one prediction: its calibrated positive probability and whether it was predicted positive. */
export function addCbpe(s: CbpeSummary, calibratedP: number, predictedPositive: boolean): void {
  if (!Number.isFinite(calibratedP)) return;
  const p = Math.min(1, Math.max(0, calibratedP));
  const u = Math.round(p * CBPE_UNIT);
  s.n++;
  if (predictedPositive) {
    s.tp += u;
    s.fp += CBPE_UNIT - u;
  } else {
    s.fn += u;
    s.tn += CBPE_UNIT - u;
  }
  const key = String(scoreBin(p));
  const bin = s.bins[key] ?? (s.bins[key] = [0, 0]);
  bin[0]++;
  bin[1] += u;
}

export function mergeCbpe(a: CbpeSummary, b: CbpeSummary): CbpeSummary {
  const keys = [...new Set([...Object.keys(a.bins), ...Object.keys(b.bins)])].sort((x, y) => Number(x) - Number(y));
  const bins: Record<string, [number, number]> = {};
  for (const k of keys) {
    const x = a.bins[k] ?? [0, 0];
    const y = b.bins[k] ?? [0, 0];
    bins[k] = [x[0] + y[0], x[1] + y[1]];
  }
  return { n: a.n + b.n, tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn, bins };
}

export interface CbpeEstimate {
  readonly accuracy: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly roc_auc: number | null;
}

const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

export function estimatePerformance(s: CbpeSummary): CbpeEstimate {
  if (s.n === 0) return { accuracy: null, precision: null, recall: null, f1: null, roc_auc: null };
  const bins = new Map<number, readonly [number, number]>();
  for (const [k, [count, pu]] of Object.entries(s.bins)) {
    const pos = pu / CBPE_UNIT;
    bins.set(Number(k), [pos, count - pos]);
  }
  return {
    accuracy: (s.tp + s.tn) / (s.n * CBPE_UNIT),
    precision: ratio(s.tp, s.tp + s.fp),
    recall: ratio(s.tp, s.tp + s.fn),
    f1: ratio(s.tp, s.tp + 0.5 * (s.fp + s.fn)),
    roc_auc: aucFromBins(bins),
  };
}
