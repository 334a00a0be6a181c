/**
 * Window summaries: the per-window accumulator that streams, checkpoints and merges.
 *
 * Exactness contract: a summary is a function of the *multiset* of rows seen, never of their order.
 * Every field is a count, a min/max, a sorted-key map of counts, or an exact sum (../exactsum.ts), so
 *   mergeWindowSummaries(summary(A), summary(B))  deep-equals  summary(A ∪ B)
 * bit for bit, for any split — scale-out over partitions produces identical drift rows.
 * (One documented exception: when more than `maxUnseen` distinct unseen categories arrive, which
 * ones are itemised depends on arrival order; `unseenCount` stays exact.)
 *
 * `updateWindowSummary` mutates the summary in place and returns it: it runs per event at >= 1M
 * feature values/s, which rules out copying. The profile is never mutated. `mergeWindowSummaries` is
 * pure.
 */
import { exactAdd, exactAddSquare, exactMerge } from '../exactsum.js';
import { categoryKey } from './reference.js';
import type { FeatureSummary, NumericFeatureSummary, ReferenceProfile, Row, TypeCounts, WindowSummary } from './types.js';

export const DEFAULT_MAX_UNSEEN = 1000;

export interface SummaryOptions {
  /** Unseen categories itemised per feature (default 1000); the rest only counted. */
  readonly maxUnseen?: number;
}

export function createWindowSummary(profile: ReferenceProfile, options: SummaryOptions = {}): WindowSummary {
  const features: Record<string, FeatureSummary> = {};
  for (const name of profile.featureOrder) {
    const f = profile.features[name]!;
    if (f.kind === 'numeric') {
      const k = f.edges.length + 1;
      features[name] = {
        kind: 'numeric',
        edges: f.edges,
        counts: new Array<number>(k).fill(0),
        binMin: new Array<number>(k).fill(0),
        binMax: new Array<number>(k).fill(0),
        count: 0,
        missing: 0,
        typeMismatch: 0,
        types: { number: 0, string: 0, boolean: 0 },
        sum: [],
        sumSq: [],
        sumSqErr: [],
        min: null,
        max: null,
      };
    } else {
      features[name] = {
        kind: 'categorical',
        categories: f.categories,
        counts: new Array<number>(f.categories.length).fill(0),
        unseen: {},
        unseenCount: 0,
        unseenOverflow: 0,
        count: 0,
        missing: 0,
        types: { number: 0, string: 0, boolean: 0 },
      };
    }
  }
  return { version: 1, profileId: profile.id, rowCount: 0, maxUnseen: options.maxUnseen ?? DEFAULT_MAX_UNSEEN, features, newFeatures: {} };
}

interface Compiled {
  readonly features: Map<string, FeatureSummary>;
  readonly categoryIndex: Map<string, Map<string, number>>;
  readonly featuresRef: Record<string, FeatureSummary>;
}

// Memo of lookup structures per summary object (not observable state: rebuilt on demand, e.g.
// after a summary is restored from JSON).
const compiledCache = new WeakMap<WindowSummary, Compiled>();

function compile(summary: WindowSummary): Compiled {
  let c = compiledCache.get(summary);
  if (c !== undefined && c.featuresRef === summary.features) return c;
  const features = new Map<string, FeatureSummary>();
  const categoryIndex = new Map<string, Map<string, number>>();
  for (const [name, f] of Object.entries(summary.features)) {
    features.set(name, f);
    if (f.kind === 'categorical') categoryIndex.set(name, new Map(f.categories.map((k, i) => [k, i])));
  }
  c = { features, categoryIndex, featuresRef: summary.features };
  compiledCache.set(summary, c);
  return c;
}

function withSortedKey(map: Record<string, number>, key: string, inc: number): Record<string, number> {
  if (Object.hasOwn(map, key)) {
    map[key]! += inc;
    return map;
  }
  const out: Record<string, number> = {};
  const keys = Object.keys(map);
  keys.push(key);
  keys.sort();
  for (const k of keys) out[k] = k === key ? inc : map[k]!;
  return out;
}

