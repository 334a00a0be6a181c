/**
 * The retrain policy language: the `policies:` section of DW_CONFIG_FILE, parsed and validated into
 * plain frozen objects that the pure core (core.ts) evaluates.
 *
 * ```yaml
 * policies:
 *   - id: churn-drift                # unique; part of every idempotency key
 *     model: churn                   # model name (window results of other models are ignored)
 *     versions: ["3"]                # optional; default every version, each with its own state
 *     when:                          # a condition tree: all_of / any_of nest, leaves below
 *       any_of:
 *         - drift: { min_features: 2, min_severity: critical, for_windows: 3 }
 *         - performance: { metric: roc_auc, kind: estimated, below: 0.7 }
 *         - all_of:
 *             - kpi: { name: conversion_rate, drop: 0.1, mode: relative }
 *             - min_labels: { count: 1000 }
 *         - schedule: { every: 7d }
 *     fire_after_windows: 1          # hysteresis: the whole condition must hold this many windows
 *     rearm_after_windows: 2         # hysteresis: after firing, re-arm only after this many clear windows
 *     cooldown: 6h                   # no new event within this event time after the last one
 *     training_lookback: 30d         # recommended training range = [fire window end - lookback, end]
 *     alert_severity: WARNING        # severity of the Alert events of this policy's conditions
 * ```
 *
 * Validation collects every problem with its path (`policies[0].when.any_of[1].drift.min_features:
 * ...`) and throws one PolicyInvalidError listing them all, as config.ts does for settings. Unknown
 * keys are problems too: a misspelt `cooldwon:` must not silently mean "no cooldown".
 */
import { createHash } from 'node:crypto';
import { ALERT_SEVERITY } from '../../lib/contracts/schemas.js';
import { PolicyInvalidError } from '../../lib/runtime/errors.js';

/**
 * Drift severity scale, lowest first, as the window-metrics processor writes it in
 * `drift_metrics.severity` and `model_drift_summary.severity` / `severity_level` (migration 030;
 * stream-processors/window-metrics/config.ts SEVERITY_LEVEL, pinned by policy.test.ts). A policy
 * names a level (`min_severity: critical`) or gives its number (`min_severity: 2`). 'unknown' (a
 * summary without a reference profile) counts as 0.
 */
export const SEVERITY_LEVELS = { none: 0, warning: 1, critical: 2 } as const;
export type SeverityName = keyof typeof SEVERITY_LEVELS;

/** Severity level of a severity name; unknown names (e.g. '' for an insufficient_data row) are 0. */
export function severityLevel(name: string): number {
  return (SEVERITY_LEVELS as Record<string, number>)[name.toLowerCase()] ?? 0;
}

/** performance_metrics.metric values (migration 030). */
export const PERFORMANCE_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'roc_auc',
  'log_loss',
  'brier',
  'ece',
  'mae',
  'rmse',
  'mape',
  'label_coverage',
  'label_delay_p50_ms',
  'label_delay_p95_ms',
] as const;
export type PerformanceMetric = (typeof PERFORMANCE_METRICS)[number];
export const PERFORMANCE_KINDS = ['realized', 'estimated'] as const;
export type PerformanceKind = (typeof PERFORMANCE_KINDS)[number];

export type AlertSeverity = (typeof ALERT_SEVERITY)[keyof typeof ALERT_SEVERITY];

interface LeafBase {
  /** Stable id within the policy: the YAML `id`, or the leaf's path (`any_of[0].drift`). */
  readonly id: string;
  /** Hash of the leaf's definition: state of a leaf whose definition changed is reset on reload. */
  readonly hash: string;
  /** Consecutive windows the leaf's test must pass before the leaf holds. */
  readonly forWindows: number;
  readonly alertSeverity: AlertSeverity;
}

export interface DriftLeaf extends LeafBase {
  readonly kind: 'drift';
  /** k: at least this many features ... */
  readonly minFeatures: number;
  /** ... at or above this severity level ... */
  readonly minSeverity: number;
  readonly minSeverityName: string;
  /** ... among these features (default: every feature). */
  readonly features: readonly string[] | null;
  /** Counts the prediction distribution (feature `__prediction__`) as a feature. */
  readonly includePrediction: boolean;
}

