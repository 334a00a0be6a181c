/**
 * Drift evaluation of a window against a reference: per-feature method results (registry), optional
 * multiple-testing correction, per-feature missing rates, schema drift and Evidently's dataset-level
 * rule (dataset drift when the share of drifted features >= 0.5).
 *
 * Two paths with the same output shape:
 * - `evaluateDrift(profile, summary, config)` — streaming path on mergeable summaries. Exact for
 *   PSI, chi², JS, L∞, Hellinger (they only need counts) and for missing rates / schema findings;
 *   KS and Wasserstein are computed on the fine reference-quantile histogram and carry an error bound
 *   (see docs/metrics.md, "Exactness on summaries").
 * - `evaluateDriftOnSamples(refRows, curRows, config)` — exact path on raw rows (scipy-identical KS
 *   and Wasserstein). Everything else is computed identically to the summary path.
 */
import { correctPValues } from '../drift/correction.js';
import type { CorrectionMethod } from '../drift/correction.js';
import { defaultMethodFor } from '../drift/defaults.js';
import { DISCRETE_MAX_DISTINCT } from '../drift/inputs.js';
import { getDriftMethod, requiresThreshold, runMethod } from '../drift/registry.js';
import { ConfigInvalidError } from '../../runtime/errors.js';
import type { BinnedSide, DriftResult, HistogramInput, MethodId, MethodInput, MethodOptions } from '../drift/types.js';
import { exactValue, varianceFromSums } from '../exactsum.js';
import { binIndex } from '../quantile.js';
import { buildReferenceProfile, categoryKey, collectColumns } from './reference.js';
import { createWindowSummary, updateWindowSummary } from './summary.js';
import type {
  CategoricalFeatureProfile,
  FeatureSummary,
  NumericFeatureProfile,
  NumericFeatureSummary,
  ProfileOptions,
  ReferenceProfile,
  Row,
  TypeCounts,
  ValueType,
  WindowSummary,
} from './types.js';

export interface DriftConfig {
  /** Method per feature; otherwise `numericMethod` / `categoricalMethod`, otherwise defaults.ts. */
  readonly methods?: Readonly<Record<string, MethodId>>;
  readonly numericMethod?: MethodId;
  readonly categoricalMethod?: MethodId;
  /** Threshold per feature, then per method id, then the method's default. */
  readonly featureThresholds?: Readonly<Record<string, number>>;
  readonly methodThresholds?: Partial<Readonly<Record<MethodId, number>>>;
  readonly methodOptions?: Partial<Readonly<Record<MethodId, MethodOptions>>>;
  /** Across-feature correction of p-value methods (default 'none'). */
  readonly correction?: CorrectionMethod;
  /** Dataset drift when drifted share >= this (default 0.5, Evidently). */
  readonly datasetDriftShare?: number;
  /** Restrict to these features (default: all profile features). */
  readonly features?: readonly string[];
  /** Profile options for `evaluateDriftOnSamples` (kinds, bins). */
  readonly profile?: ProfileOptions;
}

export interface FeatureDriftReport extends DriftResult {
  readonly feature: string;
  readonly kind: 'numeric' | 'categorical';
  /** Decision before correction (equals `drift` when correction is 'none'). */
  readonly driftUncorrected: boolean;
  readonly adjustedPValue: number | null;
  readonly missing: { readonly refRate: number; readonly curRate: number | null; readonly curMissing: number; readonly curAbsent: number };
  /** Current-window moments (numeric features; exact on summaries). */
  readonly current: { readonly mean: number | null; readonly std: number | null; readonly min: number | null; readonly max: number | null } | null;
}

export interface TypeChange {
  readonly feature: string;
  readonly expected: ValueType;
  readonly observed: TypeCounts;
}

export interface SchemaDrift {
  readonly newFeatures: ReadonlyArray<{ readonly feature: string; readonly rows: number }>;
  /** Reference features with no present value in a non-empty window. */
  readonly missingFeatures: readonly string[];
  readonly typeChanges: readonly TypeChange[];
}

