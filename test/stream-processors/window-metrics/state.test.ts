import { describe, expect, it } from 'vitest';
import { evaluatePerformanceWindow, evaluatePredictionWindow } from '../../../stream-processors/window-metrics/evaluate.js';
import {
  applyLabeled,
  applyPrediction,
  capSegments,
  closedPartialKeys,
  countsOf,
  evictClosed,
  HEARTBEAT_MODEL,
  labeledIdentity,
  createPartitionState,
  mergeCounts,
  mergeLabeledPartials,
  mergePredictionPartials,
  segmentKeys,
  type LabeledPartial,
  type PartitionState,
  type PredictionPartial,
} from '../../../stream-processors/window-metrics/state.js';
import { mulberry32 } from '../../../lib/stats/random.js';
import { generateStream, heartbeatPrediction, labeledInEmissionOrder } from '../../support/window-stream.js';
import { envWith, monitoring, profileEntry, timing } from './fixtures.js';

const profile = profileEntry();
const byVersion = () => profile;

/** One labeled event of model m v1 in the window [0, 10 s). */
function oneEvent(seed: number) {
  return generateStream({
    seed,
    model: 'm',
    version: 'v1',
    start: 0,
    windowMs: 10_000,
    eventsPerWindow: 1,
    labelDelayMs: 1000,
    phases: [{ name: 's', windows: 1 }],
    unlabeledShare: 0,
  })[0]!;
}

