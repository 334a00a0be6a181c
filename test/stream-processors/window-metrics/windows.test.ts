import { describe, expect, it } from 'vitest';
import { closeTime, globalWatermark, provisionalTime, timingFromSettings, windowStartOf } from '../../../stream-processors/window-metrics/windows.js';

const timing = timingFromSettings({
  WINDOW_SIZE_MS: 60_000,
  WINDOW_ALLOWED_LATENESS_MS: 5_000,
  JOIN_MAX_LABEL_DELAY_MS: 3_600_000,
  JOIN_WATERMARK_DELAY_MS: 30_000,
});

describe('event-time windows', () => {
  it('aligns tumbling windows to the epoch', () => {
    expect(windowStartOf(0, 60_000)).toBe(0);
    expect(windowStartOf(59_999, 60_000)).toBe(0);
    expect(windowStartOf(60_000, 60_000)).toBe(60_000);
    expect(windowStartOf(1_700_000_123_456, 60_000)).toBe(1_700_000_100_000);
  });

  it('closes prediction windows after the lateness and labeled windows after the label delay', () => {
    expect(closeTime('predictions', 0, timing)).toBe(65_000);
    // label lateness = max(allowed lateness, joiner watermark delay)
    expect(timing.labelLatenessMs).toBe(30_000);
    expect(closeTime('labeled', 0, timing)).toBe(60_000 + 3_600_000 + 30_000);
    expect(provisionalTime(0, timing)).toBe(65_000);
  });

  it('takes the minimum over partitions; empty partitions do not hold it back, unconsumed ones do', () => {
    expect(
      globalWatermark([
        { endOffset: 10, watermark: 5 },
        { endOffset: 3, watermark: 9 },
      ]),
    ).toBe(5);
    expect(
      globalWatermark([
        { endOffset: 10, watermark: 5 },
        { endOffset: 0, watermark: null },
      ]),
    ).toBe(5);
    expect(
      globalWatermark([
        { endOffset: 10, watermark: 5 },
        { endOffset: 4, watermark: null },
      ]),
    ).toBe(-Infinity);
    expect(globalWatermark([{ endOffset: 0, watermark: null }])).toBe(-Infinity);
  });
});
