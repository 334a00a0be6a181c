/**
 * The feature space of driftwatch's sample models, shared by the model builder
 * (scripts/models/build-sample-models.ts), the simulator/demo and the benchmarks, so a generated
 * event always fits the models in `models/`.
 *
 * Two models:
 *  - `credit-risk` (binary classification, label '1' = default): numeric income, age, debt_ratio,
 *    credit_lines, utilization; categorical region (north/south/east/west) and device (mobile/desktop).
 *  - `delivery-eta` (regression, minutes): numeric distance_km, items, hour; categorical region.
 *
 * The generator is seeded (mulberry32 from lib/stats/random.ts) so a seed gives the same rows on
 * every machine. The ground truth is a known formula plus noise (below), which lets tests check that
 * a trained model recovers it and lets the simulator produce realistic delayed labels. `DriftOptions`
 * shifts the input distribution (covariate drift) or the formula (concept drift) on purpose.
 */
import { bernoulli, mulberry32, normalSampler, randInt, type Rng } from '../../../lib/stats/random.js';

export type SampleFeatureType = 'numeric' | 'categorical';

export interface SampleFeature {
  readonly name: string;
  readonly type: SampleFeatureType;
  readonly categories?: readonly string[];
  readonly doc: string;
}

export interface SampleModelSpace {
  readonly model: string;
  readonly task: 'classification' | 'regression';
  readonly features: readonly SampleFeature[];
  /** Feature names copied into the event segment (slice keys for drift and performance). */
  readonly segmentKeys: readonly string[];
  /** Classes for classifiers, negative first. */
  readonly classes?: readonly [string, string];
}

export const REGIONS = ['north', 'south', 'east', 'west'] as const;
export const DEVICES = ['mobile', 'desktop'] as const;

export const CREDIT_RISK: SampleModelSpace = {
  model: 'credit-risk',
  task: 'classification',
  classes: ['0', '1'],
  segmentKeys: ['region', 'device'],
  features: [
    { name: 'income', type: 'numeric', doc: 'Yearly income; log-normal, median about 49k' },
    { name: 'age', type: 'numeric', doc: 'Years, 18..90' },
    { name: 'debt_ratio', type: 'numeric', doc: 'Debt / income, 0..1.5' },
    { name: 'credit_lines', type: 'numeric', doc: 'Open credit lines, integer >= 0' },
    { name: 'utilization', type: 'numeric', doc: 'Credit utilization, 0..1' },
    { name: 'region', type: 'categorical', categories: REGIONS, doc: 'Sales region' },
    { name: 'device', type: 'categorical', categories: DEVICES, doc: 'Application channel' },
  ],
};

export const DELIVERY_ETA: SampleModelSpace = {
  model: 'delivery-eta',
  task: 'regression',
  segmentKeys: ['region'],
  features: [
    { name: 'distance_km', type: 'numeric', doc: 'Route length; log-normal, median about 3.3 km' },
    { name: 'items', type: 'numeric', doc: 'Items in the order, integer >= 1' },
    { name: 'hour', type: 'numeric', doc: 'Local hour of the order, 0..23' },
    { name: 'region', type: 'categorical', categories: REGIONS, doc: 'Sales region' },
  ],
};

export const FEATURE_SPACES: Readonly<Record<string, SampleModelSpace>> = {
  [CREDIT_RISK.model]: CREDIT_RISK,
  [DELIVERY_ETA.model]: DELIVERY_ETA,
};

/** Deliberate changes to the generated population. All default to "no change". */
export interface DriftOptions {
  /** Multiplies income (covariate drift), e.g. 0.7 for a recession. */
  readonly incomeFactor?: number;
  /** Added to utilization before clamping to [0, 1]. */
  readonly utilizationShift?: number;
  /** Region weights in REGIONS order (normalised). Default 0.3/0.25/0.25/0.2. */
  readonly regionWeights?: readonly number[];
  /** Share of mobile applications. Default 0.6. */
  readonly mobileShare?: number;
  /** Multiplies distance_km. */
  readonly distanceFactor?: number;
  /** Concept drift: added to the credit-risk true logit, or to the delivery-eta true minutes. */
  readonly conceptShift?: number;
  /** Probability that any one feature value is missing (null). */
  readonly missingRate?: number;
}

export interface SampleRow {
  readonly features: Record<string, number | string | null>;
  readonly segment: Record<string, string>;
  /** credit-risk: the drawn class ('0' | '1'). */
  readonly label?: string;
  /** credit-risk: the true default probability the label was drawn from. */
  readonly probability?: number;
  /** delivery-eta: the true minutes (with noise). */
  readonly target?: number;
}

const DEFAULT_REGION_WEIGHTS = [0.3, 0.25, 0.25, 0.2];