function countType(t: TypeCounts, v: unknown): void {
  if (typeof v === 'number') t.number++;
  else if (typeof v === 'string') t.string++;
  else if (typeof v === 'boolean') t.boolean++;
}

/** Adds one finite numeric value to a numeric feature summary (hot path). */
export function addNumericValue(f: NumericFeatureSummary, v: number): void {
  const x = v + 0; // fold -0 into +0 so min/max never depend on arrival order
  const edges = f.edges;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  const c = f.counts[lo]!;
  if (c === 0) {
    f.binMin[lo] = x;
    f.binMax[lo] = x;
  } else {
    if (x < f.binMin[lo]!) f.binMin[lo] = x;
    if (x > f.binMax[lo]!) f.binMax[lo] = x;
  }
  f.counts[lo] = c + 1;
  f.count++;
  exactAdd(f.sum, x);
  exactAddSquare(f.sumSq, x, f.sumSqErr);
  if (f.min === null || x < f.min) f.min = x;
  if (f.max === null || x > f.max) f.max = x;
}

/** Adds one event. Mutates and returns `summary`. */
export function updateWindowSummary(summary: WindowSummary, row: Row): WindowSummary {
  const c = compile(summary);
  summary.rowCount++;
  for (const key in row) {
    const v = row[key];
    const f = c.features.get(key);
    if (f === undefined) {
      if (v !== undefined) summary.newFeatures = withSortedKey(summary.newFeatures, key, 1);
      continue;
    }
    if (f.kind === 'numeric') {
      if (typeof v === 'number') {
        f.types.number++;
        if (Number.isFinite(v)) addNumericValue(f, v);
        else f.missing++;
      } else if (v === null || v === undefined) {
        f.missing++;
      } else {
        countType(f.types, v);
        f.typeMismatch++;
      }
    } else {
      countType(f.types, v);
      const k = categoryKey(v);
      if (k === null) {
        f.missing++;
        continue;
      }
      f.count++;
      const idx = c.categoryIndex.get(key)!.get(k);
      if (idx !== undefined) f.counts[idx]!++;
      else {
        f.unseenCount++;
        if (Object.hasOwn(f.unseen, k) || Object.keys(f.unseen).length < summary.maxUnseen) f.unseen = withSortedKey(f.unseen, k, 1);
        else f.unseenOverflow++;
      }
    }
  }
  return summary;
}

/** Columnar fast path: adds `values[i]` for one numeric feature (NaN = missing). Rows are counted by the caller via `addRows`. */
export function updateNumericColumn(summary: WindowSummary, feature: string, values: ArrayLike<number>): void {
  const f = summary.features[feature];
  if (f === undefined || f.kind !== 'numeric') throw new TypeError(`updateNumericColumn: '${feature}' is not a numeric feature of this summary`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    f.types.number++;
    if (Number.isFinite(v)) addNumericValue(f, v);
    else f.missing++;
  }
}

/** Columnar fast path for categorical features (null = missing). */
export function updateCategoricalColumn(summary: WindowSummary, feature: string, values: ArrayLike<string | null>): void {
  const f = summary.features[feature];
  if (f === undefined || f.kind !== 'categorical') throw new TypeError(`updateCategoricalColumn: '${feature}' is not a categorical feature of this summary`);
  const index = compile(summary).categoryIndex.get(feature)!;
  for (let i = 0; i < values.length; i++) {
    const k = values[i]!;
    if (k === null) {
      f.missing++;
      continue;
    }
    f.types.string++;
    f.count++;
    const idx = index.get(k);
    if (idx !== undefined) f.counts[idx]!++;
    else {
      f.unseenCount++;
      if (Object.hasOwn(f.unseen, k) || Object.keys(f.unseen).length < summary.maxUnseen) f.unseen = withSortedKey(f.unseen, k, 1);
      else f.unseenOverflow++;
    }
  }
}

