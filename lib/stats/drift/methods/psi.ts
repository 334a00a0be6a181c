/**
 * Population Stability Index.
 *
 *   PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)
 *
 * e_i = reference share of bin i, a_i = current share, natural log. A share of exactly 0 is replaced
 * by `epsilon` (default 1e-4, as Evidently's `psi_stat_test`), which bounds each term; without it
 * PSI is infinite whenever a bin empties (Frouros fills with the float minimum and explodes).
 *
 * Binning (driftwatch convention, see docs/metrics.md): bins are fixed once from reference quantiles,
 * deciles by default (numpy 'inverted_cdf' quantiles, outer edges ±∞, right-closed bins), and
 * missing values form a bin of their own whenever either side has any. A current window then only
 * needs counts per bin, which stream and merge exactly. Categorical columns use one bin per category.
 *
 * Bands (Siddiqi 2006, "Credit Risk Scorecards"): < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant.
 * Default threshold 0.1 on the distance (drift when PSI >= 0.1).
 */
import { quantileEdges } from '../../quantile.js';
import { alignCounts, samplesToHistogram } from '../inputs.js';
import type { DriftMethod, MethodComputation, MethodInput, MethodOptions } from '../types.js';

export const PSI_DEFAULT_EPSILON = 1e-4;
export const PSI_DEFAULT_BINS = 10;

/** PSI of two aligned count vectors (each normalised by its own total). */
export function psiFromCounts(ref: readonly number[], cur: readonly number[], epsilon = PSI_DEFAULT_EPSILON): number {
  let nr = 0;
  let nc = 0;
  for (const x of ref) nr += x;
  for (const x of cur) nc += x;
  let psi = 0;
  for (let i = 0; i < ref.length; i++) {
    let e = ref[i]! / nr;
    let a = cur[i]! / nc;
    if (e === 0) e = epsilon;
    if (a === 0) a = epsilon;
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

function computePsi(input: MethodInput, options: MethodOptions): MethodComputation {
  const epsilon = options.epsilon ?? PSI_DEFAULT_EPSILON;
  let ref: number[];
  let cur: number[];
  let refMissing: number;
  let curMissing: number;
  if (input.type === 'categorical') {
    const a = alignCounts(input);
    ref = a.ref;
    cur = a.cur;
    refMissing = input.refMissing ?? 0;
    curMissing = input.curMissing ?? 0;
  } else {
    const bins = options.bins ?? PSI_DEFAULT_BINS;
    const h = input.type === 'histogram' ? input : samplesToHistogram(input, (s) => quantileEdges(s, bins));
    ref = [...h.ref.counts];
    cur = [...h.cur.counts];
    refMissing = h.ref.missing;
    curMissing = h.cur.missing;
  }
  const missingBin = refMissing > 0 || curMissing > 0;
  if (missingBin) {
    ref.push(refMissing);
    cur.push(curMissing);
  }
  const nRef = ref.reduce((s, x) => s + x, 0);
  const nCur = cur.reduce((s, x) => s + x, 0);
  if (nRef === 0 || nCur === 0) {
    return { score: null, pValue: null, nRef, nCur, exact: true, extras: { epsilon, bins: ref.length, missingBin } };
  }
  const score = psiFromCounts(ref, cur, epsilon);
  return { score, pValue: null, nRef, nCur, exact: true, extras: { epsilon, bins: ref.length, missingBin } };
}

export const psi: DriftMethod = {
  id: 'psi',
  displayName: 'Population Stability Index',
  kinds: ['numeric', 'categorical'],
  inputs: ['samples', 'histogram', 'categorical'],
  defaultThreshold: 0.1,
  thresholdType: 'distance',
  convention: 'natural log; reference-decile bins (±∞ outer edges), missing bin, empty share -> epsilon 1e-4',
  reference: 'Siddiqi (2006) Credit Risk Scorecards; Evidently psi_stat_test (epsilon 1e-4)',
  engines: { typescript: computePsi },
};
