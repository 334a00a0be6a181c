/**
 * Query endpoints over the monitoring tables (the contract is the migrations in
 * lib/runtime/clickhouse/migrations: 001 operations, 030 window metrics, 040 retrain and alerts,
 * 049 retrain runs).
 *
 * Every series is declared once below: its table, its unique key (time column first, then the
 * ReplacingMergeTree ORDER BY columns), its selectable columns and its filters. One builder turns a
 * declaration plus validated request values into a parameterised statement:
 *
 *   SELECT <columns>, <key expressions> FROM <table> FINAL
 *   WHERE <column> = {f_<filter>:Type} AND ... AND <time> >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
 *     AND (<key>) < (<cursor values as typed params>)
 *   ORDER BY <key> DESC LIMIT {limit:UInt32}
 *
 * FINAL: a re-evaluated window (late labels, replays) replaces its earlier row in these
 * ReplacingMergeTree tables; FINAL makes a read see only the latest row, so counts and pages are exact
 * (ClickHouse docs, "ReplacingMergeTree": deduplication happens at merge time, FINAL at query time).
 * Filters apply after FINAL (optimize_move_to_prewhere_if_final is off by default), so a filter on a
 * non-key column such as an alert's status sees the alert's latest state only.
 */
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { decodeCursor, encodeCursor, type KeyType, type KeyValue, type SortOrder } from '../lib/cursor.js';
import { selectRows } from './clickhouse.js';

export type FilterType = 'String' | 'Bool';

export interface FilterSpec {
  readonly column: string;
  readonly type: FilterType;
  readonly doc: string;
}

export interface KeyColumn {
  readonly column: string;
  readonly type: KeyType;
}

export interface SeriesSpec {
  readonly id: string;
  readonly table: string;
  /** Key columns, time first: the row's identity after FINAL, and the page order. */
  readonly key: readonly KeyColumn[];
  /** Constant select list. */
  readonly select: string;
  /** Query parameter name -> column. */
  readonly filters: Readonly<Record<string, FilterSpec>>;
  /** Columns holding JSON text that the API returns parsed. */
  readonly jsonColumns?: readonly string[];
  readonly doc: string;
}

const common = {
  model: { column: 'model_name', type: 'String', doc: 'Model name' },
  version: { column: 'model_version', type: 'String', doc: 'Model version' },
  segment: { column: 'segment', type: 'String', doc: "Segment: empty string = whole population, otherwise 'key=value'" },
} as const satisfies Record<string, FilterSpec>;

const windowKey = (...cols: string[]): KeyColumn[] => [
  { column: 'window_start', type: 'time' },
  ...cols.map((column) => ({ column, type: 'string' as const })),
];

