/**
 * Small seeded pseudo-random generators for tests, simulators and benchmarks.
 *
 * mulberry32 (Tommy Ettinger, public domain; https://gist.github.com/tommyettinger/46a874533244883189143505d203312c):
 * a 32-bit state, 2^32 period, passes gjrand/PractRand for the sizes we use. It is *not*
 * cryptographic. It is chosen because it is tiny, fast and trivially portable to Python, so a
 * fixture generator can reproduce the exact same stream (see scripts/golden/generate_drift_fixtures.py).
 */

export type Rng = () => number;

/** Returns a generator of uniform floats in [0, 1) with 32 bits of randomness. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal deviates by the Box-Muller transform (two uniforms per pair; the second
 * deviate is cached). Deterministic given the underlying generator.
 */
export function normalSampler(rng: Rng): (mean?: number, sd?: number) => number {
  let spare: number | null = null;
  return (mean = 0, sd = 1) => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return mean + sd * z;
    }
    // 1 - u keeps the argument of log in (0, 1].
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  };
}

/** Bernoulli(p) draws as 0/1. */
export function bernoulli(rng: Rng, p: number): 0 | 1 {
  return rng() < p ? 1 : 0;
}

/** Integer uniform in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}
