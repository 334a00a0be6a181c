import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ModelInvalidError } from '../../../lib/runtime/errors.js';
import { generateRows, CREDIT_RISK, DELIVERY_ETA } from '../../../services/scoring/sample-models/feature-space.js';
import { predictLinear, type LinearModelSpec } from '../../../services/scoring/linear-model.js';
import { validateMetadata } from '../../../services/scoring/model-metadata.js';
import { exportLinearModel } from '../../../services/scoring/onnx-export.js';
import { encodeDense, decodeOutputs, requiredOutputs } from '../../../services/scoring/tensor-codec.js';
import { trainLinearRegression, trainLogisticRegression } from '../../../services/scoring/train.js';

async function scoreWithOrt(onnx: Buffer, spec: LinearModelSpec, rows: ReturnType<typeof generateRows>) {
  const { metadata } = exportLinearModel(spec, { name: 'x' });
  const session = await ort.InferenceSession.create(onnx);
  const input = encodeDense(
    metadata,
    rows.map((r) => r.features),
  );
  const out = await session.run({ X: new ort.Tensor('float32', input.data, [rows.length, metadata.features.length]) }, requiredOutputs(metadata));
  await session.release();
  return decodeOutputs(metadata, out as never, rows.length);
}

describe('exportLinearModel', () => {
  it('exports a logistic regression that onnxruntime scores like the TS formula (one-hot, standardisation, missing values, unknown categories)', async () => {
    const train = generateRows(CREDIT_RISK.model, 5, 3000);
    const { spec } = trainLogisticRegression(
      train.map((r) => r.features),
      train.map((r) => r.label!),
      { features: CREDIT_RISK.features, classes: ['0', '1'], maxIterations: 300 },
    );
    const { onnx, metadata } = exportLinearModel(spec, { name: 'credit-risk', defaultScore: 0.3 });
    expect(validateMetadata(metadata, 'credit-risk').outputs.score).toEqual({ tensor: 'probabilities', column: 1 });
    const rows = generateRows(CREDIT_RISK.model, 6, 500, { missingRate: 0.1 });
    rows.push({ features: { income: 40000, age: 30, debt_ratio: 0.2, credit_lines: 3, utilization: 0.5, region: 'atlantis', device: 'mobile' }, segment: {} });
    const outs = await scoreWithOrt(onnx, spec, rows);
    rows.forEach((r, i) => {
      const p = predictLinear(spec, r.features);
      expect(outs[i]!.score).toBeCloseTo(p, 5);
      expect(outs[i]!.probabilities['0']! + outs[i]!.probabilities['1']!).toBeCloseTo(1, 6);
      expect(outs[i]!.label).toBe(p >= 0.5 ? '1' : '0');
    });
    // The unknown category encodes as all zeros, not as the default category.
    const unknown = rows[rows.length - 1]!.features;
    expect(predictLinear(spec, unknown)).not.toBeCloseTo(
      predictLinear(spec, { ...unknown, region: spec.features[5]!.type === 'categorical' ? (spec.features[5] as { default: string }).default : '' }),
      6,
    );
  });

  it('exports a linear regression that onnxruntime scores like the TS formula', async () => {
    const train = generateRows(DELIVERY_ETA.model, 8, 2000);
    const { spec } = trainLinearRegression(
      train.map((r) => r.features),
      train.map((r) => r.target!),
      { features: DELIVERY_ETA.features },
    );
    const { onnx, metadata } = exportLinearModel(spec, { name: 'delivery-eta' });
    expect(metadata.outputs).toEqual({ score: { tensor: 'variable', column: 0 } });
    const rows = generateRows(DELIVERY_ETA.model, 9, 300, { missingRate: 0.05 });
    const outs = await scoreWithOrt(onnx, spec, rows);
    rows.forEach((r, i) => {
      const v = predictLinear(spec, r.features);
      expect(outs[i]!.value).toBeCloseTo(v, 3);
      expect(Math.abs(outs[i]!.value! - v) / Math.max(1, Math.abs(v))).toBeLessThan(1e-5);
    });
  });

  it('exports numeric-only and categorical-only models too', async () => {
    const numericOnly: LinearModelSpec = {
      task: 'regression',
      features: [{ name: 'a', type: 'numeric', mean: 1, scale: 2, default: 0 }],
      weights: [3],
      intercept: 1,
    };
    const catOnly: LinearModelSpec = {
      task: 'classification',
      classes: ['n', 'p'],
      features: [{ name: 'c', type: 'categorical', categories: ['u', 'v'], default: 'u' }],
      weights: [-1, 1],
      intercept: 0,
    };
    for (const [spec, row] of [
      [numericOnly, { a: 5 }],
      [catOnly, { c: 'v' }],
    ] as const) {
      const { onnx, metadata } = exportLinearModel(spec, { name: 'x' });
      const s = await ort.InferenceSession.create(onnx);
      const input = encodeDense(metadata, [row]);
      const out = await s.run({ X: new ort.Tensor('float32', input.data, [1, 1]) });
      const o = decodeOutputs(metadata, out as never, 1)[0]!;
      expect(o.score).toBeCloseTo(predictLinear(spec, row), 6);
      await s.release();
    }
  });

  it('refuses inconsistent coefficients', () => {
    const bad: LinearModelSpec = {
      task: 'regression',
      features: [{ name: 'a', type: 'numeric', mean: 0, scale: 0, default: 0 }],
      weights: [1, 2],
      intercept: NaN,
    };
    try {
      exportLinearModel(bad, { name: 'x' });
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ModelInvalidError);
      expect((err as ModelInvalidError).details.problems).toEqual([
        'weights has 2 entries, the encoded width is 1',
        'non-finite coefficient',
        'a: mean/scale must be finite with scale > 0',
      ]);
    }
  });
});
