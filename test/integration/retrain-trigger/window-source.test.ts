/**
 * fetchWindowResults against the real engine (embedded chdb, migrations applied): which windows are
 * read, in which order, and how the rows of the four window-metrics tables become WindowResults;
 * the late-label reads (labels-only results, min_labels sums over rewritten rows); and the restore
 * of a state whose latest step looked at an older window than the steps recorded before it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toClickHouseTime } from '../../../lib/runtime/clickhouse/client.js';
import { evaluate, stateKey, type PolicyState } from '../../../stream-processors/retrain-trigger/core.js';
import { parsePolicies } from '../../../stream-processors/retrain-trigger/policy.js';
import { recordEvaluation, restoreTriggerStates } from '../../../stream-processors/retrain-trigger/records.js';
import { fetchLabelTotals, fetchWindowResults, selectWindows } from '../../../stream-processors/retrain-trigger/window-source.js';
import { embeddedClickHouse, type TestClickHouse } from '../../support/stack.js';
import { CALM, DRIFTING, rewritePerformance, seedWindows, windowAt } from './seed.js';

const W = 60_000;
// Recent: the tables have a TTL (METRICS_TTL_DAYS), older rows are dropped.
const T0 = Math.floor(Date.now() / W) * W - 200 * W;
const NOW = T0 + 100 * W;
let db: TestClickHouse;

const perf = (value: number, nLabeled: number) => [
  { metric: 'accuracy', kind: 'realized' as const, value, nLabeled, nTotal: 100 },
  { metric: 'label_coverage', kind: 'realized' as const, value: nLabeled / 100, nLabeled, nTotal: 100 },
  { metric: 'accuracy', kind: 'estimated' as const, value: 0.9, nLabeled: 0, nTotal: 100 },
];

beforeAll(async () => {
  db = await embeddedClickHouse();
  await seedWindows(db.ch, [
    ...[0, 1, 2].map((i) => ({
      model: 'm',
      version: '1',
      ...windowAt(T0, W, i),
      severities: i === 1 ? DRIFTING : CALM,
      performance: perf(0.8, 10 * (i + 1)),
      computedAt: T0 + 50 * W,
    })),
    ...[0, 1].map((i) => ({
      model: 'm',
      version: '2',
      ...windowAt(T0, W, i),
      severities: CALM,
      kpis: [{ kpi: 'conv', value: 0.1, baseline: 0.2, n: 40 }],
      computedAt: T0 + 50 * W,
    })),
    { model: 'other', version: '1', ...windowAt(T0, W, 0), severities: DRIFTING, computedAt: T0 + 50 * W },
    // not settled yet
    { model: 'm', version: '1', ...windowAt(T0, W, 3), severities: CALM, computedAt: NOW + 1 },
  ]);
  const seg = {
    window_start: toClickHouseTime(T0),
    window_end: toClickHouseTime(T0 + W),
    model_name: 'm',
    model_version: '1',
    computed_at: toClickHouseTime(T0 + 50 * W),
  };
  // a segment row and a shadow row that must not leak into the whole-population result
  await db.ch.client.insert({
    table: 'performance_metrics',
    format: 'JSONEachRow',
    values: [
      { ...seg, segment: 'region=eu', is_shadow: 0, metric: 'accuracy', kind: 'realized', value: 0.1, n_labeled: 999, n_total: 999, is_final: 1 },
      { ...seg, segment: '', is_shadow: 1, metric: 'accuracy', kind: 'realized', value: 0.2, n_labeled: 999, n_total: 999, is_final: 1 },
    ],
  });
  // a window rewritten later (ReplacingMergeTree): the newest row wins
  await seedWindows(db.ch, [{ model: 'm', version: '1', ...windowAt(T0, W, 2), severities: DRIFTING, performance: perf(0.5, 77), computedAt: T0 + 60 * W }]);
}, 60_000);

afterAll(async () => db?.close());

describe('fetchWindowResults', () => {
  const policies = parsePolicies([{ id: 'p', model: 'm', when: { drift: { min_features: 2 } } }]);

  it('assembles whole-population, served, settled, latest rows, oldest window first', async () => {
    const sel = selectWindows(policies, {}, ['m'], T0 - 1);
    const ws = await fetchWindowResults(db.ch, { selection: sel, settledBefore: NOW, limit: 100 });
    expect(ws.map((w) => `${w.modelVersion}@${(w.windowStart - T0) / W}`)).toEqual(['1@0', '2@0', '1@1', '2@1', '1@2']);
    const first = ws[0]!;
    expect(first.features.map((f) => [f.feature, f.severity, f.severityLevel, f.drift])).toEqual([
      ['age', 'none', 0, false],
      ['income', 'warning', 1, true],
      ['tenure', 'none', 0, false],
    ]);
    expect(first.drift).toMatchObject({ nFeatures: 3, nDrifted: 1, driftedFeatures: ['income'], profileStatus: 'ok' });
    expect(first.performance.find((p) => p.metric === 'accuracy' && p.kind === 'realized')).toEqual({
      metric: 'accuracy',
      kind: 'realized',
      value: 0.8,
      nLabeled: 10,
      nTotal: 100,
    });
    expect(first.labeledCount).toBe(10);
    expect(first).toMatchObject({ labelsFinal: true, labelsOnly: false });
    expect(ws[1]!.kpis).toEqual([{ kpi: 'conv', value: 0.1, baseline: 0.2, n: 40 }]);
    const rewritten = ws[4]!;
    expect(rewritten.labeledCount).toBe(77);
    expect(rewritten.features.filter((f) => f.severity === 'critical').map((f) => f.feature)).toEqual(['age', 'income']);
  });

  it('reads only windows after each version high-water mark, up to the limit', async () => {
    const first = await fetchWindowResults(db.ch, { selection: selectWindows(policies, {}, ['m'], T0 - 1), settledBefore: NOW, limit: 2 });
    expect(first).toHaveLength(2);
    const state = evaluate({ policies, triggers: {} }, first, NOW).state;
    const next = await fetchWindowResults(db.ch, { selection: selectWindows(policies, state.triggers, ['m'], T0 - 1), settledBefore: NOW, limit: 100 });
    expect(next.map((w) => `${w.modelVersion}@${(w.windowStart - T0) / W}`)).toEqual(['1@1', '2@1', '1@2']);
    // once settled, window 3 is read too
    const later = await fetchWindowResults(db.ch, { selection: selectWindows(policies, state.triggers, ['m'], T0 - 1), settledBefore: NOW + 1, limit: 100 });
    expect(later.map((w) => `${w.modelVersion}@${(w.windowStart - T0) / W}`)).toContain('1@3');
  });

  it('skips versions no policy applies to and windows before the horizon', async () => {
    const v2 = parsePolicies([{ id: 'v2', model: 'm', versions: ['2'], when: { min_labels: { count: 1 } } }]);
    const ws = await fetchWindowResults(db.ch, { selection: selectWindows(v2, {}, ['m'], T0 - 1), settledBefore: NOW, limit: 100 });
    expect(ws.map((w) => w.modelVersion)).toEqual(['2', '2']);
    const recent = await fetchWindowResults(db.ch, { selection: selectWindows(policies, {}, ['m'], T0 + 2 * W), settledBefore: NOW, limit: 100 });
    expect(recent.map((w) => `${w.modelVersion}@${(w.windowStart - T0) / W}`)).toEqual(['1@2']);
    expect(await fetchWindowResults(db.ch, { selection: selectWindows(policies, {}, [], T0), settledBefore: NOW, limit: 100 })).toEqual([]);
  });
});

describe('late labels', () => {
  const MODEL = 'late';
  const policies = parsePolicies([
    { id: 'acc', model: MODEL, when: { performance: { metric: 'accuracy', below: 0.7, min_samples: 100 } } },
    { id: 'n', model: MODEL, when: { min_labels: { count: 1000 } } },
  ]);
  const realized = (value: number | null, n: number) => [
    { metric: 'accuracy', value, nLabeled: n, nTotal: 200 },
    { metric: 'label_coverage', value: n / 200, nLabeled: n, nTotal: 200 },
    { metric: 'log_loss', value: 1, nLabeled: n, nTotal: 200 }, // a metric no policy names: not re-read
  ];
  let state: PolicyState = { policies, triggers: {} };

  beforeAll(async () => {
    await seedWindows(
      db.ch,
      [0, 1, 2, 3].map((i) => ({
        model: MODEL,
        ...windowAt(T0, W, i),
        severities: CALM,
        performance: realized(0.5, 5).map((r) => ({ ...r, kind: 'realized' as const, isFinal: false })),
        computedAt: T0 + 50 * W,
      })),
    );
  });

  it('closes windows with provisional realized rows, then re-reads only those still waiting for labels', async () => {
    const first = await fetchWindowResults(db.ch, { selection: selectWindows(policies, {}, [MODEL], T0 - 1), settledBefore: NOW, limit: 100 });
    expect(first.map((w) => [w.windowStart - T0, w.labelsOnly, w.labelsFinal, w.labeledCount])).toEqual([
      [0, false, false, 5],
      [W, false, false, 5],
      [2 * W, false, false, 5],
      [3 * W, false, false, 5],
    ]);
    const out = evaluate(state, first, NOW);
    // min_labels decides at each close; the realized condition waits for labels.
    expect(out.decisions.map((d) => `${d.policyId}/${d.detail.clock}`)).toEqual(['n/close', 'n/close', 'n/close', 'n/close']);
    state = out.state;

    // Late labels: window 0 has enough, window 1 some; window 0's rows are rewritten twice.
    await rewritePerformance(db.ch, { model: MODEL, ...windowAt(T0, W, 0) }, realized(0.55, 90), false, T0 + 60 * W);
    await rewritePerformance(db.ch, { model: MODEL, ...windowAt(T0, W, 0) }, realized(0.6, 150), false, T0 + 61 * W);
    await rewritePerformance(db.ch, { model: MODEL, ...windowAt(T0, W, 1) }, realized(0.6, 40), false, T0 + 61 * W);
    const sel = selectWindows(policies, state.triggers, [MODEL], T0 - 1);
    const again = await fetchWindowResults(db.ch, { selection: sel, settledBefore: NOW, limit: 100 });
    // No new summary: only labels-only results, with the current rows of the metrics policies name.
    expect(again.map((w) => [w.windowStart - T0, w.labelsOnly, w.labeledCount])).toEqual([
      [0, true, 150],
      [W, true, 40],
      [2 * W, true, 5],
      [3 * W, true, 5],
    ]);
    expect(again[0]!.performance.map((p) => [p.metric, p.value]).sort()).toEqual([
      ['accuracy', 0.6],
      ['label_coverage', 0.75],
    ]);
    const next = evaluate(state, again, NOW);
    expect(next.decisions.map((d) => [d.policyId, d.windowStart - T0, d.detail.clock, d.reason])).toEqual([['acc', 0, 'labels', 'condition_met']]);
    state = next.state;

    // Window 0 is out of the re-read range now; windows 1-3 turn final.
    for (const i of [1, 2, 3]) await rewritePerformance(db.ch, { model: MODEL, ...windowAt(T0, W, i) }, realized(0.9, 180), true, T0 + 62 * W);
    const final = await fetchWindowResults(db.ch, { selection: selectWindows(policies, state.triggers, [MODEL], T0 - 1), settledBefore: NOW, limit: 100 });
    expect(final.map((w) => [w.windowStart - T0, w.labelsFinal])).toEqual([
      [W, true],
      [2 * W, true],
      [3 * W, true],
    ]);
  });

  it('sums the current labeled samples of the windows since the last retrain for min_labels', async () => {
    const sel = selectWindows(policies, state.triggers, [MODEL], T0 - 1);
    expect(sel.labelCounts).toEqual([{ policyId: 'n', modelName: MODEL, modelVersion: '1', from: T0, through: T0 + 4 * W }]);
    const totals = await fetchLabelTotals(db.ch, sel.labelCounts);
    // window 0: 150, windows 1-3: 180 each (rewritten after they closed with 5 each)
    expect(totals).toEqual([{ ...sel.labelCounts[0], labeled: 150 + 3 * 180 }]);
    const narrower = await fetchLabelTotals(db.ch, [
      { ...sel.labelCounts[0]!, from: T0 + 2 * W },
      { ...sel.labelCounts[0]!, modelVersion: 'absent' },
    ]);
    expect(narrower.map((t) => t.labeled)).toEqual([360, 0]);
  });

  it('restores the state of the latest step, also when it looked at an older window than the steps before it', async () => {
    const M2 = 'late-restore';
    const mixed = parsePolicies([
      { id: 'mixed', model: M2, when: { any_of: [{ drift: { min_features: 2 } }, { performance: { metric: 'accuracy', below: 0.7, min_samples: 100 } }] } },
    ]);
    const key = stateKey('mixed', M2, '1');
    await seedWindows(
      db.ch,
      [0, 1, 2, 3].map((i) => ({
        model: M2,
        ...windowAt(T0, W, i),
        severities: CALM,
        performance: realized(0.5, 5).map((r) => ({ ...r, kind: 'realized' as const, isFinal: false })),
        computedAt: T0 + 50 * W,
      })),
    );
    const read = (st: PolicyState) => fetchWindowResults(db.ch, { selection: selectWindows(mixed, st.triggers, [M2], T0 - 1), settledBefore: NOW, limit: 100 });
    // Poll 1: four close steps (the labels are not in).
    const closes = evaluate({ policies: mixed, triggers: {} }, await read({ policies: mixed, triggers: {} }), NOW);
    expect(closes.decisions.map((d) => `${(d.windowStart - T0) / W}/${d.detail.clock}`)).toEqual(['0/close', '1/close', '2/close', '3/close']);
    await recordEvaluation(db.ch, closes);
    // Poll 2: the labels of windows 0 and 1 are in: two label steps on windows older than window 3.
    for (const i of [0, 1]) await rewritePerformance(db.ch, { model: M2, ...windowAt(T0, W, i) }, realized(0.5, 150), false, T0 + 60 * W);
    const later = await read(closes.state);
    const labels = evaluate(closes.state, later, NOW + 1);
    expect(labels.decisions.map((d) => `${(d.windowStart - T0) / W}/${d.detail.clock}/${d.decision}`)).toEqual(['0/labels/fired', '1/labels/suppressed']);
    await recordEvaluation(db.ch, labels);
    // The latest step by number wins over the latest window (window 3's close step).
    const restored = await restoreTriggerStates(db.ch, ['mixed'], [M2]);
    expect(restored[key]).toEqual(labels.state.triggers[key]);
    expect(restored[key]).toMatchObject({ seq: 6, labelWindowEnd: T0 + 2 * W, lastWindowEnd: T0 + 4 * W });
    // Resuming from it, nothing is evaluated twice.
    const resumed = evaluate({ policies: mixed, triggers: restored }, await read({ policies: mixed, triggers: restored }), NOW + 2);
    expect(resumed.decisions).toEqual([]);
    expect(resumed.retrainEvents).toEqual([]);
  });
});
