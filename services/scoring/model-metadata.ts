/**
 * Model metadata: what the scorer needs beside the ONNX file to turn a FeatureEvent into input
 * tensors and output tensors into a PredictionEvent. Stored as `metadata.json` next to `model.onnx`
 * (MODEL_DIR/<name>/<version>/) and copied into ClickHouse `model_versions.metadata`.
 * docs/scoring.md documents the format; `validateMetadata` is its single checker.
 *
 * Input layout `dense`: one float32 tensor [N, F] whose columns are `features` in order. Numeric and
 * boolean values go in as numbers; a categorical value goes in as its index in `categories` (-1 for a
 * value not in the list), and the graph one-hot encodes it (services/scoring/onnx-export.ts builds
 * such graphs). Missing values (null or absent) take the feature's `default`.
 */
import { ModelInvalidError } from '../../lib/runtime/errors.js';

export const METADATA_FORMAT = 1;
export const TASKS = ['classification', 'regression'] as const;
export type Task = (typeof TASKS)[number];
export const FEATURE_TYPES = ['numeric', 'boolean', 'categorical'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

export interface NumericFeature {
  readonly name: string;
  readonly type: 'numeric' | 'boolean';
  /** Imputed when the value is missing or not a number. */
  readonly default: number;
}
export interface CategoricalFeature {
  readonly name: string;
  readonly type: 'categorical';
  readonly categories: readonly string[];
  /** Imputed when the value is missing; must be one of `categories`. */
  readonly default: string;
}
export type ModelFeature = NumericFeature | CategoricalFeature;

export interface TensorColumn {
  /** ONNX output name. */
  readonly tensor: string;
  /** Column of a [N, C] output; 0 (or absent) for [N] and [N, 1] outputs. */
  readonly column?: number;
}

export interface OutputMapping {
  /** The number monitored as the prediction score: positive-class probability, or the regression value. */
  readonly score: TensorColumn;
  /** Classifiers: a [N, C] probability output and the class name of each column. */
  readonly probabilities?: { readonly tensor: string; readonly classes: readonly string[] };
  /**
   * Classifiers: the predicted class, from a label output ([N] int64 index into `classes`, or string),
   * or from the argmax of `probabilities` when `tensor` is absent.
   */
  readonly label?: { readonly tensor?: string; readonly classes?: readonly string[] };
}

export interface ModelMetadata {
  readonly format: number;
  readonly name: string;
  readonly task: Task;
  readonly description?: string;
  readonly input: { readonly layout: 'dense'; readonly name: string };
  readonly features: readonly ModelFeature[];
  readonly outputs: OutputMapping;
  /** Score served by the `default_score` fallback unless config `models.<name>.default_score` overrides it. */
  readonly default_score?: number;
  /** Free-form provenance (trainer, data, metrics); not interpreted. */
  readonly training?: Readonly<Record<string, unknown>>;
}

export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/** `default` is reserved: predictions made by the default-score fallback carry it as their version. */
export const MODEL_VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const RESERVED_VERSIONS = new Set(['default']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Checks a parsed metadata document and returns it typed. Every problem is collected, so an operator
 * fixing a file sees the whole list at once (as config validation does).
 */
export function validateMetadata(raw: unknown, expectedName?: string): ModelMetadata {
  const problems: string[] = [];
  if (!isObj(raw)) throw new ModelInvalidError('model metadata must be a JSON object', { problems: ['(root): not an object'] });
  const m = raw;
  if (m.format !== METADATA_FORMAT) problems.push(`format: expected ${METADATA_FORMAT}, got ${JSON.stringify(m.format)}`);
  if (!isStr(m.name) || !MODEL_NAME.test(m.name)) problems.push(`name: expected a lower-case model name matching ${MODEL_NAME}, got ${JSON.stringify(m.name)}`);
  else if (expectedName !== undefined && m.name !== expectedName)
    problems.push(`name: metadata names ${JSON.stringify(m.name)} but the model is ${JSON.stringify(expectedName)}`);
  if (!TASKS.includes(m.task as Task)) problems.push(`task: expected one of ${TASKS.join(', ')}, got ${JSON.stringify(m.task)}`);
  if (!isObj(m.input) || m.input.layout !== 'dense' || !isStr(m.input.name)) problems.push(`input: expected {"layout": "dense", "name": "<onnx input name>"}`);

  const names = new Set<string>();
  if (!Array.isArray(m.features) || m.features.length === 0) problems.push('features: expected a non-empty array');
  else {
    m.features.forEach((f: unknown, i: number) => {
      const at = `features[${i}]`;
      if (!isObj(f)) return void problems.push(`${at}: expected an object`);
      if (!isStr(f.name)) problems.push(`${at}.name: expected a non-empty string`);
      else if (names.has(f.name)) problems.push(`${at}.name: duplicate feature ${JSON.stringify(f.name)}`);
      else names.add(f.name);
      if (!FEATURE_TYPES.includes(f.type as FeatureType))
        problems.push(`${at}.type: expected one of ${FEATURE_TYPES.join(', ')}, got ${JSON.stringify(f.type)}`);
      if (f.type === 'categorical') {
        const cats = f.categories;
        if (!Array.isArray(cats) || cats.length === 0 || !cats.every(isStr) || new Set(cats).size !== cats.length) {
          problems.push(`${at}.categories: expected a non-empty list of distinct strings`);
        } else if (typeof f.default !== 'string' || !cats.includes(f.default))
          problems.push(`${at}.default: must be one of its categories, got ${JSON.stringify(f.default)}`);
      } else if (f.type === 'numeric' || f.type === 'boolean') {
        if (typeof f.default !== 'number' || !Number.isFinite(f.default))
          problems.push(`${at}.default: expected a finite number for missing values, got ${JSON.stringify(f.default)}`);
      }
    });
  }

  const o = m.outputs;
  if (!isObj(o)) problems.push('outputs: expected an object with at least "score"');
  else {
    const col = (v: unknown, at: string) => {
      if (!isObj(v) || !isStr(v.tensor)) return void problems.push(`${at}: expected {"tensor": "<onnx output name>", "column"?: n}`);
      if (v.column !== undefined && !(Number.isInteger(v.column) && (v.column as number) >= 0)) problems.push(`${at}.column: expected an integer >= 0`);
    };
    col(o.score, 'outputs.score');
    if (o.probabilities !== undefined) {
      const p = o.probabilities;
      if (!isObj(p) || !isStr(p.tensor) || !Array.isArray(p.classes) || p.classes.length < 2 || !p.classes.every(isStr)) {
        problems.push('outputs.probabilities: expected {"tensor": "<name>", "classes": [">= 2 class names"]}');
      }
    }
    if (o.label !== undefined) {
      const l = o.label;
      if (!isObj(l) || (l.tensor !== undefined && !isStr(l.tensor)) || (l.classes !== undefined && (!Array.isArray(l.classes) || !l.classes.every(isStr)))) {
        problems.push('outputs.label: expected {"tensor"?: "<name>", "classes"?: [...]}');
      } else if (l.tensor === undefined && o.probabilities === undefined)
        problems.push('outputs.label: without "tensor" the label is the argmax of "probabilities", which is missing');
    }
    if (m.task === 'regression' && (o.probabilities !== undefined || o.label !== undefined)) problems.push('outputs: a regression model maps only "score"');
  }
  if (m.default_score !== undefined && (typeof m.default_score !== 'number' || !Number.isFinite(m.default_score)))
    problems.push('default_score: expected a finite number');
  if (m.training !== undefined && !isObj(m.training)) problems.push('training: expected an object');
  if (problems.length > 0)
    throw new ModelInvalidError(`invalid model metadata (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.join('; ')}`, { problems });
  return m as unknown as ModelMetadata;
}

/** Checks a model version name (API and CLI input). */
export function checkVersionName(version: string): void {
  if (!MODEL_VERSION.test(version) || RESERVED_VERSIONS.has(version)) {
    throw new ModelInvalidError(
      `invalid model version ${JSON.stringify(version)}: expected ${MODEL_VERSION} and not one of ${[...RESERVED_VERSIONS].join(', ')}`,
    );
  }
}
