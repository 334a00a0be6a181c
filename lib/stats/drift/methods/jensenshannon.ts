/**
 * Jensen-Shannon distance / divergence between two categorical distributions.
 *
 *   JSD_b(P, Q) = ½ KL_b(P ‖ M) + ½ KL_b(Q ‖ M),   M = (P + Q)/2,   KL_b uses log base b
 *   distance    = √JSD_b                            (scipy.spatial.distance.jensenshannon)
 *
 * Conventions differ by tool, so each is a named registry variant with its own default threshold:
 *   - `jensenshannon`:                  distance, base e   — Evidently (threshold 0.1)
 *   - `jensenshannon_base2`:            distance, base 2   — NannyML (threshold 0.1)
 *   - `jensenshannon_divergence_base2`: divergence, base 2 — Vertex AI / TFDV (threshold 0.3; ≤ 1)
 * Conversions: div₂ = dist_e² / ln 2, dist₂ = dist_e / √ln 2.
 * Each side is normalised by its own total over the union of categories; missing values are not a
 * category (see the per-feature missing rate instead). Numeric columns are compared on reference
 * deciles (or per value when they have ≤ 20 distinct values), see ../inputs.ts.
 */
import { alignCounts, toCategorical } from '../inputs.js';
import type { DriftMethod, MethodComputation, MethodInput, MethodOptions } from '../types.js';

/** rel_entr(x, y) = x ln(x/y), 0 when x = 0 (scipy.special.rel_entr). */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** JS divergence in nats between two count vectors (each normalised by its own sum). */
export function jsDivergenceNats(ref: readonly number[], cur: readonly number[]): number {
  let nr = 0;
  let nc = 0;
  for (const x of ref) nr += x;
  for (const x of cur) nc += x;
  let left = 0;
  let right = 0;
  for (let i = 0; i < ref.length; i++) {
    const p = ref[i]! / nr;
    const q = cur[i]! / nc;
    const m = (p + q) / 2;
    left += relEntr(p, m);
    right += relEntr(q, m);
  }
  // clamp: rounding can make a zero divergence slightly negative before the sqrt.
  return Math.max(0, (left + right) / 2);
}

function makeCompute(base: number, kind: 'distance' | 'divergence') {
  return (input: MethodInput, _options: MethodOptions): MethodComputation => {
    const a = alignCounts(toCategorical(input));
    const extras = { base: base === Math.E ? 'e' : base, kind };
    if (a.nRef === 0 || a.nCur === 0) return { score: null, pValue: null, nRef: a.nRef, nCur: a.nCur, exact: true, extras };
    const divNats = jsDivergenceNats(a.ref, a.cur);
    const div = divNats / Math.log(base);
    const score = kind === 'distance' ? Math.sqrt(div) : Math.min(1, div);
    return {
      score,
      pValue: null,
      nRef: a.nRef,
      nCur: a.nCur,
      exact: true,
      extras: { ...extras, distance: Math.sqrt(div), divergence: div, categories: a.keys.length },
    };
  };
}

const common = {
  kinds: ['categorical', 'numeric'] as const,
  inputs: ['categorical', 'histogram', 'samples'] as const,
  thresholdType: 'distance' as const,
  reference: 'Lin (1991) IEEE Trans. Inf. Theory 37(1):145; scipy.spatial.distance.jensenshannon',
};

export const jensenshannon: DriftMethod = {
  ...common,
  id: 'jensenshannon',
  displayName: 'Jensen-Shannon distance (base e)',
  defaultThreshold: 0.1,
  convention: 'distance √JSD, natural log (Evidently)',
  engines: { typescript: makeCompute(Math.E, 'distance') },
};

export const jensenshannonBase2: DriftMethod = {
  ...common,
  id: 'jensenshannon_base2',
  displayName: 'Jensen-Shannon distance (base 2)',
  defaultThreshold: 0.1,
  convention: 'distance √JSD, log base 2 (NannyML)',
  engines: { typescript: makeCompute(2, 'distance') },
};

export const jensenshannonDivergenceBase2: DriftMethod = {
  ...common,
  id: 'jensenshannon_divergence_base2',
  displayName: 'Jensen-Shannon divergence (base 2)',
  defaultThreshold: 0.3,
  convention: 'divergence JSD, log base 2, capped at 1 (Vertex AI / TFDV)',
  engines: { typescript: makeCompute(2, 'divergence') },
};
