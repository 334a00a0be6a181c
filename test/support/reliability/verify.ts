/**
 * Accounting of a reliability run: every produced event looked up in the query-visible tables
 * (FINAL), the joined set and the window tables compared with the pure-core oracle (./oracle.ts),
 * and the figures each scenario prints.
 */
import { DEAD_LETTER_HEADERS, type TopicNames } from '../../../lib/contracts/topics.js';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import type { KafkaAdapter } from '../../../lib/runtime/kafka.js';
import { queryRows } from '../stack.js';
import { WINDOW_TABLES, keyOf, labeledKey, labeledValue, normalizeRow, type JoinExpectation, type WindowTables } from './oracle.js';
import { allRecords, type Workload } from './workload.js';

export interface RawAccount {
  readonly table: string;
  readonly produced: number;
  /** Distinct produced events visible with FINAL. */
  readonly stored: number;
  /** Produced events missing from the table. */
  readonly lost: number;
  /** Events visible more than once with FINAL (different sorting keys for one event_id), or never produced. */
  readonly duplicated: number;
  readonly unexpected: number;
  /** Physical rows before collapsing: redeliveries the table absorbed. */
  readonly physicalRows: number;
}

export async function accountTable(ch: ClickHouse, table: string, ids: ReadonlySet<string>): Promise<RawAccount> {
  const rows = await queryRows<{ event_id: string; n: string }>(ch, `SELECT event_id, count() AS n FROM ${table} FINAL GROUP BY event_id`);
  let stored = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const r of rows) {
    if (!ids.has(r.event_id)) unexpected++;
    else stored++;
    if (Number(r.n) > 1) duplicated += Number(r.n) - 1;
  }
  const [phys] = await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM ${table}`);
  return { table, produced: ids.size, stored, lost: ids.size - stored, duplicated, unexpected, physicalRows: Number(phys!.n) };
}

/** raw_predictions and raw_outcomes against every produced event (sentinels included). */
export async function accountRaw(ch: ClickHouse, w: Workload): Promise<RawAccount[]> {
  const all = allRecords(w);
  const preds = new Set(all.filter((r) => r.stream === 'predictions').map((r) => r.event.event_id));
  const outs = new Set(all.filter((r) => r.stream === 'outcomes').map((r) => r.event.event_id));
  return [await accountTable(ch, 'raw_predictions', preds), await accountTable(ch, 'raw_outcomes', outs)];
}

export async function rawComplete(ch: ClickHouse, w: Workload): Promise<boolean> {
  const [r] = await queryRows<{ p: string; o: string }>(
    ch,
    'SELECT (SELECT count() FROM raw_predictions FINAL) AS p, (SELECT count() FROM raw_outcomes FINAL) AS o',
  );
  const all = allRecords(w);
  return Number(r!.p) >= all.filter((x) => x.stream === 'predictions').length && Number(r!.o) >= all.filter((x) => x.stream === 'outcomes').length;
}

export interface JoinAccount {
  readonly expected: number;
  readonly stored: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
  /** Rows whose status/label/outcome differ from the oracle's. */
  readonly different: number;
  readonly lateExpected: number;
  readonly lateStored: number;
  readonly lateDifferent: number;
  readonly physicalRows: number;
  readonly examples: string[];
}

export async function joinCounts(ch: ClickHouse): Promise<{ labeled: number; late: number }> {
  const [r] = await queryRows<{ l: string; x: string }>(
    ch,
    'SELECT (SELECT count() FROM labeled_predictions FINAL) AS l, (SELECT count() FROM late_labels FINAL) AS x',
  );
  return { labeled: Number(r!.l), late: Number(r!.x) };
}

export async function accountJoin(ch: ClickHouse, expected: JoinExpectation): Promise<JoinAccount> {
  const rows = await queryRows<{
    prediction_id: string;
    model_name: string;
    model_version: string;
    is_shadow: boolean;
    status: string;
    outcome_event_id: string | null;
    label: string | null;
    label_delay_ms: string | null;
  }>(ch, 'SELECT prediction_id, model_name, model_version, is_shadow, status, outcome_event_id, label, label_delay_ms FROM labeled_predictions FINAL');
  const seen = new Map<string, number>();
  let different = 0;
  let unexpected = 0;
  const examples: string[] = [];
  for (const r of rows) {
    const k = labeledKey(r);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    const want = expected.labeled.get(k);
    if (want === undefined) unexpected++;
    else if (want !== labeledValue(r)) {
      different++;
      if (examples.length < 5) examples.push(`${k}: got ${labeledValue(r)}, expected ${want}`);
    }
  }
  let stored = 0;
  let duplicated = 0;
  for (const k of expected.labeled.keys()) if (seen.has(k)) stored++;
  for (const n of seen.values()) if (n > 1) duplicated += n - 1;
  const late = await queryRows<{ outcome_event_id: string; reason: string }>(ch, 'SELECT outcome_event_id, reason FROM late_labels FINAL');
  let lateDifferent = 0;
  for (const r of late) if (expected.late.get(r.outcome_event_id) !== r.reason) lateDifferent++;
  const [phys] = await queryRows<{ n: string }>(ch, 'SELECT count() AS n FROM labeled_predictions');
  return {
    expected: expected.labeled.size,
    stored,
    lost: expected.labeled.size - stored,
    duplicated,
    unexpected,
    different,
    lateExpected: expected.late.size,
    lateStored: late.length,
    lateDifferent: lateDifferent + Math.max(0, expected.late.size - late.length),
    physicalRows: Number(phys!.n),
    examples,
  };
}

export interface WindowAccount {
  readonly table: string;
  readonly expected: number;
  readonly stored: number;
  readonly missing: number;
  readonly unexpected: number;
  readonly different: number;
  readonly examples: string[];
}

const REL_TOL = 1e-9;

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= REL_TOL * Math.max(1, Math.abs(a), Math.abs(b));
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** Rows of the 030 tables (FINAL, model `model` only) against the oracle. */
export async function accountWindows(ch: ClickHouse, expected: WindowTables): Promise<WindowAccount[]> {
  const out: WindowAccount[] = [];
  for (const t of Object.keys(WINDOW_TABLES) as (keyof WindowTables)[]) {
    const spec = WINDOW_TABLES[t];
    const rows = await queryRows<Record<string, unknown>>(ch, `SELECT * FROM ${spec.table} FINAL`);
    const want = expected[t];
    let stored = 0;
    let unexpected = 0;
    let different = 0;
    const examples: string[] = [];
    for (const raw of rows) {
      const r = normalizeRow(raw);
      const k = keyOf(r, spec.key);
      const e = want.get(k);
      if (!e) {
        unexpected++;
        if (examples.length < 3) examples.push(`unexpected ${k}`);
        continue;
      }
      stored++;
      const diffs = Object.keys(e).filter((c) => !sameValue(e[c], r[c]));
      if (diffs.length > 0) {
        different++;
        if (examples.length < 3) examples.push(`${k}: ${diffs.map((c) => `${c} got ${JSON.stringify(r[c])} expected ${JSON.stringify(e[c])}`).join(', ')}`);
      }
    }
    out.push({ table: spec.table, expected: want.size, stored, missing: want.size - stored, unexpected, different, examples });
  }
  return out;
}

/**
 * True once window-metrics has finalised every window the oracle has (its `performance_final`
 * marker, written after the window's final rows) and every expected row is visible. A row that is
 * there but wrong is left for accountWindows to report.
 */
export async function windowsComplete(ch: ClickHouse, namespace: string, expected: WindowTables): Promise<boolean> {
  const windows = new Set([...expected.summary.values()].map((r) => `${String(r.model_name)}|${String(r.model_version)}|${String(r.window_start)}`));
  const [m] = await queryRows<{ n: string }>(
    ch,
    `SELECT count() AS n FROM window_evaluations FINAL WHERE namespace = {ns:String} AND stage = 'performance_final' AND model_name != '__heartbeat__'`,
    { ns: namespace },
  );
  if (Number(m!.n) < windows.size) return false;
  for (const t of Object.keys(WINDOW_TABLES) as (keyof WindowTables)[]) {
    const [r] = await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM ${WINDOW_TABLES[t].table} FINAL`);
    if (Number(r!.n) < expected[t].size) return false;
  }
  return true;
}

