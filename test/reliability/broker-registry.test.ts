/**
 * Scenarios 2 and 3 (docs/reliability.md), on a PRIVATE Kafka broker and schema registry (the shared
 * stack is never restarted; test/support/reliability/private-stack.ts):
 *  2. the broker is restarted while the processors have records in flight: they reconnect and
 *     nothing is lost or duplicated;
 *  3. the registry is stopped while traffic flows and processes with an empty schema cache start:
 *     events are not dead-lettered, they wait, and flow once the registry is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from '../../lib/runtime/kafka.js';
import { queryRows, waitFor } from '../support/stack.js';
import { READY, expectationsFor, readyAfter, logTail, startRun, waitForCompletion, type ReliabilityRun } from '../support/reliability/harness.js';
import { startPrivateStack, type PrivateStack } from '../support/reliability/private-stack.js';
import {
  accountJoin,
  labeledTopicCopies,
  windowLateEvents,
  accountRaw,
  accountWindows,
  accountDeadLetters,
  deadLetterRows,
  report,
  totals,
  type JoinAccount,
  type RawAccount,
  type WindowAccount,
} from '../support/reliability/verify.js';
import { inputRecords, buildWorkload, encodeRecords, sendAll, sized } from '../support/reliability/workload.js';

const PROCESSORS = ['ingest', 'label-joiner', 'window-metrics'] as const;
const PREDICTIONS = sized(4_000, 40_000);

let stack: PrivateStack | undefined;
const runs: ReliabilityRun[] = [];

beforeAll(async () => {
  stack = await startPrivateStack();
}, 300_000);

afterAll(async () => {
  for (const r of runs) await r.stop().catch(() => undefined);
  await stack?.stop();
}, 120_000);

/** Sends, retrying while the broker is away (kafkajs gives up on a request after its own retries). */
async function sendRetrying(producer: Producer, records: Parameters<Producer['send']>[0]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await sendAll(producer, records);
      return;
    } catch (err) {
      if (attempt > 60) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Consumer lag of a component's group; retried while the group coordinator moves (a fresh or restarted broker). */
async function lagOf(run: ReliabilityRun, component: string): Promise<number> {
  const topics = run.pipeline.topics;
  const inputs = component === 'window-metrics' ? [topics.predictions, topics.labeledPredictions] : [topics.predictions, topics.outcomes];
  return waitFor(
    `${component} lag`,
    async () => (await run.pipeline.kafka.consumerLag(`${run.pipeline.namespace}.${component}`, inputs)).reduce((n, l) => n + l.lag, 0),
    60_000,
    500,
  );
}

/** Runs a scenario on its own pipeline, stopped whatever happens (one served ClickHouse per process at a time). */
async function withRun(env: Record<string, string>, body: (run: ReliabilityRun) => Promise<void>): Promise<void> {
  const run = await startRun({ env });
  runs.push(run);
  try {
    await body(run);
  } finally {
    runs.splice(runs.indexOf(run), 1);
    await run.stop();
  }
}

function assertClean(raw: readonly RawAccount[], join: JoinAccount, windows: readonly WindowAccount[]): void {
  for (const r of raw)
    expect({ table: r.table, lost: r.lost, duplicated: r.duplicated, unexpected: r.unexpected }).toEqual({
      table: r.table,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
    });
  expect({
    lost: join.lost,
    duplicated: join.duplicated,
    unexpected: join.unexpected,
    different: join.different,
    lateDifferent: join.lateDifferent,
    examples: join.examples,
  }).toEqual({
    lost: 0,
    duplicated: 0,
    unexpected: 0,
    different: 0,
    lateDifferent: 0,
    examples: [],
  });
  for (const x of windows)
    expect({ table: x.table, missing: x.missing, unexpected: x.unexpected, different: x.different, examples: x.examples }).toEqual({
      table: x.table,
      missing: 0,
      unexpected: 0,
      different: 0,
      examples: [],
    });
}

describe('reliability: private broker and registry outages', () => {
  it('2. a broker restart mid-run: processors reconnect, nothing lost or duplicated', { timeout: sized(300_000, 1_200_000) }, async () => {
    const w = buildWorkload(7, PREDICTIONS);
    await withRun({ ...stack!.env }, async (run) => {
      const e = await expectationsFor(run, w);
      const started = Date.now();
      for (const c of await Promise.all(PROCESSORS.map((name) => run.start(name)))) await readyAfter(c, started, READY[c.name]!);
      const producer = await run.producer();
      const records = await encodeRecords(run.pipeline.codec, run.pipeline.topics, inputRecords(w));
      const half = Math.floor(w.records.length / 2);
      await sendRetrying(producer, records.slice(0, half));
      // Restart while the processors still have this half in flight.
      await waitFor(
        'ingest to consume some of the first half',
        async () => Number((await queryRows<{ n: string }>(run.pipeline.clickhouse.ch, 'SELECT count() AS n FROM raw_predictions'))[0]!.n) > 0,
        120_000,
        200,
      );
      const lagAtRestart = await lagOf(run, 'label-joiner');
      const restartMs = await stack!.command('restart-kafka');
      const brokerBackAt = Date.now();
      await sendRetrying(producer, records.slice(half));
      const drainMs = await waitForCompletion(run, w, e, sized(180_000, 900_000), () =>
        run.pipeline
          .running()
          .map((c) => logTail(c, 30))
          .join('\n'),
      );
      const ch = run.pipeline.clickhouse.ch;
      const raw = await accountRaw(ch, w);
      const join = await accountJoin(ch, e.join);
      const windows = await accountWindows(ch, e.windows);
      const labeledTopic = await labeledTopicCopies(run.pipeline.kafka, run.pipeline.topics);
      const lateInWindows = await windowLateEvents(ch, run.pipeline.topics);
      const dead = await accountDeadLetters(run.pipeline.kafka, run.pipeline.topics, ch);
      const t = totals(raw, join);
      report('kafka-restart', {
        labeledTopic,
        lateInWindows,
        scale: sized('ci', 'full'),
        produced: t.produced,
        stored: t.stored,
        deadLettered: dead.topic.length,
        deadLetterRows: dead.table.length,
        duplicated: t.duplicated,
        lost: t.lost,
        redeliveriesAbsorbed: t.redeliveriesAbsorbed,
        joinerLagAtRestart: lagAtRestart,
        brokerRestartMs: restartMs,
        sinceBrokerBackMs: Date.now() - brokerBackAt,
        drainMs,
        windowRows: windows.reduce((n, x) => n + x.stored, 0),
        processesAtEnd: run.pipeline.running().map((c) => `${c.name}-${c.instance}`),
      });
      assertClean(raw, join, windows);
      expect(dead.topic, 'dead-letter topic').toEqual([]);
      expect(dead.table, 'dead_letter_events rows').toEqual([]);
      // The same processes reconnected: none died and none was restarted.
      expect(
        run.pipeline
          .running()
          .map((c) => `${c.name}-${c.instance}`)
          .sort(),
      ).toEqual(PROCESSORS.map((p) => `${p}-1`).sort());
    });
  });

  it('3. the registry away: events wait (no dead letters), then flow', { timeout: sized(300_000, 1_200_000) }, async () => {
    const w = buildWorkload(8, PREDICTIONS);
    await withRun({ ...stack!.env }, async (run) => {
      const e = await expectationsFor(run, w);
      const started = Date.now();
      for (const c of await Promise.all(PROCESSORS.map((name) => run.start(name)))) await readyAfter(c, started, READY[c.name]!);
      const producer = await run.producer();
      const records = await encodeRecords(run.pipeline.codec, run.pipeline.topics, inputRecords(w));
      const third = Math.floor(w.records.length / 3);
      await sendAll(producer, records.slice(0, third));
      await waitFor(
        'ingest to consume the first third',
        async () => Number((await queryRows<{ n: string }>(run.pipeline.clickhouse.ch, 'SELECT count() AS n FROM raw_predictions FINAL'))[0]!.n) > 0,
        120_000,
        200,
      );

      await stack!.command('stop-registry');
      const downAt = Date.now();
      // Fresh processes have no cached schemas: they need the registry for every record.
      for (const name of ['ingest', 'label-joiner'] as const) {
        await run.pipeline.kill(run.pipeline.running(name)[0]!, 'SIGKILL');
        await run.start(name);
      }
      await sendAll(producer, records.slice(third, 2 * third));
      await new Promise((r) => setTimeout(r, sized(15_000, 60_000)));
      const storedWhileDown = Number((await queryRows<{ n: string }>(run.pipeline.clickhouse.ch, 'SELECT count() AS n FROM raw_predictions FINAL'))[0]!.n);
      const lagWhileDown = await lagOf(run, 'ingest');
      const deadWhileDown = (await deadLetterRows(run.pipeline.clickhouse.ch)).length;
      await new Promise((r) => setTimeout(r, 3000));
      const storedStill = Number((await queryRows<{ n: string }>(run.pipeline.clickhouse.ch, 'SELECT count() AS n FROM raw_predictions FINAL'))[0]!.n);
      const restartMs = await stack!.command('start-registry');
      const upAt = Date.now();
      await sendAll(producer, records.slice(2 * third));
      const drainMs = await waitForCompletion(run, w, e, sized(180_000, 900_000), () =>
        run.pipeline
          .running()
          .map((c) => logTail(c, 30))
          .join('\n'),
      );
      const ch = run.pipeline.clickhouse.ch;
      const raw = await accountRaw(ch, w);
      const join = await accountJoin(ch, e.join);
      const windows = await accountWindows(ch, e.windows);
      const labeledTopic = await labeledTopicCopies(run.pipeline.kafka, run.pipeline.topics);
      const lateInWindows = await windowLateEvents(ch, run.pipeline.topics);
      const dead = await accountDeadLetters(run.pipeline.kafka, run.pipeline.topics, ch);
      const t = totals(raw, join);
      report('registry-outage', {
        labeledTopic,
        lateInWindows,
        scale: sized('ci', 'full'),
        produced: t.produced,
        stored: t.stored,
        deadLettered: dead.topic.length,
        deadLetterRows: dead.table.length,
        duplicated: t.duplicated,
        lost: t.lost,
        outageMs: upAt - downAt,
        registryStartMs: restartMs,
        ingestLagWhileDown: lagWhileDown,
        storedWhileDown,
        recoveryMs: drainMs,
      });
      // While the registry was away the restarted ingest consumed nothing and dead-lettered nothing.
      expect(lagWhileDown).toBeGreaterThan(0);
      expect(storedStill).toBe(storedWhileDown);
      expect(deadWhileDown).toBe(0);
      assertClean(raw, join, windows);
      expect(dead.topic, 'dead-letter topic').toEqual([]);
      expect(dead.table, 'dead_letter_events rows').toEqual([]);
    });
  });
});