/** Declares `n` rows seen by the columnar fast paths. */
export function addRows(summary: WindowSummary, n: number): void {
  summary.rowCount += n;
}

function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (a[k] ?? 0) + (b[k] ?? 0);
  return out;
}

const minNullable = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const maxNullable = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
const addTypes = (a: TypeCounts, b: TypeCounts): TypeCounts => ({ number: a.number + b.number, string: a.string + b.string, boolean: a.boolean + b.boolean });

function mergeFeature(a: FeatureSummary, b: FeatureSummary, maxUnseen: number): FeatureSummary {
  if (a.kind === 'numeric' && b.kind === 'numeric') {
    const k = a.counts.length;
    const counts = new Array<number>(k);
    const binMin = new Array<number>(k);
    const binMax = new Array<number>(k);
    for (let i = 0; i < k; i++) {
      const ca = a.counts[i]!;
      const cb = b.counts[i]!;
      counts[i] = ca + cb;
      binMin[i] = ca === 0 ? b.binMin[i]! : cb === 0 ? a.binMin[i]! : Math.min(a.binMin[i]!, b.binMin[i]!);
      binMax[i] = ca === 0 ? b.binMax[i]! : cb === 0 ? a.binMax[i]! : Math.max(a.binMax[i]!, b.binMax[i]!);
    }
    return {
      kind: 'numeric',
      edges: a.edges,
      counts,
      binMin,
      binMax,
      count: a.count + b.count,
      missing: a.missing + b.missing,
      typeMismatch: a.typeMismatch + b.typeMismatch,
      types: addTypes(a.types, b.types),
      sum: exactMerge(a.sum, b.sum),
      sumSq: exactMerge(a.sumSq, b.sumSq),
      sumSqErr: exactMerge(a.sumSqErr, b.sumSqErr),
      min: minNullable(a.min, b.min),
      max: maxNullable(a.max, b.max),
    };
  }
  if (a.kind === 'categorical' && b.kind === 'categorical') {
    const merged = mergeCounts(a.unseen, b.unseen);
    const keys = Object.keys(merged);
    let overflow = a.unseenOverflow + b.unseenOverflow;
    const unseen: Record<string, number> = {};
    keys.forEach((key, i) => {
      if (i < maxUnseen) unseen[key] = merged[key]!;
      else overflow += merged[key]!;
    });
    return {
      kind: 'categorical',
      categories: a.categories,
      counts: a.counts.map((x, i) => x + b.counts[i]!),
      unseen,
      unseenCount: a.unseenCount + b.unseenCount,
      unseenOverflow: overflow,
      count: a.count + b.count,
      missing: a.missing + b.missing,
      types: addTypes(a.types, b.types),
    };
  }
  throw new TypeError('mergeWindowSummaries: feature kinds differ');
}

/** Pure merge of two summaries of the same profile. */
export function mergeWindowSummaries(a: WindowSummary, b: WindowSummary): WindowSummary {
  if (a.profileId !== b.profileId) throw new TypeError(`mergeWindowSummaries: profile ids differ (${a.profileId} vs ${b.profileId})`);
  const features: Record<string, FeatureSummary> = {};
  for (const name of Object.keys(a.features)) {
    const fb = b.features[name];
    if (fb === undefined) throw new TypeError(`mergeWindowSummaries: feature '${name}' missing in second summary`);
    features[name] = mergeFeature(a.features[name]!, fb, a.maxUnseen);
  }
  return {
    version: 1,
    profileId: a.profileId,
    rowCount: a.rowCount + b.rowCount,
    maxUnseen: a.maxUnseen,
    features,
    newFeatures: mergeCounts(a.newFeatures, b.newFeatures),
  };
}
