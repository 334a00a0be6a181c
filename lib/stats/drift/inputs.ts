/**
 * Conversions between method inputs, shared by the method files. Pure functions.
 */
import { binIndex, distinctSorted, finiteSorted, quantileEdges } from '../quantile.js';
import type { BinnedSide, CategoricalInput, HistogramInput, MethodInput, NumericSamplesInput } from './types.js';

/** Reference-quantile bins used when a numeric column is compared as categories (see docs/metrics.md). */
export const DECILE_BINS = 10;
/** At most this many distinct reference values: a numeric column is compared value by value. */
export const DISCRETE_MAX_DISTINCT = 20;

export function binSide(sorted: ArrayLike<number>, edges: readonly number[], missing: number): BinnedSide {
  const k = edges.length + 1;
  const counts = new Array<number>(k).fill(0);
  const binMin = new Array<number>(k).fill(0);
  const binMax = new Array<number>(k).fill(0);
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i]!;
    const b = binIndex(edges, x);
    if (counts[b] === 0) {
      binMin[b] = x;
      binMax[b] = x;
    } else {
      if (x < binMin[b]!) binMin[b] = x;
      if (x > binMax[b]!) binMax[b] = x;
    }
    counts[b]! += 1;
  }
  return { counts, binMin, binMax, missing };
}

/** Edges for comparing a numeric column as categories: one bin per value if few, else deciles. */
export function categoricalEdgesFromSorted(refSorted: ArrayLike<number>): readonly number[] {
  const distinct = distinctSorted(refSorted);
  if (distinct.length <= DISCRETE_MAX_DISTINCT) return distinct;
  return quantileEdges(refSorted, DECILE_BINS);
}

export function samplesToHistogram(input: NumericSamplesInput, edgesFor: (refSorted: Float64Array) => readonly number[]): HistogramInput {
  const r = finiteSorted(input.ref);
  const c = finiteSorted(input.cur);
  const edges = edgesFor(r.sorted);
  return { type: 'histogram', edges, ref: binSide(r.sorted, edges, r.missing), cur: binSide(c.sorted, edges, c.missing) };
}

/** Bins as categories: key "b<i>". Missing values are reported separately, not as a category. */
export function histogramToCategorical(h: HistogramInput): CategoricalInput {
  const ref: Record<string, number> = {};
  const cur: Record<string, number> = {};
  for (let i = 0; i < h.ref.counts.length; i++) {
    const key = `b${i}`;
    ref[key] = h.ref.counts[i]!;
    cur[key] = h.cur.counts[i]!;
  }
  return { type: 'categorical', ref, cur, refMissing: h.ref.missing, curMissing: h.cur.missing };
}

export function toCategorical(input: MethodInput): CategoricalInput {
  if (input.type === 'categorical') return input;
  if (input.type === 'histogram') return histogramToCategorical(input);
  return histogramToCategorical(samplesToHistogram(input, categoricalEdgesFromSorted));
}

/** Aligned count vectors over the union of keys (sorted, so results never depend on key order). */
export function alignCounts(input: CategoricalInput): { keys: string[]; ref: number[]; cur: number[]; nRef: number; nCur: number } {
  const keySet = new Set<string>();
  for (const k of Object.keys(input.ref)) keySet.add(k);
  for (const k of Object.keys(input.cur)) keySet.add(k);
  const keys = [...keySet].sort();
  const ref: number[] = [];
  const cur: number[] = [];
  let nRef = 0;
  let nCur = 0;
  for (const k of keys) {
    const a = input.ref[k] ?? 0;
    const b = input.cur[k] ?? 0;
    ref.push(a);
    cur.push(b);
    nRef += a;
    nCur += b;
  }
  return { keys, ref, cur, nRef, nCur };
}

export function sumOf(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
