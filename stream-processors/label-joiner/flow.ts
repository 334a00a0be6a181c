/**
 * Flow control between the join's two inputs: when the outcomes input runs ahead of the predictions
 * input in event time and the outcomes waiting for their prediction fill the buffer, the adapter
 * pauses that partition of the outcomes topic until the predictions catch up.
 *
 * Why: the join is correct for any interleaving of its inputs (core.ts: the watermark is the minimum
 * of the two), but its memory is bounded. During a catch-up (a backlog after an outage, a replay) the
 * consumer fetches both topics at the rate their bytes allow; outcome records are small, so a fetch
 * holds more outcomes than predictions by event time, and outcomes pile up waiting for predictions
 * that are still unread. Past JOIN_MAX_ORPHANS the oldest are evicted (`orphan_evicted`) and their
 * predictions later go out UNLABELED: a catch-up would change the result. Kafka Streams avoids this
 * by processing, per task, the buffered record with the smallest timestamp first and pausing the
 * partitions whose buffers are full (StreamTask / PartitionGroup, `buffered.records.per.partition`);
 * Flink does the same with watermark alignment (`withWatermarkAlignment`). This is the same rule
 * with hysteresis, over the state the core already counts:
 *  - pause when the outcomes waiting for their prediction reach HIGH_WATER of the outcome cap and the newest outcome is later
 *    in event time than the newest prediction (only reading predictions can then release outcomes);
 *  - resume when the buffer falls to LOW_WATER of the cap, or the predictions caught up in event
 *    time, or the predictions input has been idle for JOIN_IDLE_TIMEOUT_MS (nothing more is coming
 *    to release them: the watermark then moves on the outcomes alone and routes them as
 *    `no_prediction`, as it would without flow control).
 * Pausing only delays reading; no record is skipped, and offsets are committed as before.
 */

/** Share of the per-partition outcome cap at which the outcomes input is paused. */
export const HIGH_WATER = 0.5;
/** Share of the cap at which a paused outcomes input is resumed. */
export const LOW_WATER = 0.25;

export interface FlowState {
  /**
   * Outcomes in the partition's join state still waiting for their prediction. Outcomes that already
   * labeled something are remembered too, but only the watermark releases those, and they are the
   * first to go at the cap (core.ts), so they do not count here.
   */
  readonly waitingOutcomes: number;
  /** The partition's cap on buffered outcomes (JoinSettings.maxOutcomes). */
  readonly maxOutcomes: number;
  /** Newest event time seen on each input (-Infinity before the first record). */
  readonly maxPredictionTime: number;
  readonly maxOutcomeTime: number;
  /** The predictions input delivered nothing for JOIN_IDLE_TIMEOUT_MS of wall time. */
  readonly predictionsIdle: boolean;
}

/** Whether the partition's outcomes input should be paused, given whether it is paused now. */
export function outcomesPaused(state: FlowState, pausedNow: boolean): boolean {
  if (state.predictionsIdle) return false;
  const ahead = state.maxOutcomeTime > state.maxPredictionTime;
  if (!ahead) return false;
  const threshold = (pausedNow ? LOW_WATER : HIGH_WATER) * state.maxOutcomes;
  return pausedNow ? state.waitingOutcomes > threshold : state.waitingOutcomes >= threshold;
}