export interface PerformanceLeaf extends LeafBase {
  readonly kind: 'performance';
  readonly metric: PerformanceMetric;
  readonly perfKind: PerformanceKind;
  /** Exactly one of below / above: holds when value < below, or value > above (loss metrics). */
  readonly below: number | null;
  readonly above: number | null;
  /** Windows with fewer labeled (realized) or scored (estimated) samples do not count. */
  readonly minSamples: number;
}

export interface KpiLeaf extends LeafBase {
  readonly kind: 'kpi';
  readonly kpi: string;
  /** Holds when the drop against the baseline is >= this (a fraction when mode is relative). */
  readonly drop: number;
  readonly mode: 'relative' | 'absolute';
  /** Fixed baseline; null: the baseline the window-metrics processor wrote (kpi_metrics.baseline). */
  readonly baseline: number | null;
  readonly minSamples: number;
}

export interface ScheduleLeaf extends LeafBase {
  readonly kind: 'schedule';
  /** Holds once this much event time passed since the last retrain (or the first window seen). */
  readonly everyMs: number;
}

export interface MinLabelsLeaf extends LeafBase {
  readonly kind: 'min_labels';
  /** Holds once this many labeled samples arrived since the last retrain of this policy. */
  readonly count: number;
}

export type Leaf = DriftLeaf | PerformanceLeaf | KpiLeaf | ScheduleLeaf | MinLabelsLeaf;
export type LeafKind = Leaf['kind'];
export const LEAF_KINDS = ['drift', 'performance', 'kpi', 'schedule', 'min_labels'] as const satisfies readonly LeafKind[];

export interface AllOf {
  readonly kind: 'all_of';
  readonly id: string;
  readonly children: readonly Condition[];
}
export interface AnyOf {
  readonly kind: 'any_of';
  readonly id: string;
  readonly children: readonly Condition[];
}
export type Condition = Leaf | AllOf | AnyOf;

export interface Policy {
  readonly id: string;
  readonly model: string;
  /** null: every version of the model. */
  readonly versions: readonly string[] | null;
  readonly when: Condition;
  readonly leaves: readonly Leaf[];
  readonly fireAfterWindows: number;
  readonly rearmAfterWindows: number;
  readonly cooldownMs: number;
  readonly trainingLookbackMs: number;
  readonly alertSeverity: AlertSeverity;
  /** Hash of the whole definition, recorded with every decision. */
  readonly hash: string;
}

export const POLICY_DEFAULTS = {
  fire_after_windows: 1,
  rearm_after_windows: 1,
  cooldown: 0,
  training_lookback: '30d',
  alert_severity: ALERT_SEVERITY.WARNING,
  for_windows: 1,
} as const;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `500ms`, `30s`, `15m`, `6h`, `7d`, `2w` or a plain number of milliseconds. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(value);
  if (!m) return null;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!);
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects problems with their paths while reading one YAML object. */
class Reader {
  constructor(readonly problems: string[]) {}

  object(path: string, v: unknown, allowed: readonly string[]): Obj | null {
    if (!isObj(v)) {
      this.problems.push(`${path}: expected a mapping, got ${describe(v)}`);
      return null;
    }
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.problems.push(`${path}.${k}: unknown key (allowed: ${allowed.join(', ')})`);
    return v;
  }

