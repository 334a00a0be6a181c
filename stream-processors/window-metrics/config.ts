/**
 * The window-metrics processor's structured configuration, read from the YAML file (DW_CONFIG_FILE):
 *
 *   monitoring:
 *     drift:        methods, thresholds, correction across features, minimum window size
 *     severity:     thresholds that turn drifted features into none | warning | critical per model
 *     performance:  positive label, decision threshold, averaging; per-model overrides
 *   segments:       slice keys from the event's `segment` map (a list, or {keys, max_values})
 *   kpis:           business KPIs (lib/performance/kpi/kpi.ts)
 *
 * Every key is optional (defaults below) and every problem is reported at once, as one
 * ConfigInvalidError, like the flat settings (lib/runtime/config.ts). docs/windows.md documents it.
 */
import type { CorrectionMethod } from '../../lib/stats/drift/correction.js';
import { isMethodId, requiresThreshold } from '../../lib/stats/drift/registry.js';
import type { MethodId } from '../../lib/stats/drift/types.js';
import type { DriftConfig } from '../../lib/stats/profile/evaluate.js';
import type { Averaging } from '../../lib/performance/classification.js';
import { parseKpiDefinitions, type KpiDefinition } from '../../lib/performance/kpi/kpi.js';
import { ConfigInvalidError } from '../../lib/runtime/errors.js';

export type Severity = 'none' | 'warning' | 'critical';
export const SEVERITY_LEVEL: Readonly<Record<Severity | 'unknown', number>> = { none: 0, warning: 1, critical: 2, unknown: 0 };

export interface SeverityRule {
  /** Reached when at least this many features drifted (0 = rule off). */
  readonly driftedCount: number;
  /** Reached when at least this share of features drifted (0 = rule off). */
  readonly driftedShare: number;
}

export interface PerformanceSettings {
  readonly positiveLabel: string;
  readonly decisionThreshold: number;
  readonly average: Averaging;
}

export interface MonitoringConfig {
  readonly drift: DriftConfig & {
    /** Windows with fewer champion predictions than this get status 'insufficient_data' instead of a verdict. */
    readonly minWindowRows: number;
    readonly correction: CorrectionMethod;
    /** Per-feature severity: critical when a distance score >= threshold × this (p-value methods: p_adj < threshold / this). */
    readonly criticalFactor: number;
  };
  readonly severity: {
    readonly warning: SeverityRule;
    readonly critical: SeverityRule;
    /** Minimum model severity when the prediction distribution drifts. */
    readonly predictionDrift: Severity;
    /** Minimum model severity when features disappear or change type. */
    readonly schemaDrift: Severity;
  };
  readonly performance: PerformanceSettings & { readonly models: Readonly<Record<string, PerformanceSettings>> };
  readonly segments: { readonly keys: readonly string[]; readonly maxValues: number };
  readonly kpis: readonly KpiDefinition[];
}

export const DEFAULT_MONITORING = {
  minWindowRows: 30,
  correction: 'benjamini-hochberg' as CorrectionMethod,
  criticalFactor: 2,
  datasetDriftShare: 0.5,
  warning: { driftedCount: 1, driftedShare: 0 },
  critical: { driftedCount: 0, driftedShare: 0.5 },
  predictionDrift: 'warning' as Severity,
  schemaDrift: 'warning' as Severity,
  positiveLabel: '1',
  decisionThreshold: 0.5,
  average: 'binary' as Averaging,
  maxSegmentValues: 20,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkKeys(o: Obj, known: readonly string[], at: string, problems: string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) problems.push(`${at}: unknown key '${k}' (known: ${known.join(', ')})`);
}

