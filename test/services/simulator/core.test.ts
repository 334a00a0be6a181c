import { describe, expect, it } from 'vitest';
import { createSimulatorState, drawDelay, simulatedNow, simulationStart, tick } from '../../../services/simulator/core.js';
import { SCENARIOS, loadScenario, phaseAt, validateScenario } from '../../../services/simulator/scenario.js';
import { mulberry32, normalSampler } from '../../../lib/stats/random.js';
import { PolicyInvalidError } from '../../../lib/runtime/errors.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function run(scenarioName: string, hours: number, perHour: number, seed = 7) {
  const state = createSimulatorState(SCENARIOS[scenarioName]!, seed, T0);
  const features = [];
  const outcomes = [];
  for (let h = 0; h < hours; h++) {
    const out = tick(state, T0 + h * HOUR, T0 + (h + 1) * HOUR, perHour);
    features.push(...out.features);
    outcomes.push(...out.outcomes);
  }
  return { state, features, outcomes };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('simulator core', () => {
  it('is deterministic for a seed and spreads event times inside the tick', () => {
    const a = run('stationary', 2, 500);
    const b = run('stationary', 2, 500);
    expect(a.features).toEqual(b.features);
    expect(a.features.every((f) => f.event_time >= T0 && f.event_time < T0 + 2 * HOUR)).toBe(true);
    expect(new Set(a.features.map((f) => f.prediction_id)).size).toBe(1000);
    expect(new Set(a.features.map((f) => f.model_name))).toEqual(new Set(['credit-risk', 'delivery-eta']));
  });

  it('releases each outcome after its prediction, by the delay distribution, and never sends some', () => {
    const { state, features, outcomes } = run('stationary', 12, 1000);
    const byId = new Map(features.map((f) => [f.prediction_id!, f]));
    for (const o of outcomes) expect(o.outcome_time).toBeGreaterThanOrEqual(byId.get(o.prediction_id)!.event_time);
    const never = state.emitted.labelsNeverSent / features.length;
    expect(never).toBeGreaterThan(0.03);
    expect(never).toBeLessThan(0.07);
    // lognormal median 20 min: about half the delays are under 20 minutes.
    const delays = outcomes.map((o) => o.outcome_time - byId.get(o.prediction_id)!.event_time);
    const under = delays.filter((d) => d < 20 * 60_000).length / delays.length;
    expect(under).toBeGreaterThan(0.45);
    expect(under).toBeLessThan(0.55);
    expect(outcomes.every((o) => (o.model_name === 'credit-risk' ? o.label !== null : o.target_value !== null))).toBe(true);
  });

  it('covariate scenario shifts the feature distribution after the stationary phase, not before', () => {
    const { features } = run('covariate', 4, 2000);
    const income = (from: number, to: number) =>
      mean(features.filter((f) => f.model_name === 'credit-risk' && f.event_time >= from && f.event_time < to).map((f) => f.features.income as number));
    const before = income(T0, T0 + 2 * HOUR);
    const after = income(T0 + 2 * HOUR, T0 + 4 * HOUR);
    expect(after / before).toBeGreaterThan(0.55);
    expect(after / before).toBeLessThan(0.65);
  });

  it('prior shift moves the positive rate to the target and keeps features per class', () => {
    const { features, outcomes } = run('prior', 4, 4000);
    const labelOf = new Map(outcomes.map((o) => [o.prediction_id, o.label]));
    const timeOf = new Map(features.map((f) => [f.prediction_id!, f.event_time]));
    const rate = (from: number, to: number) => {
      const ls = outcomes
        .filter((o) => o.model_name === 'credit-risk' && timeOf.get(o.prediction_id)! >= from && timeOf.get(o.prediction_id)! < to)
        .map((o) => (o.label === '1' ? 1 : 0));
      return mean(ls);
    };
    expect(rate(T0, T0 + 2 * HOUR)).toBeLessThan(0.3);
    expect(rate(T0 + 2 * HOUR, T0 + 4 * HOUR)).toBeGreaterThan(0.38);
    expect(labelOf.size).toBeGreaterThan(0);
  });

  it('broken upstream scenario reports income in thousands and drops values', () => {
    const { features } = run('broken', 4, 2000);
    const late = features.filter((f) => f.model_name === 'credit-risk' && f.event_time >= T0 + 2 * HOUR);
    const nulls = late.filter((f) => f.features.income === null).length / late.length;
    expect(nulls).toBeGreaterThan(0.15);
    expect(mean(late.filter((f) => typeof f.features.income === 'number').map((f) => f.features.income as number))).toBeLessThan(200);
  });

  it('maps wall time to compressed simulated time that never passes the real clock', () => {
    expect(simulatedNow(1_000_000, 1_000_000, 3_600_000, 60)).toBe(1_000_000 - 3_600_000);
    expect(simulatedNow(1_000_000, 1_010_000, 3_600_000, 60)).toBe(1_000_000 - 3_600_000 + 600_000);
    expect(simulatedNow(1_000_000, 1_100_000, 3_600_000, 60)).toBe(1_100_000);
  });

  it('starts event time the lookback before the wall clock, moved back to a window boundary when aligned', () => {
    const wallStart = Date.UTC(2026, 11, 6, 14, 7, 31, 250);
    expect(simulationStart(wallStart, 6 * HOUR)).toBe(Date.UTC(2026, 11, 6, 8, 7, 31, 250));
    expect(simulationStart(wallStart, 6 * HOUR, 15 * 60_000)).toBe(Date.UTC(2026, 11, 6, 8, 0, 0, 0));
    // Already on a boundary: unchanged.
    expect(simulationStart(Date.UTC(2026, 11, 6, 14, 15), HOUR, 15 * 60_000)).toBe(Date.UTC(2026, 11, 6, 13, 15));
  });

  it('draws delays from each distribution', () => {
    const rng = mulberry32(1);
    const normal = normalSampler(rng);
    expect(drawDelay({ kind: 'fixed', ms: 5 }, rng, normal)).toBe(5);
    const exp = Array.from({ length: 20000 }, () => drawDelay({ kind: 'exponential', meanMs: 1000 }, rng, normal));
    expect(mean(exp)).toBeGreaterThan(950);
    expect(mean(exp)).toBeLessThan(1050);
  });
});

describe('scenarios', () => {
  it('finds the phase in force', () => {
    expect(phaseAt(SCENARIOS.concept!, 0).phase.name).toBe('stationary');
    expect(phaseAt(SCENARIOS.concept!, 2 * HOUR + 1).phase.name).toBe('concept-drift');
  });

  it('validates scenario files and lists every problem', () => {
    const s = validateScenario({
      name: 'x',
      phases: [
        { name: 'a', duration: '30m' },
        { duration: '2h', positiveRate: { 'credit-risk': 0.5 } },
      ],
      labelDelay: { kind: 'fixed', ms: '5m' },
    });
    expect(s.phases.map((p) => p.durationMs)).toEqual([1_800_000, 7_200_000]);
    expect(s.labelDelay).toEqual({ kind: 'fixed', ms: 300_000 });
    try {
      validateScenario({ phases: [{ duration: 'soon', positiveRate: { 'credit-risk': 2 } }], missingLabelRate: 3, models: ['nope'] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyInvalidError);
      const msg = (err as Error).message;
      for (const p of ['name: required', 'unknown model nope', 'phases[0].duration', 'positiveRate.credit-risk', 'missingLabelRate']) expect(msg).toContain(p);
    }
    expect(() => loadScenario('nope')).toThrow(/built-in: stationary, covariate, prior, concept, broken/);
  });
});
