/**
 * The joiner's progress stamp (LabeledPrediction.join_watermark) against its consumer: whatever order
 * the two inputs arrive in, folding the joiner's output into a window-metrics partition state in
 * emission order finds no record late. Also shows what the stamp fixed: the same output judged by
 * the records' own times (outcome_time when LABELED) counts expirations late when the outcomes input
 * runs ahead of the predictions input.
 */
import { describe, expect, it } from 'vitest';
import type { LabeledPrediction } from '../../../lib/contracts/schemas.js';
import { mulberry32 } from '../../../lib/stats/random.js';
import { JoinCore, type JoinInput, type JoinSettings } from '../../../stream-processors/label-joiner/core.js';
import { applyLabeled, createPartitionState } from '../../../stream-processors/window-metrics/state.js';
import { heartbeatPrediction } from '../../support/window-stream.js';
import { envWith } from '../window-metrics/fixtures.js';

// The same label delay and watermark delay as the window-metrics fixture's timing.
const S: JoinSettings = {
  maxLabelDelayMs: 20_000,
  watermarkDelayMs: 1_000,
  idleTimeoutMs: 3_600_000,
  closedRetentionMs: 5_000,
  maxPending: 100_000,
  maxOutcomes: 100_000,
  maxClosed: 100_000,
};

interface Timed {
  readonly t: number;
  readonly input: JoinInput;
}

function dataset(seed: number, n: number): { predictions: Timed[]; outcomes: Timed[] } {
  const rng = mulberry32(seed);
  const predictions: Timed[] = [];
  const outcomes: Timed[] = [];
  for (let i = 0; i < n; i++) {
    const t = i * 50 + Math.floor(rng() * 50);
    const id = `p${i}`;
    predictions.push({
      t,
      input: {
        type: 'prediction',
        // A bare prediction (no features): only ids and times matter to the join's timing.
        event: { ...heartbeatPrediction(t, i), event_id: `e-${id}`, prediction_id: id, model_name: 'm', model_version: '1', score: rng() },
      },
    });
    if (rng() < 0.7) {
      const ot = t + Math.floor(rng() * 19_000);
      outcomes.push({
        t: ot,
        input: {
          type: 'outcome',
          event: { event_id: `o-${id}`, prediction_id: id, model_name: 'm', outcome_time: ot, label: '1', target_value: null, business: {} },
        },
      });
    }
  }
  outcomes.sort((a, b) => a.t - b.t);
  return { predictions, outcomes };
}

/** Feeds both inputs in alternating batches, the outcomes input `leadMs` of event time ahead. */
function joinedOutput(seed: number, leadMs: number, batchMs: number): LabeledPrediction[] {
  const { predictions, outcomes } = dataset(seed, 4000);
  const core = new JoinCore(S, 0);
  const out: LabeledPrediction[] = [];
  const end = predictions[predictions.length - 1]!.t + 200_000;
  let pi = 0;
  let oi = 0;
  const closer = (t: number): JoinInput[] => [
    { type: 'prediction', event: { ...(predictions[0]!.input.event as object), event_id: `hb-${t}`, prediction_id: `hb-${t}`, event_time: t } as never },
    {
      type: 'outcome',
      event: { event_id: `hbo-${t}`, prediction_id: `hb-${t}`, model_name: 'm', outcome_time: t, label: null, target_value: null, business: {} },
    },
  ];
  const feed = (i: JoinInput) => {
    for (const o of core.step(i, 0)) if (o.type === 'emit') out.push(o.record);
  };
  for (let upTo = batchMs; pi < predictions.length || oi < outcomes.length; upTo += batchMs) {
    while (oi < outcomes.length && outcomes[oi]!.t < upTo + leadMs) feed(outcomes[oi++]!.input);
    while (pi < predictions.length && predictions[pi]!.t < upTo) feed(predictions[pi++]!.input);
  }
  for (const i of [...closer(end), ...closer(end + 50_000)]) feed(i);
  return out;
}

function lateCount(records: readonly LabeledPrediction[]): { late: number; added: number } {
  const st = createPartitionState('labeled', 0, 'labeled');
  const env = envWith(null);
  let added = 0;
  records.forEach((r, i) => {
    if (applyLabeled(st, r, env, i).kind === 'added') added++;
  });
  return { late: st.lateEvents, added };
}

describe('join_watermark stamp', () => {
  for (const [leadMs, batchMs] of [
    [0, 1_000],
    [15_000, 2_000],
    [18_000, 10_000],
  ] as const) {
    it(`no joiner output is late downstream (outcomes ${leadMs} ms ahead, ${batchMs} ms batches)`, () => {
      const records = joinedOutput(7, leadMs, batchMs);
      expect(records.length).toBeGreaterThan(4000);
      // Stamped with at most the prediction's deadline; unstamped only before the partition has a
      // watermark (both inputs seen), i.e. the first join of a fresh partition.
      const stamped = records.filter((r) => r.join_watermark !== null);
      expect(records.length - stamped.length).toBeLessThanOrEqual(1);
      expect(stamped.filter((r) => r.join_watermark! > r.prediction_time + S.maxLabelDelayMs)).toEqual([]);
      const { late, added } = lateCount(records);
      expect(late).toBe(0);
      expect(added).toBe(records.length);
    });
  }

  it('judged by the records own times instead, expirations come out late when outcomes run ahead', () => {
    const records = joinedOutput(7, 18_000, 10_000).map((r) => ({ ...r, join_watermark: null }));
    expect(lateCount(records).late).toBeGreaterThan(0);
  });
});
