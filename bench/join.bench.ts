/**
 * Label-join benchmark.
 *
 *   npx tsx bench/join.bench.ts [--quick] [--core 300000] [--e2e 100000] [--repeats 3] [--pending 1000000,5000000]
 *                               [--memory-repeats N (default: --repeats)]
 *   (npm run bench join runs it with --expose-gc)
 *
 * Measures, side by side in one run:
 *  (a) the pure core (stream-processors/label-joiner/core.ts): events/s and joins/s through
 *      JoinCore.step, alone and with the changelog serialisation the adapter does per batch;
 *  (b) end to end through Kafka: predictions and outcomes produced to a fresh namespace (4
 *      partitions, Avro through the registry), then `startLabelJoiner` in-process with embedded
 *      ClickHouse, from group join until every prediction is emitted (rows inserted, labeled topic and
 *      changelog acknowledged, offsets committed), next to a raw consumer of the same topics that only
 *      counts (the ratio is the cost of the join);
 *  (c) memory per pending prediction: a child process (`--expose-gc --max-old-space-size=1024`)
 *      holds 1 000 000 pending predictions (no outcome ever arrives, so nothing expires) and reports
 *      the heap used; 5 000 000 is tried in a child with a 4 GiB heap. For scale, the same prediction
 *      held as a decoded object in a Map (what a naive join keeps) is measured at 200 000. The
 *      core's own estimate (the driftwatch_join_pending_bytes_estimate gauge) is compared with the
 *      measured heap. Every memory child runs --memory-repeats times (a fresh process each).
 * Every part repeats --repeats times (end to end included) and reports median, min, max, spread.
 * Prediction shape everywhere: 36-character ids, 10 numeric + 2 categorical + 1 boolean features, two
 * class probabilities, a predicted label, one segment key.
 * Progress goes to stderr; the result to bench/results/join.json.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEventCodec } from '../lib/contracts/codec.js';
import type { OutcomeEvent, PredictionEvent } from '../lib/contracts/schemas.js';
import { topicNames } from '../lib/contracts/topics.js';
import { openClickHouse } from '../lib/runtime/clickhouse/client.js';
import { migrate } from '../lib/runtime/clickhouse/migrations.js';
import { loadConfig } from '../lib/runtime/config.js';
import { createKafkaAdapter, type OutboundRecord } from '../lib/runtime/kafka.js';
import { createLogger } from '../lib/runtime/logger.js';
import { createMetrics } from '../lib/runtime/metrics.js';
import { mulberry32 } from '../lib/stats/random.js';
import { JoinCore, type JoinInput, type JoinSettings } from '../stream-processors/label-joiner/core.js';
import { startLabelJoiner } from '../stream-processors/label-joiner/main.js';
import { beginSuite, metric, summarize, writeSuiteResult, type Summary, type SuiteResult, type TargetCheck } from './lib.js';

const SUITE = 'join';
let log: (m: string) => void = () => undefined;
const PARTITIONS = 4;

export interface JoinBenchOptions {
  /** Predictions through the pure core per repeat (each with an outcome for 80%). */
  readonly corePredictions?: number;
  /** Predictions produced for the end-to-end run (each with an outcome for 80%). */
  readonly e2ePredictions?: number;
  readonly repeats?: number;
  /** Pending predictions held in the memory children; the first must fit a 1 GiB heap. */
  readonly pending?: readonly number[];
  /** Memory children per pending size (default: repeats). */
  readonly memoryRepeats?: number;
  readonly write?: boolean;
  /** Recorded in the result: a --quick run is a harness check. */
  readonly quick?: boolean;
}

