import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigInvalidError, UnknownDriftMethodError } from '../../../../lib/runtime/errors.js';
import { binSide, categoricalEdgesFromSorted } from '../../../../lib/stats/drift/inputs.js';
import { DRIFT_METHODS, getDriftMethod, listDriftMethods, requiresThreshold, runMethod } from '../../../../lib/stats/drift/registry.js';
import { METHOD_IDS } from '../../../../lib/stats/drift/types.js';
import type { CategoricalInput, DriftResult, MethodId, MethodInput } from '../../../../lib/stats/drift/types.js';
import { finiteSorted } from '../../../../lib/stats/quantile.js';
import { mulberry32, normalSampler } from '../../../../lib/stats/random.js';
import { deepFreeze } from '../golden.js';

const n = normalSampler(mulberry32(99));
const numeric = Array.from({ length: 400 }, () => n());
const categorical = { a: 40, b: 25, c: 20, d: 15 };

/**
 * `wasserstein_raw` has no default threshold (feature units). The test data is N(0, 1), so 0.05
 * feature units is 0.05 σ_ref: small enough that every real shift below drifts, large enough that
 * identical inputs (W1 = 0) do not.
 */
const RAW_THRESHOLD = 0.05;
function run(id: MethodId, input: MethodInput, opts: Parameters<typeof runMethod>[2] = {}): DriftResult {
  return runMethod(id, input, { ...(requiresThreshold(id) ? { threshold: RAW_THRESHOLD } : {}), ...opts });
}

/** A numeric case as raw values; histogram inputs are derived from it on the reference's bins. */
interface NumericCase {
  readonly ref: readonly number[];
  readonly cur: readonly number[];
}

function histogramOf(c: NumericCase): MethodInput {
  const r = finiteSorted(c.ref);
  const k = finiteSorted(c.cur);
  // per value when few distinct values, else reference deciles (what the summary path does)
  const edges = r.sorted.length > 0 ? categoricalEdgesFromSorted(r.sorted) : [];
  return { type: 'histogram', edges, ref: binSide(r.sorted, edges, r.missing), cur: binSide(k.sorted, edges, k.missing) };
}

/** Every input form the method accepts, built from the same numeric and categorical case. */
function inputsOf(id: MethodId, num: NumericCase, cat: CategoricalInput | null): MethodInput[] {
  const m = getDriftMethod(id);
  const out: MethodInput[] = [];
  if (m.inputs.includes('samples')) out.push({ type: 'samples', ref: [...num.ref], cur: [...num.cur] });
  if (m.inputs.includes('histogram')) out.push(histogramOf(num));
  if (cat !== null && m.inputs.includes('categorical')) out.push(structuredClone(cat));
  return out;
}

const cat = (ref: Record<string, number>, cur: Record<string, number>, refMissing = 0, curMissing = 0): CategoricalInput => ({
  type: 'categorical',
  ref,
  cur,
  refMissing,
  curMissing,
});

const identical = (id: MethodId) => inputsOf(id, { ref: numeric, cur: numeric }, cat({ ...categorical }, { ...categorical }));
// The categorical shift moves mass between seen categories as well as to an unseen one: chi² GoF
// excludes unseen values by default (see the unseen-category case), so an all-unseen shift alone
// would not be a shift for it.
const shifted = (id: MethodId) => inputsOf(id, { ref: numeric, cur: numeric.map((x) => x + 5) }, cat({ ...categorical }, { a: 2, b: 3, c: 5, d: 90, z: 20 }));

const constant = (v: number, len: number) => Array.from({ length: len }, () => v);
/** Every 10th value missing. */
const withNaN = (xs: readonly number[]) => xs.map((x, i) => (i % 10 === 3 ? Number.NaN : x));

function expectJsonSafe(r: DriftResult): void {
  expect(JSON.parse(JSON.stringify(r))).toEqual(r);
}

function expectOkFinite(r: DriftResult): void {
  expect(r.status).toBe('ok');
  if (r.thresholdType === 'distance') expect(Number.isFinite(r.score)).toBe(true);
  else {
    expect(r.pValue).not.toBeNull();
    expect(r.pValue!).toBeGreaterThanOrEqual(0);
    expect(r.pValue!).toBeLessThanOrEqual(1);
  }
  expectJsonSafe(r);
}

/** PSI keeps missing values in a bin of their own; every other method drops them (docs/metrics.md). */
const MISSING_AS_BIN: ReadonlySet<MethodId> = new Set(['psi']);

