/**
 * Scenario 9 (docs/reliability.md): the retrain worker (services/retrain-worker) is SIGKILLed at every
 * point of a run where a crash leaves part of its work durable, and restarted each time. It has real
 * work: a RetrainRequested event on the run's topic, the sample credit-risk v1 in the model registry,
 * and labeled data in the training range.
 *
 * The kill points are exact: each instance talks to ClickHouse through a gate
 * (test/support/reliability/clickhouse-gate.ts) that stops answering right after one write, so the
 * instance dies with that write durable and the next one not made. The points, in run order: after
 * the `started` row; after `trained` (nothing registered yet); after the model_versions row but
 * before `registered` is recorded; after `registered`; after the reference profile but before
 * `profiled`; after `profiled`; after the champion promotion but before `promoted`. An eighth
 * instance runs to the end.
 *
 * Asserted: exactly one new version (v2), trained only while no version was registered; one
 * reference profile for it; one promotion to champion; every step recorded; each restart resumed
 * from what was durable (the writes each instance made, as the gate saw them); the event committed
 * (group lag 0) and never dead-lettered.
 *
 * The worker's input tables are written directly with the processors' own row functions
 * (raw_predictions: ingest's predictionRow; labeled_predictions: the joiner's labeledPredictionRow):
 * the data path into them is what scenarios 1-8 test, this one is about the worker.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LabeledPrediction, PredictionEvent, RetrainRequested } from '../../lib/contracts/schemas.js';
import { createModelRegistry } from '../../services/scoring/model-registry.js';
import { generateRows } from '../../services/scoring/sample-models/feature-space.js';
import { businessOutcome } from '../../services/simulator/core.js';
import { predictionRow } from '../../stream-processors/ingest/core.js';
import { labeledPredictionRow } from '../../stream-processors/label-joiner/rows.js';
import { registerSample } from '../integration/scoring/helpers.js';
import { queryRows, waitFor } from '../support/stack.js';
import { clickHouseGate, type ClickHouseGate, type GatedRequest } from '../support/reliability/clickhouse-gate.js';
import { READY, logTail, readyAfter, startRun, trace, type ReliabilityRun } from '../support/reliability/harness.js';
import { accountDeadLetters, report } from '../support/reliability/verify.js';

const MODEL = 'credit-risk';
const PREDICTIONS = 2_000;
const LABELED_SHARE = 0.9;
const CONFIG_FILE = resolve(new URL('../../config/driftwatch.yaml', import.meta.url).pathname);

/** A timer that does not keep the test process alive (a race loser must not hold vitest open). */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** The step a retrain_runs insert records (its body is one JSONEachRow row). */
function stepOf(r: GatedRequest): string | null {
  if (r.insertInto !== 'retrain_runs') return null;
  return (JSON.parse(r.body.trim().split('\n')[0]!) as { step: string }).step;
}

interface KillPoint {
  /** What is durable when the instance dies. */
  readonly after: string;
  readonly matches: (r: GatedRequest) => boolean;
}
const step = (s: string): KillPoint => ({ after: `retrain_runs:${s}`, matches: (r) => stepOf(r) === s });
const table = (t: string): KillPoint => ({ after: t, matches: (r) => r.insertInto === t });

const KILL_POINTS: readonly KillPoint[] = [
  step('started'),
  step('trained'),
  table('model_versions'),
  step('registered'),
  table('reference_profiles'),
  step('profiled'),
  table('model_promotions'),
];

/**
 * The durable writes of each instance, in order (the worker's documented protocol, worker.ts): the
 * instance after the model_versions write finds its version through the version's metadata and
 * does not train again; later ones resume from retrain_runs; the profile and the promotion already
 * stored are reused, so the last instance writes no second promotion.
 */
const EXPECTED_WRITES: readonly (readonly string[])[] = [
  ['started'],
  ['started', 'data', 'trained'],
  ['started', 'data', 'trained', 'model_versions'],
  ['started', 'data', 'registered(resumed)'],
  ['started', 'data', 'registered(resumed)', 'reference_profiles'],
  ['started', 'data', 'registered(resumed)', 'profiled(resumed)'],
  ['started', 'data', 'registered(resumed)', 'profiled(resumed)', 'model_promotions'],
  ['started', 'data', 'registered(resumed)', 'profiled(resumed)', 'promoted'],
];

/** The writes of the worker's run as the gate saw them answered (`<step>` or a table name). */
function describeWrite(r: GatedRequest): string | null {
  const s = stepOf(r);
  if (s !== null) {
    const detail = JSON.parse((JSON.parse(r.body.trim().split('\n')[0]!) as { detail: string }).detail) as { resumed?: unknown };
    return detail.resumed === true ? `${s}(resumed)` : s;
  }
  return r.insertInto === 'model_versions' || r.insertInto === 'reference_profiles' || r.insertInto === 'model_promotions' ? r.insertInto : null;
}

