/**
 * How window results reach the trigger: polled from the tables the window-metrics processor writes
 * (migration 030), newest-first never, oldest unevaluated first always.
 *
 * - The window clock is `model_drift_summary` (segment '' = whole population): one row per model,
 *   version and window. A window is *finalised* for the trigger once its summary row exists and is
 *   RETRAIN_SETTLE_MS old (computed_at), which gives the processor time to write its drift,
 *   performance and KPI rows for the same window.
 * - Per model version, only windows ending after the trigger's high-water mark are read (`since`:
 *   the lowest mark over the policies that apply to it, from the trigger state restored from
 *   retrain_decisions); versions no state knows yet start at the backfill horizon. Versions no policy
 *   applies to are not read at all. Oldest first, at most `limit` per poll: the first windows
 *   returned are always ones some policy has not evaluated, so a poll always makes progress.
 * - The per-feature drift, performance and KPI rows of those windows are then read with FINAL
 *   (ReplacingMergeTree(computed_at): a re-evaluated window replaces its earlier row) and assembled
 *   into plain WindowResult objects for the pure core.
 * - Whole-population rows only (segment ''); for performance, served rows (is_shadow = 0) win over
 *   shadow rows of the same metric.
 * - Late labels (core.ts, the labels clock): realized rows are provisional (is_final = 0) when a
 *   window closes and are rewritten as labels arrive. For the versions whose policies test realized
 *   performance, every poll re-reads the current realized rows (only the metrics those policies name,
 *   and label_coverage for n_labeled and finality) of the windows after the labels cursor, up to the
 *   close cursor, and passes them as `labelsOnly` results. The span is bounded by the label delay: a
 *   window leaves it once evaluated on the labels clock.
 * - `min_labels` (fetchLabelTotals): per (policy, version), the sum of the *current* n_labeled of the
 *   label_coverage rows of the windows since the last retrain, so labels that arrived after a window
 *   closed count. Every realized row of a window carries the same n_labeled (window-metrics
 *   evaluate.ts evaluatePerformanceWindow), and label_coverage is written for every window with
 *   predictions, labeled or not, so it stands for the window.
 */
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { toClickHouseError } from '../../lib/runtime/clickhouse/client.js';
import { severityLevel, type Policy } from './policy.js';
import {
  labelCountRange,
  policyClocks,
  type FeatureDrift,
  type KpiValue,
  type LabelTotal,
  type PerformanceValue,
  type TriggerStates,
  type WindowResult,
} from './core.js';

/** Which windows to read: per model version, the exclusive lower bound on window_end (epoch ms). */
export interface WindowSelection {
  readonly models: readonly string[];
  /** Models some policy applies to whatever the version. */
  readonly anyVersionModels: readonly string[];
  /** versionKey()s of the versions listed by policies with a `versions` list. */
  readonly allowedVersions: readonly string[];
  /** versionKey()s of versions the trigger state knows, and their bounds. */
  readonly knownVersions: readonly string[];
  readonly knownSince: readonly number[];
  /** Bound for versions the state does not know yet. */
  readonly horizon: number;
  /**
   * Labels clock: versionKey()s of the known versions some realized-performance policy applies to,
   * and the window_end range to re-read (exclusive lower bound: the lowest labels cursor; inclusive
   * upper bound: the highest close cursor).
   */
  readonly labelVersions: readonly string[];
  readonly labelSince: readonly number[];
  readonly labelThrough: readonly number[];
  /** The realized metrics to re-read (the policies' own, and label_coverage). */
  readonly labelMetrics: readonly string[];
  /** min_labels: the ranges to sum, one per (policy, version) state with a min_labels condition. */
  readonly labelCounts: readonly LabelCountRequest[];
}

export interface LabelCountRequest {
  readonly policyId: string;
  readonly modelName: string;
  readonly modelVersion: string;
  /** Windows starting at or after this ... */
  readonly from: number;
  /** ... and ending at or before this. */
  readonly through: number;
}

export interface WindowQuery {
  readonly selection: WindowSelection;
  /** Only summaries computed at or before this instant (epoch ms) are finalised. */
  readonly settledBefore: number;
  readonly limit: number;
}

/**
 * Unambiguous (model, version) key, computed the same way in SQL:
 * `concat(toString(length(model_name)), ':', model_name, model_version)` (length in bytes).
 */
export function versionKey(model: string, version: string): string {
  return `${Buffer.byteLength(model, 'utf8')}:${model}${version}`;
}
const SQL_VERSION_KEY = `concat(toString(length(model_name)), ':', model_name, model_version)`;