  int(path: string, v: unknown, min: number, fallback?: number): number {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      this.problems.push(`${path}: expected an integer >= ${min}, got ${describe(v)}`);
      return fallback ?? min;
    }
    return v;
  }

  number(path: string, v: unknown, opts: { optional?: boolean; positive?: boolean } = {}): number | null {
    if (v === undefined && opts.optional) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || (opts.positive && v <= 0)) {
      this.problems.push(`${path}: expected a ${opts.positive ? 'positive ' : ''}finite number, got ${describe(v)}`);
      return null;
    }
    return v;
  }

  string(path: string, v: unknown, pattern?: RegExp): string {
    if (typeof v !== 'string' || v.trim() === '' || (pattern && !pattern.test(v))) {
      this.problems.push(`${path}: expected ${pattern ? `a name matching ${pattern}` : 'a non-empty string'}, got ${describe(v)}`);
      return '';
    }
    return v;
  }

  oneOf<T extends string>(path: string, v: unknown, values: readonly T[], fallback: T): T {
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !values.includes(v as T)) {
      this.problems.push(`${path}: expected one of ${values.join(', ')}, got ${describe(v)}`);
      return fallback;
    }
    return v as T;
  }

  duration(path: string, v: unknown, fallback: number | string, opts: { positive?: boolean } = {}): number {
    const raw = v === undefined ? fallback : v;
    const ms = parseDuration(raw);
    if (ms === null || (opts.positive && ms <= 0)) {
      this.problems.push(`${path}: expected a ${opts.positive ? 'positive ' : ''}duration such as 30m, 6h, 7d or milliseconds, got ${describe(raw)}`);
      return 0;
    }
    return ms;
  }

  stringList(path: string, v: unknown): readonly string[] | null {
    if (v === undefined) return null;
    if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) {
      this.problems.push(`${path}: expected a non-empty list of names, got ${describe(v)}`);
      return null;
    }
    return Object.freeze([...(v as string[])]);
  }

  bool(path: string, v: unknown, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      this.problems.push(`${path}: expected true or false, got ${describe(v)}`);
      return fallback;
    }
    return v;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const NODE_KEYS = ['all_of', 'any_of', ...LEAF_KINDS] as const;
const COMMON_LEAF_KEYS = ['id', 'for_windows', 'alert_severity'] as const;

function severityOf(r: Reader, path: string, v: unknown): { level: number; name: string } {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
    const name = (Object.keys(SEVERITY_LEVELS) as SeverityName[]).find((k) => SEVERITY_LEVELS[k] === v) ?? String(v);
    return { level: v, name };
  }
  if (typeof v === 'string' && v.toLowerCase() in SEVERITY_LEVELS) return { level: severityLevel(v), name: v.toLowerCase() };
  r.problems.push(`${path}: expected a severity (${Object.keys(SEVERITY_LEVELS).join(', ')}) or its level number, got ${describe(v)}`);
  return { level: SEVERITY_LEVELS.warning, name: 'warning' };
}

