/**
 * Pure translation between events and tensors, driven by the model metadata (model-metadata.ts):
 * feature maps -> one dense float32 input, and onnxruntime outputs -> score / probabilities / label.
 * No onnxruntime import here, so it is unit-tested with plain arrays.
 */
import { InvalidRequestError, InferenceError } from '../../lib/runtime/errors.js';
import type { FeatureValue } from '../../lib/contracts/schemas.js';
import type { ModelMetadata } from './model-metadata.js';

export type FeatureMap = Readonly<Record<string, FeatureValue | undefined>>;

export type ImputeReason = 'missing' | 'type_mismatch' | 'unknown_category';

export interface DenseInput {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
  /** How many values were imputed, per reason (unknown categories encode as -1, not imputed, but are counted). */
  readonly imputed: Readonly<Record<ImputeReason, number>>;
}

const categoryIndexCache = new WeakMap<ModelMetadata, ReadonlyArray<ReadonlyMap<string, number> | null>>();

function categoryIndexes(meta: ModelMetadata): ReadonlyArray<ReadonlyMap<string, number> | null> {
  let idx = categoryIndexCache.get(meta);
  if (!idx) {
    idx = meta.features.map((f) => (f.type === 'categorical' ? new Map(f.categories.map((c, i) => [c, i])) : null));
    categoryIndexCache.set(meta, idx);
  }
  return idx;
}

/**
 * Builds the dense [N, F] input. Numeric: the number (boolean true/false -> 1/0); missing or a
 * non-number -> the feature default. Categorical: index in `categories`; missing -> index of the
 * default; a value outside the list -> -1 (the graph's one-hot gives all zeros, like scikit-learn's
 * handle_unknown='ignore'); a number or boolean is compared as its string.
 */
export function encodeDense(meta: ModelMetadata, rows: readonly FeatureMap[]): DenseInput {
  const cols = meta.features.length;
  const data = new Float32Array(rows.length * cols);
  const imputed = { missing: 0, type_mismatch: 0, unknown_category: 0 };
  const cats = categoryIndexes(meta);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const f = meta.features[c]!;
      const v = row[f.name];
      if (f.type === 'categorical') {
        const index = cats[c]!;
        if (v === null || v === undefined) {
          imputed.missing++;
          data[base + c] = index.get(f.default)!;
        } else {
          const k = index.get(typeof v === 'string' ? v : String(v));
          if (k === undefined) imputed.unknown_category++;
          data[base + c] = k ?? -1;
        }
      } else if (typeof v === 'number') data[base + c] = v;
      else if (typeof v === 'boolean') data[base + c] = v ? 1 : 0;
      else {
        if (v === null || v === undefined) imputed.missing++;
        else imputed.type_mismatch++;
        data[base + c] = f.default;
      }
    }
  }
  return { data, rows: rows.length, cols, imputed };
}

/**
 * Strict check for synchronous requests: a value of the wrong type is the caller's mistake, reported
 * as 400 with every offending field, rather than silently imputed as the stream does.
 */
export function checkFeatureTypes(meta: ModelMetadata, rows: readonly FeatureMap[], path = 'instances'): void {
  const problems: string[] = [];
  rows.forEach((row, i) => {
    for (const f of meta.features) {
      const v = row[f.name];
      if (v === null || v === undefined) continue;
      if (f.type === 'categorical' && typeof v !== 'string') problems.push(`${path}[${i}].features.${f.name}: expected a string category, got ${typeof v}`);
      if (f.type === 'numeric' && typeof v !== 'number') problems.push(`${path}[${i}].features.${f.name}: expected a number, got ${typeof v}`);
      if (f.type === 'boolean' && typeof v !== 'boolean' && typeof v !== 'number')
        problems.push(`${path}[${i}].features.${f.name}: expected a boolean, got ${typeof v}`);
    }
  });
  if (problems.length > 0)
    throw new InvalidRequestError(
      `features do not match model ${meta.name}: ${problems.slice(0, 20).join('; ')}${problems.length > 20 ? `; and ${problems.length - 20} more` : ''}`,
      { problems: problems.slice(0, 100) },
    );
}

