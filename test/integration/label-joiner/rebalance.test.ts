/**
 * Partition moves: two label-joiner instances in one consumer group, the second started in the
 * middle of the run (half the partitions move to it) and the first stopped later (the rest move),
 * give exactly the joined set of a single uninterrupted instance, and both equal the pure core's.
 * Each move restores the partition's pending state from the changelog on the instance taking over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec } from '../../../lib/contracts/codec.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { committedToEnd, servedClickHouse, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
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

const refNs = uniqueName('it-ljone');
const twoNs = uniqueName('it-ljtwo');
const dataset = joinDataset(3, 6000, Date.now() - 2 * 86_400_000, 3);
const expected = oracle(dataset);
const cfg = testConfig({ KAFKA_TOPIC_PARTITIONS: String(PARTITIONS) });
const limits = { maxPayloadBytes: 262144, maxFutureSkewMs: 3_600_000 };
let served: TestClickHouse & { url: string };
let kafka: KafkaAdapter;
let oneDb: ClickHouse;
let twoDb: ClickHouse;
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

const restoredPartitions = (p: JoinerProcess) => p.logged('partition state restored');

beforeAll(async () => {
  served = await servedClickHouse();
  oneDb = await openDatabase(served.url, 'lj_one');
  twoDb = await openDatabase(served.url, 'lj_two');
  kafka = createKafkaAdapter(cfg.settings, testLogger, 'lj-rebalance-test');
  for (const ns of [refNs, twoNs]) {
    const topics = topicNames(ns);
    await kafka.ensureTopics(topics);
    await createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, limits, topics).registerAll();
  }
  const refTopics = topicNames(refNs);
  await produce(kafka, createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, limits, refTopics), refTopics, dataset.phases.flat());
});

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await kafka?.disconnect();
  await oneDb?.close();
  await twoDb?.close();
  await served?.close();
});

describe('label-joiner: two instances, partitions moving during the run', () => {
  it('gives exactly the joined set of one instance', { timeout: 150_000 }, async () => {
    try {
      await scenario();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${processes.map(describeProcess).join('\n')}`, { cause: err });
    }
  });
});

async function scenario(): Promise<void> {
  {
    const topics = topicNames(twoNs);
    const codec = createEventCodec(cfg.settings.SCHEMA_REGISTRY_URL, limits, topics);
    const single = start('single', refNs, 'lj_one');

    await produce(kafka, codec, topics, dataset.phases[0]!);
    const a = start('a', twoNs, 'lj_two');
    await waitFor(
      'instance a to own the 4 partitions and join phase 1',
      async () => restoredPartitions(a).length === PARTITIONS && (await countVisible(twoDb)).labeled > 100,
      60_000,
      200,
    );

    // Second instance mid-run: two partitions move from a to b (b restores them on its first batch,
    // so phase 2 is produced once the move happened).
    const b = start('b', twoNs, 'lj_two');
    await waitFor(
      'the rebalance',
      async () => a.logged('partition state dropped (revoked)').length > 0 && b.logged('partitions assigned').some((l) => (l.assigned as string[]).length > 0),
      60_000,
      100,
    );
    await produce(kafka, codec, topics, dataset.phases[1]!);
    await waitFor('b to take over two partitions', async () => restoredPartitions(b).length === 2, 60_000, 200);
    const movedToB = restoredPartitions(b);
    expect(movedToB.every((l) => (l.changelogRecords as number) > 0)).toBe(true); // a's state, not a fresh start
    const group = `${twoNs}.label-joiner`;
    await waitFor('phase 2 to be consumed by a and b', async () => committedToEnd(kafka, group, [topics.predictions, topics.outcomes]), 60_000, 200);
    expect(a.logged('partition state restored').length).toBe(PARTITIONS); // a kept its other two partitions throughout

    // First instance stopped (SIGTERM, graceful): its partitions move to b.
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    await produce(kafka, codec, topics, dataset.phases[2]!);
    await waitFor('b to own all four partitions', async () => new Set(restoredPartitions(b).map((l) => l.partition)).size === PARTITIONS, 60_000, 200);

    const complete = async (db: ClickHouse) => {
      const c = await countVisible(db);
      return c.labeled === expected.labeled.size && c.late === expected.late.size;
    };
    await waitFor('the single instance to finish', () => complete(oneDb), 90_000, 500);
    await waitFor('the two instances to finish', () => complete(twoDb), 90_000, 500);
    const one = await readVisible(oneDb);
    const two = await readVisible(twoDb);
    expect(two.labeled).toEqual(one.labeled);
    expect(two.late).toEqual(one.late);
    expect(one.labeled).toEqual(expected.labeled);
    expect(one.late).toEqual(expected.late);

    // The partitions b took over from a at the end came with a's pending state.
    const takenAtStop = restoredPartitions(b).slice(2);
    expect(takenAtStop.map((l) => l.partition).sort()).toEqual([0, 1, 2, 3].filter((p) => !movedToB.some((m) => m.partition === p)));
    expect(takenAtStop.every((l) => (l.changelogRecords as number) > 0)).toBe(true);
    expect([...movedToB, ...takenAtStop].reduce((n, l) => n + (l.pending as number), 0)).toBeGreaterThan(0);
    void single;
  }
}
