import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../../lib/runtime/errors.js';
import { PageHinkley } from '../../../../lib/stats/detectors/page-hinkley.js';
import { fixture, streamFromSpec } from '../golden.js';

function detections(d: PageHinkley, xs: number[]): number[] {
  const hits: number[] = [];
  xs.forEach((x, i) => {
    if (d.update(x).driftDetected) hits.push(i);
  });
  return hits;
}

describe('PageHinkley (river.drift.PageHinkley port)', () => {
  it.each(['ph_shift', 'ph_down', 'stationary'])('detects at the same indices as river on %s', (name) => {
    const xs = streamFromSpec(fixture.detectors.streams[name]);
    const want = fixture.detectors.river[`ph:${name}`].drift as number[];
    expect(detections(new PageHinkley(), xs)).toEqual(want);
  });

  it('pins the indices (upward shift at 1000 detected at 1006; none when stationary)', () => {
    expect(detections(new PageHinkley(), streamFromSpec(fixture.detectors.streams.ph_shift))).toEqual([1006]);
    expect(detections(new PageHinkley(), streamFromSpec(fixture.detectors.streams.stationary))).toEqual([]);
  });

  it('mode up ignores a downward shift', () => {
    expect(detections(new PageHinkley({ mode: 'up' }), streamFromSpec(fixture.detectors.streams.ph_down))).toEqual([]);
  });

  it('checkpoints: toState/fromState mid-stream gives identical detections', () => {
    const xs = streamFromSpec(fixture.detectors.streams.ph_shift);
    const a = new PageHinkley();
    xs.slice(0, 900).forEach((x) => a.update(x));
    const b = PageHinkley.fromState(JSON.parse(JSON.stringify(a.toState())));
    const rest = xs.slice(900);
    expect(detections(b, rest)).toEqual(detections(a, rest));
  });

  it('validates hyperparameters with a typed error', () => {
    expect(() => new PageHinkley({ alpha: 1.5, threshold: -1 })).toThrow(ConfigInvalidError);
    try {
      new PageHinkley({ alpha: 1.5, threshold: -1 });
    } catch (e) {
      expect((e as ConfigInvalidError).problems).toHaveLength(2);
    }
  });
});
