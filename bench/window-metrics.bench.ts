/**
 * Window-metrics benchmark: the windowed processor side by side with a raw kafkajs consumer on the
 * same broker and topic.
 *
 *   npx tsx bench/window-metrics.bench.ts [--quick] [--events 100000] [--features 50] [--repeats 3]
 *
 * Setup: a private topic namespace (4 partitions), a reference profile with `features` features
 * (49 numeric + 1 categorical, 5000 rows), `events` PredictionEvents (Avro through the registry) over
 * 1-minute event-time windows, an embedded ClickHouse in this process.
 * Measures, each repeat on a fresh consumer group and fresh ClickHouse:
 *  1. raw: a kafkajs consumer that only counts the records of the predictions topic (the ceiling);
 *  2. window-metrics (`startWindowMetrics`: decode, fold into partial summaries per segment, checkpoint
 *     to ClickHouse before every commit, evaluate closed windows): events/s from group join until
 *     every record is checkpointed; the ratio to (1) is the headline figure;
 *  3. close-to-visible: in every repeat, three times, a window of 2000 events is produced and consumed, the evaluator
 *     is drained, then one heartbeat per partition moves the watermark past the window's close; the
 *     time from the heartbeat being acknowledged by the broker to the window's model_drift_summary row
 *     being readable in ClickHouse.
 * Progress goes to stderr; the result to bench/results/window-metrics.json (bench/lib.ts format).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { createEventCodec } from '../lib/contracts/codec.js';
import type { PredictionEvent } from '../lib/contracts/schemas.js';
import { topicNames } from '../lib/contracts/topics.js';
import { openClickHouse } from '../lib/runtime/clickhouse/client.js';
import { migrate } from '../lib/runtime/clickhouse/migrations.js';
import { loadConfig } from '../lib/runtime/config.js';
import { createKafkaAdapter, type OutboundRecord } from '../lib/runtime/kafka.js';
import { createLogger } from '../lib/runtime/logger.js';
import { createMetrics } from '../lib/runtime/metrics.js';
import { buildAndStoreReferenceProfile, loadLatestProfile } from '../lib/reference/store.js';
import { encodePartial } from '../stream-processors/window-metrics/codec.js';
import { parseMonitoringConfig } from '../stream-processors/window-metrics/config.js';
import { applyPrediction, createPartitionState } from '../stream-processors/window-metrics/state.js';
import { timingFromSettings } from '../stream-processors/window-metrics/windows.js';
import { startWindowMetrics } from '../stream-processors/window-metrics/processor.js';
import { generateStream, heartbeatPrediction, referenceRows } from '../test/support/window-stream.js';
import { beginSuite, summarize, writeSuiteResult, type SuiteResult } from './lib.js';

const SUITE = 'window-metrics';
const WINDOW = 60_000;
const PARTITIONS = 4;
let log: (m: string) => void = () => undefined;

export interface WindowMetricsBenchOptions {
  readonly events?: number;
  readonly features?: number;
  readonly repeats?: number;
  readonly write?: boolean;
  /** Recorded in the result: a --quick run is a harness check. */
  readonly quick?: boolean;
}

