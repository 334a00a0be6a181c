/**
 * Join outputs as ClickHouse rows (migration 020) and as metric kinds. Pure.
 */
import type { FeatureValue, LabeledPrediction, OutcomeEvent } from '../../lib/contracts/schemas.js';
import type { JoinOutput, LateReason } from './core.js';

/**
 * ClickHouse DateTime64(3,'UTC') text for an epoch-ms instant (the format of `toClickHouseTime` in
 * lib/runtime/clickhouse/client.ts, repeated so this pure module does not load the native engine).
 */
export function clickHouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export interface SplitFeatures {
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  bool_features: Record<string, boolean>;
  missing_features: string[];
}

/** Typed feature maps, as raw_predictions stores them (migration 010). */
export function splitFeatures(features: Readonly<Record<string, FeatureValue>> | undefined): SplitFeatures {
  const out: SplitFeatures = { num_features: {}, cat_features: {}, bool_features: {}, missing_features: [] };
  for (const [name, value] of Object.entries(features ?? {})) {
    if (value === null || value === undefined) out.missing_features.push(name);
    else if (typeof value === 'number') out.num_features[name] = value;
    else if (typeof value === 'boolean') out.bool_features[name] = value;
    else out.cat_features[name] = value;
  }
  return out;
}

export interface LabeledPredictionRow extends SplitFeatures {
  prediction_id: string;
  model_name: string;
  model_version: string;
  is_shadow: boolean;
  prediction_time: string;
  status: string;
  is_labeled: 0 | 1;
  score: number | null;
  probabilities: Record<string, number>;
  predicted_label: string | null;
  predicted_value: number | null;
  segment: Record<string, string>;
  label: string | null;
  target_value: number | null;
  outcome_time: string | null;
  label_delay_ms: number | null;
  business: Record<string, number>;
  outcome_event_id: string | null;
  emitted_at: string;
}

export interface LateLabelRow {
  outcome_event_id: string;
  prediction_id: string;
  model_name: string;
  model_version: string;
  reason: LateReason;
  outcome_time: string;
  prediction_time: string | null;
  label_delay_ms: number | null;
  label: string | null;
  target_value: number | null;
  business: Record<string, number>;
  watermark: string | null;
  recorded_at: string;
}

export function labeledPredictionRow(r: LabeledPrediction, emittedAt: number): LabeledPredictionRow {
  return {
    prediction_id: r.prediction_id,
    model_name: r.model_name,
    model_version: r.model_version,
    is_shadow: r.is_shadow,
    prediction_time: clickHouseTime(r.prediction_time),
    status: r.status,
    is_labeled: r.status === 'LABELED' ? 1 : 0,
    score: r.score,
    probabilities: r.probabilities,
    predicted_label: r.predicted_label,
    predicted_value: r.predicted_value,
    ...splitFeatures(r.features),
    segment: r.segment,
    label: r.label,
    target_value: r.target_value,
    outcome_time: r.outcome_time === null ? null : clickHouseTime(r.outcome_time),
    label_delay_ms: r.label_delay_ms,
    business: r.business,
    outcome_event_id: r.outcome_event_id,
    emitted_at: clickHouseTime(emittedAt),
  };
}

export function lateLabelRow(
  reason: LateReason,
  o: OutcomeEvent,
  predictionTime: number | null,
  modelVersion: string | null,
  watermark: number | null,
  recordedAt: number,
): LateLabelRow {
  return {
    outcome_event_id: o.event_id,
    prediction_id: o.prediction_id,
    model_name: o.model_name,
    model_version: modelVersion ?? '',
    reason,
    outcome_time: clickHouseTime(o.outcome_time),
    prediction_time: predictionTime === null ? null : clickHouseTime(predictionTime),
    label_delay_ms: predictionTime === null ? null : o.outcome_time - predictionTime,
    label: o.label ?? null,
    target_value: o.target_value ?? null,
    business: o.business ?? {},
    watermark: watermark === null ? null : clickHouseTime(watermark),
    recorded_at: clickHouseTime(recordedAt),
  };
}

/** The `kind` label of driftwatch_join_results_total for one output. */
export function resultKind(o: JoinOutput): string {
  switch (o.type) {
    case 'emit':
      return o.record.status === 'LABELED' ? 'labeled' : o.cause === 'evicted' ? 'unlabeled_evicted' : 'unlabeled';
    case 'late_label':
      return o.reason === 'duplicate' ? 'duplicate_outcome' : `late_${o.reason}`;
    case 'duplicate_prediction':
      return o.redelivery ? 'redelivered' : 'duplicate_prediction';
    case 'redelivered_outcome':
      return 'redelivered';
  }
}
