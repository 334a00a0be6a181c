/**
 * Scenario 1 (docs/reliability.md): every processor and service is SIGKILLed at seeded random points
 * while traffic flows, and restarted. Afterwards every produced event is in the query-visible tables
 * exactly once (FINAL), and the joined set and every window-metrics row equal what an uninterrupted
 * run computes (the pure-core oracle, test/support/reliability/oracle.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { queryRows } from '../support/stack.js';
import {
  READY,
  expectationsFor,
  logTail,
  produceWithKills,
  readyAfter,
  startRun,
  waitForCompletion,
  type ReliabilityRun,
} from '../support/reliability/harness.js';
import {
  accountDeadLetters,
  accountJoin,
  accountRaw,
  accountWindows,
  labeledTopicCopies,
  report,
  totals,
  windowLateEvents,
} from '../support/reliability/verify.js';
import { inputRecords, buildWorkload, encodeRecords, sized } from '../support/reliability/workload.js';

const SEED = 20240613;
const PREDICTIONS = sized(6_000, 110_000); // + ~90% outcomes: CI ~11.5k events, full ~210k
const KILLS = sized(7, 24);
const STEPS = sized(28, 120);
const PRODUCE_MS = sized(35_000, 240_000);
const VICTIMS = ['ingest', 'label-joiner', 'window-metrics', 'retrain-trigger', 'api'] as const;

const POLICY_YAML = `
policies:
  - id: credit-drift
    model: credit
    when:
      drift: { min_features: 1, min_severity: warning }
    fire_after_windows: 1
    rearm_after_windows: 1
`;

let run: ReliabilityRun | undefined;
afterAll(async () => {
  await run?.stop();
});

describe('reliability: SIGKILL of every component at random points', () => {
  it('loses nothing, duplicates nothing, and ends with the uninterrupted result', { timeout: sized(240_000, 1_800_000) }, async () => {
    const w = buildWorkload(SEED, PREDICTIONS);
    run = await startRun({ yaml: POLICY_YAML });
    const e = await expectationsFor(run, w);
    const first = await Promise.all(VICTIMS.map((name) => run!.start(name)));
    const startedAt = Date.now();
    const startupMs = await Promise.all(first.map((c) => readyAfter(c, startedAt, READY[c.name]!)));

    const encoded = await encodeRecords(run.pipeline.codec, run.pipeline.topics, inputRecords(w));
    const began = Date.now();
    const { killedAt, recoveries } = await produceWithKills(run, encoded, { seed: SEED, kills: KILLS, steps: STEPS, durationMs: PRODUCE_MS, victims: VICTIMS });
    const producedAt = Date.now();
    const recovered = await Promise.all(recoveries);
    const drainMs = await waitForCompletion(run, w, e, sized(150_000, 900_000), () =>
      run!.pipeline
        .running()
        .map((c) => logTail(c))
        .join('\n'),
    );

    const ch = run.pipeline.clickhouse.ch;
    const raw = await accountRaw(ch, w);
    const join = await accountJoin(ch, e.join);
    const windows = await accountWindows(ch, e.windows);
    const labeledTopic = await labeledTopicCopies(run!.pipeline.kafka, run!.pipeline.topics);
    const lateInWindows = await windowLateEvents(ch, run!.pipeline.topics);
    // Measured, not assumed: a crash or restart must not turn a good record into a dead letter.
    const dead = await accountDeadLetters(run!.pipeline.kafka, run!.pipeline.topics, ch);
    const retrain = await queryRows<{ n: string; keys: string }>(ch, 'SELECT count() AS n, uniqExact(idempotency_key) AS keys FROM retrain_events FINAL');
    const t = totals(raw, join);
    report('sigkill', {
      labeledTopic,
      lateInWindows,
      scale: sized('ci', 'full'),
      produced: t.produced,
      stored: t.stored,
      deadLettered: dead.topic.length,
      deadLetterRows: dead.table.length,
      deadLettersByComponentCode: dead.byComponentCode,
      duplicated: t.duplicated,
      lost: t.lost,
      redeliveriesAbsorbed: t.redeliveriesAbsorbed,
      kills: killedAt,
      startupMs: Object.fromEntries(VICTIMS.map((v, i) => [v, startupMs[i]])),
      recoveryMs: recovered,
      produceMs: producedAt - began,
      drainAfterLastEventMs: drainMs,
      joined: { expected: join.expected, stored: join.stored, different: join.different, late: join.lateStored },
      windowRows: Object.fromEntries(
        windows.map((x) => [x.table, { expected: x.expected, stored: x.stored, different: x.different, unexpected: x.unexpected }]),
      ),
      retrainEvents: Number(retrain[0]!.n),
      runningAtEnd: run.pipeline.running().map((c) => `${c.name}-${c.instance}`),
    });

    expect(killedAt.length).toBe(KILLS);
    for (const v of VICTIMS)
      expect(
        killedAt.some((k) => k.startsWith(`${v}@`)),
        `${v} was killed`,
      ).toBe(true);
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
    expect(Number(retrain[0]!.n)).toBe(Number(retrain[0]!.keys));
    expect(
      dead.topic.map((d) => `${d.component}|${d.code}|${d.key}`),
      'records on the dead-letter topic',
    ).toEqual([]);
    expect(dead.table, 'dead_letter_events rows').toEqual([]);
    // Every component is up at the end (the killed ones were restarted and stayed up).
    expect(new Set(run.pipeline.running().map((c) => c.name))).toEqual(new Set(VICTIMS));
  });
});