describe('registry', () => {
  it('lists exactly METHOD_IDS, each keyed by its own id, with a complete entry', () => {
    expect(Object.keys(DRIFT_METHODS).sort()).toEqual([...METHOD_IDS].sort());
    for (const m of listDriftMethods()) {
      expect(DRIFT_METHODS[m.id]).toBe(m);
      expect(m.displayName.length).toBeGreaterThan(0);
      expect(m.kinds.length).toBeGreaterThan(0);
      expect(['p_value', 'distance']).toContain(m.thresholdType);
      // null only for a distance in feature units, which cannot have a universal default
      if (m.defaultThreshold === null) expect(m.thresholdType).toBe('distance');
      else expect(m.defaultThreshold).toBeGreaterThan(0);
      expect(typeof m.engines.typescript).toBe('function');
      expect(m.reference.length).toBeGreaterThan(0);
    }
    expect(
      listDriftMethods()
        .filter((m) => requiresThreshold(m.id))
        .map((m) => m.id),
    ).toEqual(['wasserstein_raw']);
  });

  it('a failed lookup throws UnknownDriftMethodError listing every valid id', () => {
    expect(() => getDriftMethod('kl_div')).toThrow(UnknownDriftMethodError);
    try {
      getDriftMethod('kl_div');
    } catch (e) {
      for (const id of METHOD_IDS) expect((e as Error).message).toContain(id);
    }
  });

  it('rejects inputs a method does not accept and engines it does not have', () => {
    expect(() => runMethod('ks', { type: 'categorical', ref: { a: 1 }, cur: { a: 1 } })).toThrow(UnknownDriftMethodError);
    expect(() => runMethod('psi', { type: 'categorical', ref: { a: 1 }, cur: { a: 1 } }, { engine: 'clickhouse' })).toThrow(/clickhouse/);
  });

  it('records the threshold actually used', () => {
    const r = runMethod('psi', { type: 'categorical', ref: categorical, cur: categorical }, { threshold: 0.25 });
    expect(r.threshold).toBe(0.25);
  });

  it('a method without a default threshold refuses to run without one', () => {
    const input: MethodInput = { type: 'samples', ref: numeric, cur: numeric };
    expect(() => runMethod('wasserstein_raw', input)).toThrow(ConfigInvalidError);
    expect(() => runMethod('wasserstein_raw', input)).toThrow(/feature units/);
    expect(runMethod('wasserstein_raw', input, { threshold: 2 }).threshold).toBe(2);
  });
});

describe('docs/metrics.md method table', () => {
  const doc = readFileSync(new URL('../../../../docs/metrics.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Methods (registry'), doc.indexOf('**Vertex AI in one line'));
  const rows = [...section.matchAll(/^\| `([a-z0-9_]+)` +\| (.*)$/gm)].map((m) => {
    // split on cell separators, not on the escaped \| inside formulas (cells may be padded by prettier)
    const cells = m[2]!.split(/(?<!\\)\|/).map((c) => c.trim());
    return { id: m[1]!, threshold: cells[1]!, kinds: cells[2]!, reference: cells[6]! };
  });

  it('lists the registry ids in registry order', () => {
    expect(rows.map((r) => r.id)).toEqual(listDriftMethods().map((m) => m.id));
  });

  it("states each method's default threshold, decision rule and kinds as the registry does", () => {
    for (const r of rows) {
      const m = getDriftMethod(r.id);
      const want = m.defaultThreshold === null ? 'none: required' : m.thresholdType === 'p_value' ? `p < ${m.defaultThreshold}` : `≥ ${m.defaultThreshold}`;
      expect(r.threshold.startsWith(want), `${r.id}: "${r.threshold}" should start with "${want}"`).toBe(true);
      const kinds = r.kinds.split(',').map((k) => ({ num: 'numeric', cat: 'categorical' })[k.trim() as 'num' | 'cat']);
      expect([...kinds].sort(), r.id).toEqual([...m.kinds].sort());
    }
  });

  it('names in its reference column every scipy function the registry entry cites', () => {
    for (const r of rows) {
      for (const fn of getDriftMethod(r.id).reference.match(/scipy\.[a-z_.]+/g) ?? []) expect(r.reference, r.id).toContain(fn);
    }
  });
});

