/**
 * L-infinity distance between two categorical distributions.
 *
 *   L∞ = max_i |p_i − q_i|
 *
 * over the union of categories, each side normalised by its own total (NannyML `LInfinityDistance`,
 * default threshold 0.1 as NannyML's constant threshold). It is the largest change in any single
 * category's share, which makes it easy to explain; it ignores how many categories moved.
 */
import { alignCounts, toCategorical } from '../inputs.js';
import type { DriftMethod, MethodComputation, MethodInput } from '../types.js';

export function linfFromCounts(ref: readonly number[], cur: readonly number[]): number {
  let nr = 0;
  let nc = 0;
  for (const x of ref) nr += x;
  for (const x of cur) nc += x;
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]! / nr - cur[i]! / nc));
  return m;
}

function computeLinf(input: MethodInput): MethodComputation {
  const a = alignCounts(toCategorical(input));
  if (a.nRef === 0 || a.nCur === 0) return { score: null, pValue: null, nRef: a.nRef, nCur: a.nCur, exact: true, extras: {} };
  return { score: linfFromCounts(a.ref, a.cur), pValue: null, nRef: a.nRef, nCur: a.nCur, exact: true, extras: { categories: a.keys.length } };
}

export const linf: DriftMethod = {
  id: 'linf',
  displayName: 'L-infinity distance',
  kinds: ['categorical', 'numeric'],
  inputs: ['categorical', 'histogram', 'samples'],
  defaultThreshold: 0.1,
  thresholdType: 'distance',
  convention: 'max |p_i − q_i| over the union of categories (NannyML)',
  reference: 'NannyML univariate drift, L-Infinity distance; the Chebyshev distance scipy.spatial.distance.chebyshev of the share vectors',
  engines: { typescript: computeLinf },
};
