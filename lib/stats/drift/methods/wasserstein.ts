/**
 * Wasserstein-1 (earth mover's) distance between two 1-D distributions, as two registry variants.
 *
 *   W1 = ∫ |F_ref(x) − F_cur(x)| dx          (scipy.stats.wasserstein_distance)
 *
 * `wasserstein` — normalised, score = W1 / max(σ_ref, 0.001) (Evidently `wasserstein_distance_norm`).
 *   σ_ref is the *population* standard deviation of the reference (numpy std, ddof=0). Evidently
 *   flags drift at score >= 0.1, i.e. when the mass moves on average by a tenth of a reference
 *   standard deviation. Raw W1 is also reported, in `extras.w1`.
 *
 * `wasserstein_raw` — score = W1 itself, in the feature's own units (NannyML, Frouros). A raw
 *   distance has no threshold that fits every feature (0.1 is nothing for an income in cents and
 *   everything for a probability), so this variant has no default threshold: the caller sets one in
 *   feature units, and runMethod throws ConfigInvalidError without it. NannyML derives its threshold
 *   from the data (mean + 3σ of W1 over reference chunks); driftwatch leaves that choice to the
 *   monitoring config (`thresholds.wasserstein_raw` or `feature_thresholds.<feature>`), and reports
 *   the normalised score in `extras.normalised` so a threshold can be picked in σ_ref units and
 *   converted (threshold = t · σ_ref).
 *
 * On a binned summary (`histogram` input) each side's mass in bin i is spread uniformly over
 * [binMin_i, binMax_i] (a point mass when they are equal, so discrete data is exact), and the
 * integral of |F_ref − F_cur| between the resulting piecewise-linear CDFs is computed exactly. Inside a
 * bin both true CDFs stay within that bin's share of their modelled values, so
 *   |W1_binned − W1_exact| <= Σ_i width_i · (r_i + c_i)     (`extras.w1ErrorBound`)
 * where width_i is the span of values seen in bin i on either side.
 */
import { finiteSorted } from '../../quantile.js';
import type { BinnedSide, DriftMethod, HistogramInput, MethodComputation, MethodInput } from '../types.js';

export const WASSERSTEIN_STD_FLOOR = 0.001;

/** scipy.stats.wasserstein_distance on two ascending-sorted samples. */
export function wassersteinSorted(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  let total = 0;
  // Walk the pooled sorted values; between consecutive pooled values both ECDFs are constant.
  let prev = Math.min(u[0]!, v[0]!);
  while (i < nu && u[i]! <= prev) i++;
  while (j < nv && v[j]! <= prev) j++;
  while (i < nu || j < nv) {
    const next = Math.min(i < nu ? u[i]! : Infinity, j < nv ? v[j]! : Infinity);
    total += Math.abs(i / nu - j / nv) * (next - prev);
    while (i < nu && u[i]! <= next) i++;
    while (j < nv && v[j]! <= next) j++;
    prev = next;
  }
  return total;
}

function populationStd(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += sorted[i]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (sorted[i]! - mean) ** 2;
  return Math.sqrt(ss / n);
}

interface SideModel {
  readonly cum: Float64Array; // cum[b] = share strictly before bin b
  readonly side: BinnedSide;
  readonly n: number;
}

function model(side: BinnedSide): SideModel {
  const k = side.counts.length;
  const cum = new Float64Array(k + 1);
  let n = 0;
  for (const x of side.counts) n += x;
  for (let b = 0; b < k; b++) cum[b + 1] = cum[b]! + side.counts[b]! / n;
  return { cum, side, n };
}

/** Modelled CDF at x (right limit when `right`, else left limit) knowing x lies in bin b. */
function cdfIn(m: SideModel, b: number, x: number, right: boolean): number {
  const c = m.side.counts[b]!;
  const before = m.cum[b]!;
  if (c === 0) return before;
  const share = c / m.n;
  const lo = m.side.binMin[b]!;
  const hi = m.side.binMax[b]!;
  if (x < lo) return before;
  if (x > hi) return before + share;
  if (lo === hi) return right ? before + share : before;
  return before + (share * (x - lo)) / (hi - lo);
}

function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** ∫ |f| over [0, w] for f linear from f0 to f1. */
function absLinearIntegral(f0: number, f1: number, w: number): number {
  if ((f0 >= 0 && f1 >= 0) || (f0 <= 0 && f1 <= 0)) return (w * (Math.abs(f0) + Math.abs(f1))) / 2;
  return (w * (f0 * f0 + f1 * f1)) / (2 * (Math.abs(f0) + Math.abs(f1)));
}

export function wassersteinFromHistogram(h: HistogramInput): { w1: number; w1ErrorBound: number; nRef: number; nCur: number } {
  const r = model(h.ref);
  const c = model(h.cur);
  const points: number[] = [];
  let bound = 0;
  for (let b = 0; b < h.ref.counts.length; b++) {
    const rc = h.ref.counts[b]!;
    const cc = h.cur.counts[b]!;
    let lo = Infinity;
    let hi = -Infinity;
    if (rc > 0) {
      points.push(h.ref.binMin[b]!, h.ref.binMax[b]!);
      lo = Math.min(lo, h.ref.binMin[b]!);
      hi = Math.max(hi, h.ref.binMax[b]!);
    }
    if (cc > 0) {
      points.push(h.cur.binMin[b]!, h.cur.binMax[b]!);
      lo = Math.min(lo, h.cur.binMin[b]!);
      hi = Math.max(hi, h.cur.binMax[b]!);
    }
    if (hi > lo) bound += (hi - lo) * (rc / r.n + cc / c.n);
  }
  points.sort((a, b) => a - b);
  let w1 = 0;
  for (let k = 0; k + 1 < points.length; k++) {
    const x0 = points[k]!;
    const x1 = points[k + 1]!;
    if (x1 <= x0) continue;
    const b0 = binOf(h.edges, x0);
    const b1 = binOf(h.edges, x1);
    const f0 = cdfIn(r, b0, x0, true) - cdfIn(c, b0, x0, true);
    const f1 = cdfIn(r, b1, x1, false) - cdfIn(c, b1, x1, false);
    w1 += absLinearIntegral(f0, f1, x1 - x0);
  }
  return { w1, w1ErrorBound: bound, nRef: r.n, nCur: c.n };
}

