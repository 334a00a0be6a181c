/**
 * The committed sample models (models/) are what scripts/models/build-sample-models.ts produces,
 * and they score the shared feature space sensibly.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildSampleModels } from '../../../scripts/models/build-sample-models.js';
import { createFeatureGenerator, generateRows, FEATURE_SPACES } from '../../../services/scoring/sample-models/feature-space.js';
import { validateMetadata } from '../../../services/scoring/model-metadata.js';
import { decodeOutputs, encodeDense, requiredOutputs } from '../../../services/scoring/tensor-codec.js';
import { rocAuc } from '../../../services/scoring/train.js';

const read = (p: string) => readFileSync(new URL(`../../../models/${p}`, import.meta.url));

describe('sample models', () => {
  it('are reproduced byte for byte by the build script', () => {
    for (const b of buildSampleModels()) {
      expect(read(`${b.name}/${b.version}/model.onnx`).equals(b.model.onnx), `${b.name}/${b.version}/model.onnx`).toBe(true);
      expect(JSON.parse(read(`${b.name}/${b.version}/metadata.json`).toString('utf8'))).toEqual(JSON.parse(JSON.stringify(b.model.metadata)));
    }
  }, 60_000);

  it('credit-risk v1 ranks fresh data well (AUC > 0.8) and delivery-eta v1 predicts within a few minutes', async () => {
    const cr = validateMetadata(JSON.parse(read('credit-risk/1/metadata.json').toString('utf8')), 'credit-risk');
    const s1 = await ort.InferenceSession.create(read('credit-risk/1/model.onnx'));
    const rows = generateRows('credit-risk', 4242, 4000);
    const out = await s1.run(
      {
        X: new ort.Tensor(
          'float32',
          encodeDense(
            cr,
            rows.map((r) => r.features),
          ).data,
          [rows.length, cr.features.length],
        ),
      },
      requiredOutputs(cr),
    );
    const scores = decodeOutputs(cr, out as never, rows.length).map((o) => o.score);
    expect(
      rocAuc(
        scores,
        rows.map((r) => r.label === '1'),
      ),
    ).toBeGreaterThan(0.8);

    const de = validateMetadata(JSON.parse(read('delivery-eta/1/metadata.json').toString('utf8')), 'delivery-eta');
    const s2 = await ort.InferenceSession.create(read('delivery-eta/1/model.onnx'));
    const drows = generateRows('delivery-eta', 4243, 4000);
    const dout = await s2.run(
      {
        X: new ort.Tensor(
          'float32',
          encodeDense(
            de,
            drows.map((r) => r.features),
          ).data,
          [drows.length, de.features.length],
        ),
      },
      requiredOutputs(de),
    );
    const values = decodeOutputs(de, dout as never, drows.length).map((o) => o.value!);
    const mae = values.reduce((s, v, i) => s + Math.abs(v - drows[i]!.target!), 0) / values.length;
    expect(mae).toBeLessThan(4);
    await s1.release();
    await s2.release();
  });
});

describe('feature space generator', () => {
  it('is deterministic per seed and covers every declared feature', () => {
    for (const model of Object.keys(FEATURE_SPACES)) {
      const a = createFeatureGenerator(model, 99).next();
      const b = createFeatureGenerator(model, 99).next();
      expect(a).toEqual(b);
      expect(Object.keys(a.features).sort()).toEqual(FEATURE_SPACES[model]!.features.map((f) => f.name).sort());
    }
  });

  it('applies covariate drift and missing values on request', () => {
    const base = generateRows('credit-risk', 1, 2000);
    const drifted = generateRows('credit-risk', 1, 2000, { incomeFactor: 0.5, missingRate: 0.2 });
    const mean = (rs: typeof base) =>
      rs.reduce((s, r) => s + ((r.features.income as number | null) ?? 0), 0) / rs.filter((r) => r.features.income !== null).length;
    expect(mean(drifted) / mean(base)).toBeCloseTo(0.5, 1);
    const missing = drifted.filter((r) => r.features.age === null).length / drifted.length;
    expect(missing).toBeGreaterThan(0.15);
    expect(missing).toBeLessThan(0.25);
    expect(() => createFeatureGenerator('nope', 1)).toThrow(/known: credit-risk, delivery-eta/);
  });
});
