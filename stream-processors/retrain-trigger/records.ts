/**
 * The trigger's durable side in ClickHouse (migration 040): the audit trail (retrain_decisions), the
 * published RetrainRequested events (retrain_events), the alerts (alerts), and the restore of trigger
 * state on startup or when an instance takes over a model.
 *
 * Trigger state is not kept in a table of its own: every decision row carries, in `detail.state`,
 * the state after its step (core.ts DecisionDetail). The latest decision per (policy, model,
 * version) is therefore both the high-water mark and the state to resume from, and it is written in
 * the same step that advances progress, so they cannot disagree. "Latest" is by the state's step
 * number (`seq`), not by window: a label step decides on a window older than the close steps
 * recorded before it.
 *
 * Row mappers are pure and exported for tests; inserts go through JSONEachRow with
 * DateTime64(3,'UTC') text (`toClickHouseTime`).
 */
import type { Alert, RetrainRequested } from '../../lib/contracts/schemas.js';
import { toClickHouseError, toClickHouseTime, type ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import type { Decision, TriggerState, TriggerStates } from './core.js';
import { stateKey, upgradeTriggerState } from './core.js';

export const TABLES = { decisions: 'retrain_decisions', events: 'retrain_events', alerts: 'alerts' } as const;

export function decisionRow(d: Decision) {
  return {
    decided_at: toClickHouseTime(d.decidedAt),
    policy_id: d.policyId,
    model_name: d.modelName,
    model_version: d.modelVersion,
    window_start: toClickHouseTime(d.windowStart),
    window_end: toClickHouseTime(d.windowEnd),
    decision: d.decision,
    reason: d.reason,
    idempotency_key: d.idempotencyKey,
    conditions: JSON.stringify(d.conditions),
    detail: JSON.stringify(d.detail),
  };
}

export function retrainEventRow(e: RetrainRequested) {
  return {
    idempotency_key: e.idempotency_key,
    created_at: toClickHouseTime(e.created_at),
    policy_id: e.policy_id,
    model_name: e.model_name,
    model_version: e.model_version,
    drifted_features: e.drifted_features,
    training_range_start: toClickHouseTime(e.training_range_start),
    training_range_end: toClickHouseTime(e.training_range_end),
    reason: e.reason,
    event: JSON.stringify(e),
  };
}

export function alertRow(a: Alert) {
  return {
    alert_id: a.alert_id,
    created_at: toClickHouseTime(a.created_at),
    model_name: a.model_name,
    model_version: a.model_version,
    rule: a.rule,
    severity: a.severity,
    status: a.status,
    metric: a.metric,
    value: a.value ?? null,
    threshold: a.threshold ?? null,
    window_start: a.window_start == null ? null : toClickHouseTime(a.window_start),
    window_end: a.window_end == null ? null : toClickHouseTime(a.window_end),
    message: a.message,
  };
}

async function insert(ch: ClickHouse, table: string, values: readonly object[]): Promise<void> {
  if (values.length === 0) return;
  try {
    await ch.client.insert({ table, values: values as object[], format: 'JSONEachRow' });
  } catch (err) {
    throw toClickHouseError(err);
  }
}

/**
 * Records one evaluation. Order matters: events and alerts first, decisions last, because the
 * decisions are the progress marker. A crash part-way leaves the windows unevaluated from the
 * restored state's point of view; they are evaluated again, the events get the same idempotency
 * keys, and the ReplacingMergeTree tables collapse the rows written twice.
 */
export async function recordEvaluation(
  ch: ClickHouse,
  out: { decisions: readonly Decision[]; retrainEvents: readonly RetrainRequested[]; alerts: readonly Alert[] },
): Promise<void> {
  await insert(ch, TABLES.events, out.retrainEvents.map(retrainEventRow));
  await insert(ch, TABLES.alerts, out.alerts.map(alertRow));
  await insert(ch, TABLES.decisions, out.decisions.map(decisionRow));
}

function isTriggerState(v: unknown): v is TriggerState {
  const s = v as TriggerState;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.policyId === 'string' &&
    typeof s.holdStreak === 'number' &&
    typeof s.armed === 'boolean' &&
    typeof s.labelsSinceRetrain === 'number' &&
    typeof s.leaves === 'object' &&
    s.leaves !== null
  );
}

/**
 * The trigger states of the given policies and models: the state recorded with the latest decision
 * (by step number, then window, then decision time; rows written before step numbers existed count
 * as step 0) of each (policy, model, version).
 */
export async function restoreTriggerStates(ch: ClickHouse, policyIds: readonly string[], models: readonly string[]): Promise<TriggerStates> {
  if (policyIds.length === 0 || models.length === 0) return {};
  let found: { policy_id: string; model_name: string; model_version: string; detail: string }[];
  try {
    const rs = await ch.client.query({
      query: `SELECT policy_id, model_name, model_version,
                     argMax(detail, (JSONExtractUInt(detail, 'state', 'seq'), window_end, decided_at)) AS detail
              FROM retrain_decisions
              WHERE has({policies:Array(String)}, policy_id) AND has({models:Array(String)}, model_name)
              GROUP BY policy_id, model_name, model_version`,
      query_params: { policies: policyIds, models },
      format: 'JSONEachRow',
    });
    found = await rs.json();
  } catch (err) {
    throw toClickHouseError(err);
  }
  const out: Record<string, TriggerState> = {};
  for (const row of found) {
    let state: unknown;
    try {
      state = (JSON.parse(row.detail) as { state?: unknown }).state;
    } catch {
      state = undefined;
    }
    // A row written by another version of the trigger without a usable state starts afresh (and
    // re-evaluates from the backfill horizon) rather than guessing.
    if (isTriggerState(state)) out[stateKey(row.policy_id, row.model_name, row.model_version)] = upgradeTriggerState(state);
  }
  return out;
}