export interface DriftReport {
  readonly profileId: string;
  readonly nRefRows: number;
  readonly nCurRows: number;
  readonly features: readonly FeatureDriftReport[];
  readonly schema: SchemaDrift;
  readonly summary: {
    readonly nFeatures: number;
    readonly nDrifted: number;
    readonly shareDrifted: number;
    readonly datasetDrift: boolean;
    readonly datasetDriftShare: number;
    readonly correction: CorrectionMethod;
  };
}

function chooseMethod(name: string, f: NumericFeatureProfile | CategoricalFeatureProfile, config: DriftConfig): MethodId {
  const explicit = config.methods?.[name] ?? (f.kind === 'numeric' ? config.numericMethod : config.categoricalMethod);
  if (explicit !== undefined) {
    const m = getDriftMethod(explicit);
    if (!m.kinds.includes(f.kind)) throw new TypeError(`method '${explicit}' does not support ${f.kind} feature '${name}'`);
    return m.id;
  }
  return defaultMethodFor({ kind: f.kind, nRef: f.count, distinct: f.distinct });
}

function thresholdFor(name: string, method: MethodId, config: DriftConfig): number | undefined {
  return config.featureThresholds?.[name] ?? config.methodThresholds?.[method];
}

/**
 * Numeric-only methods (KS, both Wasserstein variants) read the fine reference-quantile histogram on
 * the summary path and the raw samples on the exact path; derived from the registry so a new
 * numeric-only method cannot silently fall into the decile branch.
 */
function needsFineHistogram(method: MethodId): boolean {
  return !getDriftMethod(method).inputs.includes('categorical');
}

/** Groups fine bins into coarser bins whose edges are a subset of the fine edges. */
function regroup(fineEdges: readonly number[], side: BinnedSide, coarseEdges: readonly number[]): BinnedSide {
  const k = coarseEdges.length + 1;
  const counts = new Array<number>(k).fill(0);
  const binMin = new Array<number>(k).fill(0);
  const binMax = new Array<number>(k).fill(0);
  for (let i = 0; i < side.counts.length; i++) {
    const c = side.counts[i]!;
    if (c === 0) continue;
    const upper = i < fineEdges.length ? fineEdges[i]! : Infinity;
    const j = binIndex(coarseEdges, upper);
    if (counts[j] === 0) {
      binMin[j] = side.binMin[i]!;
      binMax[j] = side.binMax[i]!;
    } else {
      binMin[j] = Math.min(binMin[j]!, side.binMin[i]!);
      binMax[j] = Math.max(binMax[j]!, side.binMax[i]!);
    }
    counts[j]! += c;
  }
  return { counts, binMin, binMax, missing: side.missing };
}

function absentCount(f: FeatureSummary, rowCount: number): number {
  const present = f.kind === 'numeric' ? f.count + f.missing + f.typeMismatch : f.count + f.missing;
  return rowCount - present;
}

