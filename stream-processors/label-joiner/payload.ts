/**
 * Compact in-memory form of what the join holds per waiting event.
 *
 * The pending state is the join's memory cost (target: a million pending predictions within a 1 GiB
 * heap). A decoded PredictionEvent is a tree of JS objects (a features object with boxed doubles, a
 * probabilities object, a segment object ...), several hundred bytes of headers and pointers
 * before any data. Instead the join keeps each waiting event as Avro binary (avsc, schemaless: the
 * schema is this module's, never persisted) held in a one-byte ("latin1") JS string: V8 stores such
 * a string as a 16-byte header plus one byte per byte, and strings are not pooled like small Buffers
 * (a Buffer slice of Node's 8 KiB pool would keep the whole pool alive).
 *
 * Only the fields a LabeledPrediction needs are kept. prediction_id is the state key; model_name,
 * model_version and is_shadow are the interned variant (core.ts); event_time is the slot time; so
 * the payload holds features, score, probabilities, predicted_label, predicted_value and segment.
 *
 * This encoding never leaves the process: the changelog (changelog.ts) stores JSON, which survives
 * schema evolution of the contracts.
 */
import avro from 'avsc';
import { OutcomeEventSchema, PredictionEventSchema, type OutcomeEvent, type PredictionEvent } from '../../lib/contracts/schemas.js';

const PENDING_FIELDS = new Set(['features', 'score', 'probabilities', 'predicted_label', 'predicted_value', 'segment']);

/** The PredictionEvent fields the payload keeps, with their contract types (one definition). */
const PendingPayloadSchema = {
  type: 'record',
  name: 'PendingPrediction',
  namespace: 'io.driftwatch.internal.labeljoiner',
  fields: PredictionEventSchema.fields.filter((f) => PENDING_FIELDS.has(f.name)),
};

export type PendingFields = Pick<PredictionEvent, 'features' | 'score' | 'probabilities' | 'predicted_label' | 'predicted_value' | 'segment'>;

const pendingType = avro.Type.forSchema(PendingPayloadSchema as unknown as avro.Schema);
const outcomeType = avro.Type.forSchema(OutcomeEventSchema as unknown as avro.Schema);

export function encodePending(p: PendingFields): string {
  return pendingType.toBuffer(pickPending(p)).toString('latin1');
}

export function decodePending(s: string): PendingFields {
  // avsc returns record-class instances; spread into a plain object for predictable equality.
  return { ...(pendingType.fromBuffer(Buffer.from(s, 'latin1')) as PendingFields) };
}

export function pickPending(p: PendingFields): PendingFields {
  return {
    features: p.features,
    score: p.score ?? null,
    probabilities: p.probabilities ?? {},
    predicted_label: p.predicted_label ?? null,
    predicted_value: p.predicted_value ?? null,
    segment: p.segment ?? {},
  };
}

export function encodeOutcome(o: OutcomeEvent): string {
  return outcomeType.toBuffer(o).toString('latin1');
}

export function decodeOutcome(s: string): OutcomeEvent {
  return { ...(outcomeType.fromBuffer(Buffer.from(s, 'latin1')) as OutcomeEvent) };
}
