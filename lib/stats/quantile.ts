/**
 * Quantile and binning helpers shared by the drift methods and the reference profile.
 *
 * Quantiles are numpy's method='inverted_cdf' (Hyndman & Fan type 1): the smallest sample value v
 * with ECDF(v) >= p. We use type 1 rather than numpy's default linear interpolation because the edges
 * are then *data values*: bins (e_{i-1}, e_i] are right-closed at observed values, so the ECDF of the
 * reference is exact at every edge, discrete columns get one bin per value, and the decile edges
 * (p = i/10) are a subset of the fine edges (p = j/K, K a multiple of 10) — which lets PSI bins be
 * derived from the fine histogram of a window summary without a second pass.
 */

/** Type-1 quantile of an ascending-sorted, NaN-free array at probability i/k (exact integer arithmetic). */
export function quantileType1AtFraction(sorted: ArrayLike<number>, i: number, k: number): number {
  const n = sorted.length;
  // smallest index idx with (idx+1)/n >= i/k  <=>  idx = ceil(n*i/k) - 1
  const idx = Math.max(0, Math.min(n - 1, Math.ceil((n * i) / k) - 1));
  return sorted[idx]!;
}

/** Unique interior edges at p = 1/k .. (k-1)/k (ascending, deduplicated). */
export function quantileEdges(sorted: ArrayLike<number>, k: number): number[] {
  const edges: number[] = [];
  if (sorted.length === 0) return edges;
  for (let i = 1; i < k; i++) {
    const q = quantileType1AtFraction(sorted, i, k);
    if (edges.length === 0 || q > edges[edges.length - 1]!) edges.push(q);
  }
  return edges;
}

/** Distinct values of an ascending-sorted array. */
export function distinctSorted(sorted: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (out.length === 0 || v !== out[out.length - 1]) out.push(v);
  }
  return out;
}

/**
 * Bin index of x for right-closed bins over interior `edges`: the number of edges strictly below x.
 * Bin 0 is (-inf, e0], bin i is (e_{i-1}, e_i], bin E is (e_{E-1}, +inf).
 */
export function binIndex(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Sorted copy of the finite values; counts non-finite / NaN entries as missing. */
export function finiteSorted(values: ArrayLike<number>): { sorted: Float64Array; missing: number } {
  let missing = 0;
  const tmp = new Float64Array(values.length);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v))
      tmp[k++] = v + 0; // +0 folds -0 into +0
    else missing++;
  }
  return { sorted: tmp.slice(0, k).sort(), missing };
}

/**
 * Fine "sketch" edges of a numeric reference used by window summaries for KS / Wasserstein.
 * - At most `fineBins` distinct values: every distinct value is an edge (one bin per value; exact).
 * - Otherwise: the type-1 quantiles j/fineBins, plus `fineBins/10` equal-width tail edges on each side
 *   spanning one reference range beyond min and max. Without the tails, a current window that moves
 *   outside the reference range lands in a single unbounded bin whose inside we cannot see, and
 *   binned W1 / KS lose accuracy exactly when drift is largest.
 */
export function sketchEdges(sorted: ArrayLike<number>, fineBins: number): number[] {
  const distinct = distinctSorted(sorted);
  if (distinct.length <= fineBins) return distinct;
  const core = quantileEdges(sorted, fineBins);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const tail = Math.max(1, Math.floor(fineBins / 10));
  const step = (max - min) / tail;
  const low: number[] = [];
  for (let j = tail; j >= 1; j--) low.push(min - j * step);
  const high: number[] = [];
  for (let j = 1; j <= tail; j++) high.push(max + j * step);
  return [...low, ...core, ...high];
}
