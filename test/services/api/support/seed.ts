/**
 * Rows shaped exactly as the processors write them (columns of migrations 001/010/030/040/049), inserted
 * into a real ClickHouse, so query routes are tested on real tables, real FINAL semantics and real
 * parameter binding.
 */
import type { ClickHouse } from '../../../../lib/runtime/clickhouse/client.js';
import { toClickHouseTime } from '../../../../lib/runtime/clickhouse/client.js';

export const WINDOW = 300_000;
/** Two days ago on a window boundary: recent enough that the tables' TTLs keep the rows. */
export const T0 = Math.floor((Date.now() - 2 * 86_400_000) / WINDOW) * WINDOW;
export const MODELS = ['credit-risk', 'churn'] as const;
export const FEATURES = ['age', 'income', 'region'] as const;
export const WINDOWS = 6;

const t = toClickHouseTime;

async function insert(ch: ClickHouse, table: string, values: Record<string, unknown>[]): Promise<void> {
  await ch.client.insert({ table, values, format: 'JSONEachRow' });
}

export interface SeedCounts {
  drift: number;
  driftSummary: number;
  dataQuality: number;
  performance: number;
  kpis: number;
  alerts: number;
  retrains: number;
  retrainDecisions: number;
  retrainRuns: number;
  deadLetters: number;
}

/**
 * Seeds every monitoring table. Drift rows are written twice for window 0 (a re-evaluation with a later
 * computed_at), so FINAL must collapse them; counts returned are the rows a correct reader sees.
 */
