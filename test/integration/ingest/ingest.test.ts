/**
 * Ingest against the real stack: Kafka broker, Apicurio registry (Confluent API), ClickHouse engine
 * (embedded chdb). One ingest instance runs for the file; each test uses its own model name so the
 * counts it checks are its own.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import { PredictionEventSchema } from '../../../lib/contracts/schemas.js';
import { DEAD_LETTER_HEADERS, subjectFor, topicNames } from '../../../lib/contracts/topics.js';
import type { KafkaAdapter, OutboundRecord, Producer } from '../../../lib/runtime/kafka.js';
import { startIngest, type RunningIngest } from '../../../stream-processors/ingest/main.js';
import { TABLE_COLUMNS } from '../../../stream-processors/ingest/core.js';
import { embeddedClickHouse, queryRows, stackEnv, testConfig, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { countFinal, countPhysical, counterValue, feature, ingestRuntime, outcome, prediction, readTopic } from './support.js';

const ns = uniqueName('it-ingest');
const topics = topicNames(ns);
const MAX_PAYLOAD_BYTES = 8192;
const cfg = testConfig({ DW_TOPIC_NAMESPACE: ns, MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES), INGEST_BATCH_MAX_WAIT_MS: '200' });
let t: TestClickHouse;
let rt: ReturnType<typeof ingestRuntime>;
let kafka: KafkaAdapter;
let ingest: RunningIngest;
let codec: EventCodec;
let producer: Producer;

beforeAll(async () => {
  t = await embeddedClickHouse();
  rt = ingestRuntime(cfg, t.ch);
  kafka = rt.kafkaAdapter;
  ingest = await startIngest(rt, { lagIntervalMs: 0 });
  await ingest.joined;
  codec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: MAX_PAYLOAD_BYTES, maxFutureSkewMs: cfg.settings.MAX_FUTURE_SKEW_MS }, topics);
  producer = await kafka.producer();
});

afterAll(async () => {
  await ingest?.stop();
  await producer?.disconnect();
  await kafka?.disconnect();
  await t?.close();
});

describe('ingest into ClickHouse', () => {
  it('writes every column of the migrated tables, and only those (TABLE_COLUMNS matches migrations 001 and 010)', async () => {
    for (const [table, columns] of Object.entries(TABLE_COLUMNS)) {
      const rows = await queryRows<{ name: string }>(
        t.ch,
        'SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position',
        { t: table },
      );
      expect(
        rows.map((r) => r.name),
        table,
      ).toEqual([...columns]);
    }
  });

  it('lands Avro and JSON predictions, outcomes and features with typed feature maps', async () => {
    const m = 'm-land';
    const avroPred = prediction('p-avro', m, {
      features: { income: 52000.5, region: 'north', has_card: true, age: null },
      is_shadow: true,
      fallback: 'previous_version',
    });
    const jsonPred = { ...prediction('p-json', m), score: 0.1 } as Record<string, unknown>;
    delete jsonPred.probabilities; // defaulted fields may be omitted in JSON
    delete jsonPred.segment;
    await producer.send([
      { topic: topics.predictions, key: 'p-avro', value: await codec.encode(topics.predictions, avroPred) },
      { topic: topics.predictions, key: 'p-json', value: JSON.stringify(jsonPred) },
      { topic: topics.outcomes, key: 'p-avro', value: await codec.encode(topics.outcomes, outcome('p-avro', m)) },
      { topic: topics.outcomes, key: 'p-json', value: JSON.stringify(outcome('p-json', m, { label: null, target_value: 3.5 })) },
      { topic: topics.features, key: 'entity-f1', value: await codec.encode(topics.features, feature('f1', m)) },
      { topic: topics.features, key: 'entity-f2', value: JSON.stringify(feature('f2', m, { prediction_id: 'p-77' })) },
    ]);

    await waitFor(
      'two rows in each raw table',
      async () =>
        (await countFinal(t.ch, 'raw_predictions', m)) === 2 &&
        (await countFinal(t.ch, 'raw_outcomes', m)) === 2 &&
        (await countFinal(t.ch, 'raw_features', m)) === 2,
      30_000,
    );

    const preds = await queryRows<Record<string, unknown>>(
      t.ch,
      `SELECT prediction_id, event_time, num_features, cat_features, bool_features, missing_features, score, probabilities, segment, is_shadow, fallback, encoding,
              schema_id IS NOT NULL AS has_schema_id, source_topic
       FROM raw_predictions FINAL WHERE model_name = {m:String} ORDER BY prediction_id`,
      { m },
    );
    expect(preds).toEqual([
      {
        prediction_id: 'p-avro',
        event_time: new Date(avroPred.event_time).toISOString(),
        num_features: { income: 52000.5 },
        cat_features: { region: 'north' },
        bool_features: { has_card: true },
        missing_features: ['age'],
        score: 0.73,
        probabilities: { '0': 0.27, '1': 0.73 },
        segment: { region: 'north' },
        is_shadow: true,
        fallback: 'previous_version',
        encoding: 'avro',
        has_schema_id: 1,
        source_topic: topics.predictions,
      },
      expect.objectContaining({
        prediction_id: 'p-json',
        score: 0.1,
        probabilities: {},
        segment: {},
        is_shadow: false,
        fallback: null,
        encoding: 'json',
        has_schema_id: 0,
      }),
    ]);
    const outs = await queryRows(
      t.ch,
      'SELECT prediction_id, label, target_value, business, encoding FROM raw_outcomes FINAL WHERE model_name = {m:String} ORDER BY prediction_id',
      { m },
    );
    expect(outs).toEqual([
      { prediction_id: 'p-avro', label: '1', target_value: null, business: { revenue: 10 }, encoding: 'avro' },
      { prediction_id: 'p-json', label: null, target_value: 3.5, business: { revenue: 10 }, encoding: 'json' },
    ]);
    const feats = await queryRows(
      t.ch,
      'SELECT event_id, prediction_id, entity_id, num_features, cat_features, bool_features, missing_features, segment FROM raw_features FINAL WHERE model_name = {m:String} ORDER BY event_id',
      {
        m,
      },
    );
    expect(feats).toEqual([
      {
        event_id: 'fe-f1',
        prediction_id: 'fe-f1',
        entity_id: 'entity-f1',
        num_features: { income: 1000 },
        cat_features: { region: 'south' },
        bool_features: { vip: false },
        missing_features: ['tenure'],
        segment: { channel: 'web' },
      },
      expect.objectContaining({ event_id: 'fe-f2', prediction_id: 'p-77' }),
    ]);
  });

  it('dead-letters every bad-input class with its code, original bytes and source headers, and lands the good events around each', async () => {
    const m = 'm-bad';
    const ids = await codec.registerAll();
    const predId = ids.get(topics.predictions)!;
    const frame = (id: number, payload: Buffer) => {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(id, 1);
      return Buffer.concat([head, payload]);
    };
    const jsonPred = (id: string, over: Record<string, unknown> = {}) => JSON.stringify({ ...prediction(id, m), ...over });
    const { prediction_id: _omit, ...noPredictionId } = prediction('missing', m);
    const predType = avro.Type.forSchema(PredictionEventSchema as unknown as avro.Schema);
    const bad: Array<{ key: string; topic: string; value: Buffer | string | null; code: string }> = [
      { key: 'undecodable', topic: topics.predictions, value: frame(predId, Buffer.from([0x02])), code: 'DW_DECODE_FAILED' },
      { key: 'unknown-schema', topic: topics.predictions, value: frame(0x7fffff00, predType.toBuffer(prediction('u', m))), code: 'DW_UNKNOWN_SCHEMA_ID' },
      { key: 'wrong-magic', topic: topics.predictions, value: Buffer.from([0x07, 0, 0, 0, 1, 2, 3]), code: 'DW_WRONG_MAGIC_BYTE' },
      { key: 'invalid-json', topic: topics.predictions, value: '{"event_id": "x", ', code: 'DW_INVALID_JSON' },
      { key: 'missing-prediction-id', topic: topics.predictions, value: JSON.stringify(noPredictionId), code: 'DW_MISSING_PREDICTION_ID' },
      {
        key: 'missing-prediction-id-outcome',
        topic: topics.outcomes,
        value: await codec.encode(topics.outcomes, outcome('', m)),
        code: 'DW_MISSING_PREDICTION_ID',
      },
      {
        key: 'nan-avro',
        topic: topics.predictions,
        value: await codec.encode(topics.predictions, prediction('nan', m, { score: Number.NaN })),
        code: 'DW_NON_FINITE_NUMBER',
      },
      { key: 'infinity-json', topic: topics.predictions, value: jsonPred('inf').replace('"score":0.73', '"score":1e999'), code: 'DW_NON_FINITE_NUMBER' },
      {
        key: 'nan-feature',
        topic: topics.features,
        value: await codec.encode(topics.features, feature('nan', m, { features: { x: Number.NaN } })),
        code: 'DW_NON_FINITE_NUMBER',
      },
      { key: 'future', topic: topics.predictions, value: jsonPred('future', { event_time: Date.now() + 10 * 86_400_000 }), code: 'DW_FUTURE_TIMESTAMP' },
      {
        key: 'oversized',
        topic: topics.predictions,
        value: jsonPred('big', { features: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } }),
        code: 'DW_PAYLOAD_TOO_LARGE',
      },
      { key: 'contract', topic: topics.predictions, value: jsonPred('contract', { event_time: '2025-01-01' }), code: 'DW_CONTRACT_VIOLATION' },
      { key: 'tombstone', topic: topics.predictions, value: null, code: 'DW_DECODE_FAILED' },
    ];
    // Good events before and after every bad one, all in partition 0 so they share batches with it.
    const good = { predictions: 0, outcomes: 0, features: 0 };
    const records: OutboundRecord[] = [];
    for (const [i, b] of bad.entries()) {
      for (const side of ['before', 'after']) {
        const id = `g-${i}-${side}`;
        if (b.topic === topics.outcomes) {
          good.outcomes++;
          records.push({ topic: b.topic, key: id, value: JSON.stringify(outcome(id, m)), partition: 0 });
        } else if (b.topic === topics.features) {
          good.features++;
          records.push({ topic: b.topic, key: id, value: await codec.encode(b.topic, feature(id, m)), partition: 0 });
        } else {
          good.predictions++;
          records.push({ topic: b.topic, key: id, value: await codec.encode(b.topic, prediction(id, m)), partition: 0 });
        }
        if (side === 'before') records.push({ topic: b.topic, key: b.key, value: b.value, partition: 0 });
      }
    }
    const deadBefore = ingest.stats().deadLetters;
    await producer.send(records);

    await waitFor('every bad event dead-lettered', async () => ingest.stats().deadLetters - deadBefore === bad.length, 30_000);
    await waitFor(
      'every good event landed',
      async () =>
        (await countFinal(t.ch, 'raw_predictions', m)) === good.predictions &&
        (await countFinal(t.ch, 'raw_outcomes', m)) === good.outcomes &&
        (await countFinal(t.ch, 'raw_features', m)) === good.features,
      30_000,
    );

    const dead = new Map((await readTopic(kafka, topics.deadLetter)).map((r) => [r.key?.toString() ?? '', r]));
    const sources = new Map<string, string>();
    for (const topic of [topics.predictions, topics.outcomes, topics.features]) {
      for (const r of await readTopic(kafka, topic)) sources.set(`${r.topic}/${r.partition}/${r.offset}`, r.key?.toString() ?? '');
    }
    for (const b of bad) {
      const d = dead.get(b.key);
      expect(d, b.key).toBeDefined();
      expect(d!.headers[DEAD_LETTER_HEADERS.code], b.key).toBe(b.code);
      expect(d!.headers[DEAD_LETTER_HEADERS.reason]!.length, b.key).toBeGreaterThan(0);
      expect(d!.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe(b.topic);
      expect(d!.headers[DEAD_LETTER_HEADERS.sourcePartition]).toBe('0');
      expect(d!.headers[DEAD_LETTER_HEADERS.component]).toBe('ingest');
      expect(d!.value ?? null, b.key).toEqual(b.value === null ? null : Buffer.from(b.value));
      // The source headers point at the original record.
      expect(sources.get(`${b.topic}/0/${d!.headers[DEAD_LETTER_HEADERS.sourceOffset]}`), b.key).toBe(b.key);
    }

    const rows = await queryRows<{ code: string; n: number }>(
      t.ch,
      'SELECT code, count() AS n FROM dead_letter_events FINAL WHERE startsWith(source_topic, {ns:String}) GROUP BY code ORDER BY code',
      { ns: `${ns}.` },
    );
    const expected = new Map<string, number>();
    for (const b of bad) expected.set(b.code, (expected.get(b.code) ?? 0) + 1);
    expect(rows.map((r) => [r.code, Number(r.n)])).toEqual([...expected].sort(([a], [b]) => a.localeCompare(b)));
    for (const [code, n] of expected) expect(await counterValue(rt.metrics.deadLetters, { code }), code).toBe(n);
  });

  it('replaying every topic from offset 0 under a new consumer group leaves query-visible counts unchanged', async () => {
    const models = ['m-land', 'm-bad'];
    const tables = ['raw_predictions', 'raw_outcomes', 'raw_features'];
    const before = await Promise.all(models.flatMap((m) => tables.map((tb) => countFinal(t.ch, tb, m))));
    const [dlqBefore] = await queryRows<{ n: number }>(t.ch, 'SELECT count() AS n FROM dead_letter_events FINAL');
    let total = 0;
    for (const topic of ingest.topics) for (const end of (await kafka.endOffsets(topic)).values()) total += end;

    const replay = await startIngest(rt, { groupId: uniqueName(`${ns}.replay`), lagIntervalMs: 0 });
    try {
      await waitFor('the replay consumed every record', async () => replay.stats().records >= total, 45_000);
      // The replay really wrote every event again (rows + dead-letter rows), so FINAL is what hides them.
      expect(replay.stats().rowsInserted).toBeGreaterThanOrEqual(total);
    } finally {
      await replay.stop();
    }
    const after = await Promise.all(models.flatMap((m) => tables.map((tb) => countFinal(t.ch, tb, m))));
    expect(after).toEqual(before);
    const [dlqAfter] = await queryRows<{ n: number }>(t.ch, 'SELECT count() AS n FROM dead_letter_events FINAL');
    expect(Number(dlqAfter!.n)).toBe(Number(dlqBefore!.n));
    expect(await countPhysical(t.ch, 'raw_predictions', 'm-bad')).toBeGreaterThanOrEqual(before[3]!);
  });

  it('keeps consuming when a producer registers an evolved schema (v1 + optional field) and writes with it', async () => {
    const m = 'm-evolved';
    const subject = subjectFor(topics.predictions);
    const registry = stackEnv().SCHEMA_REGISTRY_URL;
    // The subject enforces BACKWARD compatibility, as a production registry would.
    const put = await fetch(`${registry}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    expect(put.ok).toBe(true);
    const evolved = {
      ...PredictionEventSchema,
      fields: [...PredictionEventSchema.fields, { name: 'explanation', type: ['null', 'string'], default: null, doc: 'Added in a later producer' }],
    };
    const { id: evolvedId } = await codec.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(evolved) }, { subject });
    const ids = await codec.registerAll();
    expect(evolvedId).not.toBe(ids.get(topics.predictions));
    // A breaking change (a new required field) is refused by the registry: the check is real.
    const breaking = { ...PredictionEventSchema, fields: [...PredictionEventSchema.fields, { name: 'required_new', type: 'string' }] };
    await expect(codec.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(breaking) }, { subject })).rejects.toMatchObject({ status: 409 });

    const value = await codec.registry.encode(evolvedId, { ...prediction('p-evo', m), explanation: 'top feature: income' });
    expect(value.readUInt32BE(1)).toBe(evolvedId);
    await producer.send([
      { topic: topics.predictions, key: 'p-evo', value },
      { topic: topics.predictions, key: 'p-evo-json', value: JSON.stringify({ ...prediction('p-evo-json', m), explanation: 'json too' }) },
    ]);
    await waitFor('evolved events landed', async () => (await countFinal(t.ch, 'raw_predictions', m)) === 2, 30_000);
    const rows = await queryRows(
      t.ch,
      'SELECT prediction_id, schema_id, score, cat_features FROM raw_predictions FINAL WHERE model_name = {m:String} ORDER BY prediction_id',
      { m },
    );
    expect(rows).toEqual([
      { prediction_id: 'p-evo', schema_id: evolvedId, score: 0.73, cat_features: { region: 'north' } },
      { prediction_id: 'p-evo-json', schema_id: null, score: 0.73, cat_features: { region: 'north' } },
    ]);
  });

  it('ingests JSON events produced by an external client (Debian kcat, librdkafka)', async () => {
    // No skip: the interoperability claim needs the real tool (apt-get install -y kcat).
    const version = execFileSync('kcat', ['-V'], { encoding: 'utf8' });
    expect(version).toMatch(/kcat/);
    const m = 'm-kcat';
    const lines = [...Array.from({ length: 5 }, (_, i) => `kp-${i}|${JSON.stringify(prediction(`kp-${i}`, m))}`), `ko-0|${JSON.stringify(outcome('kp-0', m))}`];
    const broker = cfg.settings.KAFKA_BROKERS.join(',');
    execFileSync('kcat', ['-P', '-b', broker, '-t', topics.predictions, '-K', '|', '-z', 'gzip'], { input: `${lines.slice(0, 5).join('\n')}\n` });
    execFileSync('kcat', ['-P', '-b', broker, '-t', topics.outcomes, '-K', '|'], { input: `${lines[5]}\n` });
    await waitFor(
      'kcat events landed',
      async () => (await countFinal(t.ch, 'raw_predictions', m)) === 5 && (await countFinal(t.ch, 'raw_outcomes', m)) === 1,
      30_000,
    );
    const [row] = await queryRows(t.ch, "SELECT encoding, num_features FROM raw_predictions FINAL WHERE model_name = {m:String} AND prediction_id = 'kp-3'", {
      m,
    });
    expect(row).toEqual({ encoding: 'json', num_features: { income: 52000.5 } });
  });
});
