/**
 * A small pure-TypeScript trainer for the linear model family of linear-model.ts, so a retrain
 * worker can fit a new version and export it (onnx-export.ts) at run time from Node.
 *
 * Preprocessing is fitted as scikit-learn would: numeric mean and population standard deviation
 * (StandardScaler; a constant column gets scale 1), missing values imputed with the mean / most
 * frequent category (SimpleImputer), categories in order of first appearance unless given.
 *
 * - Logistic regression: full-batch gradient descent on the mean log loss plus an L2 penalty
 *   (l2/2)·||w||² (intercept not penalised). With standardised inputs the loss is well conditioned,
 *   so a fixed step converges; iteration stops when the gradient's max-norm drops below `tolerance`
 *   or the loss decreases by less than `lossTolerance` in one step.
 *   Gradient: ∂/∂w = Hᵀ(σ(Hw+b) − y)/n + l2·w,  ∂/∂b = mean(σ(Hw+b) − y).
 * - Linear regression: the normal equations (HᵀH + λI) w = Hᵀy with an intercept column (not
 *   penalised), solved by Cholesky. The tiny ridge λ keeps the system positive definite, since
 *   one-hot blocks plus an intercept are collinear (the dummy-variable trap).
 */
import { encodeRow, encodedWidth, type LinearFeature, type LinearModelSpec, type RawValue } from './linear-model.js';

export interface FeatureDecl {
  readonly name: string;
  readonly type: 'numeric' | 'boolean' | 'categorical';
  readonly categories?: readonly string[];
}

export type Row = Readonly<Record<string, RawValue>>;

/** Fits imputation defaults, standardisation and category lists from training rows. */
export function fitPreprocessing(decls: readonly FeatureDecl[], rows: readonly Row[]): LinearFeature[] {
  return decls.map((d): LinearFeature => {
    if (d.type === 'categorical') {
      const counts = new Map<string, number>();
      for (const r of rows) {
        const v = r[d.name];
        if (v === null || v === undefined) continue;
        const s = String(v);
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      const categories = d.categories ? [...d.categories] : [...counts.keys()];
      if (categories.length === 0) throw new Error(`feature ${d.name}: no categories observed`);
      let mode = categories[0]!;
      for (const c of categories) if ((counts.get(c) ?? 0) > (counts.get(mode) ?? 0)) mode = c;
      return { name: d.name, type: 'categorical', categories, default: mode };
    }
    let n = 0;
    let mean = 0;
    let m2 = 0;
    for (const r of rows) {
      const v = r[d.name];
      const x = typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : NaN;
      if (!Number.isFinite(x)) continue;
      // Welford's online update: numerically stable mean and variance in one pass.
      n++;
      const delta = x - mean;
      mean += delta / n;
      m2 += delta * (x - mean);
    }
    if (n === 0) throw new Error(`feature ${d.name}: no numeric values observed`);
    const sd = Math.sqrt(m2 / n);
    return { name: d.name, type: d.type, mean, scale: sd > 0 ? sd : 1, default: mean };
  });
}

export interface LogisticOptions {
  readonly features: readonly FeatureDecl[];
  /** [negative, positive]; labels equal to the positive class are 1. */
  readonly classes: readonly [string, string];
  readonly l2?: number;
  readonly learningRate?: number;
  readonly maxIterations?: number;
  /** Max-norm of the gradient below which training stops. */
  readonly tolerance?: number;
  /** Decrease of the mean log loss between iterations below which training stops. */
  readonly lossTolerance?: number;
}

export interface TrainReport {
  readonly iterations: number;
  readonly converged: boolean;
  readonly loss: number;
  readonly rows: number;
}

const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function design(features: readonly LinearFeature[], rows: readonly Row[]): { H: Float64Array[]; d: number } {
  const spec = { features };
  return { H: rows.map((r) => encodeRow(spec, r)), d: encodedWidth(spec) };
}

export function trainLogisticRegression(
  rows: readonly Row[],
  labels: readonly string[],
  opts: LogisticOptions,
): { spec: LinearModelSpec; report: TrainReport } {
  if (rows.length !== labels.length || rows.length === 0) throw new Error('rows and labels must be non-empty and of equal length');
  const features = fitPreprocessing(opts.features, rows);
  const { H, d } = design(features, rows);
  const y = labels.map((l) => (l === opts.classes[1] ? 1 : 0));
  const n = rows.length;
  const l2 = opts.l2 ?? 1e-4;
  const lr = opts.learningRate ?? 0.5;
  const maxIt = opts.maxIterations ?? 2000;
  const tol = opts.tolerance ?? 1e-6;
  const lossTol = opts.lossTolerance ?? 1e-10;
  const w = new Float64Array(d);
  let b = 0;
  const grad = new Float64Array(d);
  let iterations = 0;
  let converged = false;
  let prevLoss = Infinity;
  for (; iterations < maxIt; iterations++) {
    grad.fill(0);
    let gb = 0;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const h = H[i]!;
      let z = b;
      for (let j = 0; j < d; j++) z += w[j]! * h[j]!;
      const p = sigmoid(z);
      const r = p - y[i]!;
      loss -= y[i]! ? Math.log(Math.max(p, 1e-15)) : Math.log(Math.max(1 - p, 1e-15));
      gb += r;
      for (let j = 0; j < d; j++) grad[j]! += r * h[j]!;
    }
    let maxAbs = Math.abs(gb / n);
    for (let j = 0; j < d; j++) {
      grad[j] = grad[j]! / n + l2 * w[j]!;
      maxAbs = Math.max(maxAbs, Math.abs(grad[j]!));
    }
    loss /= n;
    // Converged when the gradient is small, or when the loss stopped moving: one-hot blocks plus the
    // intercept leave a direction of near-zero curvature along which the gradient decays very
    // slowly without changing any prediction.
    if (maxAbs < tol || prevLoss - loss < lossTol) {
      converged = true;
      break;
    }
    prevLoss = loss;
    for (let j = 0; j < d; j++) w[j] = w[j]! - lr * grad[j]!;
    b -= (lr * gb) / n;
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let z = b;
    for (let j = 0; j < d; j++) z += w[j]! * H[i]![j]!;
    const p = Math.min(1 - 1e-15, Math.max(1e-15, sigmoid(z)));
    loss -= y[i]! * Math.log(p) + (1 - y[i]!) * Math.log(1 - p);
  }
  return {
    spec: { task: 'classification', features, weights: [...w], intercept: b, classes: [opts.classes[0], opts.classes[1]] },
    report: { iterations, converged, loss: loss / n, rows: n },
  };
}

