/**
 * DDM, the Drift Detection Method (Gama, Medas, Castillo & Rodrigues 2004, "Learning with Drift
 * Detection", SBIA, LNCS 3171:286) — a port of river.drift.binary.DDM.
 *
 * Input: a stream of errors (1) and successes (0). With p_i the running error rate and
 * s_i = √(p_i(1 − p_i)/i), after `warmStart` samples it tracks the minimum of p + s as (p_min, s_min):
 *   warning when p_i + s_i > p_min + 2·s_min,   drift when p_i + s_i > p_min + 3·s_min.
 * Defaults (River): warmStart 30, warningThreshold 2, driftThreshold 3. State resets on the update
 * after a detection, as River.
 */
import { ConfigInvalidError } from '../../runtime/errors.js';
import type { OnlineDetector } from './types.js';

export interface DDMOptions {
  readonly warmStart?: number;
  readonly warningThreshold?: number;
  readonly driftThreshold?: number;
}

export interface DDMState {
  readonly options: Required<DDMOptions>;
  readonly n: number;
  readonly mean: number;
  readonly pMin: number | null;
  readonly sMin: number | null;
  readonly psMin: number | null;
  readonly warningDetected: boolean;
  readonly driftDetected: boolean;
}

const inf = (x: number | null): number => x ?? Infinity;
const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

export class DDM implements OnlineDetector<DDMState> {
  readonly options: Required<DDMOptions>;
  private n = 0;
  private mean = 0;
  private pMin = Infinity;
  private sMin = Infinity;
  private psMin = Infinity;
  private warning = false;
  private drift = false;

  constructor(options: DDMOptions = {}) {
    const o = { warmStart: 30, warningThreshold: 2, driftThreshold: 3, ...options };
    const problems: string[] = [];
    if (!Number.isInteger(o.warmStart) || o.warmStart < 0) problems.push(`warmStart must be an integer >= 0 (got ${o.warmStart})`);
    if (!(o.warningThreshold > 0)) problems.push(`warningThreshold must be > 0 (got ${o.warningThreshold})`);
    if (!(o.driftThreshold > 0)) problems.push(`driftThreshold must be > 0 (got ${o.driftThreshold})`);
    if (o.warningThreshold > 0 && o.driftThreshold > 0 && o.warningThreshold >= o.driftThreshold) {
      problems.push(`warningThreshold (${o.warningThreshold}) must be below driftThreshold (${o.driftThreshold})`);
    }
    if (problems.length > 0) throw new ConfigInvalidError(problems.map((p) => `DDM: ${p}`));
    this.options = Object.freeze(o);
  }

  get driftDetected(): boolean {
    return this.drift;
  }

  get warningDetected(): boolean {
    return this.warning;
  }

  private reset(): void {
    this.n = 0;
    this.mean = 0;
    this.pMin = Infinity;
    this.sMin = Infinity;
    this.psMin = Infinity;
    this.warning = false;
    this.drift = false;
  }

  /** x: 1 (or true) for an error, 0 for a success. */
  update(x: number | boolean): this {
    if (this.drift) this.reset();
    const v = typeof x === 'boolean' ? (x ? 1 : 0) : x;
    this.n += 1;
    this.mean += (v - this.mean) / this.n;
    const p = this.mean;
    const s = Math.sqrt((p * (1 - p)) / this.n);
    if (this.n > this.options.warmStart) {
      if (p + s <= this.psMin) {
        this.pMin = p;
        this.sMin = s;
        this.psMin = p + s;
      }
      this.warning = p + s > this.pMin + this.options.warningThreshold * this.sMin;
      if (p + s > this.pMin + this.options.driftThreshold * this.sMin) {
        this.drift = true;
        this.warning = false;
      }
    }
    return this;
  }

  toState(): DDMState {
    return {
      options: { ...this.options },
      n: this.n,
      mean: this.mean,
      pMin: fin(this.pMin),
      sMin: fin(this.sMin),
      psMin: fin(this.psMin),
      warningDetected: this.warning,
      driftDetected: this.drift,
    };
  }

  static fromState(s: DDMState): DDM {
    const d = new DDM(s.options);
    d.n = s.n;
    d.mean = s.mean;
    d.pMin = inf(s.pMin);
    d.sMin = inf(s.sMin);
    d.psMin = inf(s.psMin);
    d.warning = s.warningDetected;
    d.drift = s.driftDetected;
    return d;
  }
}
