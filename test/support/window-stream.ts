/**
 * A seeded simulated monitoring stream for the window-metrics tests and benchmark: predictions of a
 * binary classifier, and the label-joiner's output for them (LabeledPrediction), in phases.
 *
 * Ground truth: features x1..xK ~ N(0, 1) (K = `numericFeatures`), c1 ∈ {a, b, c} with probabilities
 * (0.5, 0.3, 0.2); logit = Σ w_i x_i + bias(c1) with w = (1.2, −0.8, 0.6, 0, 0, ...). The model's score
 * is the true probability sigmoid(logit) (a perfectly calibrated model in the stationary phase), its
 * predicted label is score >= 0.5, and the label ~ Bernoulli(p_true).
 *  - covariate drift: the means of the listed features shift (P(y | x) unchanged: the model stays
 *    calibrated, so CBPE keeps tracking realized performance);
 *  - concept drift: the label relation flips, p_true = sigmoid(−logit), while the model keeps
 *    scoring the old relation (realized performance drops; CBPE cannot see it).
 * Labels arrive `delay ~ U(0, labelDelayMs)` after the prediction; a share `unlabeledShare` never
 * arrives and is emitted UNLABELED at prediction_time + labelDelayMs (the joiner's expiry). Labeled
 * predictions are returned in emission order (progress time), as the joiner would produce them.
 */
import type { LabeledPrediction, PredictionEvent } from '../../lib/contracts/schemas.js';
import { bernoulli, mulberry32, normalSampler } from '../../lib/stats/random.js';

export interface Phase {
  readonly name: string;
  readonly windows: number;
  /** feature -> mean shift in standard deviations */
  readonly covariateShift?: Readonly<Record<string, number>>;
  readonly conceptFlip?: boolean;
}

export interface StreamOptions {
  readonly seed: number;
  readonly model: string;
  readonly version: string;
  readonly start: number;
  readonly windowMs: number;
  readonly eventsPerWindow: number;
  readonly labelDelayMs: number;
  readonly phases: readonly Phase[];
  readonly numericFeatures?: number;
  readonly unlabeledShare?: number;
  readonly regions?: readonly string[];
  readonly shadowVersion?: string;
}

export interface SimEvent {
  readonly prediction: PredictionEvent;
  readonly labeled: LabeledPrediction;
  readonly phase: string;
  readonly window: number;
}

const WEIGHTS = [1.2, -0.8, 0.6];
const CATS = ['a', 'b', 'c'] as const;
const CAT_P = [0.5, 0.3, 0.2];
const CAT_BIAS: Record<string, number> = { a: 0, b: 0.4, c: -0.4 };
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export function featureNames(k = 5): string[] {
  return [...Array.from({ length: k }, (_, i) => `x${i + 1}`), 'c1'];
}

export interface RowDraw {
  features: Record<string, number | string | null>;
  score: number;
  label: string;
}

/** One row of the given phase (also used for reference data). */
export function drawRow(
  next: () => number,
  normal: (m?: number, s?: number) => number,
  k: number,
  phase: Pick<Phase, 'covariateShift' | 'conceptFlip'>,
): RowDraw {
  const features: Record<string, number | string | null> = {};
  let logit = -0.3;
  for (let i = 0; i < k; i++) {
    const name = `x${i + 1}`;
    const x = normal(phase.covariateShift?.[name] ?? 0, 1);
    features[name] = x;
    logit += (WEIGHTS[i] ?? 0) * x;
  }
  const u = next();
  const c = u < CAT_P[0]! ? CATS[0] : u < CAT_P[0]! + CAT_P[1]! ? CATS[1] : CATS[2];
  features.c1 = c;
  logit += CAT_BIAS[c]!;
  const score = sigmoid(logit);
  const pTrue = phase.conceptFlip ? sigmoid(-logit) : score;
  return { features, score, label: String(bernoulli(next, pTrue)) };
}

/** Reference rows (stationary phase) in the flat CSV-like shape `buildAndStoreReferenceProfile` accepts. */
export function referenceRows(seed: number, n: number, k = 5): Array<Record<string, unknown>> {
  const rng = mulberry32(seed);
  const normal = normalSampler(rng);
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const r = drawRow(rng, normal, k, {});
    out.push({ ...r.features, score: r.score, predicted_label: r.score >= 0.5 ? '1' : '0', label: r.label, 'business.converted': r.label === '1' ? 1 : 0 });
  }
  return out;
}

