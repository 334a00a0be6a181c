/**
 * Encoding and decoding of driftwatch events, with the bad-input classes mapped to typed errors.
 *
 * Accepted encodings, detected by content (per record, so one topic may carry both):
 *  - Confluent wire format: magic byte 0x00, 4-byte big-endian schema id, Avro binary. Decoded with
 *    the writer schema fetched from the registry and resolved to driftwatch's reader schema, so a
 *    producer that adds an optional field does not break consumers (Avro schema resolution).
 *  - Plain JSON following the same contract: first non-blank byte `{`.
 * Anything else is DW_WRONG_MAGIC_BYTE.
 *
 * Validation after decoding (both encodings): required ids present, numbers finite (Avro doubles can
 * carry NaN/Infinity and JSON.parse turns 1e999 into Infinity), event time not further in the future
 * than MAX_FUTURE_SKEW_MS, payload no larger than MAX_PAYLOAD_BYTES.
 *
 * Registry failures are classified: 404 (schema id unknown) is bad input; connection errors and 5xx
 * are DW_REGISTRY_UNAVAILABLE (retriable: the event waits, it is never dead-lettered).
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import {
  ContractViolationError,
  DecodeError,
  FutureTimestampError,
  InvalidJsonError,
  MissingPredictionIdError,
  NonFiniteNumberError,
  PayloadTooLargeError,
  RegistryUnavailableError,
  UnknownSchemaIdError,
  WrongMagicByteError,
  type DriftwatchError,
} from '../runtime/errors.js';
import { TOPIC_SPECS, subjectFor, topicKeyOf, type EventSchema, type TopicKey, type TopicName, type TopicNames } from './topics.js';

type AvroResolver = ReturnType<avro.Type['createResolver']>;

export interface DecodeLimits {
  readonly maxPayloadBytes: number;
  readonly maxFutureSkewMs: number;
}

export type Encoding = 'avro' | 'json';

export interface Decoded<T> {
  readonly value: T;
  readonly encoding: Encoding;
  readonly schemaId: number | null;
}

/** Fields that must hold a non-empty string, per schema name. */
const REQUIRED_IDS: Record<string, readonly string[]> = {
  FeatureEvent: ['event_id', 'model_name', 'entity_id'],
  PredictionEvent: ['event_id', 'prediction_id', 'model_name', 'model_version'],
  OutcomeEvent: ['event_id', 'prediction_id', 'model_name'],
  LabeledPrediction: ['prediction_id', 'model_name', 'model_version'],
  RetrainRequested: ['idempotency_key', 'policy_id', 'model_name'],
  Alert: ['alert_id', 'model_name'],
};

/** Event-time field checked against the future-skew limit, per schema name. */
const EVENT_TIME_FIELD: Record<string, string> = {
  FeatureEvent: 'event_time',
  PredictionEvent: 'event_time',
  OutcomeEvent: 'outcome_time',
  LabeledPrediction: 'prediction_time',
};

const avroTypes = new Map<EventSchema, avro.Type>();
export function avroTypeOf(schema: EventSchema): avro.Type {
  let t = avroTypes.get(schema);
  if (!t) {
    t = avro.Type.forSchema(schema as unknown as avro.Schema);
    avroTypes.set(schema, t);
  }
  return t;
}

const schemaByTopic = new Map<TopicName, EventSchema | null>();
function schemaOf(topic: TopicName): EventSchema {
  let schema = schemaByTopic.get(topic);
  if (schema === undefined) {
    const key = topicKeyOf(topic);
    schema = key ? TOPIC_SPECS[key].schema : null;
    schemaByTopic.set(topic, schema);
  }
  if (!schema) throw new ContractViolationError(`topic ${topic} carries no driftwatch event schema`);
  return schema;
}

/**
 * Validates a decoded value against the contract rules Avro cannot express. Pure; `now` is passed in
 * so tests control the clock.
 */
export function validateEvent(schema: EventSchema, value: Record<string, unknown>, now: number, limits: DecodeLimits): void {
  for (const field of REQUIRED_IDS[schema.name] ?? []) {
    const v = value[field];
    if (typeof v !== 'string' || v.trim() === '') {
      if (field === 'prediction_id') throw new MissingPredictionIdError(`${schema.name}.prediction_id is missing or empty`, { field });
      throw new ContractViolationError(`${schema.name}.${field} is missing or empty`, { field });
    }
  }
  checkFinite(value, schema.name);
  const timeField = EVENT_TIME_FIELD[schema.name];
  if (timeField) {
    const t = value[timeField];
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0)
      throw new ContractViolationError(`${schema.name}.${timeField} must be epoch milliseconds`, { field: timeField });
    if (t > now + limits.maxFutureSkewMs) {
      throw new FutureTimestampError(
        `${schema.name}.${timeField} is ${Math.round((t - now) / 1000)} s in the future (limit ${limits.maxFutureSkewMs / 1000} s)`,
        {
          field: timeField,
          value: t,
        },
      );
    }
  }
}

