/**
 * The label-joiner's co-partitioning check at startup, end to end: the real process
 * (`stream-processors/label-joiner/main.ts`) against the real broker, with topics whose partition
 * counts differ. It must refuse to start, exit non-zero with DW_TOPIC_LAYOUT_INVALID and a message
 * that names every topic's count, and leave no topic it would have created with the wrong count.
 * (kafka.checkCoPartitioned itself is tested in test/integration/foundation/kafka-registry.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicNames } from '../../../lib/contracts/topics.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { testConfig, testLogger, uniqueName } from '../../support/stack.js';
import { spawnJoiner, type JoinerProcess } from './support.js';

/** The startup check must fail fast: a misconfiguration is not an outage to retry. */
const EXIT_WITHIN_MS = 60_000;

let kafka: KafkaAdapter;
const dirs: string[] = [];
const procs: JoinerProcess[] = [];

beforeAll(async () => {
  kafka = createKafkaAdapter(testConfig().settings, testLogger, 'lj-startup-test');
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await kafka?.disconnect();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Fatal {
  level: string;
  component: string;
  err: { code: string; retriable: boolean; message: string; counts?: Record<string, number> };
}

/** Runs the joiner on namespace `ns` until it exits; returns its exit code and its fatal line. */
async function runJoiner(ns: string): Promise<{ code: number | null; fatal: Fatal; proc: JoinerProcess }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dw-lj-startup-'));
  dirs.push(dataDir);
  // Its own embedded ClickHouse directory: the default (.local/clickhouse) is the main job's.
  const proc = spawnJoiner(uniqueName('lj-startup'), { DW_TOPIC_NAMESPACE: ns, KAFKA_TOPIC_PARTITIONS: '4', CLICKHOUSE_DATA_DIR: dataDir, LOG_LEVEL: 'info' });
  procs.push(proc);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    proc.exited,
    new Promise<never>((_, fail) => {
      timer = setTimeout(
        () => fail(new Error(`label-joiner still running after ${EXIT_WITHIN_MS} ms: the layout check did not stop it\n${proc.stderr.join('')}`)),
        EXIT_WITHIN_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  const line = proc.stderr
    .join('')
    .split('\n')
    .find((l) => l.includes('"level":"fatal"'));
  expect(line, `no fatal line on stderr:\n${proc.stderr.join('')}`).toBeDefined();
  return { code, fatal: JSON.parse(line!) as Fatal, proc };
}

describe('label-joiner startup: co-partitioning', () => {
  it('refuses to start when the outcomes topic has a different partition count than the predictions topic', async () => {
    const ns = uniqueName('it-lj-layout');
    const topics = topicNames(ns);
    await kafka.createTopic(topics.predictions, 4);
    await kafka.createTopic(topics.outcomes, 3);

    const { code, fatal, proc } = await runJoiner(ns);
    expect(code).toBe(1);
    expect(fatal).toMatchObject({ level: 'fatal', component: 'label-joiner', err: { code: 'DW_TOPIC_LAYOUT_INVALID', retriable: false } });
    expect(fatal.err.message).toBe(
      `topics must be co-partitioned (same partition count, keyed by prediction_id): ${topics.predictions}=4, ${topics.outcomes}=3`,
    );
    expect(fatal.err.counts).toEqual({ [topics.predictions]: 4, [topics.outcomes]: 3 });
    // It never got as far as joining anything.
    expect(proc.logged('label-joiner started')).toEqual([]);
    // The output and changelog topics take the inputs' count; with no agreed count none was created.
    for (const t of [topics.labeledPredictions, topics.joinChangelog]) {
      await expect(kafka.partitionCount(t), t).rejects.toMatchObject({ type: 'UNKNOWN_TOPIC_OR_PARTITION' });
    }
  });

  it("refuses to start when its changelog (from an earlier layout) has another count than the inputs'", async () => {
    const ns = uniqueName('it-lj-layout');
    const topics = topicNames(ns);
    await kafka.createTopic(topics.predictions, 4);
    await kafka.createTopic(topics.outcomes, 4);
    await kafka.createTopic(topics.joinChangelog, 2, { compacted: true });

    const { code, fatal } = await runJoiner(ns);
    expect(code).toBe(1);
    expect(fatal.err.code).toBe('DW_TOPIC_LAYOUT_INVALID');
    expect(fatal.err.counts).toEqual({ [topics.predictions]: 4, [topics.outcomes]: 4, [topics.labeledPredictions]: 4, [topics.joinChangelog]: 2 });
    expect(fatal.err.message).toContain(`${topics.joinChangelog}=2`);
  });
});