describe('partition state (pure core)', () => {
  it('folds predictions into segments; shadow predictions count but do not drift', () => {
    const st = createPartitionState('t', 0, 'predictions');
    const [e] = generateStream({
      seed: 1,
      model: 'm',
      version: 'v1',
      start: 0,
      windowMs: 10_000,
      eventsPerWindow: 1,
      labelDelayMs: 1000,
      phases: [{ name: 's', windows: 1 }],
      regions: ['north'],
    });
    applyPrediction(st, e!.prediction, envWith(profile), byVersion);
    applyPrediction(st, { ...e!.prediction, is_shadow: true }, envWith(profile), byVersion);
    const p = [...st.partials.values()][0] as PredictionPartial;
    expect(Object.keys(p.segments)).toEqual(['', 'region=north']);
    expect(p.segments['']!.champion).toBe(1);
    expect(p.segments['']!.shadow).toBe(1);
    expect(p.segments['']!.drift!.rowCount).toBe(1);
    expect(p.segments['']!.cbpe[0]!.n).toBe(1);
    expect(p.segments['']!.cbpe[1]!.n).toBe(1);
    expect(p.profileVersion).toBe(1);
  });

  it('counts late events instead of adding them, per partition watermark', () => {
    const st = createPartitionState('t', 0, 'predictions');
    const env = envWith(profile);
    const [e] = generateStream({
      seed: 1,
      model: 'm',
      version: 'v1',
      start: 0,
      windowMs: 10_000,
      eventsPerWindow: 1,
      labelDelayMs: 1000,
      phases: [{ name: 's', windows: 1 }],
    });
    expect(applyPrediction(st, { ...e!.prediction, event_time: 5_000 }, env, byVersion).kind).toBe('added');
    // watermark 10 999 < close time 11 000 of window 0: still accepted
    expect(applyPrediction(st, { ...e!.prediction, event_time: 10_999 }, env, byVersion).kind).toBe('added');
    expect(applyPrediction(st, { ...e!.prediction, event_time: 2_000 }, env, byVersion).kind).toBe('added');
    // a heartbeat moves the watermark to 11 000: window 0 is closed in this partition
    expect(applyPrediction(st, heartbeatPrediction(11_000, 0), env, byVersion).kind).toBe('heartbeat');
    expect(applyPrediction(st, { ...e!.prediction, event_time: 9_000 }, env, byVersion).kind).toBe('late');
    expect(st.lateEvents).toBe(1);
    expect(closedPartialKeys(st, timing)).toHaveLength(1);
  });

  it('labeled progress time is the outcome time, or the expiry for unlabeled predictions', () => {
    const st = createPartitionState('t', 0, 'labeled');
    const e = oneEvent(2);
    applyLabeled(st, { ...e!.labeled, outcome_time: 7_000 }, envWith(profile));
    expect(st.watermark).toBe(7_000);
    applyLabeled(st, { ...e!.labeled, prediction_id: 'other', status: 'UNLABELED', label: null, outcome_time: null }, envWith(profile));
    expect(st.watermark).toBe(e!.labeled.prediction_time + 20_000);
  });

  it("labeled progress time is the joiner's watermark when the record carries it", () => {
    const st = createPartitionState('t', 0, 'labeled');
    const e = oneEvent(3);
    // A LABELED record whose outcome is far ahead of the joiner's watermark: the watermark, not the
    // outcome time, is how far the joiner's output has progressed.
    applyLabeled(st, { ...e!.labeled, outcome_time: 900_000, join_watermark: 4_000 }, envWith(profile));
    expect(st.watermark).toBe(4_000);
    // An expiry the joiner emits later, for a prediction of the same window: on time, not late.
    const res = applyLabeled(
      st,
      { ...e!.labeled, prediction_id: 'exp', status: 'UNLABELED', label: null, outcome_time: null, join_watermark: 5_000 },
      envWith(profile),
    );
    expect(res.kind).toBe('added');
    expect(st.lateEvents).toBe(0);
  });

  it('folds a redelivered labeled prediction once, and keeps its identity until the window closes', () => {
    const st = createPartitionState('t', 0, 'labeled');
    const env = envWith(profile);
    const e = oneEvent(4);
    const rec = { ...e!.labeled, join_watermark: 1_000 };
    const first = applyLabeled(st, rec, env, 10);
    expect(first.kind).toBe('added');
    expect(applyLabeled(st, rec, env, 11)).toEqual({ kind: 'duplicate' });
    // The shadow twin of the same prediction is another identity.
    expect(applyLabeled(st, { ...rec, is_shadow: true }, env, 12).kind).toBe('added');
    const key = (first as { key: string }).key;
    const all = (st.partials.get(key) as LabeledPartial).segments['']!;
    expect(all.perf[0]!.total).toBe(1);
    expect(all.perf[1]!.total).toBe(1);
    // What the adapter persists: each identity once, with the offset of the record that added it.
    expect(st.seenAdded).toEqual([
      { key, identity: labeledIdentity(rec), offset: 10 },
      { key, identity: labeledIdentity({ ...rec, is_shadow: true }), offset: 12 },
    ]);
    // Closing the window forgets the partial and its identities.
    applyLabeled(st, { ...rec, prediction_id: 'hb', model_name: HEARTBEAT_MODEL, join_watermark: 10_000_000 }, env);
    expect(evictClosed(st, timing)).toBe(1);
    expect(st.partials.size).toBe(0);
    expect(st.seen.size).toBe(0);
  });

  it('derives segment keys from configured slice keys only', () => {
    expect(segmentKeys({ region: 'eu', device: 'ios', other: 'x' }, ['region', 'device'])).toEqual(['', 'region=eu', 'device=ios']);
    expect(segmentKeys(undefined, ['region'])).toEqual(['']);
    expect(segmentKeys({ region: '' }, ['region'])).toEqual(['']);
  });

  it('any split of a window across partitions evaluates to exactly the rows of one partition', () => {
    const events = generateStream({
      seed: 9,
      model: 'm',
      version: 'v1',
      start: 0,
      windowMs: 10_000,
      eventsPerWindow: 1500,
      labelDelayMs: 5_000,
      phases: [{ name: 's', windows: 1 }],
      regions: ['north', 'south', 'east'],
    });
    const env = envWith(profile);
    const rng = mulberry32(4);
    const one = createPartitionState('p', 0, 'predictions');
    const split = [0, 1, 2].map((i) => createPartitionState('p', i, 'predictions'));
    const oneL = createPartitionState('l', 0, 'labeled');
    const splitL = [0, 1, 2].map((i) => createPartitionState('l', i, 'labeled'));
    for (const e of events) {
      applyPrediction(one, e.prediction, env, byVersion);
      applyPrediction(split[Math.floor(rng() * 3)]!, e.prediction, env, byVersion);
    }
    for (const l of labeledInEmissionOrder(events, 5_000)) {
      applyLabeled(oneL, l, env);
      applyLabeled(splitL[Math.floor(rng() * 3)]!, l, env);
    }
    const w = { model: 'm', version: 'v1', windowStart: 0, windowEnd: 10_000, computedAt: 123 };
    const preds = (sts: PartitionState[]) => sts.flatMap((s) => [...s.partials.values()] as PredictionPartial[]);
    const labs = (sts: PartitionState[]) => sts.flatMap((s) => [...s.partials.values()] as LabeledPartial[]);
    const rowsOne = evaluatePredictionWindow(w, mergePredictionPartials(preds([one])), profile, monitoring);
    const rowsSplit = evaluatePredictionWindow(w, mergePredictionPartials(preds(split).reverse()), profile, monitoring);
    expect(rowsOne.drift.length).toBeGreaterThan(20);
    expect(JSON.stringify(rowsSplit)).toBe(JSON.stringify(rowsOne));
    const counts = (sts: PartitionState[]) => mergeCounts(preds(sts).map(countsOf));
    const perfOne = evaluatePerformanceWindow(w, mergeLabeledPartials(labs([oneL])), counts([one]), profile, monitoring, true);
    const perfSplit = evaluatePerformanceWindow(w, mergeLabeledPartials(labs(splitL)), counts(split), profile, monitoring, true);
    expect(perfOne.performance.length).toBeGreaterThan(20);
    expect(JSON.stringify(perfSplit)).toBe(JSON.stringify(perfOne));
  });

  it('uses the profile covering most rows when partials were built with different profiles', () => {
    const p1: PredictionPartial = {
      source: 'predictions',
      model: 'm',
      version: 'v',
      windowStart: 0,
      profileVersion: 1,
      segments: { '': { champion: 10, shadow: 0, drift: null, prediction: null, quality: null, cbpe: [null, null], kpis: {} } },
    };
    const p2: PredictionPartial = { ...p1, profileVersion: 2, segments: { '': { ...p1.segments['']!, champion: 30 } } };
    const m = mergePredictionPartials([p1, p2]);
    expect(m.profileVersion).toBe(2);
    expect(m.profileStatus).toBe('mixed_profiles');
    expect(m.counts['']).toEqual([40, 0]);
    expect(mergePredictionPartials([{ ...p1, profileVersion: 0 }]).profileStatus).toBe('no_reference');
  });

  it('caps segment values: the largest keep their rows, the rest merge into key=__other__', () => {
    const segs: Record<string, number> = { '': 100, 'region=a': 50, 'region=b': 30, 'region=c': 15, 'region=d': 5 };
    const { segments, otherOf } = capSegments(
      segs,
      2,
      (x) => x,
      (a, b) => a + b,
    );
    expect(segments).toEqual({ '': 100, 'region=__other__': 20, 'region=a': 50, 'region=b': 30 });
    expect(otherOf.get('region=d')).toBe('region=__other__');
  });
});
