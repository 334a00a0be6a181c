import { describe, expect, it } from 'vitest';
import { decodePartial, encodePartial } from '../../../stream-processors/window-metrics/codec.js';
import { applyLabeled, applyPrediction, createPartitionState, type PredictionPartial } from '../../../stream-processors/window-metrics/state.js';
import type { NumericFeatureSummary } from '../../../lib/stats/profile/types.js';
import { generateStream } from '../../support/window-stream.js';
import { envWith, profileEntry } from './fixtures.js';

describe('checkpoint codec', () => {
  const profile = profileEntry();
  const events = generateStream({
    seed: 3,
    model: 'm',
    version: 'v1',
    start: 0,
    windowMs: 10_000,
    eventsPerWindow: 300,
    labelDelayMs: 5_000,
    phases: [{ name: 's', windows: 1 }],
    regions: ['north'],
  });

  it('round-trips a prediction partial exactly, without repeating the profile', () => {
    const st = createPartitionState('t', 0, 'predictions');
    for (const e of events) applyPrediction(st, e.prediction, envWith(profile), () => profile);
    const p = [...st.partials.values()][0]!;
    const json = encodePartial(p);
    expect(json.length).toBeLessThan(JSON.stringify(p).length / 2);
    expect(decodePartial(json, () => profile)).toEqual(p);
  });

  it('still decodes checkpoints of the earlier JSON bin layout', () => {
    const st = createPartitionState('t', 0, 'predictions');
    for (const e of events.slice(0, 50)) applyPrediction(st, e.prediction, envWith(profile), () => profile);
    const p = [...st.partials.values()][0]! as PredictionPartial;
    const legacy = JSON.parse(encodePartial(p));
    for (const [seg, s] of Object.entries(legacy.segments as Record<string, { drift: { features: Record<string, Record<string, unknown>> } }>)) {
      for (const [name, f] of Object.entries(s.drift.features)) {
        if (f.kind !== 'numeric') continue;
        const orig = p.segments[seg]!.drift!.features[name] as NumericFeatureSummary;
        f.bins = orig.counts.flatMap((c, i) => (c > 0 ? [[i, c, orig.binMin[i], orig.binMax[i]]] : []));
        delete f.nBins;
      }
    }
    expect(decodePartial(JSON.stringify(legacy), () => profile)).toEqual(p);
  });

  it('round-trips a labeled partial and refuses a checkpoint whose profile is gone', () => {
    const st = createPartitionState('t', 0, 'labeled');
    for (const e of events) applyLabeled(st, e.labeled, envWith(profile));
    const p = [...st.partials.values()][0]!;
    expect(decodePartial(encodePartial(p), () => null)).toEqual(p);
    const pst = createPartitionState('t', 0, 'predictions');
    applyPrediction(pst, events[0]!.prediction, envWith(profile), () => profile);
    expect(() => decodePartial(encodePartial([...pst.partials.values()][0]!), () => null)).toThrow(/not available/);
  });
});