export interface DeadLetterRow {
  readonly component: string;
  readonly code: string;
  readonly source_topic: string;
  readonly source_partition: number;
  readonly source_offset: number;
}

export async function deadLetterRows(ch: ClickHouse): Promise<DeadLetterRow[]> {
  const rows = await queryRows<{ component: string; code: string; source_topic: string; source_partition: string; source_offset: string }>(
    ch,
    'SELECT component, code, source_topic, source_partition, source_offset FROM dead_letter_events FINAL',
  );
  return rows.map((r) => ({ ...r, source_partition: Number(r.source_partition), source_offset: Number(r.source_offset) }));
}

export interface DeadLetterSeen {
  readonly key: string;
  readonly code: string;
  readonly component: string;
  readonly sourceTopic: string;
}

/** Every record on the dead-letter topic (read to its end). */
export async function readDeadLetters(kafka: KafkaAdapter, topics: TopicNames): Promise<DeadLetterSeen[]> {
  const out: DeadLetterSeen[] = [];
  await kafka.readToEnd(topics.deadLetter, 'all', (r) => {
    out.push({
      key: r.key?.toString('utf8') ?? '',
      code: r.headers[DEAD_LETTER_HEADERS.code] ?? '',
      component: r.headers[DEAD_LETTER_HEADERS.component] ?? '',
      sourceTopic: r.headers[DEAD_LETTER_HEADERS.sourceTopic] ?? '',
    });
  });
  return out;
}

