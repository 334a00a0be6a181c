/**
 * Scenario 7 (docs/reliability.md): steady traffic for a while (CI: 60 s; full: 20 min). Sampled
 * every few seconds: RSS of each processor (/proc/<pid>/status VmRSS), the label-joiner's state
 * gauges (pending predictions, buffered outcomes, remembered closed predictions) and the number of
 * windows window-metrics holds open (partials not yet evaluated). After warm-up none of them may
 * grow: RSS stays within a band, the join state within its event-time bound, and open windows
 * within the few the watermark allows. At the end every event is accounted for, as in the others.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { queryRows } from '../support/stack.js';
import { expectationsFor, logTail, rssBytes, scrapeGauge, startRun, waitForCompletion, type ReliabilityRun } from '../support/reliability/harness.js';
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
import { inputRecords, buildWorkload, encodeRecords, producePaced, sized, WINDOW_MS } from '../support/reliability/workload.js';

const SOAK_MS = sized(60_000, 1_200_000);
const SAMPLE_MS = sized(3_000, 15_000);
/** Predictions per second of wall time (event time runs at 2000 predictions per 60 s window). */
const RATE = sized(120, 150);
const CLOSED_RETENTION_MS = 120_000;
/** RSS band: the late-phase median may exceed the mid-phase median by this factor (+ slack for GC noise). */
const RSS_BAND = 1.25;
const RSS_SLACK_BYTES = 48 * 1024 * 1024;

