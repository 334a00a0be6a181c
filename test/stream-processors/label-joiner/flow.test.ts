import { describe, expect, it } from 'vitest';
import { HIGH_WATER, LOW_WATER, outcomesPaused, type FlowState } from '../../../stream-processors/label-joiner/flow.js';

const base: FlowState = { waitingOutcomes: 0, maxOutcomes: 1000, maxPredictionTime: 1_000, maxOutcomeTime: 5_000, predictionsIdle: false };

describe('label-joiner flow control (outcomes ahead of predictions)', () => {
  it('pauses the outcomes input once the waiting outcomes reach the high-water mark while outcomes run ahead', () => {
    expect(outcomesPaused({ ...base, waitingOutcomes: HIGH_WATER * 1000 - 1 }, false)).toBe(false);
    expect(outcomesPaused({ ...base, waitingOutcomes: HIGH_WATER * 1000 }, false)).toBe(true);
  });

  it('stays paused down to the low-water mark (hysteresis), then resumes', () => {
    expect(outcomesPaused({ ...base, waitingOutcomes: LOW_WATER * 1000 + 1 }, true)).toBe(true);
    expect(outcomesPaused({ ...base, waitingOutcomes: LOW_WATER * 1000 }, true)).toBe(false);
  });

  it('never pauses, and resumes, when the predictions are not behind in event time', () => {
    const caughtUp = { ...base, waitingOutcomes: 900, maxPredictionTime: 5_000 };
    expect(outcomesPaused(caughtUp, false)).toBe(false);
    expect(outcomesPaused(caughtUp, true)).toBe(false);
  });

  it('resumes when the predictions input is idle: nothing more would release the buffer', () => {
    const idle = { ...base, waitingOutcomes: 900, predictionsIdle: true };
    expect(outcomesPaused(idle, false)).toBe(false);
    expect(outcomesPaused(idle, true)).toBe(false);
  });

  it('does not pause before the predictions input delivered anything only if it is idle', () => {
    // No prediction yet (-Infinity) but the input is young: outcomes are ahead and may wait for it.
    expect(outcomesPaused({ ...base, waitingOutcomes: 600, maxPredictionTime: -Infinity }, false)).toBe(true);
    expect(outcomesPaused({ ...base, waitingOutcomes: 600, maxPredictionTime: -Infinity, predictionsIdle: true }, false)).toBe(false);
  });
});
