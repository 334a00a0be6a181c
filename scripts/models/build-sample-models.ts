/**
 * Builds the sample models committed under `models/` from the shared feature space
 * (services/scoring/sample-models/feature-space.ts), with the pure-TS trainer and ONNX exporter:
 *
 *   models/credit-risk/1   logistic regression, 20k rows, seed 1
 *   models/credit-risk/2   logistic regression, 20k rows, seed 2, trained after a concept shift
 *                          (+0.4 on the true logit): the challenger / hot-swap sample
 *   models/delivery-eta/1  linear regression, 20k rows, seed 3
 *
 * Each directory holds `model.onnx` and `metadata.json` (the registry layout, docs/scoring.md), with
 * holdout metrics on 5k fresh rows in `training`. Deterministic: the same code gives the same bytes.
 *
 * Usage: npx tsx scripts/models/build-sample-models.ts [outDir=models]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CREDIT_RISK, DELIVERY_ETA, generateRows, type DriftOptions, type SampleModelSpace } from '../../services/scoring/sample-models/feature-space.js';
import { exportLinearModel, type ExportedModel } from '../../services/scoring/onnx-export.js';
import { predictLinear } from '../../services/scoring/linear-model.js';
import { rocAuc, trainLinearRegression, trainLogisticRegression } from '../../services/scoring/train.js';

const TRAIN_ROWS = 20_000;
const HOLDOUT_ROWS = 5_000;

export interface SampleBuild {
  readonly name: string;
  readonly version: string;
  readonly model: ExportedModel;
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

function buildClassifier(space: SampleModelSpace, version: string, seed: number, drift: DriftOptions): SampleBuild {
  const rows = generateRows(space.model, seed, TRAIN_ROWS, drift);
  const { spec, report } = trainLogisticRegression(
    rows.map((r) => r.features),
    rows.map((r) => r.label!),
    { features: space.features, classes: space.classes!, l2: 1e-4, learningRate: 1, maxIterations: 3000, tolerance: 1e-6 },
  );
  const holdout = generateRows(space.model, seed + 1000, HOLDOUT_ROWS, drift);
  const scores = holdout.map((r) => predictLinear(spec, r.features));
  const positives = holdout.map((r) => r.label === space.classes![1]);
  const logLoss = -scores.reduce((s, p, i) => s + (positives[i] ? Math.log(Math.max(p, 1e-15)) : Math.log(Math.max(1 - p, 1e-15))), 0) / scores.length;
  const baseRate = positives.filter(Boolean).length / positives.length;
  const model = exportLinearModel(spec, {
    name: space.model,
    description: `Sample binary classifier (logistic regression) on the ${space.model} feature space; score = P(default).`,
    defaultScore: round(baseRate),
    training: {
      trainer: 'driftwatch train.ts logistic regression (gradient descent)',
      data: { generator: 'services/scoring/sample-models/feature-space.ts', seed, rows: TRAIN_ROWS, drift },
      iterations: report.iterations,
      converged: report.converged,
      train_log_loss: round(report.loss),
      holdout: { rows: HOLDOUT_ROWS, seed: seed + 1000, roc_auc: round(rocAuc(scores, positives)), log_loss: round(logLoss), positive_rate: round(baseRate) },
    },
  });
  return { name: space.model, version, model };
}

function buildRegressor(space: SampleModelSpace, version: string, seed: number, drift: DriftOptions): SampleBuild {
  const rows = generateRows(space.model, seed, TRAIN_ROWS, drift);
  const { spec, report } = trainLinearRegression(
    rows.map((r) => r.features),
    rows.map((r) => r.target!),
    { features: space.features },
  );
  const holdout = generateRows(space.model, seed + 1000, HOLDOUT_ROWS, drift);
  const errors = holdout.map((r) => predictLinear(spec, r.features) - r.target!);
  const meanTarget = holdout.reduce((s, r) => s + r.target!, 0) / holdout.length;
  const model = exportLinearModel(spec, {
    name: space.model,
    description: `Sample regressor (linear regression, normal equations) on the ${space.model} feature space; score = minutes.`,
    defaultScore: round(meanTarget, 2),
    training: {
      trainer: 'driftwatch train.ts linear regression (normal equations)',
      data: { generator: 'services/scoring/sample-models/feature-space.ts', seed, rows: TRAIN_ROWS, drift },
      train_mse: round(report.loss),
      holdout: {
        rows: HOLDOUT_ROWS,
        seed: seed + 1000,
        rmse: round(Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / errors.length)),
        mae: round(errors.reduce((s, e) => s + Math.abs(e), 0) / errors.length),
      },
    },
  });
  return { name: space.model, version, model };
}

export function buildSampleModels(): SampleBuild[] {
  return [
    buildClassifier(CREDIT_RISK, '1', 1, {}),
    buildClassifier(CREDIT_RISK, '2', 2, { conceptShift: 0.4 }),
    buildRegressor(DELIVERY_ETA, '1', 3, {}),
  ];
}

export function writeSampleModels(outDir: string): SampleBuild[] {
  const builds = buildSampleModels();
  for (const b of builds) {
    const dir = join(outDir, b.name, b.version);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.onnx'), b.model.onnx);
    writeFileSync(join(dir, 'metadata.json'), `${JSON.stringify(b.model.metadata, null, 2)}\n`);
  }
  return builds;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = resolve(process.argv[2] ?? 'models');
  for (const b of writeSampleModels(out)) process.stdout.write(`wrote ${join(out, b.name, b.version)} (${b.model.onnx.length} bytes)\n`);
}
