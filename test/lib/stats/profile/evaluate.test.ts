import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../../lib/runtime/errors.js';
import { evaluateDrift, evaluateDriftOnSamples } from '../../../../lib/stats/profile/evaluate.js';
import { buildReferenceProfile } from '../../../../lib/stats/profile/reference.js';
import { createWindowSummary, updateWindowSummary } from '../../../../lib/stats/profile/summary.js';
import type { Row } from '../../../../lib/stats/profile/types.js';
import { mulberry32, normalSampler } from '../../../../lib/stats/random.js';
import { deepFreeze } from '../golden.js';

function rows(seed: number, n: number, opts: { shift?: number; catShift?: boolean } = {}): Row[] {
  const rng = mulberry32(seed);
  const nrm = normalSampler(rng);
  return Array.from({ length: n }, () => ({
    num: nrm(opts.shift ?? 0, 1),
    small: Math.floor(rng() * 3),
    cat: opts.catShift && rng() < 0.5 ? 'c' : rng() < 0.5 ? 'a' : 'b',
  }));
}

function summarize(profile: ReturnType<typeof buildReferenceProfile>, rs: readonly Row[]) {
  const s = createWindowSummary(profile);
  rs.forEach((r) => updateWindowSummary(s, r));
  return s;
}

describe('evaluateDrift', () => {
  const refRows = deepFreeze(rows(1, 5000));
  const profile = buildReferenceProfile(refRows);

  it('uses the size-based defaults and does not drift on a same-distribution window', () => {
    const r = evaluateDrift(profile, summarize(profile, rows(2, 5000)));
    const byName = Object.fromEntries(r.features.map((f) => [f.feature, f]));
    expect(byName.num!.method).toBe('wasserstein');
    expect(byName.cat!.method).toBe('jensenshannon');
    expect(r.features.every((f) => !f.drift)).toBe(true);
    expect(r.summary.datasetDrift).toBe(false);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('flags drift and dataset drift (>= 50% of features) on a shifted window', () => {
    const r = evaluateDrift(profile, summarize(profile, rows(3, 5000, { shift: 0.5, catShift: true })));
    expect(r.summary.nDrifted).toBe(2);
    expect(r.summary.shareDrifted).toBeCloseTo(2 / 3, 15);
    expect(r.summary.datasetDrift).toBe(true);
  });

  it('summary path equals the raw-sample path except for the documented KS / Wasserstein approximation', () => {
    const cur = rows(4, 3000, { shift: 0.1 });
    const config = { methods: { num: 'ks', small: 'chisquare_gof', cat: 'psi' } } as const;
    const s = evaluateDrift(profile, summarize(profile, cur), config);
    const e = evaluateDriftOnSamples(refRows, cur, config);
    for (let i = 0; i < s.features.length; i++) {
      const a = s.features[i]!;
      const b = e.features[i]!;
      if (a.method === 'ks') {
        expect(Math.abs(a.score! - b.score!)).toBeLessThanOrEqual(a.extras.dErrorBound as number);
        expect(a.exact).toBe(false);
      } else {
        expect(a.score).toBe(b.score);
        expect(a.pValue).toBe(b.pValue);
      }
    }
    const psiNum = evaluateDrift(profile, summarize(profile, cur), { methods: { num: 'psi' } });
    const psiRaw = evaluateDriftOnSamples(refRows, cur, { methods: { num: 'psi' } });
    expect(psiNum.features[0]!.score).toBeCloseTo(psiRaw.features[0]!.score!, 14);
  });

  it('wasserstein_raw runs on the fine histogram (summary) and raw samples (exact), with the configured threshold', () => {
    const cur = rows(8, 3000, { shift: 0.3 });
    const config = { numericMethod: 'wasserstein_raw', methodThresholds: { wasserstein_raw: 0.2 }, featureThresholds: { small: 0.5 } } as const;
    const s = evaluateDrift(profile, summarize(profile, cur), config);
    const e = evaluateDriftOnSamples(refRows, cur, config);
    const sn = s.features.find((f) => f.feature === 'num')!;
    const en = e.features.find((f) => f.feature === 'num')!;
    const sNorm = evaluateDrift(profile, summarize(profile, cur), { numericMethod: 'wasserstein' }).features.find((f) => f.feature === 'num')!;
    expect([sn.method, sn.threshold, en.threshold]).toEqual(['wasserstein_raw', 0.2, 0.2]);
    // summary: the fine-histogram W1 (the same number the normed method reports), within its bound
    expect(sn.score).toBe(sNorm.extras.w1);
    expect(sn.exact).toBe(false);
    expect(Math.abs(sn.score! - en.score!)).toBeLessThanOrEqual(sn.extras.w1ErrorBound as number);
    expect(en.exact).toBe(true);
    expect(sn.drift).toBe(sn.score! >= 0.2);
    expect(s.features.find((f) => f.feature === 'small')!.threshold).toBe(0.5);
  });

  it('refuses wasserstein_raw without a threshold, listing every feature that lacks one', () => {
    const cur = summarize(profile, rows(9, 100));
    expect(() => evaluateDrift(profile, cur, { numericMethod: 'wasserstein_raw' })).toThrow(ConfigInvalidError);
    try {
      evaluateDrift(profile, cur, { numericMethod: 'wasserstein_raw', featureThresholds: { num: 1 } });
      expect.unreachable();
    } catch (err) {
      // `num` has one; `small` (numeric too) does not
      expect((err as ConfigInvalidError).problems).toEqual([expect.stringContaining("feature 'small'")]);
    }
  });

  it('applies Bonferroni / BH across p-value features', () => {
    const small = buildReferenceProfile(rows(5, 800));
    const cur = summarize(small, rows(6, 800, { shift: 0.15 }));
    const none = evaluateDrift(small, cur);
    const bonf = evaluateDrift(small, cur, { correction: 'bonferroni' });
    const pv = none.features.filter((f) => f.pValue !== null);
    expect(pv.length).toBe(3);
    bonf.features.forEach((f, i) => {
      expect(f.adjustedPValue).toBeCloseTo(Math.min(1, none.features[i]!.pValue! * 3), 14);
      expect(f.drift).toBe(f.adjustedPValue! < f.threshold);
    });
    expect(none.features.every((f) => f.adjustedPValue === null)).toBe(true);
  });

  it('edge cases: empty window, single row, missing and constant columns, schema drift', () => {
    const empty = evaluateDrift(profile, createWindowSummary(profile));
    expect(empty.features.every((f) => f.status === 'insufficient_data' && f.score === null && !f.drift)).toBe(true);
    expect(empty.summary.datasetDrift).toBe(false);
    expect(empty.features[0]!.missing.curRate).toBeNull();

    const one = evaluateDrift(profile, summarize(profile, [{ num: 0.1, small: 1, cat: 'a', added: 'x' }]));
    expect(one.features.every((f) => f.status === 'ok')).toBe(true);
    expect(one.schema.newFeatures).toEqual([{ feature: 'added', rows: 1 }]);

    const weird = summarize(profile, [
      { num: 'NaN-string', cat: 'a' },
      { num: null, cat: 'zzz' },
      { num: 0.5, cat: 'a' },
    ]);
    const w = evaluateDrift(profile, weird);
    const num = w.features.find((f) => f.feature === 'num')!;
    expect(num.missing.curMissing).toBe(2);
    expect(num.missing.curRate).toBeCloseTo(2 / 3, 15);
    expect(w.schema.missingFeatures).toEqual(['small']);
    expect(w.schema.typeChanges).toEqual([{ feature: 'num', expected: 'number', observed: { number: 1, string: 1, boolean: 0 } }]);

    const constRows: Row[] = Array.from({ length: 50 }, () => ({ k: 7 }));
    const cp = buildReferenceProfile(constRows);
    const cr = evaluateDrift(cp, summarize(cp, constRows));
    expect(cr.features[0]!.method).toBe('chisquare_gof');
    expect(cr.features[0]!.drift).toBe(false);
  });

  it('reports exact current-window moments from the summary', () => {
    const cur = rows(7, 1000);
    const r = evaluateDrift(profile, summarize(profile, cur));
    const xs = cur.map((x) => x.num as number);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    const f = r.features.find((x) => x.feature === 'num')!;
    expect(f.current!.mean).toBeCloseTo(mean, 12);
    expect(f.current!.std).toBeCloseTo(sd, 12);
  });

  it('rejects unknown methods with the list of valid ids', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    expect(() => evaluateDrift(profile, createWindowSummary(profile), { methods: { num: 'nope' as any } })).toThrow(/valid ids: psi, ks/);
  });
});
