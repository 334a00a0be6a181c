/**
 * Traffic scenarios for the simulator: a list of phases, each with its own population (covariate
 * drift), class prior, concept and upstream breakage, plus how labels arrive (delay distribution,
 * share that never arrives). Built-in scenarios cover the cases the field names (stationary,
 * covariate drift, prior shift, concept drift, a broken upstream feature); a YAML/JSON scenario file
 * can define any other sequence. Validation lists every problem (PolicyInvalidError is reused for
 * configuration of this kind).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { PolicyInvalidError } from '../../lib/runtime/errors.js';
import type { DriftOptions } from '../scoring/sample-models/feature-space.js';

export type DelayDistribution =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'exponential'; readonly meanMs: number }
  | { readonly kind: 'lognormal'; readonly medianMs: number; readonly sigma: number };

export interface Phase {
  readonly name: string;
  /** Phase length in simulated (event) time. */
  readonly durationMs: number;
  /** Population and concept changes, per model name. */
  readonly drift?: Readonly<Record<string, DriftOptions>>;
  /** Prior shift: target share of positive labels for classifiers (rejection sampling keeps P(x|y)). */
  readonly positiveRate?: Readonly<Record<string, number>>;
}

export interface Scenario {
  readonly name: string;
  readonly models: readonly string[];
  readonly phases: readonly Phase[];
  readonly labelDelay: DelayDistribution;
  /** Share of predictions whose outcome never arrives. */
  readonly missingLabelRate: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BASE = { models: ['credit-risk', 'delivery-eta'], labelDelay: { kind: 'lognormal', medianMs: 20 * MINUTE, sigma: 0.8 }, missingLabelRate: 0.05 } as const;
const steady = (name: string, durationMs = 2 * HOUR): Phase => ({ name, durationMs });

/** Built-in scenarios: a stationary phase, then the named change for the rest of the run. */
export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  stationary: { ...BASE, name: 'stationary', phases: [steady('stationary', 1000 * HOUR)] },
  covariate: {
    ...BASE,
    name: 'covariate',
    phases: [
      steady('stationary'),
      {
        name: 'covariate-drift',
        durationMs: 1000 * HOUR,
        drift: { 'credit-risk': { incomeFactor: 0.6, utilizationShift: 0.25 }, 'delivery-eta': { distanceFactor: 1.8 } },
      },
    ],
  },
  prior: {
    ...BASE,
    name: 'prior',
    phases: [steady('stationary'), { name: 'prior-shift', durationMs: 1000 * HOUR, positiveRate: { 'credit-risk': 0.45 } }],
  },
  concept: {
    ...BASE,
    name: 'concept',
    phases: [
      steady('stationary'),
      { name: 'concept-drift', durationMs: 1000 * HOUR, drift: { 'credit-risk': { conceptShift: 2.5 }, 'delivery-eta': { conceptShift: 15 } } },
    ],
  },
  broken: {
    ...BASE,
    name: 'broken',
    phases: [
      steady('stationary'),
      // An upstream service starts reporting income in thousands and drops a share of values.
      {
        name: 'broken-upstream',
        durationMs: 1000 * HOUR,
        drift: { 'credit-risk': { incomeFactor: 0.001, missingRate: 0.2 }, 'delivery-eta': { missingRate: 0.2 } },
      },
    ],
  },
};

export function parseDuration(value: unknown, where: string, problems: string[]): number {
  if (typeof value === 'number' && value > 0) return value;
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value.trim()) : null;
  if (!m) {
    problems.push(`${where}: expected a duration like 90s, 15m, 2h or milliseconds, got ${JSON.stringify(value)}`);
    return 0;
  }
  const unit = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: 24 * HOUR }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

/** Validates a scenario from a parsed YAML/JSON document. */
export function validateScenario(doc: unknown): Scenario {
  const problems: string[] = [];
  const d = (doc ?? {}) as Record<string, unknown>;
  const name = typeof d.name === 'string' && d.name ? d.name : (problems.push('name: required'), '');
  const models = Array.isArray(d.models) && d.models.every((m) => typeof m === 'string') ? (d.models as string[]) : [...BASE.models];
  for (const m of models) if (!BASE.models.includes(m as never)) problems.push(`models: unknown model ${m}; known: ${BASE.models.join(', ')}`);
  const phasesRaw = Array.isArray(d.phases) ? d.phases : (problems.push('phases: a non-empty list is required'), []);
  const phases: Phase[] = phasesRaw.map((p, i) => {
    const ph = (p ?? {}) as Record<string, unknown>;
    const pname = typeof ph.name === 'string' ? ph.name : `phase-${i + 1}`;
    const durationMs = parseDuration(ph.duration, `phases[${i}].duration`, problems);
    const positiveRate = ph.positiveRate as Record<string, number> | undefined;
    for (const [m, r] of Object.entries(positiveRate ?? {})) if (!(r > 0 && r < 1)) problems.push(`phases[${i}].positiveRate.${m}: must be in (0, 1)`);
    return { name: pname, durationMs, drift: (ph.drift as Phase['drift']) ?? {}, positiveRate };
  });
  const ld = (d.labelDelay ?? BASE.labelDelay) as Record<string, unknown>;
  let labelDelay: DelayDistribution = BASE.labelDelay;
  if (ld.kind === 'fixed') labelDelay = { kind: 'fixed', ms: parseDuration(ld.ms ?? ld.delay, 'labelDelay.ms', problems) };
  else if (ld.kind === 'exponential') labelDelay = { kind: 'exponential', meanMs: parseDuration(ld.meanMs ?? ld.mean, 'labelDelay.mean', problems) };
  else if (ld.kind === 'lognormal')
    labelDelay = { kind: 'lognormal', medianMs: parseDuration(ld.medianMs ?? ld.median, 'labelDelay.median', problems), sigma: Number(ld.sigma ?? 0.8) };
  else problems.push(`labelDelay.kind: one of fixed, exponential, lognormal`);
  const missingLabelRate = d.missingLabelRate === undefined ? BASE.missingLabelRate : Number(d.missingLabelRate);
  if (!(missingLabelRate >= 0 && missingLabelRate < 1)) problems.push('missingLabelRate: must be in [0, 1)');
  if (problems.length > 0) throw new PolicyInvalidError(`invalid scenario:\n  - ${problems.join('\n  - ')}`, { problems });
  return { name, models, phases, labelDelay, missingLabelRate };
}

export function loadScenario(nameOrFile: string): Scenario {
  const builtIn = SCENARIOS[nameOrFile];
  if (builtIn) return builtIn;
  if (!/\.(ya?ml|json)$/.test(nameOrFile)) {
    throw new PolicyInvalidError(`unknown scenario ${JSON.stringify(nameOrFile)}; built-in: ${Object.keys(SCENARIOS).join(', ')}, or a .yaml/.json file`);
  }
  return validateScenario(parseYaml(readFileSync(nameOrFile, 'utf8')));
}

/** The phase in force at `elapsedMs` of simulated time since the scenario started. */
export function phaseAt(s: Scenario, elapsedMs: number): { phase: Phase; index: number; startsAtMs: number } {
  let t = 0;
  for (let i = 0; i < s.phases.length; i++) {
    const p = s.phases[i]!;
    if (elapsedMs < t + p.durationMs || i === s.phases.length - 1) return { phase: p, index: i, startsAtMs: t };
    t += p.durationMs;
  }
  throw new Error('scenario has no phases');
}
