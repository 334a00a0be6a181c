import { describe, expect, it } from 'vitest';
import { ks2samp, ks2sampPValue, probOutsideSquare, roundHalfEven } from '../../../../lib/stats/special/ks2samp.js';
import type { KsMethod } from '../../../../lib/stats/special/ks2samp.js';
import { fixture, relErr, sampleFromSpec } from '../golden.js';
import type { SampleSpec } from '../golden.js';

interface KsCase {
  name: string;
  a?: number[];
  b?: number[];
  specA?: SampleSpec;
  specB?: SampleSpec;
  method: KsMethod;
  statistic: number;
  pvalue: number;
}

describe('ks2samp matches scipy.stats.ks_2samp', () => {
  it.each((fixture.ks as KsCase[]).map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const a = c.a ?? sampleFromSpec(c.specA!);
    const b = c.b ?? sampleFromSpec(c.specB!);
    const r = ks2samp(a, b, c.method);
    expect(r.statistic).toBe(c.statistic);
    expect(relErr(r.pValue, c.pvalue)).toBeLessThan(1e-9);
    const expectedMode = c.method === 'auto' ? (Math.max(a.length, b.length) <= 10000 ? 'exact' : 'asymp') : c.method;
    expect(r.method).toBe(expectedMode);
  });

  it('reproduces the conventions golden values', () => {
    const a = Array.from({ length: 10 }, (_, i) => i + 1);
    const b = a.map((x) => x + 2);
    expect(ks2samp(a, b).statistic).toBeCloseTo(0.2, 15);
    expect(ks2samp(a, b).pValue).toBeCloseTo(0.9944576, 7);
    expect(ks2samp(a, b, 'asymp').pValue).toBeCloseTo(0.9616, 4);
  });

  it('switches exact -> asymp at max(n1, n2) = 10000 exactly', () => {
    expect(ks2sampPValue(0.05, 10000, 500).method).toBe('exact');
    expect(ks2sampPValue(0.05, 10001, 500).method).toBe('asymp');
  });

  it('D = 0 gives p = 1 and rejects empty samples', () => {
    expect(ks2samp([1, 2, 3], [1, 2, 3]).pValue).toBe(1);
    expect(() => ks2samp([], [1])).toThrow(RangeError);
  });

  it('helpers: numpy half-even rounding and the square formula', () => {
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(probOutsideSquare(10, 10)).toBeCloseTo(2 / 184756, 15);
  });
});
