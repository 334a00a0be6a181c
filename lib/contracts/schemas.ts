/**
 * Event contracts: every Avro schema driftwatch reads or writes, defined once.
 *
 * - TS types derive from these literals (`AvroDecoded<typeof X>`), so code and wire format cannot
 *   drift apart.
 * - Evolution rule (BACKWARD, as the registry checks it): new fields must be optional with a default;
 *   renames use `aliases`. Consumers decode with the writer schema named by the schema id, so a
 *   producer that adds an optional field never breaks them.
 * - Times are epoch milliseconds (`long`, logicalType timestamp-millis) in event time.
 * - Feature values fit any model: a map from feature name to null | double | string | boolean.
 */
import type { AvroDecoded, AvroValue } from './avro-types.js';

const NAMESPACE = 'io.driftwatch.events.v1';

/** Feature value union; `null` marks a missing value (counted in missing-rate metrics). */
const FEATURE_VALUE = ['null', 'double', 'string', 'boolean'] as const;

const featuresField = {
  name: 'features',
  type: { type: 'map', values: FEATURE_VALUE },
  doc: 'Feature name -> value. null = missing. Numbers are double, categories are strings, flags are boolean.',
} as const;

const segmentField = {
  name: 'segment',
  type: { type: 'map', values: 'string' },
  default: {},
  doc: 'Segment attributes (e.g. region, device) used as slice keys for drift and performance.',
} as const;

export const FeatureEventSchema = {
  type: 'record',
  name: 'FeatureEvent',
  namespace: NAMESPACE,
  doc: 'Features of one entity to be scored by a model. Consumed by the scoring service.',
  fields: [
    { name: 'event_id', type: 'string', doc: 'Unique id of this event; the dedup key.' },
    { name: 'model_name', type: 'string', doc: 'Model that should score these features.' },
    { name: 'entity_id', type: 'string', doc: 'Business entity (user, transaction ...).' },
    { name: 'prediction_id', type: ['null', 'string'], default: null, doc: 'Id to give the resulting prediction; defaults to event_id.' },
    { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'Event time, epoch ms.' },
    featuresField,
    segmentField,
  ],
} as const;