/** What to read for these models, given the policies and the trigger state. Pure. */
export function selectWindows(policies: readonly Policy[], triggers: TriggerStates, models: readonly string[], horizon: number): WindowSelection {
  const wanted = new Set(models);
  const mine = policies.filter((p) => wanted.has(p.model));
  const anyVersionModels = [...new Set(mine.filter((p) => p.versions === null).map((p) => p.model))];
  const allowedVersions = [...new Set(mine.flatMap((p) => (p.versions ?? []).map((v) => versionKey(p.model, v))))];
  const byVersion = new Map<string, { model: string; version: string }>();
  for (const t of Object.values(triggers))
    if (wanted.has(t.modelName)) byVersion.set(versionKey(t.modelName, t.modelVersion), { model: t.modelName, version: t.modelVersion });
  const knownVersions: string[] = [];
  const knownSince: number[] = [];
  const labelVersions: string[] = [];
  const labelSince: number[] = [];
  const labelThrough: number[] = [];
  const labelCounts: LabelCountRequest[] = [];
  for (const [key, { model, version }] of byVersion) {
    const applicable = mine.filter((p) => p.model === model && (p.versions === null || p.versions.includes(version)));
    if (applicable.length === 0) continue;
    const stateOf = (p: Policy) => Object.values(triggers).find((t) => t.policyId === p.id && t.modelName === model && t.modelVersion === version);
    const marks = applicable.map((p) => stateOf(p)?.lastWindowEnd ?? null);
    knownVersions.push(key);
    knownSince.push(Math.min(...marks.map((m) => m ?? horizon)));
    const onLabels = applicable.map((p) => ({ p, s: stateOf(p) })).filter(({ p, s }) => policyClocks(p).labels && s?.lastWindowEnd != null);
    if (onLabels.length > 0) {
      labelVersions.push(key);
      labelSince.push(Math.min(...onLabels.map(({ s }) => s!.labelWindowEnd ?? horizon)));
      labelThrough.push(Math.max(...onLabels.map(({ s }) => s!.lastWindowEnd!)));
    }
    for (const p of applicable) {
      const s = stateOf(p);
      const range = s ? labelCountRange(s) : null;
      if (range && p.leaves.some((l) => l.kind === 'min_labels')) labelCounts.push({ policyId: p.id, modelName: model, modelVersion: version, ...range });
    }
  }
  const labelMetrics = [
    ...new Set(['label_coverage', ...mine.flatMap((p) => p.leaves.flatMap((l) => (l.kind === 'performance' && l.perfKind === 'realized' ? [l.metric] : [])))]),
  ].sort();
  return {
    models: [...wanted],
    anyVersionModels,
    allowedVersions,
    knownVersions,
    knownSince,
    horizon,
    labelVersions,
    labelSince,
    labelThrough,
    labelMetrics,
    labelCounts,
  };
}

interface SummaryRow {
  model_name: string;
  model_version: string;
  ws: string | number;
  we: string | number;
  n_features: number;
  n_drifted: number;
  drifted_features: string[];
  severity: string;
  severity_level: number;
  dataset_drift: number;
  prediction_drift: number;
  profile_status: string;
}

interface FeatureRow {
  model_name: string;
  model_version: string;
  ws: string | number;
  feature: string;
  severity: string;
  drift: number;
  score: number | null;
  threshold: number;
  method: string;
}

interface PerformanceRow {
  model_name: string;
  model_version: string;
  ws: string | number;
  metric: string;
  kind: string;
  is_shadow: number;
  value: number | null;
  n_labeled: string | number;
  n_total: string | number;
  is_final: number;
  we?: string | number;
}

interface KpiRow {
  model_name: string;
  model_version: string;
  ws: string | number;
  kpi: string;
  value: number | null;
  baseline: number | null;
  n: string | number;
}

async function rows<T>(ch: ClickHouse, query: string, params: Record<string, unknown>): Promise<T[]> {
  try {
    const rs = await ch.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return await rs.json<T>();
  } catch (err) {
    throw toClickHouseError(err);
  }
}

const windowKey = (model: string, version: string, ws: number) => `${model}\u0000${version}\u0000${ws}`;

type Assembly = { base: WindowResult; features: FeatureDrift[]; performance: (PerformanceValue & { shadow: boolean; final: boolean })[]; kpis: KpiValue[] };

function emptyResult(model: string, version: string, ws: number, we: number, labelsOnly: boolean): WindowResult {
  return {
    modelName: model,
    modelVersion: version,
    windowStart: ws,
    windowEnd: we,
    drift: null,
    features: [],
    performance: [],
    kpis: [],
    labeledCount: 0,
    labelsFinal: false,
    labelsOnly,
  };
}

