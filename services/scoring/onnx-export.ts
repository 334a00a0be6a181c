/**
 * Exports a linear / logistic regression (linear-model.ts) as an ONNX model plus its driftwatch
 * metadata, from Node alone: the retrain worker trains and exports new versions at run time without
 * Python. The protobuf is written by hand (protobuf-writer.ts) following onnx/onnx.proto3 (field
 * numbers cited below, onnx v1.17.0: https://github.com/onnx/onnx/blob/v1.17.0/onnx/onnx.proto3).
 *
 * Graph (opset 17, IR version 8; onnxruntime 1.23 runs both), input X: float32 [N, F] in metadata
 * feature order, categoricals given as their category index (-1 = unknown):
 *
 *   xn   = Gather(X, numeric_columns, axis=1)            numeric block
 *   z    = (xn - mean) / scale                           standardisation (StandardScaler)
 *   xc   = Gather(X, onehot_columns, axis=1)             each categorical column repeated K times
 *   oh   = Cast(Equal(xc, onehot_codes), FLOAT)          one-hot: slot k of a block is 1 iff x == k
 *   h    = Concat(z, oh, axis=1)
 *   lin  = MatMul(h, W) + B                              [N, 1]
 *   classification: p1 = Sigmoid(lin); probabilities = Concat(1 - p1, p1); label = ArgMax(probabilities)
 *   regression:     variable = lin
 *
 * Output names follow skl2onnx (`probabilities`, `label`, `variable`), so metadata written for
 * scikit-learn exports reads the same.
 */
import { ModelInvalidError } from '../../lib/runtime/errors.js';
import { encodedWidth, type LinearModelSpec } from './linear-model.js';
import { METADATA_FORMAT, type ModelMetadata } from './model-metadata.js';
import { ProtoWriter } from './protobuf-writer.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
export const INPUT_NAME = 'X';

// TensorProto.DataType (onnx.proto3)
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
const FLOAT = ONNX_FLOAT;
const INT64 = ONNX_INT64;
// AttributeProto.AttributeType
const ATTR_INT = 2;

type Dim = number | string;

/** TensorProto: dims = 1, data_type = 2, float_data = 4, int64_data = 7, name = 8. */
export function tensor(name: string, dims: readonly number[], dataType: typeof FLOAT | typeof INT64, values: ArrayLike<number>): ProtoWriter {
  const t = new ProtoWriter();
  for (const d of dims) t.varint(1, d);
  t.varint(2, dataType);
  if (dataType === FLOAT) t.packedFloats(4, values);
  else t.packedVarints(7, values);
  t.string(8, name);
  return t;
}

/**
 * ValueInfoProto: name = 1, type = 2. TypeProto.tensor_type = 1; Tensor: elem_type = 1, shape = 2;
 * TensorShapeProto.dim = 1; Dimension: dim_value = 1, dim_param = 2.
 */
export function valueInfo(name: string, elemType: number, dims: readonly Dim[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, elemType).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/** AttributeProto with an int: name = 1, i = 3, type = 20. */
export function intAttr(name: string, value: number): ProtoWriter {
  return new ProtoWriter().string(1, name).varint(3, value).varint(20, ATTR_INT);
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5. */
export function node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: readonly ProtoWriter[] = []): ProtoWriter {
  const n = new ProtoWriter();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, `${opType}_${outputs[0]}`);
  n.string(4, opType);
  for (const a of attrs) n.message(5, a);
  return n;
}

export interface GraphParts {
  readonly name: string;
  /** Stored as metadata_props `driftwatch.model`. */
  readonly modelName: string;
  readonly nodes: readonly ProtoWriter[];
  readonly initializers: readonly ProtoWriter[];
  readonly inputs: readonly ProtoWriter[];
  readonly outputs: readonly ProtoWriter[];
}

/** Serialises a graph built from `node` / `tensor` / `valueInfo` into ModelProto bytes (opset 17, IR 8). */
export function buildOnnxModel(g: GraphParts): Buffer {
  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(1, n);
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, t);
  for (const i of g.inputs) graph.message(11, i);
  for (const o of g.outputs) graph.message(12, o);
  // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8
  // (OperatorSetIdProto: domain = 1, version = 2; empty domain = ai.onnx), metadata_props = 14.
  return new ProtoWriter()
    .varint(1, ONNX_IR_VERSION)
    .string(2, 'driftwatch')
    .string(3, '1')
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').varint(2, ONNX_OPSET))
    .message(14, new ProtoWriter().string(1, 'driftwatch.model').string(2, g.modelName))
    .finish();
}

export interface ExportInfo {
  readonly name: string;
  readonly description?: string;
  readonly defaultScore?: number;
  readonly training?: Readonly<Record<string, unknown>>;
}

export interface ExportedModel {
  readonly onnx: Buffer;
  readonly metadata: ModelMetadata;
}

function checkSpec(spec: LinearModelSpec): void {
  const width = encodedWidth(spec);
  const problems: string[] = [];
  if (spec.features.length === 0) problems.push('no features');
  if (spec.weights.length !== width) problems.push(`weights has ${spec.weights.length} entries, the encoded width is ${width}`);
  if (![spec.intercept, ...spec.weights].every(Number.isFinite)) problems.push('non-finite coefficient');
  for (const f of spec.features) {
    if (f.type !== 'categorical' && !(Number.isFinite(f.mean) && Number.isFinite(f.scale) && f.scale > 0))
      problems.push(`${f.name}: mean/scale must be finite with scale > 0`);
    if (f.type === 'categorical' && f.categories.length === 0) problems.push(`${f.name}: no categories`);
  }
  if (spec.task === 'classification' && (!spec.classes || spec.classes.length !== 2)) problems.push('a classifier needs classes [negative, positive]');
  if (problems.length > 0) throw new ModelInvalidError(`cannot export linear model: ${problems.join('; ')}`, { problems });
}

