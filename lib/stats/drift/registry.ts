/**
 * The explicit table of drift methods. Nothing registers itself on import (unlike Evidently's
 * decorator registry): adding a method means adding a file under ./methods and a line here, and the
 * `METHOD_IDS` tuple in ./types.ts keeps the table and the id type in step (a test pins them).
 */
import { ConfigInvalidError, UnknownDriftMethodError } from '../../runtime/errors.js';
import { chisquareContingency, chisquareGof } from './methods/chisquare.js';
import { hellinger } from './methods/hellinger.js';
import { jensenshannon, jensenshannonBase2, jensenshannonDivergenceBase2 } from './methods/jensenshannon.js';
import { ks } from './methods/ks.js';
import { linf } from './methods/linf.js';
import { psi } from './methods/psi.js';
import { wasserstein, wassersteinRaw } from './methods/wasserstein.js';
import type { DriftMethod, DriftResult, EngineId, ExtraValue, MethodId, MethodInput, MethodOptions } from './types.js';
import { METHOD_IDS } from './types.js';

export const DRIFT_METHODS: Readonly<Record<MethodId, DriftMethod>> = Object.freeze({
  psi,
  ks,
  wasserstein,
  wasserstein_raw: wassersteinRaw,
  jensenshannon,
  jensenshannon_base2: jensenshannonBase2,
  jensenshannon_divergence_base2: jensenshannonDivergenceBase2,
  chisquare_gof: chisquareGof,
  chisquare_contingency: chisquareContingency,
  linf,
  hellinger,
});

export function isMethodId(id: string): id is MethodId {
  return (METHOD_IDS as readonly string[]).includes(id);
}

/** Looks a method up by id; throws UnknownDriftMethodError listing the valid ids. */
export function getDriftMethod(id: string): DriftMethod {
  if (!isMethodId(id)) {
    throw new UnknownDriftMethodError(`unknown drift method '${id}'; valid ids: ${METHOD_IDS.join(', ')}`, {
      method: id,
      validIds: [...METHOD_IDS],
    });
  }
  return DRIFT_METHODS[id];
}

export function listDriftMethods(): readonly DriftMethod[] {
  return METHOD_IDS.map((id) => DRIFT_METHODS[id]);
}

/** True for methods without a default threshold (a score in feature units): callers must set one. */
export function requiresThreshold(id: MethodId): boolean {
  return DRIFT_METHODS[id].defaultThreshold === null;
}

export interface RunMethodOptions {
  readonly threshold?: number;
  readonly options?: MethodOptions;
  readonly engine?: EngineId;
}

const finiteOrNull = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

function sanitizeExtras(extras: Readonly<Record<string, ExtraValue>>): Record<string, ExtraValue> {
  const out: Record<string, ExtraValue> = {};
  for (const k of Object.keys(extras).sort()) {
    const v = extras[k]!;
    out[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
  }
  return out;
}

/**
 * Runs one method and turns its computation into a self-explaining, JSON-safe result.
 * Decision: p-value methods drift when p < threshold; distance methods when score >= threshold.
 * A side with no (non-missing) values gives status 'insufficient_data', score/p null, drift false.
 */
export function runMethod(id: string, input: MethodInput, opts: RunMethodOptions = {}): DriftResult {
  const method = getDriftMethod(id);
  const engine = opts.engine ?? 'typescript';
  const impl = method.engines[engine];
  if (impl === undefined) {
    throw new UnknownDriftMethodError(`drift method '${id}' has no '${engine}' engine`, { method: id, engine });
  }
  if (!method.inputs.includes(input.type)) {
    throw new UnknownDriftMethodError(`drift method '${id}' does not accept '${input.type}' input; it accepts ${method.inputs.join(', ')}`, {
      method: id,
      input: input.type,
    });
  }
  const threshold = opts.threshold ?? method.defaultThreshold;
  if (threshold === null) {
    throw new ConfigInvalidError([`drift method '${id}' has no default threshold (its score is in feature units); pass one explicitly`]);
  }
  const c = impl(input, opts.options ?? {});
  const score = finiteOrNull(c.score);
  const pValue = finiteOrNull(c.pValue);
  const insufficient = c.nRef === 0 || c.nCur === 0;
  let drift = false;
  if (!insufficient) {
    if (method.thresholdType === 'p_value') drift = pValue !== null && pValue < threshold;
    else drift = score !== null && score >= threshold;
    if (c.forceDrift === true) drift = true;
  }
  return {
    method: method.id,
    displayName: method.displayName,
    engine,
    status: insufficient ? 'insufficient_data' : 'ok',
    score: insufficient ? null : score,
    pValue: insufficient ? null : pValue,
    threshold,
    thresholdType: method.thresholdType,
    drift,
    nRef: c.nRef,
    nCur: c.nCur,
    exact: c.exact,
    extras: sanitizeExtras(c.extras),
  };
}
