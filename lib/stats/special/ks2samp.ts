/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, ported from scipy 1.17
 * `scipy/stats/_stats_py.py::ks_2samp` (and `_stats_pythran.py::_compute_outer_prob_inside_method`).
 *
 *   D = sup_x |F_ref(x) − F_cur(x)|   (ECDFs, right-continuous: F(x) = #{v <= x} / n)
 *
 * p-value, method 'auto' (scipy's default):
 * - exact when max(n1, n2) <= 10 000 (MAX_AUTO_N): h = round(D · lcm(n1, n2)) (numpy round-half-even),
 *   D := h / lcm, then
 *   - n1 == n2: `_compute_prob_outside_square(n, h)` (alternating binomial sum in Horner form),
 *   - else: `_compute_outer_prob_inside_method(n1, n2, g, h)` (Hodges' lattice-path count, with
 *     Viehmann's 1 − p recursion, arXiv:2102.08037).
 *   If that computation over/underflows or leaves [0, 1], scipy warns and falls back to 'asymp'
 *   with the rounded D; we do the same and report `method: 'asymp'`, `exactFailed: true`.
 * - asymptotic otherwise: p = kstwo.sf(D, round(en)), en = m·n/(m+n) (`kolmognSf`).
 * 'exact' requested explicitly switches to 'asymp' when lcm would overflow int32, as scipy does.
 */
import { kolmognSf } from './kolmogorov.js';

export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsTestResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
  exactFailed: boolean;
  /** +1 when the reference ECDF exceeds the current one at the supremum, -1 otherwise (scipy statistic_sign). */
  sign: 1 | -1;
}

export const KS_MAX_AUTO_N = 10000;

/** numpy.round: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  if (Math.abs(x - Math.trunc(x)) === 0.5) return 2 * Math.round(x / 2);
  return r;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}

/** Pr(D_{n,n} >= h/n), scipy `_compute_prob_outside_square`. */
export function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k -= 1;
  }
  return 2 * P;
}

/** Proportion of lattice paths leaving |x/m − y/n| < h/lcm, scipy `_compute_outer_prob_inside_method`. */
export function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  let m = m0;
  let n = n0;
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let j = minj; j < maxj; j++) A[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const end = Math.min(maxj - minj + (lastlen - curlen), lenA);
      for (let q = maxj - minj; q < end; q++) A[q] = 1;
    }
  }
  return A[maxj - minj - 1]!;
}

function attemptExact(n1: number, n2: number, g: number, d: number): { ok: boolean; d: number; p: number } {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dr = h / lcm;
  if (h === 0) return { ok: true, d: dr, p: 1 };
  const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
  if (!Number.isFinite(p) || p < 0 || p > 1) return { ok: false, d: dr, p };
  return { ok: true, d: dr, p };
}

/** p-value for a two-sided D with sample sizes n1, n2 (scipy ks_2samp semantics). */
export function ks2sampPValue(
  d: number,
  n1: number,
  n2: number,
  method: KsMethod = 'auto',
): { statistic: number; pValue: number; method: 'exact' | 'asymp'; exactFailed: boolean } {
  const g = gcd(n1, n2);
  const n1g = n1 / g;
  const n2g = n2 / g;
  let mode: 'exact' | 'asymp';
  if (method === 'auto') mode = Math.max(n1, n2) <= KS_MAX_AUTO_N ? 'exact' : 'asymp';
  else if (method === 'exact') mode = n1g >= 2147483647 / n2g ? 'asymp' : 'exact';
  else mode = 'asymp';
  let stat = d;
  let exactFailed = false;
  if (mode === 'exact') {
    const r = attemptExact(n1, n2, g, d);
    stat = r.d;
    if (r.ok) return { statistic: stat, pValue: Math.min(1, Math.max(0, r.p)), method: 'exact', exactFailed };
    exactFailed = true;
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  const p = kolmognSf(roundHalfEven(en), stat);
  return { statistic: stat, pValue: Math.min(1, Math.max(0, p)), method: 'asymp', exactFailed };
}

/**
 * D and sign from two ascending-sorted samples, evaluating cdf1 − cdf2 at every pooled value like
 * scipy (np.searchsorted(..., side='right') / n); the same float expression i/n1 − j/n2 is used so D
 * is bit-identical to scipy's.
 */
export function ks2sampStatisticSorted(a: ArrayLike<number>, b: ArrayLike<number>): { d: number; sign: 1 | -1 } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < n1 || j < n2) {
    const va = i < n1 ? a[i]! : Infinity;
    const vb = j < n2 ? b[j]! : Infinity;
    const v = va <= vb ? va : vb;
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const minClipped = Math.min(1, Math.max(0, -minS));
  if (minClipped > maxS) return { d: minClipped, sign: -1 };
  return { d: maxS, sign: 1 };
}

/** Full two-sided two-sample KS test on raw samples (NaN must be removed by the caller). */
export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>, method: KsMethod = 'auto'): KsTestResult {
  if (a.length === 0 || b.length === 0) throw new RangeError('ks2samp: samples must not be empty');
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  const { d, sign } = ks2sampStatisticSorted(sa, sb);
  const r = ks2sampPValue(d, sa.length, sb.length, method);
  return { statistic: r.statistic, pValue: r.pValue, method: r.method, exactFailed: r.exactFailed, sign };
}
