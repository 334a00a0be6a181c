/**
 * Real Kafka + registry + ClickHouse (chdb served over HTTP), trigger in process with its poll loop:
 * late labels (docs/retrain-events.md, "Two clocks").
 *
 *  - Windows close with provisional realized rows and a handful of labels; after the settle time,
 *    their performance rows are rewritten as late labels arrive (as window-metrics does), then made
 *    final. A realized-accuracy policy (`for_windows: 2`, `min_samples`) fires exactly once, on the
 *    labels clock, once two consecutive windows have their labels in — and never again when the
 *    same windows are rewritten or finalised later, nor after a restart.
 *  - A `min_labels` policy counts the labels that arrived after the windows closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import type { RetrainRequested } from '../../../lib/contracts/schemas.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import type { Config } from '../../../lib/runtime/config.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { idempotencyKey } from '../../../stream-processors/retrain-trigger/core.js';
import { startRetrainTrigger, type RetrainTrigger } from '../../../stream-processors/retrain-trigger/trigger.js';
import { queryRows, servedClickHouse, testConfig, testLogger, uniqueName, waitFor } from '../../support/stack.js';
import { CALM, rewritePerformance, seedWindows, windowAt, writePolicyFile } from './seed.js';

const W = 300_000;
const T0 = Math.floor(Date.now() / W) * W - 30 * W;
const MODEL = 'late-churn';
const SETTLE_MS = 1000;

const policies = [
  {
    id: 'late-accuracy',
    model: MODEL,
    when: { performance: { id: 'accuracy', metric: 'accuracy', kind: 'realized', below: 0.7, min_samples: 100, for_windows: 2 } },
    cooldown: '1h',
  },
  { id: 'new-labels', model: MODEL, when: { min_labels: { id: 'labels', count: 500 } } },
];

/** A window's realized rows with n labels of 200 predictions, as window-metrics writes them. */
const realized = (accuracy: number, n: number) => [
  { metric: 'accuracy', value: accuracy, nLabeled: n, nTotal: 200 },
  { metric: 'label_coverage', value: n / 200, nLabeled: n, nTotal: 200 },
];
const win = (i: number) => ({ model: MODEL, ...windowAt(T0, W, i) });

let served: Awaited<ReturnType<typeof servedClickHouse>>;
let kafka: KafkaAdapter;
let codec: EventCodec;
let config: Config;
let trigger: RetrainTrigger;
let dir: string;
const ns = uniqueName('rtlate');
const topics = topicNames(ns);

const start = () =>
  startRetrainTrigger({
    config,
    logger: testLogger,
    metrics: createMetrics('retrain-trigger'),
    instanceId: 'test',
    clickhouse: async () => served.ch,
    kafka: () => kafka,
  });

async function events(): Promise<RetrainRequested[]> {
  const raw: Buffer[] = [];
  await kafka.readToEnd(topics.retrainRequested, 'all', (r) => raw.push(r.value!));
  return Promise.all(raw.map(async (b) => (await codec.decode<RetrainRequested>(topics.retrainRequested, b, Date.now())).value));
}