let run: ReliabilityRun | undefined;
afterAll(async () => {
  await run?.stop();
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

describe('reliability: soak', () => {
  it('keeps RSS, join state and window state flat under steady traffic', { timeout: SOAK_MS + sized(200_000, 900_000) }, async () => {
    const predictions = Math.round((RATE * SOAK_MS) / 1000);
    const w = buildWorkload(61, predictions);
    run = await startRun({ env: { JOIN_CLOSED_RETENTION_MS: String(CLOSED_RETENTION_MS) } });
    const e = await expectationsFor(run, w);
    const procs = await Promise.all(['ingest', 'label-joiner', 'window-metrics'].map((n) => run!.start(n)));
    const joiner = procs[1]!;
    const { topics, namespace } = run.pipeline;
    const ch = run.pipeline.clickhouse.ch;
    const samples: {
      at: number;
      rss: Record<string, number | null>;
      pending: number | null;
      outcomes: number | null;
      closed: number | null;
      openWindows: number;
    }[] = [];
    const openWindows = async () =>
      Number(
        (
          await queryRows<{ n: string }>(
            ch,
            `SELECT count() AS n FROM (SELECT DISTINCT model_name, model_version, window_start FROM window_state FINAL WHERE kind = 'partial' AND topic = {t:String})
             WHERE (model_name, model_version, window_start) NOT IN (SELECT model_name, model_version, window_start FROM window_evaluations FINAL WHERE namespace = {ns:String} AND stage = 'predictions')`,
            { t: topics.predictions, ns: namespace },
          )
        )[0]!.n,
      );
    const sample = async () => {
      const gauge = (kind: string) => scrapeGauge(joiner.metricsPort, 'driftwatch_join_state_entries', { kind }).catch(() => null);
      samples.push({
        at: Date.now(),
        rss: Object.fromEntries(procs.map((p) => [p.name, rssBytes(p.child.pid)])),
        pending: await gauge('pending'),
        outcomes: await gauge('outcome'),
        closed: await gauge('closed'),
        openWindows: await openWindows(),
      });
    };
    const producer = await run.producer();
    const encoded = await encodeRecords(run.pipeline.codec, topics, inputRecords(w));
    const began = Date.now();
    let lastSample = 0;
    await producePaced(producer, encoded, {
      steps: Math.round(SOAK_MS / 1000),
      durationMs: SOAK_MS,
      onStep: async () => {
        if (Date.now() - lastSample >= SAMPLE_MS) {
          lastSample = Date.now();
          await sample();
        }
      },
    });
    const drainMs = await waitForCompletion(run, w, e, sized(180_000, 900_000), () =>
      run!.pipeline
        .running()
        .map((c) => logTail(c, 30))
        .join('\n'),
    );

    const raw = await accountRaw(ch, w);
    const join = await accountJoin(ch, e.join);
    const windows = await accountWindows(ch, e.windows);
    const labeledTopic = await labeledTopicCopies(run!.pipeline.kafka, run!.pipeline.topics);
    const lateInWindows = await windowLateEvents(ch, run!.pipeline.topics);
    // Measured, not assumed: steady traffic of good records must produce no dead letter at all.
    const dead = await accountDeadLetters(run!.pipeline.kafka, run!.pipeline.topics, ch);
    const t = totals(raw, join);
    // Phases: first third warm-up, then mid and late thirds compared.
    const n = samples.length;
    const mid = samples.slice(Math.floor(n / 3), Math.floor((2 * n) / 3));
    const late = samples.slice(Math.floor((2 * n) / 3));
    const rss = Object.fromEntries(
      procs.map((p) => {
        const m = median(mid.map((s) => s.rss[p.name] ?? 0));
        const l = median(late.map((s) => s.rss[p.name] ?? 0));
        const max = Math.max(...samples.map((s) => s.rss[p.name] ?? 0));
        return [
          p.name,
          {
            midMedianMiB: Math.round(m / 2 ** 20),
            lateMedianMiB: Math.round(l / 2 ** 20),
            maxMiB: Math.round(max / 2 ** 20),
            ratio: Number((l / m).toFixed(3)),
          },
        ];
      }),
    );
    // Event-time bounds of the join state (docs/join-semantics.md): a prediction is pending at most
    // label wait + watermark delay, remembered closed for JOIN_CLOSED_RETENTION_MS more, all at
    // 2000 predictions per window; x1.5 for the disorder between the two inputs.
    const perMs = w.predictions.length / (w.windows * WINDOW_MS);
    const pendingBound = Math.ceil(1.5 * perMs * (120_000 + 10_000));
    const closedBound = Math.ceil(1.5 * perMs * (CLOSED_RETENTION_MS + 130_000));
    const maxOf = (xs: (number | null)[]) => Math.max(0, ...xs.map((x) => x ?? 0));
    report('soak', {
      labeledTopic,
      lateInWindows,
      scale: sized('ci', 'full'),
      soakMs: Date.now() - began - drainMs,
      produced: t.produced,
      stored: t.stored,
      deadLettered: dead.topic.length,
      deadLetterRows: dead.table.length,
      deadLettersByComponentCode: dead.byComponentCode,
      duplicated: t.duplicated,
      lost: t.lost,
      samples: n,
      rss,
      joinPending: { mid: maxOf(mid.map((s) => s.pending)), late: maxOf(late.map((s) => s.pending)), bound: pendingBound },
      joinClosed: { mid: maxOf(mid.map((s) => s.closed)), late: maxOf(late.map((s) => s.closed)), bound: closedBound },
      joinBufferedOutcomes: { late: maxOf(late.map((s) => s.outcomes)) },
      openWindows: { mid: maxOf(mid.map((s) => s.openWindows)), late: maxOf(late.map((s) => s.openWindows)) },
      drainMs,
    });

    expect(n).toBeGreaterThanOrEqual(9);
    expect(
      late.every((s) => s.pending !== null && s.closed !== null),
      'join gauges scraped',
    ).toBe(true);
    for (const p of procs) {
      const m = median(mid.map((s) => s.rss[p.name] ?? 0));
      const l = median(late.map((s) => s.rss[p.name] ?? 0));
      expect(m, `${p.name} RSS sampled`).toBeGreaterThan(0);
      expect(l, `${p.name} late RSS ${l} within the band of its mid RSS ${m}`).toBeLessThanOrEqual(m * RSS_BAND + RSS_SLACK_BYTES);
    }
    expect(maxOf(late.map((s) => s.pending))).toBeLessThanOrEqual(pendingBound);
    expect(maxOf(late.map((s) => s.closed))).toBeLessThanOrEqual(closedBound);
    expect(maxOf(late.map((s) => s.outcomes))).toBeLessThanOrEqual(pendingBound);
    // Open windows: those within lateness of the watermark plus what evaluation has not reached yet.
    expect(maxOf(late.map((s) => s.openWindows))).toBeLessThanOrEqual(6);
    for (const r of raw)
      expect({ table: r.table, lost: r.lost, duplicated: r.duplicated, unexpected: r.unexpected }).toEqual({
        table: r.table,
        lost: 0,
        duplicated: 0,
        unexpected: 0,
      });
    expect({ lost: join.lost, duplicated: join.duplicated, different: join.different }).toEqual({ lost: 0, duplicated: 0, different: 0 });
    for (const x of windows)
      expect({ table: x.table, missing: x.missing, unexpected: x.unexpected, different: x.different }).toEqual({
        table: x.table,
        missing: 0,
        unexpected: 0,
        different: 0,
      });
    expect(
      dead.topic.map((d) => `${d.component}|${d.code}|${d.key}`),
      'records on the dead-letter topic',
    ).toEqual([]);
    expect(dead.table, 'dead_letter_events rows').toEqual([]);
  });
});
