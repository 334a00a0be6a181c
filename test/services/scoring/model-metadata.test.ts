import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelInvalidError } from '../../../lib/runtime/errors.js';
import { checkVersionName, validateMetadata } from '../../../services/scoring/model-metadata.js';

const sample = JSON.parse(readFileSync(new URL('../../../models/credit-risk/1/metadata.json', import.meta.url), 'utf8')) as Record<string, unknown>;

describe('validateMetadata', () => {
  it('accepts the committed sample metadata', () => {
    expect(validateMetadata(sample, 'credit-risk').task).toBe('classification');
  });

  it('rejects a metadata document naming another model', () => {
    expect(() => validateMetadata(sample, 'delivery-eta')).toThrow(/names "credit-risk" but the model is "delivery-eta"/);
  });

  it('lists every problem at once', () => {
    const bad = {
      format: 2,
      name: 'Bad Name',
      task: 'ranking',
      input: { layout: 'sparse' },
      features: [
        { name: 'a', type: 'numeric' },
        { name: 'a', type: 'categorical', categories: ['x', 'x'], default: 'x' },
      ],
      outputs: { label: {} },
    };
    try {
      validateMetadata(bad);
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ModelInvalidError);
      expect((err as ModelInvalidError).details.problems).toEqual([
        'format: expected 1, got 2',
        'name: expected a lower-case model name matching /^[a-z0-9][a-z0-9._-]{0,99}$/, got "Bad Name"',
        'task: expected one of classification, regression, got "ranking"',
        'input: expected {"layout": "dense", "name": "<onnx input name>"}',
        'features[0].default: expected a finite number for missing values, got undefined',
        'features[1].name: duplicate feature "a"',
        'features[1].categories: expected a non-empty list of distinct strings',
        'outputs.score: expected {"tensor": "<onnx output name>", "column"?: n}',
        'outputs.label: without "tensor" the label is the argmax of "probabilities", which is missing',
      ]);
    }
  });

  it('requires a categorical default to be one of its categories', () => {
    const m = structuredClone(sample) as { features: Array<Record<string, unknown>> };
    m.features[5]!.default = 'mars';
    expect(() => validateMetadata(m)).toThrow(/features\[5\]\.default: must be one of its categories/);
  });
});

describe('checkVersionName', () => {
  it('accepts simple names and refuses the reserved fallback version', () => {
    expect(() => checkVersionName('2024-06.1')).not.toThrow();
    expect(() => checkVersionName('default')).toThrow(ModelInvalidError);
    expect(() => checkVersionName('../x')).toThrow(ModelInvalidError);
  });
});