/** Builds the ONNX bytes and the metadata for a linear model. */
export function exportLinearModel(spec: LinearModelSpec, info: ExportInfo): ExportedModel {
  checkSpec(spec);
  const F = spec.features.length;
  const numericCols: number[] = [];
  const means: number[] = [];
  const scales: number[] = [];
  const onehotCols: number[] = [];
  const onehotCodes: number[] = [];
  spec.features.forEach((f, col) => {
    if (f.type === 'categorical') {
      f.categories.forEach((_c, k) => {
        onehotCols.push(col);
        onehotCodes.push(k);
      });
    } else {
      numericCols.push(col);
      means.push(f.mean);
      scales.push(f.scale);
    }
  });
  const D = encodedWidth(spec);

  const nodes: ProtoWriter[] = [];
  const inits: ProtoWriter[] = [];
  const parts: string[] = [];
  if (numericCols.length > 0) {
    inits.push(
      tensor('numeric_columns', [numericCols.length], INT64, numericCols),
      tensor('mean', [means.length], FLOAT, means),
      tensor('scale', [scales.length], FLOAT, scales),
    );
    nodes.push(
      node('Gather', [INPUT_NAME, 'numeric_columns'], ['numeric'], [intAttr('axis', 1)]),
      node('Sub', ['numeric', 'mean'], ['centred']),
      node('Div', ['centred', 'scale'], ['standardised']),
    );
    parts.push('standardised');
  }
  if (onehotCols.length > 0) {
    inits.push(tensor('onehot_columns', [onehotCols.length], INT64, onehotCols), tensor('onehot_codes', [onehotCodes.length], FLOAT, onehotCodes));
    nodes.push(
      node('Gather', [INPUT_NAME, 'onehot_columns'], ['categorical'], [intAttr('axis', 1)]),
      node('Equal', ['categorical', 'onehot_codes'], ['onehot_bool']),
      node('Cast', ['onehot_bool'], ['onehot'], [intAttr('to', FLOAT)]),
    );
    parts.push('onehot');
  }
  if (parts.length === 2) nodes.push(node('Concat', parts, ['encoded'], [intAttr('axis', 1)]));
  else nodes.push(node('Identity', parts, ['encoded']));
  inits.push(tensor('W', [D, 1], FLOAT, spec.weights), tensor('B', [1], FLOAT, [spec.intercept]));
  nodes.push(node('MatMul', ['encoded', 'W'], ['linear_mm']), node('Add', ['linear_mm', 'B'], ['linear']));

  const outputs: ProtoWriter[] = [];
  let outputsMeta: ModelMetadata['outputs'];
  if (spec.task === 'classification') {
    const classes = [...spec.classes!];
    inits.push(tensor('one', [1], FLOAT, [1]));
    nodes.push(
      node('Sigmoid', ['linear'], ['p_positive']),
      node('Sub', ['one', 'p_positive'], ['p_negative']),
      node('Concat', ['p_negative', 'p_positive'], ['probabilities'], [intAttr('axis', 1)]),
      node('ArgMax', ['probabilities'], ['label'], [intAttr('axis', 1), intAttr('keepdims', 0)]),
    );
    outputs.push(valueInfo('label', INT64, ['N']), valueInfo('probabilities', FLOAT, ['N', 2]));
    outputsMeta = { score: { tensor: 'probabilities', column: 1 }, probabilities: { tensor: 'probabilities', classes }, label: { tensor: 'label', classes } };
  } else {
    nodes.push(node('Identity', ['linear'], ['variable']));
    outputs.push(valueInfo('variable', FLOAT, ['N', 1]));
    outputsMeta = { score: { tensor: 'variable', column: 0 } };
  }

  const onnx = buildOnnxModel({
    name: `${info.name}_linear`,
    modelName: info.name,
    nodes,
    initializers: inits,
    inputs: [valueInfo(INPUT_NAME, FLOAT, ['N', F])],
    outputs,
  });

  const metadata: ModelMetadata = {
    format: METADATA_FORMAT,
    name: info.name,
    task: spec.task,
    ...(info.description ? { description: info.description } : {}),
    input: { layout: 'dense', name: INPUT_NAME },
    features: spec.features.map((f) =>
      f.type === 'categorical'
        ? { name: f.name, type: 'categorical', categories: [...f.categories], default: f.default }
        : { name: f.name, type: f.type, default: f.default },
    ),
    outputs: outputsMeta,
    ...(info.defaultScore !== undefined ? { default_score: info.defaultScore } : {}),
    training: {
      ...(info.training ?? {}),
      exporter: 'driftwatch onnx-export (linear)',
      coefficients: { intercept: spec.intercept, weights: [...spec.weights] },
      standardisation: spec.features
        .filter((f) => f.type !== 'categorical')
        .map((f) => ({ name: f.name, mean: (f as { mean: number }).mean, scale: (f as { scale: number }).scale })),
    },
  };
  return { onnx, metadata };
}
