import { describe, expect, it } from 'vitest';
import { parseMonitoringConfig } from '../../../stream-processors/window-metrics/config.js';
import { evaluatePerformanceWindow, evaluatePredictionWindow, modelSeverity } from '../../../stream-processors/window-metrics/evaluate.js';
import {
  applyLabeled,
  applyPrediction,
  createPartitionState,
  mergeLabeledPartials,
  mergePredictionPartials,
  type LabeledPartial,
  type PredictionPartial,
} from '../../../stream-processors/window-metrics/state.js';
import { generateStream } from '../../support/window-stream.js';
import { envWith, monitoring, profileEntry } from './fixtures.js';

const w = { model: 'm', version: 'v1', windowStart: 0, windowEnd: 10_000, computedAt: 1 };

function predictions(n: number, profile: ReturnType<typeof profileEntry> | null, shift?: Record<string, number>) {
  const st = createPartitionState('t', 0, 'predictions');
  const events = generateStream({
    seed: 12,
    model: 'm',
    version: 'v1',
    start: 0,
    windowMs: 10_000,
    eventsPerWindow: n,
    labelDelayMs: 5_000,
    phases: [{ name: 's', windows: 1, ...(shift ? { covariateShift: shift } : {}) }],
  });
  for (const e of events) applyPrediction(st, e.prediction, envWith(profile), () => profile);
  return { merged: mergePredictionPartials([...st.partials.values()] as PredictionPartial[]), events };
}

