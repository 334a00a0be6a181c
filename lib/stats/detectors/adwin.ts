/**
 * ADWIN, ADaptive WINdowing (Bifet & Gavaldà 2007, "Learning from time-changing data with adaptive
 * windowing", SDM, pp. 443–448) — a port of river.drift.ADWIN / river/drift/adwin_c.pyx.
 *
 * The window is kept as an exponential histogram: row i holds up to MAX_BUCKETS + 1 buckets of 2^i
 * values (total and variance each); a sixth bucket in a row merges the two oldest into row i+1.
 * Every `clock` = 32 updates (once the window exceeds gracePeriod = 10) each cut W0 | W1 at a bucket
 * boundary is tested and the oldest bucket dropped while
 *   |μ̂0 − μ̂1| > ε = √(2 · m⁻¹ · σ̂²_W · δ') + (2/3) · δ' · m⁻¹,
 *   δ' = ln(2 ln|W| / δ),  m⁻¹ = 1/(n0 − 5 + 1) + 1/(n1 − 5 + 1)   (min_window_length = 5)
 * River's quirks are kept so detections land on the same index: the newest bucket of every row is
 * never used as a cut point, and the whole detector resets on the update after a detection.
 * Default δ = 0.002.
 */
import { ConfigInvalidError } from '../../runtime/errors.js';
import type { OnlineDetector } from './types.js';

const MAX_BUCKETS = 5;

export interface AdwinOptions {
  readonly delta?: number;
  readonly clock?: number;
  readonly gracePeriod?: number;
  readonly minWindowLength?: number;
}

export interface AdwinBucketRow {
  readonly totals: number[];
  readonly variances: number[];
}

export interface AdwinState {
  readonly options: Required<AdwinOptions>;
  readonly rows: AdwinBucketRow[];
  readonly total: number;
  readonly variance: number;
  readonly width: number;
  readonly nBuckets: number;
  readonly maxNBuckets: number;
  readonly tick: number;
  readonly nDetections: number;
  readonly driftDetected: boolean;
}

export class Adwin implements OnlineDetector<AdwinState> {
  readonly options: Required<AdwinOptions>;
  private rows: AdwinBucketRow[] = [{ totals: [], variances: [] }];
  private total = 0;
  private variance = 0;
  private widthN = 0;
  private nBuckets = 0;
  private maxNBuckets = 0;
  private tick = 0;
  private detections = 0;
  private drift = false;

  constructor(options: AdwinOptions = {}) {
    const o = { delta: 0.002, clock: 32, gracePeriod: 10, minWindowLength: 5, ...options };
    const problems: string[] = [];
    if (!(o.delta > 0 && o.delta < 1)) problems.push(`delta must be in (0, 1) (got ${o.delta})`);
    if (!Number.isInteger(o.clock) || o.clock < 1) problems.push(`clock must be an integer >= 1 (got ${o.clock})`);
    if (!Number.isInteger(o.gracePeriod) || o.gracePeriod < 0) problems.push(`gracePeriod must be an integer >= 0 (got ${o.gracePeriod})`);
    if (!Number.isInteger(o.minWindowLength) || o.minWindowLength < 1) problems.push(`minWindowLength must be an integer >= 1 (got ${o.minWindowLength})`);
    if (problems.length > 0) throw new ConfigInvalidError(problems.map((p) => `ADWIN: ${p}`));
    this.options = Object.freeze(o);
  }

  get driftDetected(): boolean {
    return this.drift;
  }
  get width(): number {
    return this.widthN;
  }
  /** Mean of the current window (River `estimation`). */
  get estimation(): number {
    return this.widthN === 0 ? 0 : this.total / this.widthN;
  }
  get nDetections(): number {
    return this.detections;
  }

  private resetWindow(): void {
    this.rows = [{ totals: [], variances: [] }];
    this.total = 0;
    this.variance = 0;
    this.widthN = 0;
    this.nBuckets = 0;
    this.maxNBuckets = 0;
    this.tick = 0;
    this.detections = 0;
  }

  update(x: number): this {
    if (this.drift) this.resetWindow();
    this.insert(x, 0);
    this.drift = this.detectChange();
    return this;
  }

  private insert(value: number, variance: number): void {
    const b = this.rows[0]!;
    b.totals.push(value);
    b.variances.push(variance);
    this.nBuckets += 1;
    if (this.nBuckets > this.maxNBuckets) this.maxNBuckets = this.nBuckets;
    this.widthN += 1;
    let inc = 0;
    if (this.widthN > 1) {
      const d = value - this.total / (this.widthN - 1);
      inc = ((this.widthN - 1) * d * d) / this.widthN;
    }
    this.variance += inc;
    this.total += value;
    this.compress();
  }

