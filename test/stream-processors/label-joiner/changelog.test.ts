import { describe, expect, it } from 'vitest';
import {
  formatKeyRecord,
  formatWatermark,
  parseKeyRecord,
  parseWatermark,
  WATERMARK_KEY,
  type SlotRecord,
} from '../../../stream-processors/label-joiner/changelog.js';

const pending: SlotRecord = {
  k: 'P',
  t: 1_000,
  h: 123,
  m: 'churn',
  r: '3',
  x: true,
  p: { features: { a: 1, b: 'x', c: null, d: false }, score: 0.5, probabilities: {}, predicted_label: null, predicted_value: null, segment: {} },
};
const outcome: SlotRecord = {
  k: 'O',
  t: 2_000,
  u: 1,
  o: { event_id: 'o1', prediction_id: 'k', model_name: 'churn', outcome_time: 2_000, label: '1', target_value: null, business: { revenue: 2 } },
};

describe('label-joiner changelog records', () => {
  it('round-trip every slot kind and the watermark record', () => {
    const slots: SlotRecord[] = [
      pending,
      { k: 'L', t: 1, d: 9, h: 5, m: 'm', r: 'v', x: false, e: 'o9' },
      { k: 'U', t: 1, d: 9, h: 5, m: 'm', r: 'v', x: false },
      outcome,
    ];
    expect(parseKeyRecord('k', formatKeyRecord(slots))).toEqual({ v: 1, s: slots });
    const w = { mp: 10, mo: null, w: null, o: { predictions: 7, outcomes: 0 } };
    expect(parseWatermark(formatWatermark(w))).toEqual(w);
  });

  it('reads a watermark record without positions (nothing applied yet)', () => {
    expect(parseWatermark('{"v":1,"mp":null,"mo":null,"w":null}')).toEqual({ mp: null, mo: null, w: null, o: {} });
  });

  it.each([
    ['not JSON', '{'],
    ['a future format', '{"v":2,"s":[]}'],
    ['no slot list', '{"v":1}'],
    ['a slot without time', '{"v":1,"s":[{"k":"P"}]}'],
    ['a pending slot without fields', '{"v":1,"s":[{"k":"P","t":1,"h":1,"m":"m","r":"v","x":false}]}'],
    ['a labeled slot without outcome id', '{"v":1,"s":[{"k":"L","t":1,"d":2,"h":1,"m":"m","r":"v","x":false}]}'],
    ['an outcome slot with a bad use flag', '{"v":1,"s":[{"k":"O","t":1,"u":7,"o":{"event_id":"e"}}]}'],
    ['an unknown kind', '{"v":1,"s":[{"k":"Q","t":1}]}'],
  ])('rejects %s with DW_JOIN_STATE_CORRUPT naming the key', (_what, text) => {
    expect(() => parseKeyRecord('the-key', text)).toThrow(expect.objectContaining({ code: 'DW_JOIN_STATE_CORRUPT', details: { key: 'the-key' } }));
  });

  it('rejects bad positions in the watermark record', () => {
    expect(() => parseWatermark('{"v":1,"mp":null,"mo":null,"w":null,"o":{"predictions":-1}}')).toThrow(
      expect.objectContaining({ code: 'DW_JOIN_STATE_CORRUPT', details: { key: WATERMARK_KEY } }),
    );
  });
});
