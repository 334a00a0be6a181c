/**
 * The monitor configuration of one model: which features to watch with which drift method and
 * threshold, segments, performance metrics, KPIs and alert thresholds.
 *
 * Two layers of validation, both reporting every problem at once (DW_POLICY_INVALID, 400):
 *  1. the JSON schema below (closed objects, enums from the drift-method registry, bounds), applied
 *     by fastify before the handler runs;
 *  2. `checkMonitorConfig`: rules across fields the schema cannot say — a method must support the
 *     feature's kind (lib/stats/drift/registry.ts `kinds`), a p-value threshold lies in (0, 1),
 *     names are unique.
 */
import { DRIFT_METHODS } from '../../../lib/stats/drift/registry.js';
import { METHOD_IDS, type MethodId } from '../../../lib/stats/drift/types.js';
import type { CorrectionMethod } from '../../../lib/stats/drift/correction.js';
import { filterValueSchema, nameSchema } from '../routes/schemas.js';

export const CORRECTIONS = ['none', 'bonferroni', 'benjamini-hochberg'] as const satisfies readonly CorrectionMethod[];
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
] as const;
export const COMPARATORS = ['gt', 'gte', 'lt', 'lte'] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;

const methodChoice = {
  type: 'object',
  additionalProperties: false,
  properties: {
    method: { type: 'string', enum: [...METHOD_IDS] },
    threshold: { type: 'number', minimum: 0, maximum: 1e6 },
  },
} as const;

export const monitorConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['features'],
  properties: {
    description: { type: 'string', maxLength: 1000 },
    enabled: { type: 'boolean', default: true },
    task: { type: 'string', enum: ['binary', 'multiclass', 'regression'] },
    window_size_ms: { type: 'integer', minimum: 1000, maximum: 31 * 86_400_000 },
    features: {
      type: 'array',
      maxItems: 2000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { ...filterValueSchema, minLength: 1 },
          kind: { type: 'string', enum: ['numeric', 'categorical'] },
          ...methodChoice.properties,
        },
      },
    },
    prediction_drift: methodChoice,
    segments: { type: 'array', maxItems: 20, uniqueItems: true, items: { ...filterValueSchema, minLength: 1, maxLength: 128 } },
    drift: {
      type: 'object',
      additionalProperties: false,
      properties: {
        dataset_drift_share: { type: 'number', minimum: 0, maximum: 1 },
        correction: { type: 'string', enum: [...CORRECTIONS] },
      },
    },
    performance: {
      type: 'object',
      additionalProperties: false,
      properties: {
        metrics: { type: 'array', maxItems: PERFORMANCE_METRICS.length, uniqueItems: true, items: { type: 'string', enum: [...PERFORMANCE_METRICS] } },
        min_labels: { type: 'integer', minimum: 0, maximum: 100_000_000 },
      },
    },
    kpis: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'field', 'aggregation'],
        properties: {
          name: nameSchema,
          field: { ...filterValueSchema, minLength: 1, maxLength: 128 },
          aggregation: { type: 'string', enum: ['sum', 'mean', 'rate', 'count'] },
          baseline: { type: 'number', nullable: true },
        },
      },
    },
    alerts: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rule', 'metric', 'comparator', 'threshold'],
        properties: {
          rule: nameSchema,
          metric: { ...filterValueSchema, minLength: 1, maxLength: 128 },
          comparator: { type: 'string', enum: [...COMPARATORS] },
          threshold: { type: 'number', minimum: -1e12, maximum: 1e12 },
          severity: { type: 'string', enum: [...SEVERITIES], default: 'warning' },
        },
      },
    },
  },
} as const;

interface MethodPick {
  method?: MethodId;
  threshold?: number;
}

export interface MonitorConfig {
  description?: string;
  enabled?: boolean;
  task?: 'binary' | 'multiclass' | 'regression';
  window_size_ms?: number;
  features: Array<{ name: string; kind?: 'numeric' | 'categorical' } & MethodPick>;
  prediction_drift?: MethodPick;
  segments?: string[];
  drift?: { dataset_drift_share?: number; correction?: (typeof CORRECTIONS)[number] };
  performance?: { metrics?: Array<(typeof PERFORMANCE_METRICS)[number]>; min_labels?: number };
  kpis?: Array<{ name: string; field: string; aggregation: 'sum' | 'mean' | 'rate' | 'count'; baseline?: number | null }>;
  alerts?: Array<{ rule: string; metric: string; comparator: (typeof COMPARATORS)[number]; threshold: number; severity?: (typeof SEVERITIES)[number] }>;
}

function checkMethod(where: string, pick: MethodPick, kind: 'numeric' | 'categorical' | undefined, problems: string[]): void {
  if (!pick.method) {
    if (pick.threshold !== undefined) problems.push(`${where}: a threshold needs a method`);
    return;
  }
  const m = DRIFT_METHODS[pick.method];
  if (kind && !m.kinds.includes(kind)) problems.push(`${where}: method ${m.id} does not support ${kind} features (it supports ${m.kinds.join(', ')})`);
  if (pick.threshold === undefined && m.defaultThreshold === null)
    problems.push(`${where}: ${m.id} has no default threshold (its score is in feature units); set one`);
  if (pick.threshold !== undefined && m.thresholdType === 'p_value' && !(pick.threshold > 0 && pick.threshold < 1)) {
    problems.push(`${where}: ${m.id} compares a p-value, so its threshold must lie in (0, 1); got ${pick.threshold}`);
  }
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

/** Cross-field checks; returns every problem (empty = valid). */
export function checkMonitorConfig(c: MonitorConfig): string[] {
  const problems: string[] = [];
  for (const d of duplicates(c.features.map((f) => f.name))) problems.push(`features: ${JSON.stringify(d)} is listed twice`);
  c.features.forEach((f, i) => checkMethod(`features[${i}] (${f.name})`, f, f.kind, problems));
  if (c.prediction_drift) checkMethod('prediction_drift', c.prediction_drift, undefined, problems);
  for (const d of duplicates((c.kpis ?? []).map((k) => k.name))) problems.push(`kpis: ${JSON.stringify(d)} is listed twice`);
  for (const d of duplicates((c.alerts ?? []).map((a) => a.rule))) problems.push(`alerts: rule ${JSON.stringify(d)} is listed twice`);
  return problems;
}
