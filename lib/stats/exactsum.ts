/**
 * Exact, order-independent floating-point sums.
 *
 * Why: window summaries must merge into *bit-identical* results whatever the split of the window
 * (scale-out over partitions must produce identical ClickHouse rows). Welford/Chan updates of
 * (mean, M2) are not associative in floating point, so two halves merged with Chan's formula differ
 * from the sequential result in the last bits. Instead we keep Σx and Σx² *exactly* as a canonical
 * floating-point expansion and derive mean / variance on read.
 *
 * Representation (`ExactSum`): components c0, c1, ... in decreasing magnitude with
 *   c0 = round(S), c1 = round(S − c0), c2 = round(S − c0 − c1), ...   (no zero components; [] is 0)
 * This is a function of the exact real S only, hence identical however the additions were ordered.
 * Additions use Shewchuk's grow-expansion (Python `math.fsum`'s msum loop) and round with fsum's
 * correctly-rounded final step. Reference: J. R. Shewchuk, "Adaptive Precision Floating-Point
 * Arithmetic and Fast Robust Geometric Predicates", DCG 18 (1997); CPython Modules/mathmodule.c math_fsum.
 */

export type ExactSum = number[];

/** Shewchuk grow step: add x into nonoverlapping partials (increasing magnitude), in place. */
function grow(partials: number[], x0: number): void {
  let x = x0;
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  if (x !== 0) partials.push(x);
}

