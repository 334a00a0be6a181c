/**
 * Retriable failures never dead-letter good events: ClickHouse (served over HTTP by chdb-http, with
 * an injected outage) and the schema registry (the real one behind a proxy this test can cut) go
 * away while events arrive; ingest retries with backoff, dead-letters nothing, and every event lands
 * once they are back.
 */
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import { PredictionEventSchema } from '../../../lib/contracts/schemas.js';
import { subjectFor, topicNames } from '../../../lib/contracts/topics.js';
import type { KafkaAdapter, Producer } from '../../../lib/runtime/kafka.js';
import { startIngest, type RunningIngest } from '../../../stream-processors/ingest/main.js';
import { servedClickHouse, stackEnv, testConfig, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { countFinal, counterValue, ingestRuntime, outcome, prediction } from './support.js';

const ns = uniqueName('it-ingest-outage');
const topics = topicNames(ns);
const registryUrl = new URL(stackEnv().SCHEMA_REGISTRY_URL);

/**
 * A pass-through HTTP proxy to the real registry that answers 503 while `down`, and while `stalled`
 * holds every request without answering (a registry that accepts connections and hangs).
 */
function registryProxy(): Promise<{ server: Server; url: string; setDown(v: boolean): void; setStalled(v: boolean): void; requests: () => number }> {
  let down = false;
  let stalled = false;
  const held: ServerResponse[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (stalled) {
      held.push(res);
      return;
    }
    if (down) {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('registry proxy: down (fault injected)');
      return;
    }
    const upstream = request({ host: registryUrl.hostname, port: registryUrl.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      ok({
        server,
        url: `http://127.0.0.1:${port}${registryUrl.pathname}`,
        setDown: (v) => (down = v),
        setStalled: (v) => {
          stalled = v;
          if (!v) for (const res of held.splice(0)) res.destroy();
        },
        requests: () => requests,
      });
    }),
  );
}

let served: TestClickHouse & { url: string; server: { setUnavailable(v: boolean): void } };
let proxy: Awaited<ReturnType<typeof registryProxy>>;
let rt: ReturnType<typeof ingestRuntime>;
let kafka: KafkaAdapter;
let ingest: RunningIngest;
let producerCodec: EventCodec;
let producer: Producer;

beforeAll(async () => {
  served = await servedClickHouse();
  proxy = await registryProxy();
  const cfg = testConfig({ DW_TOPIC_NAMESPACE: ns, CLICKHOUSE_URL: served.url, RETRY_INITIAL_MS: '100', RETRY_MAX_MS: '800', INGEST_BATCH_MAX_WAIT_MS: '100' });
  rt = ingestRuntime(cfg, served.ch);
  kafka = rt.kafkaAdapter;
  const limits = { maxPayloadBytes: cfg.settings.MAX_PAYLOAD_BYTES, maxFutureSkewMs: cfg.settings.MAX_FUTURE_SKEW_MS };
  ingest = await startIngest(rt, { codec: createEventCodec(proxy.url, limits, topics, { requestTimeoutMs: 300 }), lagIntervalMs: 0 });
  await ingest.joined;
  producerCodec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, limits, topics);
  producer = await kafka.producer();
});

afterAll(async () => {
  await ingest?.stop();
  await producer?.disconnect();
  await kafka?.disconnect();
  await served?.close();
  await new Promise((r) => proxy?.server.close(r));
});

async function deadLetterTopicSize(): Promise<number> {
  let n = 0;
  for (const end of (await kafka.endOffsets(topics.deadLetter)).values()) n += end;
  return n;
}

/** Registers the prediction schema plus one optional string field: a schema id ingest has not cached. */
async function registerEvolvedPredictionSchema(field: string): Promise<number> {
  const evolved = { ...PredictionEventSchema, fields: [...PredictionEventSchema.fields, { name: field, type: ['null', 'string'], default: null }] };
  const { id } = await producerCodec.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(evolved) }, { subject: subjectFor(topics.predictions) });
  return id;
}