describe('conformance over the whole registry', () => {
  for (const id of METHOD_IDS) {
    describe(id, () => {
      it('identical inputs do not drift', () => {
        for (const input of identical(id)) {
          const r = run(id, input);
          expect(r.status).toBe('ok');
          expect(r.drift).toBe(false);
          if (r.thresholdType === 'distance') expect(r.score).toBeLessThan(1e-7);
        }
      });

      it('is deterministic and does not mutate (deep-frozen) inputs', () => {
        const all = [...identical(id), ...shifted(id), ...inputsOf(id, { ref: withNaN(numeric), cur: [numeric[0]!] }, cat(categorical, { z: 1 }, 3, 2))];
        for (const input of all) {
          const frozen = deepFreeze(structuredClone(input));
          const a = run(id, frozen);
          const b = run(id, frozen);
          expect(a).toEqual(b);
          expect(frozen).toEqual(input);
        }
      });

      it('results survive a JSON round trip (no NaN / Infinity)', () => {
        for (const input of [...identical(id), ...shifted(id)]) expectJsonSafe(run(id, input));
      });

      it('a large shift drifts', () => {
        for (const input of shifted(id)) expect(run(id, input).drift).toBe(true);
      });

      it('an empty current window or reference is insufficient_data, not drift', () => {
        const emptyCur = inputsOf(id, { ref: numeric, cur: [] }, cat(categorical, {}));
        const emptyRef = inputsOf(id, { ref: [], cur: numeric }, cat({}, categorical));
        for (const input of [...emptyCur, ...emptyRef]) {
          const r = run(id, input);
          expect(r.status).toBe('insufficient_data');
          expect(r.score).toBeNull();
          expect(r.pValue).toBeNull();
          expect(r.drift).toBe(false);
          expectJsonSafe(r);
        }
        for (const input of emptyCur) expect(run(id, input).nCur).toBe(0);
      });

      it('a constant column: the same constant does not drift (distance 0, p = 1); another constant does', () => {
        for (const input of inputsOf(id, { ref: constant(3, 50), cur: constant(3, 20) }, cat({ a: 50 }, { a: 20 }))) {
          const r = run(id, input);
          expectOkFinite(r);
          expect(r.drift).toBe(false);
          if (r.thresholdType === 'distance') expect(r.score).toBe(0);
          else expect(r.pValue).toBe(1);
        }
        for (const input of inputsOf(id, { ref: constant(3, 50), cur: constant(4, 50) }, cat({ a: 50 }, { b: 50 }))) {
          const r = run(id, input);
          expect(r.status).toBe('ok');
          expect(r.drift).toBe(true);
          expectJsonSafe(r);
        }
      });

      it('NaN / missing values: never leak into the result; dropped by every method but PSI, which bins them', () => {
        const clean = inputsOf(id, { ref: numeric, cur: numeric.slice(0, 300) }, cat(categorical, { a: 30, b: 30, c: 20, d: 20 }));
        const dirty = inputsOf(id, { ref: withNaN(numeric), cur: withNaN(numeric.slice(0, 300)) }, cat(categorical, { a: 30, b: 30, c: 20, d: 20 }, 12, 9));
        dirty.forEach((input, i) => {
          const r = run(id, input);
          expectOkFinite(r);
          if (MISSING_AS_BIN.has(id)) {
            expect(r.extras.missingBin).toBe(true);
            // the 30 NaN of the 300 current values (or the 9 missing categorical ones) are counted in
            expect(r.nCur).toBe(input.type === 'categorical' ? run(id, clean[i]!).nCur + 9 : 270 + 30);
          } else {
            // same values without the missing ones: the identical result
            const present =
              input.type === 'categorical'
                ? clean[i]!
                : inputsOf(id, { ref: numeric.filter((_, j) => j % 10 !== 3), cur: numeric.slice(0, 300).filter((_, j) => j % 10 !== 3) }, null)[i]!;
            expect(r).toEqual(run(id, present));
          }
        });
        // The same missing share on both sides is no drift, for every method.
        for (const input of inputsOf(id, { ref: withNaN(numeric), cur: withNaN(numeric) }, cat(categorical, categorical, 10, 10))) {
          expect(run(id, input).drift).toBe(false);
        }
        // A window whose values are all missing: nothing to compare, except for PSI, where it is
        // exactly the drift its missing bin exists to show.
        for (const input of inputsOf(id, { ref: numeric, cur: [Number.NaN, Number.NaN] }, cat(categorical, {}, 0, 5))) {
          const r = run(id, input);
          expectJsonSafe(r);
          if (MISSING_AS_BIN.has(id)) expect([r.status, r.drift]).toEqual(['ok', true]);
          else expect([r.status, r.drift, r.nCur]).toEqual(['insufficient_data', false, 0]);
        }
      });

      // Categories only exist for methods that take categorical input; the numeric-only methods meet
      // never-seen values as a shift beyond the reference range ('a large shift drifts').
      if (getDriftMethod(id).inputs.includes('categorical'))
        it('an unseen category is counted, kept finite, and disjoint support drifts', () => {
          const r = run(id, cat(categorical, { a: 40, b: 25, c: 20, d: 15, z: 30 }));
          expectOkFinite(r);
          expect(r.nCur).toBe(130);
          if (id === 'chisquare_gof') {
            // excluded from χ² (E would be 0) and reported on its own
            expect(r.extras.unseenCount).toBe(30);
            expect(r.extras.unseenShare).toBeCloseTo(30 / 130, 15);
            expect(run(id, cat(categorical, { a: 40, b: 25, c: 20, d: 15, z: 30 }), { options: { unseenPolicy: 'drift' } }).drift).toBe(true);
          } else if (r.thresholdType === 'distance') expect(r.score!).toBeGreaterThan(0);
          else expect(r.pValue!).toBeLessThan(1);
          const disjoint = run(id, cat(categorical, { y: 60, z: 40 }));
          expect(disjoint.drift).toBe(true);
          expectJsonSafe(disjoint);
        });

      it('a single row is computed normally, and one row against the same row does not drift', () => {
        for (const input of inputsOf(id, { ref: numeric, cur: [numeric[7]!] }, cat(categorical, { b: 1 }))) {
          const r = run(id, input);
          expectOkFinite(r);
          expect(r.nCur).toBe(1);
        }
        for (const input of inputsOf(id, { ref: [1.5], cur: [1.5] }, cat({ a: 1 }, { a: 1 }))) {
          const r = run(id, input);
          expectOkFinite(r);
          expect([r.nRef, r.nCur, r.drift]).toEqual([1, 1, false]);
        }
      });
    });
  }
});
