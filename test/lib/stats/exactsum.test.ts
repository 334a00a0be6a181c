import { describe, expect, it } from 'vitest';
import { exactAdd, exactAddSquare, exactMerge, exactValue, varianceFromSums } from '../../../lib/stats/exactsum.js';
import { mulberry32, normalSampler } from '../../../lib/stats/random.js';

describe('exact sums', () => {
  it('are order independent: any split merges to the sequential sum bit for bit', () => {
    const rng = mulberry32(4);
    const n = normalSampler(rng);
    const xs = Array.from({ length: 5000 }, () => n(1e3, 5) * (rng() < 0.01 ? 1e8 : 1));
    const whole: number[] = [];
    xs.forEach((x) => exactAdd(whole, x));
    for (let t = 0; t < 10; t++) {
      const cut = Math.floor(rng() * xs.length);
      const a: number[] = [];
      const b: number[] = [];
      xs.slice(0, cut).forEach((x) => exactAdd(a, x));
      xs.slice(cut)
        .reverse()
        .forEach((x) => exactAdd(b, x));
      expect(exactMerge(a, b)).toEqual(whole);
    }
  });
  it('round correctly where naive summation does not', () => {
    const s: number[] = [];
    for (const x of [1e16, 1, -1e16, 1]) exactAdd(s, x);
    expect(exactValue(s)).toBe(2);
    expect(1e16 + 1 - 1e16 + 1).not.toBe(2);
  });
  it('give the population variance even with a large offset', () => {
    const s: number[] = [];
    const q: number[] = [];
    for (const x of [1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4]) {
      exactAdd(s, x);
      exactAddSquare(q, x);
    }
    expect(varianceFromSums(s, q, 4)).toBeCloseTo(1.25, 9);
  });
});
