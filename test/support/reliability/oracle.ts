/**
 * What an uninterrupted run must produce, computed by the processors' pure cores over the workload
 * with no Kafka, no ClickHouse writes and no processes: the yardstick every scenario compares the
 * query-visible tables against.
 *
 *  - Join: one JoinCore per partition fed that partition's records in production order (the
 *    label-joiner's unit of state). Its watermarks depend on the records only (the idle timeout is
 *    out of reach, ./workload.ts), so the process interleaving of the two topics cannot change the
 *    result, only the order of the emissions.
 *  - Windows: one window-metrics PartitionState per partition of each input topic, the partials
 *    round-tripped through the checkpoint codec and merged in partition order, exactly as the
 *    processor's evaluation reads them back from window_state; then the same evaluate functions.
 */
import type { LabeledPrediction, PredictionEvent, OutcomeEvent } from '../../../lib/contracts/schemas.js';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import type { Config } from '../../../lib/runtime/config.js';
import { loadLatestProfile } from '../../../lib/reference/store.js';
import type { ProfileEntry } from '../../../lib/reference/types.js';
import { JoinCore, joinSettingsFor, type JoinInput, type LateReason } from '../../../stream-processors/label-joiner/core.js';
import { decodePartial, encodePartial } from '../../../stream-processors/window-metrics/codec.js';
import { parseMonitoringConfig } from '../../../stream-processors/window-metrics/config.js';
import { emptyRows, evaluatePerformanceWindow, evaluatePredictionWindow, type WindowRows } from '../../../stream-processors/window-metrics/evaluate.js';
import {
  applyLabeled,
  applyPrediction,
  countsOf,
  createPartitionState,
  mergeCounts,
  mergeLabeledPartials,
  mergePredictionPartials,
  type LabeledPartial,
  type PartitionState,
  type PredictionPartial,
  type StepEnv,
} from '../../../stream-processors/window-metrics/state.js';
import { timingFromSettings } from '../../../stream-processors/window-metrics/windows.js';
import { PARTITIONS, allRecords, type Workload } from './workload.js';

export interface JoinExpectation {
  /** `model|version|shadow|prediction_id` -> `status|outcome_event_id|label|label_delay_ms`. */
  readonly labeled: Map<string, string>;
  /** outcome_event_id -> reason. */
  readonly late: Map<string, LateReason>;
  /** Emitted records per partition, in emission order (window-metrics' labeled input). */
  readonly emitted: LabeledPrediction[][];
}

export const labeledKey = (r: { model_name: string; model_version: string; is_shadow: boolean | number; prediction_id: string }): string =>
  `${r.model_name}|${r.model_version}|${r.is_shadow ? 1 : 0}|${r.prediction_id}`;
export const labeledValue = (r: { status: string; outcome_event_id: string | null; label: string | null; label_delay_ms: number | string | null }): string =>
  `${r.status}|${r.outcome_event_id}|${r.label}|${r.label_delay_ms === null ? null : Number(r.label_delay_ms)}`;

export function joinOracle(w: Workload, config: Config): JoinExpectation {
  const settings = joinSettingsFor(config.settings, PARTITIONS);
  const labeled = new Map<string, string>();
  const late = new Map<string, LateReason>();
  const emitted: LabeledPrediction[][] = [];
  const all = allRecords(w);
  for (let p = 0; p < PARTITIONS; p++) {
    const core = new JoinCore(settings, 0);
    const out: LabeledPrediction[] = [];
    for (const r of all) {
      if (r.partition !== p) continue;
      const input: JoinInput =
        r.stream === 'predictions' ? { type: 'prediction', event: r.event as PredictionEvent } : { type: 'outcome', event: r.event as OutcomeEvent };
      for (const o of core.step(input, 0)) {
        if (o.type === 'emit') {
          const k = labeledKey(o.record);
          if (!labeled.get(k)?.startsWith('LABELED')) labeled.set(k, labeledValue(o.record));
          out.push(o.record);
        } else if (o.type === 'late_label') late.set(o.outcome.event_id, o.reason);
      }
    }
    emitted.push(out);
  }
  return { labeled, late, emitted };
}

/** Expected rows of the 030 window tables, keyed by table then by the table's sorting key. */
export type WindowTables = Record<keyof WindowRows, Map<string, Record<string, unknown>>>;

/** Sorting keys of the 030 tables (the identity a ReplacingMergeTree row has). */
export const WINDOW_TABLES: Record<keyof WindowRows, { table: string; key: readonly string[]; where?: string }> = {
  drift: { table: 'drift_metrics', key: ['model_name', 'model_version', 'segment', 'feature', 'window_start'] },
  quality: { table: 'data_quality_metrics', key: ['model_name', 'model_version', 'segment', 'feature', 'window_start'] },
  summary: { table: 'model_drift_summary', key: ['model_name', 'model_version', 'segment', 'window_start'] },
  performance: { table: 'performance_metrics', key: ['model_name', 'model_version', 'segment', 'is_shadow', 'metric', 'kind', 'window_start'] },
  kpi: { table: 'kpi_metrics', key: ['model_name', 'model_version', 'segment', 'kpi', 'window_start'] },
};

