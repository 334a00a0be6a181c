import { describe, expect, it } from 'vitest';
import { buildReferenceProfile } from '../../../../lib/stats/profile/reference.js';
import { createWindowSummary, mergeWindowSummaries, updateWindowSummary } from '../../../../lib/stats/profile/summary.js';
import type { Row } from '../../../../lib/stats/profile/types.js';
import { mulberry32, normalSampler } from '../../../../lib/stats/random.js';

function makeRows(seed: number, n: number, shift = 0): Row[] {
  const rng = mulberry32(seed);
  const nrm = normalSampler(rng);
  const cats = ['a', 'b', 'c', 'd'];
  return Array.from({ length: n }, (_, i) => {
    const row: Record<string, number | string | boolean | null | undefined> = {
      x: rng() < 0.02 ? null : nrm(shift, 1),
      y: Math.floor(rng() * 5),
      c: rng() < 0.01 ? 'zz' + (i % 7) : cats[Math.floor(rng() * 4)]!,
      flag: rng() < 0.3,
    };
    if (rng() < 0.05) row.x = 'oops'; // type change
    if (rng() < 0.03) row.extra = 1; // new feature
    if (rng() < 0.02) delete row.y; // absent feature
    if (rng() < 0.01) row.x = -0; // -0 must not make merges order dependent
    return row;
  });
}

describe('window summaries', () => {
  // the reference itself contains some 'oops' strings in x, so the kind is given explicitly
  const profile = buildReferenceProfile(makeRows(1, 3000), { kinds: { x: 'numeric' } });

  it('merge(summary(first), summary(second)) deep-equals summary(whole) for random splits', () => {
    const rows = makeRows(2, 4000, 0.3);
    const whole = createWindowSummary(profile);
    rows.forEach((r) => updateWindowSummary(whole, r));
    const rng = mulberry32(3);
    for (let t = 0; t < 8; t++) {
      const cut = Math.floor(rng() * rows.length);
      const a = createWindowSummary(profile);
      const b = createWindowSummary(profile);
      rows.slice(0, cut).forEach((r) => updateWindowSummary(a, r));
      // the second half arrives in reverse order: summaries must not depend on order
      rows
        .slice(cut)
        .reverse()
        .forEach((r) => updateWindowSummary(b, r));
      expect(mergeWindowSummaries(a, b)).toEqual(whole);
      expect(JSON.stringify(mergeWindowSummaries(a, b))).toBe(JSON.stringify(whole));
    }
  });

  it('merging with an empty summary is the identity, and merge is commutative', () => {
    const a = createWindowSummary(profile);
    const b = createWindowSummary(profile);
    makeRows(4, 500).forEach((r) => updateWindowSummary(a, r));
    makeRows(5, 300).forEach((r) => updateWindowSummary(b, r));
    expect(mergeWindowSummaries(a, createWindowSummary(profile))).toEqual(a);
    expect(mergeWindowSummaries(a, b)).toEqual(mergeWindowSummaries(b, a));
  });

  it('is plain JSON data: a checkpointed summary keeps accumulating identically', () => {
    const rows = makeRows(6, 1000);
    const direct = createWindowSummary(profile);
    rows.forEach((r) => updateWindowSummary(direct, r));
    const first = createWindowSummary(profile);
    rows.slice(0, 400).forEach((r) => updateWindowSummary(first, r));
    const restored = JSON.parse(JSON.stringify(first));
    rows.slice(400).forEach((r) => updateWindowSummary(restored, r));
    expect(restored).toEqual(JSON.parse(JSON.stringify(direct)));
  });

  it('counts missing, type mismatches, unseen categories and new features', () => {
    const s = createWindowSummary(profile);
    updateWindowSummary(s, { x: 'str', c: 'new-cat', flag: null, brand_new: 3 });
    updateWindowSummary(s, { x: Number.NaN, y: 2, c: 'a', flag: true });
    const x = s.features.x!;
    const c = s.features.c!;
    expect(x.kind === 'numeric' && x.typeMismatch).toBe(1);
    expect(x.kind === 'numeric' && x.missing).toBe(1);
    expect(c.kind === 'categorical' && c.unseen).toEqual({ 'new-cat': 1 });
    expect(s.newFeatures).toEqual({ brand_new: 1 });
    expect(s.rowCount).toBe(2);
  });

  it('refuses to merge summaries of different profiles', () => {
    const other = buildReferenceProfile(makeRows(9, 100));
    expect(() => mergeWindowSummaries(createWindowSummary(profile), createWindowSummary(other))).toThrow(/profile ids differ/);
  });
});
