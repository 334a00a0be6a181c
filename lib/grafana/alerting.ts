/**
 * Grafana-managed alert rule evaluation (query -> server-side expressions -> condition -> state),
 * reproduced without a Grafana server so tests can show that a rule fires on a drift scenario and
 * stays quiet on a stationary one.
 *
 * Mirrored upstream code (grafana `pkg/expr`, `pkg/services/ngalert/eval`, `.../state`):
 * - `convertDataFramesToResults` (pkg/expr/nodes.go): a datasource response without frames or with a
 *   single frame without fields is NoData; a single non-time-series frame with exactly one numeric
 *   field and otherwise only strings is a number set (one Number per row, labels from the string
 *   columns, value read with FloatAt, so SQL NULL becomes NaN); anything else must be wide time
 *   series, each value field becoming a Series (labels of the field).
 * - `ReduceCommand` + `mathexp/reduce.go`: sum/mean/min/max/count/last on a Series (a nil or NaN
 *   point makes sum/mean/min/max NaN; last may be nil); on a Number the reduce is a no-op; the
 *   `dropNN` mode drops nil/NaN/Inf points and maps a NaN result to nil, `replaceNN` replaces them.
 * - `ThresholdCommand` (pkg/expr/threshold.go): gt, lt, eq, ne, gte, lte, within_range,
 *   outside_range, *_included; nil stays nil, otherwise 1 or 0 (NaN compares false).
 * - `evaluateExecutionResult` / `frameToResult` (ngalert/eval/eval.go): a condition without frames is
 *   NoData; a time field in the condition is an error ("only reduced data can be alerted on");
 *   value nil -> NoData, 0 -> Normal, anything else (NaN too) -> Alerting; duplicate label sets
 *   are an error.
 * - noDataState / execErrState (ngalert models): NoData|Alerting|OK|KeepLast and
 *   Error|Alerting|OK|KeepLast; then the `for` pending period of the state manager.
 * Math and classic conditions are not reproduced: driftwatch's rules use only reduce and threshold,
 * and `validateRuleForEvaluation` rejects anything else so a rule cannot silently escape the tests.
 */
import { type Frame, FrameError, rowCount, timeSeriesSchema } from './frames.js';

export type Labels = Readonly<Record<string, string>>;

export type Value =
  | { readonly kind: 'number'; readonly labels: Labels; readonly value: number | null }
  | { readonly kind: 'series'; readonly labels: Labels; readonly points: ReadonlyArray<readonly [number, number | null]> }
  | { readonly kind: 'nodata' };

export interface Results {
  readonly values: readonly Value[];
  readonly error?: string;
}

export class AlertEvaluationError extends Error {
  override readonly name = 'AlertEvaluationError';
}

export const EXPRESSION_DATASOURCE_UID = '__expr__';

// ---- datasource responses ---------------------------------------------------------------------

function isNumberTable(frame: Frame): boolean {
  let numeric = 0;
  let other = 0;
  for (const f of frame.fields) {
    if (f.kind === 'number') numeric++;
    else if (f.kind !== 'string') other++;
  }
  return numeric === 1 && other === 0;
}

function floatAt(v: unknown): number {
  // data.Field.FloatAt: a nil of a nullable numeric field reads as NaN.
  if (v === null || v === undefined) return NaN;
  return v as number;
}

/** pkg/expr/nodes.go convertDataFramesToResults (non-Prometheus, non-dataplane path). */
export function framesToResults(frames: readonly Frame[]): Results {
  if (frames.length === 0) return { values: [{ kind: 'nodata' }] };
  if (frames.length === 1) {
    const frame = frames[0]!;
    if (frame.fields.length === 0) return { values: [{ kind: 'nodata' }] };
    if (timeSeriesSchema(frame).type === 'not' && isNumberTable(frame)) {
      const num = frame.fields.findIndex((f) => f.kind === 'number');
      const strings = frame.fields.filter((f) => f.kind === 'string');
      const values: Value[] = [];
      for (let r = 0; r < rowCount(frame); r++) {
        const labels: Record<string, string> = {};
        for (const s of strings) {
          const v = s.values[r];
          // extractNumberSet asserts val.(string); a NULL label would panic the Go code.
          if (v === null || v === undefined) throw new AlertEvaluationError(`label column ${s.name} is NULL in row ${r}; Grafana cannot read it`);
          labels[s.name] = String(v);
        }
        values.push({ kind: 'number', labels, value: floatAt(frame.fields[num]!.values[r]) });
      }
      return { values };
    }
  }
  const values: Value[] = [];
  for (const frame of frames) {
    const schema = timeSeriesSchema(frame);
    if (schema.type !== 'wide') throw new AlertEvaluationError(`input data must be a wide series but got type ${schema.type} (input refid)`);
    const times = frame.fields[schema.timeIndex]!.values as (number | null)[];
    for (const vi of schema.valueIndices) {
      const f = frame.fields[vi]!;
      if (f.kind !== 'number') throw new AlertEvaluationError(`field ${f.name} of kind ${f.kind} cannot be read as a float series`);
      const points = times.map((t, i) => {
        if (t === null) throw new AlertEvaluationError('time may not have nil values');
        const v = f.values[i];
        return [t, v === null || v === undefined ? null : (v as number)] as const;
      });
      values.push({ kind: 'series', labels: f.labels ?? {}, points });
    }
  }
  return { values };
}

