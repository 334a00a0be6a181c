/**
 * Multiple-testing control across features.
 *
 * Testing 60 features at α = 0.05 flags ~3 of them on identical data. Two corrections:
 * - Bonferroni (family-wise error; Alibi's default): p_adj = min(1, m · p).
 * - Benjamini-Hochberg (false discovery rate, 1995): with p sorted ascending,
 *   p_adj(i) = min_{j >= i} min(1, p(j) · (m / j))  (the step-up adjusted p-values of
 *   scipy.stats.false_discovery_control(method='bh'), = statsmodels multipletests 'fdr_bh').
 *   The product is formed as scipy forms it, p · (m / j) rather than m · p / j, so results are
 *   bit-identical: the two orders can round either side of a threshold such as 0.1 (0.06 at rank 6
 *   of 10 is 0.1 one way and 0.09999999999999999 the other).
 * A feature drifts when p_adj < α. Null p-values (distance methods, insufficient data) are not
 * counted in m and get a null adjusted value.
 */

export type CorrectionMethod = 'none' | 'bonferroni' | 'benjamini-hochberg';

export interface CorrectionResult {
  readonly adjusted: ReadonlyArray<number | null>;
  readonly reject: readonly boolean[];
  readonly m: number;
}

export function bonferroni(pValues: ReadonlyArray<number | null>): Array<number | null> {
  const m = pValues.filter((p) => p !== null).length;
  return pValues.map((p) => (p === null ? null : Math.min(1, p * m)));
}

export function benjaminiHochberg(pValues: ReadonlyArray<number | null>): Array<number | null> {
  const idx: number[] = [];
  pValues.forEach((p, i) => {
    if (p !== null) idx.push(i);
  });
  const m = idx.length;
  // stable sort by p so ties keep input order (results do not depend on it anyway)
  idx.sort((a, b) => pValues[a]! - pValues[b]! || a - b);
  const out: Array<number | null> = pValues.map(() => null);
  let running = 1;
  for (let r = m - 1; r >= 0; r--) {
    const i = idx[r]!;
    running = Math.min(running, pValues[i]! * (m / (r + 1)));
    out[i] = Math.min(1, running);
  }
  return out;
}

export function correctPValues(pValues: ReadonlyArray<number | null>, method: CorrectionMethod, alpha: number): CorrectionResult {
  const adjusted = method === 'bonferroni' ? bonferroni(pValues) : method === 'benjamini-hochberg' ? benjaminiHochberg(pValues) : [...pValues];
  return {
    adjusted,
    reject: adjusted.map((p) => p !== null && p < alpha),
    m: pValues.filter((p) => p !== null).length,
  };
}