export const SERIES = {
  drift: {
    id: 'drift',
    table: 'drift_metrics',
    doc: 'Drift per feature and window (the prediction/score distribution is feature __prediction__)',
    key: windowKey('model_name', 'model_version', 'segment', 'feature'),
    select: `window_start, window_end, model_name, model_version, segment, feature, feature_kind, method, score, p_value,
      p_value_adjusted, threshold, threshold_kind, toBool(drift) AS drift, severity, n_ref, n_cur, status, toBool(is_final) AS is_final, computed_at`,
    filters: {
      ...common,
      feature: { column: 'feature', type: 'String', doc: 'Feature name' },
      method: { column: 'method', type: 'String', doc: 'Drift method id (psi, ks, ...)' },
      drifted: { column: 'drift', type: 'Bool', doc: 'Only windows that drifted (true) or did not (false)' },
    },
  },
  driftSummary: {
    id: 'drift-summary',
    table: 'model_drift_summary',
    doc: 'The drift verdict per model, version, segment and window',
    key: windowKey('model_name', 'model_version', 'segment'),
    select: `window_start, window_end, model_name, model_version, segment, n_features, n_drifted, drifted_share, drifted_features,
      toBool(prediction_drift) AS prediction_drift, toBool(dataset_drift) AS dataset_drift, severity, severity_level, correction, n_events,
      profile_status, computed_at`,
    filters: { ...common, severity: { column: 'severity', type: 'String', doc: 'Severity' } },
  },
  dataQuality: {
    id: 'data-quality',
    table: 'data_quality_metrics',
    doc: 'Missing rates and schema drift per feature and window',
    key: windowKey('model_name', 'model_version', 'segment', 'feature'),
    select: `window_start, window_end, model_name, model_version, segment, feature, missing_rate, reference_missing_rate, schema_status,
      observed_type, expected_type, n, computed_at`,
    filters: { ...common, feature: { column: 'feature', type: 'String', doc: 'Feature name' } },
  },
  performance: {
    id: 'performance',
    table: 'performance_metrics',
    doc: 'Realized and estimated performance per window',
    key: [
      { column: 'window_start', type: 'time' },
      { column: 'model_name', type: 'string' },
      { column: 'model_version', type: 'string' },
      { column: 'segment', type: 'string' },
      { column: 'is_shadow', type: 'uint8' },
      { column: 'metric', type: 'string' },
      { column: 'kind', type: 'string' },
    ],
    select: `window_start, window_end, model_name, model_version, segment, toBool(is_shadow) AS is_shadow, metric, kind, value, n_labeled, n_total,
      toBool(is_final) AS is_final, computed_at`,
    filters: {
      ...common,
      metric: { column: 'metric', type: 'String', doc: 'Metric (accuracy, f1, roc_auc, rmse, label_coverage, ...)' },
      kind: { column: 'kind', type: 'String', doc: 'realized | estimated' },
      shadow: { column: 'is_shadow', type: 'Bool', doc: 'Shadow (challenger) rows only (true) or served rows only (false)' },
    },
  },
  kpis: {
    id: 'kpis',
    table: 'kpi_metrics',
    doc: 'Business KPIs per window',
    key: windowKey('model_name', 'model_version', 'segment', 'kpi'),
    select: `window_start, window_end, model_name, model_version, segment, kpi, value, baseline, n, toBool(is_final) AS is_final, computed_at`,
    filters: { ...common, metric: { column: 'kpi', type: 'String', doc: 'KPI name' } },
  },
  alerts: {
    id: 'alerts',
    table: 'alerts',
    doc: 'Alerts, latest state of each',
    key: [
      { column: 'created_at', type: 'time' },
      { column: 'model_name', type: 'string' },
      { column: 'rule', type: 'string' },
      { column: 'alert_id', type: 'string' },
    ],
    select: `alert_id, created_at, model_name, model_version, rule, severity, status, metric, value, threshold, window_start, window_end, message`,
    filters: {
      model: common.model,
      version: common.version,
      rule: { column: 'rule', type: 'String', doc: 'Alert rule' },
      severity: { column: 'severity', type: 'String', doc: 'Severity' },
      status: { column: 'status', type: 'String', doc: 'Status (firing, resolved, ...)' },
      metric: { column: 'metric', type: 'String', doc: 'Metric the alert is about' },
    },
  },
  retrains: {
    id: 'retrains',
    table: 'retrain_events',
    doc: 'Retrain events published (RetrainRequested), newest first',
    key: [
      { column: 'created_at', type: 'time' },
      { column: 'model_name', type: 'string' },
      { column: 'idempotency_key', type: 'string' },
    ],
    select: `idempotency_key, created_at, policy_id, model_name, model_version, drifted_features, training_range_start, training_range_end, reason, event`,
    filters: { model: common.model, version: common.version, policy: { column: 'policy_id', type: 'String', doc: 'Retrain policy id' } },
    jsonColumns: ['event'],
  },
  retrainDecisions: {
    id: 'retrain-decisions',
    table: 'retrain_decisions',
    doc: 'Every retrain-policy decision, fired or suppressed, with its reason',
    key: [
      { column: 'decided_at', type: 'time' },
      { column: 'model_name', type: 'string' },
      { column: 'policy_id', type: 'string' },
      { column: 'window_start', type: 'time' },
      { column: 'decision', type: 'string' },
      { column: 'idempotency_key', type: 'string' },
    ],
    select: `decided_at, policy_id, model_name, model_version, window_start, window_end, decision, reason, idempotency_key, conditions, detail`,
    filters: {
      model: common.model,
      version: common.version,
      policy: { column: 'policy_id', type: 'String', doc: 'Retrain policy id' },
      decision: { column: 'decision', type: 'String', doc: 'Decision (fired, suppressed, ...)' },
    },
    jsonColumns: ['conditions', 'detail'],
  },
  retrainRuns: {
    id: 'retrain-runs',
    table: 'retrain_runs',
    doc: "The retrain worker's steps, one row per step of each run (started, data, trained, registered, profiled, promoted, or failed), keyed by the RetrainRequested idempotency key",
    // ReplacingMergeTree(at) ORDER BY (model_name, idempotency_key, step): after FINAL one row per
    // step of a run, carrying its latest `at` (a resumed run re-records a step).
    key: [
      { column: 'at', type: 'time' },
      { column: 'model_name', type: 'string' },
      { column: 'idempotency_key', type: 'string' },
      { column: 'step', type: 'string' },
    ],
    select: `idempotency_key, step, at, model_name, source_version, new_version, policy_id, worker, detail`,
    filters: {
      model: common.model,
      version: { column: 'source_version', type: 'String', doc: "Version the run retrains from (the event's model_version)" },
      idempotency_key: { column: 'idempotency_key', type: 'String', doc: 'Idempotency key of the RetrainRequested event (one run)' },
      step: { column: 'step', type: 'String', doc: 'Step (started, data, trained, registered, profiled, promoted, failed)' },
      policy: { column: 'policy_id', type: 'String', doc: 'Retrain policy id' },
    },
    jsonColumns: ['detail'],
  },
  deadLetters: {
    id: 'dead-letters',
    table: 'dead_letter_events',
    doc: 'Dead-lettered events by code (the events themselves are on the dead-letter topic)',
    key: [
      { column: 'failed_at', type: 'time' },
      { column: 'source_topic', type: 'string' },
      { column: 'source_partition', type: 'uint32' },
      { column: 'source_offset', type: 'uint64' },
      { column: 'code', type: 'string' },
    ],
    select: `failed_at, component, code, reason, source_topic, source_partition, toString(source_offset) AS source_offset`,
    filters: {
      component: { column: 'component', type: 'String', doc: 'Component that dead-lettered the event' },
      code: { column: 'code', type: 'String', doc: 'Error code (DW_...)' },
      topic: { column: 'source_topic', type: 'String', doc: 'Source topic' },
    },
  },
} as const satisfies Record<string, SeriesSpec>;

