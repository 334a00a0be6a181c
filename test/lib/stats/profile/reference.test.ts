import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../../../lib/runtime/errors.js';
import { buildReferenceProfile } from '../../../../lib/stats/profile/reference.js';

describe('buildReferenceProfile', () => {
  const rows = [
    { n: 1, s: 'a', b: true },
    { n: 2, s: 'b', b: false },
    { n: 3, s: 'a', b: true },
    { n: null, s: null },
    { n: 4, s: 'c', b: true },
  ];
  const p = buildReferenceProfile(rows);

  it('infers kinds and records moments, missing counts and category frequencies', () => {
    const n = p.features.n!;
    expect(n.kind).toBe('numeric');
    if (n.kind !== 'numeric') return;
    expect(n.count).toBe(4);
    expect(n.missing).toBe(1);
    expect(n.missingRate).toBeCloseTo(0.2, 15);
    expect(n.mean).toBeCloseTo(2.5, 15);
    expect(n.std).toBeCloseTo(Math.sqrt(1.25), 15);
    expect([n.min, n.max]).toEqual([1, 4]);
    expect(n.edges).toEqual([1, 2, 3, 4]); // few distinct values -> one bin per value
    const s = p.features.s!;
    expect(s.kind === 'categorical' && s.categories).toEqual(['a', 'b', 'c']);
    expect(s.kind === 'categorical' && s.frequencies).toEqual([0.5, 0.25, 0.25]);
    expect(p.features.b!.kind).toBe('categorical');
    expect(p.features.b!.missing).toBe(1); // absent key counts as missing
  });

  it('is deeply frozen, deterministic and JSON-serialisable', () => {
    expect(Object.isFrozen(p.features.n)).toBe(true);
    expect(buildReferenceProfile(rows)).toEqual(p);
    expect(buildReferenceProfile(rows).id).toBe(p.id);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('honours explicit kinds and validates options, reporting every problem', () => {
    expect(buildReferenceProfile(rows, { kinds: { n: 'categorical' } }).features.n!.kind).toBe('categorical');
    try {
      buildReferenceProfile(rows, { fineBins: 1, psiBins: 0 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigInvalidError);
      expect((e as ConfigInvalidError).problems).toHaveLength(2);
    }
    expect(() => buildReferenceProfile(rows, { fineBins: 1000, psiBins: 7 })).toThrow(/multiple/);
  });
});
