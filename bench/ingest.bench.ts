/**
 * Ingest throughput, side by side with a raw kafkajs consumer on the same topic and broker.
 *
 *   npx tsx bench/ingest.bench.ts [--quick] [--events 100000] [--repeats 3] [--json-share 0.2]
 *                                 [--modes embedded,served] [--max-rows N] [--fetch-bytes N]
 *
 * N prediction events (Confluent Avro through the registry, a share as JSON) are produced once to a
 * fresh topic. Then, per repeat and in this order:
 *  1. a raw kafkajs consumer (eachBatch, counts records and nothing else) reads the whole topic;
 *  2. ingest (`startIngest`, the real processor: decode, validate, map, batch insert into ClickHouse,
 *     commit) consumes the same topic under a new group, once per ClickHouse mode:
 *     - embedded: the engine inside the ingest process (chdb);
 *     - served: the engine in another process behind chdb-http (infra/chdb-http.ts), as `npm start`
 *       runs it (every component a process, sharing one engine).
 * A rate runs from the consumer group join to the last record seen (raw) or made durable and
 * query-visible (ingest). Each repeat's ratio divides by the raw rate of the same repeat; the report
 * gives medians. CPU time per event (all threads, plus the served engine's process) is recorded too:
 * on a shared machine it moves less than wall time. Target: ingest ≥ 0.5 × raw.
 *
 * Writes bench/results/ingest.json (bench/lib.ts SuiteResult); progress goes to stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createEventCodec, type EventCodec } from '../lib/contracts/codec.js';
import type { PredictionEvent } from '../lib/contracts/schemas.js';
import { topicNames } from '../lib/contracts/topics.js';
import { loadConfig, type Settings } from '../lib/runtime/config.js';
import { openClickHouse, type ClickHouse } from '../lib/runtime/clickhouse/client.js';
import { migrate } from '../lib/runtime/clickhouse/migrations.js';
import { createKafkaAdapter, type OutboundRecord } from '../lib/runtime/kafka.js';
import { createLogger } from '../lib/runtime/logger.js';
import { createMetrics } from '../lib/runtime/metrics.js';
import { planBatch, type DecodeResult } from '../stream-processors/ingest/core.js';
import { startIngest } from '../stream-processors/ingest/main.js';
import { insertRows } from '../stream-processors/ingest/sink.js';
import { beginSuite, summarize, writeSuiteResult, type SuiteResult } from './lib.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TARGET_RATIO = 0.5;
/** Events whose decode, mapping and insert are timed stage by stage (in-process, embedded engine). */
const STAGE_SAMPLE = 20_000;

export type ClickHouseMode = 'embedded' | 'served';

export interface IngestBenchOptions {
  readonly events?: number;
  readonly repeats?: number;
  /** Share of events produced as JSON (the rest Confluent Avro). */
  readonly jsonShare?: number;
  readonly modes?: readonly ClickHouseMode[];
  /** Overrides INGEST_BATCH_MAX_ROWS for the ingest runs. */
  readonly maxRows?: number;
  /** Fetch size per partition for both consumers; default 1 MiB (kafkajs' and the adapter's default). */
  readonly maxBytesPerPartition?: number;
  /** Write bench/results/ingest.json (default true). */
  readonly write?: boolean;
  readonly kafkaBrokers?: string;
  readonly registryUrl?: string;
  /** Recorded in the result: a --quick run is a harness check. */
  readonly quick?: boolean;
  /** The command line recorded in the result. */
  readonly command?: string;
}

