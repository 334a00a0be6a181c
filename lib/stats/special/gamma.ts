/* eslint-disable no-loss-of-precision -- coefficients are transcribed verbatim from upstream (CPython, scipy); they round to the nearest double on purpose. */
/**
 * Log-gamma and the regularized incomplete gamma functions, for chi-squared p-values.
 *
 * - lgamma: the Lanczos approximation with g = 6.024680040776729583740234375 and 13 rational
 *   coefficients (Boost's lanczos13m53), exactly as CPython's `math.lgamma` (Modules/mathmodule.c).
 *   Relative error is a few ulp for x > 0.
 * - P(a, x) / Q(a, x): the Cephes `igam` / `igamc` pair (Moshier, Cephes Math Library, igam.c):
 *   a power series for P when x < max(1, a), and a Legendre continued fraction for Q otherwise,
 *   each evaluated where it converges fast and without cancellation. Scipy's `gammaincc` descends
 *   from the same code (it adds an asymptotic expansion for very large a ~ x, which we do not need:
 *   the series / fraction remain accurate to ~1e-12 relative there, well inside the 1e-9 tolerance
 *   pinned by test/lib/stats/special/gamma.test.ts against scipy).
 * - chi2Sf(x, k) = Q(k/2, x/2), scipy.stats.chi2.sf.
 */

const LANCZOS_G = 6.024680040776729583740234375;
const LANCZOS_NUM = [
  23531376880.41075968857200767445163675473, 42919803642.64909876895789904700198885093, 35711959237.35566804944018545154716670596,
  17921034426.03720969991975575445893111267, 6039542586.35202800506429164430729792107, 1439720407.311721673663223072794912393972,
  248874557.8620541565114603864132294232163, 31426415.58540019438061423162831820536287, 2876370.628935372441225409051620849613599,
  186056.2653952234950402949897160456992822, 8071.672002365816210638002902272250613822, 210.8242777515793458725097339207133627117,
  2.506628274631000270164908177133837338626,
] as const;
const LANCZOS_DEN = [0.0, 39916800.0, 120543840.0, 150917976.0, 105258076.0, 45995730.0, 13339535.0, 2637558.0, 357423.0, 32670.0, 1925.0, 66.0, 1.0] as const;

function lanczosSum(x: number): number {
  let num = 0;
  let den = 0;
  // Horner in x for small x, in 1/x for large x (CPython does the same to avoid overflow).
  if (x < 5) {
    for (let i = 12; i >= 0; i--) {
      num = num * x + LANCZOS_NUM[i]!;
      den = den * x + LANCZOS_DEN[i]!;
    }
  } else {
    for (let i = 0; i < 13; i++) {
      num = num / x + LANCZOS_NUM[i]!;
      den = den / x + LANCZOS_DEN[i]!;
    }
  }
  return num / den;
}

/** ln Γ(x) for x > 0 (NaN otherwise; drift statistics never need the negative axis). */
export function lgamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x === 1 || x === 2) return 0;
  if (!Number.isFinite(x)) return x;
  if (x < 1e-20) return -Math.log(x);
  let r = Math.log(lanczosSum(x)) - LANCZOS_G;
  r += (x - 0.5) * (Math.log(x + LANCZOS_G - 0.5) - 1);
  return r;
}

const MACHEP = 1.11022302462515654042e-16; // 2^-53, Cephes
const MAXLOG = 7.09782712893383996843e2; // ln(DBL_MAX)
const BIG = 4.503599627370496e15;
const BIGINV = 2.22044604925031308085e-16;

/** Regularized lower incomplete gamma P(a, x). */
export function gammaincP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0) || Number.isNaN(x)) return Number.NaN;
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  if (x > 1 && x > a) return 1 - gammaincQ(a, x);
  const ax = a * Math.log(x) - x - lgamma(a);
  if (ax < -MAXLOG) return 0;
  const fac = Math.exp(ax);
  let r = a;
  let c = 1;
  let ans = 1;
  do {
    r += 1;
    c *= x / r;
    ans += c;
  } while (c / ans > MACHEP);
  return (ans * fac) / a;
}

/** Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x). */
export function gammaincQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0) || Number.isNaN(x)) return Number.NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  if (x < 1 || x < a) return 1 - gammaincP(a, x);
  const ax = a * Math.log(x) - x - lgamma(a);
  if (ax < -MAXLOG) return 0;
  const fac = Math.exp(ax);
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let ans = pkm1 / qkm1;
  let t: number;
  let iter = 0;
  do {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    if (qk !== 0) {
      const r = pk / qk;
      t = Math.abs((ans - r) / r);
      ans = r;
    } else {
      t = 1;
    }
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > BIG) {
      pkm2 *= BIGINV;
      pkm1 *= BIGINV;
      qkm2 *= BIGINV;
      qkm1 *= BIGINV;
    }
  } while (t > MACHEP && ++iter < 100000);
  return ans * fac;
}

/** Survival function of the chi-squared distribution with `dof` degrees of freedom (scipy.stats.chi2.sf). */
export function chi2Sf(x: number, dof: number): number {
  if (!(dof > 0)) return Number.NaN;
  if (x <= 0) return 1;
  return gammaincQ(dof / 2, x / 2);
}
