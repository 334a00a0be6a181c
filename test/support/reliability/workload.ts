/**
 * The reliability suite's traffic: a seeded, realistic stream of PredictionEvents and their delayed
 * OutcomeEvents (test/support/window-stream.ts's binary classifier with covariate drift and segments),
 * laid out the way producers lay it out (key = prediction_id, co-partitioned), in production order,
 * plus the sentinels that push every partition's watermarks past every deadline at the end.
 *
 * Sizes come from `reliabilityScale()`: the bounded CI form by default, a longer form with
 * DW_RELIABILITY_SCALE=full (docs/reliability.md).
 */
import type { EventCodec } from '../../../lib/contracts/codec.js';
import type { OutcomeEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import type { TopicNames } from '../../../lib/contracts/topics.js';
import type { OutboundRecord, Producer } from '../../../lib/runtime/kafka.js';
import { eventHash } from '../../../stream-processors/label-joiner/core.js';
import { HEARTBEAT_MODEL } from '../../../stream-processors/window-metrics/state.js';
import { generateStream } from '../window-stream.js';

export const PARTITIONS = 4;
export const MODEL = 'credit';
export const VERSION = 'v1';

/**
 * Event-time settings shared by every component of a reliability run. Windows are one minute of
 * event time; labels arrive up to 90 s after their prediction and the joiner waits 120 s. The window
 * lateness (30 s) exceeds the join watermark delay (10 s), so the sentinels below can close the join
 * without making its expirations late in window-metrics (see `sentinels`). The idle timeout is far
 * above any test's wall time, so the join watermark is a function of the records alone and the
 * pure-core oracle (./oracle.ts) sees the same watermarks as the processes.
 */
export const EVENT_TIME_ENV = {
  KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
  WINDOW_SIZE_MS: '60000',
  WINDOW_ALLOWED_LATENESS_MS: '30000',
  JOIN_MAX_LABEL_DELAY_MS: '120000',
  JOIN_WATERMARK_DELAY_MS: '10000',
  JOIN_CLOSED_RETENTION_MS: '600000',
  JOIN_IDLE_TIMEOUT_MS: '3600000',
  WINDOW_EVAL_INTERVAL_MS: '500',
} as const;

export const WINDOW_MS = 60_000;
const LABEL_WAIT_MS = 120_000;
const GENERATED_LABEL_DELAY_MS = 90_000;

/** Failure detection and backoff short enough for a bounded test (the defaults suit production). */
export const FAST_RECOVERY_ENV = {
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '500',
  RETRY_INITIAL_MS: '100',
  RETRY_MAX_MS: '1000',
  RETRAIN_POLL_INTERVAL_MS: '1000',
  RETRAIN_SETTLE_MS: '1000',
  API_LAG_POLL_MS: '0',
} as const;

export type Scale = 'ci' | 'full';

export function reliabilityScale(): Scale {
  const v = (process.env.DW_RELIABILITY_SCALE ?? 'ci').trim().toLowerCase();
  if (v !== 'ci' && v !== 'full') throw new Error(`DW_RELIABILITY_SCALE must be ci or full, not ${v}`);
  return v;
}

/** Picks the CI or the full figure. */
export function sized<T>(ci: T, full: T): T {
  return reliabilityScale() === 'full' ? full : ci;
}

export interface Record_ {
  readonly stream: 'predictions' | 'outcomes';
  readonly partition: number;
  readonly key: string;
  readonly event: PredictionEvent | OutcomeEvent;
  /** Event time (prediction) or outcome time: production order. */
  readonly t: number;
}

export interface Workload {
  /** Data records (sentinels excluded), in production order. */
  readonly records: readonly Record_[];
  /** Round-1 watermark sentinels, produced after every data record (see `sentinels`). */
  readonly sentinels: readonly Record_[];
  /** Round-2 sentinels: produced only once the join has emitted everything (waitForCompletion does). */
  readonly closers: readonly Record_[];
  readonly predictions: readonly PredictionEvent[];
  readonly outcomes: readonly OutcomeEvent[];
  readonly windows: number;
  readonly start: number;
}

export function partitionOf(predictionId: string): number {
  return eventHash(predictionId) % PARTITIONS;
}

/** An id whose partition is `p` (sentinels must land in a given partition). */
function idInPartition(prefix: string, p: number): string {
  for (let i = 0; ; i++) {
    const id = `${prefix}-${i}`;
    if (partitionOf(id) === p) return id;
  }
}

/**
 * `predictions` predictions spread over whole windows (at least `minWindows`), ~90% labeled with a
 * delay U(0, 90 s), the rest never labeled (they expire UNLABELED); a covariate shift of x1 in the
 * second half (drift rows then differ from window to window). Times end at least a day in the past
 * (MAX_FUTURE_SKEW_MS never applies) and start at a window boundary.
 */
export function buildWorkload(seed: number, predictions: number, minWindows = 6): Workload {
  const windows = Math.max(minWindows, Math.ceil(predictions / 2000));
  const perWindow = Math.ceil(predictions / windows);
  const start = Math.floor((Date.now() - 86_400_000 - windows * WINDOW_MS) / WINDOW_MS) * WINDOW_MS;
  const half = Math.floor(windows / 2);
  const events = generateStream({
    seed,
    model: MODEL,
    version: VERSION,
    start,
    windowMs: WINDOW_MS,
    eventsPerWindow: perWindow,
    labelDelayMs: GENERATED_LABEL_DELAY_MS,
    phases: [
      { name: 'stationary', windows: half },
      { name: 'shifted', windows: windows - half, covariateShift: { x1: 0.8 } },
    ],
    regions: ['north', 'south', 'east'],
  });
  const records: Record_[] = [];
  const preds: PredictionEvent[] = [];
  const outs: OutcomeEvent[] = [];
  for (const e of events) {
    const p = e.prediction;
    const part = partitionOf(p.prediction_id);
    preds.push(p);
    records.push({ stream: 'predictions', partition: part, key: p.prediction_id, event: p, t: p.event_time });
    if (e.labeled.status === 'LABELED') {
      const o: OutcomeEvent = {
        event_id: e.labeled.outcome_event_id!,
        prediction_id: p.prediction_id,
        model_name: p.model_name,
        outcome_time: e.labeled.outcome_time!,
        label: e.labeled.label,
        target_value: null,
        business: { ...e.labeled.business },
      };
      outs.push(o);
      records.push({ stream: 'outcomes', partition: part, key: p.prediction_id, event: o, t: o.outcome_time });
    }
  }
  // Stable: a prediction and its delay-0 outcome keep prediction-first order.
  records.sort((a, b) => a.t - b.t);
  const s = sentinels(seed, start + windows * WINDOW_MS);
  return { records, sentinels: s.filter((r) => r.round === 1), closers: s.filter((r) => r.round === 2), predictions: preds, outcomes: outs, windows, start };
}

/**
 * Heartbeat prediction+outcome pairs (model __heartbeat__, which window-metrics only uses for its
 * watermark) per partition, in two rounds:
 *  - round 1, every 15 s of event time from end + 15 s to end + 135 s: the join watermark
 *    (135 − 10 = 125 s after the end) passes every prediction's deadline (≤ end + 120 s), so every
 *    data prediction is emitted. (The 15 s steps date from when a LABELED record's progress time was
 *    its outcome time, which ran ahead of the expirations its watermark advance released; the
 *    joiner's join_watermark stamp made that safe for any step, and the steps were kept.)
 *  - round 2 at end + 400 s and end + 420 s: closes every window in window-metrics (both sources).
 *    It is produced only once the join has emitted everything (waitForCompletion), so nothing is
 *    emitted after it.
 */
function sentinels(seed: number, end: number): (Record_ & { round: 1 | 2 })[] {
  const out: (Record_ & { round: 1 | 2 })[] = [];
  const times: [1 | 2, number][] = [];
  for (let k = 1; k * 15_000 <= LABEL_WAIT_MS + 15_000; k++) times.push([1, end + k * 15_000]);
  // Two closer steps: a joined pair is stamped with the joiner's watermark from before it (see
  // LabeledPrediction.join_watermark), so the first pair moves the joiner's watermark to end + 390 s
  // and the second carries it to window-metrics.
  times.push([2, end + 400_000], [2, end + 420_000]);
  for (const [round, t] of times) {
    for (let p = 0; p < PARTITIONS; p++) {
      const id = idInPartition(`zz-sentinel-${seed}-${t - end}-p${p}`, p);
      const pred: PredictionEvent = {
        event_id: `e-${id}`,
        prediction_id: id,
        model_name: HEARTBEAT_MODEL,
        model_version: 'hb',
        event_time: t,
        features: {},
        score: null,
        probabilities: {},
        predicted_label: null,
        predicted_value: null,
        latency_ms: null,
        segment: {},
        is_shadow: false,
        fallback: null,
      };
      const outcome: OutcomeEvent = {
        event_id: `o-${id}`,
        prediction_id: id,
        model_name: HEARTBEAT_MODEL,
        outcome_time: t,
        label: null,
        target_value: null,
        business: {},
      };
      out.push({ stream: 'predictions', partition: p, key: id, event: pred, t, round });
      out.push({ stream: 'outcomes', partition: p, key: id, event: outcome, t, round });
    }
  }
  return out;
}

/** Every record of the run, closers included (oracles and accounting). */
export function allRecords(w: Workload): Record_[] {
  return [...inputRecords(w), ...w.closers];
}

/** What a scenario produces itself: data and round-1 sentinels (waitForCompletion sends the closers). */
export function inputRecords(w: Workload): Record_[] {
  // Merged in time order (stable): the round-1 heartbeats interleave with the last outcomes, as
  // ongoing traffic would. Appended after them instead, the predictions input would stall at the
  // end for 90 s of outcomes and the expirations would follow outcome-time LABELED records late.
  return [...w.records, ...w.sentinels].sort((a, b) => a.t - b.t);
}

/** Encodes records (Avro through the registry, Confluent wire format). */
export async function encodeRecords(codec: EventCodec, topics: TopicNames, records: readonly Record_[]): Promise<OutboundRecord[]> {
  const out: OutboundRecord[] = [];
  for (const r of records) {
    const topic = topics[r.stream];
    out.push({ topic, key: r.key, value: await codec.encode(topic, r.event), partition: r.partition });
  }
  return out;
}

/** Sends encoded records in chunks, retrying a chunk while the broker is away (scenario 2). */
export async function sendAll(producer: Producer, records: readonly OutboundRecord[], chunk = 1000): Promise<void> {
  for (let i = 0; i < records.length; i += chunk) await producer.send(records.slice(i, i + chunk));
}

/**
 * Produces `records` paced over about `durationMs` (in `steps` chunks), calling `onStep(i)` after each
 * chunk: the fault injections of a scenario run between chunks, so they land mid-stream.
 */
export async function producePaced(
  producer: Producer,
  records: readonly OutboundRecord[],
  o: { steps: number; durationMs: number; onStep?: (step: number) => Promise<void> | void },
): Promise<void> {
  const per = Math.ceil(records.length / o.steps);
  const pause = o.durationMs / o.steps;
  for (let s = 0; s < o.steps; s++) {
    const began = Date.now();
    const chunk = records.slice(s * per, (s + 1) * per);
    if (chunk.length > 0) await sendAll(producer, chunk);
    await o.onStep?.(s);
    const left = pause - (Date.now() - began);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
}
