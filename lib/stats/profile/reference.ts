/**
 * Builds a frozen reference profile from rows. Pure; the input rows are not mutated.
 */
import { ConfigInvalidError } from '../../runtime/errors.js';
import { binSide } from '../drift/inputs.js';
import type { FeatureKind } from '../drift/types.js';
import { distinctSorted, finiteSorted, quantileEdges, sketchEdges } from '../quantile.js';
import type {
  CategoricalFeatureProfile,
  FeatureProfile,
  NumericFeatureProfile,
  ProfileOptions,
  ReferenceProfile,
  Row,
  Scalar,
  TypeCounts,
  ValueType,
} from './types.js';

export const DEFAULT_FINE_BINS = 1000;
export const DEFAULT_PSI_BINS = 10;

export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/** Category label of a present value (null for missing). */
export function categoryKey(v: Scalar): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Number.isNaN(v)) return null;
  return String(v);
}

export function inferKind(values: readonly Scalar[]): FeatureKind {
  let sawNumber = false;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') sawNumber = true;
    else return 'categorical';
  }
  return sawNumber ? 'numeric' : 'categorical';
}

function dominantType(t: TypeCounts, fallback: ValueType): ValueType {
  const entries: Array<[ValueType, number]> = [
    ['number', t.number],
    ['string', t.string],
    ['boolean', t.boolean],
  ];
  let best: [ValueType, number] = [fallback, 0];
  for (const e of entries) if (e[1] > best[1]) best = e;
  return best[0];
}

/** FNV-1a 32-bit over a string, hex. Deterministic id, not a security hash. */
export function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function collectColumns(rows: readonly Row[]): { names: string[]; columns: Map<string, Scalar[]> } {
  const names: string[] = [];
  const columns = new Map<string, Scalar[]>();
  rows.forEach((row, i) => {
    for (const key of Object.keys(row)) {
      let col = columns.get(key);
      if (col === undefined) {
        col = new Array<Scalar>(rows.length).fill(undefined);
        columns.set(key, col);
        names.push(key);
      }
      col[i] = row[key];
    }
  });
  names.sort();
  return { names, columns };
}

function typeCounts(values: readonly Scalar[]): TypeCounts {
  const t: TypeCounts = { number: 0, string: 0, boolean: 0 };
  for (const v of values) {
    if (typeof v === 'number') t.number++;
    else if (typeof v === 'string') t.string++;
    else if (typeof v === 'boolean') t.boolean++;
  }
  return t;
}

function numericProfile(name: string, values: readonly Scalar[], fineBins: number, psiBins: number): NumericFeatureProfile {
  const nums = values.map((v) => (typeof v === 'number' ? v : Number.NaN));
  const { sorted, missing } = finiteSorted(nums);
  const n = sorted.length;
  const distinctValues = distinctSorted(sorted);
  const edges = sketchEdges(sorted, fineBins);
  const psiEdges = quantileEdges(sorted, psiBins);
  const side = binSide(sorted, edges, missing);
  const psiSide = binSide(sorted, psiEdges, missing);
  let mean: number | null = null;
  let m2 = 0;
  if (n > 0) {
    // Welford; the profile is built once, so the sequential update is fine here.
    let mu = 0;
    for (let i = 0; i < n; i++) {
      const x = sorted[i]!;
      const d = x - mu;
      mu += d / (i + 1);
      m2 += d * (x - mu);
    }
    mean = mu;
  }
  return {
    name,
    kind: 'numeric',
    valueType: dominantType(typeCounts(values), 'number'),
    count: n,
    missing,
    missingRate: values.length === 0 ? 0 : missing / values.length,
    distinct: distinctValues.length,
    mean,
    std: n > 0 ? Math.sqrt(m2 / n) : null,
    m2,
    min: n > 0 ? sorted[0]! : null,
    max: n > 0 ? sorted[n - 1]! : null,
    edges,
    counts: side.counts,
    binMin: side.binMin,
    binMax: side.binMax,
    psiEdges,
    psiCounts: psiSide.counts,
  };
}

function categoricalProfile(name: string, values: readonly Scalar[]): CategoricalFeatureProfile {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const v of values) {
    const k = categoryKey(v);
    if (k === null) missing++;
    else counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const categories = [...counts.keys()].sort();
  const c = categories.map((k) => counts.get(k)!);
  const total = values.length - missing;
  return {
    name,
    kind: 'categorical',
    valueType: dominantType(typeCounts(values), 'string'),
    count: total,
    missing,
    missingRate: values.length === 0 ? 0 : missing / values.length,
    distinct: categories.length,
    categories,
    counts: c,
    frequencies: c.map((x) => (total === 0 ? 0 : x / total)),
  };
}

export function buildReferenceProfile(rows: readonly Row[], options: ProfileOptions = {}): ReferenceProfile {
  const fineBins = options.fineBins ?? DEFAULT_FINE_BINS;
  const psiBins = options.psiBins ?? DEFAULT_PSI_BINS;
  const problems: string[] = [];
  if (!Number.isInteger(fineBins) || fineBins < 2) problems.push(`fineBins must be an integer >= 2 (got ${fineBins})`);
  if (!Number.isInteger(psiBins) || psiBins < 2) problems.push(`psiBins must be an integer >= 2 (got ${psiBins})`);
  if (problems.length === 0 && fineBins % psiBins !== 0)
    problems.push(`fineBins (${fineBins}) must be a multiple of psiBins (${psiBins}) so PSI edges are fine edges`);
  if (problems.length > 0) throw new ConfigInvalidError(problems);
  const { names, columns } = collectColumns(rows);
  const features: Record<string, FeatureProfile> = {};
  for (const name of names) {
    const values = columns.get(name)!;
    const kind = options.kinds?.[name] ?? inferKind(values);
    features[name] = kind === 'numeric' ? numericProfile(name, values, fineBins, psiBins) : categoricalProfile(name, values);
  }
  const body = { version: 1 as const, rowCount: rows.length, fineBins, psiBins, featureOrder: names, features };
  return deepFreeze({ ...body, id: fnv1a(JSON.stringify(body)) });
}
