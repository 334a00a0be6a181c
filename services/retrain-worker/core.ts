/**
 * The retrain worker's pure core: what to do with a RetrainRequested event given what was already
 * done for its idempotency key, how stored labeled predictions become training rows, how a new
 * version is trained (services/scoring/train.ts) and evaluated on a holdout, and which rows make the
 * new version's reference profile. No I/O; worker.ts is the adapter around it.
 *
 * Why the reference profile is built from the training rows, scored by the NEW model: drift after
 * the swap must be measured against the population the new version was fitted on (otherwise the
 * data it was trained for would still count as drifted against the old version's reference), and the
 * `__prediction__` reference must be the new model's score distribution, not the old model's.
 */
import type { ModelMetadata } from '../scoring/model-metadata.js';
import { predictLinear, type LinearModelSpec, type RawValue } from '../scoring/linear-model.js';
import { rocAuc, trainLinearRegression, trainLogisticRegression, type FeatureDecl, type Row, type TrainReport } from '../scoring/train.js';
import { TrainingFailedError } from '../../lib/runtime/errors.js';

/** Steps of a run, in order; each is one `retrain_runs` row. */
export const RUN_STEPS = ['started', 'data', 'trained', 'registered', 'profiled', 'promoted'] as const;
export type RunStep = (typeof RUN_STEPS)[number] | 'failed';

export interface RunRow {
  readonly step: RunStep;
  readonly new_version: string;
}

/**
 * What a (re)delivered event needs: `done` when an earlier delivery promoted its version (a
 * redelivery never trains twice), otherwise the version an earlier, interrupted delivery already
 * registered (resume from there: profile and promote it, no second training), or nothing.
 */
export function runState(rows: readonly RunRow[]): { done: boolean; registeredVersion: string | null } {
  const promoted = rows.find((r) => r.step === 'promoted');
  if (promoted) return { done: true, registeredVersion: promoted.new_version };
  const registered = rows.find((r) => r.step === 'registered' && r.new_version !== '');
  return { done: false, registeredVersion: registered?.new_version ?? null };
}

/** A labeled_predictions row as the worker reads it (ClickHouse JSON: maps as objects). */
export interface StoredLabeledRow {
  readonly num_features: Readonly<Record<string, number | string>>;
  readonly cat_features: Readonly<Record<string, string>>;
  readonly bool_features: Readonly<Record<string, boolean | number | string>>;
  readonly missing_features: readonly string[];
  readonly segment: Readonly<Record<string, string>>;
  readonly label: string | null;
  readonly target_value: number | string | null;
  readonly business: Readonly<Record<string, number | string>>;
}

export interface TrainingRow {
  readonly features: Record<string, RawValue>;
  readonly label: string | null;
  readonly target: number | null;
  readonly business: Record<string, number>;
  readonly segment: Record<string, string>;
}

export function toTrainingRow(r: StoredLabeledRow): TrainingRow {
  const features: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(r.num_features)) features[k] = Number(v);
  for (const [k, v] of Object.entries(r.cat_features)) features[k] = v;
  for (const [k, v] of Object.entries(r.bool_features)) features[k] = v === true || v === 1 || v === 'true';
  for (const k of r.missing_features) features[k] = null;
  const business: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.business)) business[k] = Number(v);
  return {
    features,
    label: r.label,
    target: r.target_value === null || r.target_value === undefined ? null : Number(r.target_value),
    business,
    segment: { ...r.segment },
  };
}

/** What the new version must look like: the serving version's task, inputs and classes. */
export interface ModelShape {
  readonly task: 'classification' | 'regression';
  readonly features: readonly FeatureDecl[];
  readonly classes?: readonly [string, string];
}

export function shapeOf(metadata: ModelMetadata): ModelShape {
  const features: FeatureDecl[] = metadata.features.map((f) =>
    f.type === 'categorical' ? { name: f.name, type: 'categorical', categories: [...f.categories] } : { name: f.name, type: f.type },
  );
  if (metadata.task === 'regression') return { task: 'regression', features };
  const classes = metadata.outputs.label?.classes ?? metadata.outputs.probabilities?.classes;
  if (!classes || classes.length !== 2) {
    throw new TrainingFailedError(
      `${metadata.name}: the reference worker retrains binary classifiers and regressors; classes ${JSON.stringify(classes)} are not [negative, positive]`,
    );
  }
  return { task: 'classification', features, classes: [classes[0]!, classes[1]!] };
}

export interface HoldoutMetrics {
  readonly rows: number;
  readonly [metric: string]: number | null;
}

export interface TrainedVersion {
  readonly spec: LinearModelSpec;
  readonly report: TrainReport;
  /** Metrics on the held-out rows (every 5th row), for the run log and the version's metadata. */
  readonly holdout: HoldoutMetrics;
  readonly trainRows: number;
}

const HOLDOUT_EVERY = 5;
const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/** Rows usable for the task: a classifier needs a label, a regressor a finite target. */
export function usableRows(shape: ModelShape, rows: readonly TrainingRow[]): TrainingRow[] {
  return rows.filter((r) =>
    shape.task === 'classification' ? r.label !== null && shape.classes!.includes(r.label) : r.target !== null && Number.isFinite(r.target),
  );
}

/**
 * Trains a new version on `rows` (every 5th row held out for the reported metrics). Fails with
 * DW_TRAINING_FAILED on fewer than `minRows` usable rows or a single class.
 */
