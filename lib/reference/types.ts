/**
 * The stored reference profile of one model version: what drift, data quality, CBPE and KPI
 * baselines are measured against. Stored as JSON in ClickHouse `reference_profiles.profile`
 * (migration 030), one row per (model, version, profile_version); the highest profile_version is the
 * current one.
 */
import type { Calibration } from '../performance/calibration.js';
import type { ReferenceProfile } from '../stats/profile/types.js';

/** The pseudo-feature carrying the prediction / score distribution in drift rows. */
export const PREDICTION_FEATURE = '__prediction__';

export type ModelTask = 'binary' | 'multiclass' | 'regression' | 'unknown';

export interface KpiBaseline {
  /** The expression text the baseline was computed with; a KPI whose expression changed has no baseline. */
  readonly expression: string;
  readonly aggregation: string;
  readonly denominator: string | null;
  readonly value: number | null;
  readonly n: number;
}

export interface StoredProfile {
  readonly format: 1;
  readonly model: string;
  readonly version: string;
  readonly source: string;
  readonly createdAt: number;
  readonly rowCount: number;
  readonly task: ModelTask;
  readonly positiveLabel: string;
  /** Drift profile of the feature columns (lib/stats buildReferenceProfile). */
  readonly features: ReferenceProfile;
  /** Drift profile of the single column '__prediction__' (score, predicted value or label); null when no prediction was present. */
  readonly prediction: ReferenceProfile | null;
  /** CBPE calibration fitted on reference labels (binary models with scores and labels). */
  readonly calibration: Calibration | null;
  /** Reference value of each configured KPI that could be computed from the reference rows. */
  readonly kpiBaselines: Readonly<Record<string, KpiBaseline>>;
  /** Realized performance on the reference rows (metric -> value), for context on dashboards. */
  readonly referencePerformance: Readonly<Record<string, number | null>>;
}

/** A profile as the processor uses it: the stored JSON plus its identity. */
export interface ProfileEntry extends StoredProfile {
  readonly profileVersion: number;
}