  private compress(): void {
    let idx = 0;
    let bucket: AdwinBucketRow | undefined = this.rows[0];
    while (bucket !== undefined) {
      if (bucket.totals.length !== MAX_BUCKETS + 1) break;
      let next = this.rows[idx + 1];
      if (next === undefined) {
        next = { totals: [], variances: [] };
        this.rows.push(next);
      }
      const n = 2 ** idx;
      const t0 = bucket.totals[0]!;
      const t1 = bucket.totals[1]!;
      const mu1 = t0 / n;
      const mu2 = t1 / n;
      const temp = (n * n * (mu1 - mu2) * (mu1 - mu2)) / (n + n);
      next.totals.push(t0 + t1);
      next.variances.push(bucket.variances[0]! + bucket.variances[1]! + temp);
      this.nBuckets += 1;
      bucket.totals.splice(0, 2);
      bucket.variances.splice(0, 2);
      if (next.totals.length <= MAX_BUCKETS) break;
      bucket = this.rows[idx + 1];
      idx += 1;
    }
  }

  private deleteOldest(): number {
    const last = this.rows.length - 1;
    const bucket = this.rows[last]!;
    const n = 2 ** last;
    const u = bucket.totals[0]!;
    const mu = u / n;
    const v = bucket.variances[0]!;
    this.widthN -= n;
    this.total -= u;
    const muW = this.total / this.widthN;
    this.variance -= v + (n * this.widthN * (mu - muW) * (mu - muW)) / (n + this.widthN);
    bucket.totals.shift();
    bucket.variances.shift();
    this.nBuckets -= 1;
    if (bucket.totals.length === 0) this.rows.pop();
    return n;
  }

  private cut(n0: number, n1: number, deltaMean: number): boolean {
    const mw = this.options.minWindowLength;
    const deltaPrime = Math.log((2 * Math.log(this.widthN)) / this.options.delta);
    const mRecip = 1 / (n0 - mw + 1) + 1 / (n1 - mw + 1);
    const varW = this.variance / this.widthN;
    const eps = Math.sqrt(2 * mRecip * varW * deltaPrime) + (2 / 3) * deltaPrime * mRecip;
    return Math.abs(deltaMean) > eps;
  }

  private detectChange(): boolean {
    let changed = false;
    this.tick += 1;
    const mw = this.options.minWindowLength;
    if (this.tick % this.options.clock === 0 && this.widthN > this.options.gracePeriod) {
      let reduce = true;
      while (reduce) {
        reduce = false;
        let exit = false;
        let n0 = 0;
        let n1 = this.widthN;
        let u0 = 0;
        let u1 = this.total;
        for (let idx = this.rows.length - 1; idx >= 0 && !exit; idx--) {
          const bucket = this.rows[idx]!;
          const n2 = 2 ** idx;
          for (let k = 0; k < bucket.totals.length - 1; k++) {
            const u2 = bucket.totals[k]!;
            n0 += n2;
            n1 -= n2;
            u0 += u2;
            u1 -= u2;
            const deltaMean = u0 / n0 - u1 / n1;
            if (n1 >= mw && n0 >= mw && this.cut(n0, n1, deltaMean)) {
              reduce = true;
              changed = true;
              if (this.widthN > 0) {
                n0 -= this.deleteOldest();
                exit = true;
                break;
              }
            }
          }
        }
      }
    }
    if (changed) this.detections += 1;
    return changed;
  }

  toState(): AdwinState {
    return {
      options: { ...this.options },
      rows: this.rows.map((r) => ({ totals: [...r.totals], variances: [...r.variances] })),
      total: this.total,
      variance: this.variance,
      width: this.widthN,
      nBuckets: this.nBuckets,
      maxNBuckets: this.maxNBuckets,
      tick: this.tick,
      nDetections: this.detections,
      driftDetected: this.drift,
    };
  }

  static fromState(s: AdwinState): Adwin {
    const d = new Adwin(s.options);
    d.rows = s.rows.map((r) => ({ totals: [...r.totals], variances: [...r.variances] }));
    d.total = s.total;
    d.variance = s.variance;
    d.widthN = s.width;
    d.nBuckets = s.nBuckets;
    d.maxNBuckets = s.maxNBuckets;
    d.tick = s.tick;
    d.detections = s.nDetections;
    d.drift = s.driftDetected;
    return d;
  }
}
