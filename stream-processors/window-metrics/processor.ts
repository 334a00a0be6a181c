/**
 * The window-metrics processor: the thin adapter around the pure core (./state.ts, ./evaluate.ts).
 *
 * Consume (one consumer group over the predictions and labeled-predictions topics):
 *   decode -> fold into the partition's partial summaries -> checkpoint progress + touched partials
 *   to ClickHouse in one insert -> return -> the adapter commits the Kafka offset.
 *   A record at or below the restored checkpoint is skipped (replay after a crash between checkpoint
 *   and commit). Bad records are dead-lettered with their code; an outage is retried without commit.
 *   If the checkpoint fails, the in-memory partition state is dropped and restored from ClickHouse
 *   before the retry, so a retried batch is never folded in twice.
 * Evaluate (every WINDOW_EVAL_INTERVAL_MS, on any instance):
 *   global watermark per topic = min over partitions (progress rows + end offsets) -> windows whose
 *   close time passed -> merge the partials of every partition -> rows -> ClickHouse.
 * docs/windows.md explains windows, lateness, finality and the scale-out argument.
 */
import { createEventCodec, type EventCodec } from '../../lib/contracts/codec.js';
import type { LabeledPrediction, PredictionEvent } from '../../lib/contracts/schemas.js';
import { topicNames, type TopicNames } from '../../lib/contracts/topics.js';
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { toClickHouseTime } from '../../lib/runtime/clickhouse/client.js';
import type { Config } from '../../lib/runtime/config.js';
import { isDriftwatchError, isRetriable, type DriftwatchError } from '../../lib/runtime/errors.js';
import type { BatchOutcome, DeadLetter, KafkaAdapter, RunningConsumer, StreamRecord, TopicPartition } from '../../lib/runtime/kafka.js';
import type { Logger } from '../../lib/runtime/logger.js';
import type { Metrics } from '../../lib/runtime/metrics.js';
import { loadLatestProfile, loadProfileVersion } from '../../lib/reference/store.js';
import type { ProfileEntry } from '../../lib/reference/types.js';
import { decodePartial, encodePartial } from './codec.js';
import { parseMonitoringConfig, type MonitoringConfig } from './config.js';
import { emptyRows, evaluatePerformanceWindow, evaluatePredictionWindow, type WindowRows } from './evaluate.js';
import {
  applyLabeled,
  applyPrediction,
  evictClosed,
  countsOf,
  createPartitionState,
  mergeCounts,
  mergeLabeledPartials,
  mergePredictionPartials,
  partialKey,
  type LabeledPartial,
  type PartitionState,
  type PredictionPartial,
  type StepEnv,
} from './state.js';
import {
  hasMarker,
  listCandidateWindows,
  loadPartitionPartials,
  loadSeen,
  loadProgress,
  loadWindowPartials,
  writeCheckpoint,
  writeSeen,
  writeMarker,
  writeWindowRows,
  type StateRow,
} from './store.js';
import { closeTime, globalWatermark, timingFromSettings, type Source, type WindowTiming } from './windows.js';

export const COMPONENT = 'window-metrics';

export interface WindowMetricsOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly instanceId: string;
  readonly metrics: Metrics;
  readonly clickhouse: ClickHouse;
  readonly kafka: KafkaAdapter;
  readonly codec?: EventCodec;
  /** Consumer group (default `<namespace>.window-metrics`). */
  readonly groupId?: string;
  readonly now?: () => number;
}

export interface WindowMetricsProcessor {
  readonly consumer: RunningConsumer;
  /** Runs one evaluation pass now (also runs on its own every WINDOW_EVAL_INTERVAL_MS). */
  evaluateNow(): Promise<EvaluationReport>;
  stats(): { readonly partitions: number; readonly openPartials: number; readonly records: number; readonly evaluations: number; readonly rowsWritten: number };
  stop(): Promise<void>;
}

export interface EvaluationReport {
  readonly predictionsWatermark: number;
  readonly labeledWatermark: number;
  readonly windowsEvaluated: number;
  readonly rowsWritten: number;
}