function addPerformance(r: Assembly, p: PerformanceRow): void {
  // Rows come served-first (ORDER BY is_shadow): a shadow row of the same metric and kind is ignored.
  if (r.performance.some((x) => x.metric === p.metric && x.kind === p.kind)) return;
  r.performance.push({
    metric: p.metric,
    kind: p.kind,
    value: p.value === null ? null : Number(p.value),
    nLabeled: Number(p.n_labeled),
    nTotal: Number(p.n_total),
    shadow: Number(p.is_shadow) === 1,
    final: Number(p.is_final) === 1,
  });
}

function assemble({ base, features: fs, performance: ps, kpis: ks }: Assembly): WindowResult {
  const realized = ps.filter((p) => p.kind === 'realized');
  return {
    ...base,
    features: fs.sort((a, b) => a.feature.localeCompare(b.feature)),
    performance: ps.map(({ shadow: _shadow, final: _final, ...p }) => p),
    kpis: ks,
    labeledCount: realized.reduce((max, p) => Math.max(max, p.nLabeled), 0),
    // All realized rows of a window are written together, provisional or final.
    labelsFinal: realized.some((p) => p.final),
  };
}

/**
 * Reads the next finalised, unevaluated windows of the given models, oldest first, then the current
 * realized performance of the windows still waiting for their labels (`labelsOnly` results).
 */
export async function fetchWindowResults(ch: ClickHouse, q: WindowQuery): Promise<WindowResult[]> {
  const sel = q.selection;
  if (sel.models.length === 0) return [];
  const summaries = await rows<SummaryRow>(
    ch,
    `WITH ${SQL_VERSION_KEY} AS vkey, indexOf({known:Array(String)}, vkey) AS known_at
     SELECT model_name, model_version,
            toUnixTimestamp64Milli(window_start) AS ws, toUnixTimestamp64Milli(window_end) AS we,
            n_features, n_drifted, drifted_features, severity, severity_level, dataset_drift, prediction_drift, profile_status
     FROM model_drift_summary FINAL
     WHERE segment = ''
       AND has({models:Array(String)}, model_name)
       AND (has({anyVersion:Array(String)}, model_name) OR has({allowed:Array(String)}, vkey))
       AND toUnixTimestamp64Milli(window_end) > if(known_at > 0, arrayElement({knownSince:Array(Int64)}, known_at), {horizon:Int64})
       AND computed_at <= fromUnixTimestamp64Milli({settled:Int64})
     ORDER BY window_end, model_name, model_version
     LIMIT {limit:UInt32}`,
    {
      models: sel.models,
      anyVersion: sel.anyVersionModels,
      allowed: sel.allowedVersions,
      known: sel.knownVersions,
      knownSince: sel.knownSince,
      horizon: sel.horizon,
      settled: q.settledBefore,
      limit: q.limit,
    },
  );

  const results = new Map<string, Assembly>();
  for (const s of summaries) {
    const ws = Number(s.ws);
    results.set(windowKey(s.model_name, s.model_version, ws), {
      base: {
        ...emptyResult(s.model_name, s.model_version, ws, Number(s.we), false),
        drift: {
          nFeatures: Number(s.n_features),
          nDrifted: Number(s.n_drifted),
          driftedFeatures: s.drifted_features,
          severity: s.severity,
          severityLevel: Number(s.severity_level),
          datasetDrift: Number(s.dataset_drift) === 1,
          predictionDrift: Number(s.prediction_drift) === 1,
          profileStatus: s.profile_status,
        },
      },
      features: [],
      performance: [],
      kpis: [],
    });
  }
  if (summaries.length > 0) {
    const wsValues = summaries.map((s) => Number(s.ws));
    const range = { models: [...new Set(summaries.map((s) => s.model_name))], from: Math.min(...wsValues), to: Math.max(...wsValues) };
    const where = `segment = '' AND has({models:Array(String)}, model_name)
       AND window_start >= fromUnixTimestamp64Milli({from:Int64}) AND window_start <= fromUnixTimestamp64Milli({to:Int64})`;

    const [features, performance, kpis] = await Promise.all([
      rows<FeatureRow>(
        ch,
        `SELECT model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws, feature, severity, drift, score, threshold, method FROM drift_metrics FINAL WHERE ${where}`,
        range,
      ),
      rows<PerformanceRow>(
        ch,
        `SELECT model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws, metric, kind, is_shadow, value, n_labeled, n_total, is_final FROM performance_metrics FINAL WHERE ${where} ORDER BY is_shadow`,
        range,
      ),
      rows<KpiRow>(
        ch,
        `SELECT model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws, kpi, value, baseline, n FROM kpi_metrics FINAL WHERE ${where}`,
        range,
      ),
    ]);
    for (const f of features) {
      results.get(windowKey(f.model_name, f.model_version, Number(f.ws)))?.features.push({
        feature: f.feature,
        severity: f.severity,
        severityLevel: severityLevel(f.severity),
        drift: Number(f.drift) === 1,
        score: f.score === null ? null : Number(f.score),
        threshold: Number(f.threshold),
        method: f.method,
      });
    }
    for (const p of performance) {
      const r = results.get(windowKey(p.model_name, p.model_version, Number(p.ws)));
      if (r) addPerformance(r, p);
    }
    for (const k of kpis) {
      results.get(windowKey(k.model_name, k.model_version, Number(k.ws)))?.kpis.push({
        kpi: k.kpi,
        value: k.value === null ? null : Number(k.value),
        baseline: k.baseline === null ? null : Number(k.baseline),
        n: Number(k.n),
      });
    }
  }

  if (sel.labelVersions.length > 0) {
    const updates = await rows<PerformanceRow>(
      ch,
      `WITH ${SQL_VERSION_KEY} AS vkey, indexOf({labelKeys:Array(String)}, vkey) AS at
       SELECT model_name, model_version, toUnixTimestamp64Milli(window_start) AS ws, toUnixTimestamp64Milli(window_end) AS we,
              metric, kind, is_shadow, value, n_labeled, n_total, is_final
       FROM performance_metrics FINAL
       WHERE segment = '' AND kind = 'realized'
         AND has({models:Array(String)}, model_name)
         AND has({metrics:Array(String)}, metric)
         AND at > 0
         AND toUnixTimestamp64Milli(window_end) > arrayElement({labelSince:Array(Int64)}, at)
         AND toUnixTimestamp64Milli(window_end) <= arrayElement({labelThrough:Array(Int64)}, at)
       ORDER BY is_shadow`,
      {
        models: sel.models,
        metrics: sel.labelMetrics,
        labelKeys: sel.labelVersions,
        labelSince: sel.labelSince,
        labelThrough: sel.labelThrough,
      },
    );
    const pending = new Map<string, Assembly>();
    for (const p of updates) {
      const key = windowKey(p.model_name, p.model_version, Number(p.ws));
      // A window read in full above already carries its current performance.
      if (results.has(key)) continue;
      let r = pending.get(key);
      if (!r) {
        r = { base: emptyResult(p.model_name, p.model_version, Number(p.ws), Number(p.we), true), features: [], performance: [], kpis: [] };
        pending.set(key, r);
      }
      addPerformance(r, p);
    }
    for (const [key, r] of pending) results.set(key, r);
  }
  return [...results.values()]
    .map(assemble)
    .sort((a, b) => a.windowEnd - b.windowEnd || a.modelName.localeCompare(b.modelName) || a.modelVersion.localeCompare(b.modelVersion));
}

