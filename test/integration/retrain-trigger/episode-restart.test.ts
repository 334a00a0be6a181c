/**
 * Real Kafka + registry + ClickHouse, the trigger and the example consumer as child processes:
 * a drift episode produces exactly one RetrainRequested although
 *  1. the trigger is SIGKILLed in the middle of the episode (before it fires), and
 *  2. the next instance is SIGKILLed at the worst moment: after publishing the event and before
 *     recording it (the test's ClickHouse front kills it when its retrain_events insert arrives).
 * The third instance restores the state from retrain_decisions, re-evaluates the window, finds the
 * event's key already on the topic, records it without publishing it again, and carries on. The
 * example consumer receives and decodes that one event through the registry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '../../../lib/contracts/codec.js';
import type { RetrainRequested } from '../../../lib/contracts/schemas.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { startChdbHttp, type ChdbHttpServer } from '../../../lib/runtime/clickhouse/chdb-http-server.js';
import { openClickHouse, type ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../../lib/runtime/clickhouse/migrations.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { idempotencyKey } from '../../../stream-processors/retrain-trigger/core.js';
import { IDEMPOTENCY_HEADER } from '../../../stream-processors/retrain-trigger/trigger.js';
import { queryRows, stackEnv, testConfig, testLogger, uniqueName, waitFor } from '../../support/stack.js';
import { DRIFTING, seedWindows, spawnChild, windowAt, writePolicyFile, type Child } from './seed.js';

const W = 300_000;
const T0 = Math.floor(Date.now() / W) * W - 30 * W;
const MODEL = 'churn';
const ns = uniqueName('rtkill');
const topics = topicNames(ns);

let dir: string;
let server: ChdbHttpServer;
let ch: ClickHouse;
let kafka: KafkaAdapter;
const children: Child[] = [];
/** When set, the next retrain_events insert kills this child before the row is written. */
let killOnRecord: Child | null = null;

function childEnv(): Record<string, string> {
  return {
    ...stackEnv(),
    CLICKHOUSE_URL: server.url,
    DW_TOPIC_NAMESPACE: ns,
    DW_CONFIG_FILE: join(dir, 'driftwatch.yaml'),
    KAFKA_TOPIC_PARTITIONS: '2',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    RETRAIN_POLL_INTERVAL_MS: '250',
    RETRAIN_SETTLE_MS: '0',
    RETRAIN_CONSUMER_GROUP: `${ns}-consumer`,
    LOG_LEVEL: 'info',
  };
}

function startTrigger(name: string): Child {
  const c = spawnChild('stream-processors/retrain-trigger/main.ts', { ...childEnv(), DW_INSTANCE_ID: name });
  children.push(c);
  return c;
}

const logged = (c: Child, msg: string) => c.lines.filter((l) => l.msg === msg);

async function ownsAll(c: Child, name: string): Promise<void> {
  await waitFor(
    `${name} to own both partitions`,
    async () => {
      if (c.proc.exitCode !== null) throw new Error(`${name} exited: ${c.stderr()}`);
      return logged(c, 'ownership synced').some((l) => (l.owned as number[]).length === 2);
    },
    60_000,
  );
}

async function decisions() {
  return queryRows<{ ws: string; decision: string; reason: string; idempotency_key: string }>(
    ch,
    `SELECT toUnixTimestamp64Milli(window_start) AS ws, decision, reason, idempotency_key FROM retrain_decisions FINAL WHERE model_name = {m:String} ORDER BY window_start`,
    { m: MODEL },
  );
}