const STAGE_PREDICTIONS = 'predictions';
const STAGE_FINAL_STARTED = 'performance_final_started';
const STAGE_FINAL = 'performance_final';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ProfileCache {
  private latest = new Map<string, { entry: ProfileEntry | null; at: number }>();
  private byVersion = new Map<string, ProfileEntry>();
  constructor(
    private readonly ch: ClickHouse,
    private readonly refreshMs: number,
    private readonly now: () => number,
  ) {}

  /** Loads (or refreshes) the newest profile of each pair. */
  async ensure(pairs: Iterable<readonly [string, string]>): Promise<void> {
    for (const [m, v] of pairs) {
      const k = `${m}\u0000${v}`;
      const c = this.latest.get(k);
      if (c && this.now() - c.at < this.refreshMs) continue;
      const entry = await loadLatestProfile(this.ch, m, v);
      this.latest.set(k, { entry, at: this.now() });
      if (entry) this.byVersion.set(`${k}\u0000${entry.profileVersion}`, entry);
    }
  }

  async ensureVersion(m: string, v: string, pv: number): Promise<ProfileEntry | null> {
    if (pv <= 0) return null;
    const k = `${m}\u0000${v}\u0000${pv}`;
    let e = this.byVersion.get(k);
    if (!e) {
      e = (await loadProfileVersion(this.ch, m, v, pv)) ?? undefined;
      if (e) this.byVersion.set(k, e);
    }
    return e ?? null;
  }

  latestOf(m: string, v: string): ProfileEntry | null {
    return this.latest.get(`${m}\u0000${v}`)?.entry ?? null;
  }

  version(m: string, v: string, pv: number): ProfileEntry | null {
    return this.byVersion.get(`${m}\u0000${v}\u0000${pv}`) ?? null;
  }
}

function sourceOf(topic: string, topics: TopicNames): Source {
  return topic === topics.labeledPredictions ? 'labeled' : 'predictions';
}

/** Index of the last window a watermark has closed (changes exactly when a window closes). */
function closedWindowIndex(source: Source, watermark: number, t: WindowTiming): number {
  if (!Number.isFinite(watermark)) return -Infinity;
  return Math.floor((watermark - (closeTime(source, 0, t) - t.sizeMs)) / t.sizeMs);
}

/** Earliest window start whose partial may still be open at `watermark` (restore horizon). */
function restoreFrom(source: Source, watermark: number, t: WindowTiming): number {
  if (!Number.isFinite(watermark)) return 0;
  const span = closeTime(source, 0, t);
  return watermark - span - t.sizeMs;
}

