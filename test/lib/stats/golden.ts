/** Shared helpers for the lib/stats tests: the scipy fixture and its mulberry32 sample specs. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../../lib/stats/random.js';

export interface SampleSpec {
  seed: number;
  n: number;
  scale: number;
  shift: number;
  ties?: number | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const fixture: any = JSON.parse(readFileSync(fileURLToPath(new URL('../../fixtures/golden/drift.json', import.meta.url)), 'utf8'));

/** Mirror of `sample` in scripts/golden/generate_drift_fixtures.py (bit-identical). */
export function sampleFromSpec(spec: SampleSpec): number[] {
  const rng = mulberry32(spec.seed);
  const out: number[] = [];
  for (let i = 0; i < spec.n; i++) {
    const u = rng();
    out.push(spec.ties ? Math.floor(u * spec.ties) * spec.scale + spec.shift : u * spec.scale + spec.shift);
  }
  return out;
}

/** Mirror of `stream` in the generator: segments [n, a, b]; b = -1 means Bernoulli(a) bits, else u*a + b. */
export function streamFromSpec(spec: { seed: number; segments: Array<[number, number, number]> }): number[] {
  const rng = mulberry32(spec.seed);
  const out: number[] = [];
  for (const [n, a, b] of spec.segments)
    for (let i = 0; i < n; i++) {
      const u = rng();
      out.push(b === -1 ? (u < a ? 1 : 0) : u * a + b);
    }
  return out;
}

export function relErr(actual: number, expected: number): number {
  if (expected === 0) return Math.abs(actual);
  return Math.abs(actual - expected) / Math.abs(expected);
}

export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    if (!ArrayBuffer.isView(o)) Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}
