import { describe, expect, it } from 'vitest';
import { evaluate, type WindowResult } from '../../../stream-processors/retrain-trigger/core.js';
import { parsePolicies } from '../../../stream-processors/retrain-trigger/policy.js';
import { alertRow, decisionRow, retrainEventRow } from '../../../stream-processors/retrain-trigger/records.js';

const T0 = Date.UTC(2025, 0, 1);
const W = 300_000;

function win(i: number, severity: string): WindowResult {
  return {
    modelName: 'm',
    modelVersion: '7',
    windowStart: T0 + i * W,
    windowEnd: T0 + (i + 1) * W,
    drift: null,
    features: ['a', 'b'].map((feature) => ({
      feature,
      severity,
      severityLevel: severity === 'critical' ? 2 : 0,
      drift: severity !== 'none',
      score: 1,
      threshold: 0.1,
      method: 'psi',
    })),
    performance: [],
    kpis: [],
    labeledCount: 0,
    labelsFinal: false,
    labelsOnly: false,
  };
}

describe('ClickHouse rows of migration 040', () => {
  const [policy] = parsePolicies([{ id: 'p', model: 'm', when: { drift: { min_features: 2, min_severity: 'critical' } } }]);
  const out = evaluate({ policies: [policy!], triggers: {} }, [win(0, 'critical'), win(1, 'none')], T0 + 3_600_000);

  it('maps a decision, with conditions and the state as JSON', () => {
    const row = decisionRow(out.decisions[0]!);
    expect(row).toMatchObject({
      decided_at: '2025-01-01 01:00:00.000',
      policy_id: 'p',
      model_name: 'm',
      model_version: '7',
      window_start: '2025-01-01 00:00:00.000',
      window_end: '2025-01-01 00:05:00.000',
      decision: 'fired',
      reason: 'condition_met',
      idempotency_key: out.retrainEvents[0]!.idempotency_key,
    });
    expect(JSON.parse(row.conditions)[0]).toMatchObject({ id: 'drift', holds: true, value: 2 });
    expect(JSON.parse(row.detail).state).toEqual(out.decisions[0]!.detail.state);
  });

  it('maps a retrain event, keeping the whole event as JSON', () => {
    const e = out.retrainEvents[0]!;
    const row = retrainEventRow(e);
    expect(row).toMatchObject({
      idempotency_key: e.idempotency_key,
      policy_id: 'p',
      model_version: '7',
      drifted_features: ['a', 'b'],
      training_range_end: '2025-01-01 00:05:00.000',
    });
    expect(JSON.parse(row.event)).toEqual(e);
  });

  it('maps alerts with nullable value, threshold and window bounds', () => {
    expect(out.alerts.map((a) => alertRow(a).status)).toEqual(['FIRING', 'RESOLVED']);
    const row = alertRow({ ...out.alerts[0]!, value: null, threshold: null, window_start: null, window_end: null });
    expect(row).toMatchObject({ value: null, threshold: null, window_start: null, window_end: null, rule: 'p/drift', severity: 'WARNING' });
  });
});
