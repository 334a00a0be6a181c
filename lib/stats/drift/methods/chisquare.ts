/**
 * Chi-squared tests on categories. The two conventions in use give very different p-values, so both
 * are named registry variants:
 *
 * `chisquare_gof` — goodness of fit of the current counts to the reference proportions
 * (Evidently `chi_stat_test`, whylogs):
 *   E_i = ref_i · n_cur / n_ref,   χ² = Σ_i (O_i − E_i)² / E_i,   dof = k − 1,   p = Q(dof/2, χ²/2)
 *   = scipy.stats.chisquare(f_obs=cur, f_exp=E).
 *   Unseen categories (reference count 0) would give E_i = 0. driftwatch excludes them from χ²,
 *   computes E over the current values of *seen* categories (so ΣE = ΣO as scipy requires), and
 *   reports `extras.unseenShare` = unseen / n_cur and `extras.unseenCount`. With
 *   `unseenPolicy: 'drift'` any unseen value flags drift. If every current value is unseen the
 *   statistic is undefined: score and p are null and the feature is flagged as drifted (the two
 *   windows share no support).
 *
 * `chisquare_contingency` — homogeneity test on the 2 × k table [ref; cur] (NannyML, Alibi):
 *   E_rj = row_r · col_j / N,   χ² = Σ (O − E)² / E,   dof = k − 1,
 *   with Yates' continuity correction when dof = 1 (O moves toward E by min(0.5, |O − E|)), exactly
 *   scipy.stats.chi2_contingency(table, correction=True). Columns that are zero on both sides are
 *   dropped (scipy would raise on a zero expected frequency).
 *
 * Both: drift when p < 0.05. The p-value uses the regularized upper incomplete gamma function
 * (../../special/gamma.ts), pinned to scipy at 1e-9 relative.
 */
import { chi2Sf } from '../../special/gamma.js';
import { alignCounts, toCategorical } from '../inputs.js';
import type { DriftMethod, MethodComputation, MethodInput, MethodOptions } from '../types.js';

export function chisquareGofFromCounts(
  ref: readonly number[],
  cur: readonly number[],
): { chi2: number | null; pValue: number | null; dof: number; unseenCount: number; nCurSeen: number } {
  let nRef = 0;
  let nCurSeen = 0;
  let unseenCount = 0;
  let k = 0;
  for (let i = 0; i < ref.length; i++) {
    nRef += ref[i]!;
    if (ref[i]! > 0) {
      nCurSeen += cur[i]!;
      k++;
    } else unseenCount += cur[i]!;
  }
  const dof = Math.max(0, k - 1);
  if (nCurSeen === 0) return { chi2: null, pValue: null, dof, unseenCount, nCurSeen };
  const scale = nCurSeen / nRef;
  let chi2 = 0;
  for (let i = 0; i < ref.length; i++) {
    if (ref[i]! === 0) continue;
    const e = ref[i]! * scale;
    const d = cur[i]! - e;
    chi2 += (d * d) / e;
  }
  const pValue = dof === 0 ? 1 : chi2Sf(chi2, dof);
  return { chi2, pValue, dof, unseenCount, nCurSeen };
}

export function chisquareContingencyFromCounts(ref: readonly number[], cur: readonly number[]): { chi2: number; pValue: number; dof: number; yates: boolean } {
  const cols: Array<[number, number]> = [];
  let nr = 0;
  let nc = 0;
  for (let i = 0; i < ref.length; i++) {
    if (ref[i]! + cur[i]! > 0) cols.push([ref[i]!, cur[i]!]);
    nr += ref[i]!;
    nc += cur[i]!;
  }
  const dof = cols.length - 1;
  if (dof <= 0) return { chi2: 0, pValue: 1, dof: 0, yates: false };
  const N = nr + nc;
  const yates = dof === 1;
  let chi2 = 0;
  for (const [a, b] of cols) {
    const col = a + b;
    for (const [o0, row] of [
      [a, nr],
      [b, nc],
    ] as const) {
      const e = (row * col) / N;
      let o = o0;
      if (yates) {
        const diff = e - o;
        o += Math.min(0.5, Math.abs(diff)) * Math.sign(diff);
      }
      chi2 += ((o - e) * (o - e)) / e;
    }
  }
  return { chi2, pValue: chi2Sf(chi2, dof), dof, yates };
}

function computeGof(input: MethodInput, options: MethodOptions): MethodComputation {
  const policy = options.unseenPolicy ?? 'exclude';
  const a = alignCounts(toCategorical(input));
  if (a.nRef === 0 || a.nCur === 0) {
    return { score: null, pValue: null, nRef: a.nRef, nCur: a.nCur, exact: true, extras: { unseenPolicy: policy } };
  }
  const r = chisquareGofFromCounts(a.ref, a.cur);
  const unseenShare = r.unseenCount / a.nCur;
  const forceDrift = r.chi2 === null || (policy === 'drift' && r.unseenCount > 0);
  return {
    score: r.chi2,
    pValue: r.pValue,
    nRef: a.nRef,
    nCur: a.nCur,
    exact: true,
    forceDrift,
    extras: { statistic: r.chi2, dof: r.dof, variant: 'goodness_of_fit', unseenCount: r.unseenCount, unseenShare, unseenPolicy: policy },
  };
}

function computeContingency(input: MethodInput): MethodComputation {
  const a = alignCounts(toCategorical(input));
  if (a.nRef === 0 || a.nCur === 0) return { score: null, pValue: null, nRef: a.nRef, nCur: a.nCur, exact: true, extras: {} };
  const r = chisquareContingencyFromCounts(a.ref, a.cur);
  return {
    score: r.chi2,
    pValue: r.pValue,
    nRef: a.nRef,
    nCur: a.nCur,
    exact: true,
    extras: { statistic: r.chi2, dof: r.dof, variant: 'contingency', yates: r.yates },
  };
}

const common = {
  kinds: ['categorical', 'numeric'] as const,
  inputs: ['categorical', 'histogram', 'samples'] as const,
  defaultThreshold: 0.05,
  thresholdType: 'p_value' as const,
};

export const chisquareGof: DriftMethod = {
  ...common,
  id: 'chisquare_gof',
  displayName: 'Chi-squared goodness of fit',
  convention: 'scipy.stats.chisquare(cur, ref·n_cur/n_ref); unseen categories excluded and reported (Evidently, whylogs)',
  reference: 'Pearson (1900) Phil. Mag. 50:157; scipy.stats.chisquare',
  engines: { typescript: computeGof },
};

export const chisquareContingency: DriftMethod = {
  ...common,
  id: 'chisquare_contingency',
  displayName: 'Chi-squared contingency (2 x k)',
  convention: 'scipy.stats.chi2_contingency on [ref; cur], Yates when dof = 1 (NannyML, Alibi)',
  reference: 'Pearson (1900); Yates (1934) JRSS Suppl. 1:217; scipy.stats.chi2_contingency',
  engines: { typescript: computeContingency },
};