/** Correctly rounded value of nonoverlapping partials (increasing magnitude), CPython fsum tail. */
function roundPartials(p: readonly number[]): number {
  let n = p.length;
  if (n === 0) return 0;
  let hi = p[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = p[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}

function canonicalFromPartials(partials: number[]): ExactSum {
  const out: number[] = [];
  // Each round peels off round(remaining S); terminates because the remainder's magnitude drops by
  // at least 2^-53 per step and the expansion is finite.
  while (partials.length > 0) {
    const hi = roundPartials(partials);
    if (hi === 0) break;
    out.push(hi);
    grow(partials, -hi);
  }
  return out;
}

/** Adds x into the canonical sum `s`, in place (the accumulator is owned by the caller). */
export function exactAdd(s: ExactSum, x: number): void {
  if (x === 0) return;
  if (s.length === 0) {
    s.push(x);
    return;
  }
  if (s.length === 1) {
    const a = s[0]!;
    const hi = a + x;
    const bb = hi - a;
    const lo = a - (hi - bb) + (x - bb);
    if (hi === 0) {
      s.length = 0;
      if (lo !== 0) s.push(lo);
      return;
    }
    s[0] = hi;
    if (lo !== 0) s.push(lo);
    return;
  }
  if (s.length === 2) {
    // Fast path (the common case): S = c0 + c1 + x. TwoSum(c0, x) = h + l exactly; if l + c1 is
    // itself exact (t, no error) then S = h + t and TwoSum(h, t) is already canonical.
    const c0 = s[0]!;
    const c1 = s[1]!;
    const h = c0 + x;
    let bb = h - c0;
    const l = c0 - (h - bb) + (x - bb);
    const t = l + c1;
    bb = t - l;
    const e = l - (t - bb) + (c1 - bb);
    if (e === 0) {
      const h2 = h + t;
      bb = h2 - h;
      const l2 = h - (h2 - bb) + (t - bb);
      if (h2 === 0) {
        s.length = 0;
        if (l2 !== 0) s.push(l2);
      } else if (l2 === 0) {
        s[0] = h2;
        s.length = 1;
      } else {
        s[0] = h2;
        s[1] = l2;
      }
      return;
    }
  }
  generalAdd(s, x, 0);
}

// Allocation-free general path on a module-level scratch buffer (single-threaded JS: no sharing).
const scratch = new Float64Array(128);

function scratchGrow(len: number, x0: number): number {
  let x = x0;
  let i = 0;
  for (let j = 0; j < len; j++) {
    let y = scratch[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) scratch[i++] = lo;
    x = hi;
  }
  if (x !== 0) scratch[i++] = x;
  return i;
}

function scratchRound(len: number): number {
  let n = len;
  if (n === 0) return 0;
  let hi = scratch[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = scratch[--n]!;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  if (n > 0 && ((lo < 0 && scratch[n - 1]! < 0) || (lo > 0 && scratch[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

/** s := canonical(s + x + y), via the scratch buffer. */
function generalAdd(s: ExactSum, x: number, y: number): void {
  let len = 0;
  for (let i = s.length - 1; i >= 0; i--) scratch[len++] = s[i]!;
  len = scratchGrow(len, x);
  if (y !== 0) len = scratchGrow(len, y);
  s.length = 0;
  while (len > 0) {
    const hi = scratchRound(len);
    if (hi === 0) break;
    s.push(hi);
    len = scratchGrow(len, -hi);
  }
}

/** Exact sum of two canonical sums (pure). */
export function exactMerge(a: readonly number[], b: readonly number[]): ExactSum {
  const partials: number[] = [];
  for (let i = a.length - 1; i >= 0; i--) grow(partials, a[i]!);
  for (let i = b.length - 1; i >= 0; i--) grow(partials, b[i]!);
  return canonicalFromPartials(partials);
}

/** Correctly rounded value of a canonical sum. */
export function exactValue(s: readonly number[]): number {
  return s.length === 0 ? 0 : s[0]!;
}

/**
 * Population variance Σ(x−mean)²/n from exact Σx and Σx², computed in double-double so that the
 * cancellation in Σx² − (Σx)²/n costs nothing measurable for realistic data.
 */
export function varianceFromSums(sum: readonly number[], sumSq: readonly number[], n: number, sumSqErr: readonly number[] = []): number {
  if (n <= 0) return Number.NaN;
  // S2 - S1^2/n, S1 and S2 kept as (hi, lo) pairs.
  const s1h = sum[0] ?? 0;
  const s1l = sum[1] ?? 0;
  const mean = (s1h + s1l) / n;
  // (S1)^2 / n  ≈ mean * S1  (exact product via Dekker split)
  const SPLIT = 134217729;
  const twoProd = (a: number, b: number): [number, number] => {
    const p = a * b;
    let t = SPLIT * a;
    const ah = t - (t - a);
    const al = a - ah;
    t = SPLIT * b;
    const bh = t - (t - b);
    const bl = b - bh;
    return [p, ah * bh - p + ah * bl + al * bh + al * bl];
  };
  const [ph, pl] = twoProd(mean, s1h);
  const parts: number[] = [];
  for (let i = sumSq.length - 1; i >= 0; i--) grow(parts, sumSq[i]!);
  for (let i = sumSqErr.length - 1; i >= 0; i--) grow(parts, sumSqErr[i]!);
  grow(parts, -ph);
  grow(parts, -pl);
  grow(parts, -mean * s1l);
  const m2 = roundPartials(parts);
  return Math.max(0, m2 / n);
}

/**
 * Adds x² exactly (Dekker TwoProduct: x·x = hi + lo) so Σx² carries no rounding of the squares.
 * With `err` given, hi goes to `s` and lo to `err` (Σx² = s + err exactly): each of the two sums then
 * stays a 2-component expansion and takes the fast path, about 8x faster than one 3-component sum.
 */
export function exactAddSquare(s: ExactSum, x: number, err?: ExactSum): void {
  const hi = x * x;
  const SPLIT = 134217729;
  const t = SPLIT * x;
  const xh = t - (t - x);
  const xl = x - xh;
  const lo = xh * xh - hi + 2 * xh * xl + xl * xl;
  if (err !== undefined) {
    exactAdd(s, hi);
    exactAdd(err, lo);
  } else if (lo === 0) exactAdd(s, hi);
  else generalAdd(s, hi, lo);
}
