/**
 * The simulator's pure core: given a scenario, a seed and a simulated clock, produce the feature
 * events a model service would send and the outcome events its business would report later.
 *
 * - Event time is simulated and compressed: `tick(state, simFrom, simTo, count)` spreads `count`
 *   events over [simFrom, simTo). The adapter maps wall time to simulated time and keeps simulated
 *   time at or behind the real clock, so no event is in the future.
 * - Each feature event carries a prediction_id; its outcome (label, target, business fields) is
 *   scheduled at prediction time + a delay drawn from the scenario's distribution, or never (the
 *   scenario's missing-label rate). Outcomes are released once the simulated clock passes them.
 * - Prior shift uses rejection sampling on the drawn label, which changes P(y) and keeps P(x | y).
 */
import type { FeatureEvent, OutcomeEvent } from '../../lib/contracts/schemas.js';
import { mulberry32, normalSampler, type Rng } from '../../lib/stats/random.js';
import { createFeatureGenerator, type SampleRow } from '../scoring/sample-models/feature-space.js';
import { phaseAt, type DelayDistribution, type Scenario } from './scenario.js';
import { windowStartOf } from '../../stream-processors/window-metrics/windows.js';

export interface PendingOutcome {
  readonly at: number;
  readonly event: OutcomeEvent;
}

export interface SimulatorState {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly startedAt: number;
  sequence: number;
  phaseIndex: number;
  /** Min-heap by `at`. */
  pending: PendingOutcome[];
  generators: Map<string, { phaseIndex: number; next(): SampleRow }>;
  rng: Rng;
  normal: (mean: number, sd: number) => number;
  emitted: { features: number; outcomes: number; labelsNeverSent: number };
}

export function createSimulatorState(scenario: Scenario, seed: number, startedAt: number): SimulatorState {
  const rng = mulberry32(seed);
  return {
    scenario,
    seed,
    startedAt,
    sequence: 0,
    phaseIndex: 0,
    pending: [],
    generators: new Map(),
    rng,
    normal: normalSampler(rng),
    emitted: { features: 0, outcomes: 0, labelsNeverSent: 0 },
  };
}

function heapPush(h: PendingOutcome[], item: PendingOutcome): void {
  h.push(item);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]!.at <= h[i]!.at) break;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function heapPop(h: PendingOutcome[]): PendingOutcome | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last) {
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.at < h[m]!.at) m = l;
      if (r < h.length && h[r]!.at < h[m]!.at) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
  return top;
}

export function drawDelay(d: DelayDistribution, rng: Rng, normal: (m: number, s: number) => number): number {
  switch (d.kind) {
    case 'fixed':
      return d.ms;
    case 'exponential':
      return -Math.log(1 - rng()) * d.meanMs;
    case 'lognormal':
      return d.medianMs * Math.exp(normal(0, d.sigma));
  }
}

function generatorFor(state: SimulatorState, model: string, phaseIndex: number) {
  const g = state.generators.get(model);
  if (g && g.phaseIndex === phaseIndex) return g;
  const phase = state.scenario.phases[phaseIndex]!;
  // A distinct, deterministic seed per (run seed, model, phase).
  const seed = (state.seed * 1_000_003 + phaseIndex * 7919 + [...model].reduce((a, c) => a + c.charCodeAt(0), 0)) >>> 0;
  const fresh = { phaseIndex, ...createFeatureGenerator(model, seed, phase.drift?.[model] ?? {}) };
  state.generators.set(model, fresh);
  return fresh;
}

const baseRates = new Map<string, number>();
/** The generator's own positive rate (no drift), measured once on a fixed seed. */
export function basePositiveRate(model: string): number {
  let r = baseRates.get(model);
  if (r === undefined) {
    const g = createFeatureGenerator(model, 12345);
    let pos = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (g.next().label === '1') pos++;
    r = pos / n;
    baseRates.set(model, r);
  }
  return r;
}

