/**
 * Pins the documented false-alarm rate of the default drift configuration on the stationary seeded
 * stream (docs/windows.md, "False alarms"): at 1500 events per window, <= 1 % of feature-windows.
 */
import { describe, expect, it } from 'vitest';
import { evaluatePredictionWindow } from '../../../stream-processors/window-metrics/evaluate.js';
import { applyPrediction, createPartitionState, mergePredictionPartials, type PredictionPartial } from '../../../stream-processors/window-metrics/state.js';
import { generateStream } from '../../support/window-stream.js';
import { envWith, monitoring, profileEntry } from './fixtures.js';

describe('false-alarm rate on a stationary stream', () => {
  it('flags at most 1 % of feature-windows at 1500 events per window', () => {
    const profile = profileEntry(101, 5000);
    const windows = 60;
    const events = generateStream({
      seed: 33,
      model: 'm',
      version: 'v1',
      start: 0,
      windowMs: 10_000,
      eventsPerWindow: 1500,
      labelDelayMs: 5_000,
      phases: [{ name: 's', windows }],
    });
    const st = createPartitionState('t', 0, 'predictions');
    for (const e of events) applyPrediction(st, e.prediction, envWith(profile), () => profile);
    let tests = 0;
    let alarms = 0;
    for (const p of st.partials.values()) {
      const rows = evaluatePredictionWindow(
        { model: 'm', version: 'v1', windowStart: p.windowStart, windowEnd: p.windowStart + 10_000, computedAt: 0 },
        mergePredictionPartials([p as PredictionPartial]),
        profile,
        monitoring,
      );
      for (const r of rows.drift.filter((d) => d.segment === '' && d.feature !== '__prediction__')) {
        tests++;
        alarms += r.drift;
      }
    }
    expect(tests).toBe(windows * 6);
    expect(alarms / tests).toBeLessThanOrEqual(0.01);
  }, 60_000);
});