// ---- expressions ------------------------------------------------------------------------------

export type ReducerId = 'sum' | 'mean' | 'min' | 'max' | 'count' | 'last';
export type ReduceMode = '' | 'dropNN' | 'replaceNN';

function reduceFloats(values: readonly (number | null)[], reducer: ReducerId): number | null {
  switch (reducer) {
    case 'sum': {
      let sum = 0;
      for (const v of values) {
        if (v === null || Number.isNaN(v)) return NaN;
        sum += v;
      }
      return sum;
    }
    case 'mean': {
      const s = reduceFloats(values, 'sum')!;
      return s / values.length;
    }
    case 'min':
    case 'max': {
      if (values.length === 0) return NaN;
      let f = 0;
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v === null || Number.isNaN(v)) return NaN;
        if (i === 0 || (reducer === 'min' ? v < f : v > f)) f = v;
      }
      return f;
    }
    case 'count':
      return values.length;
    case 'last':
      return values.length === 0 ? NaN : values[values.length - 1]!;
  }
}

interface Mapper {
  mapInput(v: number | null): number | null;
  mapOutput(v: number | null): number | null;
}

function mapperFor(mode: ReduceMode, replaceWith?: number): Mapper | null {
  if (mode === 'dropNN') {
    return {
      mapInput: (v) => (v === null || Number.isNaN(v) || !Number.isFinite(v) ? null : v),
      mapOutput: (v) => (v !== null && Number.isNaN(v) ? null : v),
    };
  }
  if (mode === 'replaceNN') {
    if (replaceWith === undefined) throw new AlertEvaluationError("setting replaceWithValue must be specified when mode is 'replaceNN'");
    return {
      mapInput: (v) => (v === null || Number.isNaN(v) || !Number.isFinite(v) ? replaceWith : v),
      mapOutput: (v) => (v !== null && Number.isNaN(v) ? replaceWith : v),
    };
  }
  return null;
}

export function reduce(input: Results, reducer: ReducerId, mode: ReduceMode = '', replaceWith?: number): Results {
  const mapper = mapperFor(mode, replaceWith);
  const out: Value[] = [];
  for (const v of input.values) {
    if (v.kind === 'series') {
      let pts = v.points.map((p) => p[1]);
      // mapSeries drops points the mapper maps to nil.
      if (mapper) pts = pts.map((p) => mapper.mapInput(p)).filter((p): p is number => p !== null);
      let f = reduceFloats(pts, reducer);
      if (f !== null && mapper) f = mapper.mapOutput(f);
      out.push({ kind: 'number', labels: v.labels, value: f });
    } else if (v.kind === 'number') {
      let value = v.value;
      if (mapper) {
        value = mapper.mapInput(value);
        if (value === null) continue;
      }
      out.push({ kind: 'number', labels: v.labels, value });
    } else {
      out.push({ kind: 'nodata' });
    }
  }
  return { values: out };
}

export type ThresholdType = 'gt' | 'lt' | 'eq' | 'ne' | 'gte' | 'lte' | 'within_range' | 'outside_range' | 'within_range_included' | 'outside_range_included';

