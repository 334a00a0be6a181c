/**
 * Default method per column, following Evidently's `get_default_stattest`
 * (evidently/calculations/stattests/registry.py) so thresholds mean what Evidently users expect:
 *
 *   n_ref <= 1000: numeric with > 5 distinct values -> KS (p < 0.05);
 *                  otherwise                        -> chi-squared goodness of fit (p < 0.05)
 *                  (Evidently uses a two-proportion z-test for exactly 2 categories; chi² GoF with
 *                  dof 1 tests the same hypothesis, so we keep one method).
 *   n_ref >  1000: numeric     -> Wasserstein normed by σ_ref (>= 0.1)
 *                  categorical -> Jensen-Shannon distance, base e (>= 0.1)
 *
 * Why switch on size: with a few hundred rows a p-value is informative and distances are noisy; with
 * large windows every p-value collapses to 0 for practically irrelevant shifts (power grows with √n),
 * so a size-free effect size with a fixed threshold is what stops alert fatigue.
 *
 * `wasserstein_raw` is never a default: its score is in feature units, so it has no threshold until
 * someone who knows the feature sets one (see ./methods/wasserstein.ts).
 */
import type { FeatureKind, MethodId } from './types.js';

export const DEFAULT_SIZE_SWITCH = 1000;
export const DEFAULT_NUMERIC_DISTINCT_MIN = 5;

export interface DefaultMethodInput {
  readonly kind: FeatureKind;
  readonly nRef: number;
  /** Distinct non-missing reference values (only used for numeric columns). */
  readonly distinct: number;
}

export function defaultMethodFor(c: DefaultMethodInput): MethodId {
  if (c.nRef <= DEFAULT_SIZE_SWITCH) {
    if (c.kind === 'numeric' && c.distinct > DEFAULT_NUMERIC_DISTINCT_MIN) return 'ks';
    return 'chisquare_gof';
  }
  return c.kind === 'numeric' ? 'wasserstein' : 'jensenshannon';
}