describe('window evaluation', () => {
  it('turns drifted features into a model severity by configurable count/share, with escalations', () => {
    const cfg = parseMonitoringConfig({
      monitoring: { severity: { warning: { drifted_count: 2 }, critical: { drifted_share: 0.5 }, prediction_drift: 'warning', schema_drift: 'critical' } },
    });
    expect(modelSeverity(0, 10, false, false, cfg)).toBe('none');
    expect(modelSeverity(1, 10, false, false, cfg)).toBe('none');
    expect(modelSeverity(2, 10, false, false, cfg)).toBe('warning');
    expect(modelSeverity(5, 10, false, false, cfg)).toBe('critical');
    expect(modelSeverity(0, 10, true, false, cfg)).toBe('warning');
    expect(modelSeverity(0, 10, false, true, cfg)).toBe('critical');
  });

  it('writes drift, data quality and a verdict per segment, flagging shifted features', () => {
    const profile = profileEntry(1, 3000);
    const { merged } = predictions(1500, profile, { x3: 2 });
    const rows = evaluatePredictionWindow(w, merged, profile, monitoring);
    const summary = rows.summary.find((r) => r.segment === '')!;
    expect(summary).toMatchObject({
      drifted_features: ['x3'],
      n_drifted: 1,
      n_features: 6,
      severity: 'warning',
      severity_level: 1,
      profile_status: 'ok',
      n_events: 1500,
      correction: 'benjamini-hochberg',
    });
    const x3 = rows.drift.find((r) => r.feature === 'x3' && r.segment === '')!;
    expect(x3).toMatchObject({
      drift: 1,
      severity: 'critical',
      method: 'wasserstein',
      threshold_kind: 'distance',
      status: 'ok',
      is_final: 1,
      n_cur: 1500,
      n_ref: 3000,
    });
    expect(rows.drift.some((r) => r.feature === '__prediction__')).toBe(true);
    expect(rows.quality.filter((r) => r.segment === '').map((r) => r.schema_status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    // CBPE estimates and a prediction-sourced KPI (fallback rate), baseline null (not in the reference)
    expect(rows.performance.filter((r) => r.kind === 'estimated').map((r) => r.metric)).toEqual(['accuracy', 'precision', 'recall', 'f1', 'roc_auc']);
    const fb = rows.kpi.find((r) => r.kpi === 'fallback_rate')!;
    expect(fb.value!).toBeGreaterThan(0);
    expect(fb.baseline).toBeNull();
  });

  it('marks windows below the minimum size as insufficient_data, never drifted', () => {
    const profile = profileEntry();
    const { merged } = predictions(10, profile, { x1: 5 });
    const rows = evaluatePredictionWindow(w, merged, profile, monitoring);
    expect(rows.summary[0]).toMatchObject({ profile_status: 'insufficient_data', severity: 'none', n_drifted: 0 });
    expect(rows.drift.every((r) => r.drift === 0 && r.status === 'insufficient_data')).toBe(true);
  });

  it('gives versions without a profile no_reference rows instead of zeros', () => {
    const { merged } = predictions(100, null);
    const rows = evaluatePredictionWindow(w, merged, null, monitoring);
    expect(rows.drift).toEqual([]);
    expect(rows.summary[0]).toMatchObject({ profile_status: 'no_reference', severity: 'unknown', n_events: 100 });
    expect(rows.quality.map((r) => r.schema_status)).toEqual(Array(6).fill('no_reference'));
    expect(rows.performance).toEqual([]); // no CBPE without a calibrated reference
  });

  it('computes realized performance with coverage against the predictions topic and the finality flag', () => {
    const profile = profileEntry();
    const st = createPartitionState('l', 0, 'labeled');
    const events = generateStream({
      seed: 13,
      model: 'm',
      version: 'v1',
      start: 0,
      windowMs: 10_000,
      eventsPerWindow: 400,
      labelDelayMs: 5_000,
      phases: [{ name: 's', windows: 1 }],
      unlabeledShare: 0,
    });
    for (const e of events.slice(0, 300)) applyLabeled(st, e.labeled, envWith(profile));
    const labeled = mergeLabeledPartials([...st.partials.values()] as LabeledPartial[]);
    const prov = evaluatePerformanceWindow(w, labeled, { '': [400, 0] }, profile, monitoring, false);
    const cov = prov.performance.find((r) => r.metric === 'label_coverage' && r.segment === '')!;
    expect(cov).toMatchObject({ value: 0.75, n_labeled: 300, n_total: 400, is_final: 0, kind: 'realized' });
    expect(prov.performance.find((r) => r.metric === 'accuracy')!.value!).toBeGreaterThan(0.6);
    const conv = prov.kpi.find((r) => r.kpi === 'conversion_rate')!;
    expect(conv.baseline).not.toBeNull();
    expect(conv.is_final).toBe(0);
    // Without prediction counts the labeled total is the denominator.
    const fin = evaluatePerformanceWindow(w, labeled, {}, profile, monitoring, true);
    expect(fin.performance.find((r) => r.metric === 'label_coverage')).toMatchObject({ value: 1, n_total: 300, is_final: 1 });
    // A window with predictions but no labels yet still reports coverage 0.
    const none = evaluatePerformanceWindow(w, {}, { '': [50, 0] }, profile, monitoring, false);
    expect(none.performance.find((r) => r.metric === 'label_coverage')).toMatchObject({ value: 0, n_total: 50 });
  });

  it('reports shadow predictions separately (is_shadow = 1) and keeps them out of KPIs', () => {
    const profile = profileEntry();
    const st = createPartitionState('l', 0, 'labeled');
    const events = generateStream({
      seed: 15,
      model: 'm',
      version: 'v1',
      start: 0,
      windowMs: 10_000,
      eventsPerWindow: 200,
      labelDelayMs: 5_000,
      phases: [{ name: 's', windows: 1 }],
      unlabeledShare: 0,
    });
    for (const e of events) {
      applyLabeled(st, e.labeled, envWith(profile));
      applyLabeled(st, { ...e.labeled, is_shadow: true, predicted_label: '1', score: 0.99 }, envWith(profile));
    }
    const rows = evaluatePerformanceWindow(
      w,
      mergeLabeledPartials([...st.partials.values()] as LabeledPartial[]),
      { '': [200, 200] },
      profile,
      monitoring,
      true,
    );
    const acc = (shadow: number) => rows.performance.find((r) => r.metric === 'accuracy' && r.is_shadow === shadow && r.segment === '')!;
    expect(acc(0).value!).toBeGreaterThan(0.6);
    // the shadow "model" always predicts 1: its accuracy is the positive rate
    const positives = events.filter((e) => e.labeled.label === '1').length / events.length;
    expect(acc(1).value).toBeCloseTo(positives, 12);
    expect(acc(1).n_total).toBe(200);
    const conv = rows.kpi.find((r) => r.kpi === 'conversion_rate' && r.segment === '')!;
    expect(conv.n).toBe(200);
  });

  it('drops a KPI baseline when the expression changed since the profile was built', () => {
    const profile = profileEntry();
    const changed = parseMonitoringConfig({ kpis: [{ name: 'conversion_rate', expression: 'business.converted * 2', aggregation: 'mean' }] });
    const st = createPartitionState('l', 0, 'labeled');
    const events = generateStream({
      seed: 14,
      model: 'm',
      version: 'v1',
      start: 0,
      windowMs: 10_000,
      eventsPerWindow: 50,
      labelDelayMs: 5_000,
      phases: [{ name: 's', windows: 1 }],
      unlabeledShare: 0,
    });
    for (const e of events) applyLabeled(st, e.labeled, envWith(profile, changed));
    const rows = evaluatePerformanceWindow(w, mergeLabeledPartials([...st.partials.values()] as LabeledPartial[]), {}, profile, changed, true);
    expect(rows.kpi.find((r) => r.kpi === 'conversion_rate')!.baseline).toBeNull();
  });
});
