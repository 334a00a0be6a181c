/**
 * Pure pieces of the scoring service: how a FeatureEvent and a model output become a
 * PredictionEvent, how events are grouped per model, and how the fallback chain is configured.
 *
 * Identity rules (docs/scoring.md):
 *  - prediction_id = event.prediction_id ?? event.event_id; the prediction is keyed by it on Kafka, so
 *    it lands in the same partition as its outcome (co-partitioning for the label-joiner).
 *  - event_id = `<feature event_id>:<model_version>` (+ `:shadow`): deterministic, so re-scoring the
 *    same event after a crash yields the same id and downstream dedup (ReplacingMergeTree on
 *    event_id) removes the duplicate; a served and a shadow prediction never share an id.
 *  - event_time = the feature event's time: predictions live in event time, so a replay lands in the
 *    same windows.
 */
import { ConfigInvalidError } from '../../lib/runtime/errors.js';
import type { FeatureEvent, PredictionEvent } from '../../lib/contracts/schemas.js';
import type { ModelOutput } from './tensor-codec.js';

export const FALLBACK_STRATEGIES = ['previous_version', 'default_score'] as const;
export type FallbackStrategy = (typeof FALLBACK_STRATEGIES)[number];

/** model_version of predictions made by the default-score fallback (reserved, never registrable). */
export const DEFAULT_SCORE_VERSION = 'default';

export interface PredictionMeta {
  readonly modelName: string;
  readonly version: string;
  readonly isShadow: boolean;
  readonly fallback: FallbackStrategy | null;
  readonly latencyMs: number;
}

export function predictionIdOf(event: Pick<FeatureEvent, 'event_id' | 'prediction_id'>): string {
  return event.prediction_id ?? event.event_id;
}

export function predictionEventId(featureEventId: string, version: string, isShadow: boolean): string {
  return `${featureEventId}:${version}${isShadow ? ':shadow' : ''}`;
}

export function buildPrediction(event: FeatureEvent, output: ModelOutput, meta: PredictionMeta): PredictionEvent {
  return {
    event_id: predictionEventId(event.event_id, meta.version, meta.isShadow),
    prediction_id: predictionIdOf(event),
    model_name: meta.modelName,
    model_version: meta.version,
    event_time: event.event_time,
    features: event.features,
    score: output.score,
    probabilities: output.probabilities,
    predicted_label: output.label,
    predicted_value: output.value,
    latency_ms: Math.round(meta.latencyMs * 1000) / 1000,
    segment: event.segment ?? {},
    is_shadow: meta.isShadow,
    fallback: meta.fallback,
  };
}

/** Indexes of events per model name, in arrival order (one tensor per model per micro-batch). */
export function groupByModel(events: readonly Pick<FeatureEvent, 'model_name'>[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  events.forEach((e, i) => {
    const list = groups.get(e.model_name);
    if (list) list.push(i);
    else groups.set(e.model_name, [i]);
  });
  return groups;
}

export interface ModelServingConfig {
  readonly fallback: readonly FallbackStrategy[];
  readonly defaultScore?: number;
}

/**
 * Validates the fallback chain setting and the optional `models:` section of the config file:
 *
 *   models:
 *     credit-risk: { fallback: [previous_version, default_score], default_score: 0.3 }
 *
 * Returns the global chain and per-model overrides; every problem is reported at once. Other keys
 * under a model belong to other modules (monitoring, KPIs) and are left to them.
 */
export function parseServingConfig(
  chain: readonly string[],
  section: unknown,
): { fallback: readonly FallbackStrategy[]; models: ReadonlyMap<string, ModelServingConfig> } {
  const problems: string[] = [];
  const checkChain = (list: unknown, at: string): FallbackStrategy[] => {
    if (!Array.isArray(list)) {
      problems.push(`${at}: expected a list of ${FALLBACK_STRATEGIES.join(', ')}`);
      return [];
    }
    for (const s of list)
      if (!FALLBACK_STRATEGIES.includes(s as FallbackStrategy))
        problems.push(`${at}: unknown fallback ${JSON.stringify(s)} (valid: ${FALLBACK_STRATEGIES.join(', ')})`);
    if (new Set(list).size !== list.length) problems.push(`${at}: repeated fallback`);
    return list as FallbackStrategy[];
  };
  const fallback = checkChain([...chain], 'SCORING_FALLBACK');
  const models = new Map<string, ModelServingConfig>();
  if (section !== undefined && section !== null) {
    if (typeof section !== 'object' || Array.isArray(section)) problems.push('models: expected a mapping of model name -> settings');
    else {
      for (const [name, raw] of Object.entries(section as Record<string, unknown>)) {
        if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
          problems.push(`models.${name}: expected a mapping`);
          continue;
        }
        const m = raw as Record<string, unknown>;
        const fb = m.fallback === undefined ? fallback : checkChain(m.fallback, `models.${name}.fallback`);
        const ds = m.default_score;
        if (ds !== undefined && (typeof ds !== 'number' || !Number.isFinite(ds))) problems.push(`models.${name}.default_score: expected a finite number`);
        models.set(name, { fallback: fb, ...(typeof ds === 'number' ? { defaultScore: ds } : {}) });
      }
    }
  }
  if (problems.length > 0) throw new ConfigInvalidError(problems);
  return { fallback, models };
}