function checkFinite(value: unknown, path: string): void {
  const bad = findNonFinite(value);
  if (bad) throw new NonFiniteNumberError(`${path}${bad.path} is ${bad.value}; numbers must be finite`, { path: `${path}${bad.path}` });
}

/** The first NaN/Infinity in a value and its path; paths are only built on the way out (hot path). */
function findNonFinite(value: unknown): { path: string; value: number } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path: '', value };
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const obj = value as Record<string, unknown>;
    // for-in allocates no key array; inherited enumerables (avsc record methods) are functions, skipped.
    for (const k in obj) {
      const v = obj[k];
      if (v === null || (typeof v !== 'number' && typeof v !== 'object')) continue;
      const bad = findNonFinite(v);
      if (bad) return { path: `.${k}${bad.path}`, value: bad.value };
    }
  }
  return undefined;
}

/** A field default for one event: the literal itself, or a fresh copy of a map/array default. */
function defaultValue(d: unknown): unknown {
  if (d === null || typeof d !== 'object') return d;
  if (Array.isArray(d) && d.length === 0) return [];
  if (Object.keys(d).length === 0) return {};
  return structuredClone(d);
}

/**
 * Parses a JSON event and checks it against the Avro contract, filling defaults, so that a JSON
 * producer meets exactly the same rules as an Avro producer.
 */