/** Business outcome fields per model: what the KPIs are computed from. */
export function businessOutcome(model: string, row: SampleRow): Record<string, number> {
  if (model === 'credit-risk') {
    const defaulted = row.label === '1' ? 1 : 0;
    const income = typeof row.features.income === 'number' ? row.features.income : 50_000;
    // A repaid loan earns interest; a default loses the principal (a fixed share of income).
    return { defaulted, revenue: defaulted ? -0.1 * income : 0.012 * income };
  }
  const late = (row.target ?? 0) > 40 ? 1 : 0;
  return { late, refund: late ? 5 : 0 };
}

export interface TickOutput {
  readonly features: FeatureEvent[];
  readonly outcomes: OutcomeEvent[];
  readonly phase: string;
}

/**
 * Advances the simulation over [simFrom, simTo): `count` feature events spread evenly (round-robin
 * over the scenario's models) and every outcome due before simTo.
 */
export function tick(state: SimulatorState, simFrom: number, simTo: number, count: number): TickOutput {
  const features: FeatureEvent[] = [];
  const { phase, index } = phaseAt(state.scenario, simFrom - state.startedAt);
  state.phaseIndex = index;
  const models = state.scenario.models;
  for (let i = 0; i < count; i++) {
    const model = models[state.sequence % models.length]!;
    const eventTime = Math.floor(simFrom + ((simTo - simFrom) * (i + 0.5)) / count);
    const gen = generatorFor(state, model, index);
    let row = gen.next();
    const target = phase.positiveRate?.[model];
    if (target !== undefined) {
      // Rejection sampling to move P(label=1) from the base rate to the target: accept positives
      // with probability a and negatives with b, with max(a, b) = 1.
      const base = basePositiveRate(model);
      // Accepted share = base·a / (base·a + (1-base)·b) = target  <=>  a/b = odds(target)/odds(base).
      const ratio = target / (1 - target) / (base / (1 - base));
      const a = ratio >= 1 ? 1 : ratio;
      const b = ratio >= 1 ? 1 / ratio : 1;
      for (let tries = 0; tries < 100 && state.rng() >= (row.label === '1' ? a : b); tries++) row = gen.next();
    }
    const seq = state.sequence++;
    const predictionId = `${model}-${state.seed}-${seq}`;
    features.push({
      event_id: `f-${predictionId}`,
      model_name: model,
      entity_id: `entity-${seq % 50_000}`,
      prediction_id: predictionId,
      event_time: eventTime,
      features: row.features,
      segment: row.segment,
    });
    state.emitted.features++;
    if (state.rng() < state.scenario.missingLabelRate) {
      state.emitted.labelsNeverSent++;
      continue;
    }
    const outcomeTime = Math.round(eventTime + drawDelay(state.scenario.labelDelay, state.rng, state.normal));
    heapPush(state.pending, {
      at: outcomeTime,
      event: {
        event_id: `o-${predictionId}`,
        prediction_id: predictionId,
        model_name: model,
        outcome_time: outcomeTime,
        label: row.label ?? null,
        target_value: row.target ?? null,
        business: businessOutcome(model, row),
      },
    });
  }
  const outcomes: OutcomeEvent[] = [];
  while (state.pending.length > 0 && state.pending[0]!.at < simTo) {
    outcomes.push(heapPop(state.pending)!.event);
    state.emitted.outcomes++;
  }
  return { features, outcomes, phase: phase.name };
}

/**
 * Where simulated event time starts: `lookbackMs` before `wallStart`, moved back to a multiple of
 * `alignMs` when one is given, with the window processor's own windowStartOf: windows start at
 * multiples of their size since the epoch, so aligning to the window size
 * makes the first window a whole one rather than a partial window with a few hundred events, which
 * distance methods with fixed thresholds flag by chance far more often (docs/windows.md, False alarms).
 */
export function simulationStart(wallStart: number, lookbackMs: number, alignMs?: number): number {
  const start = wallStart - lookbackMs;
  return alignMs && alignMs > 0 ? windowStartOf(start, alignMs) : start;
}

/**
 * Maps wall-clock time to simulated event time: the run starts `lookbackMs` in the past and advances
 * `speed` times faster than the wall clock until it catches up with real time, then follows it.
 */
export function simulatedNow(wallStart: number, wallNow: number, lookbackMs: number, speed: number): number {
  const sim = wallStart - lookbackMs + (wallNow - wallStart) * speed;
  return Math.min(sim, wallNow);
}
