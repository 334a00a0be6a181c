/**
 * Score calibration for CBPE, fitted once on reference data with labels and stored in the reference
 * profile.
 *
 * Procedure (NannyML 0.13 nannyml/calibration.py `needs_calibration`, reproduced step by step):
 *  - no calibration when the reference has a single class, or when its ROC AUC > 0.999;
 *  - otherwise 10 stratified shuffle splits with 10 % test size; in each, fit isotonic regression on
 *    the train part and calibrate the test part; pool the test parts;
 *  - ECE before and after on the pooled test predictions, with NannyML's *equal-frequency* bins
 *    (`_get_bin_index_edges`: sort by score, slice into bins of ⌊n/10⌋ rows, the last one takes the
 *    remainder; fewer bins below 20 rows);
 *  - calibrate (isotonic fitted on the whole reference) only when ECE after < ECE before.
 * The splits come from driftwatch's seeded PRNG (lib/stats/random.ts) instead of numpy's, so the
 * decision is deterministic but not bit-identical to NannyML's random_state=42 splits.
 */
import { mulberry32 } from '../stats/random.js';
import { fitIsotonic, predictIsotonic, type IsotonicModel } from './isotonic.js';
import { aucFromBins, scoreBin } from './score-bins.js';

export interface Calibration {
  readonly method: 'isotonic';
  /** true when the isotonic map lowered calibration error and is applied to window scores. */
  readonly applied: boolean;
  readonly reason: 'single_class' | 'auc_near_one' | 'lowers_ece' | 'does_not_lower_ece' | 'too_few_rows';
  readonly eceBefore: number | null;
  readonly eceAfter: number | null;
  readonly nReference: number;
  /** The fitted map (present when applied). */
  readonly model: IsotonicModel | null;
}

export const CALIBRATION_SPLITS = 10;
export const CALIBRATION_TEST_SIZE = 0.1;
export const CALIBRATION_BINS = 10;
export const CALIBRATION_SEED = 42;

/** NannyML `_get_bin_index_edges`: [start, end) row ranges of equal-frequency bins. */
export function binIndexEdges(length: number, binCount: number): Array<[number, number]> {
  let bins = binCount;
  if (length <= 2 * bins) {
    bins = Math.floor(length / 2);
    if (bins < 2) throw new RangeError(`cannot split ${length} rows into at least 2 calibration bins`);
  }
  const width = Math.floor(length / bins);
  const edges: number[] = [];
  for (let e = 0; e <= length; e += width) edges.push(e);
  edges[edges.length - 1] = length;
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < edges.length; i++) out.push([edges[i]!, edges[i + 1]!]);
  return out;
}

/** NannyML `_calculate_expected_calibration_error`: equal-frequency bins over rows sorted by score. */
export function equalFrequencyEce(yTrue: readonly number[], proba: readonly number[], edges: ReadonlyArray<readonly [number, number]>): number {
  const order = proba.map((_, i) => i).sort((a, b) => proba[a]! - proba[b]! || a - b);
  let ece = 0;
  for (const [l, r] of edges) {
    if (r <= l) continue;
    let sp = 0;
    let sy = 0;
    for (let k = l; k < r; k++) {
      sp += proba[order[k]!]!;
      sy += yTrue[order[k]!]!;
    }
    const len = r - l;
    ece += (len / proba.length) * Math.abs(sp / len - sy / len);
  }
  return ece;
}

/** Stratified shuffle split: per class, a seeded shuffle; the first ⌈share·n_class⌉ rows are the test part. */
function stratifiedSplits(y: readonly number[], splits: number, testSize: number, seed: number): Array<{ train: number[]; test: number[] }> {
  const rng = mulberry32(seed);
  const byClass = [0, 1].map((c) => y.map((v, i) => (v === c ? i : -1)).filter((i) => i >= 0));
  const out: Array<{ train: number[]; test: number[] }> = [];
  for (let s = 0; s < splits; s++) {
    const train: number[] = [];
    const test: number[] = [];
    for (const idx of byClass) {
      const a = [...idx];
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(rng() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      const nTest = Math.max(1, Math.round(a.length * testSize));
      test.push(...a.slice(0, nTest));
      train.push(...a.slice(nTest));
    }
    out.push({ train: train.sort((p, q) => p - q), test: test.sort((p, q) => p - q) });
  }
  return out;
}

function rocAuc(y: readonly number[], p: readonly number[]): number | null {
  const bins = new Map<number, [number, number]>();
  for (let i = 0; i < y.length; i++) {
    const b = scoreBin(p[i]!);
    const e = bins.get(b) ?? [0, 0];
    e[y[i] === 1 ? 0 : 1]++;
    bins.set(b, e);
  }
  return aucFromBins(bins);
}

/**
 * Decides and fits the calibration from reference (score, y) pairs, y in {0, 1}.
 */
export function fitCalibration(scores: readonly number[], y: readonly number[], seed = CALIBRATION_SEED): Calibration {
  const n = scores.length;
  const base = { method: 'isotonic' as const, nReference: n };
  const positives = y.reduce((a, b) => a + b, 0);
  if (n === 0 || positives === 0 || positives === n) return { ...base, applied: false, reason: 'single_class', eceBefore: null, eceAfter: null, model: null };
  const auc = rocAuc(y, scores);
  if (auc !== null && auc > 0.999) return { ...base, applied: false, reason: 'auc_near_one', eceBefore: null, eceAfter: null, model: null };
  // Each class needs a train and a test row, and the pooled test part at least 4 rows for 2 bins.
  if (Math.min(positives, n - positives) < 2 || n < 20)
    return { ...base, applied: false, reason: 'too_few_rows', eceBefore: null, eceAfter: null, model: null };
  const yTest: number[] = [];
  const pTest: number[] = [];
  const cTest: number[] = [];
  for (const { train, test } of stratifiedSplits(y, CALIBRATION_SPLITS, CALIBRATION_TEST_SIZE, seed)) {
    const m = fitIsotonic(
      train.map((i) => scores[i]!),
      train.map((i) => y[i]!),
    );
    for (const i of test) {
      yTest.push(y[i]!);
      pTest.push(scores[i]!);
      cTest.push(predictIsotonic(m, scores[i]!));
    }
  }
  const edges = binIndexEdges(pTest.length, CALIBRATION_BINS);
  const eceBefore = equalFrequencyEce(yTest, pTest, edges);
  const eceAfter = equalFrequencyEce(yTest, cTest, edges);
  const applied = eceAfter < eceBefore;
  return {
    ...base,
    applied,
    reason: applied ? 'lowers_ece' : 'does_not_lower_ece',
    eceBefore,
    eceAfter,
    model: applied ? fitIsotonic(scores, y) : null,
  };
}

/** The calibrated probability of a raw score (identity when calibration is not applied). */
export function calibrate(c: Calibration | null | undefined, score: number): number {
  if (!c || !c.applied || !c.model) return score;
  return predictIsotonic(c.model, score);
}