export function parseJsonEvent(schema: EventSchema, bytes: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InvalidJsonError(`not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidJsonError('a JSON event must be an object');
  const obj = parsed as Record<string, unknown>;
  // Missing ids and non-finite numbers get their own codes before the generic contract check.
  for (const field of REQUIRED_IDS[schema.name] ?? []) {
    if (field === 'prediction_id' && (typeof obj[field] !== 'string' || (obj[field] as string).trim() === '')) {
      throw new MissingPredictionIdError(`${schema.name}.prediction_id is missing or empty`, { field });
    }
  }
  checkFinite(obj, schema.name);
  const withDefaults: Record<string, unknown> = {};
  for (const f of schema.fields as ReadonlyArray<{ name: string; default?: unknown }>) {
    withDefaults[f.name] = f.name in obj ? obj[f.name] : 'default' in f ? defaultValue(f.default) : undefined;
  }
  const type = avroTypeOf(schema);
  // isValid without a hook is the fast path; the hook (which builds paths) only runs to explain a failure.
  if (!type.isValid(withDefaults)) {
    const problems: string[] = [];
    type.isValid(withDefaults, { errorHook: (path) => problems.push(path.join('.') || '(root)') });
    throw new ContractViolationError(`${schema.name} JSON does not follow the contract at: ${problems.join(', ')}`, { paths: problems });
  }
  return withDefaults;
}

export interface EventCodec {
  /** Registers every event schema under its topic's subject; returns topic -> schema id. */
  registerAll(): Promise<Map<TopicName, number>>;
  encode(topic: TopicName, value: object): Promise<Buffer>;
  decode<T = Record<string, unknown>>(topic: TopicName, bytes: Buffer | null, now: number): Promise<Decoded<T>>;
  readonly registry: SchemaRegistry;
}

function classifyRegistryError(err: unknown, schemaId: number): DriftwatchError {
  const e = err as { status?: number; message?: string };
  if (e?.status === 404 || /not found/i.test(e?.message ?? '')) {
    return new UnknownSchemaIdError(`schema id ${schemaId} is not known to the registry`, { schemaId });
  }
  return new RegistryUnavailableError(`schema registry unavailable: ${e?.message ?? String(err)}`, { schemaId }, { cause: err });
}

export interface RegistryClientOptions {
  /** Per-request timeout of the registry client (SCHEMA_REGISTRY_TIMEOUT_MS); default 10 s. */
  readonly requestTimeoutMs?: number;
}

/**
 * A mappersmith middleware giving every registry request a timeout (the same as mappersmith's own
 * TimeoutMiddleware, without importing a transitive dependency). Without one, a registry that
 * accepts a request and never answers leaves `decode` pending forever: the consumer's batch never
 * returns, and kafkajs' disconnect waits for it (src/consumer/runner.js `stop`). A timed-out request
 * fails as RegistryUnavailableError, which the stream adapter retries with backoff.
 */
function requestTimeout(ms: number) {
  return () => ({
    prepareRequest(next: () => Promise<{ enhance(extras: { timeout: number }): unknown }>) {
      return next().then((request) => request.enhance({ timeout: ms }));
    },
  });
}

export function createEventCodec(registryUrl: string, limits: DecodeLimits, topics: TopicNames, client: RegistryClientOptions = {}): EventCodec {
  // Retries inside the registry client are short: the stream adapter owns backoff for retriable errors.
  const registry = new SchemaRegistry({
    host: registryUrl,
    retry: { maxRetryTimeInSecs: 2, retries: 2 },
    middlewares: [requestTimeout(client.requestTimeoutMs ?? 10_000) as never],
  });
  const ids = new Map<TopicName, number>();
  // Resolvers from a writer schema (by registry id) to driftwatch's reader schema, built once each.
  // The registry client's own `decode(bytes, { AVRO: { readerSchema } })` rebuilds the reader type
  // and the resolver for every message (@kafkajs/confluent-schema-registry 3.9.0,
  // dist/SchemaRegistry.js `decode`), which cost more CPU than everything else in ingest together.
  const resolvers = new Map<string, AvroResolver | null>();
  // Writer schemas by id, held here too so a cached id costs no promise chain in the registry client.
  const writers = new Map<number, unknown>();

  function readAvro(schema: EventSchema, schemaId: number, writer: unknown, payload: Buffer): Record<string, unknown> {
    const reader = avroTypeOf(schema);
    const key = `${schema.name}:${schemaId}`;
    let resolver = resolvers.get(key);
    if (resolver === undefined) {
      if (!avro.Type.isType(writer)) throw new Error(`schema id ${schemaId} is not an Avro schema`);
      // Avro schema resolution (spec "Schema Resolution"): fields the writer added are skipped, fields
      // it lacks take the reader's default; an incompatible writer throws here (bad input).
      resolver = reader.equals(writer as avro.Type) ? null : reader.createResolver(writer as avro.Type);
      resolvers.set(key, resolver);
    }
    return (resolver ? reader.fromBuffer(payload, resolver) : reader.fromBuffer(payload)) as Record<string, unknown>;
  }

  return {
    registry,
    async registerAll() {
      for (const key of Object.keys(TOPIC_SPECS) as TopicKey[]) {
        const spec = TOPIC_SPECS[key];
        if (!spec.schema) continue;
        const name = topics[key];
        try {
          const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(spec.schema) }, { subject: subjectFor(name) });
          ids.set(name, id);
        } catch (err) {
          const e = err as { status?: number; message?: string };
          if (e?.status === undefined || e.status >= 500 || /ECONN|status 400: connect/i.test(e.message ?? '')) {
            throw new RegistryUnavailableError(`cannot register ${name}: ${e?.message}`, {}, { cause: err });
          }
          // A conflict while another instance registers the same new subject at the same moment (Apicurio's
          // ccompat API answers "A rule named 'COMPATIBILITY' already exists" to the loser of that
          // race): the subject exists a moment later, and the same registration then succeeds.
          // (A 409 for an incompatible schema is not transient and is thrown as it is.)
          if (/already exists/i.test(e.message ?? '') && !/incompatible/i.test(e.message ?? '')) {
            throw new RegistryUnavailableError(`cannot register ${name} yet (concurrent registration): ${e.message}`, { conflict: true }, { cause: err });
          }
          throw err;
        }
      }
      return new Map(ids);
    },
    async encode(topic, value) {
      let id = ids.get(topic);
      if (id === undefined) {
        try {
          id = await registry.getLatestSchemaId(subjectFor(topic));
        } catch (err) {
          throw classifyRegistryError(err, -1);
        }
        ids.set(topic, id);
      }
      return registry.encode(id, value);
    },
    async decode<T>(topic: TopicName, bytes: Buffer | null, now: number): Promise<Decoded<T>> {
      const schema = schemaOf(topic);
      if (!bytes || bytes.length === 0) throw new DecodeError('empty message value');
      if (bytes.length > limits.maxPayloadBytes) {
        throw new PayloadTooLargeError(`payload of ${bytes.length} bytes exceeds MAX_PAYLOAD_BYTES=${limits.maxPayloadBytes}`, { bytes: bytes.length });
      }
      const first = firstNonBlankByte(bytes);
      if (first === 0x7b /* { */) {
        const value = parseJsonEvent(schema, bytes);
        validateEvent(schema, value, now, limits);
        return { value: value as T, encoding: 'json', schemaId: null };
      }
      if (bytes[0] !== 0x00) {
        throw new WrongMagicByteError(`first byte 0x${bytes[0]!.toString(16).padStart(2, '0')} is neither the Confluent magic byte 0x00 nor JSON '{'`);
      }
      if (bytes.length < 5) throw new DecodeError('Confluent frame shorter than 5 bytes');
      const schemaId = bytes.readInt32BE(1);
      let writer: unknown;
      try {
        // Fetching the writer schema separately lets registry outages be told apart from bad bytes.
        // The registry client caches it by id (ids are immutable), so this is one lookup per id.
        writer = writers.get(schemaId) ?? (await registry.getSchema(schemaId));
        writers.set(schemaId, writer);
      } catch (err) {
        throw classifyRegistryError(err, schemaId);
      }
      let value: Record<string, unknown>;
      try {
        value = readAvro(schema, schemaId, writer, bytes.subarray(5));
      } catch (err) {
        throw new DecodeError(`Avro payload does not decode with schema id ${schemaId}: ${(err as Error).message}`, { schemaId });
      }
      // avsc returns record class instances; plain objects serialise and compare predictably.
      const plain = { ...value };
      validateEvent(schema, plain, now, limits);
      return { value: plain as T, encoding: 'avro', schemaId };
    },
  };
}

function firstNonBlankByte(bytes: Buffer): number | undefined {
  for (let i = 0; i < bytes.length && i < 64; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  }
  return bytes[0];
}