export function thresholdPredicate(type: ThresholdType, params: readonly number[]): (f: number) => boolean {
  const need = type.includes('range') ? 2 : 1;
  if (params.length < need)
    throw new AlertEvaluationError(`incorrect number of arguments for threshold function '${type}': got ${params.length} but need ${need}`);
  const [a, b] = params as [number, number];
  switch (type) {
    case 'gt':
      return (f) => f > a;
    case 'lt':
      return (f) => f < a;
    case 'eq':
      return (f) => f === a;
    case 'ne':
      return (f) => f !== a;
    case 'gte':
      return (f) => f >= a;
    case 'lte':
      return (f) => f <= a;
    case 'within_range':
      return (f) => f > a && f < b;
    case 'outside_range':
      return (f) => f < a || f > b;
    case 'within_range_included':
      return (f) => f >= a && f <= b;
    case 'outside_range_included':
      return (f) => f <= a || f >= b;
    default:
      throw new AlertEvaluationError(
        `expected threshold function to be one of [gt, lt, eq, ne, gte, lte, within_range, outside_range, within_range_included, outside_range_included], got ${String(type)}`,
      );
  }
}

export function threshold(input: Results, type: ThresholdType, params: readonly number[]): Results {
  const pred = thresholdPredicate(type, params);
  const evalOne = (v: number | null): number | null => (v === null ? null : pred(v) ? 1 : 0);
  return {
    values: input.values.map((v): Value => {
      if (v.kind === 'number') return { kind: 'number', labels: v.labels, value: evalOne(v.value) };
      if (v.kind === 'series') return { kind: 'series', labels: v.labels, points: v.points.map(([t, x]) => [t, evalOne(x)] as const) };
      return { kind: 'nodata' };
    }),
  };
}

// ---- rule evaluation --------------------------------------------------------------------------

export type InstanceState = 'Normal' | 'Alerting' | 'NoData' | 'Error';

export interface InstanceResult {
  readonly labels: Labels;
  readonly state: InstanceState;
  /** Reduced values by refId for the instance (what `$values` holds in annotations). */
  readonly value: number | null;
}

export type EvaluationResult =
  | { readonly kind: 'results'; readonly instances: readonly InstanceResult[] }
  | { readonly kind: 'nodata' }
  | { readonly kind: 'error'; readonly error: string };

/** ngalert eval: the condition's values become per-instance states. */
export function evaluateCondition(condition: Results | undefined): EvaluationResult {
  if (condition?.error) return { kind: 'error', error: condition.error };
  if (!condition || condition.values.length === 0) return { kind: 'nodata' };
  const instances: InstanceResult[] = [];
  let noData = 0;
  let errors = 0;
  let firstError = '';
  for (const v of condition.values) {
    if (v.kind === 'series') {
      errors++;
      firstError ||= 'invalid format of evaluation results for the alert definition: looks like time series data, only reduced data can be alerted on.';
      instances.push({ labels: v.labels, state: 'Error', value: null });
      continue;
    }
    if (v.kind === 'nodata') {
      noData++;
      instances.push({ labels: {}, state: 'NoData', value: null });
      continue;
    }
    const state: InstanceState = v.value === null ? 'NoData' : v.value === 0 ? 'Normal' : 'Alerting';
    instances.push({ labels: v.labels, state, value: v.value });
  }
  if (noData === instances.length) return { kind: 'nodata' };
  if (errors === instances.length) return { kind: 'error', error: firstError };
  const seen = new Set<string>();
  for (const i of instances) {
    const key = JSON.stringify(Object.entries(i.labels).sort());
    if (seen.has(key)) return { kind: 'error', error: `frame cannot uniquely be identified by its labels: has duplicate results with labels ${key}` };
    seen.add(key);
  }
  return { kind: 'results', instances };
}

// ---- the rule model ---------------------------------------------------------------------------

export interface RuleQuery {
  readonly refId: string;
  readonly datasourceUid: string;
  readonly relativeTimeRange?: { readonly from: number; readonly to: number };
  readonly model: Readonly<Record<string, unknown>>;
}

export interface RuleForEvaluation {
  readonly uid: string;
  readonly title: string;
  readonly condition: string;
  readonly data: readonly RuleQuery[];
  readonly noDataState?: string;
  readonly execErrState?: string;
  readonly for?: string;
}

/** What a datasource query needs to run: the absolute range and the query's interval. */
export interface DatasourceRequest {
  readonly refId: string;
  readonly datasourceUid: string;
  readonly model: Readonly<Record<string, unknown>>;
  readonly fromMs: number;
  readonly toMs: number;
  readonly intervalMs: number;
  readonly maxDataPoints: number;
}

export type RunDatasourceQuery = (req: DatasourceRequest) => Promise<readonly Frame[]>;