export async function seedMonitoring(ch: ClickHouse): Promise<SeedCounts> {
  const drift: Record<string, unknown>[] = [];
  const summary: Record<string, unknown>[] = [];
  const quality: Record<string, unknown>[] = [];
  const perf: Record<string, unknown>[] = [];
  const kpis: Record<string, unknown>[] = [];
  for (const model of MODELS) {
    for (let w = 0; w < WINDOWS; w++) {
      const ws = T0 + w * WINDOW;
      const base = { window_start: t(ws), window_end: t(ws + WINDOW), model_name: model, model_version: '1', segment: '' };
      for (const feature of FEATURES) {
        const drifted = feature === 'income' && w >= 3 ? 1 : 0;
        drift.push({
          ...base,
          feature,
          feature_kind: feature === 'region' ? 'categorical' : 'numeric',
          method: feature === 'region' ? 'chisquare_gof' : 'psi',
          score: drifted ? 0.4 + w / 100 : 0.01 * (w + 1),
          p_value: feature === 'region' ? 0.5 : null,
          p_value_adjusted: feature === 'region' ? 0.9 : null,
          threshold: feature === 'region' ? 0.05 : 0.2,
          threshold_kind: feature === 'region' ? 'p_value' : 'distance',
          drift: drifted,
          severity: drifted ? 'high' : 'none',
          n_ref: 1000,
          n_cur: 100 + w,
          status: 'ok',
          is_final: 1,
          computed_at: t(ws + WINDOW + 1000),
        });
        quality.push({
          ...base,
          feature,
          missing_rate: 0.01 * w,
          reference_missing_rate: 0.01,
          schema_status: 'ok',
          observed_type: 'number',
          expected_type: 'number',
          n: 100,
          computed_at: t(ws + WINDOW + 1000),
        });
      }
      summary.push({
        ...base,
        n_features: FEATURES.length,
        n_drifted: w >= 3 ? 1 : 0,
        drifted_share: w >= 3 ? 1 / 3 : 0,
        drifted_features: w >= 3 ? ['income'] : [],
        prediction_drift: 0,
        dataset_drift: 0,
        severity: w >= 3 ? 'high' : 'none',
        severity_level: w >= 3 ? 3 : 0,
        correction: 'none',
        n_events: 100 + w,
        profile_status: 'ok',
        computed_at: t(ws + WINDOW + 1000),
      });
      for (const [metric, kind] of [
        ['accuracy', 'realized'],
        ['accuracy', 'estimated'],
        ['roc_auc', 'realized'],
      ] as const) {
        perf.push({ ...base, is_shadow: 0, metric, kind, value: 0.9 - w * 0.01, n_labeled: 80, n_total: 100, is_final: 1, computed_at: t(ws + WINDOW + 1000) });
      }
      perf.push({
        ...base,
        model_version: '2',
        is_shadow: 1,
        metric: 'accuracy',
        kind: 'realized',
        value: 0.91,
        n_labeled: 80,
        n_total: 100,
        is_final: 1,
        computed_at: t(ws + WINDOW + 1000),
      });
      kpis.push({ ...base, kpi: 'revenue', value: 1000 + w, baseline: 1000, n: 100, is_final: 1, computed_at: t(ws + WINDOW + 1000) });
      kpis.push({ ...base, kpi: 'conversion', value: null, baseline: null, n: 0, is_final: 0, computed_at: t(ws + WINDOW + 1000) });
    }
  }
  // An earlier evaluation of window 0 that FINAL must hide (older computed_at, different score).
  const stale = drift.filter((r) => r.window_start === t(T0)).map((r) => ({ ...r, score: 99, computed_at: t(T0 + WINDOW) }));
  await insert(ch, 'drift_metrics', [...stale, ...drift]);
  await insert(ch, 'model_drift_summary', summary);
  await insert(ch, 'data_quality_metrics', quality);
  await insert(ch, 'performance_metrics', perf);
  await insert(ch, 'kpi_metrics', kpis);

  const alerts = [
    {
      alert_id: 'a1',
      created_at: t(T0 + 4 * WINDOW),
      model_name: 'credit-risk',
      model_version: '1',
      rule: 'income_drift',
      severity: 'critical',
      status: 'firing',
      metric: 'drift.income',
      value: 0.43,
      threshold: 0.2,
      window_start: t(T0 + 3 * WINDOW),
      window_end: t(T0 + 4 * WINDOW),
      message: 'income drifted',
    },
    {
      alert_id: 'a2',
      created_at: t(T0 + 5 * WINDOW),
      model_name: 'credit-risk',
      model_version: '1',
      rule: 'accuracy_drop',
      severity: 'warning',
      status: 'firing',
      metric: 'accuracy',
      value: 0.85,
      threshold: 0.86,
      window_start: null,
      window_end: null,
      message: 'accuracy below 0.86',
    },
    {
      alert_id: 'a3',
      created_at: t(T0 + 2 * WINDOW),
      model_name: 'churn',
      model_version: '1',
      rule: 'income_drift',
      severity: 'warning',
      status: 'firing',
      metric: 'drift.income',
      value: 0.3,
      threshold: 0.2,
      window_start: null,
      window_end: null,
      message: 'x',
    },
  ];
  // a3 resolved later: same key, later created_at, so FINAL shows it resolved.
  const resolved = { ...alerts[2]!, created_at: t(T0 + 3 * WINDOW), status: 'resolved', message: 'resolved' };
  await insert(ch, 'alerts', [...alerts, resolved]);

  const event = (key: string) =>
    JSON.stringify({ idempotency_key: key, conditions: [{ kind: 'drift', metric: 'drifted_share', value: 0.33, threshold: 0.3, comparator: 'gte' }] });
  await insert(ch, 'retrain_events', [
    {
      idempotency_key: 'k1',
      created_at: t(T0 + 4 * WINDOW),
      policy_id: 'drift-policy',
      model_name: 'credit-risk',
      model_version: '1',
      drifted_features: ['income'],
      training_range_start: t(T0),
      training_range_end: t(T0 + 4 * WINDOW),
      reason: 'drifted_share 0.33 >= 0.3',
      event: event('k1'),
    },
    {
      idempotency_key: 'k2',
      created_at: t(T0 + 6 * WINDOW),
      policy_id: 'perf-policy',
      model_name: 'credit-risk',
      model_version: '1',
      drifted_features: [],
      training_range_start: t(T0),
      training_range_end: t(T0 + 6 * WINDOW),
      reason: 'accuracy',
      event: event('k2'),
    },
  ]);
  await insert(ch, 'retrain_decisions', [
    {
      decided_at: t(T0 + 4 * WINDOW),
      policy_id: 'drift-policy',
      model_name: 'credit-risk',
      model_version: '1',
      window_start: t(T0 + 3 * WINDOW),
      window_end: t(T0 + 4 * WINDOW),
      decision: 'fired',
      reason: 'conditions_met',
      idempotency_key: 'k1',
      conditions: '[{"kind":"drift"}]',
      detail: '{}',
    },
    {
      decided_at: t(T0 + 5 * WINDOW),
      policy_id: 'drift-policy',
      model_name: 'credit-risk',
      model_version: '1',
      window_start: t(T0 + 4 * WINDOW),
      window_end: t(T0 + 5 * WINDOW),
      decision: 'suppressed',
      reason: 'cooldown',
      idempotency_key: 'k1',
      conditions: '[]',
      detail: 'not json',
    },
  ]);
  // The retrain worker's steps (services/retrain-worker/worker.ts `record`): k1 ran to promotion,
  // k2 failed for lack of labels. k1's `registered` step is recorded twice (a resumed delivery, later
  // `at`): FINAL keeps the later row only.
  const run = (key: string, step: string, at: number, newVersion: string, detail: Record<string, unknown>) => ({
    idempotency_key: key,
    step,
    at: t(at),
    model_name: 'credit-risk',
    source_version: '1',
    new_version: newVersion,
    policy_id: key === 'k1' ? 'drift-policy' : 'perf-policy',
    worker: 'worker-1',
    detail: JSON.stringify(detail),
  });
  const r0 = T0 + 4 * WINDOW + 5000;
  await insert(ch, 'retrain_runs', [
    run('k1', 'started', r0, '', { policy_id: 'drift-policy' }),
    run('k1', 'data', r0 + 1000, '', { rows: 900, coverage: 0.9 }),
    run('k1', 'trained', r0 + 2000, '', { train_rows: 720 }),
    run('k1', 'registered', r0 + 3000, '2', { sha256: 'ab' }),
    run('k1', 'registered', r0 + 3500, '2', { resumed: true }),
    run('k1', 'profiled', r0 + 4000, '2', { profile_version: 1 }),
    run('k1', 'promoted', r0 + 5000, '2', { champion: '2' }),
    run('k2', 'started', T0 + 6 * WINDOW + 5000, '', {}),
    run('k2', 'data', T0 + 6 * WINDOW + 6000, '', { rows: 3 }),
    run('k2', 'failed', T0 + 6 * WINDOW + 7000, '', { code: 'DW_TRAINING_FAILED', message: 'too few labeled rows' }),
  ]);
  await insert(ch, 'dead_letter_events', [
    {
      failed_at: t(T0 + 1000),
      component: 'ingest',
      code: 'DW_INVALID_JSON',
      reason: 'not json',
      source_topic: 'driftwatch.predictions.v1',
      source_partition: 0,
      source_offset: 17,
    },
    {
      failed_at: t(T0 + 2000),
      component: 'ingest',
      code: 'DW_CONTRACT_VIOLATION',
      reason: 'missing field',
      source_topic: 'driftwatch.predictions.v1',
      source_partition: 1,
      source_offset: '18446744073709551000',
    },
  ]);
  return {
    drift: MODELS.length * WINDOWS * FEATURES.length,
    driftSummary: MODELS.length * WINDOWS,
    dataQuality: MODELS.length * WINDOWS * FEATURES.length,
    performance: MODELS.length * WINDOWS * 4,
    kpis: MODELS.length * WINDOWS * 2,
    alerts: 3,
    retrains: 2,
    retrainDecisions: 2,
    retrainRuns: 9,
    deadLetters: 2,
  };
}

export async function seedRawPredictions(ch: ClickHouse, model: string, version: string, n: number, start = T0): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      event_id: `e${i}`,
      prediction_id: `p${i}`,
      model_name: model,
      model_version: version,
      event_time: t(start + i * 1000),
      num_features: { age: 20 + (i % 50), income: 1000 * (i % 7) },
      cat_features: { region: i % 2 === 0 ? 'eu' : 'us' },
      bool_features: { vip: i % 3 === 0 },
      missing_features: i % 10 === 0 ? ['tenure'] : [],
      score: (i % 100) / 100,
      probabilities: {},
      predicted_label: null,
      predicted_value: null,
      latency_ms: 1,
      segment: { region: i % 2 === 0 ? 'eu' : 'us' },
      is_shadow: false,
      fallback: null,
      encoding: 'json',
      schema_id: null,
      source_topic: 'driftwatch.predictions.v1',
      source_partition: 0,
      source_offset: i,
      ingested_at: t(start + i * 1000 + 5),
    });
  }
  await insert(ch, 'raw_predictions', rows);
}
