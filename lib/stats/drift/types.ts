/**
 * Types shared by every two-sample drift method (one file per method under ./methods, listed in
 * ./registry.ts). A method is a pure function from a `MethodInput` to a `MethodComputation`; the
 * registry wrapper (`runMethod`) adds the threshold, the decision and the bookkeeping so every
 * result explains itself (method, score, p-value, threshold used, sample sizes).
 */
import type { KsMethod } from '../special/ks2samp.js';

export type FeatureKind = 'numeric' | 'categorical';

/** 'p_value': drift when p < threshold. 'distance': drift when score >= threshold (Evidently). */
export type ThresholdType = 'p_value' | 'distance';

/** Where a statistic is computed. Only 'typescript' exists today; 'clickhouse' is reserved for SQL. */
export type EngineId = 'typescript' | 'clickhouse';

export const METHOD_IDS = [
  'psi',
  'ks',
  'wasserstein',
  'wasserstein_raw',
  'jensenshannon',
  'jensenshannon_base2',
  'jensenshannon_divergence_base2',
  'chisquare_gof',
  'chisquare_contingency',
  'linf',
  'hellinger',
] as const;
export type MethodId = (typeof METHOD_IDS)[number];

/** Raw numeric samples. Non-finite entries (NaN) are missing values. */
export interface NumericSamplesInput {
  readonly type: 'samples';
  readonly ref: ArrayLike<number>;
  readonly cur: ArrayLike<number>;
}

/** One side of a histogram over shared right-closed bins (see quantile.ts `binIndex`). */
export interface BinnedSide {
  /** counts[i] for bin i; length edges.length + 1. */
  readonly counts: readonly number[];
  /** Smallest / largest value seen in bin i (0 when the bin is empty). */
  readonly binMin: readonly number[];
  readonly binMax: readonly number[];
  /** Missing values (null / NaN), kept out of the bins. */
  readonly missing: number;
}

export interface HistogramInput {
  readonly type: 'histogram';
  readonly edges: readonly number[];
  readonly ref: BinnedSide;
  readonly cur: BinnedSide;
  /** Exact population std of the reference (from the profile); Wasserstein normalisation. */
  readonly refStd?: number;
}

export interface CategoricalInput {
  readonly type: 'categorical';
  readonly ref: Readonly<Record<string, number>>;
  readonly cur: Readonly<Record<string, number>>;
  readonly refMissing?: number;
  readonly curMissing?: number;
}

export type MethodInput = NumericSamplesInput | HistogramInput | CategoricalInput;
export type InputType = MethodInput['type'];

export interface MethodOptions {
  /** PSI: share used for empty bins (default 1e-4, Evidently). */
  readonly epsilon?: number;
  /** PSI on raw samples: number of reference-quantile bins (default 10). */
  readonly bins?: number;
  /** KS: scipy `method` (default 'auto'). */
  readonly ksMode?: KsMethod;
  /** chisquare_gof: what a category absent from the reference does (default 'exclude'). */
  readonly unseenPolicy?: 'exclude' | 'drift';
}

export type ExtraValue = number | string | boolean | null;

export interface MethodComputation {
  readonly score: number | null;
  readonly pValue: number | null;
  readonly nRef: number;
  readonly nCur: number;
  /** false when computed from a binned summary where the exact statistic needs raw samples. */
  readonly exact: boolean;
  readonly extras: Readonly<Record<string, ExtraValue>>;
  /** Drift regardless of the threshold (chisquare_gof with unseenPolicy 'drift'). */
  readonly forceDrift?: boolean;
}

export type MethodImpl = (input: MethodInput, options: MethodOptions) => MethodComputation;

export interface DriftMethod {
  readonly id: MethodId;
  readonly displayName: string;
  readonly kinds: readonly FeatureKind[];
  readonly inputs: readonly InputType[];
  /**
   * Threshold used when the caller gives none. `null` for a statistic in feature units
   * (`wasserstein_raw`): no value fits every feature, so the caller must set one, and runMethod
   * throws ConfigInvalidError without it (the monitoring config checks this at startup).
   */
  readonly defaultThreshold: number | null;
  readonly thresholdType: ThresholdType;
  /** Convention in one line (distance vs divergence, log base, binning). */
  readonly convention: string;
  readonly reference: string;
  readonly engines: { readonly typescript: MethodImpl } & Partial<Record<Exclude<EngineId, 'typescript'>, MethodImpl>>;
}

export type DriftStatus = 'ok' | 'insufficient_data';

/** A JSON-serialisable drift result (no NaN / Infinity: those become null). */
export interface DriftResult {
  readonly method: MethodId;
  readonly displayName: string;
  readonly engine: EngineId;
  readonly status: DriftStatus;
  readonly score: number | null;
  readonly pValue: number | null;
  readonly threshold: number;
  readonly thresholdType: ThresholdType;
  readonly drift: boolean;
  readonly nRef: number;
  readonly nCur: number;
  readonly exact: boolean;
  readonly extras: Readonly<Record<string, ExtraValue>>;
}
