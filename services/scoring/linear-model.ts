/**
 * A linear model over standardised numeric features and one-hot encoded categoricals: the model
 * family the TS trainer (train.ts) fits and the ONNX exporter (onnx-export.ts) writes. This file
 * holds its description and its reference formula in float64, which tests compare onnxruntime's
 * output against.
 *
 *   h = [ (x_num - mean) / scale , onehot(x_cat_1), ..., onehot(x_cat_k) ]
 *   z = w · h + b
 *   classification: p(positive) = 1 / (1 + e^-z)       regression: value = z
 *
 * One-hot follows scikit-learn's OneHotEncoder(handle_unknown='ignore'): a category outside the
 * list encodes as all zeros. Missing values take the feature default before encoding, as
 * SimpleImputer would.
 */

export interface LinearNumericFeature {
  readonly name: string;
  readonly type: 'numeric' | 'boolean';
  readonly mean: number;
  /** Standard deviation used for scaling; 1 for a constant column (sklearn StandardScaler does the same). */
  readonly scale: number;
  readonly default: number;
}

export interface LinearCategoricalFeature {
  readonly name: string;
  readonly type: 'categorical';
  readonly categories: readonly string[];
  readonly default: string;
}

export type LinearFeature = LinearNumericFeature | LinearCategoricalFeature;

export interface LinearModelSpec {
  readonly task: 'classification' | 'regression';
  /** Input order of the dense tensor (the metadata `features` order). */
  readonly features: readonly LinearFeature[];
  /** Numeric block (features order), then one one-hot block per categorical (features order). */
  readonly weights: readonly number[];
  readonly intercept: number;
  /** Classifiers: [negative, positive]. */
  readonly classes?: readonly [string, string];
}

export type RawValue = number | string | boolean | null | undefined;

/** Width of the encoded vector h. */
export function encodedWidth(spec: Pick<LinearModelSpec, 'features'>): number {
  let w = 0;
  for (const f of spec.features) w += f.type === 'categorical' ? f.categories.length : 1;
  return w;
}

/** Encodes one row into h (see the formula above). */
export function encodeRow(spec: Pick<LinearModelSpec, 'features'>, row: Readonly<Record<string, RawValue>>): Float64Array {
  const h = new Float64Array(encodedWidth(spec));
  let i = 0;
  for (const f of spec.features) {
    if (f.type === 'categorical') continue;
    const v = row[f.name];
    const x = typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'boolean' ? (v ? 1 : 0) : f.default;
    h[i++] = (x - f.mean) / f.scale;
  }
  for (const f of spec.features) {
    if (f.type !== 'categorical') continue;
    const v = row[f.name];
    const c = typeof v === 'string' ? v : v === null || v === undefined ? f.default : String(v);
    const k = f.categories.indexOf(c);
    if (k >= 0) h[i + k] = 1;
    i += f.categories.length;
  }
  return h;
}

/** The reference formula: positive-class probability (classification) or value (regression). */
export function predictLinear(spec: LinearModelSpec, row: Readonly<Record<string, RawValue>>): number {
  const h = encodeRow(spec, row);
  let z = spec.intercept;
  for (let j = 0; j < h.length; j++) z += spec.weights[j]! * h[j]!;
  return spec.task === 'classification' ? 1 / (1 + Math.exp(-z)) : z;
}
