/**
 * Two trigger instances (child processes) on one namespace share the models through the ownership
 * consumer group: each model is evaluated and published by exactly one instance, so every episode
 * yields exactly one RetrainRequested. When one instance is SIGKILLed, the other takes its partitions
 * over (restoring their state from ClickHouse) and the next episodes still yield one event each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicNames } from '../../../lib/contracts/topics.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { partitionForKey } from '../../../stream-processors/retrain-trigger/partition.js';
import { IDEMPOTENCY_HEADER } from '../../../stream-processors/retrain-trigger/trigger.js';
import { queryRows, servedClickHouse, stackEnv, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { CALM, DRIFTING, seedWindows, spawnChild, windowAt, writePolicyFile, type Child } from './seed.js';

const W = 300_000;
const T0 = Math.floor(Date.now() / W) * W - 30 * W;
const PARTITIONS = 4;
const ns = uniqueName('rtmulti');
const topics = topicNames(ns);

/** One model per partition of the retrain topic, so both instances own some. */
const MODELS = (() => {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < PARTITIONS; i++) {
    const name = `model-${i}`;
    const p = partitionForKey(name, PARTITIONS);
    if (!byPartition.has(p)) byPartition.set(p, name);
  }
  return [...byPartition.entries()].sort(([a], [b]) => a - b).map(([, m]) => m);
})();

let dir: string;
let served: TestClickHouse;
let kafka: KafkaAdapter;
const children: Child[] = [];

function start(name: string): Child {
  const c = spawnChild('stream-processors/retrain-trigger/main.ts', {
    ...stackEnv(),
    CLICKHOUSE_URL: served.url!,
    DW_TOPIC_NAMESPACE: ns,
    DW_CONFIG_FILE: join(dir, 'driftwatch.yaml'),
    DW_INSTANCE_ID: name,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
    RETRAIN_POLL_INTERVAL_MS: '250',
    RETRAIN_SETTLE_MS: '0',
    LOG_LEVEL: 'info',
  });
  children.push(c);
  return c;
}

const lastOwned = (c: Child): number[] => (c.lines.filter((l) => l.msg === 'ownership synced').at(-1)?.owned as number[] | undefined) ?? [];
const requested = (c: Child) => c.lines.filter((l) => l.msg === 'retrain requested').map((l) => l.model as string);

async function events() {
  const out: { model: string; key: string; partition: number }[] = [];
  await kafka.readToEnd(topics.retrainRequested, 'all', (r) =>
    out.push({ model: r.key!.toString(), key: r.headers[IDEMPOTENCY_HEADER]!, partition: r.partition }),
  );
  return out;
}

async function decisionCount(): Promise<number> {
  const rows = await queryRows<{ n: number }>(served.ch, 'SELECT count() AS n FROM retrain_decisions FINAL');
  return Number(rows[0]!.n);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-rtm-'));
  writePolicyFile(
    join(dir, 'driftwatch.yaml'),
    MODELS.map((model) => ({ id: `drift-${model}`, model, when: { drift: { min_features: 2 } }, fire_after_windows: 1, rearm_after_windows: 1 })),
  );
  served = await servedClickHouse();
  kafka = createKafkaAdapter(testConfig({ DW_TOPIC_NAMESPACE: ns }).settings, testLogger, 'rt-multi-test');
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  await kafka?.disconnect();
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retrain trigger with several instances', () => {
  it('publishes one event per episode per model, before and after an instance dies', async () => {
    const x = start('trigger-x');
    const y = start('trigger-y');
    await waitFor(
      'the partitions to be split between both instances',
      async () => {
        for (const c of [x, y]) if (c.proc.exitCode !== null) throw new Error(c.stderr());
        const ox = lastOwned(x);
        const oy = lastOwned(y);
        return ox.length > 0 && oy.length > 0 && ox.length + oy.length === PARTITIONS && new Set([...ox, ...oy]).size === PARTITIONS;
      },
      60_000,
    );

    await seedWindows(
      served.ch,
      MODELS.map((model) => ({ model, ...windowAt(T0, W, 0), severities: DRIFTING })),
    );
    await waitFor('one decision per model', async () => (await decisionCount()) === MODELS.length, 30_000);
    await waitFor('the events', async () => (await events()).length >= MODELS.length, 10_000);
    // Give a wrongly duplicating second instance time to show itself.
    await new Promise((r) => setTimeout(r, 1500));
    const first = await events();
    expect(first.map((e) => e.model).sort()).toEqual([...MODELS].sort());
    // each model was published by the instance owning its partition, into that partition
    const ox = new Set(lastOwned(x));
    for (const e of first) expect(e.partition).toBe(partitionForKey(e.model, PARTITIONS));
    expect(requested(x).sort()).toEqual(MODELS.filter((m) => ox.has(partitionForKey(m, PARTITIONS))).sort());
    expect(requested(y).sort()).toEqual(MODELS.filter((m) => !ox.has(partitionForKey(m, PARTITIONS))).sort());

    // y dies; x takes over every partition and the state of y's models
    y.proc.kill('SIGKILL');
    await y.exited;
    await waitFor('trigger-x to own every partition', async () => lastOwned(x).length === PARTITIONS, 60_000);
    await seedWindows(served.ch, [
      ...MODELS.map((model) => ({ model, ...windowAt(T0, W, 1), severities: CALM })),
      ...MODELS.map((model) => ({ model, ...windowAt(T0, W, 2), severities: DRIFTING })),
    ]);
    await waitFor('three decisions per model', async () => (await decisionCount()) === 3 * MODELS.length, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    const all = await events();
    expect(all).toHaveLength(2 * MODELS.length);
    expect(new Set(all.map((e) => e.key)).size).toBe(2 * MODELS.length);
    for (const m of MODELS) expect(all.filter((e) => e.model === m)).toHaveLength(2);
    // the taken-over models resumed from their recorded state: window 1 re-armed, window 2 fired
    const reasons = await queryRows<{ model_name: string; reasons: string[] }>(
      served.ch,
      `SELECT model_name, groupArray(reason) AS reasons FROM (SELECT model_name, reason FROM retrain_decisions FINAL ORDER BY window_start) GROUP BY model_name ORDER BY model_name`,
    );
    for (const r of reasons) expect(r.reasons).toEqual(['condition_met', 'condition_not_met', 'condition_met']);
  }, 150_000);
});
