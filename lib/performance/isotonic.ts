/**
 * Isotonic regression, as scikit-learn's `IsotonicRegression(increasing=True, out_of_bounds='clip')`
 * fits and predicts (sklearn/isotonic.py, 1.5):
 *  1. sort by x and pool equal x values into their weighted mean y (`_make_unique`);
 *  2. pool adjacent violators (PAV) so the fitted y is non-decreasing (weighted least squares);
 *  3. keep the first and last point and every point whose y differs from a neighbour's
 *     (`_build_y` trim_duplicates);
 *  4. predict by linear interpolation between the kept points (np.interp), clipping x to the fitted
 *     range.
 * NannyML's CBPE calibrates scores with exactly this regressor (nannyml/calibration.py
 * IsotonicCalibrator).
 */

export interface IsotonicModel {
  /** Thresholds (ascending) and fitted values (non-decreasing), equal lengths >= 1. */
  readonly x: readonly number[];
  readonly y: readonly number[];
}

export function fitIsotonic(xs: readonly number[], ys: readonly number[], weights?: readonly number[]): IsotonicModel {
  if (xs.length !== ys.length) throw new RangeError(`x and y lengths differ (${xs.length} vs ${ys.length})`);
  if (xs.length === 0) throw new RangeError('isotonic regression needs at least one point');
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]! || a - b);
  // 1. unique x with weighted mean y
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  for (const i of order) {
    const x = xs[i]!;
    const w = weights?.[i] ?? 1;
    const last = ux.length - 1;
    if (last >= 0 && ux[last] === x) {
      const tw = uw[last]! + w;
      uy[last] = (uy[last]! * uw[last]! + ys[i]! * w) / tw;
      uw[last] = tw;
    } else {
      ux.push(x);
      uy.push(ys[i]!);
      uw.push(w);
    }
  }
  // 2. PAV over blocks (value, weight, length)
  const bv: number[] = [];
  const bw: number[] = [];
  const bl: number[] = [];
  for (let i = 0; i < uy.length; i++) {
    bv.push(uy[i]!);
    bw.push(uw[i]!);
    bl.push(1);
    while (bv.length > 1 && bv[bv.length - 2]! > bv[bv.length - 1]!) {
      const v2 = bv.pop()!;
      const w2 = bw.pop()!;
      const l2 = bl.pop()!;
      const k = bv.length - 1;
      const w = bw[k]! + w2;
      bv[k] = (bv[k]! * bw[k]! + v2 * w2) / w;
      bw[k] = w;
      bl[k] = bl[k]! + l2;
    }
  }
  const fitted: number[] = [];
  for (let b = 0; b < bv.length; b++) for (let j = 0; j < bl[b]!; j++) fitted.push(bv[b]!);
  // 3. trim points whose y equals both neighbours' y
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < ux.length; i++) {
    const interior = i > 0 && i < ux.length - 1;
    if (interior && fitted[i] === fitted[i - 1] && fitted[i] === fitted[i + 1]) continue;
    x.push(ux[i]!);
    y.push(fitted[i]!);
  }
  return { x, y };
}

/** np.interp(clip(v, x0, xn), x, y). */
export function predictIsotonic(m: IsotonicModel, v: number): number {
  const { x, y } = m;
  const n = x.length;
  if (v <= x[0]!) return y[0]!;
  if (v >= x[n - 1]!) return y[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x[mid]! <= v) lo = mid;
    else hi = mid;
  }
  const x0 = x[lo]!;
  const x1 = x[hi]!;
  if (x1 === x0) return y[hi]!;
  return y[lo]! + ((y[hi]! - y[lo]!) * (v - x0)) / (x1 - x0);
}