function pickWeighted<T>(rng: Rng, items: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng() * total;
  for (let i = 0; i < items.length; i++) {
    u -= weights[i] ?? 0;
    if (u < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The true credit-risk model: logit of the default probability. Income enters on the log scale, so
 * a logistic regression on standardised raw income is slightly misspecified, as real models are.
 */
export function creditRiskTrueLogit(
  f: { income: number; age: number; debt_ratio: number; credit_lines: number; utilization: number; region: string; device: string },
  conceptShift = 0,
): number {
  const zIncome = (Math.log(f.income) - 10.8) / 0.45;
  const zAge = (f.age - 42) / 12;
  const zDebt = (f.debt_ratio - 0.35) / 0.15;
  const zLines = (f.credit_lines - 5) / 2.5;
  const zUtil = (f.utilization - 0.4) / 0.22;
  const regionEffect: Record<string, number> = { north: 0, south: 0.35, east: -0.2, west: 0.15 };
  return (
    -1.5 -
    0.8 * zIncome -
    0.3 * zAge +
    0.9 * zDebt -
    0.2 * zLines +
    1.1 * zUtil +
    (regionEffect[f.region] ?? 0) +
    (f.device === 'mobile' ? 0.25 : 0) +
    conceptShift
  );
}

/** The true delivery-eta mean in minutes (noise is added by the generator). */
export function deliveryEtaTrueMinutes(f: { distance_km: number; items: number; hour: number; region: string }, conceptShift = 0): number {
  const rush = (f.hour >= 11 && f.hour <= 13) || (f.hour >= 18 && f.hour <= 20) ? 6 : 0;
  const regionEffect: Record<string, number> = { north: 0, south: 2, east: -1, west: 3 };
  return 12 + 3.1 * f.distance_km + 1.4 * f.items + rush + (regionEffect[f.region] ?? 0) + conceptShift;
}

/**
 * A seeded row generator for one sample model. `next()` returns the features, the segment and the
 * ground truth; the same (model, seed, drift) always gives the same sequence.
 */
export function createFeatureGenerator(model: string, seed: number, drift: DriftOptions = {}): { next(): SampleRow } {
  const rng = mulberry32(seed);
  const normal = normalSampler(rng);
  const regionWeights = drift.regionWeights ?? DEFAULT_REGION_WEIGHTS;
  const missing = drift.missingRate ?? 0;
  const maybeMissing = <T>(v: T): T | null => (missing > 0 && rng() < missing ? null : v);

  if (model === CREDIT_RISK.model) {
    return {
      next() {
        const income = Math.round(Math.exp(normal(10.8, 0.45)) * (drift.incomeFactor ?? 1));
        const age = Math.round(clamp(normal(42, 12), 18, 90));
        const debt_ratio = round2(clamp(normal(0.35, 0.15), 0, 1.5));
        const credit_lines = Math.max(0, Math.round(normal(5, 2.5)));
        const utilization = round2(clamp(normal(0.4, 0.22) + (drift.utilizationShift ?? 0), 0, 1));
        const region = pickWeighted(rng, REGIONS, regionWeights);
        const device = rng() < (drift.mobileShare ?? 0.6) ? 'mobile' : 'desktop';
        const p = 1 / (1 + Math.exp(-creditRiskTrueLogit({ income, age, debt_ratio, credit_lines, utilization, region, device }, drift.conceptShift ?? 0)));
        const label = String(bernoulli(rng, p));
        return {
          features: {
            income: maybeMissing(income),
            age: maybeMissing(age),
            debt_ratio: maybeMissing(debt_ratio),
            credit_lines: maybeMissing(credit_lines),
            utilization: maybeMissing(utilization),
            region: maybeMissing(region),
            device: maybeMissing(device),
          },
          segment: { region, device },
          label,
          probability: p,
        };
      },
    };
  }
  if (model === DELIVERY_ETA.model) {
    return {
      next() {
        const distance_km = round2(Math.exp(normal(1.2, 0.6)) * (drift.distanceFactor ?? 1));
        const items = 1 + Math.round(Math.abs(normal(2, 1.5)));
        const hour = randInt(rng, 24);
        const region = pickWeighted(rng, REGIONS, regionWeights);
        const target = round2(Math.max(3, deliveryEtaTrueMinutes({ distance_km, items, hour, region }, drift.conceptShift ?? 0) + normal(0, 3)));
        return {
          features: { distance_km: maybeMissing(distance_km), items: maybeMissing(items), hour: maybeMissing(hour), region: maybeMissing(region) },
          segment: { region },
          target,
        };
      },
    };
  }
  throw new Error(`no sample feature space for model ${JSON.stringify(model)}; known: ${Object.keys(FEATURE_SPACES).join(', ')}`);
}

/** `n` rows at once (training sets, fixtures). */
export function generateRows(model: string, seed: number, n: number, drift: DriftOptions = {}): SampleRow[] {
  const gen = createFeatureGenerator(model, seed, drift);
  return Array.from({ length: n }, () => gen.next());
}