async function retrainRecords() {
  const out: { key: string; value: Buffer; headers: Record<string, string> }[] = [];
  await kafka.readToEnd(topics.retrainRequested, 'all', (r) => out.push({ key: r.key!.toString(), value: r.value!, headers: r.headers }));
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-rtk-'));
  writePolicyFile(join(dir, 'driftwatch.yaml'), [
    {
      id: 'drift-episode',
      model: MODEL,
      when: { drift: { min_features: 2, min_severity: 'critical' } },
      fire_after_windows: 3,
      rearm_after_windows: 2,
      cooldown: '1h',
    },
  ]);
  server = await startChdbHttp({
    dataDir: join(dir, 'ch'),
    host: '127.0.0.1',
    port: 0,
    database: 'driftwatch',
    onRequest(req) {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      if (killOnRecord && /INSERT INTO\s+\S*retrain_events\b/i.test(query)) {
        const victim = killOnRecord;
        killOnRecord = null;
        victim.proc.kill('SIGKILL');
        throw new Error('fault injected: the trigger was killed before it recorded its event');
      }
    },
  });
  const config = testConfig({ CLICKHOUSE_URL: server.url, DW_TOPIC_NAMESPACE: ns, KAFKA_TOPIC_PARTITIONS: '2' });
  ch = await openClickHouse(config.settings);
  await migrate(ch, config.settings);
  kafka = createKafkaAdapter(config.settings, testLogger, 'rt-kill-test');
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await kafka?.disconnect();
  await ch?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retrain trigger across SIGKILL restarts', () => {
  it('publishes exactly one RetrainRequested per episode, and the example consumer decodes it', async () => {
    const consumer = spawnChild('services/retrain-consumer-example/main.ts', { ...childEnv(), DW_INSTANCE_ID: 'consumer' });
    children.push(consumer);

    // 1. first instance: the episode starts (two of the three windows fire_after_windows asks for)
    const a = startTrigger('trigger-a');
    await ownsAll(a, 'trigger-a');
    await seedWindows(
      ch,
      [0, 1].map((i) => ({ model: MODEL, ...windowAt(T0, W, i), severities: DRIFTING })),
    );
    await waitFor('two pending decisions', async () => (await decisions()).length === 2, 30_000);
    a.proc.kill('SIGKILL');
    await a.exited;

    // 2. second instance: resumes the episode; the third window fires; killed after publishing
    const b = startTrigger('trigger-b');
    killOnRecord = b;
    await ownsAll(b, 'trigger-b');
    expect(logged(b, 'ownership synced').at(-1)!.restored).toBe(1); // resumed from retrain_decisions
    await seedWindows(ch, [{ model: MODEL, ...windowAt(T0, W, 2), severities: DRIFTING }]);
    await waitFor('trigger-b to be killed at its record step', async () => b.proc.exitCode !== null || b.proc.signalCode !== null, 30_000);
    await b.exited;
    const afterCrash = await retrainRecords();
    expect(afterCrash).toHaveLength(1); // published ...
    expect(await queryRows(ch, 'SELECT * FROM retrain_events')).toHaveLength(0); // ... not recorded
    expect(await decisions()).toHaveLength(2); // progress did not advance

    // 3. third instance: re-evaluates window 2, sees the key on the topic, records without publishing
    const c = startTrigger('trigger-c');
    await ownsAll(c, 'trigger-c');
    await waitFor('the fired decision', async () => (await decisions()).length === 3, 30_000);
    expect(
      logged(c, 'retrain event already on the topic (published before a crash or by a previous owner); recording it without publishing again'),
    ).toHaveLength(1);
    // the episode goes on: no new event while it holds (hysteresis)
    await seedWindows(
      ch,
      [3, 4].map((i) => ({ model: MODEL, ...windowAt(T0, W, i), severities: DRIFTING })),
    );
    await waitFor('five decisions', async () => (await decisions()).length === 5, 30_000);

    const key = idempotencyKey('drift-episode', MODEL, '1', T0);
    const ds = await decisions();
    expect(ds.map((d) => `${d.decision}/${d.reason}`)).toEqual([
      'suppressed/pending_windows',
      'suppressed/pending_windows',
      'fired/condition_met',
      'suppressed/hysteresis',
      'suppressed/hysteresis',
    ]);
    expect(ds.every((d) => d.idempotency_key === key)).toBe(true);

    const records = await retrainRecords();
    expect(records).toHaveLength(1);
    expect(records[0]!.key).toBe(MODEL);
    expect(records[0]!.headers[IDEMPOTENCY_HEADER]).toBe(key);
    const codec = createEventCodec(stackEnv().SCHEMA_REGISTRY_URL, { maxPayloadBytes: 1e6, maxFutureSkewMs: 3_600_000 }, topics);
    const event = (await codec.decode<RetrainRequested>(topics.retrainRequested, records[0]!.value, Date.now())).value;
    expect(event).toMatchObject({
      idempotency_key: key,
      policy_id: 'drift-episode',
      model_name: MODEL,
      model_version: '1',
      drifted_features: ['age', 'income'],
    });
    expect(event.conditions[0]).toMatchObject({ kind: 'drift', value: 2, threshold: 2, window_start: T0, window_end: T0 + 3 * W });
    const stored = await queryRows<{ idempotency_key: string; event: string }>(ch, 'SELECT idempotency_key, event FROM retrain_events FINAL');
    expect(stored.map((r) => r.idempotency_key)).toEqual([key]);
    expect(JSON.parse(stored[0]!.event).conditions).toEqual(event.conditions);

    // the example consumer logged what it would retrain, exactly once, decoded through the registry
    const seen = await waitFor('the consumer to log the event', async () => {
      const ls = consumer.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('would retrain churn'));
      return ls.length > 0 ? ls : undefined;
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(consumer.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('would retrain'))).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      idempotency_key: key,
      policy_id: 'drift-episode',
      model_version: '1',
      encoding: 'avro',
      drifted_features: ['age', 'income'],
    });
    expect(typeof seen[0]!.schema_id).toBe('number');
    expect(seen[0]!.training_range).toEqual({ start: new Date(T0 + 3 * W - 30 * 86_400_000).toISOString(), end: new Date(T0 + 3 * W).toISOString() });

    c.proc.kill('SIGTERM');
    consumer.proc.kill('SIGTERM');
    expect(await c.exited).toBe(0);
  }, 150_000);
});