export async function startWindowMetrics(o: WindowMetricsOptions): Promise<WindowMetricsProcessor> {
  const s = o.config.settings;
  const log = o.logger.child({ component: COMPONENT });
  const now = o.now ?? Date.now;
  const monitoring: MonitoringConfig = parseMonitoringConfig(o.config.sections);
  const timing = timingFromSettings(s);
  const namespace = s.DW_TOPIC_NAMESPACE;
  const topics = topicNames(namespace);
  const ch = o.clickhouse;
  const codec =
    o.codec ??
    createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics, {
      requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
    });
  const profiles = new ProfileCache(ch, s.WINDOW_PROFILE_REFRESH_MS, now);
  const states = new Map<string, PartitionState>();
  const inputTopics = [topics.predictions, topics.labeledPredictions];
  let evaluations = 0;
  let rowsWritten = 0;
  let recordsDone = 0;

  const env: StepEnv = { timing, config: monitoring, profileFor: (m, v) => profiles.latestOf(m, v) };
  const tpKey = (topic: string, partition: number) => `${topic}:${partition}`;

  async function restorePartition(topic: string, partition: number): Promise<PartitionState> {
    const source = sourceOf(topic, topics);
    const progress = (await loadProgress(ch, [topic])).find((p) => p.partition === partition);
    const st = createPartitionState(
      topic,
      partition,
      source,
      progress ? { throughOffset: progress.nextOffset - 1, watermark: progress.watermark ?? -Infinity, lateEvents: progress.lateEvents } : undefined,
    );
    const from = restoreFrom(source, st.watermark, timing);
    const rows = await loadPartitionPartials(ch, topic, partition, from);
    for (const r of rows) {
      if (closeTime(source, r.windowStart, timing) <= st.watermark) continue;
      if (r.profileVersion > 0) await profiles.ensureVersion(r.model, r.version, r.profileVersion);
      const p = decodePartial(r.state, (m, v, pv) => profiles.version(m, v, pv));
      st.partials.set(partialKey(p.model, p.version, p.windowStart), p);
    }
    if (source === 'labeled' && progress) {
      for (const r of await loadSeen(ch, topic, partition, from, progress.nextOffset)) {
        const k = partialKey(r.model, r.version, r.windowStart);
        if (!st.partials.has(k)) continue; // window closed: its partial is gone, and so is its dedup set
        let seen = st.seen.get(k);
        if (!seen) st.seen.set(k, (seen = new Set()));
        seen.add(r.identity);
      }
    }
    states.set(tpKey(topic, partition), st);
    log.info({ topic, partition, nextOffset: st.throughOffset + 1, watermark: st.watermark, partials: st.partials.size }, 'partition state restored');
    return st;
  }

  async function handleBatch(records: readonly StreamRecord[]): Promise<BatchOutcome> {
    const first = records[0]!;
    const key = tpKey(first.topic, first.partition);
    const st = states.get(key) ?? (await restorePartition(first.topic, first.partition));
    const t0 = process.hrtime.bigint();
    const deadLetters: DeadLetter[] = [];
    const decoded: Array<{ offset: number; value: PredictionEvent | LabeledPrediction }> = [];
    const wallNow = now();
    for (const r of records) {
      const offset = Number(r.offset);
      if (offset <= st.throughOffset) continue; // folded in before a crash: never twice
      try {
        const d = await codec.decode<PredictionEvent | LabeledPrediction>(r.topic, r.value, wallNow);
        decoded.push({ offset, value: d.value });
      } catch (err) {
        if (isDriftwatchError(err) && !isRetriable(err)) deadLetters.push({ record: r, error: err as DriftwatchError });
        else throw err;
      }
    }
    const tDecoded = process.hrtime.bigint();
    const pairs = new Map<string, readonly [string, string]>();
    for (const d of decoded) pairs.set(`${d.value.model_name}\u0000${d.value.model_version}`, [d.value.model_name, d.value.model_version]);
    await profiles.ensure(pairs.values());
    // Partials restored or created earlier may use an older profile version: make sure it is loaded.
    for (const p of st.partials.values())
      if (p.source === 'predictions' && p.profileVersion > 0) await profiles.ensureVersion(p.model, p.version, p.profileVersion);

    const touched = new Set<string>();
    let tApplied = 0n;
    let tEncoded = 0n;
    let stateBytes = 0;
    const wmBefore = st.watermark;
    let late = 0;
    let duplicates = 0;
    try {
      for (const d of decoded) {
        const res =
          st.source === 'predictions'
            ? applyPrediction(st, d.value as PredictionEvent, env, (m, v, pv) => profiles.version(m, v, pv))
            : applyLabeled(st, d.value as LabeledPrediction, env, d.offset);
        if (res.kind === 'added') touched.add(res.key);
        else if (res.kind === 'late') late++;
        else if (res.kind === 'duplicate') duplicates++;
      }
      tApplied = process.hrtime.bigint();
      st.throughOffset = Math.max(st.throughOffset, Number(records[records.length - 1]!.offset));
      const updatedAt = toClickHouseTime(now());
      const rows: StateRow[] = [
        {
          topic: st.topic,
          partition: st.partition,
          kind: 'progress',
          model_name: '',
          model_version: '',
          window_start: toClickHouseTime(0),
          next_offset: st.throughOffset + 1,
          watermark: Number.isFinite(st.watermark) ? st.watermark : -1,
          late_events: st.lateEvents,
          profile_version: 0,
          n_rows: 0,
          counts: '',
          state: '',
          updated_at: updatedAt,
        },
      ];
      for (const k of touched) {
        const p = st.partials.get(k)!;
        const counts = p.source === 'predictions' ? countsOf(p) : {};
        // Events in the partial: the '' segment holds every event once.
        const all = p.segments[''];
        const n = !all ? 0 : 'champion' in all ? all.champion + all.shadow : (all.perf[0]?.total ?? 0) + (all.perf[1]?.total ?? 0);
        rows.push({
          topic: st.topic,
          partition: st.partition,
          kind: 'partial',
          model_name: p.model,
          model_version: p.version,
          window_start: toClickHouseTime(p.windowStart),
          next_offset: st.throughOffset + 1,
          watermark: Number.isFinite(st.watermark) ? st.watermark : -1,
          late_events: 0,
          profile_version: p.source === 'predictions' ? p.profileVersion : 0,
          n_rows: n,
          counts: JSON.stringify(counts),
          state: encodePartial(p),
          updated_at: updatedAt,
        });
      }
      tEncoded = process.hrtime.bigint();
      for (const r of rows) stateBytes += r.state.length;
      if (st.seenAdded.length > 0) {
        const seenRows = st.seenAdded.map(({ key: k, identity, offset }) => {
          const p = st.partials.get(k)!;
          return { model: p.model, version: p.version, windowStart: p.windowStart, identity, offset };
        });
        // Before the checkpoint: a checkpoint must never cover an identity that is not durable.
        await writeSeen(ch, st.topic, st.partition, seenRows, now());
        st.seenAdded = [];
      }
      await writeCheckpoint(ch, rows);
    } catch (err) {
      // The in-memory state may hold events that are not durable: forget it, restore on retry.
      states.delete(key);
      throw err;
    }
    evictClosed(st, timing);
    recordsDone += records.length;
    // Evaluate soon only when this partition's watermark closed a window; the periodic tick covers
    // the rest (other partitions' progress, provisional updates from late labels).
    if (closedWindowIndex(st.source, wmBefore, timing) !== closedWindowIndex(st.source, st.watermark, timing)) scheduleEvaluation();
    o.metrics.eventsConsumed.inc({ topic: first.topic }, records.length);
    if (late > 0) o.metrics.windowLateEvents.inc({ topic: first.topic }, late);
    if (duplicates > 0) o.metrics.windowDuplicateEvents.inc({ topic: first.topic }, duplicates);
    o.metrics.batchSize.observe(records.length);
    const tEnd = process.hrtime.bigint();
    o.metrics.batchDuration.observe({ topic: first.topic }, Number(tEnd - t0) / 1e9);
    const ms = (a: bigint, b: bigint) => Number(b - a) / 1e6;
    log.debug(
      {
        topic: first.topic,
        partition: first.partition,
        records: records.length,
        decodeMs: ms(t0, tDecoded),
        applyMs: ms(tDecoded, tApplied),
        encodeMs: ms(tApplied, tEncoded),
        checkpointMs: ms(tEncoded, tEnd),
        stateBytes,
        partials: touched.size,
      },
      'batch checkpointed',
    );
    return { deadLetters };
  }

  // ---- evaluation ------------------------------------------------------------------------------

  const lastProvisional = new Map<string, { fingerprint: string; at: number }>();
  // Provisional rows of a window are refreshed at most this often (a tenth of a window, between the
  // evaluation interval and a minute): label-by-label refreshes would rewrite every open window of a
  // day-long label delay on every tick.
  const provisionalEveryMs = Math.min(60_000, Math.max(s.WINDOW_EVAL_INTERVAL_MS, timing.sizeMs / 10));
  let evalRunning: Promise<EvaluationReport> | null = null;
  let evalAgain = false;
  let stopped = false;

  async function topicWatermark(topic: string, progress: Awaited<ReturnType<typeof loadProgress>>): Promise<{ wm: number; empty: boolean }> {
    const ends = await o.kafka.endOffsets(topic);
    const parts = [...ends].map(([partition, endOffset]) => {
      const p = progress.find((x) => x.topic === topic && x.partition === partition);
      // A partition whose data was never consumed holds the watermark back.
      return { endOffset, watermark: p ? p.watermark : null };
    });
    return { wm: globalWatermark(parts), empty: parts.every((p) => p.endOffset <= 0 && p.watermark === null) };
  }

  async function decodeAll<P>(rows: Awaited<ReturnType<typeof loadWindowPartials>>): Promise<P[]> {
    const out: P[] = [];
    for (const r of rows) {
      if (r.profileVersion > 0) await profiles.ensureVersion(r.model, r.version, r.profileVersion);
      out.push(decodePartial(r.state, (m, v, pv) => profiles.version(m, v, pv)) as P);
    }
    return out;
  }

  async function evaluatePredictionStage(c: { model: string; version: string; windowStart: number; fingerprint: string }): Promise<number> {
    const partials = await decodeAll<PredictionPartial>(await loadWindowPartials(ch, topics.predictions, c.model, c.version, c.windowStart));
    const merged = mergePredictionPartials(partials);
    const profile = merged.profileVersion > 0 ? await profiles.ensureVersion(c.model, c.version, merged.profileVersion) : null;
    const rows = evaluatePredictionWindow(
      { model: c.model, version: c.version, windowStart: c.windowStart, windowEnd: c.windowStart + timing.sizeMs, computedAt: now() },
      merged,
      profile,
      monitoring,
    );
    const n = await writeWindowRows(ch, rows);
    await writeMarker(ch, {
      namespace,
      stage: STAGE_PREDICTIONS,
      model: c.model,
      version: c.version,
      windowStart: c.windowStart,
      fingerprint: c.fingerprint,
      instance: o.instanceId,
      at: now(),
    });
    o.metrics.windowsClosed.inc({ kind: 'predictions' });
    o.metrics.windowCloseDelay.observe(Math.max(0, (now() - (c.windowStart + timing.sizeMs)) / 1000));
    return n;
  }

  async function performanceRows(c: { model: string; version: string; windowStart: number }, isFinal: boolean): Promise<WindowRows> {
    const labeled = await decodeAll<LabeledPartial>(await loadWindowPartials(ch, topics.labeledPredictions, c.model, c.version, c.windowStart));
    const predCounts = (await loadWindowPartials(ch, topics.predictions, c.model, c.version, c.windowStart, false)).map(
      (r) => JSON.parse(r.counts || '{}') as Record<string, [number, number]>,
    );
    const profile = await (async () => {
      await profiles.ensure([[c.model, c.version]]);
      return profiles.latestOf(c.model, c.version);
    })();
    return evaluatePerformanceWindow(
      { model: c.model, version: c.version, windowStart: c.windowStart, windowEnd: c.windowStart + timing.sizeMs, computedAt: now() },
      mergeLabeledPartials(labeled),
      mergeCounts(predCounts),
      profile,
      monitoring,
      isFinal,
    );
  }

  async function evaluatePerformanceStage(c: { model: string; version: string; windowStart: number; fingerprint: string }, isFinal: boolean): Promise<number> {
    const mk = (stage: string) => ({
      namespace,
      stage,
      model: c.model,
      version: c.version,
      windowStart: c.windowStart,
      fingerprint: c.fingerprint,
      instance: o.instanceId,
      at: now(),
    });
    if (isFinal) {
      // Marker first: a provisional writer that finishes after this point sees it and rewrites final rows.
      await writeMarker(ch, mk(STAGE_FINAL_STARTED));
      const n = await writeWindowRows(ch, await performanceRows(c, true));
      await writeMarker(ch, mk(STAGE_FINAL));
      lastProvisional.delete(`${c.model}\u0000${c.version}\u0000${c.windowStart}`);
      o.metrics.windowsClosed.inc({ kind: 'performance' });
      return n;
    }
    const key = `${c.model}\u0000${c.version}\u0000${c.windowStart}`;
    const last = lastProvisional.get(key);
    if (last && (last.fingerprint === c.fingerprint || now() - last.at < provisionalEveryMs)) return 0;
    let n = await writeWindowRows(ch, await performanceRows(c, false));
    if (await hasMarker(ch, namespace, STAGE_FINAL_STARTED, c.model, c.version, c.windowStart)) {
      // Another instance finalised the window meanwhile; our provisional rows may be newer: rewrite final.
      n += await writeWindowRows(ch, await performanceRows(c, true));
    }
    lastProvisional.set(key, { fingerprint: c.fingerprint, at: now() });
    return n;
  }

  async function evaluateOnce(): Promise<EvaluationReport> {
    const progress = await loadProgress(ch, inputTopics);
    const pw = await topicWatermark(topics.predictions, progress);
    const gL = (await topicWatermark(topics.labeledPredictions, progress)).wm;
    // A deployment without a predictions topic feed (labeled predictions only) makes performance
    // rows provisional on the labeled watermark instead.
    const gP = pw.empty ? gL : pw.wm;
    let windows = 0;
    let rows = 0;
    // Stage 1: windows whose predictions are final.
    const maxPredStart = gP - timing.sizeMs - timing.latenessMs;
    for (const c of await listCandidateWindows(ch, namespace, [topics.predictions], maxPredStart, STAGE_PREDICTIONS)) {
      if (stopped) break;
      rows += await evaluatePredictionStage(c);
      windows++;
    }
    // Stage 2: performance, provisional from the moment predictions are final, final after the label delay.
    for (const c of await listCandidateWindows(ch, namespace, [topics.predictions, topics.labeledPredictions], maxPredStart, STAGE_FINAL)) {
      if (stopped) break;
      const isFinal = closeTime('labeled', c.windowStart, timing) <= gL;
      const n = await evaluatePerformanceStage(c, isFinal);
      if (n > 0) windows++;
      rows += n;
    }
    evaluations++;
    rowsWritten += rows;
    return { predictionsWatermark: gP, labeledWatermark: gL, windowsEvaluated: windows, rowsWritten: rows };
  }

  function evaluateNow(): Promise<EvaluationReport> {
    if (evalRunning) {
      evalAgain = true;
      return evalRunning;
    }
    evalRunning = (async () => {
      try {
        let r = await evaluateOnce();
        while (evalAgain && !stopped) {
          evalAgain = false;
          r = await evaluateOnce();
        }
        return r;
      } finally {
        evalRunning = null;
      }
    })();
    return evalRunning;
  }

  let scheduled: ReturnType<typeof setTimeout> | null = null;
  function scheduleEvaluation(): void {
    if (scheduled || stopped) return;
    scheduled = setTimeout(() => {
      scheduled = null;
      void evaluateNow().catch((err) =>
        log.warn({ err: isDriftwatchError(err) ? err.toJSON() : String(err) }, 'window evaluation failed; retrying on the next tick'),
      );
    }, 50);
  }

  const loop = (async () => {
    while (!stopped) {
      await sleep(s.WINDOW_EVAL_INTERVAL_MS);
      if (stopped) break;
      try {
        await evaluateNow();
      } catch (err) {
        log.warn({ err: isDriftwatchError(err) ? err.toJSON() : String(err) }, 'window evaluation failed; retrying on the next tick');
      }
    }
  })();

  const consumer = await o.kafka.runConsumer({
    groupId: o.groupId ?? `${namespace}.${COMPONENT}`,
    topics: inputTopics,
    component: COMPONENT,
    deadLetterTopic: topics.deadLetter,
    maxBytesPerPartition: s.WINDOW_FETCH_MAX_BYTES,
    // Partitions have independent state: process several at once so decoding overlaps checkpoint I/O.
    partitionsConsumedConcurrently: 4,
    handleBatch: (records) => handleBatch(records),
    onPartitionStart: async (tp: TopicPartition) => {
      await restorePartition(tp.topic, tp.partition);
    },
    onPartitionsRevoked: async (tps) => {
      for (const tp of tps) states.delete(tpKey(tp.topic, tp.partition));
    },
    onDeadLetter: (dl) => o.metrics.deadLetters.inc({ code: dl.error.code, topic: dl.record.topic }),
    onRetry: (err) => o.metrics.retries.inc({ code: isDriftwatchError(err) ? err.code : 'UNKNOWN' }),
  });

  return {
    consumer,
    evaluateNow,
    stats: () => ({
      partitions: states.size,
      openPartials: [...states.values()].reduce((a, st) => a + st.partials.size, 0),
      records: recordsDone,
      evaluations,
      rowsWritten,
    }),
    async stop() {
      stopped = true;
      if (scheduled) clearTimeout(scheduled);
      await consumer.stop();
      await loop;
      if (evalRunning) await evalRunning.catch(() => undefined);
    },
  };
}

export { emptyRows };