/** The subset of an onnxruntime output tensor this module reads. */
export interface OutputTensor {
  readonly data: ArrayLike<number | bigint | string> | readonly (number | bigint | string)[];
  readonly dims: readonly number[];
}

export interface ModelOutput {
  readonly score: number;
  readonly probabilities: Record<string, number>;
  readonly label: string | null;
  readonly value: number | null;
}

function column(t: OutputTensor, name: string, rows: number, col: number): (r: number) => number {
  const width = t.dims.length >= 2 ? t.dims[t.dims.length - 1]! : 1;
  if (t.data.length !== rows * width || col >= width) {
    throw new InferenceError(`output ${name} has shape [${t.dims.join(', ')}], expected ${rows} rows with column ${col}`, { output: name });
  }
  return (r) => Number(t.data[r * width + col]);
}

/** The outputs the scorer must fetch from onnxruntime for this metadata. */
export function requiredOutputs(meta: ModelMetadata): string[] {
  const names = new Set<string>([meta.outputs.score.tensor]);
  if (meta.outputs.probabilities) names.add(meta.outputs.probabilities.tensor);
  if (meta.outputs.label?.tensor) names.add(meta.outputs.label.tensor);
  return [...names];
}

/** Maps onnxruntime outputs to one ModelOutput per row, per the metadata output mapping. */
export function decodeOutputs(meta: ModelMetadata, outputs: Readonly<Record<string, OutputTensor>>, rows: number): ModelOutput[] {
  const get = (name: string): OutputTensor => {
    const t = outputs[name];
    if (!t) throw new InferenceError(`model ${meta.name} produced no output ${JSON.stringify(name)}`, { output: name });
    return t;
  };
  const score = column(get(meta.outputs.score.tensor), meta.outputs.score.tensor, rows, meta.outputs.score.column ?? 0);
  const probs = meta.outputs.probabilities;
  const probCols = probs ? probs.classes.map((_c, k) => column(get(probs.tensor), probs.tensor, rows, k)) : [];
  const labelSpec = meta.outputs.label;
  const labelTensor = labelSpec?.tensor ? get(labelSpec.tensor) : undefined;
  const out: ModelOutput[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const s = score(r);
    if (!Number.isFinite(s)) throw new InferenceError(`model ${meta.name} produced a non-finite score (${s})`);
    const probabilities: Record<string, number> = {};
    let argmax = -1;
    probCols.forEach((col, k) => {
      const p = col(r);
      probabilities[probs!.classes[k]!] = p;
      if (argmax < 0 || p > probabilities[probs!.classes[argmax]!]!) argmax = k;
    });
    let label: string | null = null;
    if (labelSpec) {
      if (labelTensor) {
        const raw = labelTensor.data[r];
        const classes = labelSpec.classes ?? probs?.classes;
        label = typeof raw === 'string' ? raw : classes ? (classes[Number(raw)] ?? String(raw)) : String(raw);
      } else if (argmax >= 0) label = probs!.classes[argmax]!;
    }
    out[r] = { score: s, probabilities, label, value: meta.task === 'regression' ? s : null };
  }
  return out;
}

/**
 * The output of the default-score fallback. Binary classifiers get the matching two-class
 * probabilities and the label a 0.5 threshold gives; regressors get the value.
 */
export function defaultOutput(meta: ModelMetadata, score: number): ModelOutput {
  if (meta.task === 'regression') return { score, probabilities: {}, label: null, value: score };
  const classes = meta.outputs.probabilities?.classes ?? meta.outputs.label?.classes;
  if (classes && classes.length === 2) {
    return { score, probabilities: { [classes[0]!]: 1 - score, [classes[1]!]: score }, label: score >= 0.5 ? classes[1]! : classes[0]!, value: null };
  }
  return { score, probabilities: {}, label: null, value: null };
}
