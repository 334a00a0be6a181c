import { describe, expect, it } from 'vitest';
import { defaultMethodFor } from '../../../../lib/stats/drift/defaults.js';
import { getDriftMethod, requiresThreshold } from '../../../../lib/stats/drift/registry.js';

describe('defaultMethodFor (Evidently rules)', () => {
  it.each([
    [{ kind: 'numeric', nRef: 1000, distinct: 6 }, 'ks'],
    [{ kind: 'numeric', nRef: 1000, distinct: 5 }, 'chisquare_gof'],
    [{ kind: 'categorical', nRef: 500, distinct: 3 }, 'chisquare_gof'],
    [{ kind: 'numeric', nRef: 1001, distinct: 3 }, 'wasserstein'],
    [{ kind: 'categorical', nRef: 1001, distinct: 3 }, 'jensenshannon'],
  ] as const)('%o -> %s', (input, expected) => {
    expect(defaultMethodFor(input)).toBe(expected);
  });

  it('always picks a method that supports the kind and has a default threshold', () => {
    for (const kind of ['numeric', 'categorical'] as const) {
      for (const nRef of [0, 1, 1000, 1001, 1e6]) {
        for (const distinct of [0, 1, 5, 6, 1000]) {
          const id = defaultMethodFor({ kind, nRef, distinct });
          expect(getDriftMethod(id).kinds).toContain(kind);
          // so a config that names no method never needs a threshold (wasserstein_raw is never chosen)
          expect(requiresThreshold(id)).toBe(false);
        }
      }
    }
  });
});