function summaryInput(method: MethodId, p: NumericFeatureProfile | CategoricalFeatureProfile, s: FeatureSummary, rowCount: number): MethodInput {
  const absent = absentCount(s, rowCount);
  if (p.kind === 'categorical' && s.kind === 'categorical') {
    const ref: Record<string, number> = {};
    p.categories.forEach((k, i) => (ref[k] = p.counts[i]!));
    const cur: Record<string, number> = {};
    s.categories.forEach((k, i) => (cur[k] = s.counts[i]!));
    for (const [k, v] of Object.entries(s.unseen)) cur[k] = v;
    if (s.unseenOverflow > 0) cur['\u0000unseen_overflow'] = s.unseenOverflow;
    return { type: 'categorical', ref, cur, refMissing: p.missing, curMissing: s.missing + absent };
  }
  if (p.kind === 'numeric' && s.kind === 'numeric') {
    const refSide: BinnedSide = { counts: p.counts, binMin: p.binMin, binMax: p.binMax, missing: p.missing };
    // Type mismatches are unusable values: they count as missing (PSI's missing bin).
    const curSide: BinnedSide = { counts: s.counts, binMin: s.binMin, binMax: s.binMax, missing: s.missing + s.typeMismatch + absent };
    const fine: HistogramInput = { type: 'histogram', edges: p.edges, ref: refSide, cur: curSide, ...(p.std !== null ? { refStd: p.std } : {}) };
    if (needsFineHistogram(method)) return fine;
    // PSI on deciles; categorical-style methods per value when few distinct values, else deciles.
    if (method !== 'psi' && p.distinct <= DISCRETE_MAX_DISTINCT) return fine;
    return { type: 'histogram', edges: p.psiEdges, ref: regroup(p.edges, refSide, p.psiEdges), cur: regroup(p.edges, curSide, p.psiEdges) };
  }
  throw new TypeError('feature kind differs between profile and summary');
}

function schemaOf(profile: ReferenceProfile, summary: WindowSummary, names: readonly string[]): SchemaDrift {
  const missingFeatures: string[] = [];
  const typeChanges: TypeChange[] = [];
  for (const name of names) {
    const p = profile.features[name]!;
    const s = summary.features[name]!;
    if (summary.rowCount > 0 && absentCount(s, summary.rowCount) === summary.rowCount) missingFeatures.push(name);
    const t = s.types;
    const others = (['number', 'string', 'boolean'] as const).filter((k) => k !== p.valueType && t[k] > 0);
    if (others.length > 0) typeChanges.push({ feature: name, expected: p.valueType, observed: { ...t } });
  }
  const newFeatures = Object.entries(summary.newFeatures).map(([feature, rows]) => ({ feature, rows }));
  return { newFeatures, missingFeatures, typeChanges };
}

function currentMoments(s: NumericFeatureSummary): FeatureDriftReport['current'] {
  if (s.count === 0) return { mean: null, std: null, min: null, max: null };
  return { mean: exactValue(s.sum) / s.count, std: Math.sqrt(varianceFromSums(s.sum, s.sumSq, s.count, s.sumSqErr)), min: s.min, max: s.max };
}

