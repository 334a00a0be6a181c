/**
 * Window evaluation: merged partials + reference profile -> rows of the migration-030 tables.
 * Pure and deterministic: the same merged state gives the same rows (only `computed_at` differs), so
 * a window evaluated twice, or by two instances, replaces its rows with identical ones
 * (ReplacingMergeTree(computed_at)).
 */
import { estimatePerformance } from '../../lib/performance/cbpe.js';
import { classificationMetrics } from '../../lib/performance/classification.js';
import { kpiValue, type KpiDefinition } from '../../lib/performance/kpi/kpi.js';
import { logHistogramQuantile } from '../../lib/performance/log-histogram.js';
import { regressionMetrics } from '../../lib/performance/regression.js';
import { PREDICTION_FEATURE, type ProfileEntry } from '../../lib/reference/types.js';
import { toClickHouseTime } from '../../lib/runtime/clickhouse/client.js';
import { evaluateDrift, type DriftReport, type FeatureDriftReport } from '../../lib/stats/profile/evaluate.js';
import type { TypeCounts } from '../../lib/stats/profile/types.js';
import { SEVERITY_LEVEL, performanceFor, type MonitoringConfig, type Severity } from './config.js';
import {
  capSegments,
  mergeLabeledSegments,
  mergePredictionSegments,
  type LabeledSegment,
  type MergedPredictions,
  type PredictionSegment,
  type QualitySummary,
} from './state.js';

export interface DriftRow {
  window_start: string;
  window_end: string;
  model_name: string;
  model_version: string;
  segment: string;
  feature: string;
  feature_kind: string;
  method: string;
  score: number | null;
  p_value: number | null;
  p_value_adjusted: number | null;
  threshold: number;
  threshold_kind: string;
  drift: number;
  severity: string;
  n_ref: number;
  n_cur: number;
  status: string;
  is_final: number;
  computed_at: string;
}

export interface DataQualityRow {
  window_start: string;
  window_end: string;
  model_name: string;
  model_version: string;
  segment: string;
  feature: string;
  missing_rate: number;
  reference_missing_rate: number;
  schema_status: string;
  observed_type: string;
  expected_type: string;
  n: number;
  computed_at: string;
}

export interface SummaryRow {
  window_start: string;
  window_end: string;
  model_name: string;
  model_version: string;
  segment: string;
  n_features: number;
  n_drifted: number;
  drifted_share: number;
  drifted_features: string[];
  prediction_drift: number;
  dataset_drift: number;
  severity: string;
  severity_level: number;
  correction: string;
  n_events: number;
  profile_status: string;
  computed_at: string;
}

export interface PerformanceRow {
  window_start: string;
  window_end: string;
  model_name: string;
  model_version: string;
  segment: string;
  is_shadow: number;
  metric: string;
  kind: 'realized' | 'estimated';
  value: number | null;
  n_labeled: number;
  n_total: number;
  is_final: number;
  computed_at: string;
}

export interface KpiRow {
  window_start: string;
  window_end: string;
  model_name: string;
  model_version: string;
  segment: string;
  kpi: string;
  value: number | null;
  baseline: number | null;
  n: number;
  is_final: number;
  computed_at: string;
}

export interface WindowRows {
  drift: DriftRow[];
  quality: DataQualityRow[];
  summary: SummaryRow[];
  performance: PerformanceRow[];
  kpi: KpiRow[];
}

export const emptyRows = (): WindowRows => ({ drift: [], quality: [], summary: [], performance: [], kpi: [] });

interface WindowId {
  readonly model: string;
  readonly version: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly computedAt: number;
}

function base(w: WindowId, segment: string) {
  return {
    window_start: toClickHouseTime(w.windowStart),
    window_end: toClickHouseTime(w.windowEnd),
    model_name: w.model,
    model_version: w.version,
    segment,
  };
}

const maxSeverity = (a: Severity, b: Severity): Severity => (SEVERITY_LEVEL[a] >= SEVERITY_LEVEL[b] ? a : b);

function featureSeverity(r: FeatureDriftReport, criticalFactor: number): Severity {
  if (!r.drift) return 'none';
  if (r.thresholdType === 'distance') return r.score !== null && r.score >= r.threshold * criticalFactor ? 'critical' : 'warning';
  const p = r.adjustedPValue ?? r.pValue;
  return p !== null && p < r.threshold / criticalFactor ? 'critical' : 'warning';
}

