import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  labelsReady,
  linearSpecFromMetadata,
  referenceRows,
  runState,
  shapeOf,
  toTrainingRow,
  trainVersion,
  type TrainingRow,
} from '../../../services/retrain-worker/core.js';
import { validateMetadata } from '../../../services/scoring/model-metadata.js';
import { predictLinear } from '../../../services/scoring/linear-model.js';
import { generateRows } from '../../../services/scoring/sample-models/feature-space.js';
import { TrainingFailedError } from '../../../lib/runtime/errors.js';

const metadata = (name: string) => validateMetadata(JSON.parse(readFileSync(`models/${name}/1/metadata.json`, 'utf8')), name);
const rowsOf = (model: string, seed: number, n: number, drift = {}): TrainingRow[] =>
  generateRows(model, seed, n, drift).map((r) => ({
    features: r.features,
    label: r.label ?? null,
    target: r.target ?? null,
    business: {},
    segment: r.segment,
  }));

describe('retrain worker core', () => {
  it('runState: done once promoted; resumes a registered version; new otherwise', () => {
    expect(runState([])).toEqual({ done: false, registeredVersion: null });
    expect(
      runState([
        { step: 'started', new_version: '' },
        { step: 'registered', new_version: '3' },
      ]),
    ).toEqual({ done: false, registeredVersion: '3' });
    expect(
      runState([
        { step: 'registered', new_version: '3' },
        { step: 'promoted', new_version: '3' },
      ]),
    ).toEqual({ done: true, registeredVersion: '3' });
    expect(runState([{ step: 'failed', new_version: '' }])).toEqual({ done: false, registeredVersion: null });
  });

  it('toTrainingRow turns stored maps back into a feature row (missing -> null)', () => {
    const r = toTrainingRow({
      num_features: { income: '41000', age: 30 },
      cat_features: { region: 'north' },
      bool_features: { vip: 1 },
      missing_features: ['device'],
      segment: { region: 'north' },
      label: '1',
      target_value: null,
      business: { revenue: '12.5' },
    });
    expect(r).toEqual({
      features: { income: 41000, age: 30, region: 'north', vip: true, device: null },
      label: '1',
      target: null,
      business: { revenue: 12.5 },
      segment: { region: 'north' },
    });
  });

  it('shapeOf reads task, inputs and classes from the serving version', () => {
    const s = shapeOf(metadata('credit-risk'));
    expect(s.task).toBe('classification');
    expect(s.classes).toEqual(['0', '1']);
    expect(s.features.map((f) => f.name)).toEqual(['income', 'age', 'debt_ratio', 'credit_lines', 'utilization', 'region', 'device']);
    expect(shapeOf(metadata('delivery-eta')).task).toBe('regression');
  });

  it('linearSpecFromMetadata reproduces the sample model scores', () => {
    const m = metadata('credit-risk');
    const spec = linearSpecFromMetadata(m)!;
    const coefficients = (m.training as { coefficients: { intercept: number } }).coefficients;
    expect(spec.intercept).toBe(coefficients.intercept);
    const atMeans = Object.fromEntries(spec.features.map((f) => [f.name, f.type === 'categorical' ? null : f.mean]));
    const p = predictLinear(spec, { ...atMeans, region: 'north', device: 'mobile' });
    // At the training means every standardised input is 0: p = sigmoid(intercept + w_north + w_mobile).
    const w = spec.weights;
    expect(p).toBeCloseTo(1 / (1 + Math.exp(-(spec.intercept + w[5]! + w[9]!))), 6);
    expect(linearSpecFromMetadata({ ...m, training: {} })).toBeNull();
  });

  it('trains a classifier on drifted data that beats the old model there, with holdout metrics', () => {
    const drift = { incomeFactor: 0.6, utilizationShift: 0.25, conceptShift: -2 };
    const shape = shapeOf(metadata('credit-risk'));
    const trained = trainVersion(shape, rowsOf('credit-risk', 11, 2500, drift), 500);
    expect(trained.trainRows).toBe(2000);
    expect(trained.holdout.rows).toBe(500);
    const test = rowsOf('credit-risk', 12, 3000, drift);
    const acc = (f: (r: TrainingRow) => number) => test.filter((r) => f(r) >= 0.5 === (r.label === '1')).length / test.length;
    const old = linearSpecFromMetadata(metadata('credit-risk'))!;
    const accNew = acc((r) => predictLinear(trained.spec, r.features));
    const accOld = acc((r) => predictLinear(old, r.features));
    expect(accOld).toBeLessThan(0.68);
    expect(accNew).toBeGreaterThan(accOld + 0.08);
    expect(trained.holdout.accuracy!).toBeGreaterThan(0.7);
  });

  it('trains a regressor and reports holdout RMSE near the noise level', () => {
    const trained = trainVersion(shapeOf(metadata('delivery-eta')), rowsOf('delivery-eta', 13, 2000, { distanceFactor: 1.8 }), 500);
    expect(trained.spec.task).toBe('regression');
    expect(trained.holdout.rmse!).toBeGreaterThan(2.5);
    expect(trained.holdout.rmse!).toBeLessThan(4.5);
  });

  it('fails with DW_TRAINING_FAILED on too few rows or a single class', () => {
    const shape = shapeOf(metadata('credit-risk'));
    expect(() => trainVersion(shape, rowsOf('credit-risk', 1, 100), 500)).toThrow(TrainingFailedError);
    const oneClass = rowsOf('credit-risk', 1, 800).map((r) => ({ ...r, label: '0' }));
    expect(() => trainVersion(shape, oneClass, 500)).toThrow(/single class/);
    const unlabeled = rowsOf('credit-risk', 1, 800).map((r) => ({ ...r, label: null }));
    expect(() => trainVersion(shape, unlabeled, 500)).toThrow(/only 0 usable/);
  });

  it('referenceRows scores the training rows with the new model', () => {
    const spec = linearSpecFromMetadata(metadata('credit-risk'))!;
    const rows = rowsOf('credit-risk', 3, 5);
    const ref = referenceRows(spec, rows);
    ref.forEach((r, i) => {
      const s = predictLinear(spec, rows[i]!.features);
      expect(r).toMatchObject({ score: s, predicted_label: s >= 0.5 ? '1' : '0', label: rows[i]!.label, probabilities: { '0': 1 - s, '1': s } });
    });
    const reg = referenceRows(linearSpecFromMetadata(metadata('delivery-eta'))!, rowsOf('delivery-eta', 3, 2));
    expect(reg[0]).toHaveProperty('predicted_value');
    expect(reg[0]).toHaveProperty('target_value');
  });

  it('labelsReady waits for coverage and rows, then gives up at the deadline', () => {
    const o = { minRows: 500, minCoverage: 0.8, waitedMs: 0, maxWaitMs: 60_000 };
    expect(labelsReady(400, 3000, o)).toEqual({ ready: false, coverage: 400 / 3000 });
    expect(labelsReady(2400, 3000, o).ready).toBe(true);
    expect(labelsReady(450, 500, o).ready).toBe(false); // coverage fine, too few rows
    expect(labelsReady(100, 3000, { ...o, waitedMs: 60_000 }).ready).toBe(true);
    expect(labelsReady(0, 0, o)).toEqual({ ready: false, coverage: 0 });
  });
});