/**
 * min_labels: per requested (policy, version) range, the labeled samples of its windows as they are
 * now (served rows, else shadow). A range without rows sums to 0.
 */
export async function fetchLabelTotals(ch: ClickHouse, requests: readonly LabelCountRequest[]): Promise<LabelTotal[]> {
  if (requests.length === 0) return [];
  const found = await rows<{ idx: number | string; labeled: number | string }>(
    ch,
    `SELECT idx, sum(n) AS labeled FROM (
       SELECT arrayJoin(arrayFilter(j -> {keys:Array(String)}[j] = vkey AND ws >= {froms:Array(Int64)}[j] AND we <= {throughs:Array(Int64)}[j],
                                    arrayEnumerate({keys:Array(String)}))) AS idx, n
       FROM (
         SELECT ${SQL_VERSION_KEY} AS vkey, toUnixTimestamp64Milli(window_start) AS ws, toUnixTimestamp64Milli(window_end) AS we,
                argMin(n_labeled, is_shadow) AS n
         FROM performance_metrics FINAL
         WHERE segment = '' AND kind = 'realized' AND metric = 'label_coverage'
           AND has({models:Array(String)}, model_name)
           AND window_start >= fromUnixTimestamp64Milli({minFrom:Int64})
         GROUP BY model_name, model_version, window_start, window_end
       )
     ) GROUP BY idx`,
    {
      keys: requests.map((r) => versionKey(r.modelName, r.modelVersion)),
      froms: requests.map((r) => r.from),
      throughs: requests.map((r) => r.through),
      models: [...new Set(requests.map((r) => r.modelName))],
      minFrom: Math.min(...requests.map((r) => r.from)),
    },
  );
  const sums = new Map(found.map((f) => [Number(f.idx), Number(f.labeled)]));
  return requests.map((r, i) => ({ ...r, labeled: sums.get(i + 1) ?? 0 }));
}