/** Model severity from the share/count of drifted features, then the prediction and schema escalations. */
export function modelSeverity(nDrifted: number, nFeatures: number, predictionDrift: boolean, schemaDrift: boolean, cfg: MonitoringConfig): Severity {
  const share = nFeatures === 0 ? 0 : nDrifted / nFeatures;
  const reaches = (r: { driftedCount: number; driftedShare: number }) =>
    nDrifted > 0 && ((r.driftedCount > 0 && nDrifted >= r.driftedCount) || (r.driftedShare > 0 && share >= r.driftedShare));
  let s: Severity = reaches(cfg.severity.critical) ? 'critical' : reaches(cfg.severity.warning) ? 'warning' : 'none';
  if (predictionDrift) s = maxSeverity(s, cfg.severity.predictionDrift);
  if (schemaDrift) s = maxSeverity(s, cfg.severity.schemaDrift);
  return s;
}

function dominantType(t: TypeCounts | undefined): string {
  if (!t) return 'none';
  const entries: Array<[string, number]> = [
    ['number', t.number],
    ['string', t.string],
    ['boolean', t.boolean],
  ];
  let best: [string, number] = ['none', 0];
  for (const e of entries) if (e[1] > best[1]) best = e;
  const kinds = entries.filter((e) => e[1] > 0).length;
  return kinds > 1 ? 'mixed' : best[0];
}

function driftRow(w: WindowId, segment: string, r: FeatureDriftReport, insufficient: boolean, cfg: MonitoringConfig): DriftRow {
  const drift = !insufficient && r.drift;
  return {
    ...base(w, segment),
    feature: r.feature,
    feature_kind: r.kind,
    method: r.method,
    score: r.score,
    p_value: r.pValue,
    p_value_adjusted: r.adjustedPValue,
    threshold: r.threshold,
    threshold_kind: r.thresholdType,
    drift: drift ? 1 : 0,
    severity: drift ? featureSeverity(r, cfg.drift.criticalFactor) : 'none',
    n_ref: r.nRef,
    n_cur: r.nCur,
    status: insufficient ? 'insufficient_data' : r.status,
    is_final: 1,
    computed_at: toClickHouseTime(w.computedAt),
  };
}

function qualityRowsFromReport(w: WindowId, segment: string, report: DriftReport, profile: ProfileEntry, seg: PredictionSegment): DataQualityRow[] {
  const out: DataQualityRow[] = [];
  const missing = new Set(report.schema.missingFeatures);
  const changed = new Map(report.schema.typeChanges.map((t) => [t.feature, t]));
  const n = seg.champion;
  for (const f of report.features) {
    const fp = profile.features.features[f.feature]!;
    const sf = seg.drift!.features[f.feature];
    out.push({
      ...base(w, segment),
      feature: f.feature,
      missing_rate: f.missing.curRate ?? 0,
      reference_missing_rate: f.missing.refRate,
      schema_status: missing.has(f.feature) ? 'missing' : changed.has(f.feature) ? 'type_changed' : 'ok',
      observed_type: dominantType(sf?.types),
      expected_type: fp.valueType,
      n,
      computed_at: toClickHouseTime(w.computedAt),
    });
  }
  for (const nf of report.schema.newFeatures) {
    out.push({
      ...base(w, segment),
      feature: nf.feature,
      missing_rate: n === 0 ? 1 : 1 - nf.rows / n,
      reference_missing_rate: 1,
      schema_status: 'new',
      observed_type: 'unknown',
      expected_type: '',
      n,
      computed_at: toClickHouseTime(w.computedAt),
    });
  }
  return out;
}

function qualityRowsWithoutReference(w: WindowId, segment: string, q: QualitySummary): DataQualityRow[] {
  return Object.keys(q.features)
    .sort()
    .map((feature) => {
      const [present, , number, string, boolean] = q.features[feature]!;
      return {
        ...base(w, segment),
        feature,
        missing_rate: q.rows === 0 ? 0 : 1 - present / q.rows,
        reference_missing_rate: 0,
        schema_status: 'no_reference',
        observed_type: dominantType({ number, string, boolean }),
        expected_type: '',
        n: q.rows,
        computed_at: toClickHouseTime(w.computedAt),
      };
    });
}

