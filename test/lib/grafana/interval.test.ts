import { describe, expect, it } from 'vitest';
import { calculateInterval, intervalToMs, roundInterval, secondsToHms } from '../../../lib/grafana/interval.js';

describe('calculateInterval (rangeutil)', () => {
  it('rounds range / maxDataPoints like Grafana', () => {
    expect(roundInterval(86.4e3)).toBe(60_000);
    expect(roundInterval(100)).toBe(100);
    expect(roundInterval(4e9)).toBe(31_536_000_000);
  });
  it('raises to the panel minimum interval', () => {
    expect(calculateInterval(0, 6 * 3_600_000, 1000)).toEqual({ intervalMs: 20_000, interval: '20s' });
    expect(calculateInterval(0, 6 * 3_600_000, 1000, '5m')).toEqual({ intervalMs: 300_000, interval: '5m' });
  });
  it('parses and prints intervals', () => {
    expect(intervalToMs('1m')).toBe(60_000);
    expect(secondsToHms(0.5)).toBe('500ms');
    expect(() => intervalToMs('five')).toThrow();
  });
});
