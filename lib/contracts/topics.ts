/**
 * Topic names, versioned (`…v1`), and what each topic carries. One table: the contracts, the
 * registry subjects (TopicNameStrategy: `<topic>-value`) and topic creation all read it.
 *
 * Co-partitioning: predictions, outcomes and labeled predictions are keyed by prediction_id and must
 * have the same partition count, so the label-joiner sees a prediction and its outcome in the same
 * partition (the Kafka Streams co-partitioning requirement). The joiner checks this at startup.
 */
import { AlertSchema, FeatureEventSchema, LabeledPredictionSchema, OutcomeEventSchema, PredictionEventSchema, RetrainRequestedSchema } from './schemas.js';

/**
 * Topic suffixes; the full name is `<namespace>.<suffix>`, namespace from DW_TOPIC_NAMESPACE
 * (default `driftwatch`, giving e.g. `driftwatch.predictions.v1`). Namespaces let several
 * environments or test runs share one cluster without touching each other's data.
 */
export const TOPIC_SUFFIXES = {
  features: 'features.v1',
  predictions: 'predictions.v1',
  outcomes: 'outcomes.v1',
  labeledPredictions: 'labeled-predictions.v1',
  retrainRequested: 'retrain-requested.v1',
  alerts: 'alerts.v1',
  deadLetter: 'dead-letter.v1',
  joinChangelog: 'label-joiner-state.v1',
} as const;

export type TopicKey = keyof typeof TOPIC_SUFFIXES;
export type TopicName = string;
export type TopicNames = Readonly<Record<TopicKey, TopicName>>;

export const DEFAULT_TOPIC_NAMESPACE = 'driftwatch';

export function topicNames(namespace: string = DEFAULT_TOPIC_NAMESPACE): TopicNames {
  const out = {} as Record<TopicKey, string>;
  for (const key of Object.keys(TOPIC_SUFFIXES) as TopicKey[]) out[key] = `${namespace}.${TOPIC_SUFFIXES[key]}`;
  return Object.freeze(out);
}

/** The default-namespace names, for documentation and producers that use the defaults. */
export const TOPICS: TopicNames = topicNames();

/** Which topic key a full topic name belongs to (any namespace). */
export function topicKeyOf(topic: string): TopicKey | undefined {
  return (Object.keys(TOPIC_SUFFIXES) as TopicKey[]).find((k) => topic.endsWith(`.${TOPIC_SUFFIXES[k]}`));
}

export type EventSchema =
  | typeof FeatureEventSchema
  | typeof PredictionEventSchema
  | typeof OutcomeEventSchema
  | typeof LabeledPredictionSchema
  | typeof RetrainRequestedSchema
  | typeof AlertSchema;

export interface TopicSpec {
  readonly key: TopicKey;
  /** Avro value schema; null for topics whose values are not a driftwatch event (dead letters, state). */
  readonly schema: EventSchema | null;
  /** Message key, documented for producers. */
  readonly messageKey: string;
  readonly compacted: boolean;
  /** Topics in one co-partition group must have equal partition counts. */
  readonly coPartitionGroup: 'prediction_id' | null;
  readonly doc: string;
}

export const TOPIC_SPECS: Readonly<Record<TopicKey, TopicSpec>> = {
  features: { key: 'features', schema: FeatureEventSchema, messageKey: 'entity_id', compacted: false, coPartitionGroup: null, doc: 'Features to score' },
  predictions: {
    key: 'predictions',
    schema: PredictionEventSchema,
    messageKey: 'prediction_id',
    compacted: false,
    coPartitionGroup: 'prediction_id',
    doc: 'Predictions (served and shadow)',
  },
  outcomes: {
    key: 'outcomes',
    schema: OutcomeEventSchema,
    messageKey: 'prediction_id',
    compacted: false,
    coPartitionGroup: 'prediction_id',
    doc: 'Delayed labels and business outcomes',
  },
  labeledPredictions: {
    key: 'labeledPredictions',
    schema: LabeledPredictionSchema,
    messageKey: 'prediction_id',
    compacted: false,
    coPartitionGroup: 'prediction_id',
    doc: 'Join output: labeled or expired-unlabeled predictions',
  },
  retrainRequested: {
    key: 'retrainRequested',
    schema: RetrainRequestedSchema,
    messageKey: 'model_name',
    compacted: false,
    coPartitionGroup: null,
    doc: 'Retrain events for downstream training pipelines',
  },
  alerts: { key: 'alerts', schema: AlertSchema, messageKey: 'model_name', compacted: false, coPartitionGroup: null, doc: 'Alerts for the alerting path' },
  deadLetter: {
    key: 'deadLetter',
    schema: null,
    messageKey: 'original key',
    compacted: false,
    coPartitionGroup: null,
    doc: 'Original bytes of bad events, with dw-error-* headers',
  },
  joinChangelog: {
    key: 'joinChangelog',
    schema: null,
    messageKey: 'prediction_id',
    compacted: true,
    coPartitionGroup: 'prediction_id',
    doc: 'Compacted changelog of the label-joiner pending state',
  },
};

/** Registry subject for a topic's value schema (Confluent TopicNameStrategy). */
export function subjectFor(topic: TopicName): string {
  return `${topic}-value`;
}

/** Header names on dead-lettered records. */
export const DEAD_LETTER_HEADERS = {
  code: 'dw-error-code',
  reason: 'dw-error-reason',
  sourceTopic: 'dw-source-topic',
  sourcePartition: 'dw-source-partition',
  sourceOffset: 'dw-source-offset',
  failedAt: 'dw-failed-at',
  component: 'dw-component',
} as const;
