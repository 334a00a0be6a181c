/**
 * The query interval Grafana's panel query runner computes for a time range, as `@grafana/data`
 * rangeutil.calculateInterval does: (to - from) / maxDataPoints rounded by `roundInterval`, raised to
 * the panel's minimum interval (`panel.interval`, e.g. "5m"). `$__timeInterval` and `$__interval_s`
 * are built from it.
 */

/** rangeutil.roundInterval (ms -> ms). */
export function roundInterval(ms: number): number {
  const steps: ReadonlyArray<readonly [number, number]> = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, value] of steps) if (ms < below) return value;
  return 31536000000;
}

/** rangeutil.intervalToMs for the units a panel interval uses (ms, s, m, h, d, w, y). */
export function intervalToMs(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/.exec(s.trim());
  if (!m) throw new Error(`invalid interval ${JSON.stringify(s)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}

/** rangeutil.secondsToHms. */
export function secondsToHms(seconds: number): string {
  const units: ReadonlyArray<readonly [string, number]> = [
    ['y', 31536000],
    ['w', 604800],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  for (const [u, n] of units) {
    const v = Math.floor(seconds / n);
    if (v) return `${v}${u}`;
  }
  const ms = Math.floor(seconds * 1000);
  return ms ? `${ms}ms` : 'less than a millisecond';
}

export function calculateInterval(fromMs: number, toMs: number, maxDataPoints: number, minInterval?: string): { intervalMs: number; interval: string } {
  let intervalMs = roundInterval((toMs - fromMs) / maxDataPoints);
  const low = minInterval ? intervalToMs(minInterval) : 1;
  if (low > intervalMs) intervalMs = low;
  return { intervalMs, interval: secondsToHms(intervalMs / 1000) };
}