function readLeaf(r: Reader, kind: LeafKind, path: string, rel: string, raw: unknown, policySeverity: AlertSeverity): Leaf | null {
  const specific: Record<LeafKind, readonly string[]> = {
    drift: ['min_features', 'min_severity', 'features', 'include_prediction'],
    performance: ['metric', 'kind', 'below', 'above', 'min_samples'],
    kpi: ['name', 'drop', 'mode', 'baseline', 'min_samples'],
    schedule: ['every'],
    min_labels: ['count'],
  };
  const o = r.object(`${path}.${kind}`, raw, [...COMMON_LEAF_KEYS, ...specific[kind]]);
  if (!o) return null;
  const p = `${path}.${kind}`;
  const id = o.id === undefined ? (rel ? `${rel}.${kind}` : kind) : r.string(`${p}.id`, o.id, ID_PATTERN);
  // for_windows is meaningless for min_labels (a running count) and schedule (elapsed time).
  const forWindows = kind === 'min_labels' || kind === 'schedule' ? 1 : r.int(`${p}.for_windows`, o.for_windows, 1, POLICY_DEFAULTS.for_windows);
  if ((kind === 'min_labels' || kind === 'schedule') && o.for_windows !== undefined) r.problems.push(`${p}.for_windows: not applicable to ${kind}`);
  const alertSeverity = r.oneOf(`${p}.alert_severity`, o.alert_severity, Object.values(ALERT_SEVERITY), policySeverity);
  const base = { id, forWindows, alertSeverity, hash: hashOf({ kind, o }) };
  switch (kind) {
    case 'drift': {
      const sev = o.min_severity === undefined ? { level: SEVERITY_LEVELS.warning, name: 'warning' } : severityOf(r, `${p}.min_severity`, o.min_severity);
      return {
        ...base,
        kind,
        minFeatures: r.int(`${p}.min_features`, o.min_features, 1, 1),
        minSeverity: sev.level,
        minSeverityName: sev.name,
        features: r.stringList(`${p}.features`, o.features),
        includePrediction: r.bool(`${p}.include_prediction`, o.include_prediction, false),
      };
    }
    case 'performance': {
      const metric = r.oneOf(`${p}.metric`, o.metric, PERFORMANCE_METRICS, 'accuracy');
      if (o.metric === undefined) r.problems.push(`${p}.metric: required (one of ${PERFORMANCE_METRICS.join(', ')})`);
      const below = r.number(`${p}.below`, o.below, { optional: true });
      const above = r.number(`${p}.above`, o.above, { optional: true });
      if ((o.below === undefined) === (o.above === undefined)) r.problems.push(`${p}: give exactly one of below (higher is better) or above (lower is better)`);
      return {
        ...base,
        kind,
        metric,
        perfKind: r.oneOf(`${p}.kind`, o.kind, PERFORMANCE_KINDS, 'realized'),
        below,
        above,
        minSamples: r.int(`${p}.min_samples`, o.min_samples, 0, 0),
      };
    }
    case 'kpi': {
      const drop = r.number(`${p}.drop`, o.drop, { positive: true }) ?? 0;
      const mode = r.oneOf(`${p}.mode`, o.mode, ['relative', 'absolute'] as const, 'relative');
      return {
        ...base,
        kind,
        kpi: r.string(`${p}.name`, o.name),
        drop,
        mode,
        baseline: r.number(`${p}.baseline`, o.baseline, { optional: true }),
        minSamples: r.int(`${p}.min_samples`, o.min_samples, 0, 0),
      };
    }
    case 'schedule':
      if (o.every === undefined) r.problems.push(`${p}.every: required (a duration such as 7d)`);
      return { ...base, kind, everyMs: o.every === undefined ? 0 : r.duration(`${p}.every`, o.every, 0, { positive: true }) };
    case 'min_labels':
      return { ...base, kind, count: r.int(`${p}.count`, o.count, 1, 1) };
  }
}

/** `path` locates problems in the file; `rel` (relative to `when`) names nodes and default leaf ids. */
function readCondition(r: Reader, path: string, rel: string, raw: unknown, severity: AlertSeverity, leaves: Leaf[]): Condition | null {
  if (!isObj(raw)) {
    r.problems.push(`${path}: expected a condition (one of ${NODE_KEYS.join(', ')}), got ${describe(raw)}`);
    return null;
  }
  const keys = Object.keys(raw);
  const nodeKeys = keys.filter((k) => (NODE_KEYS as readonly string[]).includes(k));
  for (const k of keys)
    if (!(NODE_KEYS as readonly string[]).includes(k)) r.problems.push(`${path}.${k}: unknown condition (allowed: ${NODE_KEYS.join(', ')})`);
  if (nodeKeys.length !== 1) {
    if (nodeKeys.length > 1)
      r.problems.push(`${path}: exactly one condition per list item, got ${nodeKeys.join(' and ')} (combine them with all_of or any_of)`);
    else if (keys.length === 0) r.problems.push(`${path}: empty condition`);
    return null;
  }
  const key = nodeKeys[0]!;
  if (key === 'all_of' || key === 'any_of') {
    const list = raw[key];
    if (!Array.isArray(list) || list.length === 0) {
      r.problems.push(`${path}.${key}: expected a non-empty list of conditions, got ${describe(list)}`);
      return null;
    }
    const id = rel ? `${rel}.${key}` : key;
    const children = list.map((c, i) => readCondition(r, `${path}.${key}[${i}]`, `${id}[${i}]`, c, severity, leaves)).filter((c): c is Condition => c !== null);
    return { kind: key, id, children };
  }
  const leaf = readLeaf(r, key as LeafKind, path, rel, raw[key], severity);
  if (leaf) leaves.push(leaf);
  return leaf;
}

