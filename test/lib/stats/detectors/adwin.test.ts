import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../../lib/runtime/errors.js';
import { Adwin } from '../../../../lib/stats/detectors/adwin.js';
import { fixture, streamFromSpec } from '../golden.js';

function detections(d: Adwin, xs: number[]): number[] {
  const hits: number[] = [];
  xs.forEach((x, i) => {
    if (d.update(x).driftDetected) hits.push(i);
  });
  return hits;
}

describe('Adwin (river.drift.ADWIN port)', () => {
  it.each(['ph_shift', 'ph_down', 'stationary'])('detects at the same indices as river on %s', (name) => {
    const xs = streamFromSpec(fixture.detectors.streams[name]);
    expect(detections(new Adwin(), xs)).toEqual(fixture.detectors.river[`adwin:${name}`].drift);
  });

  it('pins the indices: shift at 1000 detected at 1023 (clock 32), nothing when stationary', () => {
    expect(detections(new Adwin(), streamFromSpec(fixture.detectors.streams.ph_shift))).toEqual([1023]);
    expect(detections(new Adwin(), streamFromSpec(fixture.detectors.streams.stationary))).toEqual([]);
  });

  it('shrinks its window after a change and tracks the new mean', () => {
    const d = new Adwin();
    const xs = streamFromSpec(fixture.detectors.streams.ph_shift);
    xs.slice(0, 1100).forEach((x) => d.update(x));
    expect(d.width).toBeLessThan(200);
    expect(d.estimation).toBeGreaterThan(5);
  });

  it('checkpoints exactly through JSON', () => {
    const xs = streamFromSpec(fixture.detectors.streams.ph_shift);
    const a = new Adwin();
    xs.slice(0, 990).forEach((x) => a.update(x));
    const b = Adwin.fromState(JSON.parse(JSON.stringify(a.toState())));
    const rest = xs.slice(990);
    expect(detections(b, rest)).toEqual(detections(a, rest));
    expect(b.toState()).toEqual(a.toState());
  });

  it('validates delta', () => {
    expect(() => new Adwin({ delta: 0 })).toThrow(ConfigInvalidError);
    expect(() => new Adwin({ delta: 1 })).toThrow(/delta/);
  });
});
