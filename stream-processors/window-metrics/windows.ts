/**
 * Event-time windows, watermarks and lateness (docs/windows.md is the prose version).
 *
 *  - Tumbling windows of WINDOW_SIZE_MS aligned to the epoch: [k·size, (k+1)·size).
 *  - Each input partition has its own watermark W_p: the largest *progress time* seen in it. A
 *    prediction's progress time is its event_time. A labeled prediction's is the moment the
 *    label-joiner could emit it: its outcome_time when LABELED, prediction_time +
 *    JOIN_MAX_LABEL_DELAY_MS when UNLABELED (the join expired).
 *  - A window closes in partition p when W_p >= close time:
 *      predictions (drift, data quality, CBPE, prediction KPIs): end + WINDOW_ALLOWED_LATENESS_MS
 *      labeled predictions (realized performance, outcome KPIs):  end + JOIN_MAX_LABEL_DELAY_MS + label lateness,
 *    with label lateness = max(WINDOW_ALLOWED_LATENESS_MS, JOIN_WATERMARK_DELAY_MS), because the joiner
 *    emits expirations up to its own watermark delay after the outcomes that share their time.
 *  - An event whose window is already closed in its partition is *late*: counted, not added. The rule
 *    only looks at the event's own partition, so which events count is a function of each partition's
 *    record sequence alone — identical whichever instance consumes it (the scale-out guarantee).
 *  - A window is evaluated when it is closed in *every* partition of the topic (the global
 *    watermark, min_p W_p, passed its close time): from then on no partition can change it.
 */
import type { Settings } from '../../lib/runtime/config.js';

export type Source = 'predictions' | 'labeled';

export interface WindowTiming {
  readonly sizeMs: number;
  readonly latenessMs: number;
  readonly labelDelayMs: number;
  readonly labelLatenessMs: number;
}

export function timingFromSettings(
  s: Pick<Settings, 'WINDOW_SIZE_MS' | 'WINDOW_ALLOWED_LATENESS_MS' | 'JOIN_MAX_LABEL_DELAY_MS' | 'JOIN_WATERMARK_DELAY_MS'>,
): WindowTiming {
  return {
    sizeMs: s.WINDOW_SIZE_MS,
    latenessMs: s.WINDOW_ALLOWED_LATENESS_MS,
    labelDelayMs: s.JOIN_MAX_LABEL_DELAY_MS,
    labelLatenessMs: Math.max(s.WINDOW_ALLOWED_LATENESS_MS, s.JOIN_WATERMARK_DELAY_MS),
  };
}

export function windowStartOf(t: number, sizeMs: number): number {
  return Math.floor(t / sizeMs) * sizeMs;
}

/** The watermark at which a window stops accepting events (per partition) and can be evaluated (globally). */
export function closeTime(source: Source, windowStart: number, t: WindowTiming): number {
  const end = windowStart + t.sizeMs;
  return source === 'predictions' ? end + t.latenessMs : end + t.labelDelayMs + t.labelLatenessMs;
}

/** The watermark at which a window's performance rows become provisional: its predictions are final. */
export function provisionalTime(windowStart: number, t: WindowTiming): number {
  return closeTime('predictions', windowStart, t);
}

/**
 * Global watermark of a topic: the minimum over its partitions. Partitions that never held a record
 * (end offset 0) do not hold it back; a partition with records but no progress yet does (-Infinity).
 */
export function globalWatermark(partitions: ReadonlyArray<{ readonly endOffset: number; readonly watermark: number | null }>): number {
  let min = Infinity;
  let any = false;
  for (const p of partitions) {
    if (p.endOffset <= 0 && p.watermark === null) continue;
    any = true;
    min = Math.min(min, p.watermark ?? -Infinity);
  }
  return any ? min : -Infinity;
}