function id(rng: () => number, i: number): string {
  // 36 characters like a UUID, deterministic.
  const h = Math.floor(rng() * 0xffffffff)
    .toString(16)
    .padStart(8, '0');
  return `${h}-${(i % 65536).toString(16).padStart(4, '0')}-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

export function benchPrediction(rng: () => number, i: number, t: number): PredictionEvent {
  const pid = id(rng, i);
  const features: Record<string, number | string | boolean | null> = {};
  for (let f = 0; f < 10; f++) features[`num_${f}`] = Math.round(rng() * 1e6) / 1e3;
  features.country = rng() < 0.5 ? 'FR' : 'DE';
  features.channel = rng() < 0.5 ? 'web' : 'app';
  features.returning = rng() < 0.3;
  const score = Math.round(rng() * 1e4) / 1e4;
  return {
    event_id: `pe-${pid}`,
    prediction_id: pid,
    model_name: 'churn',
    model_version: 'v7',
    event_time: t,
    features,
    score,
    probabilities: { '0': 1 - score, '1': score },
    predicted_label: score > 0.5 ? '1' : '0',
    predicted_value: null,
    latency_ms: 1.2,
    segment: { region: rng() < 0.5 ? 'eu' : 'us' },
    is_shadow: false,
    fallback: null,
  };
}

function benchOutcome(p: PredictionEvent, delay: number, rng: () => number): OutcomeEvent {
  return {
    event_id: `oe-${p.prediction_id}`,
    prediction_id: p.prediction_id,
    model_name: p.model_name,
    outcome_time: p.event_time + delay,
    label: rng() < 0.5 ? '1' : '0',
    target_value: null,
    business: { revenue: 12.5 },
  };
}

/** Predictions 10 ms apart and, for 80%, an outcome 1..60 s later; each stream in event-time order. */
function inputs(n: number, seed: number, t0: number): { predictions: PredictionEvent[]; outcomes: OutcomeEvent[] } {
  const rng = mulberry32(seed);
  const predictions: PredictionEvent[] = [];
  const outcomes: OutcomeEvent[] = [];
  for (let i = 0; i < n; i++) {
    const p = benchPrediction(rng, i, t0 + i * 10);
    predictions.push(p);
    if (rng() < 0.8) outcomes.push(benchOutcome(p, 1_000 + Math.floor(rng() * 59_000), rng));
  }
  outcomes.sort((a, b) => a.outcome_time - b.outcome_time);
  return { predictions, outcomes };
}

const CORE_SETTINGS: JoinSettings = {
  maxLabelDelayMs: 300_000,
  watermarkDelayMs: 5_000,
  idleTimeoutMs: 60_000,
  closedRetentionMs: 60_000,
  maxPending: 10_000_000,
  maxOutcomes: 10_000_000,
  maxClosed: 10_000_000,
};

/** Merges the two streams by event time (what the consumer sees when it keeps up). */
function merged(d: { predictions: PredictionEvent[]; outcomes: OutcomeEvent[] }): JoinInput[] {
  const out: JoinInput[] = [];
  let i = 0;
  let j = 0;
  while (i < d.predictions.length || j < d.outcomes.length) {
    if (j >= d.outcomes.length || (i < d.predictions.length && d.predictions[i]!.event_time <= d.outcomes[j]!.outcome_time))
      out.push({ type: 'prediction', event: d.predictions[i++]! });
    else out.push({ type: 'outcome', event: d.outcomes[j++]! });
  }
  return out;
}

/** CPU seconds of this process so far (user + system, every thread). */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function coreRun(all: JoinInput[], withChangelog: boolean): { eventsPerSec: number; eventsPerCpuSec: number; joinsPerSec: number; joins: number } {
  const core = new JoinCore(CORE_SETTINGS, 0);
  let joins = 0;
  let bytes = 0;
  const cpu0 = cpuSeconds();
  const started = process.hrtime.bigint();
  for (let k = 0; k < all.length; k++) {
    for (const o of core.step(all[k]!, 0)) if (o.type === 'emit' && o.record.status === 'LABELED') joins++;
    if (withChangelog && k % 1000 === 999) {
      for (const c of core.changes()) bytes += c.value?.length ?? 0;
      core.clearChanges();
    }
  }
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  if (withChangelog && bytes === 0) throw new Error('no changelog written');
  return { eventsPerSec: all.length / s, eventsPerCpuSec: all.length / cpu, joinsPerSec: joins / s, joins };
}

// ---- memory child ---------------------------------------------------------------------------------

interface MemoryReport {
  readonly n: number;
  readonly shape: 'core' | 'naive';
  readonly heapUsedBytes: number;
  readonly bytesPerPending: number;
  readonly estimateBytesPerPending: number | null;
  readonly heapLimitMiB: number;
  readonly ms: number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run the memory child with --expose-gc');
  g();
  g();
}

async function memoryChild(n: number, shape: 'core' | 'naive'): Promise<MemoryReport> {
  const { getHeapStatistics } = await import('node:v8');
  const rng = mulberry32(7);
  gc();
  const before = process.memoryUsage().heapUsed;
  const started = Date.now();
  let estimate: number | null = null;
  let keep: unknown;
  if (shape === 'core') {
    const core = new JoinCore({ ...CORE_SETTINGS, maxLabelDelayMs: 86_400_000 }, 0);
    // No outcome ever arrives: the watermark stays at -infinity and every prediction stays pending.
    for (let i = 0; i < n; i++) core.step({ type: 'prediction', event: benchPrediction(rng, i, 1_700_000_000_000 + i) }, 0);
    core.clearChanges();
    estimate = core.stats().bytes / n;
    if (core.stats().pending !== n) throw new Error(`expected ${n} pending, got ${core.stats().pending}`);
    keep = core;
  } else {
    const map = new Map<string, PredictionEvent>();
    for (let i = 0; i < n; i++) {
      const p = benchPrediction(rng, i, 1_700_000_000_000 + i);
      map.set(p.prediction_id, p);
    }
    keep = map;
  }
  // Pinned on the global object: a local that is never read again may be collected (and a bare
  // `void keep;` can be dropped by the TS transform).
  (globalThis as { __joinBenchKeep?: unknown }).__joinBenchKeep = keep;
  gc();
  const used = process.memoryUsage().heapUsed - before;
  return {
    n,
    shape,
    heapUsedBytes: used,
    bytesPerPending: used / n,
    estimateBytesPerPending: estimate,
    heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    ms: Date.now() - started,
  };
}

function runMemoryChild(
  n: number,
  shape: 'core' | 'naive',
  heapMiB: number,
): MemoryReport | { n: number; shape: string; failed: string; heapLimitMiB: number } {
  log(`memory: ${n} pending (${shape}) in a child with a ${heapMiB} MiB heap`);
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', `--max-old-space-size=${heapMiB}`, '--import', 'tsx', fileURLToPath(import.meta.url), '--memory-child', String(n), '--shape', shape],
    {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
      maxBuffer: 1 << 20,
    },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status === 0 && line.startsWith('{')) return JSON.parse(line) as MemoryReport;
  return {
    n,
    shape,
    failed: `exit ${r.status ?? r.signal}: ${(r.stderr ?? '')
      .split('\n')
      .filter((l) => /heap|memory|Error/i.test(l))
      .slice(0, 3)
      .join(' | ')}`,
    heapLimitMiB: heapMiB,
  };
}

// ---- end to end -------------------------------------------------------------------------------------

async function endToEnd(
  n: number,
): Promise<{ joinPerSec: number; rawPerSec: number; records: number; emitted: number; seconds: number; rawSeconds: number; cpuSeconds: number }> {
  const ns = `bench-join-${randomUUID().slice(0, 8)}`;
  const env = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7',
    DW_TOPIC_NAMESPACE: ns,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    LOG_LEVEL: 'silent',
    JOIN_MAX_LABEL_DELAY_MS: '300000',
    JOIN_WATERMARK_DELAY_MS: '5000',
  };
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-join-'));
  const cfg = loadConfig({ ...env, CLICKHOUSE_DATA_DIR: dir });
  const logger = createLogger('bench', 'silent');
  const topics = topicNames(ns);
  const kafka = createKafkaAdapter(cfg.settings, logger, 'bench-join');
  const codec = createEventCodec(
    cfg.settings.SCHEMA_REGISTRY_URL,
    { maxPayloadBytes: cfg.settings.MAX_PAYLOAD_BYTES, maxFutureSkewMs: cfg.settings.MAX_FUTURE_SKEW_MS },
    topics,
  );
  await kafka.ensureTopics(topics);
  await codec.registerAll();
  const t0 = Date.now() - 86_400_000;
  const d = inputs(n, 11, t0);
  // One sentinel pair per partition closes every prediction's label window at the end.
  const end = t0 + n * 10 + 600_000;
  const records: OutboundRecord[] = [];
  const partitionOf = (s: string) => {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
    return (h >>> 0) % PARTITIONS;
  };
  log(`e2e: encoding ${d.predictions.length} predictions and ${d.outcomes.length} outcomes`);
  for (const p of d.predictions)
    records.push({
      topic: topics.predictions,
      key: p.prediction_id,
      value: await codec.encode(topics.predictions, p),
      partition: partitionOf(p.prediction_id),
    });
  for (const o of d.outcomes)
    records.push({ topic: topics.outcomes, key: o.prediction_id, value: await codec.encode(topics.outcomes, o), partition: partitionOf(o.prediction_id) });
  const rng = mulberry32(3);
  for (let p = 0; p < PARTITIONS; p++) {
    const s = { ...benchPrediction(rng, 1e9 + p, end), prediction_id: `sentinel-${p}`, event_id: `sentinel-${p}` };
    records.push({ topic: topics.predictions, key: s.prediction_id, value: await codec.encode(topics.predictions, s), partition: p });
    records.push({ topic: topics.outcomes, key: s.prediction_id, value: await codec.encode(topics.outcomes, benchOutcome(s, 0, rng)), partition: p });
  }
  const producer = await kafka.producer();
  for (let i = 0; i < records.length; i += 2000) await producer.send(records.slice(i, i + 2000));
  await producer.disconnect();
  log(`e2e: produced ${records.length} records`);

  // Raw consumer of the same topics: counts records, nothing else.
  let seen = 0;
  let rawStart = 0;
  const rawDone = new Promise<void>((done) => {
    void kafka
      .runConsumer({
        groupId: `${ns}.raw`,
        topics: [topics.predictions, topics.outcomes],
        component: 'bench-raw',
        deadLetterTopic: topics.deadLetter,
        partitionsConsumedConcurrently: 4,
        handleBatch: async (batch) => {
          if (rawStart === 0) rawStart = Date.now();
          seen += batch.length;
          if (seen >= records.length) done();
          return { deadLetters: [] };
        },
      })
      .then((c) => rawDone.then(() => c.stop()));
  });
  await rawDone;
  const rawSeconds = (Date.now() - rawStart) / 1000;
  log(`e2e: raw consume ${Math.round(records.length / rawSeconds)} records/s`);

  const ch = await openClickHouse(cfg.settings);
  await migrate(ch, cfg.settings);
  const rt = {
    config: cfg,
    logger,
    metrics: createMetrics('label-joiner'),
    clickhouse: async () => ch,
    kafka: () => createKafkaAdapter(cfg.settings, logger, 'bench-joiner'),
  };
  const joiner = await startLabelJoiner(rt, { lagIntervalMs: 0 });
  await joiner.joined;
  const started = Date.now();
  const cpu0 = cpuSeconds();
  const expected = n + PARTITIONS; // every prediction, plus the sentinels (joined)
  while (joiner.stats().emitted < expected) {
    if (Date.now() - started > 600_000) throw new Error(`e2e: only ${joiner.stats().emitted} of ${expected} emitted after 10 minutes`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuSeconds() - cpu0;
  const [{ n: rows } = { n: 0 }] = await (
    await ch.client.query({ query: 'SELECT count() AS n FROM labeled_predictions FINAL', format: 'JSONEachRow' })
  ).json<{ n: number }>();
  if (Number(rows) !== expected) throw new Error(`e2e: ${rows} rows visible, expected ${expected}`);
  await joiner.stop();
  await ch.close();
  await kafka.disconnect();
  rmSync(dir, { recursive: true, force: true });
  log(
    `e2e: ${Math.round(n / seconds)} predictions joined/s (${records.length} records in ${seconds.toFixed(1)} s, ${cpu.toFixed(1)} CPU s in this process incl. embedded ClickHouse)`,
  );
  return { joinPerSec: n / seconds, rawPerSec: records.length / rawSeconds, records: records.length, emitted: expected, seconds, rawSeconds, cpuSeconds: cpu };
}

// ---- suite -----------------------------------------------------------------------------------------

export async function runJoinBench(opts: JoinBenchOptions = {}): Promise<SuiteResult> {
  const coreN = opts.corePredictions ?? 300_000;
  const e2eN = opts.e2ePredictions ?? 100_000;
  const repeats = opts.repeats ?? 3;
  const pending = opts.pending ?? [1_000_000, 5_000_000];
  const suite = beginSuite(SUITE);
  log = suite.log;
  const metrics: Record<string, Summary & { unit: string }> = {};
  const targets: TargetCheck[] = [];
  const notes: string[] = [];

  // (a) pure core
  log(`core: ${coreN} predictions, ${repeats} repeat(s)`);
  const all = merged(inputs(coreN, 5, 1_700_000_000_000));
  const plain: number[] = [];
  const plainCpu: number[] = [];
  const joins: number[] = [];
  const withLog: number[] = [];
  const withLogCpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const a = coreRun(all, false);
    const b = coreRun(all, true);
    plain.push(a.eventsPerSec);
    plainCpu.push(a.eventsPerCpuSec);
    joins.push(a.joinsPerSec);
    withLog.push(b.eventsPerSec);
    withLogCpu.push(b.eventsPerCpuSec);
    log(
      `core: ${Math.round(a.eventsPerSec)} events/s (${Math.round(a.eventsPerCpuSec)} per CPU s), ${Math.round(a.joinsPerSec)} joins/s; with changelog ${Math.round(b.eventsPerSec)} events/s`,
    );
  }
  metrics.core_events_per_sec = { ...summarize(plain), unit: 'events/s' };
  metrics.core_joins_per_sec = { ...summarize(joins), unit: 'joins/s' };
  metrics.core_events_per_cpu_sec = { ...summarize(plainCpu), unit: 'events/CPU s' };
  metrics.core_with_changelog_events_per_sec = { ...summarize(withLog), unit: 'events/s' };
  metrics.core_with_changelog_events_per_cpu_sec = { ...summarize(withLogCpu), unit: 'events/CPU s' };

  // (b) end to end
  if (e2eN > 0) {
    const e2e: Awaited<ReturnType<typeof endToEnd>>[] = [];
    for (let r = 0; r < repeats; r++) {
      log(`e2e: repeat ${r + 1}/${repeats}`);
      e2e.push(await endToEnd(e2eN));
    }
    metrics.e2e_predictions_joined_per_sec = { ...summarize(e2e.map((x) => x.joinPerSec)), unit: 'predictions/s' };
    metrics.e2e_records_per_sec = { ...summarize(e2e.map((x) => x.records / x.seconds)), unit: 'records/s' };
    metrics.e2e_records_per_cpu_sec = { ...summarize(e2e.map((x) => x.records / x.cpuSeconds)), unit: 'records/CPU s' };
    metrics.raw_consume_records_per_sec = { ...summarize(e2e.map((x) => x.rawPerSec)), unit: 'records/s' };
    metrics.e2e_over_raw_consume = { ...summarize(e2e.map((x) => x.records / x.seconds / x.rawPerSec)), unit: 'ratio' };
    metrics.e2e_over_core = { ...summarize(e2e.map((x) => x.records / x.seconds / summarize(plain).median)), unit: 'ratio' };
  }

  // (c) memory: each child holds the whole state once, so repeating it means more children.
  const memoryRepeats = opts.memoryRepeats ?? repeats;
  const memory: Array<ReturnType<typeof runMemoryChild>> = [];
  const measuredAt = (n: number, shape: 'core' | 'naive', heap: number): MemoryReport[] | null => {
    const ok: MemoryReport[] = [];
    for (let r = 0; r < memoryRepeats; r++) {
      const rep = runMemoryChild(n, shape, heap);
      memory.push(rep);
      if ('failed' in rep) {
        log(`memory: ${n} pending (${shape}) did not fit a ${heap} MiB heap: ${rep.failed}`);
        notes.push(`${n} pending predictions (${shape}) in a ${heap} MiB heap: failed (${rep.failed})`);
        return null;
      }
      log(
        `memory ${r + 1}/${memoryRepeats}: ${n} pending (${shape}): ${(rep.heapUsedBytes / 2 ** 20).toFixed(0)} MiB heap, ${rep.bytesPerPending.toFixed(0)} bytes each` +
          (rep.estimateBytesPerPending !== null ? ` (estimate ${rep.estimateBytesPerPending.toFixed(0)})` : ''),
      );
      ok.push(rep);
    }
    return ok;
  };
  for (const [k, n] of pending.entries()) {
    const heap = k === 0 ? 1024 : 4096;
    const reps = measuredAt(n, 'core', heap);
    if (reps) {
      metrics[`heap_bytes_per_pending_at_${n}`] = metric(
        reps.map((r) => r.bytesPerPending),
        'bytes',
      );
      metrics[`heap_mib_at_${n}_pending`] = metric(
        reps.map((r) => r.heapUsedBytes / 2 ** 20),
        'MiB',
      );
      metrics[`estimate_over_measured_at_${n}`] = metric(
        reps.map((r) => (r.estimateBytesPerPending ?? 0) / r.bytesPerPending),
        'ratio',
      );
    }
    if (k === 0)
      targets.push({
        name: 'pending_in_1GiB_heap',
        target: `>= ${n} pending predictions within a 1 GiB heap`,
        value: reps ? n : 0,
        unit: 'predictions',
        met: reps !== null,
      });
  }
  const naiveN = Math.min(200_000, pending[0] ?? 0);
  const naive = naiveN > 0 ? measuredAt(naiveN, 'naive', 2048) : null;
  const compactSmall = naiveN > 0 ? measuredAt(naiveN, 'core', 2048) : null;
  if (naive && compactSmall) {
    metrics[`naive_object_bytes_per_pending_at_${naiveN}`] = metric(
      naive.map((r) => r.bytesPerPending),
      'bytes',
    );
    metrics[`core_bytes_per_pending_at_${naiveN}`] = metric(
      compactSmall.map((r) => r.bytesPerPending),
      'bytes',
    );
    metrics.naive_over_core_memory = metric(
      naive.map((r, i) => r.bytesPerPending / compactSmall[i]!.bytesPerPending),
      'ratio',
    );
  }

  const result = suite.finish({
    command: `npx tsx bench/join.bench.ts --core ${coreN} --e2e ${e2eN} --repeats ${repeats} --memory-repeats ${memoryRepeats} --pending ${pending.join(',')}`,
    repeats,
    quick: opts.quick === true,
    metrics,
    targets,
    notes,
    memory,
  });
  if (opts.write !== false) log(`wrote ${writeSuiteResult(result)}`);
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      core: { type: 'string' },
      e2e: { type: 'string' },
      repeats: { type: 'string' },
      pending: { type: 'string' },
      'memory-repeats': { type: 'string' },
      'memory-child': { type: 'string' },
      shape: { type: 'string' },
    },
  });
  if (values['memory-child']) {
    const rep = await memoryChild(Number(values['memory-child']), values.shape === 'naive' ? 'naive' : 'core');
    process.stdout.write(`${JSON.stringify(rep)}\n`);
    process.exit(0);
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await runJoinBench({
    corePredictions: num(values.core) ?? (values.quick ? 50_000 : undefined),
    e2ePredictions: num(values.e2e) ?? (values.quick ? 10_000 : undefined),
    repeats: num(values.repeats) ?? (values.quick ? 1 : undefined),
    memoryRepeats: num(values['memory-repeats']),
    quick: values.quick === true,
    pending:
      values.pending !== undefined
        ? values.pending
            .split(',')
            .map(Number)
            .filter((n) => n > 0)
        : values.quick
          ? [1_000_000]
          : undefined,
  });
  for (const t of result.targets) process.stderr.write(`target ${t.name} ${t.target}: ${t.value} ${t.met ? 'met' : 'NOT met'}\n`);
  process.exit(0);
}