export const PredictionEventSchema = {
  type: 'record',
  name: 'PredictionEvent',
  namespace: NAMESPACE,
  doc: 'One prediction served (or shadow-scored) by a model. Keyed by prediction_id, co-partitioned with outcomes.',
  fields: [
    { name: 'event_id', type: 'string', doc: 'Unique id of this event; the dedup key.' },
    { name: 'prediction_id', type: 'string', doc: 'Join key with OutcomeEvent.prediction_id; also the message key.' },
    { name: 'model_name', type: 'string', doc: 'Name of the model that scored, as registered with driftwatch.' },
    { name: 'model_version', type: 'string', doc: 'Version of that model (served, or the challenger when is_shadow).' },
    { name: 'event_time', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When the prediction was made (event time), epoch ms.' },
    featuresField,
    { name: 'score', type: ['null', 'double'], default: null, doc: 'Positive-class probability (binary) or the regression output.' },
    { name: 'probabilities', type: { type: 'map', values: 'double' }, default: {}, doc: 'Class -> probability, for classifiers.' },
    { name: 'predicted_label', type: ['null', 'string'], default: null, doc: 'Predicted class, for classifiers.' },
    { name: 'predicted_value', type: ['null', 'double'], default: null, doc: 'Predicted value, for regressors.' },
    { name: 'latency_ms', type: ['null', 'double'], default: null, doc: 'Scoring latency.' },
    segmentField,
    { name: 'is_shadow', type: 'boolean', default: false, doc: 'true: a challenger scored in shadow; not served.' },
    { name: 'fallback', type: ['null', 'string'], default: null, doc: 'Set when a fallback produced this prediction: previous_version | default_score.' },
  ],
} as const;

export const OutcomeEventSchema = {
  type: 'record',
  name: 'OutcomeEvent',
  namespace: NAMESPACE,
  doc: 'The ground truth (label) for a prediction, arriving minutes to days later. Keyed by prediction_id.',
  fields: [
    { name: 'event_id', type: 'string', doc: 'Unique id of this event; the dedup key.' },
    { name: 'prediction_id', type: 'string', doc: 'The prediction this outcome labels; also the message key.' },
    { name: 'model_name', type: 'string', doc: 'Model of that prediction.' },
    { name: 'outcome_time', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When the outcome became known, epoch ms.' },
    { name: 'label', type: ['null', 'string'], default: null, doc: 'True class, for classifiers.' },
    { name: 'target_value', type: ['null', 'double'], default: null, doc: 'True value, for regressors.' },
    { name: 'business', type: { type: 'map', values: 'double' }, default: {}, doc: 'Business outcome fields, e.g. revenue, converted (0/1).' },
  ],
} as const;

export const LABEL_STATUS = { LABELED: 'LABELED', UNLABELED: 'UNLABELED' } as const;

export const LabeledPredictionSchema = {
  type: 'record',
  name: 'LabeledPrediction',
  namespace: NAMESPACE,
  doc: 'A prediction joined with its outcome, or emitted UNLABELED when the label delay expired.',
  fields: [
    { name: 'prediction_id', type: 'string', doc: 'PredictionEvent.prediction_id; also the message key.' },
    { name: 'model_name', type: 'string', doc: 'PredictionEvent.model_name.' },
    { name: 'model_version', type: 'string', doc: 'PredictionEvent.model_version (the challenger version when is_shadow).' },
    { name: 'prediction_time', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'PredictionEvent.event_time: windows are assigned by it.' },
    featuresField,
    { name: 'score', type: ['null', 'double'], default: null, doc: 'Copied from the prediction.' },
    { name: 'probabilities', type: { type: 'map', values: 'double' }, default: {}, doc: 'Copied from the prediction.' },
    { name: 'predicted_label', type: ['null', 'string'], default: null, doc: 'Copied from the prediction.' },
    { name: 'predicted_value', type: ['null', 'double'], default: null, doc: 'Copied from the prediction.' },
    segmentField,
    {
      name: 'is_shadow',
      type: 'boolean',
      default: false,
      doc: 'PredictionEvent.is_shadow; part of the dedup key (model_name, model_version, is_shadow, prediction_id).',
    },
    {
      name: 'status',
      type: {
        type: 'enum',
        name: 'LabelStatus',
        doc: 'Whether the prediction was joined with an outcome.',
        symbols: [LABEL_STATUS.LABELED, LABEL_STATUS.UNLABELED],
      },
      doc: 'LABELED: joined with its outcome; UNLABELED: the label delay expired first.',
    },
    { name: 'label', type: ['null', 'string'], default: null, doc: 'OutcomeEvent.label; null when UNLABELED.' },
    { name: 'target_value', type: ['null', 'double'], default: null, doc: 'OutcomeEvent.target_value; null when UNLABELED.' },
    { name: 'outcome_time', type: ['null', 'long'], default: null, doc: 'OutcomeEvent.outcome_time, epoch ms; null when UNLABELED.' },
    { name: 'label_delay_ms', type: ['null', 'long'], default: null, doc: 'outcome_time - prediction_time.' },
    { name: 'business', type: { type: 'map', values: 'double' }, default: {}, doc: 'OutcomeEvent.business.' },
    { name: 'outcome_event_id', type: ['null', 'string'], default: null, doc: 'OutcomeEvent.event_id of the joined outcome.' },
    {
      name: 'join_watermark',
      type: ['null', 'long'],
      default: null,
      doc:
        "The label-joiner partition's event-time watermark when it emitted this record, capped at the prediction's label deadline " +
        '(prediction_time + max label delay), epoch ms; null: it had no watermark yet. Consumers use it as the progress time: ' +
        'no record the joiner emits later belongs to a prediction whose deadline is at or before it.',
    },
  ],
} as const;

export const RetrainRequestedSchema = {
  type: 'record',
  name: 'RetrainRequested',
  namespace: NAMESPACE,
  doc: 'A retrain policy fired for a model. Exactly one per episode; dedup on idempotency_key.',
  fields: [
    { name: 'idempotency_key', type: 'string', doc: 'Stable per (policy, model, version, episode); downstream dedups on it.' },
    { name: 'policy_id', type: 'string', doc: 'Id of the retrain policy that fired (policies file or API).' },
    { name: 'model_name', type: 'string', doc: 'The monitored model the policy fired for; also the message key.' },
    { name: 'model_version', type: 'string', doc: 'The monitored version of that model (the one to retrain from).' },
    { name: 'created_at', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When the trigger decided, epoch ms (wall clock).' },
    {
      name: 'conditions',
      doc: 'The conditions that held, with their evidence.',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'TriggerCondition',
          doc: 'One policy condition that held, and the measurement that made it hold.',
          fields: [
            { name: 'kind', type: 'string', doc: 'drift | performance | kpi | schedule | min_labels' },
            {
              name: 'metric',
              type: 'string',
              doc: 'What was measured, e.g. features_at_or_above_critical, realized.roc_auc, kpi.conversion_rate.relative_drop (docs/retrain-events.md).',
            },
            { name: 'value', type: ['null', 'double'], default: null, doc: 'The measured value; null when the window had none.' },
            { name: 'threshold', type: ['null', 'double'], default: null, doc: 'The threshold the value was compared with.' },
            { name: 'comparator', type: 'string', doc: 'gte | lte | gt | lt: the comparison (value <comparator> threshold) that held.' },
            {
              name: 'window_start',
              type: ['null', 'long'],
              default: null,
              doc: "Evidence span start, epoch ms: the first window of the condition's run of holding windows.",
            },
            { name: 'window_end', type: ['null', 'long'], default: null, doc: 'Evidence span end, epoch ms: the end of the window the policy fired on.' },
          ],
        },
      },
    },
    {
      name: 'drifted_features',
      type: { type: 'array', items: 'string' },
      default: [],
      doc: "Features at or above the drift severity over the run (from the contributing drift conditions), else the firing window's drifted features.",
    },
    { name: 'training_range_start', type: 'long', doc: 'Recommended training data range start, epoch ms.' },
    { name: 'training_range_end', type: 'long', doc: 'Recommended training data range end, epoch ms.' },
    { name: 'reason', type: 'string', doc: 'Human-readable summary.' },
  ],
} as const;

export const ALERT_SEVERITY = { INFO: 'INFO', WARNING: 'WARNING', CRITICAL: 'CRITICAL' } as const;
export const ALERT_STATUS = { FIRING: 'FIRING', RESOLVED: 'RESOLVED' } as const;

export const AlertSchema = {
  type: 'record',
  name: 'Alert',
  namespace: NAMESPACE,
  doc: 'An alert raised by the same evaluation that decides retrains, for the alerting path.',
  fields: [
    { name: 'alert_id', type: 'string', doc: 'Incident id, stable per (policy, model, version, condition, incident start): FIRING and its RESOLVED share it.' },
    { name: 'model_name', type: 'string', doc: 'The monitored model; also the message key.' },
    { name: 'model_version', type: 'string', doc: 'The monitored version of that model.' },
    { name: 'rule', type: 'string', doc: 'Which rule or policy condition raised it: <policy id>/<condition id>.' },
    {
      name: 'severity',
      type: {
        type: 'enum',
        name: 'AlertSeverity',
        doc: 'Alert severity levels.',
        symbols: [ALERT_SEVERITY.INFO, ALERT_SEVERITY.WARNING, ALERT_SEVERITY.CRITICAL],
      },
      doc: "The policy's alert_severity (default WARNING).",
    },
    {
      name: 'status',
      type: { type: 'enum', name: 'AlertStatus', doc: 'Alert lifecycle states.', symbols: [ALERT_STATUS.FIRING, ALERT_STATUS.RESOLVED] },
      doc: 'FIRING: the condition started to hold; RESOLVED: it stopped holding (or the policy redefined it).',
    },
    { name: 'metric', type: 'string', doc: "What was measured (as TriggerCondition.metric); the condition's kind when a policy reload closed the incident." },
    { name: 'value', type: ['null', 'double'], default: null, doc: 'The measured value; null when there was none.' },
    {
      name: 'threshold',
      type: ['null', 'double'],
      default: null,
      doc: 'The threshold the value was compared with; null when a policy reload closed the incident.',
    },
    {
      name: 'window_start',
      type: ['null', 'long'],
      default: null,
      doc: 'Start of the evidence, epoch ms: the first window of the run (FIRING) or the evaluated window (RESOLVED).',
    },
    { name: 'window_end', type: ['null', 'long'], default: null, doc: 'End of the evaluated window, epoch ms.' },
    { name: 'message', type: 'string', doc: 'Human-readable summary.' },
    { name: 'created_at', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'When the trigger raised it, epoch ms (wall clock).' },
  ],
} as const;

/** One feature value, derived from the Avro union above: null (missing) | number | string | boolean. */
export type FeatureValue = AvroValue<typeof FEATURE_VALUE>;
export type FeatureEvent = AvroDecoded<typeof FeatureEventSchema>;
export type PredictionEvent = AvroDecoded<typeof PredictionEventSchema>;
export type OutcomeEvent = AvroDecoded<typeof OutcomeEventSchema>;
export type LabeledPrediction = AvroDecoded<typeof LabeledPredictionSchema>;
export type RetrainRequested = AvroDecoded<typeof RetrainRequestedSchema>;
export type Alert = AvroDecoded<typeof AlertSchema>;
