import { describe, expect, it } from 'vitest';
import { decodeOutcome, decodePending, encodeOutcome, encodePending } from '../../../stream-processors/label-joiner/payload.js';

describe('compact payloads', () => {
  it('round-trip the prediction fields a LabeledPrediction needs, in fewer bytes than JSON', () => {
    const p = {
      features: { income: 52000.5, region: 'north', has_card: true, missing: null, n: 3 },
      score: 0.73,
      probabilities: { '0': 0.27, '1': 0.73 },
      predicted_label: '1',
      predicted_value: null,
      segment: { region: 'north' },
    };
    const s = encodePending(p);
    expect(decodePending(s)).toEqual(p);
    expect(s.length).toBeLessThan(JSON.stringify(p).length * 0.7);
    // A one-byte string: every char code fits a byte, so V8 stores one byte per byte.
    expect([...s].every((c) => c.charCodeAt(0) < 256)).toBe(true);
  });

  it('round-trip an outcome', () => {
    const o = { event_id: 'e', prediction_id: 'p', model_name: 'm', outcome_time: 1_700_000_000_123, label: null, target_value: 3.5, business: { revenue: 1 } };
    expect(decodeOutcome(encodeOutcome(o))).toEqual(o);
  });
});
