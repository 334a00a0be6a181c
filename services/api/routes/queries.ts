/**
 * Query endpoints: drift, drift summaries, data quality, performance, KPIs, alerts, retrain events,
 * decisions and runs, dead letters. One route per series in store/series.ts, all with the same contract:
 *
 *   GET /v1/<series>?<filters>&from&to&limit&cursor&order -> { items: [...], next_cursor }
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../options.js';
import { SERIES, querySeries, type SeriesSpec } from '../store/series.js';
import {
  anyJson,
  errorResponses,
  filterValueSchema,
  instantSchema,
  nullableNumber,
  nullableTime,
  pageQueryProperties,
  pageSchema,
  parseRange,
  timeString,
} from './schemas.js';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const num = { type: 'number' } as const;
const bool = { type: 'boolean' } as const;
const strings = { type: 'array', items: str } as const;

const windowed = { window_start: timeString, window_end: timeString, model_name: str, model_version: str, segment: str } as const;

/** Response item schemas (they also filter the output: a column not listed is not returned). */
const ITEMS: Record<keyof typeof SERIES, Record<string, unknown>> = {
  drift: {
    ...windowed,
    feature: str,
    feature_kind: str,
    method: str,
    score: nullableNumber,
    p_value: nullableNumber,
    p_value_adjusted: nullableNumber,
    threshold: num,
    threshold_kind: str,
    drift: bool,
    severity: str,
    n_ref: int,
    n_cur: int,
    status: str,
    is_final: bool,
    computed_at: timeString,
  },
  driftSummary: {
    ...windowed,
    n_features: int,
    n_drifted: int,
    drifted_share: num,
    drifted_features: strings,
    prediction_drift: bool,
    dataset_drift: bool,
    severity: str,
    severity_level: int,
    correction: str,
    n_events: int,
    profile_status: str,
    computed_at: timeString,
  },
  dataQuality: {
    ...windowed,
    feature: str,
    missing_rate: num,
    reference_missing_rate: num,
    schema_status: str,
    observed_type: str,
    expected_type: str,
    n: int,
    computed_at: timeString,
  },
  performance: {
    ...windowed,
    is_shadow: bool,
    metric: str,
    kind: str,
    value: nullableNumber,
    n_labeled: int,
    n_total: int,
    is_final: bool,
    computed_at: timeString,
  },
  kpis: { ...windowed, kpi: str, value: nullableNumber, baseline: nullableNumber, n: int, is_final: bool, computed_at: timeString },
  alerts: {
    alert_id: str,
    created_at: timeString,
    model_name: str,
    model_version: str,
    rule: str,
    severity: str,
    status: str,
    metric: str,
    value: nullableNumber,
    threshold: nullableNumber,
    window_start: nullableTime,
    window_end: nullableTime,
    message: str,
  },
  retrains: {
    idempotency_key: str,
    created_at: timeString,
    policy_id: str,
    model_name: str,
    model_version: str,
    drifted_features: strings,
    training_range_start: timeString,
    training_range_end: timeString,
    reason: str,
    event: anyJson,
  },
  retrainDecisions: {
    decided_at: timeString,
    policy_id: str,
    model_name: str,
    model_version: str,
    window_start: timeString,
    window_end: timeString,
    decision: str,
    reason: str,
    idempotency_key: str,
    conditions: anyJson,
    detail: anyJson,
  },
  retrainRuns: {
    idempotency_key: str,
    step: str,
    at: timeString,
    model_name: str,
    source_version: str,
    new_version: str,
    policy_id: str,
    worker: str,
    detail: anyJson,
  },
  deadLetters: { failed_at: timeString, component: str, code: str, reason: str, source_topic: str, source_partition: int, source_offset: { type: 'string' } },
};

const PATHS: Record<keyof typeof SERIES, string> = {
  drift: '/v1/drift',
  driftSummary: '/v1/drift/summary',
  dataQuality: '/v1/data-quality',
  performance: '/v1/performance',
  kpis: '/v1/kpis',
  alerts: '/v1/alerts',
  retrains: '/v1/retrains',
  retrainDecisions: '/v1/retrains/decisions',
  retrainRuns: '/v1/retrains/runs',
  deadLetters: '/v1/dead-letters',
};

export const QUERY_PATHS = PATHS;

interface SeriesQuerystring {
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
  order: 'asc' | 'desc';
  [filter: string]: string | number | boolean | undefined;
}

export default async function queryRoutes(fastify: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { deps } = opts;
  const maxLimit = deps.settings.API_QUERY_MAX_LIMIT;
  for (const [name, spec] of Object.entries(SERIES) as [keyof typeof SERIES, SeriesSpec][]) {
    const filterProps: Record<string, unknown> = {};
    for (const [f, fs] of Object.entries(spec.filters)) {
      filterProps[f] = fs.type === 'Bool' ? { type: 'boolean', description: fs.doc } : { ...filterValueSchema, description: fs.doc };
    }
    const timeColumn = spec.key[0]!.column;
    fastify.get<{ Querystring: SeriesQuerystring }>(PATHS[name], {
      config: { access: 'read' },
      schema: {
        tags: ['queries'],
        summary: spec.doc,
        description: `Rows of \`${spec.table}\` (latest version of each row), ordered by ${timeColumn} then the table key. from/to bound ${timeColumn} (from inclusive, to exclusive).`,
        security: [{ bearerAuth: [] }],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...filterProps, from: instantSchema, to: instantSchema, ...pageQueryProperties(maxLimit) },
        },
        response: { 200: pageSchema({ type: 'object', properties: ITEMS[name] }), ...errorResponses(400, 401, 503) },
      },
      handler: async (request) => {
        const q = request.query;
        const { from, to } = parseRange(q);
        const filters: Record<string, string | boolean | undefined> = {};
        for (const f of Object.keys(spec.filters)) filters[f] = q[f] as string | boolean | undefined;
        return querySeries(deps.clickhouse, spec, { filters, from, to, limit: q.limit, order: q.order, cursor: q.cursor });
      },
    });
  }
}