/** Population std of the reference approximated from bin mid-ranges (only when not supplied). */
function histogramStd(side: BinnedSide): number {
  let n = 0;
  let s = 0;
  let ss = 0;
  for (let b = 0; b < side.counts.length; b++) {
    const c = side.counts[b]!;
    if (c === 0) continue;
    const mid = (side.binMin[b]! + side.binMax[b]!) / 2;
    n += c;
    s += c * mid;
    ss += c * mid * mid;
  }
  const mean = s / n;
  return Math.sqrt(Math.max(0, ss / n - mean * mean));
}

interface W1Parts {
  readonly w1: number;
  readonly refStd: number;
  readonly nRef: number;
  readonly nCur: number;
  readonly exact: boolean;
  /** Bound on |W1 − W1_exact| (histogram input only). */
  readonly w1ErrorBound: number | null;
}

/** W1, σ_ref and sizes for either numeric input; null when a side has no values. */
function w1Parts(input: MethodInput, method: string): W1Parts | { nRef: number; nCur: number; exact: boolean; w1: null } {
  if (input.type === 'samples') {
    const r = finiteSorted(input.ref);
    const c = finiteSorted(input.cur);
    const nRef = r.sorted.length;
    const nCur = c.sorted.length;
    if (nRef === 0 || nCur === 0) return { nRef, nCur, exact: true, w1: null };
    return { w1: wassersteinSorted(r.sorted, c.sorted), refStd: populationStd(r.sorted), nRef, nCur, exact: true, w1ErrorBound: null };
  }
  if (input.type === 'histogram') {
    const { w1, w1ErrorBound, nRef, nCur } = wassersteinFromHistogram(input);
    if (nRef === 0 || nCur === 0) return { nRef, nCur, exact: false, w1: null };
    return { w1, refStd: input.refStd ?? histogramStd(input.ref), nRef, nCur, exact: w1ErrorBound === 0, w1ErrorBound };
  }
  throw new TypeError(`${method}: categorical input is not supported`);
}

function computeWasserstein(input: MethodInput): MethodComputation {
  const p = w1Parts(input, 'wasserstein');
  if (p.w1 === null) return { score: null, pValue: null, nRef: p.nRef, nCur: p.nCur, exact: p.exact, extras: {} };
  const norm = Math.max(p.refStd, WASSERSTEIN_STD_FLOOR);
  const bounds: Record<string, number> = p.w1ErrorBound === null ? {} : { w1ErrorBound: p.w1ErrorBound, scoreErrorBound: p.w1ErrorBound / norm };
  return {
    score: p.w1 / norm,
    pValue: null,
    nRef: p.nRef,
    nCur: p.nCur,
    exact: p.exact,
    extras: { w1: p.w1, refStd: p.refStd, stdFloor: WASSERSTEIN_STD_FLOOR, ...bounds },
  };
}

function computeWassersteinRaw(input: MethodInput): MethodComputation {
  const p = w1Parts(input, 'wasserstein_raw');
  if (p.w1 === null) return { score: null, pValue: null, nRef: p.nRef, nCur: p.nCur, exact: p.exact, extras: {} };
  const norm = Math.max(p.refStd, WASSERSTEIN_STD_FLOOR);
  const bounds: Record<string, number> = p.w1ErrorBound === null ? {} : { w1ErrorBound: p.w1ErrorBound, scoreErrorBound: p.w1ErrorBound };
  return {
    score: p.w1,
    pValue: null,
    nRef: p.nRef,
    nCur: p.nCur,
    exact: p.exact,
    extras: { refStd: p.refStd, normalised: p.w1 / norm, stdFloor: WASSERSTEIN_STD_FLOOR, ...bounds },
  };
}

const common = {
  kinds: ['numeric'] as const,
  inputs: ['samples', 'histogram'] as const,
  thresholdType: 'distance' as const,
  reference: 'Vaserstein (1969) Probl. Peredachi Inf. 5(3):64; scipy.stats.wasserstein_distance',
};

export const wasserstein: DriftMethod = {
  ...common,
  id: 'wasserstein',
  displayName: 'Wasserstein-1 distance (normed)',
  defaultThreshold: 0.1,
  convention: 'W1 / max(population std of reference, 0.001) (Evidently wasserstein_distance_norm); raw W1 in extras.w1',
  engines: { typescript: computeWasserstein },
};

export const wassersteinRaw: DriftMethod = {
  ...common,
  id: 'wasserstein_raw',
  displayName: 'Wasserstein-1 distance (raw)',
  defaultThreshold: null,
  convention: 'W1 in feature units (NannyML, Frouros); no default threshold, set one in feature units',
  engines: { typescript: computeWassersteinRaw },
};
