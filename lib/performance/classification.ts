/**
 * Realized classification performance as a mergeable window summary.
 *
 * Every field is an integer count, a sparse map of counts, or an exact floating-point sum
 * (lib/stats/exactsum.ts), so `merge(summary(A), summary(B))` deep-equals `summary(A ∪ B)` for any
 * split of a window: two processor instances write bit-identical metric rows.
 *
 * Metrics (sklearn conventions, binary with respect to `positiveLabel` unless `average: 'macro'`):
 *  - accuracy  = correct / n                       (sklearn accuracy_score)
 *  - precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2TP / (2TP + FP + FN); 0/0 -> null
 *    (sklearn warns and returns 0 with zero_division='warn'; a null is more honest on a dashboard)
 *  - macro: the unweighted mean over classes seen as label or prediction (sklearn average='macro')
 *  - ROC AUC   on scores quantised to 1e-4 (./score-bins.ts)
 *  - log loss  = −mean(y ln p + (1−y) ln(1−p)), p clipped to [1e-15, 1 − 1e-15] (sklearn log_loss)
 *  - Brier     = mean((p − y)²)                    (sklearn brier_score_loss)
 *  - ECE       = Σ_b (n_b/N) |mean(y)_b − mean(p)_b| over 10 equal-width bins of p
 *                (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017, eq. 3)
 */
import { exactAdd, exactMerge, exactValue, type ExactSum } from '../stats/exactsum.js';
import { aucFromBins, scoreBin } from './score-bins.js';

export const LOG_LOSS_EPS = 1e-15;
export const ECE_BINS = 10;

export type Averaging = 'binary' | 'macro';

export interface ClassificationOptions {
  /** The class treated as positive for binary metrics and the score (default '1'). */
  readonly positiveLabel: string;
  /** Predicted positive when score >= this, used only when the event carries no predicted label. */
  readonly decisionThreshold: number;
  readonly average: Averaging;
}

export const DEFAULT_CLASSIFICATION_OPTIONS: ClassificationOptions = Object.freeze({ positiveLabel: '1', decisionThreshold: 0.5, average: 'binary' });

export interface ClassificationSummary {
  /** Events with a label and a prediction (label or score). */
  n: number;
  correct: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** class -> [tp, fp, fn] for macro averaging (only events that carry a predicted label). */
  perClass: Record<string, [number, number, number]>;
  /** Events with a label and a score in [0, 1]. */
  nScored: number;
  /** Score bin -> [positives, negatives]. */
  scoreBins: Record<string, [number, number]>;
  logLoss: ExactSum;
  brier: ExactSum;
  eceCount: number[];
  eceSumP: ExactSum[];
  eceSumY: number[];
}

export function createClassificationSummary(): ClassificationSummary {
  return {
    n: 0,
    correct: 0,
    tp: 0,
    fp: 0,
    fn: 0,
    tn: 0,
    perClass: {},
    nScored: 0,
    scoreBins: {},
    logLoss: [],
    brier: [],
    eceCount: new Array<number>(ECE_BINS).fill(0),
    eceSumP: Array.from({ length: ECE_BINS }, () => []),
    eceSumY: new Array<number>(ECE_BINS).fill(0),
  };
}

export interface ClassificationObservation {
  readonly label: string;
  readonly predictedLabel: string | null;
  /** Positive-class probability, or null. */
  readonly score: number | null;
}

function classCounts(s: ClassificationSummary, cls: string): [number, number, number] {
  let c = s.perClass[cls];
  if (!c) {
    c = [0, 0, 0];
    s.perClass[cls] = c;
  }
  return c;
}

/** Adds one labeled prediction. Mutates `s`. Observations with neither a predicted label nor a score are ignored. */
export function addClassification(s: ClassificationSummary, o: ClassificationObservation, opts: ClassificationOptions): void {
  const hasScore = o.score !== null && Number.isFinite(o.score) && o.score >= 0 && o.score <= 1;
  if (o.predictedLabel === null && !hasScore) return;
  const y = o.label === opts.positiveLabel ? 1 : 0;
  const predPositive = o.predictedLabel !== null ? o.predictedLabel === opts.positiveLabel : (o.score as number) >= opts.decisionThreshold;
  s.n++;
  const correct = o.predictedLabel !== null ? o.predictedLabel === o.label : predPositive === (y === 1);
  if (correct) s.correct++;
  if (predPositive && y === 1) s.tp++;
  else if (predPositive) s.fp++;
  else if (y === 1) s.fn++;
  else s.tn++;
  if (o.predictedLabel !== null) {
    if (o.predictedLabel === o.label) classCounts(s, o.label)[0]++;
    else {
      classCounts(s, o.predictedLabel)[1]++;
      classCounts(s, o.label)[2]++;
    }
  }
  if (hasScore) {
    const p = o.score as number;
    s.nScored++;
    const key = String(scoreBin(p));
    const bin = s.scoreBins[key] ?? (s.scoreBins[key] = [0, 0]);
    bin[y === 1 ? 0 : 1]++;
    const pc = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, p));
    exactAdd(s.logLoss, -(y === 1 ? Math.log(pc) : Math.log(1 - pc)));
    exactAdd(s.brier, (p - y) * (p - y));
    const e = Math.min(ECE_BINS - 1, Math.floor(p * ECE_BINS));
    s.eceCount[e]!++;
    exactAdd(s.eceSumP[e]!, p);
    s.eceSumY[e]! += y;
  }
}

