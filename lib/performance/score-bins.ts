/**
 * Scores in [0, 1] quantised to fixed bins, and ROC AUC from binned positive/negative weights.
 *
 * Why bins: a window's ROC AUC needs the ranking of every score, which is not mergeable in bounded
 * memory. With SCORE_BINS fixed bins the state is a sparse vector of per-bin weights that merges by
 * addition (order-free, so every split of a window gives the same AUC). Pairs that fall into the same
 * bin count as ties (½), so the binned AUC differs from sklearn's `roc_auc_score` on the raw scores by
 * at most ½ · (share of positive/negative pairs sharing a bin) — below 1e-3 for any score distribution
 * without large atoms, and exactly 0 when every score has at most 4 decimals.
 */

export const SCORE_BINS = 10_000;

/**
 * Bin of a score: ⌊p · SCORE_BINS + 1e-9⌋, clamped into [0, SCORE_BINS − 1] (p = 1 joins the last
 * bin). The 1e-9 absorbs binary rounding (0.1234 · 10⁴ = 1233.9999999999998 in doubles), so a score
 * with 4 decimals always lands in its own bin.
 */
export function scoreBin(p: number): number {
  const b = Math.floor(p * SCORE_BINS + 1e-9);
  return b < 0 ? 0 : b >= SCORE_BINS ? SCORE_BINS - 1 : b;
}

/**
 * ROC AUC as the Mann-Whitney statistic over bins (equal to the trapezoidal area under the ROC curve
 * through every bin threshold, including (0,0) and (1,1)):
 *   AUC = Σ_i neg_i · (Σ_{j>i} pos_j + ½ pos_i) / (P · N).
 * Weights may be fractional (CBPE's expected positives). Returns null when P or N is 0 (undefined,
 * as sklearn raises).
 */
export function aucFromBins(bins: ReadonlyMap<number, readonly [number, number]> | ReadonlyArray<readonly [number, number, number]>): number | null {
  const entries: Array<readonly [number, number, number]> = Array.isArray(bins)
    ? [...(bins as ReadonlyArray<readonly [number, number, number]>)]
    : [...(bins as ReadonlyMap<number, readonly [number, number]>)].map(([b, [p, n]]) => [b, p, n] as const);
  entries.sort((a, b) => a[0] - b[0]);
  let totalPos = 0;
  let totalNeg = 0;
  for (const [, p, n] of entries) {
    totalPos += p;
    totalNeg += n;
  }
  if (!(totalPos > 0) || !(totalNeg > 0)) return null;
  // Walk from the highest bin down: posAbove = Σ_{j>i} pos_j.
  let posAbove = 0;
  let area = 0;
  for (let k = entries.length - 1; k >= 0; k--) {
    const [, p, n] = entries[k]!;
    area += n * (posAbove + 0.5 * p);
    posAbove += p;
  }
  return area / (totalPos * totalNeg);
}
