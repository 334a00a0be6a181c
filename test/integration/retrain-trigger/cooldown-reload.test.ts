/**
 * Real Kafka + registry + ClickHouse (chdb served over HTTP), trigger in process:
 *  - a flapping drift metric fires once, produces no RetrainRequested during the cooldown (each
 *    suppressed window audited with reason `cooldown`), and fires again only after it;
 *  - the same evaluation emits FIRING/RESOLVED alerts on the alerts topic and into the alerts table;
 *  - policies reload from the edited file without a restart; an invalid edit is rejected and the
 *    policies in force stay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import type { Alert, RetrainRequested } from '../../../lib/contracts/schemas.js';
import { topicNames } from '../../../lib/contracts/topics.js';
import { createKafkaAdapter, type KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import { createConfigStore } from '../../../services/api/store/config-store.js';
import { idempotencyKey } from '../../../stream-processors/retrain-trigger/core.js';
import { startRetrainTrigger, type RetrainTrigger } from '../../../stream-processors/retrain-trigger/trigger.js';
import { queryRows, servedClickHouse, testConfig, testLogger, uniqueName, waitFor, type TestClickHouse } from '../../support/stack.js';
import { CALM, DRIFTING, seedWindows, windowAt, writePolicyFile } from './seed.js';

const W = 300_000;
const T0 = Math.floor(Date.now() / W) * W - 30 * W;
const MODEL = 'churn';

const flapPolicy = {
  id: 'flap',
  model: MODEL,
  when: { drift: { min_features: 2, min_severity: 'critical', id: 'drift' } },
  fire_after_windows: 1,
  rearm_after_windows: 1,
  cooldown: '30m',
};

let served: TestClickHouse;
let kafka: KafkaAdapter;
let codec: EventCodec;
let trigger: RetrainTrigger;
let dir: string;
let file: string;
const ns = uniqueName('rtcool');
const topics = topicNames(ns);
const metrics = createMetrics('retrain-trigger');

async function topicValues<T>(topic: string): Promise<T[]> {
  const raw: Buffer[] = [];
  await kafka.readToEnd(topic, 'all', (r) => raw.push(r.value!));
  return Promise.all(raw.map(async (b) => (await codec.decode<T>(topic, b, Date.now())).value));
}

async function reloads(result: string): Promise<number> {
  const m = (await metrics.policyReloads.get()).values.find((v) => v.labels.result === result);
  return m?.value ?? 0;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dw-rt-'));
  file = join(dir, 'driftwatch.yaml');
  writePolicyFile(file, [flapPolicy]);
  served = await servedClickHouse();
  const config = testConfig({
    CLICKHOUSE_URL: served.url!,
    DW_TOPIC_NAMESPACE: ns,
    DW_CONFIG_FILE: file,
    KAFKA_TOPIC_PARTITIONS: '2',
    RETRAIN_POLL_INTERVAL_MS: '200',
    RETRAIN_SETTLE_MS: '0',
    RETRAIN_POLICY_RELOAD_MS: '200',
  });
  kafka = createKafkaAdapter(config.settings, testLogger, 'rt-cooldown-test');
  codec = createEventCodec(config.settings.SCHEMA_REGISTRY_URL, { maxPayloadBytes: 1e6, maxFutureSkewMs: 3_600_000 }, topics);
  trigger = await startRetrainTrigger({ config, logger: testLogger, metrics, instanceId: 'test', clickhouse: async () => served.ch, kafka: () => kafka });
  await trigger.ready;
}, 90_000);

afterAll(async () => {
  await trigger?.stop();
  await kafka?.disconnect();
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retrain trigger: cooldown, alerts, reload', () => {
  it('a flapping metric produces no event during the cooldown', async () => {
    expect(trigger.owned()).toEqual([0, 1]);
    const seq = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? DRIFTING : CALM));
    await seedWindows(
      served.ch,
      seq.map((severities, i) => ({ model: MODEL, ...windowAt(T0, W, i), severities })),
    );
    const decisions = await waitFor(
      'ten decisions',
      async () => {
        const rows = await queryRows<{ ws: string; decision: string; reason: string; idempotency_key: string }>(
          served.ch,
          `SELECT toUnixTimestamp64Milli(window_start) AS ws, decision, reason, idempotency_key FROM retrain_decisions FINAL WHERE model_name = {m:String} ORDER BY window_start`,
          { m: MODEL },
        );
        return rows.length === 10 ? rows : undefined;
      },
      30_000,
    );
    expect(decisions.map((d) => `${d.decision}/${d.reason}`)).toEqual([
      'fired/condition_met',
      'suppressed/condition_not_met',
      'suppressed/cooldown',
      'suppressed/condition_not_met',
      'suppressed/cooldown',
      'suppressed/condition_not_met',
      'fired/condition_met', // window 6 ends 35 min after window 0 ended: cooldown (30 min) over
      'suppressed/condition_not_met',
      'suppressed/cooldown',
      'suppressed/condition_not_met',
    ]);

    const events = await waitFor('two retrain events on the topic', async () => {
      const evs = await topicValues<RetrainRequested>(topics.retrainRequested);
      return evs.length >= 2 ? evs : undefined;
    });
    expect(events.map((e) => e.idempotency_key)).toEqual([idempotencyKey('flap', MODEL, '1', T0), idempotencyKey('flap', MODEL, '1', T0 + 6 * W)]);
    expect(events[0]).toMatchObject({ policy_id: 'flap', model_name: MODEL, model_version: '1', drifted_features: ['age', 'income'] });
    expect(events[0]!.conditions).toEqual([
      { kind: 'drift', metric: 'features_at_or_above_critical', value: 2, threshold: 2, comparator: 'gte', window_start: T0, window_end: T0 + W },
    ]);
    expect(events[0]!.training_range_end).toBe(T0 + W);
    expect(events[0]!.training_range_end - events[0]!.training_range_start).toBe(30 * 86_400_000);
    const stored = await queryRows<{ idempotency_key: string }>(
      served.ch,
      'SELECT idempotency_key FROM retrain_events FINAL WHERE model_name = {m:String} ORDER BY training_range_end',
      { m: MODEL },
    );
    expect(stored.map((r) => r.idempotency_key)).toEqual(events.map((e) => e.idempotency_key));
  });

  it('emits FIRING and RESOLVED alerts for the same evaluation, on the topic and in the table', async () => {
    const alerts = await waitFor('ten alerts', async () => {
      const as = await topicValues<Alert>(topics.alerts);
      return as.length >= 10 ? as : undefined;
    });
    expect(alerts.map((a) => a.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'FIRING' : 'RESOLVED')));
    expect(alerts.every((a) => a.rule === 'flap/drift' && a.model_name === MODEL && a.severity === 'WARNING')).toBe(true);
    // a FIRING and its RESOLVED share the incident id
    for (let i = 0; i < 10; i += 2) expect(alerts[i]!.alert_id).toBe(alerts[i + 1]!.alert_id);
    expect(alerts[0]).toMatchObject({ metric: 'features_at_or_above_critical', value: 2, threshold: 2, window_start: T0, window_end: T0 + W });
    const table = await queryRows<{ status: string; n: string }>(
      served.ch,
      `SELECT status, count() AS n FROM alerts FINAL WHERE model_name = {m:String} GROUP BY status`,
      { m: MODEL },
    );
    // the RESOLVED row supersedes its FIRING row: five incidents, all resolved
    expect(table.map((r) => [r.status, Number(r.n)])).toEqual([['RESOLVED', 5]]);
  });

  it('reloads policies from the edited file without a restart, and rejects an invalid edit', async () => {
    writePolicyFile(file, [flapPolicy, { id: 'kpi-drop', model: MODEL, when: { kpi: { name: 'conversion', drop: '10%' } } }]);
    await waitFor('the invalid edit to be reported', async () => (await reloads('invalid')) >= 1, 10_000);
    expect(trigger.policies().map((p) => p.id)).toEqual(['flap']);

    writePolicyFile(file, [flapPolicy, { id: 'kpi-drop', model: MODEL, when: { kpi: { name: 'conversion', drop: 0.1, mode: 'relative' } } }]);
    await waitFor('the new policy', async () => trigger.policies().some((p) => p.id === 'kpi-drop'), 10_000);
    expect(await reloads('applied')).toBe(1);

    await seedWindows(served.ch, [
      { model: MODEL, ...windowAt(T0, W, 10), severities: CALM, kpis: [{ kpi: 'conversion', value: 0.08, baseline: 0.1, n: 400 }] },
    ]);
    const fired = await waitFor('the kpi policy to fire', async () => {
      const evs = await topicValues<RetrainRequested>(topics.retrainRequested);
      return evs.find((e) => e.policy_id === 'kpi-drop');
    });
    expect(fired.conditions).toHaveLength(1);
    expect(fired.conditions[0]).toMatchObject({ kind: 'kpi', metric: 'kpi.conversion.relative_drop', threshold: 0.1, comparator: 'gte' });
    expect(fired.conditions[0]!.value).toBeCloseTo(0.2, 10);
    // the new policy starts at the backfill horizon: it also evaluated the ten earlier windows (no KPI rows there)
    // The trigger publishes, then records (trigger.ts, "Publish, then record"): the event on the topic
    // comes before its poll's decision rows, so wait for them rather than read once.
    const kpiDecisions = await waitFor('the kpi policy’s decisions', async () => {
      const r = await queryRows<{ n: string }>(served.ch, `SELECT count() AS n FROM retrain_decisions FINAL WHERE policy_id = 'kpi-drop'`);
      return Number(r[0]!.n) >= 11 ? Number(r[0]!.n) : undefined;
    });
    expect(kpiDecisions).toBe(11);
    // the flap policy kept its state across the reload: window 10 is its eleventh decision, no new event
    const flapLast = await queryRows<{ reason: string }>(
      served.ch,
      `SELECT reason FROM retrain_decisions FINAL WHERE policy_id = 'flap' ORDER BY window_start DESC LIMIT 1`,
    );
    expect(flapLast[0]!.reason).toBe('condition_not_met');
  });

  it('applies policies written through the API: added, overriding a file policy, deleted', async () => {
    const store = createConfigStore(served.ch);
    const ids = () => trigger.policies().map((p) => p.id);
    const fileIds = ids();
    // An API-only policy joins the file's.
    await store.put('retrain_policy', 'api-kpi', { id: 'api-kpi', model: MODEL, when: { kpi: { name: 'conversion', drop: 0.5, mode: 'relative' } } }, 'test');
    await waitFor('the API policy in force', async () => ids().includes('api-kpi'), 10_000);
    expect(ids()).toEqual([...fileIds, 'api-kpi']);
    // An API policy with a file policy's id replaces it, in the file's position.
    await store.put('retrain_policy', 'flap', { ...flapPolicy, cooldown: '45m' }, 'test');
    await waitFor('the API version of flap', async () => trigger.policies().find((p) => p.id === 'flap')!.cooldownMs === 45 * 60_000, 10_000);
    expect(ids()).toEqual([...fileIds, 'api-kpi']);
    // Deleting through the API removes the API versions only: the file's flap is back.
    await store.remove('retrain_policy', 'flap', 'test');
    await store.remove('retrain_policy', 'api-kpi', 'test');
    await waitFor(
      'the file policies alone',
      async () => ids().join() === fileIds.join() && trigger.policies().find((p) => p.id === 'flap')!.cooldownMs === 30 * 60_000,
      10_000,
    );
  });

  it('rides out a ClickHouse outage: failed polls are retried and evaluation resumes', async () => {
    const retries = async () => (await metrics.retries.get()).values.reduce((n, v) => n + v.value, 0);
    const before = await retries();
    served.server!.setUnavailable(true);
    await waitFor('a failed, retried poll', async () => (await retries()) > before, 10_000);
    served.server!.setUnavailable(false);
    await seedWindows(served.ch, [{ model: MODEL, ...windowAt(T0, W, 11), severities: DRIFTING }]);
    const last = await waitFor('the decision for window 11', async () => {
      const rows = await queryRows<{ reason: string }>(
        served.ch,
        `SELECT reason FROM retrain_decisions FINAL WHERE policy_id = 'flap' AND window_start = fromUnixTimestamp64Milli({ws:Int64})`,
        {
          ws: T0 + 11 * W,
        },
      );
      return rows[0];
    });
    // window 11 ends 12W after T0; the last event (window 6) ended at 7W: within the 30-minute cooldown
    expect(last.reason).toBe('cooldown');
    const events = await topicValues<RetrainRequested>(topics.retrainRequested);
    expect(events.filter((e) => e.policy_id === 'flap')).toHaveLength(2);
  });
});
