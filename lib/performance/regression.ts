/**
 * Realized regression performance as a mergeable window summary (exact sums: any split of a window
 * merges to bit-identical metrics).
 *
 *  - MAE  = mean |y − ŷ|                  (sklearn mean_absolute_error)
 *  - RMSE = √ mean (y − ŷ)²               (sklearn root_mean_squared_error)
 *  - MAPE = mean |y − ŷ| / |y| over y ≠ 0 (sklearn mean_absolute_percentage_error divides by
 *    max(|y|, ε) and so explodes on zero targets; driftwatch leaves zero targets out and reports how
 *    many there were in `zeroTargets`). A fraction, not a percentage: 0.1 means 10 %.
 */
import { exactAdd, exactMerge, exactValue, type ExactSum } from '../stats/exactsum.js';

export interface RegressionSummary {
  n: number;
  absError: ExactSum;
  sqError: ExactSum;
  /** Events with y ≠ 0 (the MAPE denominator). */
  nPct: number;
  absPctError: ExactSum;
  zeroTargets: number;
}

export function createRegressionSummary(): RegressionSummary {
  return { n: 0, absError: [], sqError: [], nPct: 0, absPctError: [], zeroTargets: 0 };
}

/** Adds one (target, prediction) pair; non-finite pairs are ignored. Mutates `s`. */
export function addRegression(s: RegressionSummary, target: number, predicted: number): void {
  if (!Number.isFinite(target) || !Number.isFinite(predicted)) return;
  const e = target - predicted;
  s.n++;
  exactAdd(s.absError, Math.abs(e));
  exactAdd(s.sqError, e * e);
  if (target !== 0) {
    s.nPct++;
    exactAdd(s.absPctError, Math.abs(e) / Math.abs(target));
  } else s.zeroTargets++;
}

export function mergeRegression(a: RegressionSummary, b: RegressionSummary): RegressionSummary {
  return {
    n: a.n + b.n,
    absError: exactMerge(a.absError, b.absError),
    sqError: exactMerge(a.sqError, b.sqError),
    nPct: a.nPct + b.nPct,
    absPctError: exactMerge(a.absPctError, b.absPctError),
    zeroTargets: a.zeroTargets + b.zeroTargets,
  };
}

export interface RegressionMetrics {
  readonly mae: number | null;
  readonly rmse: number | null;
  readonly mape: number | null;
}

export function regressionMetrics(s: RegressionSummary): RegressionMetrics {
  return {
    mae: s.n > 0 ? exactValue(s.absError) / s.n : null,
    rmse: s.n > 0 ? Math.sqrt(exactValue(s.sqError) / s.n) : null,
    mape: s.nPct > 0 ? exactValue(s.absPctError) / s.nPct : null,
  };
}
