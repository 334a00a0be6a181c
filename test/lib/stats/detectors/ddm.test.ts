import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../../lib/runtime/errors.js';
import { DDM } from '../../../../lib/stats/detectors/ddm.js';
import { fixture, streamFromSpec } from '../golden.js';

function run(d: DDM, xs: number[]): { drift: number[]; warning: number[] } {
  const drift: number[] = [];
  const warning: number[] = [];
  xs.forEach((x, i) => {
    d.update(x);
    if (d.driftDetected) drift.push(i);
    if (d.warningDetected) warning.push(i);
  });
  return { drift, warning };
}

describe('DDM (river.drift.binary.DDM port)', () => {
  it.each(['ddm_bits', 'ddm_stationary'])('drift and warning indices equal river on %s', (name) => {
    const xs = streamFromSpec(fixture.detectors.streams[name]);
    expect(run(new DDM(), xs)).toEqual(fixture.detectors.river[`ddm:${name}`]);
  });

  it('pins the drift index: error rate 0.1 -> 0.5 at 1000 detected at 1066', () => {
    expect(run(new DDM(), streamFromSpec(fixture.detectors.streams.ddm_bits)).drift).toEqual([1066]);
  });

  it('accepts booleans and checkpoints exactly', () => {
    const xs = streamFromSpec(fixture.detectors.streams.ddm_bits);
    const a = new DDM();
    xs.slice(0, 1000).forEach((x) => a.update(x === 1));
    const b = DDM.fromState(JSON.parse(JSON.stringify(a.toState())));
    expect(run(b, xs.slice(1000))).toEqual(run(a, xs.slice(1000)));
  });

  it('rejects a warning threshold not below the drift threshold', () => {
    expect(() => new DDM({ warningThreshold: 3, driftThreshold: 2 })).toThrow(ConfigInvalidError);
  });
});