let run: ReliabilityRun | undefined;
const gates: ClickHouseGate[] = [];
const modelDir = mkdtempSync(join(tmpdir(), 'dw-rel-retrain-'));
afterAll(async () => {
  for (const g of gates) await g.close().catch(() => undefined);
  await run?.stop();
  rmSync(modelDir, { recursive: true, force: true });
});

describe('reliability: SIGKILL of the retrain worker at every durable step', () => {
  it('trains one version, promotes it once, and resumes from what was durable', { timeout: 300_000 }, async () => {
    run = await startRun({ env: { DW_CONFIG_FILE: CONFIG_FILE, MODEL_DIR: modelDir } });
    const { codec, topics, kafka, namespace } = run.pipeline;
    const ch = run.pipeline.clickhouse.ch;
    const registry = createModelRegistry(ch, { modelDir });
    await registerSample(registry, MODEL, '1', 'champion');

    // One hour of served credit-risk v1 predictions, two days ago; 90% labeled.
    const start = Math.floor((Date.now() - 2 * 86_400_000) / 3_600_000) * 3_600_000;
    const end = start + 3_600_000;
    const rows = generateRows(MODEL, 913, PREDICTIONS);
    const raw = [];
    const labeled = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const t = start + Math.floor((i * 3_600_000) / rows.length);
      const ev: PredictionEvent = {
        event_id: `e-rw-${i}`,
        prediction_id: `p-rw-${i}`,
        model_name: MODEL,
        model_version: '1',
        event_time: t,
        features: r.features,
        score: null,
        probabilities: {},
        predicted_label: null,
        predicted_value: null,
        latency_ms: null,
        segment: r.segment,
        is_shadow: false,
        fallback: null,
      };
      raw.push(
        predictionRow(
          ev,
          { topic: topics.predictions, partition: 0, offset: String(i), key: null, value: null, headers: {}, timestamp: t },
          { value: ev, encoding: 'json', schemaId: null },
          t,
        ),
      );
      const isLabeled = i < rows.length * LABELED_SHARE;
      const lp: LabeledPrediction = {
        prediction_id: ev.prediction_id,
        model_name: MODEL,
        model_version: '1',
        prediction_time: t,
        features: ev.features,
        score: null,
        probabilities: {},
        predicted_label: null,
        predicted_value: null,
        segment: ev.segment,
        is_shadow: false,
        status: isLabeled ? 'LABELED' : 'UNLABELED',
        label: isLabeled ? r.label! : null,
        target_value: null,
        outcome_time: isLabeled ? t + 60_000 : null,
        label_delay_ms: isLabeled ? 60_000 : null,
        business: isLabeled ? businessOutcome(MODEL, r) : {},
        outcome_event_id: isLabeled ? `o-rw-${i}` : null,
        join_watermark: null,
      };
      labeled.push(labeledPredictionRow(lp, t + 60_000));
    }
    await ch.client.insert({ table: 'raw_predictions', values: raw, format: 'JSONEachRow' });
    await ch.client.insert({ table: 'labeled_predictions', values: labeled, format: 'JSONEachRow' });

    const key = `rt-reliability-${namespace}`;
    const event: RetrainRequested = {
      idempotency_key: key,
      policy_id: 'credit-risk-drift',
      model_name: MODEL,
      model_version: '1',
      created_at: Date.now(),
      conditions: [
        {
          kind: 'drift',
          metric: 'features_at_or_above_warning',
          value: 2,
          threshold: 2,
          comparator: 'gte',
          window_start: end - 900_000,
          window_end: end,
        },
      ],
      drifted_features: ['income', 'utilization'],
      training_range_start: start,
      training_range_end: end,
      reason: 'reliability scenario 9: a retrain event the worker is killed in the middle of',
    };
    const producer = await run.producer();
    await producer.send([{ topic: topics.retrainRequested, key: MODEL, value: await codec.encode(topics.retrainRequested, event) }]);
    const producedAt = Date.now();

    // One instance per kill point, then one that runs to the end.
    const cycles: { after: string; startupMs: number | null; untilKillMs: number; writes: string[] }[] = [];
    const writesOf: string[][] = [];
    for (let i = 0; i <= KILL_POINTS.length; i++) {
      const point = KILL_POINTS[i];
      const writes: string[] = [];
      const gate = await clickHouseGate(run.pipeline.clickhouse.url, (r) => {
        const w = describeWrite(r);
        if (w !== null) writes.push(w);
        return point?.matches(r) ?? false;
      });
      gates.push(gate);
      writesOf.push(writes);
      const began = Date.now();
      const worker = await run.start('retrain-worker', { CLICKHOUSE_URL: gate.url });
      const ready = readyAfter(worker, began, READY['retrain-worker']!);
      if (!point) {
        await waitFor(
          'the last instance to promote',
          async () =>
            Number(
              (
                await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM retrain_runs FINAL WHERE idempotency_key = {k:String} AND step = 'promoted'`, {
                  k: key,
                })
              )[0]!.n,
            ) === 1,
          120_000,
          250,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${logTail(worker, 40)}`);
        });
        cycles.push({ after: 'end', startupMs: await ready, untilKillMs: Date.now() - began, writes });
        break;
      }
      const outcome = await Promise.race([
        gate.closed.then(() => 'closed' as const),
        worker.exited.then(() => 'exited' as const),
        sleep(120_000).then(() => 'timeout' as const),
      ]);
      if (outcome !== 'closed') throw new Error(`retrain-worker-${worker.instance} ${outcome} before reaching ${point.after}\n${logTail(worker, 40)}`);
      await run.pipeline.kill(worker, 'SIGKILL');
      await gate.close();
      cycles.push({ after: point.after, startupMs: await ready, untilKillMs: Date.now() - began, writes: [...writes] });
      trace(`retrain-worker-${worker.instance} killed after ${point.after}: ${writes.join(', ')}`);
    }
    const promotedAfterMs = Date.now() - producedAt;

    // Committed once the last instance returned: the event is not redelivered again.
    const groupId = `${namespace}.retrain-worker`;
    const lag = await waitFor(
      'the retrain event to be committed',
      async () => {
        const l = await kafka.consumerLag(groupId, [topics.retrainRequested]);
        const total = l.reduce((n, p) => n + p.lag, 0);
        return total === 0 && l.some((p) => p.high > 0) ? l : undefined;
      },
      30_000,
      250,
    );
    const versions = await queryRows<{ v: string; key: string }>(
      ch,
      `SELECT model_version AS v, JSONExtractString(metadata, 'training', 'idempotency_key') AS key FROM model_versions FINAL WHERE model_name = {m:String} ORDER BY v`,
      { m: MODEL },
    );
    const promotions = await queryRows<{ v: string; actor: string }>(
      ch,
      `SELECT model_version AS v, actor FROM model_promotions WHERE model_name = {m:String} AND role = 'champion' ORDER BY at`,
      { m: MODEL },
    );
    const profiles = await queryRows<{ source: string }>(
      ch,
      `SELECT source FROM reference_profiles FINAL WHERE model_name = {m:String} AND model_version = '2'`,
      { m: MODEL },
    );
    const steps = await queryRows<{ step: string; v: string }>(
      ch,
      `SELECT step, new_version AS v FROM retrain_runs FINAL WHERE idempotency_key = {k:String} ORDER BY step`,
      { k: key },
    );
    const versionDirs = existsSync(join(modelDir, MODEL)) ? readdirSync(join(modelDir, MODEL)).sort() : [];
    const dead = await accountDeadLetters(kafka, topics, ch);
    const trainedBy = writesOf.map((w, i) => (w.includes('trained') ? `retrain-worker-${i + 1}` : null)).filter((x) => x !== null);
    report('retrain-worker-sigkill', {
      kills: cycles.filter((c) => c.after !== 'end').length,
      cycles,
      trainedBy,
      versions: versions.map((v) => v.v),
      championPromotions: promotions.map((p) => `${p.v}:${p.actor}`),
      profilesOfNewVersion: profiles.length,
      steps: steps.map((s) => s.step),
      versionDirs,
      deadLettered: dead.topic.length,
      deadLetterRows: dead.table.length,
      eventToPromotedMs: promotedAfterMs,
      committedLag: lag.reduce((n, p) => n + p.lag, 0),
    });

    expect(writesOf.map((w) => [...w])).toEqual(EXPECTED_WRITES);
    expect(versions).toEqual([
      { v: '1', key: '' },
      { v: '2', key },
    ]);
    expect(promotions).toEqual([
      { v: '1', actor: 'test' },
      { v: '2', actor: 'retrain-worker' },
    ]);
    expect(profiles).toHaveLength(1);
    expect(profiles[0]!.source).toContain(`retrain:${key}`);
    expect(steps.map((s) => s.step).sort()).toEqual(['data', 'profiled', 'promoted', 'registered', 'started', 'trained']);
    for (const s of steps.filter((x) => ['registered', 'profiled', 'promoted'].includes(x.step))) expect(s.v, s.step).toBe('2');
    // No half-written version directory is left next to the two versions.
    expect(versionDirs).toEqual(['1', '2']);
    expect(
      dead.topic.map((d) => `${d.component}|${d.code}|${d.key}`),
      'records on the dead-letter topic',
    ).toEqual([]);
    expect(dead.table, 'dead_letter_events rows').toEqual([]);
    expect(run.pipeline.running('retrain-worker')).toHaveLength(1);
  });
});
