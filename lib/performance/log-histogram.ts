/**
 * A mergeable quantile sketch with a fixed relative accuracy, for label delays (milliseconds to days).
 *
 * DDSketch's logarithmic mapping (Masson, Rim & Lee, "DDSketch: A Fast and Fully-Mergeable Quantile
 * Sketch with Relative-Error Guarantees", VLDB 2019): with γ = (1 + α) / (1 − α), a value x > 0 goes
 * to bucket i = ⌈log_γ x⌉, and the bucket's representative 2γ^i / (γ + 1) is within relative error α
 * of every value in (γ^(i−1), γ^i]. Values <= 0 go to a separate zero bucket.
 *
 * Why this and not a t-digest: the bucket of a value is a pure function of the value, so the sketch is
 * a multiset of bucket counts, merging is adding counts, and the result never depends on arrival order
 * or on how a window was split across partitions (scale-out must write identical rows).
 *
 * Quantiles use the nearest-rank definition (Hyndman & Fan type 1, the same convention as
 * lib/stats/quantile.ts): the q-quantile is the smallest value whose cumulative count is >= ⌈q·n⌉.
 */

export const DEFAULT_RELATIVE_ACCURACY = 0.01;

export interface LogHistogram {
  /** Relative accuracy α; only sketches with the same α merge. */
  readonly alpha: number;
  n: number;
  /** Values <= 0 (a label that arrived before or with its prediction). */
  zero: number;
  /** Bucket index (as a decimal string, sorted numerically when read) -> count. */
  buckets: Record<string, number>;
}

export function createLogHistogram(alpha = DEFAULT_RELATIVE_ACCURACY): LogHistogram {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`relative accuracy must be in (0, 1), got ${alpha}`);
  return { alpha, n: 0, zero: 0, buckets: {} };
}

const gammaOf = (alpha: number): number => (1 + alpha) / (1 - alpha);

/** Bucket index of x > 0: ⌈log_γ x⌉. */
export function bucketIndex(x: number, alpha: number): number {
  return Math.ceil(Math.log(x) / Math.log(gammaOf(alpha)));
}

/** Adds one value (non-finite values are ignored: a delay is always finite). Mutates `h`. */
export function addToLogHistogram(h: LogHistogram, x: number): void {
  if (!Number.isFinite(x)) return;
  h.n++;
  if (x <= 0) {
    h.zero++;
    return;
  }
  const key = String(bucketIndex(x, h.alpha));
  h.buckets[key] = (h.buckets[key] ?? 0) + 1;
}

/** Pure merge; keys come out in ascending numeric order so serialised merges are identical. */
export function mergeLogHistograms(a: LogHistogram, b: LogHistogram): LogHistogram {
  if (a.alpha !== b.alpha) throw new TypeError(`cannot merge log histograms with different accuracy (${a.alpha} vs ${b.alpha})`);
  const keys = [...new Set([...Object.keys(a.buckets), ...Object.keys(b.buckets)])].map(Number).sort((x, y) => x - y);
  const buckets: Record<string, number> = {};
  for (const k of keys) buckets[String(k)] = (a.buckets[String(k)] ?? 0) + (b.buckets[String(k)] ?? 0);
  return { alpha: a.alpha, n: a.n + b.n, zero: a.zero + b.zero, buckets };
}

/** Nearest-rank q-quantile (q in [0, 1]); null when empty. */
export function logHistogramQuantile(h: LogHistogram, q: number): number | null {
  if (h.n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * h.n));
  let cum = h.zero;
  if (cum >= rank) return 0;
  const gamma = gammaOf(h.alpha);
  const keys = Object.keys(h.buckets)
    .map(Number)
    .sort((x, y) => x - y);
  for (const k of keys) {
    cum += h.buckets[String(k)]!;
    if (cum >= rank) return (2 * gamma ** k) / (gamma + 1);
  }
  // Unreachable when counts are consistent; the largest bucket is the answer.
  const last = keys[keys.length - 1]!;
  return (2 * gamma ** last) / (gamma + 1);
}