export function generateStream(o: StreamOptions): SimEvent[] {
  const rng = mulberry32(o.seed);
  const normal = normalSampler(rng);
  const k = o.numericFeatures ?? 5;
  const out: SimEvent[] = [];
  let w = 0;
  let id = 0;
  for (const phase of o.phases) {
    for (let pw = 0; pw < phase.windows; pw++, w++) {
      const ws = o.start + w * o.windowMs;
      for (let i = 0; i < o.eventsPerWindow; i++) {
        const t = ws + Math.floor(((i + 0.5) * o.windowMs) / o.eventsPerWindow);
        const r = drawRow(rng, normal, k, phase);
        const predictionId = `p-${o.seed}-${id++}`;
        const region = o.regions ? o.regions[Math.floor(rng() * o.regions.length)]! : undefined;
        const segment: Record<string, string> = region ? { region } : {};
        const predictedLabel = r.score >= 0.5 ? '1' : '0';
        const prediction: PredictionEvent = {
          event_id: `e-${predictionId}`,
          prediction_id: predictionId,
          model_name: o.model,
          model_version: o.version,
          event_time: t,
          features: r.features,
          score: r.score,
          probabilities: {},
          predicted_label: predictedLabel,
          predicted_value: null,
          latency_ms: 2,
          segment,
          is_shadow: false,
          fallback: rng() < 0.05 ? 'default_score' : null,
        };
        const labeledOk = rng() >= (o.unlabeledShare ?? 0.1);
        const delay = Math.floor(rng() * o.labelDelayMs);
        const labeled: LabeledPrediction = {
          prediction_id: predictionId,
          model_name: o.model,
          model_version: o.version,
          prediction_time: t,
          features: r.features,
          score: r.score,
          probabilities: {},
          predicted_label: predictedLabel,
          predicted_value: null,
          segment,
          is_shadow: false,
          status: labeledOk ? 'LABELED' : 'UNLABELED',
          label: labeledOk ? r.label : null,
          target_value: null,
          outcome_time: labeledOk ? t + delay : null,
          label_delay_ms: labeledOk ? delay : null,
          business: labeledOk ? { converted: r.label === '1' ? 1 : 0, revenue: r.label === '1' ? 10 : 0 } : {},
          outcome_event_id: labeledOk ? `o-${predictionId}` : null,
          // Not stamped: progress is derived from the record's own times (what the joiner could do at the earliest).
          join_watermark: null,
        };
        out.push({ prediction, labeled, phase: phase.name, window: w });
      }
    }
  }
  return out;
}

/** Labeled predictions in the order the joiner emits them: by progress time (outcome, or expiry). */
export function labeledInEmissionOrder(events: readonly SimEvent[], labelDelayMs: number): LabeledPrediction[] {
  const progress = (l: LabeledPrediction) => (l.status === 'LABELED' ? l.outcome_time! : l.prediction_time + labelDelayMs);
  return events.map((e) => e.labeled).sort((a, b) => progress(a) - progress(b) || (a.prediction_id < b.prediction_id ? -1 : 1));
}

/** Heartbeat events (model '__heartbeat__') that advance every partition's watermark to `t`. */
export function heartbeatPrediction(t: number, n: number): PredictionEvent {
  return {
    event_id: `hb-${t}-${n}`,
    prediction_id: `hb-${t}-${n}`,
    model_name: '__heartbeat__',
    model_version: 'hb',
    event_time: t,
    features: {},
    score: null,
    probabilities: {},
    predicted_label: null,
    predicted_value: null,
    latency_ms: null,
    segment: {},
    is_shadow: false,
    fallback: null,
  };
}

export function heartbeatLabeled(t: number, n: number): LabeledPrediction {
  return {
    prediction_id: `hb-${t}-${n}`,
    model_name: '__heartbeat__',
    model_version: 'hb',
    prediction_time: t,
    features: {},
    score: null,
    probabilities: {},
    predicted_label: null,
    predicted_value: null,
    segment: {},
    is_shadow: false,
    status: 'LABELED',
    label: null,
    target_value: null,
    outcome_time: t,
    label_delay_ms: 0,
    business: {},
    outcome_event_id: null,
    join_watermark: null,
  };
}
