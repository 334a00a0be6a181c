import { describe, expect, it } from 'vitest';
import { mulberry32, normalSampler } from '../../../lib/stats/random.js';
import { predictLinear } from '../../../services/scoring/linear-model.js';
import { choleskySolve, fitPreprocessing, rocAuc, trainLinearRegression, trainLogisticRegression } from '../../../services/scoring/train.js';

describe('fitPreprocessing', () => {
  it('fits StandardScaler-style mean and population sd, the mode for categoricals, and scale 1 for a constant column', () => {
    const f = fitPreprocessing(
      [
        { name: 'a', type: 'numeric' },
        { name: 'c', type: 'numeric' },
        { name: 'r', type: 'categorical' },
      ],
      [
        { a: 1, c: 5, r: 'x' },
        { a: 3, c: 5, r: 'y' },
        { a: null, c: 5, r: 'y' },
      ],
    );
    expect(f).toEqual([
      { name: 'a', type: 'numeric', mean: 2, scale: 1, default: 2 },
      { name: 'c', type: 'numeric', mean: 5, scale: 1, default: 5 },
      { name: 'r', type: 'categorical', categories: ['x', 'y'], default: 'y' },
    ]);
  });
});

describe('trainLinearRegression (normal equations)', () => {
  it('recovers exact coefficients from noise-free data', () => {
    const rng = mulberry32(7);
    const rows = Array.from({ length: 200 }, () => ({ a: rng() * 10, b: rng() * 4 - 2, r: ['n', 's', 'e'][Math.floor(rng() * 3)]! }));
    const truth = (r: { a: number; b: number; r: string }) => 3 + 2 * r.a - 1.5 * r.b + ({ n: 0, s: 4, e: -2 } as Record<string, number>)[r.r]!;
    const { spec } = trainLinearRegression(rows, rows.map(truth), {
      features: [
        { name: 'a', type: 'numeric' },
        { name: 'b', type: 'numeric' },
        { name: 'r', type: 'categorical', categories: ['n', 's', 'e'] },
      ],
    });
    for (const r of rows.slice(0, 20)) expect(predictLinear(spec, r)).toBeCloseTo(truth(r), 5);
    // Standardised coefficient of a = 2 * sd(a).
    const sdA = (spec.features[0] as { scale: number }).scale;
    expect(spec.weights[0]! / sdA).toBeCloseTo(2, 5);
  });
});

describe('trainLogisticRegression (gradient descent)', () => {
  it('recovers the coefficients of a known logistic model and converges', () => {
    const rng = mulberry32(11);
    const normal = normalSampler(rng);
    const rows: Array<{ x1: number; x2: number }> = [];
    const labels: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const x1 = normal();
      const x2 = normal();
      const p = 1 / (1 + Math.exp(-(-0.5 + 1.2 * x1 - 0.8 * x2)));
      rows.push({ x1, x2 });
      labels.push(rng() < p ? 'yes' : 'no');
    }
    const { spec, report } = trainLogisticRegression(rows, labels, {
      features: [
        { name: 'x1', type: 'numeric' },
        { name: 'x2', type: 'numeric' },
      ],
      classes: ['no', 'yes'],
      l2: 0,
      maxIterations: 5000,
      tolerance: 1e-7,
    });
    expect(report.converged).toBe(true);
    const [f1, f2] = spec.features as unknown as Array<{ mean: number; scale: number }>;
    // Back to the raw scale: w_raw = w / scale; the intercept absorbs the means.
    expect(spec.weights[0]! / f1!.scale).toBeCloseTo(1.2, 1);
    expect(spec.weights[1]! / f2!.scale).toBeCloseTo(-0.8, 1);
    expect(spec.intercept - (spec.weights[0]! * f1!.mean) / f1!.scale - (spec.weights[1]! * f2!.mean) / f2!.scale).toBeCloseTo(-0.5, 1);
    expect(spec.classes).toEqual(['no', 'yes']);
  });
});

describe('choleskySolve', () => {
  it('solves a symmetric positive definite system', () => {
    const A = [new Float64Array([4, 12, -16]), new Float64Array([12, 37, -43]), new Float64Array([-16, -43, 98])];
    const x = choleskySolve(A, new Float64Array([1, 2, 3]));
    const back = A.map((row) => row.reduce((s, a, j) => s + a * x[j]!, 0));
    back.forEach((v, i) => expect(v).toBeCloseTo([1, 2, 3][i]!, 9));
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => choleskySolve([new Float64Array([1, 2]), new Float64Array([2, 1])], new Float64Array([1, 1]))).toThrow(/positive definite/);
  });
});

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0.5 for ties, and matches a hand-computed case', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBe(0.5);
    // Pairs (pos, neg): (0.8>0.1), (0.8>0.9? no), (0.4>0.1), (0.4>0.9? no) -> 2/4
    expect(rocAuc([0.1, 0.9, 0.8, 0.4], [false, false, true, true])).toBe(0.5);
  });
});
