/**
 * Scenario 5 (docs/reliability.md): processor instances are added and removed while traffic flows
 * (scale out to 2 of each, the joiner to 4, then back in: gracefully with SIGTERM, and once
 * abruptly with SIGKILL). The result equals one instance's: every event once, the joined set and
 * the windows equal the oracle. The joiner runs 1, 2 or 4 instances (a count that divides the 4
 * partitions, as docs require).
 */
import { afterAll, describe, expect, it } from 'vitest';
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
import { inputRecords, buildWorkload, encodeRecords, producePaced, sized } from '../support/reliability/workload.js';

const PREDICTIONS = sized(5_000, 60_000);
const STEPS = sized(20, 80);
const PRODUCE_MS = sized(40_000, 240_000);

let run: ReliabilityRun | undefined;
afterAll(async () => {
  await run?.stop();
});

describe('reliability: rebalances while traffic flows', () => {
  it('adding and removing instances gives the single-instance result', { timeout: sized(300_000, 1_200_000) }, async () => {
    const w = buildWorkload(51, PREDICTIONS);
    run = await startRun();
    const e = await expectationsFor(run, w);
    for (const name of ['ingest', 'label-joiner', 'window-metrics']) await run.start(name);
    const r = run;
    const events: string[] = [];
    const add = async (name: string) => {
      const c = await r.start(name);
      events.push(`+${c.name}-${c.instance}`);
    };
    const remove = async (name: string, signal: NodeJS.Signals) => {
      const c = r.pipeline.running(name).at(-1);
      if (!c || r.pipeline.running(name).length < 2) return;
      await r.pipeline.kill(c, signal);
      events.push(`-${c.name}-${c.instance}(${signal})`);
    };
    // step -> actions; the joiner goes 1 -> 2 -> 4 -> 2 -> 1, the others 1 -> 2 -> 1.
    const plan: Record<number, () => Promise<void>> = {
      [Math.floor(STEPS * 0.15)]: async () => {
        await add('ingest');
        await add('label-joiner');
        await add('window-metrics');
      },
      [Math.floor(STEPS * 0.35)]: async () => {
        await add('label-joiner');
        await add('label-joiner');
      },
      [Math.floor(STEPS * 0.55)]: async () => {
        await remove('label-joiner', 'SIGTERM');
        await remove('label-joiner', 'SIGKILL');
        await remove('ingest', 'SIGTERM');
      },
      [Math.floor(STEPS * 0.75)]: async () => {
        await remove('label-joiner', 'SIGTERM');
        await remove('window-metrics', 'SIGTERM');
      },
    };
    const producer = await r.producer();
    const encoded = await encodeRecords(r.pipeline.codec, r.pipeline.topics, inputRecords(w));
    await producePaced(producer, encoded, { steps: STEPS, durationMs: PRODUCE_MS, onStep: async (s) => plan[s]?.() });
    const drainMs = await waitForCompletion(r, w, e, sized(180_000, 900_000), () =>
      r.pipeline
        .running()
        .map((c) => logTail(c, 30))
        .join('\n'),
    );

    const ch = r.pipeline.clickhouse.ch;
    const raw = await accountRaw(ch, w);
    const join = await accountJoin(ch, e.join);
    const windows = await accountWindows(ch, e.windows);
    const labeledTopic = await labeledTopicCopies(r.pipeline.kafka, r.pipeline.topics);
    const lateInWindows = await windowLateEvents(ch, r.pipeline.topics);
    const dead = await accountDeadLetters(r.pipeline.kafka, r.pipeline.topics, ch);
    const t = totals(raw, join);
    report('rebalance', {
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
      membership: events,
      drainMs,
      processesAtEnd: r.pipeline.running().map((c) => `${c.name}-${c.instance}`),
    });
    expect(events.filter((x) => x.startsWith('+')).length).toBe(5);
    expect(events.filter((x) => x.startsWith('-')).length).toBe(5);
    for (const a of raw)
      expect({ table: a.table, lost: a.lost, duplicated: a.duplicated, unexpected: a.unexpected }).toEqual({
        table: a.table,
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
    expect(dead.topic, 'dead-letter topic').toEqual([]);
    expect(dead.table, 'dead_letter_events rows').toEqual([]);
  });
});