/** Checks a rule only uses what this evaluator reproduces; returns problems. */
export function validateRuleForEvaluation(rule: RuleForEvaluation): string[] {
  const problems: string[] = [];
  const refIds = new Set<string>();
  for (const q of rule.data) {
    if (refIds.has(q.refId)) problems.push(`${rule.uid}: duplicate refId ${q.refId}`);
    refIds.add(q.refId);
  }
  if (!refIds.has(rule.condition)) problems.push(`${rule.uid}: condition ${rule.condition} does not exist, must be one of [${[...refIds].join(' ')}]`);
  for (const q of rule.data) {
    if (q.datasourceUid !== EXPRESSION_DATASOURCE_UID) {
      const r = q.relativeTimeRange;
      if (!r || !(r.from > r.to)) problems.push(`${rule.uid}/${q.refId}: a datasource query needs relativeTimeRange with from > to (seconds before now)`);
      continue;
    }
    const type = q.model.type;
    const expr = typeof q.model.expression === 'string' ? q.model.expression.replace(/^\$/, '') : undefined;
    if (type !== 'reduce' && type !== 'threshold')
      problems.push(`${rule.uid}/${q.refId}: expression type ${String(type)} is not reproduced by the test evaluator (use reduce and threshold)`);
    if (!expr || !refIds.has(expr))
      problems.push(`${rule.uid}/${q.refId}: expression refers to ${String(q.model.expression)}, which is not a refId of the rule`);
    if (type === 'threshold') {
      const conds = q.model.conditions as Array<{ evaluator?: { type?: string; params?: number[] } }> | undefined;
      if (!Array.isArray(conds) || conds.length !== 1) problems.push(`${rule.uid}/${q.refId}: threshold expression requires exactly one condition`);
      else {
        try {
          thresholdPredicate(conds[0]!.evaluator?.type as ThresholdType, conds[0]!.evaluator?.params ?? []);
        } catch (err) {
          problems.push(`${rule.uid}/${q.refId}: ${(err as Error).message}`);
        }
      }
    }
    if (type === 'reduce') {
      const reducer = String(q.model.reducer ?? '').toLowerCase();
      if (!['sum', 'mean', 'min', 'max', 'count', 'last'].includes(reducer)) problems.push(`${rule.uid}/${q.refId}: reduction ${reducer} not implemented`);
      const mode = (q.model.settings as { mode?: string } | undefined)?.mode ?? '';
      if (!['', 'dropNN', 'replaceNN'].includes(mode))
        problems.push(`${rule.uid}/${q.refId}: reducer mode '${mode}' is not supported. Supported only: [dropNN,replaceNN]`);
    }
  }
  return problems;
}

/** Dependency order of a rule's nodes (datasource queries first, as pkg/expr graph does). */
function executionOrder(rule: RuleForEvaluation): RuleQuery[] {
  const byRef = new Map(rule.data.map((q) => [q.refId, q]));
  const done = new Set<string>();
  const order: RuleQuery[] = [];
  const visit = (q: RuleQuery, stack: Set<string>): void => {
    if (done.has(q.refId)) return;
    if (stack.has(q.refId)) throw new AlertEvaluationError(`${rule.uid}: cyclic expression through ${q.refId}`);
    stack.add(q.refId);
    if (q.datasourceUid === EXPRESSION_DATASOURCE_UID) {
      const dep = byRef.get(String(q.model.expression).replace(/^\$/, ''));
      if (dep) visit(dep, stack);
    }
    stack.delete(q.refId);
    done.add(q.refId);
    order.push(q);
  };
  for (const q of rule.data) visit(q, new Set());
  return order;
}

