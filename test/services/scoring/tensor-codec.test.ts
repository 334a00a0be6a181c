import { describe, expect, it } from 'vitest';
import { InferenceError, InvalidRequestError } from '../../../lib/runtime/errors.js';
import type { ModelMetadata } from '../../../services/scoring/model-metadata.js';
import { checkFeatureTypes, decodeOutputs, defaultOutput, encodeDense, requiredOutputs } from '../../../services/scoring/tensor-codec.js';

const meta: ModelMetadata = {
  format: 1,
  name: 'm',
  task: 'classification',
  input: { layout: 'dense', name: 'X' },
  features: [
    { name: 'x', type: 'numeric', default: 7 },
    { name: 'flag', type: 'boolean', default: 0 },
    { name: 'region', type: 'categorical', categories: ['north', 'south'], default: 'south' },
  ],
  outputs: {
    score: { tensor: 'probabilities', column: 1 },
    probabilities: { tensor: 'probabilities', classes: ['0', '1'] },
    label: { tensor: 'label', classes: ['0', '1'] },
  },
};

describe('encodeDense', () => {
  it('lays features out in metadata order, imputes missing and mistyped values, marks unknown categories -1', () => {
    const enc = encodeDense(meta, [
      { x: 1.5, flag: true, region: 'north' },
      { x: null, region: 'east' },
      { x: 'oops' as unknown as number, flag: false, region: null },
    ]);
    expect([...enc.data]).toEqual([1.5, 1, 0, 7, 0, -1, 7, 0, 1]);
    expect(enc).toMatchObject({ rows: 3, cols: 3, imputed: { missing: 3, type_mismatch: 1, unknown_category: 1 } });
  });

  it('ignores features the model does not use', () => {
    expect([...encodeDense(meta, [{ x: 2, flag: 1, region: 'south', extra: 'y' }]).data]).toEqual([2, 1, 1]);
  });
});

describe('checkFeatureTypes', () => {
  it('accepts missing values and the right types', () => {
    expect(() => checkFeatureTypes(meta, [{ x: 1, flag: true, region: 'north' }, {}])).not.toThrow();
  });

  it('lists every wrong type with its path', () => {
    try {
      checkFeatureTypes(meta, [{ x: '1', region: 3 }]);
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidRequestError);
      expect((err as InvalidRequestError).details.problems).toEqual([
        'instances[0].features.x: expected a number, got string',
        'instances[0].features.region: expected a string category, got number',
      ]);
    }
  });
});

describe('decodeOutputs', () => {
  it('maps score column, class probabilities and int64 label indexes to class names', () => {
    const out = decodeOutputs(
      meta,
      { probabilities: { data: new Float32Array([0.75, 0.25, 0.1, 0.9]), dims: [2, 2] }, label: { data: new BigInt64Array([0n, 1n]), dims: [2] } },
      2,
    );
    expect(out).toEqual([
      { score: 0.25, probabilities: { '0': 0.75, '1': 0.25 }, label: '0', value: null },
      { score: expect.closeTo(0.9, 6), probabilities: { '0': expect.closeTo(0.1, 6), '1': expect.closeTo(0.9, 6) }, label: '1', value: null },
    ]);
  });

  it('derives the label by argmax when the metadata names no label tensor', () => {
    const m2 = { ...meta, outputs: { ...meta.outputs, label: {} } } as ModelMetadata;
    expect(decodeOutputs(m2, { probabilities: { data: [0.2, 0.8], dims: [1, 2] } }, 1)[0]!.label).toBe('1');
  });

  it('reads a regression value from an [N, 1] output', () => {
    const reg: ModelMetadata = { ...meta, task: 'regression', outputs: { score: { tensor: 'variable' } } };
    expect(decodeOutputs(reg, { variable: { data: [3.5, 4], dims: [2, 1] } }, 2)).toEqual([
      { score: 3.5, probabilities: {}, label: null, value: 3.5 },
      { score: 4, probabilities: {}, label: null, value: 4 },
    ]);
    expect(requiredOutputs(reg)).toEqual(['variable']);
  });

  it('fails with DW_INFERENCE_FAILED on a missing output, a wrong shape or a non-finite score', () => {
    expect(() => decodeOutputs(meta, {}, 1)).toThrow(InferenceError);
    expect(() => decodeOutputs(meta, { probabilities: { data: [0.5], dims: [1, 1] }, label: { data: [0], dims: [1] } }, 1)).toThrow(/shape/);
    expect(() => decodeOutputs(meta, { probabilities: { data: [0.5, NaN], dims: [1, 2] }, label: { data: [0], dims: [1] } }, 1)).toThrow(/non-finite/);
  });
});

describe('defaultOutput', () => {
  it('gives binary classifiers consistent probabilities and a thresholded label, regressors a value', () => {
    expect(defaultOutput(meta, 0.3)).toEqual({ score: 0.3, probabilities: { '0': 0.7, '1': 0.3 }, label: '0', value: null });
    expect(defaultOutput({ ...meta, task: 'regression', outputs: { score: { tensor: 'v' } } }, 12)).toEqual({
      score: 12,
      probabilities: {},
      label: null,
      value: 12,
    });
  });
});