interface DecisionRow {
  policy_id: string;
  ws: string;
  decision: string;
  reason: string;
  idempotency_key: string;
  detail: string;
  conditions: string;
}
async function decisions(policy: string): Promise<DecisionRow[]> {
  return queryRows<DecisionRow>(
    served.ch,
    `SELECT policy_id, toUnixTimestamp64Milli(window_start) AS ws, decision, reason, idempotency_key, detail, conditions
     FROM retrain_decisions FINAL WHERE policy_id = {p:String} ORDER BY JSONExtractUInt(detail, 'state', 'seq')`,
    { p: policy },
  );
}
const summary = (rows: DecisionRow[]) => rows.map((r) => `${(Number(r.ws) - T0) / W}/${JSON.parse(r.detail).clock}/${r.decision}/${r.reason}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-rt-late-'));
  const file = join(dir, 'driftwatch.yaml');
  writePolicyFile(file, policies);
  served = await servedClickHouse();
  config = testConfig({
    CLICKHOUSE_URL: served.url,
    DW_TOPIC_NAMESPACE: ns,
    DW_CONFIG_FILE: file,
    KAFKA_TOPIC_PARTITIONS: '1',
    RETRAIN_POLL_INTERVAL_MS: '200',
    RETRAIN_SETTLE_MS: String(SETTLE_MS),
    RETRAIN_POLICY_RELOAD_MS: '0',
  });
  kafka = createKafkaAdapter(config.settings, testLogger, 'rt-late-test');
  codec = createEventCodec(config.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 1e6, maxFutureSkewMs: 3_600_000 }, topics);
  trigger = await start();
  await trigger.ready;
}, 90_000);

afterAll(async () => {
  await trigger?.stop();
  await kafka?.disconnect();
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retrain trigger: late labels', () => {
  it('does not test realized performance on windows that closed with few labels', async () => {
    // Four windows close; realized rows are provisional with 5 labels (a low accuracy on 5 labels is noise).
    await seedWindows(
      served.ch,
      [0, 1, 2, 3].map((i) => ({
        ...win(i),
        severities: CALM,
        performance: realized(0.3, 5).map((r) => ({ ...r, kind: 'realized' as const, isFinal: false })),
      })),
    );
    const closes = await waitFor('four close decisions of new-labels', async () => {
      const rows = await decisions('new-labels');
      return rows.length === 4 ? rows : undefined;
    });
    expect(summary(closes)).toEqual([
      '0/close/suppressed/insufficient_samples',
      '1/close/suppressed/insufficient_samples',
      '2/close/suppressed/insufficient_samples',
      '3/close/suppressed/insufficient_samples',
    ]);
    expect(closes.map((r) => JSON.parse(r.conditions)[0].value)).toEqual([5, 10, 15, 20]);
    // A few more polls see the same rows: nothing to decide for the realized policy.
    await trigger.pollOnce();
    await trigger.pollOnce();
    expect(await decisions('late-accuracy')).toEqual([]);
    expect(await events()).toEqual([]);
  });

  it('fires once two consecutive windows have their late labels in, after the settle time', async () => {
    // Later: labels arrive. Window 3 still has few, which holds nothing back (it is the newest).
    await rewritePerformance(served.ch, win(0), realized(0.6, 150), false);
    await rewritePerformance(served.ch, win(1), realized(0.65, 140), false);
    await rewritePerformance(served.ch, win(2), realized(0.62, 160), false);
    await rewritePerformance(served.ch, win(3), realized(0.9, 20), false);
    const evs = await waitFor('the late-accuracy event', async () => {
      const e = await events();
      return e.length > 0 ? e : undefined;
    });
    const labelSteps = await waitFor('three label decisions', async () => {
      const rows = await decisions('late-accuracy');
      return rows.length === 3 ? rows : undefined;
    });
    expect(summary(labelSteps)).toEqual(['0/labels/suppressed/condition_not_met', '1/labels/fired/condition_met', '2/labels/suppressed/hysteresis']);
    expect(evs).toHaveLength(1);
    const ev = evs[0]!;
    // The episode starts where the condition first holds: window 1, the second low window in a row.
    expect(ev.idempotency_key).toBe(idempotencyKey('late-accuracy', MODEL, '1', T0 + W, 'labels'));
    expect(labelSteps[1]!.idempotency_key).toBe(ev.idempotency_key);
    expect(ev.conditions).toEqual([
      { kind: 'performance', metric: 'realized.accuracy', value: 0.65, threshold: 0.7, comparator: 'lt', window_start: T0, window_end: T0 + 2 * W },
    ]);
    expect(ev.training_range_end).toBe(T0 + 2 * W);
    const stored = await queryRows<{ idempotency_key: string }>(served.ch, 'SELECT idempotency_key FROM retrain_events FINAL WHERE model_name = {m:String}', {
      m: MODEL,
    });
    expect(stored.map((r) => r.idempotency_key)).toEqual([ev.idempotency_key]);
  });

  it('never fires again for the same windows: rewritten, finalised, and after a restart', async () => {
    // The labels of windows 0-3 keep coming and turn final, all low.
    for (const i of [0, 1, 2, 3]) await rewritePerformance(served.ch, win(i), realized(0.3, 200), false);
    for (const i of [0, 1, 2, 3]) await rewritePerformance(served.ch, win(i), realized(0.2, 200), true);
    // Window 3 is now final: its (only) label step, inside the episode.
    const rows = await waitFor('the label step of window 3', async () => {
      const r = await decisions('late-accuracy');
      return r.length === 4 ? r : undefined;
    });
    expect(summary(rows).at(-1)).toBe('3/labels/suppressed/hysteresis');

    // Restart: the new instance resumes from the last recorded step (the label cursor included).
    await trigger.stop();
    trigger = await start();
    await trigger.ready;
    await rewritePerformance(served.ch, win(1), realized(0.1, 200), true);
    await trigger.pollOnce();
    await trigger.pollOnce();
    expect(summary(await decisions('late-accuracy'))).toEqual([
      '0/labels/suppressed/condition_not_met',
      '1/labels/fired/condition_met',
      '2/labels/suppressed/hysteresis',
      '3/labels/suppressed/hysteresis',
    ]);
    expect((await events()).filter((e) => e.policy_id === 'late-accuracy')).toHaveLength(1);
  });

  it('min_labels counts the labels that arrived after the windows closed', async () => {
    // At close the four windows had 20 labels in all; now they have 800. Window 4 closes with 5.
    await seedWindows(served.ch, [
      { ...win(4), severities: CALM, performance: realized(0.9, 5).map((r) => ({ ...r, kind: 'realized' as const, isFinal: false })) },
    ]);
    const fired = await waitFor('the new-labels event', async () => (await events()).find((e) => e.policy_id === 'new-labels'));
    expect(fired.conditions).toEqual([
      {
        kind: 'min_labels',
        metric: 'labeled_since_last_retrain',
        value: 805,
        threshold: 500,
        comparator: 'gte',
        window_start: T0 + 4 * W,
        window_end: T0 + 5 * W,
      },
    ]);
    // The trigger publishes, then records (trigger.ts, "Publish, then record"): seeing the event on
    // the topic does not mean its decision row is in yet, so wait for window 4's row.
    const rows = await waitFor('the close decision of window 4', async () => {
      const r = await decisions('new-labels');
      return r.length === 5 ? r : undefined;
    });
    expect(summary(rows).at(-1)).toBe('4/close/fired/condition_met');
    // The retrain resets the count: it starts again from the windows after window 4.
    expect(JSON.parse(rows.at(-1)!.detail).state).toMatchObject({ labelsFrom: T0 + 5 * W, labelsSinceRetrain: 0 });
    // Window 4's labels are not in (5, provisional): no label step for it.
    expect(await decisions('late-accuracy')).toHaveLength(4);
    const all = await events();
    expect(all.map((e) => e.policy_id).sort()).toEqual(['late-accuracy', 'new-labels']);
  });
});