function kpiBaseline(profile: ProfileEntry | null, k: KpiDefinition): number | null {
  const b = profile?.kpiBaselines[k.name];
  if (!b) return null;
  const sameDenominator = (b.denominator ?? null) === (k.denominator?.source ?? null);
  return b.expression === k.expression.source && b.aggregation === k.aggregation && sameDenominator ? b.value : null;
}

function kpiRows(
  w: WindowId,
  segment: string,
  kpis: readonly KpiDefinition[],
  accs: PredictionSegment['kpis'],
  profile: ProfileEntry | null,
  isFinal: boolean,
): KpiRow[] {
  const out: KpiRow[] = [];
  for (const k of kpis) {
    const acc = accs[k.name];
    if (!acc) continue;
    out.push({
      ...base(w, segment),
      kpi: k.name,
      value: kpiValue(acc, k.aggregation),
      baseline: kpiBaseline(profile, k),
      n: acc.n,
      is_final: isFinal ? 1 : 0,
      computed_at: toClickHouseTime(w.computedAt),
    });
  }
  return out;
}

/**
 * Rows for a window whose predictions are final: drift per feature and for '__prediction__', data
 * quality and schema drift, the model verdict, CBPE estimates and prediction-sourced KPIs.
 */
export function evaluatePredictionWindow(w: WindowId, merged: MergedPredictions, profile: ProfileEntry | null, cfg: MonitoringConfig): WindowRows {
  const rows = emptyRows();
  const { segments } = capSegments(merged.segments, cfg.segments.maxValues, (s) => s.champion + s.shadow, mergePredictionSegments);
  const computedAt = toClickHouseTime(w.computedAt);
  const kpis = cfg.kpis.filter((k) => k.source === 'predictions' && (k.models.length === 0 || k.models.includes(w.model)));
  const usable = profile !== null && merged.profileVersion > 0;
  for (const [segment, seg] of Object.entries(segments)) {
    // CBPE estimates (champion and shadow) — final with the window's predictions.
    seg.cbpe.forEach((c, i) => {
      if (!c || c.n === 0) return;
      const e = estimatePerformance(c);
      for (const metric of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const) {
        rows.performance.push({
          ...base(w, segment),
          is_shadow: i,
          metric,
          kind: 'estimated',
          value: e[metric],
          n_labeled: 0,
          n_total: c.n,
          is_final: 1,
          computed_at: computedAt,
        });
      }
    });
    if (seg.champion === 0) continue; // a shadow-only version: drift is champion-only
    rows.kpi.push(...kpiRows(w, segment, kpis, seg.kpis, usable ? profile : null, true));
    if (!usable || !seg.drift) {
      rows.summary.push({
        ...base(w, segment),
        n_features: 0,
        n_drifted: 0,
        drifted_share: 0,
        drifted_features: [],
        prediction_drift: 0,
        dataset_drift: 0,
        severity: 'unknown',
        severity_level: SEVERITY_LEVEL.unknown,
        correction: cfg.drift.correction,
        n_events: seg.champion,
        profile_status: 'no_reference',
        computed_at: computedAt,
      });
      if (seg.quality) rows.quality.push(...qualityRowsWithoutReference(w, segment, seg.quality));
      continue;
    }
    const insufficient = seg.champion < cfg.drift.minWindowRows;
    const report = evaluateDrift(profile.features, seg.drift, { ...cfg.drift, correction: cfg.drift.correction });
    const predReport =
      profile.prediction && seg.prediction
        ? evaluateDrift(profile.prediction, seg.prediction, { ...cfg.drift, correction: 'none', features: [PREDICTION_FEATURE] })
        : null;
    for (const r of report.features) rows.drift.push(driftRow(w, segment, r, insufficient, cfg));
    const pr = predReport?.features[0];
    if (pr) rows.drift.push(driftRow(w, segment, pr, insufficient, cfg));
    rows.quality.push(...qualityRowsFromReport(w, segment, report, profile, seg));
    const drifted = insufficient ? [] : report.features.filter((f) => f.drift).map((f) => f.feature);
    const predictionDrift = !insufficient && pr?.drift === true;
    const schemaDrift = !insufficient && (report.schema.missingFeatures.length > 0 || report.schema.typeChanges.length > 0);
    const severity = insufficient ? 'none' : modelSeverity(drifted.length, report.features.length, predictionDrift, schemaDrift, cfg);
    rows.summary.push({
      ...base(w, segment),
      n_features: report.features.length,
      n_drifted: drifted.length,
      drifted_share: report.features.length === 0 ? 0 : drifted.length / report.features.length,
      drifted_features: [...drifted].sort(),
      prediction_drift: predictionDrift ? 1 : 0,
      dataset_drift: !insufficient && report.summary.datasetDrift ? 1 : 0,
      severity,
      severity_level: SEVERITY_LEVEL[severity],
      correction: cfg.drift.correction,
      n_events: seg.champion,
      profile_status: insufficient ? 'insufficient_data' : merged.profileStatus,
      computed_at: computedAt,
    });
  }
  return rows;
}