function sortedNumericKeys(...objs: ReadonlyArray<Record<string, unknown>>): string[] {
  return [...new Set(objs.flatMap((o) => Object.keys(o)))].sort((a, b) => Number(a) - Number(b));
}

/** Pure merge. */
export function mergeClassification(a: ClassificationSummary, b: ClassificationSummary): ClassificationSummary {
  const perClass: Record<string, [number, number, number]> = {};
  for (const k of [...new Set([...Object.keys(a.perClass), ...Object.keys(b.perClass)])].sort()) {
    const x = a.perClass[k] ?? [0, 0, 0];
    const y = b.perClass[k] ?? [0, 0, 0];
    perClass[k] = [x[0] + y[0], x[1] + y[1], x[2] + y[2]];
  }
  const scoreBins: Record<string, [number, number]> = {};
  for (const k of sortedNumericKeys(a.scoreBins, b.scoreBins)) {
    const x = a.scoreBins[k] ?? [0, 0];
    const y = b.scoreBins[k] ?? [0, 0];
    scoreBins[k] = [x[0] + y[0], x[1] + y[1]];
  }
  return {
    n: a.n + b.n,
    correct: a.correct + b.correct,
    tp: a.tp + b.tp,
    fp: a.fp + b.fp,
    fn: a.fn + b.fn,
    tn: a.tn + b.tn,
    perClass,
    nScored: a.nScored + b.nScored,
    scoreBins,
    logLoss: exactMerge(a.logLoss, b.logLoss),
    brier: exactMerge(a.brier, b.brier),
    eceCount: a.eceCount.map((c, i) => c + b.eceCount[i]!),
    eceSumP: a.eceSumP.map((c, i) => exactMerge(c, b.eceSumP[i]!)),
    eceSumY: a.eceSumY.map((c, i) => c + b.eceSumY[i]!),
  };
}

const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

export interface ClassificationMetrics {
  readonly accuracy: number | null;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly roc_auc: number | null;
  readonly log_loss: number | null;
  readonly brier: number | null;
  readonly ece: number | null;
}

function macro(s: ClassificationSummary): { precision: number | null; recall: number | null; f1: number | null } {
  const classes = Object.keys(s.perClass);
  if (classes.length === 0) return { precision: null, recall: null, f1: null };
  let p = 0;
  let r = 0;
  let f = 0;
  for (const k of classes) {
    const [tp, fp, fn] = s.perClass[k]!;
    p += ratio(tp, tp + fp) ?? 0;
    r += ratio(tp, tp + fn) ?? 0;
    f += ratio(2 * tp, 2 * tp + fp + fn) ?? 0;
  }
  return { precision: p / classes.length, recall: r / classes.length, f1: f / classes.length };
}

/** Expected calibration error over the 10 equal-width bins of a summary (null when no scores). */
export function eceOf(count: readonly number[], sumP: ReadonlyArray<readonly number[]>, sumY: readonly number[]): number | null {
  const n = count.reduce((x, y) => x + y, 0);
  if (n === 0) return null;
  let ece = 0;
  for (let b = 0; b < count.length; b++) {
    const c = count[b]!;
    if (c === 0) continue;
    ece += (c / n) * Math.abs(sumY[b]! / c - exactValue(sumP[b]!) / c);
  }
  return ece;
}

export function classificationMetrics(s: ClassificationSummary, average: Averaging = 'binary'): ClassificationMetrics {
  const binary = {
    precision: ratio(s.tp, s.tp + s.fp),
    recall: ratio(s.tp, s.tp + s.fn),
    f1: ratio(2 * s.tp, 2 * s.tp + s.fp + s.fn),
  };
  const prf = average === 'macro' ? macro(s) : binary;
  const bins = new Map<number, readonly [number, number]>(Object.entries(s.scoreBins).map(([k, v]) => [Number(k), v] as const));
  return {
    accuracy: ratio(s.correct, s.n),
    ...prf,
    roc_auc: aucFromBins(bins),
    log_loss: s.nScored > 0 ? exactValue(s.logLoss) / s.nScored : null,
    brier: s.nScored > 0 ? exactValue(s.brier) / s.nScored : null,
    ece: eceOf(s.eceCount, s.eceSumP, s.eceSumY),
  };
}
