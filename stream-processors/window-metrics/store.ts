/**
 * ClickHouse I/O of the window-metrics processor: checkpoints (window_state), evaluation markers
 * (window_evaluations) and result rows (migration 030 tables). Thin: every decision lives in the pure
 * modules; failures are classified (outage -> retriable, statement -> not) by toClickHouseError.
 */
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { toClickHouseError, toClickHouseTime } from '../../lib/runtime/clickhouse/client.js';
import type { WindowRows } from './evaluate.js';

export interface StateRow {
  topic: string;
  partition: number;
  kind: 'progress' | 'partial';
  model_name: string;
  model_version: string;
  window_start: string;
  next_offset: number;
  watermark: number;
  late_events: number;
  profile_version: number;
  n_rows: number;
  counts: string;
  state: string;
  updated_at: string;
}

export interface ProgressRow {
  topic: string;
  partition: number;
  nextOffset: number;
  watermark: number | null;
  lateEvents: number;
}

export interface StoredPartialRow {
  topic: string;
  partition: number;
  model: string;
  version: string;
  windowStart: number;
  nextOffset: number;
  profileVersion: number;
  counts: string;
  state: string;
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toClickHouseError(err);
  }
}

async function select<T>(ch: ClickHouse, query: string, params: Record<string, unknown>): Promise<T[]> {
  return run(async () => (await ch.client.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>());
}

async function insert(ch: ClickHouse, table: string, values: readonly object[]): Promise<void> {
  if (values.length === 0) return;
  await run(() => ch.client.insert({ table, values: values as object[], format: 'JSONEachRow' }));
}

/** One insert: progress + touched partials of a batch land together or not at all. */
export async function writeCheckpoint(ch: ClickHouse, rows: readonly StateRow[]): Promise<void> {
  await insert(ch, 'window_state', rows);
}

export interface SeenRow {
  readonly model: string;
  readonly version: string;
  readonly windowStart: number;
  readonly identity: string;
  readonly offset: number;
}

/** Dedup identities added by a batch (migration 033); written before the batch's checkpoint. */
export async function writeSeen(ch: ClickHouse, topic: string, partition: number, rows: readonly SeenRow[], at: number): Promise<void> {
  const insertedAt = toClickHouseTime(at);
  await insert(
    ch,
    'window_labeled_seen',
    rows.map((r) => ({
      topic,
      partition,
      model_name: r.model,
      model_version: r.version,
      window_start: toClickHouseTime(r.windowStart),
      identity: r.identity,
      offset: r.offset,
      inserted_at: insertedAt,
    })),
  );
}

/** Identities of one partition's labeled partials from `fromWindowStart` on, folded in below `nextOffset`. */
export async function loadSeen(
  ch: ClickHouse,
  topic: string,
  partition: number,
  fromWindowStart: number,
  nextOffset: number,
): Promise<Array<Omit<SeenRow, 'offset'>>> {
  const rows = await select<{ model_name: string; model_version: string; ws: string | number; identity: string }>(
    ch,
    `SELECT DISTINCT model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws, identity
     FROM window_labeled_seen
     WHERE topic = {topic:String} AND partition = {partition:UInt32}
       AND window_start >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND offset < {next:UInt64}`,
    { topic, partition, from: Math.max(0, fromWindowStart), next: Math.max(0, nextOffset) },
  );
  return rows.map((r) => ({ model: r.model_name, version: r.model_version, windowStart: Number(r.ws), identity: r.identity }));
}

export async function loadProgress(ch: ClickHouse, topics: readonly string[]): Promise<ProgressRow[]> {
  const rows = await select<{ topic: string; partition: number; next_offset: string | number; watermark: string | number; late_events: string | number }>(
    ch,
    `SELECT topic, partition, next_offset, watermark, late_events FROM window_state FINAL
     WHERE kind = 'progress' AND topic IN {topics:Array(String)}`,
    { topics },
  );
  return rows.map((r) => ({
    topic: r.topic,
    partition: Number(r.partition),
    nextOffset: Number(r.next_offset),
    watermark: Number(r.watermark) < 0 ? null : Number(r.watermark),
    lateEvents: Number(r.late_events),
  }));
}

interface RawPartial {
  topic: string;
  partition: number;
  model_name: string;
  model_version: string;
  ws: string | number;
  next_offset: string | number;
  profile_version: number;
  counts: string;
  state: string;
}

const toPartial = (r: RawPartial): StoredPartialRow => ({
  topic: r.topic,
  partition: Number(r.partition),
  model: r.model_name,
  version: r.model_version,
  windowStart: Number(r.ws),
  nextOffset: Number(r.next_offset),
  profileVersion: Number(r.profile_version),
  counts: r.counts,
  state: r.state,
});

/** Partials of one partition whose window starts at or after `fromWindowStart` (the restore set). */
export async function loadPartitionPartials(ch: ClickHouse, topic: string, partition: number, fromWindowStart: number): Promise<StoredPartialRow[]> {
  const rows = await select<RawPartial>(
    ch,
    `SELECT topic, partition, model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws, next_offset, profile_version, counts, state
     FROM window_state FINAL
     WHERE topic = {topic:String} AND partition = {partition:UInt32} AND kind = 'partial'
       AND window_start >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')`,
    { topic, partition, from: Math.max(0, fromWindowStart) },
  );
  return rows.map(toPartial);
}

/** Every partition's partial of one window (for evaluation). `withState` false reads only counts. */
export async function loadWindowPartials(
  ch: ClickHouse,
  topic: string,
  model: string,
  version: string,
  windowStart: number,
  withState = true,
): Promise<StoredPartialRow[]> {
  const rows = await select<RawPartial>(
    ch,
    `SELECT topic, partition, model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws, next_offset, profile_version, counts,
            ${withState ? 'state' : "'' AS state"}
     FROM window_state FINAL
     WHERE topic = {topic:String} AND kind = 'partial' AND model_name = {m:String} AND model_version = {v:String}
       AND window_start = fromUnixTimestamp64Milli({ws:Int64}, 'UTC')
     ORDER BY partition`,
    { topic, m: model, v: version, ws: windowStart },
  );
  return rows.map(toPartial);
}

export interface WindowCandidate {
  readonly model: string;
  readonly version: string;
  readonly windowStart: number;
  /** Σ next_offset + count over the window's partials: changes whenever any partial changes. */
  readonly fingerprint: string;
}

/**
 * Windows with partials in `topics`, starting at or before `maxWindowStart`, without a `doneStage`
 * marker. The fingerprint is per topic list (concatenated).
 */
export async function listCandidateWindows(
  ch: ClickHouse,
  namespace: string,
  topics: readonly string[],
  maxWindowStart: number,
  doneStage: string,
): Promise<WindowCandidate[]> {
  if (!Number.isFinite(maxWindowStart)) maxWindowStart = maxWindowStart > 0 ? 8.64e15 : -1;
  if (maxWindowStart < 0) return [];
  const rows = await select<{ model_name: string; model_version: string; ws: string | number; fp: string }>(
    ch,
    `SELECT model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws,
            arrayStringConcat(arraySort(groupArray(concat(topic, ':', toString(partition), ':', toString(next_offset)))), ',') AS fp
     FROM window_state FINAL
     WHERE kind = 'partial' AND topic IN {topics:Array(String)} AND window_start <= fromUnixTimestamp64Milli({max:Int64}, 'UTC')
       AND (model_name, model_version, window_start) NOT IN (
         SELECT model_name, model_version, window_start FROM window_evaluations FINAL
         WHERE namespace = {ns:String} AND stage = {stage:String})
     GROUP BY model_name, model_version, window_start
     ORDER BY window_start, model_name, model_version`,
    { topics, max: Math.min(maxWindowStart, 8.64e15), ns: namespace, stage: doneStage },
  );
  return rows.map((r) => ({ model: r.model_name, version: r.model_version, windowStart: Number(r.ws), fingerprint: r.fp }));
}

export async function hasMarker(ch: ClickHouse, namespace: string, stage: string, model: string, version: string, windowStart: number): Promise<boolean> {
  const rows = await select<{ n: string | number }>(
    ch,
    `SELECT count() AS n FROM window_evaluations FINAL
     WHERE namespace = {ns:String} AND stage = {stage:String} AND model_name = {m:String} AND model_version = {v:String}
       AND window_start = fromUnixTimestamp64Milli({ws:Int64}, 'UTC')`,
    { ns: namespace, stage, m: model, v: version, ws: windowStart },
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

export async function writeMarker(
  ch: ClickHouse,
  m: { namespace: string; stage: string; model: string; version: string; windowStart: number; fingerprint: string; instance: string; at: number },
): Promise<void> {
  await insert(ch, 'window_evaluations', [
    {
      namespace: m.namespace,
      model_name: m.model,
      model_version: m.version,
      window_start: toClickHouseTime(m.windowStart),
      stage: m.stage,
      fingerprint: m.fingerprint,
      instance: m.instance,
      evaluated_at: toClickHouseTime(m.at),
    },
  ]);
}

/** Writes a window's result rows (each table one insert). */
export async function writeWindowRows(ch: ClickHouse, rows: WindowRows): Promise<number> {
  await insert(ch, 'drift_metrics', rows.drift);
  await insert(ch, 'data_quality_metrics', rows.quality);
  await insert(ch, 'model_drift_summary', rows.summary);
  await insert(ch, 'performance_metrics', rows.performance);
  await insert(ch, 'kpi_metrics', rows.kpi);
  return rows.drift.length + rows.quality.length + rows.summary.length + rows.performance.length + rows.kpi.length;
}
