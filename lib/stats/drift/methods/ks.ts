/**
 * Two-sample Kolmogorov-Smirnov test (two-sided).
 *
 *   D = sup_x |F_ref(x) − F_cur(x)|,   p from the exact distribution of D_{m,n} when
 *   max(m, n) <= 10 000, else kstwo.sf(D, round(m n / (m + n)))
 *
 * Exactly scipy.stats.ks_2samp(ref, cur, alternative='two-sided', method='auto') on raw samples
 * (see ../../special/ks2samp.ts for the ported algorithms and the exact->asymptotic fallback).
 * Missing values (NaN) are dropped. Threshold: drift when p < 0.05 (Evidently uses p <= 0.05; the
 * difference only matters for p exactly 0.05).
 *
 * On a binned window summary (`histogram` input) D is evaluated at the bin edges, where both ECDFs
 * are known exactly; inside a bin each ECDF moves by at most that bin's share, so
 *   D_binned <= D_exact <= D_binned + max_i max(r_i, c_i)
 * over bins whose values are not a single point (`extras.dErrorBound`). The p-value is computed from
 * D_binned with the same rule; the result is flagged `exact: false`.
 */
import { ks2samp, ks2sampPValue } from '../../special/ks2samp.js';
import { finiteSorted } from '../../quantile.js';
import type { DriftMethod, HistogramInput, MethodComputation, MethodInput, MethodOptions } from '../types.js';

/** D and its error bound from a shared-edge histogram. */
export function ksFromHistogram(h: HistogramInput): { d: number; nRef: number; nCur: number; dErrorBound: number } {
  const rc = h.ref.counts;
  const cc = h.cur.counts;
  let nRef = 0;
  let nCur = 0;
  for (const x of rc) nRef += x;
  for (const x of cc) nCur += x;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  let bound = 0;
  for (let b = 0; b < rc.length; b++) {
    const r = rc[b]!;
    const c = cc[b]!;
    i += r;
    j += c;
    const diff = i / nRef - j / nCur;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
    if (r > 0 || c > 0) {
      const lo = Math.min(r > 0 ? h.ref.binMin[b]! : Infinity, c > 0 ? h.cur.binMin[b]! : Infinity);
      const hi = Math.max(r > 0 ? h.ref.binMax[b]! : -Infinity, c > 0 ? h.cur.binMax[b]! : -Infinity);
      if (hi > lo) bound = Math.max(bound, r / nRef, c / nCur);
    }
  }
  const d = Math.max(maxS, Math.min(1, Math.max(0, -minS)));
  return { d, nRef, nCur, dErrorBound: bound };
}

function computeKs(input: MethodInput, options: MethodOptions): MethodComputation {
  const mode = options.ksMode ?? 'auto';
  if (input.type === 'samples') {
    const r = finiteSorted(input.ref);
    const c = finiteSorted(input.cur);
    const nRef = r.sorted.length;
    const nCur = c.sorted.length;
    if (nRef === 0 || nCur === 0) return { score: null, pValue: null, nRef, nCur, exact: true, extras: {} };
    const t = ks2samp(r.sorted, c.sorted, mode);
    return {
      score: t.statistic,
      pValue: t.pValue,
      nRef,
      nCur,
      exact: true,
      extras: { statistic: t.statistic, pMethod: t.method, exactFailed: t.exactFailed, sign: t.sign },
    };
  }
  if (input.type === 'histogram') {
    const { d, nRef, nCur, dErrorBound } = ksFromHistogram(input);
    if (nRef === 0 || nCur === 0) return { score: null, pValue: null, nRef, nCur, exact: false, extras: {} };
    const t = ks2sampPValue(d, nRef, nCur, mode);
    return {
      score: t.statistic,
      pValue: t.pValue,
      nRef,
      nCur,
      exact: dErrorBound === 0,
      extras: { statistic: t.statistic, pMethod: t.method, exactFailed: t.exactFailed, dErrorBound },
    };
  }
  throw new TypeError('ks: categorical input is not supported');
}

export const ks: DriftMethod = {
  id: 'ks',
  displayName: 'Kolmogorov-Smirnov (two-sample)',
  kinds: ['numeric'],
  inputs: ['samples', 'histogram'],
  defaultThreshold: 0.05,
  thresholdType: 'p_value',
  convention: "scipy.stats.ks_2samp two-sided, method='auto' (exact if max(n1,n2) <= 10000)",
  reference: "Hodges (1958) Ark. Mat. 3:469; Simard & L'Ecuyer (2011) JSS 39(11); scipy.stats.ks_2samp (scipy 1.17)",
  engines: { typescript: computeKs },
};