function num(o: Obj, key: string, at: string, def: number, problems: string[], min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    problems.push(`${at}.${key}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return def;
  }
  return v;
}

function section(o: Obj, key: string, at: string, problems: string[]): Obj {
  const v = o[key];
  if (v === undefined || v === null) return {};
  if (!isObj(v)) {
    problems.push(`${at}.${key}: expected a mapping`);
    return {};
  }
  return v;
}

function severityValue(v: unknown, at: string, def: Severity, problems: string[]): Severity {
  if (v === undefined) return def;
  if (v !== 'none' && v !== 'warning' && v !== 'critical') {
    problems.push(`${at}: expected none, warning or critical, got ${JSON.stringify(v)}`);
    return def;
  }
  return v;
}

function methodMap(v: unknown, at: string, problems: string[]): Record<string, MethodId> {
  if (v === undefined) return {};
  if (!isObj(v)) {
    problems.push(`${at}: expected a mapping feature -> method id`);
    return {};
  }
  const out: Record<string, MethodId> = {};
  for (const [k, m] of Object.entries(v)) {
    if (typeof m === 'string' && isMethodId(m)) out[k] = m;
    else problems.push(`${at}.${k}: unknown drift method ${JSON.stringify(m)}`);
  }
  return out;
}

function numberMap(v: unknown, at: string, problems: string[], keyCheck?: (k: string) => boolean): Record<string, number> {
  if (v === undefined) return {};
  if (!isObj(v)) {
    problems.push(`${at}: expected a mapping`);
    return {};
  }
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    if (keyCheck && !keyCheck(k)) problems.push(`${at}.${k}: unknown drift method`);
    else if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) problems.push(`${at}.${k}: expected a non-negative number, got ${JSON.stringify(x)}`);
    else out[k] = x;
  }
  return out;
}

function performanceSettings(o: Obj, at: string, base: PerformanceSettings, problems: string[]): PerformanceSettings {
  const pl = o.positive_label;
  let positiveLabel = base.positiveLabel;
  if (pl !== undefined) {
    if (typeof pl === 'string' || typeof pl === 'number' || typeof pl === 'boolean') positiveLabel = String(pl);
    else problems.push(`${at}.positive_label: expected a label`);
  }
  const average = o.average ?? base.average;
  if (average !== 'binary' && average !== 'macro') problems.push(`${at}.average: expected binary or macro, got ${JSON.stringify(average)}`);
  return {
    positiveLabel,
    decisionThreshold: num(o, 'decision_threshold', at, base.decisionThreshold, problems, 0, 1),
    average: average === 'macro' ? 'macro' : 'binary',
  };
}

/**
 * Validates the monitoring-related sections of `config.sections` (the YAML file). Throws one
 * ConfigInvalidError listing every problem.
 */
export function parseMonitoringConfig(sections: Readonly<Record<string, unknown>>): MonitoringConfig {
  const problems: string[] = [];
  const mon = sections.monitoring;
  if (mon !== undefined && mon !== null && !isObj(mon)) problems.push('monitoring: expected a mapping');
  const m: Obj = isObj(mon) ? mon : {};
  checkKeys(m, ['drift', 'severity', 'performance'], 'monitoring', problems);

  const d = section(m, 'drift', 'monitoring', problems);
  checkKeys(
    d,
    [
      'numeric_method',
      'categorical_method',
      'methods',
      'thresholds',
      'feature_thresholds',
      'correction',
      'dataset_drift_share',
      'min_window_rows',
      'critical_factor',
    ],
    'monitoring.drift',
    problems,
  );
  const methodOf = (key: string): MethodId | undefined => {
    const v = d[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && isMethodId(v)) return v;
    problems.push(`monitoring.drift.${key}: unknown drift method ${JSON.stringify(v)}`);
    return undefined;
  };
  const correction = d.correction ?? DEFAULT_MONITORING.correction;
  if (correction !== 'none' && correction !== 'bonferroni' && correction !== 'benjamini-hochberg') {
    problems.push(`monitoring.drift.correction: expected none, bonferroni or benjamini-hochberg, got ${JSON.stringify(correction)}`);
  }
  const numericMethod = methodOf('numeric_method');
  const categoricalMethod = methodOf('categorical_method');
  const drift = {
    ...(numericMethod ? { numericMethod } : {}),
    ...(categoricalMethod ? { categoricalMethod } : {}),
    methods: methodMap(d.methods, 'monitoring.drift.methods', problems),
    methodThresholds: numberMap(d.thresholds, 'monitoring.drift.thresholds', problems, isMethodId) as Partial<Record<MethodId, number>>,
    featureThresholds: numberMap(d.feature_thresholds, 'monitoring.drift.feature_thresholds', problems),
    correction: (['none', 'bonferroni', 'benjamini-hochberg'].includes(correction as string) ? correction : DEFAULT_MONITORING.correction) as CorrectionMethod,
    datasetDriftShare: num(d, 'dataset_drift_share', 'monitoring.drift', DEFAULT_MONITORING.datasetDriftShare, problems, 0, 1),
    minWindowRows: Math.round(num(d, 'min_window_rows', 'monitoring.drift', DEFAULT_MONITORING.minWindowRows, problems, 1, 1e9)),
    criticalFactor: num(d, 'critical_factor', 'monitoring.drift', DEFAULT_MONITORING.criticalFactor, problems, 1, 1e6),
  };
  // A method without a default threshold (wasserstein_raw: feature units) must get one here. The
  // feature list is only known from the profile, so a per-kind choice needs the per-method threshold.
  for (const [key, id] of [
    ['numeric_method', numericMethod],
    ['categorical_method', categoricalMethod],
  ] as const) {
    if (id && requiresThreshold(id) && drift.methodThresholds[id] === undefined)
      problems.push(`monitoring.drift.${key}: ${id} has no default threshold (feature units); set monitoring.drift.thresholds.${id}`);
  }
  for (const [f, id] of Object.entries(drift.methods)) {
    if (requiresThreshold(id) && drift.methodThresholds[id] === undefined && drift.featureThresholds[f] === undefined)
      problems.push(
        `monitoring.drift.methods.${f}: ${id} has no default threshold (feature units); set monitoring.drift.feature_thresholds.${f} or thresholds.${id}`,
      );
  }

  const s = section(m, 'severity', 'monitoring', problems);
  checkKeys(s, ['warning', 'critical', 'prediction_drift', 'schema_drift'], 'monitoring.severity', problems);
  const rule = (key: 'warning' | 'critical'): SeverityRule => {
    const r = section(s, key, 'monitoring.severity', problems);
    checkKeys(r, ['drifted_count', 'drifted_share'], `monitoring.severity.${key}`, problems);
    const def = DEFAULT_MONITORING[key];
    const out = {
      driftedCount: Math.round(num(r, 'drifted_count', `monitoring.severity.${key}`, def.driftedCount, problems, 0, 1e6)),
      driftedShare: num(r, 'drifted_share', `monitoring.severity.${key}`, def.driftedShare, problems, 0, 1),
    };
    if (out.driftedCount === 0 && out.driftedShare === 0)
      problems.push(`monitoring.severity.${key}: set drifted_count or drifted_share (both are 0, the level could never be reached)`);
    return out;
  };
  const severity = {
    warning: rule('warning'),
    critical: rule('critical'),
    predictionDrift: severityValue(s.prediction_drift, 'monitoring.severity.prediction_drift', DEFAULT_MONITORING.predictionDrift, problems),
    schemaDrift: severityValue(s.schema_drift, 'monitoring.severity.schema_drift', DEFAULT_MONITORING.schemaDrift, problems),
  };

  const p = section(m, 'performance', 'monitoring', problems);
  checkKeys(p, ['positive_label', 'decision_threshold', 'average', 'models'], 'monitoring.performance', problems);
  const base = performanceSettings(p, 'monitoring.performance', DEFAULT_MONITORING, problems);
  const models: Record<string, PerformanceSettings> = {};
  const pm = section(p, 'models', 'monitoring.performance', problems);
  for (const [name, v] of Object.entries(pm)) {
    if (!isObj(v)) {
      problems.push(`monitoring.performance.models.${name}: expected a mapping`);
      continue;
    }
    checkKeys(v, ['positive_label', 'decision_threshold', 'average'], `monitoring.performance.models.${name}`, problems);
    models[name] = performanceSettings(v, `monitoring.performance.models.${name}`, base, problems);
  }

  let keys: string[] = [];
  let maxValues = DEFAULT_MONITORING.maxSegmentValues;
  const seg = sections.segments;
  if (Array.isArray(seg)) keys = seg as string[];
  else if (isObj(seg)) {
    checkKeys(seg, ['keys', 'max_values'], 'segments', problems);
    keys = Array.isArray(seg.keys) ? (seg.keys as string[]) : [];
    if (!Array.isArray(seg.keys)) problems.push('segments.keys: expected a list of segment keys');
    maxValues = Math.round(num(seg, 'max_values', 'segments', maxValues, problems, 1, 10_000));
  } else if (seg !== undefined && seg !== null) problems.push('segments: expected a list of keys or {keys, max_values}');
  for (const k of keys)
    if (typeof k !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(k)) problems.push(`segments: invalid key ${JSON.stringify(k)} (letters, digits, _ . -)`);
  if (new Set(keys).size !== keys.length) problems.push('segments: duplicate keys');

  const k = parseKpiDefinitions(sections.kpis);
  problems.push(...k.problems);

  if (problems.length > 0) throw new ConfigInvalidError(problems);
  return Object.freeze({
    drift,
    severity,
    performance: { ...base, models },
    segments: { keys: [...keys], maxValues },
    kpis: k.kpis,
  });
}

export function performanceFor(cfg: MonitoringConfig, model: string): PerformanceSettings {
  return cfg.performance.models[model] ?? cfg.performance;
}
