/**
 * Poison records, one per bad-input class the decoders know (lib/contracts/codec.ts), each with the
 * error code its dead letter must carry in the `dw-error-code` header. Keys are `poison-<class>-<n>`
 * so a dead letter (which keeps the record's key) names the record it came from. (The dead-letter
 * topic is read by verify.ts `readDeadLetters`.)
 */
import type { EventCodec } from '../../../lib/contracts/codec.js';
import type { OutcomeEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import type { TopicNames } from '../../../lib/contracts/topics.js';
import type { OutboundRecord } from '../../../lib/runtime/kafka.js';
import { MODEL, VERSION } from './workload.js';

export const POISON_CLASSES = {
  undecodable: 'DW_DECODE_FAILED',
  unknownSchemaId: 'DW_UNKNOWN_SCHEMA_ID',
  wrongMagicByte: 'DW_WRONG_MAGIC_BYTE',
  invalidJson: 'DW_INVALID_JSON',
  contractViolation: 'DW_CONTRACT_VIOLATION',
  missingPredictionId: 'DW_MISSING_PREDICTION_ID',
  nonFinite: 'DW_NON_FINITE_NUMBER',
  farFuture: 'DW_FUTURE_TIMESTAMP',
  oversized: 'DW_PAYLOAD_TOO_LARGE',
} as const;
export type PoisonClass = keyof typeof POISON_CLASSES;

export interface PoisonRecord extends OutboundRecord {
  readonly key: string;
  readonly class: PoisonClass;
  readonly code: string;
  readonly stream: 'predictions' | 'outcomes';
}

/** A Confluent frame: magic byte 0, big-endian schema id, payload. */
function frame(schemaId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeInt32BE(schemaId, 1);
  return Buffer.concat([head, payload]);
}

/**
 * The n-th poison record, valid in every way but its defect. Classes rotate; each full rotation
 * switches topic (predictions, outcomes, predictions ...), and the contract-violation class switches
 * encoding every two rotations (JSON, JSON, Avro, Avro ...), so both streams get both variants.
 */
export async function poisonRecord(
  n: number,
  codec: EventCodec,
  topics: TopicNames,
  schemaIds: ReadonlyMap<string, number>,
  t: number,
  maxPayloadBytes: number,
): Promise<PoisonRecord> {
  const classes = Object.keys(POISON_CLASSES) as PoisonClass[];
  const cls = classes[n % classes.length]!;
  const rotation = Math.floor(n / classes.length);
  const stream: 'predictions' | 'outcomes' = rotation % 2 === 0 ? 'predictions' : 'outcomes';
  const topic = topics[stream];
  const key = `poison-${cls}-${n}`;
  const prediction: PredictionEvent = {
    event_id: `e-${key}`,
    prediction_id: key,
    model_name: MODEL,
    model_version: VERSION,
    event_time: t,
    features: { x1: 0.1, c1: 'a' },
    score: 0.5,
    probabilities: {},
    predicted_label: '1',
    predicted_value: null,
    latency_ms: 1,
    segment: { region: 'north' },
    is_shadow: false,
    fallback: null,
  };
  const outcome: OutcomeEvent = { event_id: `o-${key}`, prediction_id: key, model_name: MODEL, outcome_time: t, label: '1', target_value: null, business: {} };
  const good: Record<string, unknown> = stream === 'predictions' ? { ...prediction } : { ...outcome };
  const timeField = stream === 'predictions' ? 'event_time' : 'outcome_time';
  let value: Buffer;
  switch (cls) {
    case 'undecodable':
      value = frame(schemaIds.get(topic)!, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]));
      break;
    case 'unknownSchemaId':
      value = frame(2_000_000_000 + n, await codec.encode(topic, good).then((b) => b.subarray(5)));
      break;
    case 'wrongMagicByte':
      value = Buffer.concat([Buffer.from([0x07]), (await codec.encode(topic, good)).subarray(1)]);
      break;
    case 'invalidJson':
      value = Buffer.from(`{"event_id": "e-${key}", "prediction_id": `);
      break;
    case 'contractViolation':
      // Well-formed input that breaks the event contract. JSON: the event time as an ISO string
      // where epoch milliseconds are required (a producer serialising a Date), which the Avro type
      // check of parseJsonEvent refuses. Avro: an empty model_name, which the wire format carries
      // fine and only validateEvent's required-id rule refuses.
      value =
        Math.floor(rotation / 2) % 2 === 0
          ? Buffer.from(JSON.stringify({ ...good, [timeField]: new Date(t).toISOString() }))
          : await codec.encode(topic, { ...good, model_name: '' });
      break;
    case 'missingPredictionId':
      value = Buffer.from(JSON.stringify({ ...good, prediction_id: '' }));
      break;
    case 'nonFinite':
      // Avro carries IEEE doubles, NaN included (JSON cannot spell it).
      value = await codec.encode(
        topic,
        stream === 'predictions' ? { ...prediction, score: Number.NaN } : { ...outcome, target_value: Number.POSITIVE_INFINITY },
      );
      break;
    case 'farFuture':
      value = await codec.encode(topic, { ...good, [timeField]: Date.now() + 30 * 86_400_000 });
      break;
    case 'oversized':
      value = Buffer.from(
        JSON.stringify(
          stream === 'predictions'
            ? { ...prediction, features: { ...prediction.features, blob: 'x'.repeat(maxPayloadBytes + 1024) } }
            : { ...outcome, label: 'x'.repeat(maxPayloadBytes + 1024) },
        ),
      );
      break;
  }
  return { topic, key, value, class: cls, code: POISON_CLASSES[cls], stream };
}