const POLICY_KEYS = [
  'id',
  'model',
  'versions',
  'when',
  'fire_after_windows',
  'rearm_after_windows',
  'cooldown',
  'training_lookback',
  'alert_severity',
  'description',
] as const;

function readPolicy(r: Reader, path: string, raw: unknown): Policy | null {
  const o = r.object(path, raw, POLICY_KEYS);
  if (!o) return null;
  const id = r.string(`${path}.id`, o.id, ID_PATTERN);
  const model = r.string(`${path}.model`, o.model);
  const alertSeverity = r.oneOf(`${path}.alert_severity`, o.alert_severity, Object.values(ALERT_SEVERITY), POLICY_DEFAULTS.alert_severity);
  const leaves: Leaf[] = [];
  let when: Condition | null = null;
  if (o.when === undefined) r.problems.push(`${path}.when: required (the condition tree)`);
  else when = readCondition(r, `${path}.when`, '', o.when, alertSeverity, leaves);
  const seen = new Set<string>();
  for (const l of leaves) {
    if (seen.has(l.id)) r.problems.push(`${path}.when: two conditions share the id ${JSON.stringify(l.id)}`);
    seen.add(l.id);
  }
  const policy: Omit<Policy, 'hash'> = {
    id,
    model,
    versions: r.stringList(`${path}.versions`, o.versions),
    when: when ?? { kind: 'all_of', id: 'all_of', children: [] },
    leaves,
    fireAfterWindows: r.int(`${path}.fire_after_windows`, o.fire_after_windows, 1, POLICY_DEFAULTS.fire_after_windows),
    rearmAfterWindows: r.int(`${path}.rearm_after_windows`, o.rearm_after_windows, 1, POLICY_DEFAULTS.rearm_after_windows),
    cooldownMs: r.duration(`${path}.cooldown`, o.cooldown, POLICY_DEFAULTS.cooldown),
    trainingLookbackMs: r.duration(`${path}.training_lookback`, o.training_lookback, POLICY_DEFAULTS.training_lookback, { positive: true }),
    alertSeverity,
  };
  return { ...policy, hash: hashOf(raw) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

/**
 * Parses the `policies:` section (a list; absent or null means no policies). Throws
 * PolicyInvalidError listing every problem.
 */
export function parsePolicies(section: unknown): readonly Policy[] {
  if (section === undefined || section === null) return Object.freeze([]);
  const problems: string[] = [];
  const r = new Reader(problems);
  if (!Array.isArray(section)) {
    throw new PolicyInvalidError(`invalid retrain policies (1 problem):\n  - policies: expected a list of policies, got ${describe(section)}`, {
      problems: ['policies: expected a list'],
    });
  }
  const policies = section.map((p, i) => readPolicy(r, `policies[${i}]`, p)).filter((p): p is Policy => p !== null);
  const ids = new Map<string, number>();
  section.forEach((p, i) => {
    const id = isObj(p) ? p.id : undefined;
    if (typeof id === 'string' && id !== '') {
      if (ids.has(id)) problems.push(`policies[${i}].id: ${JSON.stringify(id)} is already the id of policies[${ids.get(id)}]`);
      else ids.set(id, i);
    }
  });
  if (problems.length > 0) {
    throw new PolicyInvalidError(`invalid retrain policies (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`, {
      problems,
    });
  }
  return deepFreeze(policies);
}

/** Problems of one policy object (the API's PolicyValidator); empty = valid. */
export function validatePolicy(policy: unknown): readonly string[] {
  try {
    parsePolicies([policy]);
    return [];
  } catch (err) {
    if (err instanceof PolicyInvalidError) return ((err.details.problems as string[]) ?? [err.message]).map((p) => p.replace(/^policies\[0\]\.?/, '') || p);
    throw err;
  }
}

/** Whether a policy applies to a model version. */
export function policyApplies(policy: Policy, model: string, version: string): boolean {
  return policy.model === model && (policy.versions === null || policy.versions.includes(version));
}