export interface LinearOptions {
  readonly features: readonly FeatureDecl[];
  /** Ridge λ added to the diagonal (not to the intercept). */
  readonly ridge?: number;
}

/** Solves A x = b for symmetric positive definite A (Cholesky A = LLᵀ, then two triangular solves). */
export function choleskySolve(A: Float64Array[], bvec: Float64Array): Float64Array {
  const m = A.length;
  const L = Array.from({ length: m }, () => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      if (i === j) {
        if (s <= 0) throw new Error('matrix is not positive definite');
        L[i]![i] = Math.sqrt(s);
      } else L[i]![j] = s / L[j]![j]!;
    }
  }
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = bvec[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * z[k]!;
    z[i] = s / L[i]![i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < m; k++) s -= L[k]![i]! * x[k]!;
    x[i] = s / L[i]![i]!;
  }
  return x;
}

export function trainLinearRegression(rows: readonly Row[], targets: readonly number[], opts: LinearOptions): { spec: LinearModelSpec; report: TrainReport } {
  if (rows.length !== targets.length || rows.length === 0) throw new Error('rows and targets must be non-empty and of equal length');
  const features = fitPreprocessing(opts.features, rows);
  const { H, d } = design(features, rows);
  const m = d + 1; // last column: intercept
  const A = Array.from({ length: m }, () => new Float64Array(m));
  const bvec = new Float64Array(m);
  const row = new Float64Array(m);
  for (let i = 0; i < H.length; i++) {
    row.set(H[i]!);
    row[d] = 1;
    const t = targets[i]!;
    for (let a = 0; a < m; a++) {
      bvec[a]! += row[a]! * t;
      for (let c = 0; c <= a; c++) A[a]![c]! += row[a]! * row[c]!;
    }
  }
  for (let a = 0; a < m; a++) for (let c = 0; c < a; c++) A[c]![a] = A[a]![c]!;
  const ridge = (opts.ridge ?? 1e-8) * H.length;
  for (let j = 0; j < d; j++) A[j]![j]! += ridge;
  const x = choleskySolve(A, bvec);
  const weights = [...x.subarray(0, d)];
  const intercept = x[d]!;
  let sse = 0;
  for (let i = 0; i < H.length; i++) {
    let z = intercept;
    for (let j = 0; j < d; j++) z += weights[j]! * H[i]![j]!;
    sse += (z - targets[i]!) ** 2;
  }
  return { spec: { task: 'regression', features, weights, intercept }, report: { iterations: 1, converged: true, loss: sse / H.length, rows: H.length } };
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney U) formula, ties averaged. */
export function rocAuc(scores: readonly number[], positives: readonly boolean[]): number {
  const idx = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[idx[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let nPos = 0;
  let rankSum = 0;
  positives.forEach((p, i) => {
    if (p) {
      nPos++;
      rankSum += ranks[i]!;
    }
  });
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
