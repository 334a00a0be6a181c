/**
 * Two-sided tabular CUSUM (Page 1954; Montgomery, "Introduction to Statistical Quality Control",
 * 6th ed., §9.1). With target μ₀ and scale σ:
 *
 *   C⁺_t = max(0, C⁺_{t−1} + x_t − (μ₀ + k)),   C⁻_t = max(0, C⁻_{t−1} + (μ₀ − k) − x_t)
 *   drift when C⁺_t > h or C⁻_t > h,   k = 0.5σ (slack), h = 5σ (decision interval)
 *
 * k = 0.5σ, h = 5σ is Montgomery's standard design (Table 9.3). For this two-sided chart on normal
 * data the in-control average run length is ARL₀ ≈ 465 samples between false alarms: each one-sided
 * sum alone has ARL₀ ≈ 931, and 1/ARL = 1/ARL⁺ + 1/ARL⁻ (Lucas & Crosier 1982). A 1σ shift is
 * detected after ≈ 10.4 samples. Both figures solve Page's integral equation in
 * scripts/golden/generate_drift_fixtures.py (`cusum_arl`), and test/lib/stats/detectors/cusum.test.ts
 * checks the detector against them on long seeded streams.
 * μ₀ and σ are given, or estimated from the first `warmup` values (default 30; σ is the sample std,
 * floored at 1e-12 so a constant warm-up does not make every later change infinite). River has no
 * CUSUM; Frouros' CUSUM is the closest reference. Sums reset after each detection.
 */
import { ConfigInvalidError } from '../../runtime/errors.js';
import type { OnlineDetector } from './types.js';

export interface CusumOptions {
  readonly mean?: number;
  readonly std?: number;
  readonly warmup?: number;
  /** Slack k in units of σ (default 0.5). */
  readonly k?: number;
  /** Decision interval h in units of σ (default 5). */
  readonly h?: number;
}

export interface CusumState {
  readonly options: { readonly mean: number | null; readonly std: number | null; readonly warmup: number; readonly k: number; readonly h: number };
  readonly n: number;
  readonly warmN: number;
  readonly warmMean: number;
  readonly warmM2: number;
  readonly mu: number | null;
  readonly sigma: number | null;
  readonly cPlus: number;
  readonly cMinus: number;
  readonly driftDetected: boolean;
}

export class Cusum implements OnlineDetector<CusumState> {
  readonly options: CusumState['options'];
  private n = 0;
  private warmN = 0;
  private warmMean = 0;
  private warmM2 = 0;
  private mu: number | null;
  private sigma: number | null;
  private cPlus = 0;
  private cMinus = 0;
  private drift = false;

  constructor(options: CusumOptions = {}) {
    const o = { mean: options.mean ?? null, std: options.std ?? null, warmup: options.warmup ?? 30, k: options.k ?? 0.5, h: options.h ?? 5 };
    const problems: string[] = [];
    if (o.mean !== null && !Number.isFinite(o.mean)) problems.push(`mean must be finite (got ${o.mean})`);
    if (o.std !== null && !(o.std > 0 && Number.isFinite(o.std))) problems.push(`std must be finite and > 0 (got ${o.std})`);
    if ((o.mean === null || o.std === null) && (!Number.isInteger(o.warmup) || o.warmup < 2)) {
      problems.push(`warmup must be an integer >= 2 when mean/std are not given (got ${o.warmup})`);
    }
    if (!(o.k >= 0) || !Number.isFinite(o.k)) problems.push(`k must be finite and >= 0 (got ${o.k})`);
    if (!(o.h > 0) || !Number.isFinite(o.h)) problems.push(`h must be finite and > 0 (got ${o.h})`);
    if (problems.length > 0) throw new ConfigInvalidError(problems.map((p) => `Cusum: ${p}`));
    this.options = Object.freeze(o);
    this.mu = o.mean;
    this.sigma = o.std;
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  /** Current (C⁺, C⁻). */
  get sums(): { readonly plus: number; readonly minus: number } {
    return { plus: this.cPlus, minus: this.cMinus };
  }

  update(x: number): this {
    if (this.drift) {
      this.cPlus = 0;
      this.cMinus = 0;
      this.drift = false;
    }
    this.n += 1;
    if (this.mu === null || this.sigma === null) {
      this.warmN += 1;
      const d = x - this.warmMean;
      this.warmMean += d / this.warmN;
      this.warmM2 += d * (x - this.warmMean);
      if (this.warmN >= this.options.warmup) {
        if (this.mu === null) this.mu = this.warmMean;
        if (this.sigma === null) this.sigma = Math.max(Math.sqrt(this.warmM2 / (this.warmN - 1)), 1e-12);
      }
      return this;
    }
    const k = this.options.k * this.sigma;
    const h = this.options.h * this.sigma;
    this.cPlus = Math.max(0, this.cPlus + x - (this.mu + k));
    this.cMinus = Math.max(0, this.cMinus + (this.mu - k) - x);
    this.drift = this.cPlus > h || this.cMinus > h;
    return this;
  }

  toState(): CusumState {
    return {
      options: { ...this.options },
      n: this.n,
      warmN: this.warmN,
      warmMean: this.warmMean,
      warmM2: this.warmM2,
      mu: this.mu,
      sigma: this.sigma,
      cPlus: this.cPlus,
      cMinus: this.cMinus,
      driftDetected: this.drift,
    };
  }

  static fromState(s: CusumState): Cusum {
    const d = new Cusum({
      warmup: s.options.warmup,
      k: s.options.k,
      h: s.options.h,
      ...(s.options.mean !== null ? { mean: s.options.mean } : {}),
      ...(s.options.std !== null ? { std: s.options.std } : {}),
    });
    d.n = s.n;
    d.warmN = s.warmN;
    d.warmMean = s.warmMean;
    d.warmM2 = s.warmM2;
    d.mu = s.mu;
    d.sigma = s.sigma;
    d.cPlus = s.cPlus;
    d.cMinus = s.cMinus;
    d.drift = s.driftDetected;
    return d;
  }
}