/** `n` prediction records written with schema `id`, each setting `field`. */
async function evolvedPredictions(id: number, field: string, prefix: string, model: string, n: number) {
  const records = [];
  for (let i = 0; i < n; i++) {
    const key = `${prefix}-${i}`;
    records.push({ topic: topics.predictions, key, value: await producerCodec.registry.encode(id, { ...prediction(key, model), [field]: `${prefix}${i}` }) });
  }
  return records;
}

describe('ingest during outages', () => {
  it('waits out a ClickHouse outage: retries with backoff, dead-letters nothing, then lands every event', async () => {
    const m = 'm-ch-outage';
    served.server.setUnavailable(true);
    const n = 200;
    const records = [];
    for (let i = 0; i < n; i++) {
      const id = `c-${i}`;
      records.push({
        topic: topics.predictions,
        key: id,
        value: i % 2 ? JSON.stringify(prediction(id, m)) : await producerCodec.encode(topics.predictions, prediction(id, m)),
      });
      if (i % 4 === 0) records.push({ topic: topics.outcomes, key: id, value: JSON.stringify(outcome(id, m)) });
    }
    await producer.send(records);
    try {
      await waitFor('several failed insert attempts', async () => (await counterValue(rt.metrics.retries, { code: 'DW_CLICKHOUSE_UNAVAILABLE' })) >= 3, 30_000);
      expect(ingest.stats().rowsInserted).toBe(0);
      expect(ingest.stats().deadLetters).toBe(0);
      expect(await deadLetterTopicSize()).toBe(0);
    } finally {
      served.server.setUnavailable(false);
    }
    await waitFor(
      'every event landed after the outage',
      async () => (await countFinal(served.ch, 'raw_predictions', m)) === n && (await countFinal(served.ch, 'raw_outcomes', m)) === n / 4,
      30_000,
    );
    expect(ingest.stats().deadLetters).toBe(0);
    expect(await deadLetterTopicSize()).toBe(0);
  });

  it('waits out a schema registry outage the same way (a writer schema it has not cached yet)', async () => {
    const m = 'm-registry-outage';
    // A schema id this ingest has never seen, so decoding needs the registry.
    const id = await registerEvolvedPredictionSchema('trace_id');
    proxy.setDown(true);
    const n = 50;
    const records = await evolvedPredictions(id, 'trace_id', 'r', m, n);
    await producer.send(records);
    try {
      await waitFor('several failed decode attempts', async () => (await counterValue(rt.metrics.retries, { code: 'DW_REGISTRY_UNAVAILABLE' })) >= 2, 30_000);
      expect(await countFinal(served.ch, 'raw_predictions', m)).toBe(0);
      expect(ingest.stats().deadLetters).toBe(0);
    } finally {
      proxy.setDown(false);
    }
    await waitFor('every event landed after the outage', async () => (await countFinal(served.ch, 'raw_predictions', m)) === n, 30_000);
    expect(ingest.stats().deadLetters).toBe(0);
    expect(await deadLetterTopicSize()).toBe(0);
  });

  it('waits out a registry that accepts requests and never answers: each lookup times out and is retried', async () => {
    const m = 'm-registry-stall';
    const id = await registerEvolvedPredictionSchema('stall_id');
    const timeoutsBefore = await counterValue(rt.metrics.retries, { code: 'DW_REGISTRY_UNAVAILABLE' });
    proxy.setStalled(true);
    const n = 30;
    const records = await evolvedPredictions(id, 'stall_id', 's', m, n);
    await producer.send(records);
    try {
      // Without a request timeout the first lookup would stay pending and no retry would ever be counted.
      await waitFor(
        'timed-out lookups retried as an outage',
        async () => (await counterValue(rt.metrics.retries, { code: 'DW_REGISTRY_UNAVAILABLE' })) >= timeoutsBefore + 2,
        30_000,
      );
      expect(await countFinal(served.ch, 'raw_predictions', m)).toBe(0);
      expect(ingest.stats().deadLetters).toBe(0);
    } finally {
      proxy.setStalled(false);
    }
    await waitFor('every event landed once the registry answered again', async () => (await countFinal(served.ch, 'raw_predictions', m)) === n, 30_000);
    expect(ingest.stats().deadLetters).toBe(0);
    expect(await deadLetterTopicSize()).toBe(0);
  });
});
