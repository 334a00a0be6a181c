/**
 * Page-Hinkley test (Page 1954, "Continuous inspection schemes", Biometrika 41:100), with River's
 * forgetting factor and two-sided mode — a port of river.drift.PageHinkley (river >= 0.21):
 *
 *   x̄_t = running mean (reset on drift)
 *   U_t = α·U_{t−1} + (x_t − x̄_t) − δ,   m_t = min U          (increase)
 *   L_t = α·L_{t−1} + (x_t − x̄_t) + δ,   M_t = max L          (decrease; M starts at −1 as River)
 *   drift when n >= minInstances and (U_t − m_t > λ or M_t − L_t > λ)
 *
 * Defaults (River): δ = 0.005, λ = 50, α = 1 − 1e-4, minInstances = 30, mode 'both'. As in River,
 * state resets on the first update after a detection.
 */
import { ConfigInvalidError } from '../../runtime/errors.js';
import type { OnlineDetector } from './types.js';

export interface PageHinkleyOptions {
  readonly minInstances?: number;
  readonly delta?: number;
  readonly threshold?: number;
  readonly alpha?: number;
  readonly mode?: 'up' | 'down' | 'both';
}

export interface PageHinkleyState {
  readonly options: Required<PageHinkleyOptions>;
  readonly n: number;
  readonly mean: number;
  readonly sumIncrease: number;
  readonly sumDecrease: number;
  /** null stands for +∞ (JSON has no Infinity). */
  readonly minIncrease: number | null;
  readonly maxDecrease: number;
  readonly driftDetected: boolean;
}

export class PageHinkley implements OnlineDetector<PageHinkleyState> {
  readonly options: Required<PageHinkleyOptions>;
  private n = 0;
  private mean = 0;
  private sumIncrease = 0;
  private sumDecrease = 0;
  private minIncrease = Infinity;
  private maxDecrease = -1;
  private drift = false;

  constructor(options: PageHinkleyOptions = {}) {
    const o = { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both' as const, ...options };
    const problems: string[] = [];
    if (!Number.isInteger(o.minInstances) || o.minInstances < 1) problems.push(`minInstances must be an integer >= 1 (got ${o.minInstances})`);
    if (!(o.delta >= 0) || !Number.isFinite(o.delta)) problems.push(`delta must be finite and >= 0 (got ${o.delta})`);
    if (!(o.threshold > 0) || !Number.isFinite(o.threshold)) problems.push(`threshold must be finite and > 0 (got ${o.threshold})`);
    if (!(o.alpha > 0 && o.alpha <= 1)) problems.push(`alpha must be in (0, 1] (got ${o.alpha})`);
    if (!['up', 'down', 'both'].includes(o.mode)) problems.push(`mode must be 'up', 'down' or 'both' (got ${String(o.mode)})`);
    if (problems.length > 0) throw new ConfigInvalidError(problems.map((p) => `PageHinkley: ${p}`));
    this.options = Object.freeze(o);
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  private reset(): void {
    this.n = 0;
    this.mean = 0;
    this.sumIncrease = 0;
    this.sumDecrease = 0;
    this.minIncrease = Infinity;
    this.maxDecrease = -1;
    this.drift = false;
  }

  update(x: number): this {
    if (this.drift) this.reset();
    this.n += 1;
    this.mean += (x - this.mean) / this.n;
    const dev = x - this.mean;
    const { alpha, delta, threshold, mode } = this.options;
    this.sumIncrease = alpha * this.sumIncrease + dev - delta;
    this.sumDecrease = alpha * this.sumDecrease + dev + delta;
    if (this.sumIncrease < this.minIncrease) this.minIncrease = this.sumIncrease;
    if (this.sumDecrease > this.maxDecrease) this.maxDecrease = this.sumDecrease;
    if (this.n >= this.options.minInstances) {
      const up = this.sumIncrease - this.minIncrease > threshold;
      const down = this.maxDecrease - this.sumDecrease > threshold;
      this.drift = mode === 'up' ? up : mode === 'down' ? down : up || down;
    }
    return this;
  }

  toState(): PageHinkleyState {
    return {
      options: { ...this.options },
      n: this.n,
      mean: this.mean,
      sumIncrease: this.sumIncrease,
      sumDecrease: this.sumDecrease,
      minIncrease: Number.isFinite(this.minIncrease) ? this.minIncrease : null,
      maxDecrease: this.maxDecrease,
      driftDetected: this.drift,
    };
  }

  static fromState(s: PageHinkleyState): PageHinkley {
    const d = new PageHinkley(s.options);
    d.n = s.n;
    d.mean = s.mean;
    d.sumIncrease = s.sumIncrease;
    d.sumDecrease = s.sumDecrease;
    d.minIncrease = s.minIncrease ?? Infinity;
    d.maxDecrease = s.maxDecrease;
    d.drift = s.driftDetected;
    return d;
  }
}