export type SeriesName = keyof typeof SERIES;

export interface SeriesQuery {
  /** Filter values by filter name (already schema-validated); undefined = no filter. */
  readonly filters: Readonly<Record<string, string | boolean | undefined>>;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  readonly limit: number;
  readonly order: SortOrder;
  readonly cursor?: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

const PARAM_TYPE: Record<KeyType, string> = { time: 'Int64', string: 'String', uint8: 'UInt8', uint32: 'UInt32', uint64: 'UInt64' };

function keyExpr(k: KeyColumn, i: number): string {
  const column = k.type === 'time' ? `toUnixTimestamp64Milli(${k.column})` : k.type === 'uint64' ? `toString(${k.column})` : k.column;
  return `${column} AS __k${i}`;
}

function keyParam(k: KeyColumn, i: number): string {
  return k.type === 'time' ? `fromUnixTimestamp64Milli({c${i}:Int64}, 'UTC')` : `{c${i}:${PARAM_TYPE[k.type]}}`;
}

/** Builds the statement and its parameters; exported so tests can check that no value reaches the SQL text. */
export function buildSeriesQuery(spec: SeriesSpec, q: SeriesQuery): { sql: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec.filters)) {
    const v = q.filters[name];
    if (v === undefined) continue;
    if (f.type === 'Bool') {
      where.push(`${f.column} = {f_${name}:UInt8}`);
      params[`f_${name}`] = v === true || v === 'true' ? 1 : 0;
    } else {
      where.push(`${f.column} = {f_${name}:String}`);
      params[`f_${name}`] = String(v);
    }
  }
  const time = spec.key[0]!.column;
  if (q.from !== undefined) {
    where.push(`${time} >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')`);
    params.from = q.from;
  }
  if (q.to !== undefined) {
    where.push(`${time} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`);
    params.to = q.to;
  }
  let order = q.order;
  if (q.cursor !== undefined) {
    const c = decodeCursor(
      spec.id,
      q.cursor,
      spec.key.map((k) => k.type),
    );
    order = c.order;
    const cols = spec.key.map((k) => k.column).join(', ');
    const vals = spec.key.map(keyParam).join(', ');
    where.push(`(${cols}) ${order === 'desc' ? '<' : '>'} (${vals})`);
    c.key.forEach((v, i) => (params[`c${i}`] = v));
  }
  const dir = order === 'desc' ? 'DESC' : 'ASC';
  params.limit = q.limit + 1;
  const sql = [
    `SELECT ${spec.select}, ${spec.key.map(keyExpr).join(', ')}`,
    `FROM ${spec.table} FINAL`,
    where.length > 0 ? `WHERE ${where.join(' AND ')}` : '',
    `ORDER BY ${spec.key.map((k) => `${k.column} ${dir}`).join(', ')}`,
    'LIMIT {limit:UInt32}',
  ]
    .filter(Boolean)
    .join('\n');
  return { sql, params };
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function querySeries(ch: ClickHouse, spec: SeriesSpec, q: SeriesQuery): Promise<Page<Record<string, unknown>>> {
  const { sql, params } = buildSeriesQuery(spec, q);
  const rows = await selectRows<Record<string, unknown>>(ch, sql, params);
  const order =
    q.cursor !== undefined
      ? decodeCursor(
          spec.id,
          q.cursor,
          spec.key.map((k) => k.type),
        ).order
      : q.order;
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const items = page.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) if (!k.startsWith('__k')) out[k] = v;
    for (const c of spec.jsonColumns ?? []) out[c] = parseJson(out[c]);
    return out;
  });
  let next: string | null = null;
  if (more) {
    const last = page[page.length - 1]!;
    next = encodeCursor(
      spec.id,
      order,
      spec.key.map((k, i) => {
        const v = last[`__k${i}`];
        return (k.type === 'string' || k.type === 'uint64' ? String(v) : Number(v)) as KeyValue;
      }),
    );
  }
  return { items, next_cursor: next };
}
