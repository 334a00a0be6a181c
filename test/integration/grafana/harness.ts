/**
 * Stands in for Grafana against any ClickHouse handle: runs dashboard panels and variables the way
 * the frontend + ClickHouse plugin do (variables interpolated, macros expanded, result turned into
 * frames), and evaluates alert rules over successive instants the way the ruler does.
 *
 * Input is only a ClickHouse handle and times: nothing here depends on how the data was made. The
 * tests in this folder use it on the data of ./scenario.ts only, and their expectations are that
 * scenario's; no test runs them on another pipeline run's ClickHouse.
 */
import type { Dashboard, Panel, VariableModel } from '@grafana/schema';
import {
  applyEvaluation,
  evaluateRule,
  type EvaluationResult,
  type Results,
  type RuleForEvaluation,
  type TrackedInstance,
} from '../../../lib/grafana/alerting.js';
import { renderAnnotation } from '../../../lib/grafana/annotations.js';
import { allPanels } from '../../../lib/grafana/dashboard.js';
import { frameFromClickHouse, pluginResponse, type ClickHouseJson, type Frame } from '../../../lib/grafana/frames.js';
import { calculateInterval } from '../../../lib/grafana/interval.js';
import { expandMacros } from '../../../lib/grafana/macros.js';
import { ALL_VALUE, interpolateVariables, type VariableState } from '../../../lib/grafana/template.js';
import type { AlertRule } from '../../../lib/grafana/provisioning.js';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';

export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Runs SQL as the plugin's driver would receive it; returns the frame sqlutil builds. */
export async function runSql(ch: ClickHouse, sql: string, name?: string): Promise<Frame> {
  const rs = await ch.client.query({
    query: sql,
    format: 'JSON',
    clickhouse_settings: { date_time_output_format: 'iso', output_format_json_quote_denormals: 1, output_format_json_quote_64bit_integers: 1 },
  });
  return frameFromClickHouse((await rs.json()) as unknown as ClickHouseJson, name);
}

/** Pixels per grid column at a 1920 px wide screen: Grafana's maxDataPoints is the panel width. */
const PX_PER_COLUMN = 75;

export interface PanelQuery {
  readonly dashboardUid: string;
  readonly panel: Panel;
  readonly refId: string;
  readonly rawSql: string;
  readonly format: number;
}

export function panelQueries(d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({ dashboardUid: d.uid!, panel, refId: String(t.refId), rawSql: String(t.rawSql), format: Number(t.format) })),
  );
}

export interface ExecutedQuery {
  readonly sql: string;
  readonly intervalMs: number;
  /** The frame of the SQL result (before the plugin's long-to-wide conversion). */
  readonly frame: Frame;
  /** What the panel receives (sqlds getFrames). */
  readonly frames: Frame[];
}

/** Interpolates variables, expands macros with the panel's interval, runs the query. */
export async function runPanelQuery(ch: ClickHouse, q: PanelQuery, variables: readonly VariableState[], range: TimeRange): Promise<ExecutedQuery> {
  const width = q.panel.gridPos?.w ?? 24;
  const { intervalMs, interval } = calculateInterval(range.fromMs, range.toMs, q.panel.maxDataPoints ?? width * PX_PER_COLUMN, q.panel.interval);
  const withVars = interpolateVariables(q.rawSql, variables, { fromMs: range.fromMs, toMs: range.toMs, intervalMs, interval });
  const sql = expandMacros(withVars, { fromMs: range.fromMs, toMs: range.toMs, intervalMs });
  const frame = await runSql(ch, sql, q.refId);
  return { sql, intervalMs, frame, frames: pluginResponse(frame, q.format) };
}

/**
 * Resolves a dashboard's variables in order, as Grafana does on load: each query runs with the
 * variables before it; the selection is the saved current one (All, a value) when it exists among the
 * options, else the first option.
 */
