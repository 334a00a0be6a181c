/**
 * Builds a model version's reference profile from reference rows (pure):
 *  - the drift profile of every feature column and of the prediction ('__prediction__': score, else
 *    predicted value, else predicted label) — lib/stats `buildReferenceProfile`;
 *  - the task (binary | multiclass | regression), the CBPE calibration when rows carry labels and
 *    scores (lib/performance/calibration.ts), realized performance on the reference;
 *  - baselines of the configured KPIs that the reference can measure (every field the KPI reads is
 *    present in at least one row); others have no baseline rather than a silent 0.
 */
import { fitCalibration } from '../performance/calibration.js';
import { addClassification, classificationMetrics, createClassificationSummary, type ClassificationOptions } from '../performance/classification.js';
import { kpiOverRows, type KpiDefinition } from '../performance/kpi/kpi.js';
import { addRegression, createRegressionSummary, regressionMetrics } from '../performance/regression.js';
import { ReferenceDataInvalidError } from '../runtime/errors.js';
import { buildReferenceProfile } from '../stats/profile/reference.js';
import type { ProfileOptions, Row } from '../stats/profile/types.js';
import type { ReferenceRow } from './read.js';
import { PREDICTION_FEATURE, type KpiBaseline, type ModelTask, type StoredProfile } from './types.js';

export interface BuildOptions {
  readonly model: string;
  readonly version: string;
  readonly source: string;
  readonly createdAt: number;
  readonly kpis?: readonly KpiDefinition[];
  readonly performance?: Partial<ClassificationOptions>;
  readonly profile?: ProfileOptions;
}

const predictionOf = (r: ReferenceRow): number | string | null => r.score ?? r.predicted_value ?? r.predicted_label ?? null;

function scoreOf(r: ReferenceRow, positive: string): number | null {
  if (r.score !== null && r.score !== undefined) return r.score;
  return r.probabilities?.[positive] ?? null;
}

export function detectTask(rows: readonly ReferenceRow[]): ModelTask {
  let targets = 0;
  let scores = 0;
  const classes = new Set<string>();
  for (const r of rows) {
    if (r.target_value !== null && r.target_value !== undefined) targets++;
    if (r.label !== null && r.label !== undefined) classes.add(r.label);
    if (r.predicted_label !== null && r.predicted_label !== undefined) classes.add(r.predicted_label);
    if (r.score !== null && r.score !== undefined) scores++;
  }
  if (targets > 0 || (classes.size === 0 && rows.some((r) => r.predicted_value !== null && r.predicted_value !== undefined))) return 'regression';
  if (classes.size > 2) return 'multiclass';
  if (classes.size > 0 || scores > 0) return 'binary';
  return 'unknown';
}

/** The event-shaped context a KPI expression sees for a reference row (only present fields). */
export function kpiContext(r: ReferenceRow): Record<string, unknown> {
  const ctx: Record<string, unknown> = { features: r.features, is_shadow: false };
  for (const k of [
    'score',
    'predicted_label',
    'predicted_value',
    'probabilities',
    'label',
    'target_value',
    'business',
    'segment',
    'fallback',
    'latency_ms',
  ] as const) {
    if (r[k] !== undefined) ctx[k] = r[k];
  }
  if (r.label !== undefined || r.target_value !== undefined) ctx.status = 'LABELED';
  return ctx;
}

export function buildStoredProfile(rows: readonly ReferenceRow[], o: BuildOptions): StoredProfile {
  if (rows.length === 0) throw new ReferenceDataInvalidError('the reference data has no rows');
  const featureRows: Row[] = rows.map((r) => r.features);
  if (!rows.some((r) => Object.keys(r.features).length > 0)) throw new ReferenceDataInvalidError('the reference data has no feature column');
  const features = buildReferenceProfile(featureRows, o.profile ?? {});
  const hasPrediction = rows.some((r) => predictionOf(r) !== null);
  const prediction = hasPrediction
    ? buildReferenceProfile(
        rows.map((r) => ({ [PREDICTION_FEATURE]: predictionOf(r) })),
        o.profile ?? {},
      )
    : null;
  const task = detectTask(rows);
  const perf: ClassificationOptions = {
    positiveLabel: o.performance?.positiveLabel ?? '1',
    decisionThreshold: o.performance?.decisionThreshold ?? 0.5,
    average: o.performance?.average ?? 'binary',
  };

  let calibration = null;
  const referencePerformance: Record<string, number | null> = {};
  if (task === 'binary' || task === 'multiclass') {
    const cs = createClassificationSummary();
    const scores: number[] = [];
    const ys: number[] = [];
    for (const r of rows) {
      if (r.label === null || r.label === undefined) continue;
      const s = scoreOf(r, perf.positiveLabel);
      addClassification(cs, { label: r.label, predictedLabel: r.predicted_label ?? null, score: s }, perf);
      if (s !== null && Number.isFinite(s) && s >= 0 && s <= 1) {
        scores.push(s);
        ys.push(r.label === perf.positiveLabel ? 1 : 0);
      }
    }
    if (cs.n > 0) Object.assign(referencePerformance, classificationMetrics(cs, perf.average));
    if (task === 'binary' && scores.length > 0) calibration = fitCalibration(scores, ys);
  } else if (task === 'regression') {
    const rs = createRegressionSummary();
    for (const r of rows) {
      const p = r.predicted_value ?? r.score;
      if (r.target_value !== null && r.target_value !== undefined && p !== null && p !== undefined) addRegression(rs, r.target_value, p);
    }
    if (rs.n > 0) Object.assign(referencePerformance, regressionMetrics(rs));
  }

  const kpiBaselines: Record<string, KpiBaseline> = {};
  const contexts = rows.map(kpiContext);
  for (const k of o.kpis ?? []) {
    const roots = new Set([...k.expression.roots, ...(k.denominator?.roots ?? [])]);
    const measurable = [...roots].every((root) => contexts.some((c) => c[root] !== undefined && c[root] !== null));
    if (!measurable) continue;
    const { value, n } = kpiOverRows(k, contexts);
    kpiBaselines[k.name] = { expression: k.expression.source, aggregation: k.aggregation, denominator: k.denominator?.source ?? null, value, n };
  }

  return {
    format: 1,
    model: o.model,
    version: o.version,
    source: o.source,
    createdAt: o.createdAt,
    rowCount: rows.length,
    task,
    positiveLabel: perf.positiveLabel,
    features,
    prediction,
    calibration,
    kpiBaselines,
    referencePerformance,
  };
}