function assemble(
  profile: ReferenceProfile,
  summary: WindowSummary,
  config: DriftConfig,
  inputFor: (name: string, method: MethodId) => MethodInput,
): DriftReport {
  if (profile.id !== summary.profileId) throw new TypeError(`summary was built for profile ${summary.profileId}, not ${profile.id}`);
  const names = (config.features ?? profile.featureOrder).filter((n) => profile.features[n] !== undefined);
  const chosen = names.map((name) => ({ name, method: chooseMethod(name, profile.features[name]!, config) }));
  // A method without a default threshold (wasserstein_raw, in feature units) needs one for every
  // feature it runs on; report them all at once rather than failing on the first.
  const unset = chosen.filter(({ name, method }) => requiresThreshold(method) && thresholdFor(name, method, config) === undefined);
  if (unset.length > 0) {
    throw new ConfigInvalidError(
      unset.map(
        ({ name, method }) =>
          `feature '${name}': method '${method}' has no default threshold (feature units); set featureThresholds['${name}'] or methodThresholds['${method}']`,
      ),
    );
  }
  const results: Array<Omit<FeatureDriftReport, 'adjustedPValue' | 'driftUncorrected'>> = [];
  for (const { name, method } of chosen) {
    const p = profile.features[name]!;
    const s = summary.features[name]!;
    const threshold = thresholdFor(name, method, config);
    const r = runMethod(method, inputFor(name, method), {
      ...(threshold !== undefined ? { threshold } : {}),
      options: config.methodOptions?.[method] ?? {},
    });
    const absent = absentCount(s, summary.rowCount);
    const curMissing = s.missing + (s.kind === 'numeric' ? s.typeMismatch : 0);
    results.push({
      ...r,
      feature: name,
      kind: p.kind,
      missing: {
        refRate: p.missingRate,
        curRate: summary.rowCount === 0 ? null : (curMissing + absent) / summary.rowCount,
        curMissing,
        curAbsent: absent,
      },
      current: s.kind === 'numeric' ? currentMoments(s) : null,
    });
  }
  const correction = config.correction ?? 'none';
  const pv = results.map((r) => (r.thresholdType === 'p_value' && r.status === 'ok' ? r.pValue : null));
  const adj = correction === 'none' ? pv : correctPValues(pv, correction, 0.05).adjusted;
  const features: FeatureDriftReport[] = results.map((r, i) => {
    const a = adj[i] ?? null;
    const forced = r.method === 'chisquare_gof' && r.drift && (r.pValue === null || r.pValue >= r.threshold);
    const drift = correction === 'none' || a === null ? r.drift : a < r.threshold || forced;
    return { ...r, drift, driftUncorrected: r.drift, adjustedPValue: correction === 'none' ? null : a };
  });
  const nDrifted = features.filter((f) => f.drift).length;
  const share = features.length === 0 ? 0 : nDrifted / features.length;
  const datasetDriftShare = config.datasetDriftShare ?? 0.5;
  return {
    profileId: profile.id,
    nRefRows: profile.rowCount,
    nCurRows: summary.rowCount,
    features,
    schema: schemaOf(profile, summary, names),
    summary: {
      nFeatures: features.length,
      nDrifted,
      shareDrifted: share,
      datasetDrift: features.length > 0 && share >= datasetDriftShare,
      datasetDriftShare,
      correction,
    },
  };
}

/** Streaming path: evaluates a window summary against its reference profile. */
export function evaluateDrift(profile: ReferenceProfile, summary: WindowSummary, config: DriftConfig = {}): DriftReport {
  return assemble(profile, summary, config, (name, method) => summaryInput(method, profile.features[name]!, summary.features[name]!, summary.rowCount));
}

/** Exact path on raw rows: KS and Wasserstein on the samples themselves (scipy-identical). */
export function evaluateDriftOnSamples(refRows: readonly Row[], curRows: readonly Row[], config: DriftConfig = {}): DriftReport {
  const profile = buildReferenceProfile(refRows, config.profile ?? {});
  const summary = createWindowSummary(profile);
  for (const row of curRows) updateWindowSummary(summary, row);
  const refCols = collectColumns(refRows).columns;
  const curCols = collectColumns(curRows).columns;
  const numericColumn = (col: readonly unknown[] | undefined, n: number): Float64Array => {
    const out = new Float64Array(n).fill(Number.NaN);
    if (col) col.forEach((v, i) => (out[i] = typeof v === 'number' ? v : Number.NaN));
    return out;
  };
  return assemble(profile, summary, config, (name, method) => {
    const p = profile.features[name]!;
    if (p.kind === 'numeric') {
      if (needsFineHistogram(method) || method === 'psi') {
        return { type: 'samples', ref: numericColumn(refCols.get(name), refRows.length), cur: numericColumn(curCols.get(name), curRows.length) };
      }
      // categorical-style methods: identical binning to the summary path
      return summaryInput(method, p, summary.features[name]!, summary.rowCount);
    }
    const cur: Record<string, number> = {};
    let curMissing = 0;
    const col = curCols.get(name);
    for (let i = 0; i < curRows.length; i++) {
      const k = categoryKey(col?.[i]);
      if (k === null) curMissing++;
      else cur[k] = (cur[k] ?? 0) + 1;
    }
    const ref: Record<string, number> = {};
    p.categories.forEach((k, i) => (ref[k] = p.counts[i]!));
    return { type: 'categorical', ref, cur, refMissing: p.missing, curMissing };
  });
}