export async function resolveVariables(
  ch: ClickHouse,
  d: Dashboard,
  range: TimeRange,
  overrides: Readonly<Record<string, string | readonly string[]>> = {},
): Promise<VariableState[]> {
  const states: VariableState[] = [];
  for (const v of d.templating?.list ?? []) {
    const sql = typeof v.query === 'string' ? v.query : String((v.query as { rawSql?: string }).rawSql ?? '');
    const expanded = expandMacros(interpolateVariables(sql, states), { fromMs: range.fromMs, toMs: range.toMs, intervalMs: 60_000 });
    const frame = await runSql(ch, expanded);
    let options = frame.fields.length ? [...new Set((frame.fields[0]!.values as unknown[]).map((x) => String(x)))] : [];
    // Grafana sorts the options by the variable's sort setting (1 alphabetical, 2 alphabetical descending).
    if (v.sort === 1) options = [...options].sort();
    if (v.sort === 2) options = [...options].sort().reverse();
    states.push({
      name: v.name,
      multi: v.multi === true,
      includeAll: v.includeAll === true,
      allValue: v.allValue,
      options,
      current: selection(v, options, overrides[v.name]),
    });
  }
  return states;
}

function selection(v: VariableModel, options: readonly string[], override?: string | readonly string[]): string | readonly string[] {
  if (override !== undefined) return override;
  const saved = v.current?.value;
  if (saved === ALL_VALUE || (Array.isArray(saved) && saved.includes(ALL_VALUE))) return v.includeAll ? ALL_VALUE : (options[0] ?? '');
  const wanted = Array.isArray(saved) ? saved : saved ? [saved] : [];
  const present = wanted.filter((x) => options.includes(x));
  if (present.length) return v.multi ? present : present[0]!;
  return v.multi ? (options[0] ? [options[0]] : []) : (options[0] ?? '');
}

// ---- alert rules ----------------------------------------------------------------------------------

export interface RuleStep {
  readonly atMs: number;
  readonly result: EvaluationResult;
  readonly states: ReadonlyMap<string, TrackedInstance>;
  /** Results of every node (A, B, C) at this evaluation. */
  readonly vars: ReadonlyMap<string, Results>;
}

/** A rule's datasource queries against ClickHouse: macros expanded with the query's range and interval. */
export function clickhouseRunner(ch: ClickHouse) {
  return async (req: { model: Readonly<Record<string, unknown>>; fromMs: number; toMs: number; intervalMs: number }): Promise<Frame[]> => {
    const sql = expandMacros(String(req.model.rawSql), { fromMs: req.fromMs, toMs: req.toMs, intervalMs: req.intervalMs });
    return pluginResponse(await runSql(ch, sql, 'A'), Number(req.model.format ?? 1));
  };
}

/** Evaluates a rule at each instant in order, carrying the instance states (pending -> alerting). */
export async function evaluateOverTime(ch: ClickHouse, rule: RuleForEvaluation, instantsMs: readonly number[]): Promise<RuleStep[]> {
  const run = clickhouseRunner(ch);
  const steps: RuleStep[] = [];
  let states = new Map<string, TrackedInstance>();
  for (const atMs of instantsMs) {
    const { result, vars } = await evaluateRule(rule, atMs, run);
    states = applyEvaluation(states, result, rule, atMs);
    steps.push({ atMs, result, states, vars });
  }
  return steps;
}

/** Instants every `stepMs` from `fromMs` to `toMs` inclusive (the rule group's evaluation interval). */
export function instants(fromMs: number, toMs: number, stepMs = 60_000): number[] {
  const out: number[] = [];
  for (let t = fromMs; t <= toMs; t += stepMs) out.push(t);
  return out;
}

const sameLabels = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** The value of node `refId` for the instance with `labels` at this step. */
export function valueOf(step: RuleStep, refId: string, labels: Readonly<Record<string, string>>): number | null {
  for (const v of step.vars.get(refId)?.values ?? []) if (v.kind === 'number' && sameLabels(v.labels, labels)) return v.value;
  return null;
}

/** Annotations of each firing instance, rendered as Grafana would send them ($values holds B and C). */
export function firingAnnotations(rule: AlertRule, step: RuleStep): Array<{ labels: Record<string, string>; summary: string; description: string }> {
  return [...step.states.values()]
    .filter((s) => s.state === 'Alerting' && Object.keys(s.labels).length > 0)
    .map((s) => {
      const labels = { ...s.labels, ...rule.labels };
      const values = { B: valueOf(step, 'B', s.labels), C: valueOf(step, 'C', s.labels) };
      return {
        labels,
        summary: renderAnnotation(rule.annotations.summary!, labels, values),
        description: renderAnnotation(rule.annotations.description!, labels, values),
      };
    });
}