export interface DeadLetterAccount {
  /** Records on the run's dead-letter topic: every consumer (ingest, label-joiner, window-metrics ...) writes there. */
  readonly topic: readonly DeadLetterSeen[];
  /** `dead_letter_events` rows (FINAL): ingest's copy, which the dashboards and the API read. */
  readonly table: readonly DeadLetterRow[];
  /** Topic records per `<component>:<code>`, for the printed figures. */
  readonly byComponentCode: Readonly<Record<string, number>>;
}

/**
 * Every dead letter of a run, measured in both places it lands. The topic is the complete count
 * (the table only has ingest's), the table shows what an operator would see.
 */
export async function accountDeadLetters(kafka: KafkaAdapter, topics: TopicNames, ch: ClickHouse): Promise<DeadLetterAccount> {
  const topic = await readDeadLetters(kafka, topics);
  const byComponentCode: Record<string, number> = {};
  for (const d of topic) byComponentCode[`${d.component}:${d.code}`] = (byComponentCode[`${d.component}:${d.code}`] ?? 0) + 1;
  return { topic, table: await deadLetterRows(ch), byComponentCode };
}

/** The figures line every scenario prints (CI output) and docs/reliability.md quotes. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`[reliability] ${scenario}: ${JSON.stringify(figures)}`);
}

/** Sums of a list of accounts, for the printed figures. */
export function totals(
  raw: readonly RawAccount[],
  join: JoinAccount,
): { produced: number; stored: number; lost: number; duplicated: number; redeliveriesAbsorbed: number } {
  const produced = raw.reduce((n, r) => n + r.produced, 0);
  const stored = raw.reduce((n, r) => n + r.stored, 0);
  return {
    produced,
    stored,
    lost: raw.reduce((n, r) => n + r.lost, 0) + join.lost,
    duplicated: raw.reduce((n, r) => n + r.duplicated + r.unexpected, 0) + join.duplicated + join.unexpected,
    redeliveriesAbsorbed: raw.reduce((n, r) => n + r.physicalRows - r.stored, 0) + (join.physicalRows - join.stored),
  };
}

/** Copies on the labeled-predictions topic: the joiner's output is at-least-once (a restart re-emits). */
export async function labeledTopicCopies(kafka: KafkaAdapter, topics: TopicNames): Promise<{ records: number; distinct: number; copies: number }> {
  const seen = new Map<string, number>();
  let records = 0;
  await kafka.readToEnd(topics.labeledPredictions, 'all', (r) => {
    records++;
    const k = `${r.partition}|${r.key?.toString('utf8') ?? ''}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  });
  return { records, distinct: seen.size, copies: records - seen.size };
}

/** Events window-metrics counted as late (not added), per input topic, from its progress rows. */
export async function windowLateEvents(ch: ClickHouse, topics: TopicNames): Promise<{ predictions: number; labeled: number }> {
  const rows = await queryRows<{ topic: string; n: string }>(
    ch,
    `SELECT topic, sum(late_events) AS n FROM window_state FINAL WHERE kind = 'progress' AND topic IN {t:Array(String)} GROUP BY topic`,
    {
      t: [topics.predictions, topics.labeledPredictions],
    },
  );
  const of = (t: string) => Number(rows.find((r) => r.topic === t)?.n ?? 0);
  return { predictions: of(topics.predictions), labeled: of(topics.labeledPredictions) };
}