interface Rate {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Process CPU (user + system, all threads) per event: moved much less by other load than wall time. */
  readonly cpuMicrosPerEvent: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function rawConsume(brokers: readonly string[], topic: string, expected: number, maxBytesPerPartition: number): Promise<Rate> {
  const kafka = new Kafka({ clientId: 'bench-wm-raw', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-wm-raw-${randomUUID()}`, maxBytesPerPartition });
  let seen = 0;
  let joinedAt = 0;
  let doneAt = 0;
  let cpuAtJoin = 0;
  let cpuAtDone = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (joinedAt) return;
    joinedAt = performance.now();
    cpuAtJoin = cpuNow();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
      if (seen >= expected && !doneAt) {
        doneAt = performance.now();
        cpuAtDone = cpuNow();
        resolveDone();
      }
    },
  });
  await done;
  await consumer.disconnect();
  const seconds = (doneAt - joinedAt) / 1000;
  return { events: seen, seconds, eventsPerSecond: Math.round(seen / seconds), cpuMicrosPerEvent: (cpuAtDone - cpuAtJoin) / seen };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runWindowMetricsBench(opts: WindowMetricsBenchOptions = {}): Promise<SuiteResult & { setup: Record<string, unknown> }> {
  const suite = beginSuite(SUITE);
  log = suite.log;
  const events = opts.events ?? 100_000;
  const features = opts.features ?? 50;
  const repeats = opts.repeats ?? 3;
  const ns = `bench-wm-${randomUUID().slice(0, 8)}`;
  const base = loadConfig({ ...process.env, DW_TOPIC_NAMESPACE: ns, KAFKA_TOPIC_PARTITIONS: String(PARTITIONS), LOG_LEVEL: 'warn' });
  const s = base.settings;
  const logger = createLogger('bench', process.env.BENCH_LOG_LEVEL ?? 'warn');
  const topics = topicNames(ns);
  const kafka = createKafkaAdapter(s, logger, 'bench-wm');
  await kafka.ensureTopics(topics);
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics);
  await codec.registerAll();
  const producer = await kafka.producer();

  // Event times: `windows` one-minute windows ending 10 minutes ago (inside the future-skew limit).
  const perWindow = 20_000;
  const windows = Math.max(1, Math.ceil(events / perWindow));
  const start = Math.floor((Date.now() - (windows + 30) * WINDOW) / WINDOW) * WINDOW;
  log(`producing ${events} predictions with ${features} features over ${windows} one-minute windows to ${topics.predictions}`);
  const stream = generateStream({
    seed: 1,
    model: 'bench',
    version: 'v1',
    start,
    windowMs: WINDOW,
    eventsPerWindow: perWindow,
    labelDelayMs: 1000,
    phases: [{ name: 's', windows }],
    numericFeatures: features - 1,
  }).slice(0, events);
  let bytes = 0;
  for (let i = 0; i < stream.length; i += 5000) {
    const records: OutboundRecord[] = [];
    for (const e of stream.slice(i, i + 5000)) {
      const value = await codec.encode(topics.predictions, e.prediction);
      bytes += value.length;
      records.push({ topic: topics.predictions, key: e.prediction.prediction_id, value });
    }
    await producer.send(records);
  }
  log(`produced ${stream.length} events, ${(bytes / 2 ** 20).toFixed(1)} MiB (${Math.round(bytes / stream.length)} B/event)`);

  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-wm-'));
  const cfg = loadConfig({
    ...process.env,
    DW_TOPIC_NAMESPACE: ns,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    LOG_LEVEL: 'warn',
    CLICKHOUSE_DATA_DIR: dir,
    WINDOW_SIZE_MS: String(WINDOW),
    WINDOW_ALLOWED_LATENESS_MS: '5000',
  });
  const chHandle = await openClickHouse(cfg.settings);
  await migrate(chHandle, cfg.settings);
  await buildAndStoreReferenceProfile(chHandle, { model: 'bench', version: 'v1', rows: referenceRows(2, 5000, features - 1) });
  const ch = chHandle.client;
  const rawRates: number[] = [];
  const procRates: number[] = [];
  const ratios: number[] = [];
  const closeLatencies: number[] = [];
  const rawCpu: number[] = [];
  const procCpu: number[] = [];
  let nextWindow = windows + 2;
  // Records on the topic so far: the stream, then each repeat's close-to-visible windows and
  // heartbeats, which a later repeat's fresh consumer group reads again.
  let onTopic = stream.length;
  for (let r = 0; r < repeats; r++) {
    const raw = await rawConsume(s.KAFKA_BROKERS, topics.predictions, stream.length, s.WINDOW_FETCH_MAX_BYTES);
    log(`repeat ${r + 1}: raw kafkajs ${raw.eventsPerSecond} events/s, ${raw.cpuMicrosPerEvent.toFixed(1)} µs CPU/event (load ${loadavg()[0]!.toFixed(1)})`);
    // One embedded engine per process (libchdb): repeats share it and start from empty state tables.
    for (const table of [
      'window_state',
      'window_evaluations',
      'drift_metrics',
      'data_quality_metrics',
      'model_drift_summary',
      'performance_metrics',
      'kpi_metrics',
    ]) {
      await ch.command({ query: `TRUNCATE TABLE IF EXISTS ${table}` });
    }
    const proc = await startWindowMetrics({
      config: cfg,
      logger,
      instanceId: `bench-${r}`,
      metrics: createMetrics(`bench-wm-${r}`),
      clickhouse: chHandle,
      kafka,
      codec,
      groupId: `bench-wm-${randomUUID()}`,
    });
    await proc.consumer.joined;
    const t0 = performance.now();
    const c0 = cpuNow();
    while (proc.stats().records < stream.length) await sleep(20);
    const seconds = (performance.now() - t0) / 1000;
    procCpu.push((cpuNow() - c0) / stream.length);
    rawCpu.push(raw.cpuMicrosPerEvent);
    const rate = Math.round(stream.length / seconds);
    procRates.push(rate);
    rawRates.push(raw.eventsPerSecond);
    ratios.push(rate / raw.eventsPerSecond);
    log(
      `repeat ${r + 1}: window-metrics ${rate} events/s (${(rate / raw.eventsPerSecond).toFixed(3)} x raw), ${procCpu[procCpu.length - 1]!.toFixed(1)} µs CPU/event`,
    );

    for (let k = 0; k < 3; k++) {
      const ws = start + nextWindow * WINDOW;
      nextWindow += 2;
      const extra = generateStream({
        // Distinct per repeat: the same ids again would be deduplicated by the processor.
        seed: 100 + r * 3 + k,
        model: 'bench',
        version: 'v1',
        start: ws,
        windowMs: WINDOW,
        eventsPerWindow: 2000,
        labelDelayMs: 1000,
        phases: [{ name: 's', windows: 1 }],
        numericFeatures: features - 1,
      });
      const recs: OutboundRecord[] = [];
      for (const e of extra)
        recs.push({
          topic: topics.predictions,
          key: e.prediction.prediction_id,
          value: await codec.encode(topics.predictions, e.prediction as PredictionEvent),
        });
      await producer.send(recs);
      onTopic += recs.length;
      // Everything on the topic, earlier repeats' extra windows included, is consumed first.
      while (proc.stats().records < onTopic) await sleep(5);
      // Drain the evaluator (earlier windows, closed by this one's events) so the figure is the close
      // path alone, not a backlog.
      await proc.evaluateNow();
      const hb: OutboundRecord[] = [];
      for (let p = 0; p < PARTITIONS; p++)
        hb.push({
          topic: topics.predictions,
          key: null,
          partition: p,
          value: await codec.encode(topics.predictions, heartbeatPrediction(ws + WINDOW + 5000, p)),
        });
      await producer.send(hb);
      onTopic += hb.length;
      const h0 = performance.now();
      const wsText = new Date(ws).toISOString().replace('T', ' ').replace('Z', '');
      for (;;) {
        const rs = await ch.query({
          query: `SELECT count() AS n FROM model_drift_summary WHERE model_name = 'bench' AND window_start = {w:String}`,
          query_params: { w: wsText },
          format: 'JSONEachRow',
        });
        const [row] = await rs.json<{ n: string }>();
        if (Number(row!.n) > 0) break;
        await sleep(5);
      }
      const ms = performance.now() - h0;
      closeLatencies.push(ms);
      log(`repeat ${r + 1}: close-to-visible #${k + 1}: ${ms.toFixed(0)} ms`);
    }
    await proc.stop();
  }
  // Where the CPU goes: the processor's stages on 10 000 already-fetched records, in this process.
  const sample = stream.slice(0, 10_000);
  const encoded: Buffer[] = [];
  for (const e of sample) encoded.push(await codec.encode(topics.predictions, e.prediction));
  const profile = await loadLatestProfile(chHandle, 'bench', 'v1');
  const stages: Record<string, number> = {};
  const tDec = cpuNow();
  const decoded: PredictionEvent[] = [];
  for (const b of encoded) decoded.push((await codec.decode<PredictionEvent>(topics.predictions, b, Date.now())).value);
  stages.decode = (cpuNow() - tDec) / sample.length;
  const st = createPartitionState(topics.predictions, 0, 'predictions');
  const env = { timing: timingFromSettings(cfg.settings), config: parseMonitoringConfig(cfg.sections), profileFor: () => profile };
  const tApply = cpuNow();
  for (const d of decoded) applyPrediction(st, d, env, () => profile);
  stages.apply = (cpuNow() - tApply) / sample.length;
  const tEnc = cpuNow();
  const state = encodePartial([...st.partials.values()][0]!);
  stages.encodeCheckpointPerBatch = cpuNow() - tEnc;
  log(
    `stages (µs CPU/event): decode ${stages.decode.toFixed(1)}, apply ${stages.apply.toFixed(1)}; one checkpoint of ${(state.length / 2 ** 20).toFixed(2)} MiB encodes in ${(stages.encodeCheckpointPerBatch / 1000).toFixed(1)} ms`,
  );
  await chHandle.close();
  rmSync(dir, { recursive: true, force: true });
  await producer.disconnect();
  await kafka.disconnect();

  const ratio = summarize(ratios);
  const result = suite.finish({
    command: `npx tsx bench/window-metrics.bench.ts --events ${events} --features ${features} --repeats ${repeats}`,
    repeats,
    quick: opts.quick === true,
    metrics: {
      raw_kafkajs_consume: { ...summarize(rawRates), unit: 'events/s' },
      window_metrics: { ...summarize(procRates), unit: 'events/s' },
      ratio_to_raw: { ...ratio, unit: 'x' },
      window_close_to_rows_visible: { ...summarize(closeLatencies), unit: 'ms' },
      raw_cpu_per_event: { ...summarize(rawCpu), unit: 'µs CPU/event' },
      window_metrics_cpu_per_event: { ...summarize(procCpu), unit: 'µs CPU/event' },
      cpu_ratio_raw_over_window_metrics: { ...summarize(rawCpu.map((x, i) => x / procCpu[i]!)), unit: 'x' },
    },
    targets: [],
    notes: [
      'window_metrics: decode (Avro via the registry), fold into partial summaries of 50 features, checkpoint partials + progress to ClickHouse before each offset commit, evaluate windows as they close; predictions topic only (the labeled topic is empty).',
      'close-to-visible: three windows per repeat, from the broker acknowledging the heartbeat that moves every partition watermark past the window close, to the model_drift_summary row being readable; measured with an idle evaluator (a backlog of closing windows adds its evaluation time).',
      'The raw consumer counts records only (no decode): it is the ceiling of any kafkajs consumer on this broker.',
    ],
    setup: {
      stagesMicrosCpuPerEvent: { decode: stages.decode, apply: stages.apply },
      checkpointEncodeMicros: stages.encodeCheckpointPerBatch,
      checkpointBytes: state.length,
      events: stream.length,
      features,
      partitions: PARTITIONS,
      windowMs: WINDOW,
      bytesPerEvent: Math.round(bytes / stream.length),
      fetchMaxBytes: s.WINDOW_FETCH_MAX_BYTES,
      clickhouse: 'embedded (chdb) in the benchmark process',
    },
  });
  if (opts.write !== false) log(`wrote ${writeSuiteResult(result)}`);
  return result;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  runWindowMetricsBench({
    events: Number(arg('events') ?? (quick ? 20_000 : 100_000)),
    features: Number(arg('features') ?? 50),
    repeats: Number(arg('repeats') ?? (quick ? 1 : 3)),
    quick,
  })
    .then((r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.exit(0);
    })
    .catch((err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
}
