/**
 * Migration 020 on the real ClickHouse engine: re-emission is idempotent (and LABELED wins over
 * UNLABELED in either insert order), and the label coverage, label delay and late-label views give
 * the documented numbers per model, version and window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabeledPrediction } from '../../../lib/contracts/schemas.js';
import { labeledPredictionRow, lateLabelRow } from '../../../stream-processors/label-joiner/rows.js';
import { embeddedClickHouse, queryRows, type TestClickHouse } from '../../support/stack.js';

let tch: TestClickHouse;
const H = 3_600_000;
// Recent (rows older than RAW_EVENTS_TTL_DAYS are dropped by the table TTL), on a two-hour boundary.
const T0 = Math.floor((Date.now() - 3 * 86_400_000) / (2 * H)) * 2 * H;
const iso = (ms: number) => new Date(ms).toISOString();

function lp(id: string, over: Partial<LabeledPrediction> = {}, delay: number | null = null): LabeledPrediction {
  const t = over.prediction_time ?? T0 + 60_000;
  return {
    prediction_id: id,
    model_name: 'm1',
    model_version: 'v1',
    prediction_time: t,
    features: { x: 1, c: 'a', b: true, n: null },
    score: 0.5,
    probabilities: {},
    predicted_label: '1',
    predicted_value: null,
    segment: {},
    is_shadow: false,
    status: delay === null ? 'UNLABELED' : 'LABELED',
    label: delay === null ? null : '1',
    target_value: null,
    outcome_time: delay === null ? null : t + delay,
    label_delay_ms: delay,
    business: {},
    outcome_event_id: delay === null ? null : `o-${id}`,
    join_watermark: null,
    ...over,
  };
}

async function insertLabeled(rows: LabeledPrediction[]): Promise<void> {
  await tch.ch.client.insert({ table: 'labeled_predictions', values: rows.map((r) => labeledPredictionRow(r, Date.now())), format: 'JSONEachRow' });
}

beforeAll(async () => {
  tch = await embeddedClickHouse();
  // Window [00:00, 01:00) of m1/v1: 3 labeled (1 s, 2 s, 2 min) and 1 unlabeled. Window [01:00, 02:00): 2 unlabeled.
  await insertLabeled([lp('a', {}, 1_000), lp('b', {}, 2_000), lp('c', {}, 120_000), lp('d')]);
  await insertLabeled([lp('e', { prediction_time: T0 + H + 5 }), lp('f', { prediction_time: T0 + 2 * H - 1 })]);
  // The shadow challenger's prediction for the same id a is its own row.
  await insertLabeled([lp('a', { model_version: 'v2', is_shadow: true }, 7_000)]);
  // Re-emissions: a again (identical), d LABELED after UNLABELED, b UNLABELED after LABELED (a replay).
  await insertLabeled([lp('a', {}, 1_000), lp('d', {}, 30_000), lp('b')]);
  const outcome = (id: string, t: number) => ({
    event_id: id,
    prediction_id: `p-${id}`,
    model_name: 'm1',
    outcome_time: t,
    label: '0',
    target_value: null,
    business: {},
  });
  const late = [
    lateLabelRow('after_expiry', outcome('l1', T0 + 1_000), T0 - 1_000, 'v1', T0, Date.now()),
    lateLabelRow('duplicate', outcome('l2', T0 + 2_000), T0, 'v1', T0, Date.now()),
    lateLabelRow('no_prediction', outcome('l3', T0 + 3_000), null, null, T0, Date.now()),
  ];
  await tch.ch.client.insert({ table: 'late_labels', values: [...late, late[0]!], format: 'JSONEachRow' });
});

afterAll(async () => {
  await tch?.close();
});

describe('labeled_predictions and late_labels (migration 020)', () => {
  it('keep one row per prediction identity, and LABELED wins over UNLABELED whatever the insert order', async () => {
    const rows = await queryRows<{ prediction_id: string; model_version: string; status: string; label_delay_ms: number | null }>(
      tch.ch,
      'SELECT prediction_id, model_version, status, label_delay_ms FROM labeled_predictions FINAL ORDER BY prediction_id, model_version',
    );
    expect(rows.map((r) => [r.prediction_id, r.model_version, r.status, r.label_delay_ms === null ? null : Number(r.label_delay_ms)])).toEqual([
      ['a', 'v1', 'LABELED', 1_000],
      ['a', 'v2', 'LABELED', 7_000],
      ['b', 'v1', 'LABELED', 2_000],
      ['c', 'v1', 'LABELED', 120_000],
      ['d', 'v1', 'LABELED', 30_000],
      ['e', 'v1', 'UNLABELED', null],
      ['f', 'v1', 'UNLABELED', null],
    ]);
    const [raw] = await queryRows<{ n: number }>(tch.ch, 'SELECT count() AS n FROM labeled_predictions');
    expect(Number(raw!.n)).toBe(10); // the copies are there until merged; FINAL shows one
  });

  it('label_coverage: labeled share per window, model, version and shadow flag', async () => {
    const rows = await queryRows<{
      window_start: string;
      window_end: string;
      model_version: string;
      is_shadow: boolean;
      n_total: number;
      n_labeled: number;
      coverage: number;
    }>(
      tch.ch,
      'SELECT window_start, window_end, model_version, is_shadow, n_total, n_labeled, coverage FROM label_coverage(window_s = {w:UInt32}) WHERE model_name = {m:String} ORDER BY window_start, model_version',
      { w: 3600, m: 'm1' },
    );
    expect(rows.map((r) => ({ ...r, n_total: Number(r.n_total), n_labeled: Number(r.n_labeled) }))).toEqual([
      { window_start: iso(T0), window_end: iso(T0 + H), model_version: 'v1', is_shadow: false, n_total: 4, n_labeled: 4, coverage: 1 },
      { window_start: iso(T0), window_end: iso(T0 + H), model_version: 'v2', is_shadow: true, n_total: 1, n_labeled: 1, coverage: 1 },
      { window_start: iso(T0 + H), window_end: iso(T0 + 2 * H), model_version: 'v1', is_shadow: false, n_total: 2, n_labeled: 0, coverage: 0 },
    ]);
    // A two-hour window merges both.
    const wide = await queryRows<{ n_total: number; n_labeled: number; coverage: number }>(
      tch.ch,
      "SELECT n_total, n_labeled, coverage FROM label_coverage(window_s = 7200) WHERE model_name = 'm1' AND model_version = 'v1'",
    );
    expect(wide.map((r) => [Number(r.n_total), Number(r.n_labeled), r.coverage])).toEqual([[6, 4, 4 / 6]]);
  });

  it('label_delay: exact quantiles (nearest rank, quantileExact), min/avg/max and a histogram of labeled predictions', async () => {
    const rows = await queryRows<Record<string, unknown>>(
      tch.ch,
      "SELECT * FROM label_delay(window_s = 3600) WHERE model_name = 'm1' AND model_version = 'v1' ORDER BY window_start",
    );
    expect(rows).toHaveLength(1); // the second window has no labeled prediction
    const r = rows[0]!;
    // delays 1_000, 2_000, 30_000, 120_000: quantileExact(q) = sorted[floor(q * n)]
    expect(Number(r.n_labeled)).toBe(4);
    expect([r.delay_min_ms, r.delay_avg_ms, r.delay_max_ms].map(Number)).toEqual([1_000, 38_250, 120_000]);
    expect((r.delay_quantiles_ms as number[]).map(Number)).toEqual([30_000, 120_000, 120_000, 120_000]);
    expect(Number(r.delay_p50_ms)).toBe(30_000);
    expect(r.bucket_upper_ms).toEqual([60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000]);
    expect((r.bucket_counts as number[]).map(Number)).toEqual([3, 1, 0, 0, 0, 0, 0]);
  });

  it('late_label_counts: outcomes that labeled nothing, per window and reason, each counted once', async () => {
    const rows = await queryRows<{ reason: string; model_version: string; n: number }>(
      tch.ch,
      "SELECT reason, model_version, n FROM late_label_counts(window_s = 3600) WHERE model_name = 'm1' ORDER BY reason",
    );
    expect(rows.map((r) => [r.reason, r.model_version, Number(r.n)])).toEqual([
      ['after_expiry', 'v1', 1],
      ['duplicate', 'v1', 1],
      ['no_prediction', '', 1],
    ]);
  });
});
