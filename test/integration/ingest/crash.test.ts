/**
 * Crash safety: the ingest process (a real child process, `node --import tsx .../main.ts`) is
 * SIGKILLed in the middle of a batch, exactly while ClickHouse is receiving one of its inserts, so
 * rows become durable whose offsets were never committed. After a restart nothing is lost and
 * nothing is duplicated in query results, counted against what the producer had acknowledged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '../../../lib/contracts/codec.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { committedToEnd, queryRows, servedClickHouse, stackEnv, testConfig, testLogger, uniqueName, waitFor } from '../../support/stack.js';
import { outcome, prediction } from './support.js';

const MAIN = fileURLToPath(new URL('../../../stream-processors/ingest/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ns = uniqueName('it-ingest-crash');
const topics = topicNames(ns);
const groupId = `${ns}.ingest`;
const cfg = testConfig({ DW_TOPIC_NAMESPACE: ns });
const N_PREDICTIONS = 6000;
const N_OUTCOMES = 1500;
const MODEL = 'm-crash';

let served: Awaited<ReturnType<typeof servedClickHouse>>;
let kafka: KafkaAdapter;
const children: ChildProcess[] = [];

function startChild(): { child: ChildProcess; output: () => string; exited: Promise<number | string | null> } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      TZ: 'UTC',
      ...stackEnv(),
      DW_TOPIC_NAMESPACE: ns,
      CLICKHOUSE_URL: served.url,
      // Small inserts, so one consumed batch takes many inserts and the kill lands inside one.
      INGEST_BATCH_MAX_ROWS: '250',
      LOG_LEVEL: 'warn',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
      METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  children.push(child);
  const exited = new Promise<number | string | null>((r) => child.once('exit', (code, signal) => r(signal ?? code)));
  return { child, output: () => output, exited };
}

async function count(sql: string, params: Record<string, string> = { m: MODEL }): Promise<number> {
  const [row] = await queryRows<{ c: number }>(served.ch, sql, params);
  return Number(row?.c ?? 0);
}

beforeAll(async () => {
  served = await servedClickHouse();
  kafka = createKafkaAdapter(cfg.settings, testLogger, 'crash-test');
  await kafka.ensureTopics(topics);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await kafka?.disconnect();
  await served?.close();
});

describe('ingest process killed with SIGKILL mid-batch', () => {
  it('loses nothing and duplicates nothing after a restart', async () => {
    const codec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, topics);
    await codec.registerAll();
    const producer = await kafka.producer();
    const records = [];
    for (let i = 0; i < N_PREDICTIONS; i++) {
      const id = `k-${i}`;
      records.push({
        topic: topics.predictions,
        key: id,
        value: i % 3 ? await codec.encode(topics.predictions, prediction(id, MODEL)) : JSON.stringify(prediction(id, MODEL)),
      });
      if (i % 4 === 0) records.push({ topic: topics.outcomes, key: id, value: await codec.encode(topics.outcomes, outcome(id, MODEL)) });
    }
    await producer.send(records); // acks=all: this is what was produced
    await producer.disconnect();

    // Kill the child the moment ClickHouse has received the whole body of its third raw_predictions
    // insert: the server still writes those rows, but the child never commits their offsets.
    const first = startChild();
    let inserts = 0;
    const onRequest = (req: IncomingMessage) => {
      const query = new URL(req.url ?? '/', 'http://chdb-http').searchParams.get('query') ?? '';
      if (!query.startsWith('INSERT INTO raw_predictions')) return;
      if (++inserts === 3) req.once('end', () => first.child.kill('SIGKILL'));
    };
    served.server.server.on('request', onRequest);
    const timeout = new Promise((r) => setTimeout(() => r('no insert seen within 45 s'), 45_000).unref());
    expect(await Promise.race([first.exited, timeout]), first.output()).toBe('SIGKILL');
    served.server.server.off('request', onRequest);

    const landedAtKill = await count('SELECT count() AS c FROM raw_predictions FINAL WHERE model_name = {m:String}');
    expect(landedAtKill).toBeGreaterThan(0);
    expect(landedAtKill).toBeLessThan(N_PREDICTIONS);
    // Rows that are durable although their offsets were not committed: a restart must re-deliver them.
    const committed = new Map((await kafka.consumerLag(groupId, [topics.predictions])).map((l) => [l.partition, l.committed]));
    const landed = await queryRows<{ p: number; o: number }>(
      served.ch,
      'SELECT source_partition AS p, source_offset AS o FROM raw_predictions FINAL WHERE model_name = {m:String}',
      { m: MODEL },
    );
    const durableUncommitted = landed.filter((r) => Number(r.o) >= (committed.get(Number(r.p)) ?? 0)).length;
    expect(durableUncommitted).toBeGreaterThan(0);

    const second = startChild();
    try {
      await waitFor(
        'everything produced landed after the restart',
        async () =>
          (await count('SELECT count() AS c FROM raw_predictions FINAL WHERE model_name = {m:String}')) === N_PREDICTIONS &&
          (await count('SELECT count() AS c FROM raw_outcomes FINAL WHERE model_name = {m:String}')) === N_OUTCOMES,
        60_000,
        500,
      );
      await waitFor('every offset committed', async () => committedToEnd(kafka, groupId, [topics.predictions, topics.outcomes]), 30_000, 500);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    expect(await count('SELECT count() AS c FROM raw_predictions FINAL WHERE model_name = {m:String}')).toBe(N_PREDICTIONS);
    expect(await count('SELECT uniqExact(event_id) AS c FROM raw_predictions WHERE model_name = {m:String}')).toBe(N_PREDICTIONS);
    expect(await count('SELECT count() AS c FROM raw_outcomes FINAL WHERE model_name = {m:String}')).toBe(N_OUTCOMES);
    expect(await count('SELECT uniqExact(event_id) AS c FROM raw_outcomes WHERE model_name = {m:String}')).toBe(N_OUTCOMES);
    // The re-delivered copies were written (at-least-once) and are hidden by FINAL, not avoided.
    expect(await count('SELECT count() AS c FROM raw_predictions WHERE model_name = {m:String}')).toBeGreaterThanOrEqual(N_PREDICTIONS);
    expect(await count('SELECT count() AS c FROM dead_letter_events WHERE startsWith(source_topic, {ns:String})', { ns: `${ns}.` })).toBe(0);
  }, 120_000);
});
