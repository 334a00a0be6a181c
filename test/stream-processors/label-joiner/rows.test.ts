import { describe, expect, it } from 'vitest';
import type { LabeledPrediction } from '../../../lib/contracts/schemas.js';
import { labeledPredictionRow, lateLabelRow, resultKind } from '../../../stream-processors/label-joiner/rows.js';

const record: LabeledPrediction = {
  prediction_id: 'p1',
  model_name: 'churn',
  model_version: '2',
  prediction_time: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
  features: { tenure: 3, plan: 'pro', active: false, missing: null },
  score: 0.4,
  probabilities: { '1': 0.4 },
  predicted_label: '0',
  predicted_value: null,
  segment: { region: 'eu' },
  is_shadow: true,
  status: 'LABELED',
  label: '1',
  target_value: null,
  outcome_time: Date.UTC(2024, 0, 2, 4, 4, 5, 6),
  label_delay_ms: 3_600_000,
  business: { revenue: 5 },
  outcome_event_id: 'o1',
  join_watermark: 1704164645006,
};

describe('label-joiner rows', () => {
  it('maps a LabeledPrediction to a labeled_predictions row with typed feature maps and UTC times', () => {
    expect(labeledPredictionRow(record, Date.UTC(2024, 0, 3))).toEqual({
      prediction_id: 'p1',
      model_name: 'churn',
      model_version: '2',
      is_shadow: true,
      prediction_time: '2024-01-02 03:04:05.006',
      status: 'LABELED',
      is_labeled: 1,
      score: 0.4,
      probabilities: { '1': 0.4 },
      predicted_label: '0',
      predicted_value: null,
      num_features: { tenure: 3 },
      cat_features: { plan: 'pro' },
      bool_features: { active: false },
      missing_features: ['missing'],
      segment: { region: 'eu' },
      label: '1',
      target_value: null,
      outcome_time: '2024-01-02 04:04:05.006',
      label_delay_ms: 3_600_000,
      business: { revenue: 5 },
      outcome_event_id: 'o1',
      emitted_at: '2024-01-03 00:00:00.000',
    });
    const unlabeled = labeledPredictionRow(
      { ...record, status: 'UNLABELED', label: null, outcome_time: null, label_delay_ms: null, outcome_event_id: null, business: {} },
      0,
    );
    expect(unlabeled).toMatchObject({ status: 'UNLABELED', is_labeled: 0, outcome_time: null, label_delay_ms: null });
  });

  it('maps a late label with and without a known prediction', () => {
    const o = { event_id: 'o2', prediction_id: 'p1', model_name: 'churn', outcome_time: 10_000, label: '0', target_value: null, business: {} };
    expect(lateLabelRow('after_expiry', o, 4_000, '2', 9_000, 20_000)).toEqual({
      outcome_event_id: 'o2',
      prediction_id: 'p1',
      model_name: 'churn',
      model_version: '2',
      reason: 'after_expiry',
      outcome_time: '1970-01-01 00:00:10.000',
      prediction_time: '1970-01-01 00:00:04.000',
      label_delay_ms: 6_000,
      label: '0',
      target_value: null,
      business: {},
      watermark: '1970-01-01 00:00:09.000',
      recorded_at: '1970-01-01 00:00:20.000',
    });
    expect(lateLabelRow('no_prediction', o, null, null, null, 0)).toMatchObject({
      model_version: '',
      prediction_time: null,
      label_delay_ms: null,
      watermark: null,
    });
  });

  it('names metric kinds', () => {
    const o = { event_id: 'o', prediction_id: 'p', model_name: 'm', outcome_time: 0, label: null, target_value: null, business: {} };
    expect(resultKind({ type: 'emit', cause: 'joined', record })).toBe('labeled');
    expect(resultKind({ type: 'emit', cause: 'evicted', record: { ...record, status: 'UNLABELED' } })).toBe('unlabeled_evicted');
    expect(resultKind({ type: 'emit', cause: 'expired', record: { ...record, status: 'UNLABELED' } })).toBe('unlabeled');
    expect(resultKind({ type: 'late_label', reason: 'duplicate', outcome: o, predictionTime: null, modelVersion: null, watermark: null })).toBe(
      'duplicate_outcome',
    );
    expect(resultKind({ type: 'late_label', reason: 'after_expiry', outcome: o, predictionTime: null, modelVersion: null, watermark: null })).toBe(
      'late_after_expiry',
    );
    expect(resultKind({ type: 'duplicate_prediction', predictionId: 'p', eventId: 'e', redelivery: false })).toBe('duplicate_prediction');
    expect(resultKind({ type: 'redelivered_outcome', predictionId: 'p', eventId: 'e' })).toBe('redelivered');
  });
});
