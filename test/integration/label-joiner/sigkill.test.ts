/**
 * Durability: a label-joiner process SIGKILLed in the middle of the join, then restarted (twice),
 * ends with the same query-visible joined set as an uninterrupted process given the same input, and
 * both equal what the pure core computes. Real broker, registry and ClickHouse engine (chdb served
 * over HTTP from this test process, so the children can be killed without losing it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '../../../lib/contracts/codec.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { servedClickHouse, testConfig, testLogger, uniqueName, waitFor } from '../../support/stack.js';
import {
  PARTITIONS,
  countVisible,
  describeProcess,
  joinDataset,
  openDatabase,
  oracle,
  produce,
  readVisible,
  spawnJoiner,
  type JoinerProcess,
} from './support.js';

const refNs = uniqueName('it-ljref');
const killNs = uniqueName('it-ljkill');
const dataset = joinDataset(2, 8000, Date.now() - 2 * 86_400_000, 4);
const expected = oracle(dataset);
const cfg = testConfig({ KAFKA_TOPIC_PARTITIONS: String(PARTITIONS) });
let served: Awaited<ReturnType<typeof servedClickHouse>>;
let kafka: KafkaAdapter;
let refDb: ClickHouse;
let killDb: ClickHouse;
const processes: JoinerProcess[] = [];

function start(name: string, ns: string, database: string): JoinerProcess {
  const p = spawnJoiner(name, {
    DW_TOPIC_NAMESPACE: ns,
    CLICKHOUSE_URL: served.url,
    CLICKHOUSE_DATABASE: database,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
  });
  processes.push(p);
  return p;
}

async function sigkillWhen(p: JoinerProcess, db: ClickHouse, minLabeled: number): Promise<number> {
  const at = await waitFor(
    `${p.name} to emit ${minLabeled} rows`,
    async () => {
      const c = await countVisible(db);
      return c.labeled >= minLabeled ? c.labeled : undefined;
    },
    90_000,
    100,
  );
  p.child.kill('SIGKILL');
  await p.exited;
  return at;
}

beforeAll(async () => {
  served = await servedClickHouse();
  refDb = await openDatabase(served.url, 'lj_ref');
  killDb = await openDatabase(served.url, 'lj_kill');
  kafka = createKafkaAdapter(cfg.settings, testLogger, 'lj-sigkill-test');
  for (const ns of [refNs, killNs]) {
    const topics = topicNames(ns);
    await kafka.ensureTopics(topics);
    await createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, topics).registerAll();
  }
  const refTopics = topicNames(refNs);
  await produce(
    kafka,
    createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, refTopics),
    refTopics,
    dataset.phases.flat(),
  );
});

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await kafka?.disconnect();
  await refDb?.close();
  await killDb?.close();
  await served?.close();
});

describe('label-joiner: SIGKILL during the join', () => {
  it('restarts into the same joined set as an uninterrupted run', { timeout: 150_000 }, async () => {
    try {
      await scenario();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${processes.map(describeProcess).join('\n')}`, { cause: err });
    }
  });
});

async function scenario(): Promise<void> {
  {
    const killTopics = topicNames(killNs);
    const killCodec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 }, killTopics);
    const groupId = `${killNs}.label-joiner`;
    const ref = start('ref', refNs, 'lj_ref');

    // Phase 1 in the topic; the victim is killed shortly after its first rows are written.
    await produce(kafka, killCodec, killTopics, dataset.phases[0]!);
    const first = start('victim-1', killNs, 'lj_kill');
    const atKill1 = await sigkillWhen(first, killDb, 200);
    const lag1 = (await kafka.consumerLag(groupId, [killTopics.predictions, killTopics.outcomes])).reduce((n, l) => n + l.lag, 0);
    expect(lag1, 'killed before it had consumed phase 1').toBeGreaterThan(0);

    // Restarted: restores the partitions from the changelog (each on its first batch) and works on
    // phase 2. Then ClickHouse becomes unavailable and phase 3 arrives: the process gets stuck
    // retrying a batch whose outputs are computed but not durable, its changelog not written and its
    // offsets not committed. It is killed there. (The uninterrupted run waits the outage out.)
    const afterKill1 = (await countVisible(killDb)).labeled; // victim-1 may have flushed more after the count that triggered the kill
    expect(afterKill1).toBeGreaterThanOrEqual(atKill1);
    const second = start('victim-2', killNs, 'lj_kill');
    await produce(kafka, killCodec, killTopics, dataset.phases[1]!);
    await waitFor(
      'victim-2 to restore and make progress',
      // Every partition must have written its changelog at least once (so the last restart has
      // state to restore on all four), not just "some rows appeared": one partition can lag the
      // others by seconds on a loaded machine, and the outage would then freeze it unflushed.
      async () =>
        second.logged('partition state restored').length > 0 &&
        new Set(second.logged('changelog written').map((l) => l.partition)).size === PARTITIONS &&
        (await countVisible(killDb)).labeled > afterKill1,
      90_000,
      100,
    );
    served.server.setUnavailable(true);
    await produce(kafka, killCodec, killTopics, dataset.phases[2]!);
    const stuck = () =>
      second.logs.some(
        (l) => l.msg === 'retriable failure; retrying the batch without committing' && JSON.stringify(l.err).includes('DW_CLICKHOUSE_UNAVAILABLE'),
      );
    await waitFor('victim-2 to retry a batch during the outage', async () => stuck(), 90_000, 100);
    second.child.kill('SIGKILL');
    await second.exited;
    served.server.setUnavailable(false);
    const lag2 = (await kafka.consumerLag(groupId, [killTopics.predictions, killTopics.outcomes])).reduce((n, l) => n + l.lag, 0);
    expect(lag2, 'killed with a batch in flight').toBeGreaterThan(0);

    // Last restart; phase 4 (with the sentinels that close every window) arrives while it runs.
    const third = start('victim-3', killNs, 'lj_kill');
    await produce(kafka, killCodec, killTopics, dataset.phases[3]!);

    const complete = async (db: ClickHouse) => {
      const c = await countVisible(db);
      return c.labeled === expected.labeled.size && c.late === expected.late.size;
    };
    await waitFor('the uninterrupted run to finish', () => complete(refDb), 90_000, 500);
    await waitFor('the restarted run to finish', () => complete(killDb), 90_000, 500);

    const uninterrupted = await readVisible(refDb);
    const restarted = await readVisible(killDb);
    expect(restarted.labeled).toEqual(uninterrupted.labeled);
    expect(restarted.late).toEqual(uninterrupted.late);
    expect(uninterrupted.labeled).toEqual(expected.labeled);
    expect(uninterrupted.late).toEqual(expected.late);

    // The restarts really restored state from the changelog, holding predictions that were still
    // pending when the previous process died. (A partition is restored on its first batch, and a
    // process killed early may not have flushed every partition yet: only the last restart, which
    // follows a process that ran through half the data, must find all four non-empty.)
    for (const p of [second, third]) {
      const restored = p.logged('partition state restored');
      expect(restored.some((l) => (l.changelogRecords as number) > 0)).toBe(true);
      expect(restored.reduce((n, l) => n + (l.pending as number), 0)).toBeGreaterThan(0);
    }
    const last = third.logged('partition state restored');
    expect(last.map((l) => l.partition).sort()).toEqual([0, 1, 2, 3]);
    expect(last.every((l) => (l.changelogRecords as number) > 0)).toBe(true);
    expect(first.logged('partition state restored').every((l) => l.changelogRecords === 0)).toBe(true);
    void ref;
  }
}
