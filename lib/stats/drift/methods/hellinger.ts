/**
 * Hellinger distance between two categorical distributions.
 *
 *   H(P, Q) = ‖√P − √Q‖₂ / √2 = √(1 − Σ_i √(p_i q_i)) ∈ [0, 1]
 *
 * Over the union of categories, each side normalised by its own total (Evidently `hellinger`, NannyML
 * `HellingerDistance`; default threshold 0.1). The first form is used: it does not cancel for close
 * distributions the way 1 − Σ√(pq) does.
 */
import { alignCounts, toCategorical } from '../inputs.js';
import type { DriftMethod, MethodComputation, MethodInput } from '../types.js';

export function hellingerFromCounts(ref: readonly number[], cur: readonly number[]): number {
  let nr = 0;
  let nc = 0;
  for (const x of ref) nr += x;
  for (const x of cur) nc += x;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.sqrt(ref[i]! / nr) - Math.sqrt(cur[i]! / nc);
    s += d * d;
  }
  return Math.sqrt(s) / Math.SQRT2;
}

function computeHellinger(input: MethodInput): MethodComputation {
  const a = alignCounts(toCategorical(input));
  if (a.nRef === 0 || a.nCur === 0) return { score: null, pValue: null, nRef: a.nRef, nCur: a.nCur, exact: true, extras: {} };
  return { score: hellingerFromCounts(a.ref, a.cur), pValue: null, nRef: a.nRef, nCur: a.nCur, exact: true, extras: { categories: a.keys.length } };
}

export const hellinger: DriftMethod = {
  id: 'hellinger',
  displayName: 'Hellinger distance',
  kinds: ['categorical', 'numeric'],
  inputs: ['categorical', 'histogram', 'samples'],
  defaultThreshold: 0.1,
  thresholdType: 'distance',
  convention: '‖√p − √q‖₂ / √2 over the union of categories (Evidently, NannyML)',
  reference: 'Hellinger (1909) J. reine angew. Math. 136:210; scipy.spatial.distance.euclidean(√p, √q) / √2',
  engines: { typescript: computeHellinger },
};