export interface RateMeasurement {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** CPU time (user + system, every thread, plus a served engine's process) per event, µs. */
  readonly cpuMicrosPerEvent: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let log: (m: string) => void = () => undefined;

function rate(events: number, ms: number, cpuMicros: number): RateMeasurement {
  return {
    events,
    seconds: Math.round(ms) / 1000,
    eventsPerSecond: Math.round(events / (ms / 1000)),
    cpuMicrosPerEvent: Math.round((cpuMicros / events) * 100) / 100,
  };
}

function cpuNow(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU time of another process in µs, from /proc/<pid>/stat (utime + stime, clock ticks of 10 ms). */
function processCpuMicros(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const REGIONS = ['north', 'south', 'east', 'west'];

function benchEvent(i: number, now: number): PredictionEvent {
  const p = (i % 1000) / 1000;
  return {
    event_id: `bench-${i}`,
    prediction_id: `p-${i}`,
    model_name: 'bench-model',
    model_version: '1',
    event_time: now - 60_000 + (i % 60_000),
    features: { income: 20_000 + (i % 5000) * 13.5, age: 18 + (i % 60), region: REGIONS[i % 4]!, has_card: i % 2 === 0, tenure: i % 10 === 0 ? null : i % 120 },
    score: p,
    probabilities: { '0': 1 - p, '1': p },
    predicted_label: p >= 0.5 ? '1' : '0',
    predicted_value: null,
    latency_ms: 1 + (i % 7),
    segment: { region: REGIONS[i % 4]!, device: i % 3 === 0 ? 'mobile' : 'web' },
    is_shadow: false,
    fallback: null,
  };
}

/** A raw kafkajs consumer that only counts the topic's records: the ceiling for any consumer. */
async function rawConsume(
  brokers: readonly string[],
  topic: string,
  expected: number,
  concurrency: number,
  maxBytesPerPartition: number,
): Promise<RateMeasurement> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxBytesPerPartition });
  let seen = 0;
  let joinedAt = 0;
  let cpuAtJoin = 0;
  let doneAt = 0;
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
    partitionsConsumedConcurrently: concurrency,
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
  return rate(seen, doneAt - joinedAt, cpuAtDone - cpuAtJoin);
}

interface Engine {
  readonly mode: ClickHouseMode;
  readonly settings: Settings;
  readonly ch: ClickHouse;
  readonly pid: number | undefined;
  close(): Promise<void>;
}

async function openEngine(mode: ClickHouseMode, base: Record<string, string>): Promise<Engine> {
  const dataDir = mkdtempSync(join(tmpdir(), `dw-bench-ingest-${mode}-`));
  let child: ChildProcess | undefined;
  let url: string | undefined;
  if (mode === 'served') {
    const port = 20000 + Math.floor(Math.random() * 20000);
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/chdb-http.ts'), '--data-dir', dataDir, '--port', String(port)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((ok, fail) => {
      child!.stdout!.on('data', (d: Buffer) => {
        const m = /listening on (\S+)/.exec(d.toString());
        if (m) ok(m[1]!);
      });
      child!.once('exit', (code) => fail(new Error(`chdb-http exited with ${code}`)));
    });
    log(`chdb-http child ${child.pid} at ${url}`);
  }
  const settings = loadConfig({ ...base, CLICKHOUSE_DATA_DIR: dataDir, ...(url ? { CLICKHOUSE_URL: url } : {}) }).settings;
  const ch = await openClickHouse(settings);
  await migrate(ch, settings);
  return {
    mode,
    settings,
    ch,
    pid: child?.pid,
    async close() {
      await ch.close();
      if (child) {
        child.kill('SIGTERM');
        await new Promise((r) => child!.once('exit', r));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function ingestRun(engine: Engine, expected: number, concurrency: number, tuning: { maxRows?: number; maxBytesPerPartition: number }) {
  for (const table of ['raw_predictions', 'raw_outcomes', 'raw_features', 'dead_letter_events'])
    await engine.ch.client.command({ query: `TRUNCATE TABLE ${table}` });
  const logger = createLogger('bench-ingest', 'silent');
  const kafka = createKafkaAdapter(engine.settings, logger, `bench-${engine.mode}`);
  const ingest = await startIngest(
    { config: { settings: engine.settings, sections: {} }, logger, metrics: createMetrics('ingest'), clickhouse: async () => engine.ch, kafka: () => kafka },
    {
      groupId: `bench-ingest-${randomUUID()}`,
      lagIntervalMs: 0,
      partitionsConsumedConcurrently: concurrency,
      maxRows: tuning.maxRows,
      maxBytesPerPartition: tuning.maxBytesPerPartition,
    },
  );
  await ingest.joined;
  const joinedAt = performance.now();
  const cpuAtJoin = cpuNow() + processCpuMicros(engine.pid);
  let lastReport = joinedAt;
  while (ingest.stats().records < expected) {
    await sleep(5);
    if (performance.now() - lastReport > 5000) {
      lastReport = performance.now();
      log(`  ${engine.mode}: ${ingest.stats().records}/${expected} durable`);
    }
  }
  const doneAt = performance.now();
  const cpuAtDone = cpuNow() + processCpuMicros(engine.pid);
  const { inserts, deadLetters } = ingest.stats();
  await ingest.stop();
  await kafka.disconnect();
  const [row] = await (await engine.ch.client.query({ query: 'SELECT count() AS c FROM raw_predictions FINAL', format: 'JSONEachRow' })).json<{ c: number }>();
  return { ...rate(expected, doneAt - joinedAt, cpuAtDone - cpuAtJoin), inserts, deadLetters, rowsVisible: Number(row?.c ?? 0) };
}

/**
 * CPU per event of each ingest stage, run in-process on already-fetched records, so the cost of the
 * processor's own work can be told apart from Kafka's and from the wait for ClickHouse.
 */
async function stageCosts(engine: Engine, codec: EventCodec, topic: string, values: readonly Buffer[]): Promise<Record<string, number>> {
  await engine.ch.client.command({ query: 'TRUNCATE TABLE raw_predictions' });
  const now = Date.now();
  const n = values.length;
  let c = cpuNow();
  const results: DecodeResult[] = [];
  for (let i = 0; i < n; i++) {
    const record = { topic, partition: 0, offset: String(i), key: null, value: values[i]!, headers: {}, timestamp: now };
    results.push({ ok: true, record, kind: 'predictions', decoded: await codec.decode(topic, values[i]!, now) });
  }
  const decode = cpuNow() - c;
  c = cpuNow();
  const plan = planBatch(results, now);
  const map = cpuNow() - c;
  c = cpuNow();
  await insertRows(engine.ch, plan.rows, 5000);
  const insert = cpuNow() - c;
  const per = (us: number) => Math.round((us / n) * 100) / 100;
  return { decodeAndValidate: per(decode), mapToRows: per(map), insertEncodeAndClickHouse: per(insert) };
}

export async function runIngestBench(opts: IngestBenchOptions = {}): Promise<SuiteResult> {
  const suite = beginSuite('ingest');
  log = suite.log;
  const events = opts.events ?? 100_000;
  const repeats = opts.repeats ?? 3;
  const jsonShare = opts.jsonShare ?? 0.2;
  const modes = opts.modes ?? ['embedded', 'served'];
  const maxBytesPerPartition = opts.maxBytesPerPartition ?? 1_048_576;
  const tuning = { maxRows: opts.maxRows, maxBytesPerPartition };
  // Ingest processes one batch per partition of its three topics at once; the raw consumer gets the same.
  const concurrency = 16;
  const ns = `bench-ingest-${randomUUID().slice(0, 8)}`;
  const base = {
    KAFKA_BROKERS: opts.kafkaBrokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:19092',
    SCHEMA_REGISTRY_URL: opts.registryUrl ?? process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7',
    DW_TOPIC_NAMESPACE: ns,
    LOG_LEVEL: 'silent',
  };
  const s = loadConfig(base).settings;
  const topics = topicNames(ns);

  log(`${events} prediction events (${Math.round(jsonShare * 100)}% JSON), ${repeats} repeat(s), modes ${modes.join(',')}, namespace ${ns}`);
  const kafka = createKafkaAdapter(s, createLogger('bench', 'silent'), 'bench-producer');
  await kafka.ensureTopics(topics);
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics);
  await codec.registerAll();
  const producer = await kafka.producer();
  const now = Date.now();
  let bytes = 0;
  const sample: Buffer[] = []; // the first events, kept for the per-stage cost breakdown
  const jsonEvery = jsonShare > 0 ? Math.round(1 / jsonShare) : 0;
  for (let start = 0; start < events; start += 5000) {
    const chunk: OutboundRecord[] = [];
    for (let i = start; i < Math.min(events, start + 5000); i++) {
      const ev = benchEvent(i, now);
      const value = jsonEvery && i % jsonEvery === 0 ? Buffer.from(JSON.stringify(ev)) : await codec.encode(topics.predictions, ev);
      bytes += value.length;
      if (sample.length < STAGE_SAMPLE) sample.push(value);
      chunk.push({ topic: topics.predictions, key: ev.prediction_id, value });
    }
    await producer.send(chunk);
  }
  await producer.disconnect();
  await kafka.disconnect();
  log(`produced ${events} events, ${Math.round(bytes / events)} bytes each on average`);

  const engines = new Map<ClickHouseMode, Engine>();
  for (const mode of modes) engines.set(mode, await openEngine(mode, base));
  const raw: RateMeasurement[] = [];
  let stages: Record<string, number> | undefined;
  const runs: Record<string, Array<Awaited<ReturnType<typeof ingestRun>> & { ratio: number }>> = {};
  try {
    for (let r = 0; r < repeats; r++) {
      const rawRun = await rawConsume(s.KAFKA_BROKERS, topics.predictions, events, concurrency, maxBytesPerPartition);
      raw.push(rawRun);
      log(`repeat ${r + 1}: raw kafkajs ${rawRun.eventsPerSecond} events/s, ${rawRun.cpuMicrosPerEvent} µs CPU/event`);
      for (const mode of modes) {
        const run = await ingestRun(engines.get(mode)!, events, concurrency, tuning);
        if (run.rowsVisible !== events || run.deadLetters !== 0)
          throw new Error(`ingest (${mode}) made ${run.rowsVisible} of ${events} rows visible, ${run.deadLetters} dead letters`);
        const ratio = Math.round((run.eventsPerSecond / rawRun.eventsPerSecond) * 1000) / 1000;
        (runs[mode] ??= []).push({ ...run, ratio });
        log(
          `repeat ${r + 1}: ingest (${mode}) ${run.eventsPerSecond} events/s (${ratio} x raw), ${run.cpuMicrosPerEvent} µs CPU/event, ${run.inserts} group commits`,
        );
      }
    }
    const embedded = engines.get('embedded');
    if (embedded) {
      stages = await stageCosts(embedded, codec, topics.predictions, sample);
      log(`stage CPU µs/event: ${JSON.stringify(stages)}`);
    }
  } finally {
    for (const e of engines.values()) await e.close();
  }

  const metrics: Record<string, ReturnType<typeof summarize> & { unit: string }> = {
    raw_consume_rate: { ...summarize(raw.map((x) => x.eventsPerSecond)), unit: 'events/s' },
    raw_consume_cpu: { ...summarize(raw.map((x) => x.cpuMicrosPerEvent)), unit: 'µs CPU/event' },
  };
  const targets = [];
  for (const [mode, rs] of Object.entries(runs)) {
    metrics[`ingest_${mode}_rate`] = { ...summarize(rs.map((x) => x.eventsPerSecond)), unit: 'events/s' };
    metrics[`ingest_${mode}_cpu`] = { ...summarize(rs.map((x) => x.cpuMicrosPerEvent)), unit: 'µs CPU/event' };
    metrics[`ingest_${mode}_ratio_to_raw`] = { ...summarize(rs.map((x) => x.ratio)), unit: 'x' };
    const median = metrics[`ingest_${mode}_ratio_to_raw`]!.median;
    targets.push({
      name: `ingest (${mode} ClickHouse) / raw kafkajs consume`,
      target: `>= ${TARGET_RATIO}`,
      value: median,
      unit: 'x',
      met: median >= TARGET_RATIO,
    });
  }
  const result = suite.finish({
    command: opts.command ?? 'npx tsx bench/ingest.bench.ts',
    repeats,
    quick: opts.quick === true,
    metrics,
    targets,
    notes: [
      'Rates run from the consumer group join to the last record seen (raw) or durable in ClickHouse and committed-ready (ingest); every ingest run was checked to make all events query-visible (FINAL) with no dead letters.',
      'Each ratio divides by the raw rate measured just before it in the same repeat; medians over repeats.',
      'Other work on the machine (see the load average) slows both sides, not equally; CPU µs per event moves less than wall time.',
    ],
    setup: {
      events,
      jsonShare,
      avgEventBytes: Math.round(bytes / events),
      partitions: s.KAFKA_TOPIC_PARTITIONS,
      batchMaxRows: opts.maxRows ?? s.INGEST_BATCH_MAX_ROWS,
      batchMaxWaitMs: s.INGEST_BATCH_MAX_WAIT_MS,
      maxBytesPerPartition,
      partitionsConsumedConcurrently: concurrency,
      raw,
      ingest: runs,
      stageCpuMicrosPerEvent: stages,
    },
    versions: {
      kafkajs: version('kafkajs'),
      chdb: version('chdb'),
      clickhouseClient: version('@clickhouse/client'),
      avsc: version('avsc'),
    },
  });
  if (opts.write !== false) log(`wrote ${writeSuiteResult(result)}`);
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      events: { type: 'string' },
      repeats: { type: 'string' },
      'json-share': { type: 'string' },
      modes: { type: 'string' },
      'max-rows': { type: 'string' },
      'fetch-bytes': { type: 'string' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await runIngestBench({
    events: num(values.events) ?? (values.quick ? 30_000 : undefined),
    repeats: num(values.repeats) ?? (values.quick ? 1 : undefined),
    jsonShare: num(values['json-share']),
    modes: values.modes ? (values.modes.split(',') as ClickHouseMode[]) : undefined,
    maxRows: num(values['max-rows']),
    maxBytesPerPartition: num(values['fetch-bytes']),
    quick: values.quick === true,
    command: ['npx tsx bench/ingest.bench.ts', ...process.argv.slice(2)].join(' '),
  });
  for (const t of result.targets) process.stderr.write(`target ${t.name} ${t.target}: ${t.value} ${t.met ? 'met' : 'NOT met'}\n`);
  process.exit(0);
}