/** One evaluation of a rule at `nowMs`: the per-instance result, before noData/execErr handling. */
export async function evaluateRule(
  rule: RuleForEvaluation,
  nowMs: number,
  run: RunDatasourceQuery,
): Promise<{ result: EvaluationResult; vars: Map<string, Results> }> {
  const problems = validateRuleForEvaluation(rule);
  if (problems.length) throw new AlertEvaluationError(problems.join('; '));
  const vars = new Map<string, Results>();
  try {
    for (const q of executionOrder(rule)) {
      if (q.datasourceUid !== EXPRESSION_DATASOURCE_UID) {
        const r = q.relativeTimeRange!;
        const frames = await run({
          refId: q.refId,
          datasourceUid: q.datasourceUid,
          model: q.model,
          fromMs: nowMs - r.from * 1000,
          toMs: nowMs - r.to * 1000,
          // AlertQuery.GetIntervalDuration / GetMaxDatapoints defaults (ngalert models/alert_query.go).
          intervalMs: typeof q.model.intervalMs === 'number' ? q.model.intervalMs : 1000,
          maxDataPoints: typeof q.model.maxDataPoints === 'number' ? q.model.maxDataPoints : 43200,
        });
        vars.set(q.refId, framesToResults(frames));
        continue;
      }
      const input = vars.get(String(q.model.expression).replace(/^\$/, ''))!;
      if (q.model.type === 'reduce') {
        const settings = (q.model.settings ?? {}) as { mode?: ReduceMode; replaceWithValue?: number };
        vars.set(q.refId, reduce(input, String(q.model.reducer).toLowerCase() as ReducerId, settings.mode ?? '', settings.replaceWithValue));
      } else {
        const ev = (q.model.conditions as Array<{ evaluator: { type: ThresholdType; params: number[] } }>)[0]!.evaluator;
        vars.set(q.refId, threshold(input, ev.type, ev.params));
      }
    }
  } catch (err) {
    if (err instanceof AlertEvaluationError || err instanceof FrameError) return { result: { kind: 'error', error: err.message }, vars };
    // A datasource failure (bad SQL) is an execution error too, as in Grafana.
    return { result: { kind: 'error', error: (err as Error).message }, vars };
  }
  return { result: evaluateCondition(vars.get(rule.condition)), vars };
}

// ---- state over successive evaluations (ngalert state manager, simplified to one rule) ------

export type AlertState = 'Normal' | 'Pending' | 'Alerting' | 'NoData' | 'Error';

export interface TrackedInstance {
  readonly labels: Labels;
  readonly state: AlertState;
  /** When the current Pending/Alerting streak started. */
  readonly activeSinceMs: number | null;
  readonly value: number | null;
}

/** Prometheus model.ParseDuration subset used by Grafana for `for`/intervals: 1d2h3m4s5ms, y, w. */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const units: Record<string, number> = { y: 365 * 86_400_000, w: 7 * 86_400_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const rx = /(\d+)(ms|y|w|d|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = rx.exec(s))) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = rx.lastIndex;
  }
  if (s === '' || consumed !== s.length) throw new AlertEvaluationError(`not a valid duration string: ${JSON.stringify(s)}`);
  return total;
}

const key = (l: Labels) => JSON.stringify(Object.entries(l).sort());

/**
 * Applies one evaluation to the tracked instances: noDataState/execErrState mapping, then the
 * pending period (`for`): an Alerting result becomes Pending until it has held for `for`.
 */
export function applyEvaluation(
  prev: ReadonlyMap<string, TrackedInstance>,
  result: EvaluationResult,
  rule: Pick<RuleForEvaluation, 'noDataState' | 'execErrState' | 'for'>,
  nowMs: number,
): Map<string, TrackedInstance> {
  const forMs = parseDuration(rule.for ?? '0');
  const noDataState = rule.noDataState || 'NoData';
  const execErrState = rule.execErrState || 'Error';
  let evaluated: { labels: Labels; state: InstanceState | 'KeepLast'; value: number | null }[];
  if (result.kind === 'results') {
    evaluated = result.instances.map((i) => ({ labels: i.labels, state: i.state, value: i.value }));
  } else if (result.kind === 'nodata') {
    const s = noDataState === 'Alerting' ? 'Alerting' : noDataState === 'OK' ? 'Normal' : noDataState === 'KeepLast' ? 'KeepLast' : 'NoData';
    evaluated = [{ labels: {}, state: s, value: null }];
  } else {
    const s = execErrState === 'Alerting' ? 'Alerting' : execErrState === 'OK' ? 'Normal' : execErrState === 'KeepLast' ? 'KeepLast' : 'Error';
    evaluated = [{ labels: {}, state: s, value: null }];
  }
  const next = new Map<string, TrackedInstance>();
  for (const e of evaluated) {
    const k = key(e.labels);
    const before = prev.get(k);
    if (e.state === 'KeepLast') {
      next.set(k, before ?? { labels: e.labels, state: 'Normal', activeSinceMs: null, value: null });
      continue;
    }
    if (e.state === 'Alerting') {
      const since = before && (before.state === 'Pending' || before.state === 'Alerting') ? before.activeSinceMs! : nowMs;
      const state: AlertState = nowMs - since >= forMs ? 'Alerting' : 'Pending';
      next.set(k, { labels: e.labels, state, activeSinceMs: since, value: e.value });
    } else {
      next.set(k, { labels: e.labels, state: e.state, activeSinceMs: null, value: e.value });
    }
  }
  return next;
}