/**
 * Rows for a window's realized performance and outcome KPIs. `predictionCounts` are the window's
 * champion/shadow prediction counts per segment from the predictions topic (the label-coverage
 * denominator); when the predictions topic holds nothing for the window, the labeled-predictions
 * total (labeled + expired) is used instead.
 */
export function evaluatePerformanceWindow(
  w: WindowId,
  labeled: Record<string, LabeledSegment>,
  predictionCounts: Record<string, [number, number]>,
  profile: ProfileEntry | null,
  cfg: MonitoringConfig,
  isFinal: boolean,
): WindowRows {
  const rows = emptyRows();
  const computedAt = toClickHouseTime(w.computedAt);
  const size = (s: LabeledSegment) => (s.perf[0]?.total ?? 0) + (s.perf[1]?.total ?? 0);
  // Segments present only in the predictions topic still get a coverage row (0 labels so far).
  const all: Record<string, LabeledSegment> = { ...labeled };
  for (const sk of Object.keys(predictionCounts)) if (!all[sk]) all[sk] = { perf: [null, null], kpis: {} };
  const countOf = (sk: string, i: number) => predictionCounts[sk]?.[i] ?? 0;
  const { segments, otherOf } = capSegments(all, cfg.segments.maxValues, (s) => size(s), mergeLabeledSegments);
  const totals: Record<string, [number, number]> = {};
  for (const sk of Object.keys(all)) {
    const target = otherOf.get(sk) ?? sk;
    const t = totals[target] ?? (totals[target] = [0, 0]);
    t[0] += countOf(sk, 0);
    t[1] += countOf(sk, 1);
  }
  const average = performanceFor(cfg, w.model).average;
  const kpis = cfg.kpis.filter((k) => k.source === 'labeled' && (k.models.length === 0 || k.models.includes(w.model)));
  for (const [segment, seg] of Object.entries(segments)) {
    for (const i of [0, 1] as const) {
      const acc = seg.perf[i];
      const nPred = totals[segment]?.[i] ?? 0;
      const nTotal = nPred > 0 ? nPred : (acc?.total ?? 0);
      if (nTotal === 0 && !acc) continue;
      const nLabeled = acc?.labeled ?? 0;
      const push = (metric: string, value: number | null) =>
        rows.performance.push({
          ...base(w, segment),
          is_shadow: i,
          metric,
          kind: 'realized',
          value,
          n_labeled: nLabeled,
          n_total: nTotal,
          is_final: isFinal ? 1 : 0,
          computed_at: computedAt,
        });
      push('label_coverage', nTotal > 0 ? Math.min(1, nLabeled / nTotal) : null);
      push('label_delay_p50_ms', acc ? logHistogramQuantile(acc.delay, 0.5) : null);
      push('label_delay_p95_ms', acc ? logHistogramQuantile(acc.delay, 0.95) : null);
      if (acc && acc.classification.n > 0) {
        const m = classificationMetrics(acc.classification, average);
        for (const [metric, value] of Object.entries(m)) push(metric, value);
      }
      if (acc && acc.regression.n > 0) {
        const m = regressionMetrics(acc.regression);
        for (const [metric, value] of Object.entries(m)) push(metric, value);
      }
    }
    rows.kpi.push(...kpiRows(w, segment, kpis, seg.kpis, profile, isFinal));
  }
  return rows;
}
