/**
 * Scenario 8 (docs/reliability.md): the scoring service (services/scoring, a champion and a shadow
 * challenger) and ingest are SIGKILLed at seeded random points while feature events flow, and
 * restarted. Afterwards every feature event is in raw_features once, and has exactly one champion
 * and one shadow prediction in raw_predictions (FINAL), from the versions assigned: a feature event
 * scored again after a crash gives the same prediction event id (services/scoring/core.ts,
 * predictionEventId), so the re-scored copy collapses instead of counting twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutboundRecord } from '../../lib/runtime/kafka.js';
import { predictionEventId } from '../../services/scoring/core.js';
import { createModelRegistry } from '../../services/scoring/model-registry.js';
import { featureEvents, registerSample } from '../integration/scoring/helpers.js';
import { queryRows } from '../support/stack.js';
import { READY, logTail, produceWithKills, readyAfter, startRun, trace, type ReliabilityRun } from '../support/reliability/harness.js';
import { accountDeadLetters, accountTable, report } from '../support/reliability/verify.js';
import { sized } from '../support/reliability/workload.js';

const SEED = 20261122;
const EVENTS = sized(4_000, 100_000);
const KILLS = sized(6, 16);
const STEPS = sized(20, 80);
const PRODUCE_MS = sized(30_000, 180_000);
const VICTIMS = ['scoring', 'ingest'] as const;
/** The kill plan draws from this list: the scoring service twice as often as ingest. */
const KILL_PICKS = ['scoring', 'ingest', 'scoring'] as const;
const MODEL = 'credit-risk';

let run: ReliabilityRun | undefined;
const modelDir = mkdtempSync(join(tmpdir(), 'dw-rel-models-'));
afterAll(async () => {
  await run?.stop();
  rmSync(modelDir, { recursive: true, force: true });
});

describe('reliability: SIGKILL of the scoring service and ingest', () => {
  it('scores every feature event exactly once per role, and stores each once', { timeout: sized(240_000, 1_200_000) }, async () => {
    run = await startRun({ env: { MODEL_DIR: modelDir, SCORING_HTTP_PORT: '0', SCORING_MODEL_POLL_MS: '500' } });
    const ch = run.pipeline.clickhouse.ch;
    const registry = createModelRegistry(ch, { modelDir });
    await registerSample(registry, MODEL, '1', 'champion');
    await registerSample(registry, MODEL, '2', 'challenger');
    const first = await Promise.all(VICTIMS.map((name) => run!.start(name)));
    const startedAt = Date.now();
    const startupMs = await Promise.all(first.map((c) => readyAfter(c, startedAt, READY[c.name]!)));

    const events = featureEvents(MODEL, EVENTS, `rel-${SEED}`, SEED);
    const { codec, topics } = run.pipeline;
    const records: OutboundRecord[] = await Promise.all(
      events.map(async (e) => ({ topic: topics.features, key: e.entity_id, value: await codec.encode(topics.features, e) })),
    );

    const { killedAt, recoveries } = await produceWithKills(run, records, {
      seed: SEED,
      kills: KILLS,
      steps: STEPS,
      durationMs: PRODUCE_MS,
      victims: KILL_PICKS,
    });
    const producedAt = Date.now();
    trace('features produced');
    const recovered = await Promise.all(recoveries);

    const featureIds = new Set(events.map((e) => e.event_id));
    const predictionIds = new Set(events.flatMap((e) => [predictionEventId(e.event_id, '1', false), predictionEventId(e.event_id, '2', true)]));
    const counts = async () => {
      const [r] = await queryRows<{ f: string; p: string }>(
        ch,
        'SELECT (SELECT count() FROM raw_features FINAL) AS f, (SELECT count() FROM raw_predictions FINAL) AS p',
      );
      return { features: Number(r!.f), predictions: Number(r!.p) };
    };
    const deadline = Date.now() + sized(150_000, 900_000);
    for (;;) {
      const c = await counts();
      if (c.features >= featureIds.size && c.predictions >= predictionIds.size) break;
      if (Date.now() > deadline)
        throw new Error(
          `timed out: ${JSON.stringify(c)} of ${featureIds.size} features / ${predictionIds.size} predictions\n${run.pipeline
            .running()
            .map((x) => logTail(x))
            .join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
    const drainMs = Date.now() - producedAt;

    const features = await accountTable(ch, 'raw_features', featureIds);
    const predictions = await accountTable(ch, 'raw_predictions', predictionIds);
    const versions = await queryRows<{ v: string; shadow: number; n: string }>(
      ch,
      'SELECT model_version AS v, is_shadow AS shadow, count() AS n FROM raw_predictions FINAL GROUP BY v, shadow ORDER BY v',
    );
    // The scorer dead-letters to the topic, ingest to the topic and the table: count both.
    const dead = await accountDeadLetters(run.pipeline.kafka, topics, ch);
    report('scoring-sigkill', {
      scale: sized('ci', 'full'),
      produced: featureIds.size,
      stored: { features: features.stored, predictions: predictions.stored },
      deadLettered: dead.topic.length,
      deadLetterRows: dead.table.length,
      duplicated: features.duplicated + predictions.duplicated,
      lost: features.lost + predictions.lost,
      redeliveriesAbsorbed: features.physicalRows - features.stored + (predictions.physicalRows - predictions.stored),
      kills: killedAt,
      startupMs: Object.fromEntries(VICTIMS.map((v, i) => [v, startupMs[i]])),
      recoveryMs: recovered,
      drainAfterLastEventMs: drainMs,
      versions: versions.map((r) => `${r.v}${Number(r.shadow) ? ' shadow' : ''}: ${r.n}`),
    });

    expect(killedAt.filter((k) => k.startsWith('scoring@')).length).toBeGreaterThan(0);
    // Every victim came back: one instance of each is running at the end.
    for (const v of VICTIMS) expect(run.pipeline.running(v).length, `${v} running at the end`).toBe(1);
    for (const a of [features, predictions]) {
      expect(a.lost, `${a.table} lost`).toBe(0);
      expect(a.duplicated, `${a.table} duplicated`).toBe(0);
      expect(a.unexpected, `${a.table} unexpected`).toBe(0);
    }
    expect(versions.map((r) => [r.v, Number(r.shadow), Number(r.n)])).toEqual([
      ['1', 0, EVENTS],
      ['2', 1, EVENTS],
    ]);
    expect(dead.topic, 'dead-letter topic').toEqual([]);
    expect(dead.table, 'dead_letter_events rows').toEqual([]);
  });
});
