/**
 * Scenario 4 (docs/reliability.md): ClickHouse becomes unavailable while traffic flows (the
 * chdb-http server answers every request with 503). No processor commits an offset while it cannot
 * write its results; nothing is dead-lettered; once ClickHouse is back every event is stored once
 * and the join and windows equal the oracle.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { queryRows, waitFor } from '../support/stack.js';
import { expectationsFor, logTail, startRun, waitForCompletion, type ReliabilityRun } from '../support/reliability/harness.js';
import {
  labeledTopicCopies,
  windowLateEvents,
  accountJoin,
  accountRaw,
  accountWindows,
  accountDeadLetters,
  report,
  totals,
} from '../support/reliability/verify.js';
import { inputRecords, buildWorkload, encodeRecords, sendAll, sized } from '../support/reliability/workload.js';

const PREDICTIONS = sized(4_000, 40_000);
const OUTAGE_MS = sized(12_000, 60_000);
const PROCESSORS = ['ingest', 'label-joiner', 'window-metrics'] as const;

let run: ReliabilityRun | undefined;
afterAll(async () => {
  run?.pipeline.clickhouse.server.setUnavailable(false);
  await run?.stop();
});

describe('reliability: ClickHouse unavailable', () => {
  it('commits no offsets during the outage and loses nothing', { timeout: sized(240_000, 1_200_000) }, async () => {
    const w = buildWorkload(41, PREDICTIONS);
    run = await startRun();
    const e = await expectationsFor(run, w);
    for (const name of PROCESSORS) await run.start(name);
    const { kafka, topics, namespace } = run.pipeline;
    const inputs: Record<string, string[]> = {
      ingest: [topics.predictions, topics.outcomes],
      'label-joiner': [topics.predictions, topics.outcomes],
      'window-metrics': [topics.predictions, topics.labeledPredictions],
    };
    const committed = async () => {
      const out: Record<string, number> = {};
      for (const p of PROCESSORS) out[p] = (await kafka.consumerLag(`${namespace}.${p}`, inputs[p]!)).reduce((n, l) => n + l.committed, 0);
      return out;
    };
    const producer = await run.producer();
    const records = await encodeRecords(run.pipeline.codec, topics, inputRecords(w));
    const half = Math.floor(w.records.length / 2);
    await sendAll(producer, records.slice(0, half));
    await waitFor(
      'ingest to store part of the first half',
      async () => Number((await queryRows<{ n: string }>(run!.pipeline.clickhouse.ch, 'SELECT count() AS n FROM raw_predictions'))[0]!.n) > 0,
      120_000,
      200,
    );

    run.pipeline.clickhouse.server.setUnavailable(true);
    const downAt = Date.now();
    await sendAll(producer, records.slice(half, w.records.length));
    // Batches that were already past their insert may still commit: let them settle, then watch.
    await new Promise((r) => setTimeout(r, 3000));
    const before = await committed();
    await new Promise((r) => setTimeout(r, OUTAGE_MS - 3000));
    const after = await committed();
    const ingestLag = (await kafka.consumerLag(`${namespace}.ingest`, inputs.ingest!)).reduce((n, l) => n + l.lag, 0);
    run.pipeline.clickhouse.server.setUnavailable(false);
    const upAt = Date.now();
    await sendAll(producer, records.slice(w.records.length));
    const drainMs = await waitForCompletion(run, w, e, sized(180_000, 900_000), () =>
      run!.pipeline
        .running()
        .map((c) => logTail(c, 30))
        .join('\n'),
    );

    const ch = run.pipeline.clickhouse.ch;
    const raw = await accountRaw(ch, w);
    const join = await accountJoin(ch, e.join);
    const windows = await accountWindows(ch, e.windows);
    const labeledTopic = await labeledTopicCopies(run!.pipeline.kafka, run!.pipeline.topics);
    const lateInWindows = await windowLateEvents(ch, run!.pipeline.topics);
    const dead = await accountDeadLetters(run!.pipeline.kafka, run!.pipeline.topics, ch);
    const t = totals(raw, join);
    report('clickhouse-outage', {
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
      outageMs: upAt - downAt,
      committedDuringOutage: { before, after },
      ingestLagDuringOutage: ingestLag,
      recoveryMs: drainMs,
      processesAtEnd: run.pipeline.running().map((c) => `${c.name}-${c.instance}`),
    });

    expect(after, 'offsets committed while ClickHouse was down').toEqual(before);
    expect(ingestLag).toBeGreaterThan(0);
    for (const r of raw)
      expect({ table: r.table, lost: r.lost, duplicated: r.duplicated, unexpected: r.unexpected }).toEqual({
        table: r.table,
        lost: 0,
        duplicated: 0,
        unexpected: 0,
      });
    expect({ lost: join.lost, duplicated: join.duplicated, unexpected: join.unexpected, different: join.different, lateDifferent: join.lateDifferent }).toEqual(
      { lost: 0, duplicated: 0, unexpected: 0, different: 0, lateDifferent: 0 },
    );
    for (const x of windows)
      expect({ table: x.table, missing: x.missing, unexpected: x.unexpected, different: x.different, examples: x.examples }).toEqual({
        table: x.table,
        missing: 0,
        unexpected: 0,
        different: 0,
        examples: [],
      });
    expect(dead.topic, 'dead-letter topic').toEqual([]);
    expect(dead.table, 'dead_letter_events rows').toEqual([]);
    // The outage was ridden out in-process: no processor died.
    expect(
      run.pipeline
        .running()
        .map((c) => `${c.name}-${c.instance}`)
        .sort(),
    ).toEqual(PROCESSORS.map((p) => `${p}-1`).sort());
  });
});
