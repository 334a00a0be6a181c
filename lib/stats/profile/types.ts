/**
 * Plain-data shapes of reference profiles and window summaries. Everything here is JSON-serialisable
 * (no Map, no typed arrays, no NaN/Infinity) because summaries are checkpointed to Kafka/ClickHouse.
 */
import type { FeatureKind } from '../drift/types.js';

export type Scalar = number | string | boolean | null | undefined;
export type Row = Readonly<Record<string, Scalar>>;
export type ValueType = 'number' | 'string' | 'boolean';
export type TypeCounts = { number: number; string: number; boolean: number };

export interface ProfileOptions {
  /** Force a kind per feature instead of inferring it (numbers -> numeric, else categorical). */
  readonly kinds?: Readonly<Record<string, FeatureKind>>;
  /** Fine sketch resolution: reference-quantile bins for KS/Wasserstein (default 1000). */
  readonly fineBins?: number;
  /** PSI bins (default 10, deciles). fineBins must be a multiple of psiBins. */
  readonly psiBins?: number;
}

interface FeatureProfileBase {
  readonly name: string;
  readonly kind: FeatureKind;
  /** Most frequent JS type among present, non-null reference values. */
  readonly valueType: ValueType;
  /** Non-missing values. */
  readonly count: number;
  /** null / undefined / NaN values, plus rows where the key is absent. */
  readonly missing: number;
  readonly missingRate: number;
  readonly distinct: number;
}

export interface NumericFeatureProfile extends FeatureProfileBase {
  readonly kind: 'numeric';
  readonly mean: number | null;
  /** Population standard deviation (ddof = 0). */
  readonly std: number | null;
  /** Σ (x − mean)² */
  readonly m2: number;
  readonly min: number | null;
  readonly max: number | null;
  /** Interior fine edges (right-closed bins; outer edges ±∞): reference quantiles j/fineBins plus tail edges, or every distinct value when there are at most fineBins (quantile.ts `sketchEdges`). */
  readonly edges: readonly number[];
  /** Reference counts and per-bin min/max over the fine bins (length edges.length + 1). */
  readonly counts: readonly number[];
  readonly binMin: readonly number[];
  readonly binMax: readonly number[];
  /** PSI edges (reference quantiles i/psiBins), a subset of `edges`, and the counts over them. */
  readonly psiEdges: readonly number[];
  readonly psiCounts: readonly number[];
}

export interface CategoricalFeatureProfile extends FeatureProfileBase {
  readonly kind: 'categorical';
  /** Sorted category labels (booleans as 'true'/'false', numbers as String(x)). */
  readonly categories: readonly string[];
  readonly counts: readonly number[];
  readonly frequencies: readonly number[];
}

export type FeatureProfile = NumericFeatureProfile | CategoricalFeatureProfile;

export interface ReferenceProfile {
  readonly version: 1;
  /** FNV-1a hash of the profile content; summaries carry it so merges never mix profiles. */
  readonly id: string;
  readonly rowCount: number;
  readonly fineBins: number;
  readonly psiBins: number;
  readonly featureOrder: readonly string[];
  readonly features: Readonly<Record<string, FeatureProfile>>;
}

export interface NumericFeatureSummary {
  kind: 'numeric';
  /** The profile's fine edges (shared, never mutated). */
  readonly edges: readonly number[];
  counts: number[];
  binMin: number[];
  binMax: number[];
  /** Finite numeric values. */
  count: number;
  /** null / undefined / NaN / ±Infinity. */
  missing: number;
  /** Present values of another JS type (a string in a numeric column); excluded from statistics. */
  typeMismatch: number;
  types: TypeCounts;
  /** Exact Σx and Σx² as canonical float expansions (see ../exactsum.ts): Σx² = sumSq + sumSqErr, where sumSq sums the rounded squares and sumSqErr their exact rounding errors. */
  sum: number[];
  sumSq: number[];
  sumSqErr: number[];
  min: number | null;
  max: number | null;
}

export interface CategoricalFeatureSummary {
  kind: 'categorical';
  readonly categories: readonly string[];
  counts: number[];
  /** Current-window categories absent from the reference (sorted keys, at most maxUnseen). */
  unseen: Record<string, number>;
  unseenCount: number;
  /** Unseen values not itemised because `unseen` was full. */
  unseenOverflow: number;
  count: number;
  missing: number;
  types: TypeCounts;
}

export type FeatureSummary = NumericFeatureSummary | CategoricalFeatureSummary;

export interface WindowSummary {
  version: 1;
  profileId: string;
  rowCount: number;
  maxUnseen: number;
  features: Record<string, FeatureSummary>;
  /** Features present in rows but not in the profile -> number of rows carrying them (sorted keys). */
  newFeatures: Record<string, number>;
}