export function trainVersion(shape: ModelShape, rows: readonly TrainingRow[], minRows: number): TrainedVersion {
  const usable = usableRows(shape, rows);
  if (usable.length < minRows)
    throw new TrainingFailedError(`only ${usable.length} usable labeled rows in the training range (RETRAIN_WORKER_MIN_ROWS = ${minRows})`, {
      rows: usable.length,
      minRows,
    });
  const train = usable.filter((_r, i) => i % HOLDOUT_EVERY !== 0);
  const holdout = usable.filter((_r, i) => i % HOLDOUT_EVERY === 0);
  const features = (rs: readonly TrainingRow[]): Row[] => rs.map((r) => r.features);
  if (shape.task === 'classification') {
    const positive = shape.classes![1];
    const labels = train.map((r) => r.label!);
    const nPos = labels.filter((l) => l === positive).length;
    if (nPos === 0 || nPos === labels.length)
      throw new TrainingFailedError(`the training rows hold a single class (${nPos} of ${labels.length} positive)`, { rows: labels.length, positives: nPos });
    // The same settings as the committed sample models (scripts/models/build-sample-models.ts).
    const { spec, report } = trainLogisticRegression(features(train), labels, {
      features: shape.features,
      classes: shape.classes!,
      l2: 1e-4,
      learningRate: 1,
      maxIterations: 3000,
      tolerance: 1e-6,
    });
    const scores = holdout.map((r) => predictLinear(spec, r.features));
    const ys = holdout.map((r) => r.label === positive);
    const n = scores.length;
    const accuracy = n ? scores.filter((p, i) => p >= 0.5 === ys[i]).length / n : null;
    const logLoss = n ? -scores.reduce((s, p, i) => s + (ys[i] ? Math.log(Math.max(p, 1e-15)) : Math.log(Math.max(1 - p, 1e-15))), 0) / n : null;
    const auc = n ? rocAuc(scores, ys) : NaN;
    return {
      spec,
      report,
      trainRows: train.length,
      holdout: {
        rows: n,
        accuracy: accuracy === null ? null : round(accuracy),
        log_loss: logLoss === null ? null : round(logLoss),
        roc_auc: Number.isFinite(auc) ? round(auc) : null,
        positive_rate: n ? round(ys.filter(Boolean).length / n) : null,
      },
    };
  }
  const { spec, report } = trainLinearRegression(
    features(train),
    train.map((r) => r.target!),
    { features: shape.features },
  );
  const errors = holdout.map((r) => predictLinear(spec, r.features) - r.target!);
  const n = errors.length;
  return {
    spec,
    report,
    trainRows: train.length,
    holdout: {
      rows: n,
      rmse: n ? round(Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / n)) : null,
      mae: n ? round(errors.reduce((s, e) => s + Math.abs(e), 0) / n) : null,
    },
  };
}

/**
 * The new version's reference rows: the training data as the new model would have served it
 * (score / predicted label or value from the new model), with the ground truth and business
 * outcomes, so calibration (CBPE) and KPI baselines are fitted on the same rows.
 */
export function referenceRows(spec: LinearModelSpec, rows: readonly TrainingRow[]): Array<Record<string, unknown>> {
  return rows.map((r) => {
    const s = predictLinear(spec, r.features);
    const out: Record<string, unknown> = { features: r.features, segment: r.segment, business: r.business };
    if (spec.task === 'classification') {
      const [neg, pos] = spec.classes!;
      out.score = s;
      out.probabilities = { [neg]: 1 - s, [pos]: s };
      out.predicted_label = s >= 0.5 ? pos : neg;
      out.label = r.label;
    } else {
      out.score = s;
      out.predicted_value = s;
      out.target_value = r.target;
    }
    return out;
  });
}

export interface WaitDecision {
  readonly ready: boolean;
  readonly coverage: number;
}

/**
 * Whether the training range has enough labels to train now. Labels arrive late (the label delay);
 * the worker waits until `minCoverage` of the range's served predictions are labeled, or gives up
 * waiting at the deadline and trains on what is there (if at least `minRows`).
 */
export function labelsReady(
  labeled: number,
  predictions: number,
  o: { minRows: number; minCoverage: number; waitedMs: number; maxWaitMs: number },
): WaitDecision {
  const coverage = predictions > 0 ? labeled / predictions : 0;
  return { ready: (labeled >= o.minRows && coverage >= o.minCoverage) || o.waitedMs >= o.maxWaitMs, coverage };
}

/**
 * The linear model a version's metadata describes (onnx-export.ts writes the coefficients and the
 * standardisation into `training`), so a resumed run and the launcher's sample-model profiles score
 * rows exactly as the exported graph does (up to float32). Null when the metadata is not from the
 * linear exporter.
 */
export function linearSpecFromMetadata(m: ModelMetadata): LinearModelSpec | null {
  const t = (m.training ?? {}) as {
    coefficients?: { intercept?: number; weights?: number[] };
    standardisation?: Array<{ name: string; mean: number; scale: number }>;
  };
  if (!t.coefficients || !Array.isArray(t.coefficients.weights) || typeof t.coefficients.intercept !== 'number' || !Array.isArray(t.standardisation))
    return null;
  const std = new Map(t.standardisation.map((x) => [x.name, x]));
  const features = m.features.map((f) => {
    if (f.type === 'categorical') return { name: f.name, type: 'categorical' as const, categories: [...f.categories], default: f.default };
    const z = std.get(f.name);
    return { name: f.name, type: f.type, mean: z?.mean ?? 0, scale: z?.scale ?? 1, default: f.default };
  });
  const classes = m.outputs.label?.classes ?? m.outputs.probabilities?.classes;
  return {
    task: m.task === 'regression' ? 'regression' : 'classification',
    features,
    weights: [...t.coefficients.weights],
    intercept: t.coefficients.intercept,
    ...(m.task !== 'regression' && classes && classes.length === 2 ? { classes: [classes[0]!, classes[1]!] as [string, string] } : {}),
  };
}