export function keyOf(row: Record<string, unknown>, key: readonly string[]): string {
  return key.map((k) => String(row[k])).join('|');
}

export async function windowOracle(w: Workload, join: JoinExpectation, config: Config, ch: ClickHouse): Promise<WindowTables> {
  const s = config.settings;
  const timing = timingFromSettings(s);
  const monitoring = parseMonitoringConfig(config.sections);
  const profiles = new Map<string, ProfileEntry | null>();
  const pairs = new Set(w.predictions.map((p) => `${p.model_name}\u0000${p.model_version}`));
  for (const pair of pairs) {
    const [m, v] = pair.split('\u0000') as [string, string];
    profiles.set(pair, await loadLatestProfile(ch, m, v));
  }
  const profileFor = (m: string, v: string) => profiles.get(`${m}\u0000${v}`) ?? null;
  const byVersion = (m: string, v: string, pv: number) => {
    const p = profileFor(m, v);
    return p && p.profileVersion === pv ? p : null;
  };
  const env: StepEnv = { timing, config: monitoring, profileFor };
  const predStates: PartitionState[] = [];
  const labStates: PartitionState[] = [];
  const all = allRecords(w);
  for (let p = 0; p < PARTITIONS; p++) {
    const ps = createPartitionState('predictions', p, 'predictions');
    for (const r of all) if (r.partition === p && r.stream === 'predictions') applyPrediction(ps, r.event as PredictionEvent, env, byVersion);
    predStates.push(ps);
    const ls = createPartitionState('labeled', p, 'labeled');
    for (const l of join.emitted[p]!) applyLabeled(ls, l, env);
    labStates.push(ls);
  }
  // The yardstick must count every event: a late event in the oracle means the workload's order (not
  // the processors) drops data, and every comparison below would be meaningless.
  const late = [...predStates, ...labStates].reduce((n, st) => n + st.lateEvents, 0);
  if (late > 0) throw new Error(`the workload makes the window oracle count ${late} events late; fix the workload (test/support/reliability/workload.ts)`);
  const roundTrip = <T>(x: PredictionPartial | LabeledPartial) => decodePartial(encodePartial(x), byVersion) as T;
  const windowKeys = new Set<string>();
  for (const st of [...predStates, ...labStates]) for (const k of st.partials.keys()) windowKeys.add(k);
  const rows = emptyRows();
  for (const k of [...windowKeys].sort()) {
    const [model, version, wsText] = k.split('\u0000') as [string, string, string];
    const ws = Number(wsText);
    const wid = { model, version, windowStart: ws, windowEnd: ws + timing.sizeMs, computedAt: 0 };
    const preds = predStates.flatMap((st) => (st.partials.has(k) ? [roundTrip<PredictionPartial>(st.partials.get(k)!)] : []));
    const labs = labStates.flatMap((st) => (st.partials.has(k) ? [roundTrip<LabeledPartial>(st.partials.get(k)!)] : []));
    const profile = profileFor(model, version);
    if (preds.length > 0) {
      const merged = mergePredictionPartials(preds);
      const r = evaluatePredictionWindow(wid, merged, merged.profileVersion > 0 ? byVersion(model, version, merged.profileVersion) : null, monitoring);
      for (const t of Object.keys(rows) as (keyof WindowRows)[]) rows[t].push(...(r[t] as never[]));
    }
    const perf = evaluatePerformanceWindow(wid, mergeLabeledPartials(labs), mergeCounts(preds.map(countsOf)), profile, monitoring, true);
    for (const t of Object.keys(rows) as (keyof WindowRows)[]) rows[t].push(...(perf[t] as never[]));
  }
  const out = {} as WindowTables;
  for (const t of Object.keys(WINDOW_TABLES) as (keyof WindowRows)[]) {
    out[t] = new Map();
    for (const r of rows[t] as unknown as Record<string, unknown>[]) {
      const n = normalizeRow(r);
      out[t].set(keyOf(n, WINDOW_TABLES[t].key), n);
    }
  }
  return out;
}

const DATE_TIME = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?$/;

/** Comparable form of a row: numbers as numbers, arrays sorted text, computed_at dropped. */
export function normalizeRow(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'computed_at') continue;
    if (typeof v === 'string' && DATE_TIME.test(v)) out[k] = Date.parse(v.endsWith('Z') ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`);
    else if (typeof v === 'string' && v !== '' && /^-?[0-9.eE+-]+$/.test(v) && Number.isFinite(Number(v))) out[k] = Number(v);
    else if (typeof v === 'boolean') out[k] = v ? 1 : 0;
    else if (Array.isArray(v)) out[k] = JSON.stringify([...v].map(String).sort());
    else out[k] = v;
  }
  return out;
}
