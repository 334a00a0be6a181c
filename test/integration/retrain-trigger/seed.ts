/**
 * Seeds the window-metrics tables (migration 030) with rows shaped exactly as the window-metrics
 * processor writes them: one model_drift_summary row per model/version/window (segment ''), one
 * drift_metrics row per feature, performance_metrics and kpi_metrics rows, all with computed_at.
 * The rows are typed with that processor's own row types (stream-processors/window-metrics/
 * evaluate.ts), so a change of its output shape fails this helper's typecheck. The retrain trigger
 * reads nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { toClickHouseTime, type ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { severityLevel } from '../../../stream-processors/retrain-trigger/policy.js';
import type { DriftRow, KpiRow, PerformanceRow, SummaryRow } from '../../../stream-processors/window-metrics/evaluate.js';

export interface SeedWindow {
  readonly model: string;
  readonly version?: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** feature -> severity (none | warning | critical), as window-metrics writes it */
  readonly severities: Readonly<Record<string, string>>;
  /** Realized rows are final unless `isFinal: false` (a provisional row, rewritten as labels arrive). */
  readonly performance?: readonly {
    metric: string;
    kind: 'realized' | 'estimated';
    value: number | null;
    nLabeled: number;
    nTotal: number;
    isFinal?: boolean;
  }[];
  readonly kpis?: readonly { kpi: string; value: number | null; baseline: number | null; n: number }[];
  readonly computedAt?: number;
}

export async function seedWindows(ch: ClickHouse, windows: readonly SeedWindow[]): Promise<void> {
  const summaries: SummaryRow[] = [];
  const drift: DriftRow[] = [];
  const perf: PerformanceRow[] = [];
  const kpi: KpiRow[] = [];
  for (const w of windows) {
    const common = {
      window_start: toClickHouseTime(w.windowStart),
      window_end: toClickHouseTime(w.windowEnd),
      model_name: w.model,
      model_version: w.version ?? '1',
      segment: '',
      computed_at: toClickHouseTime(w.computedAt ?? Date.now()),
    };
    const features = Object.entries(w.severities);
    const drifted = features.filter(([, s]) => s !== 'none').map(([f]) => f);
    const worst = features.reduce((acc, [, s]) => (severityLevel(s) > severityLevel(acc) ? s : acc), 'none');
    for (const [feature, severity] of features) {
      drift.push({
        ...common,
        feature,
        feature_kind: 'numeric',
        method: 'psi',
        score: severity === 'none' ? 0.01 : severity === 'warning' ? 0.12 : 0.4,
        p_value: null,
        p_value_adjusted: null,
        threshold: 0.1,
        threshold_kind: 'distance',
        drift: severity === 'none' ? 0 : 1,
        severity,
        n_ref: 1000,
        n_cur: 500,
        status: 'ok',
        is_final: 1,
      });
    }
    summaries.push({
      ...common,
      n_features: features.length,
      n_drifted: drifted.length,
      drifted_share: features.length ? drifted.length / features.length : 0,
      drifted_features: drifted,
      prediction_drift: 0,
      dataset_drift: drifted.length * 2 >= features.length && features.length > 0 ? 1 : 0,
      severity: worst,
      severity_level: severityLevel(worst),
      correction: 'none',
      n_events: 500,
      profile_status: 'ok',
    });
    for (const p of w.performance ?? []) {
      perf.push({
        ...common,
        is_shadow: 0,
        metric: p.metric,
        kind: p.kind,
        value: p.value,
        n_labeled: p.nLabeled,
        n_total: p.nTotal,
        is_final: p.isFinal === false ? 0 : 1,
      });
    }
    for (const k of w.kpis ?? []) kpi.push({ ...common, kpi: k.kpi, value: k.value, baseline: k.baseline, n: k.n, is_final: 1 });
  }
  // Detail rows first, the summary (the trigger's window clock) last, as a careful writer would.
  if (drift.length) await ch.client.insert({ table: 'drift_metrics', values: drift, format: 'JSONEachRow' });
  if (perf.length) await ch.client.insert({ table: 'performance_metrics', values: perf, format: 'JSONEachRow' });
  if (kpi.length) await ch.client.insert({ table: 'kpi_metrics', values: kpi, format: 'JSONEachRow' });
  await ch.client.insert({ table: 'model_drift_summary', values: summaries, format: 'JSONEachRow' });
}

/**
 * Rewrites a window's realized rows as window-metrics does when late labels arrive: the whole set,
 * newer computed_at, provisional until `isFinal`. The summary and the drift rows are left alone.
 */
export async function rewritePerformance(
  ch: ClickHouse,
  w: { model: string; version?: string; windowStart: number; windowEnd: number },
  rows: readonly { metric: string; value: number | null; nLabeled: number; nTotal: number }[],
  isFinal: boolean,
  computedAt = Date.now(),
): Promise<void> {
  const values: PerformanceRow[] = rows.map((r) => ({
    window_start: toClickHouseTime(w.windowStart),
    window_end: toClickHouseTime(w.windowEnd),
    model_name: w.model,
    model_version: w.version ?? '1',
    segment: '',
    is_shadow: 0,
    metric: r.metric,
    kind: 'realized',
    value: r.value,
    n_labeled: r.nLabeled,
    n_total: r.nTotal,
    is_final: isFinal ? 1 : 0,
    computed_at: toClickHouseTime(computedAt),
  }));
  await ch.client.insert({ table: 'performance_metrics', values, format: 'JSONEachRow' });
}

export const DRIFTING = { age: 'critical', income: 'critical', tenure: 'warning' } as const;
export const CALM = { age: 'none', income: 'warning', tenure: 'none' } as const;

/** Window i of a run of windows of `size` ms starting at t0. */
export function windowAt(t0: number, size: number, i: number): { windowStart: number; windowEnd: number } {
  return { windowStart: t0 + i * size, windowEnd: t0 + (i + 1) * size };
}

export function writePolicyFile(file: string, policies: unknown[]): void {
  writeFileSync(file, stringify({ policies }));
}

/** A child process with its JSON log lines collected. */
export interface Child {
  readonly proc: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  stderr(): string;
}

export function spawnChild(entry: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', entry], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, lines, exited, stderr: () => err };
}
