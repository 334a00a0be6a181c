/**
 * Scoring throughput and latency, each side by side with raw onnxruntime `session.run` on the same
 * batches, in one run:
 *
 *   npx tsx bench/scoring.bench.ts [--events 40000] [--repeats 3] [--http-requests 2000] [--http-instances 16] [--http-concurrency 8]
 *                                 [--mlp-hidden 1024] [--mlp-layers 2] [--mlp-events 10000]
 *                                 [--mlp-heavy 4x2048|none] [--mlp-heavy-events 20000] [--quick]
 *
 * Model: the committed sample `credit-risk` v1 (logistic regression, 7 features), registered in a
 * fresh registry (embedded ClickHouse, temp MODEL_DIR). Events: the shared seeded feature space.
 *
 *  1. raw: onnxruntime `session.run` on prebuilt float32 tensors of SCORING_BATCH_MAX_SIZE rows
 *     (tensor building outside the timer): the ceiling.
 *  2. scorer: the service's scoring path in-process on the same batches (feature maps -> tensor ->
 *     run -> output mapping -> PredictionEvents), no Kafka.
 *  3. stream: the real service (startScoring, stream only) drains a backlog of N Avro feature
 *     events from Kafka and produces N Avro predictions (acks=all, offsets committed after): time
 *     from the consumer joining to the group's committed offsets reaching the end. Then a paced
 *     load (bounded count) measures event-to-prediction latency (prediction record time minus the
 *     feature's event_time, stamped at produce).
 *  3a. the same raw-vs-stream comparison with bench-only MLPs: --mlp-layers x --mlp-hidden (about
 *     10 CPU µs of inference per event) and --mlp-heavy (default 4x2048, about 120 µs), where
 *     inference, not the per-event Kafka/Avro work, dominates.
 *  3-. a bare Kafka pass-through through the same adapter (consume, produce the bytes unchanged,
 *     commit): how much of the stream's cost is Kafka I/O alone.
 *  4. http: POST /v1/predict on a loopback listener (publishing off), a bounded number of requests
 *     of K instances at concurrency C; compared with raw session.run on the same K-row batches.
 *
 * Every part runs --repeats times (the paced load too); latency p50/p99 are taken per repeat and
 * reported as median, min, max and spread over repeats, like the rates.
 * Target (issue 8): streaming throughput >= 0.8 x raw batched inference. Writes
 * bench/results/scoring.json; progress on stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { createEventCodec } from '../lib/contracts/codec.js';
import type { FeatureEvent } from '../lib/contracts/schemas.js';
import { topicNames } from '../lib/contracts/topics.js';
import { openClickHouse } from '../lib/runtime/clickhouse/client.js';
import { migrate } from '../lib/runtime/clickhouse/migrations.js';
import { loadConfig, type Config } from '../lib/runtime/config.js';
import { createKafkaAdapter } from '../lib/runtime/kafka.js';
import { createLogger } from '../lib/runtime/logger.js';
import { createMetrics } from '../lib/runtime/metrics.js';
import { startScoring } from '../services/scoring/main.js';
import { createModelRegistry } from '../services/scoring/model-registry.js';
import type { ModelMetadata } from '../services/scoring/model-metadata.js';
import { createScorer } from '../services/scoring/scorer.js';
import { ONNX_FLOAT, buildOnnxModel, node, tensor, valueInfo } from '../services/scoring/onnx-export.js';
import { mulberry32, normalSampler } from '../lib/stats/random.js';
import { CREDIT_RISK, createFeatureGenerator } from '../services/scoring/sample-models/feature-space.js';
import { encodeDense, requiredOutputs } from '../services/scoring/tensor-codec.js';
import { beginSuite, summarize, writeSuiteResult, type Summary, type TargetCheck } from './lib.js';

const SUITE = 'scoring';
let log: (m: string) => void = () => undefined;
const logger = createLogger('bench', 'silent');
const MODEL = new URL('../models/credit-risk/1/', import.meta.url);

export interface ScoringBenchOptions {
  readonly events?: number;
  readonly repeats?: number;
  readonly httpRequests?: number;
  readonly httpInstances?: number;
  readonly httpConcurrency?: number;
  readonly pacedRate?: number;
  readonly pacedSeconds?: number;
  /** Second model: a dense MLP (bench only) whose inference cost dominates the per-event pipeline cost. */
  readonly mlpHidden?: number;
  readonly mlpLayers?: number;
  readonly mlpEvents?: number;
  /** A second, inference-heavy MLP (`null`: none); default 4 layers of 2048. */
  readonly mlpHeavy?: { readonly layers: number; readonly hidden: number } | null;
  readonly mlpHeavyEvents?: number;
  readonly write?: boolean;
  /** Recorded in the result: a --quick run is a harness check. */
  readonly quick?: boolean;
}

/**
 * A bench-only regression MLP over the credit-risk inputs: X[N,7] -> (MatMul + Add + Relu) x layers
 * -> MatMul -> variable[N,1], seeded random weights. It exists to show how the pipeline compares with
 * raw inference when inference is expensive (about 2·hidden² multiply-adds per layer and row).
 */
export function buildBenchMlp(hidden: number, layers: number, seed = 1): { onnx: Buffer; metadata: ModelMetadata } {
  const normal = normalSampler(mulberry32(seed));
  const F = CREDIT_RISK.features.length;
  const nodes = [];
  const inits = [];
  let prev = 'X';
  let width = F;
  for (let l = 0; l < layers; l++) {
    const w = Array.from({ length: width * hidden }, () => normal(0, 1 / Math.sqrt(width)));
    inits.push(tensor(`W${l}`, [width, hidden], ONNX_FLOAT, w), tensor(`B${l}`, [hidden], ONNX_FLOAT, new Array(hidden).fill(0.01)));
    nodes.push(node('MatMul', [prev, `W${l}`], [`mm${l}`]), node('Add', [`mm${l}`, `B${l}`], [`pre${l}`]), node('Relu', [`pre${l}`], [`h${l}`]));
    prev = `h${l}`;
    width = hidden;
  }
  inits.push(
    tensor(
      'Wout',
      [width, 1],
      ONNX_FLOAT,
      Array.from({ length: width }, () => normal(0, 1 / Math.sqrt(width))),
    ),
  );
  nodes.push(node('MatMul', [prev, 'Wout'], ['variable']));
  const onnx = buildOnnxModel({
    name: 'bench_mlp',
    modelName: 'bench-mlp',
    nodes,
    initializers: inits,
    inputs: [valueInfo('X', ONNX_FLOAT, ['N', F])],
    outputs: [valueInfo('variable', ONNX_FLOAT, ['N', 1])],
  });
  const metadata: ModelMetadata = {
    format: 1,
    name: 'bench-mlp',
    task: 'regression',
    input: { layout: 'dense', name: 'X' },
    features: CREDIT_RISK.features.map((f) =>
      f.type === 'categorical'
        ? { name: f.name, type: 'categorical', categories: [...f.categories!], default: f.categories![0]! }
        : { name: f.name, type: 'numeric', default: 0 },
    ),
    outputs: { score: { tensor: 'variable', column: 0 } },
  };
  return { onnx, metadata };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function latencyOf(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };
}

function makeEvents(n: number, prefix: string, seed: number, model = 'credit-risk'): FeatureEvent[] {
  const gen = createFeatureGenerator('credit-risk', seed);
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const r = gen.next();
    return {
      event_id: `${prefix}-${i}`,
      model_name: model,
      entity_id: `e${i % 1000}`,
      prediction_id: null,
      event_time: now,
      features: r.features,
      segment: r.segment,
    };
  });
}

/** CPU time of this process (user + system, all threads, onnxruntime's included) in µs. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Raw session.run over prebuilt tensors: events/s and per-run latency (ms). */
async function rawRuns(
  session: ort.InferenceSession,
  meta: ModelMetadata,
  batches: FeatureEvent[][],
): Promise<{ eventsPerSecond: number; latencies: number[] }> {
  const fetches = requiredOutputs(meta);
  const feeds = batches.map((b) => ({
    X: new ort.Tensor(
      'float32',
      encodeDense(
        meta,
        b.map((e) => e.features),
      ).data,
      [b.length, meta.features.length],
    ),
  }));
  const latencies: number[] = [];
  let n = 0;
  const t0 = performance.now();
  for (let i = 0; i < feeds.length; i++) {
    const s = performance.now();
    await session.run(feeds[i]!, fetches);
    latencies.push(performance.now() - s);
    n += batches[i]!.length;
  }
  return { eventsPerSecond: n / ((performance.now() - t0) / 1000), latencies };
}

function benchConfig(overrides: Record<string, string>): Config {
  return loadConfig({ ...process.env, LOG_LEVEL: 'silent', ...overrides });
}

export async function runScoringBench(opts: ScoringBenchOptions = {}) {
  const N = opts.events ?? 40_000;
  const repeats = opts.repeats ?? 3;
  const httpRequests = opts.httpRequests ?? 2000;
  const httpInstances = opts.httpInstances ?? 16;
  const httpConcurrency = opts.httpConcurrency ?? 8;
  const pacedRate = opts.pacedRate ?? 2000;
  const pacedSeconds = opts.pacedSeconds ?? 5;
  const dataDir = mkdtempSync(join(tmpdir(), 'dw-bench-ch-'));
  const modelDir = mkdtempSync(join(tmpdir(), 'dw-bench-models-'));
  const ns = `bench-scoring-${Date.now().toString(36)}`;
  const base = benchConfig({
    CLICKHOUSE_DATA_DIR: dataDir,
    MODEL_DIR: modelDir,
    DW_TOPIC_NAMESPACE: ns,
    SCORING_HTTP_PORT: '0',
    SCORING_HTTP_PUBLISH: 'false',
    CLICKHOUSE_URL: '',
  });
  const s = base.settings;
  const B = s.SCORING_BATCH_MAX_SIZE;
  const suite = beginSuite(SUITE);
  log = suite.log;
  log(`events=${N} batch=${B} repeats=${repeats} http=${httpRequests}x${httpInstances} @${httpConcurrency}`);

  const ch = await openClickHouse({ ...s, CLICKHOUSE_URL: undefined });
  await migrate(ch, s);
  const registry = createModelRegistry(ch, { modelDir, intraOpThreads: s.SCORING_ORT_THREADS });
  const onnx = readFileSync(new URL('model.onnx', MODEL));
  const metadata = JSON.parse(readFileSync(new URL('metadata.json', MODEL), 'utf8')) as ModelMetadata;
  await registry.register('credit-risk', { onnx, metadata, version: '1', promoteTo: 'champion', actor: 'bench' });
  const session = await ort.InferenceSession.create(onnx, {
    intraOpNumThreads: s.SCORING_ORT_THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });

  const events = makeEvents(N, 'warm', 7);
  const batches = chunks(events, B);
  await rawRuns(session, metadata, batches.slice(0, 20)); // warm-up

  // 1 + 2: raw session.run vs the scorer path, alternating so load drift hits both alike.
  const scorer = createScorer({ registry, logger, fallback: ['previous_version', 'default_score'], intraOpThreads: s.SCORING_ORT_THREADS });
  await scorer.scoreEvents(batches[0]!);
  const raw: number[] = [];
  // Latency quantiles are taken per repeat, so each has a median and a spread over repeats.
  const rawLat: number[][] = [];
  const scorerRate: number[] = [];
  const scorerLat: number[][] = [];
  const rawCpu: number[] = [];
  const scorerCpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let c0 = cpuMicros();
    const rr = await rawRuns(session, metadata, batches);
    rawCpu.push((cpuMicros() - c0) / N);
    raw.push(rr.eventsPerSecond);
    rawLat.push(rr.latencies);
    c0 = cpuMicros();
    const t0 = performance.now();
    const lat: number[] = [];
    for (const b of batches) {
      const st = performance.now();
      await scorer.scoreEvents(b);
      lat.push(performance.now() - st);
    }
    scorerLat.push(lat);
    scorerRate.push(N / ((performance.now() - t0) / 1000));
    scorerCpu.push((cpuMicros() - c0) / N);
    log(`repeat ${r + 1}: raw ${Math.round(rr.eventsPerSecond)} ev/s, scorer ${Math.round(scorerRate[r]!)} ev/s`);
  }
  await scorer.close();

  // 3: the stream through Kafka.
  const kafka = createKafkaAdapter(s, logger, 'bench-scoring');
  const topics = topicNames(ns);
  await kafka.ensureTopics(topics);
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics);
  await codec.registerAll();
  const producer = await kafka.producer();
  const streamEvents = makeEvents(N, 'stream', 8);
  log(`producing ${N} feature events (Avro) to ${topics.features}`);
  for (const c of chunks(streamEvents, 1000)) {
    await producer.send(await Promise.all(c.map(async (e) => ({ topic: topics.features, key: e.entity_id, value: await codec.encode(topics.features, e) }))));
  }
  const runtimeOf = (group: string, namespace = ns) => {
    const config = benchConfig({
      CLICKHOUSE_DATA_DIR: dataDir,
      MODEL_DIR: modelDir,
      DW_TOPIC_NAMESPACE: namespace,
      SCORING_CONSUMER_GROUP: group,
      SCORING_HTTP_PORT: '0',
      SCORING_HTTP_PUBLISH: 'false',
    });
    return { config, logger, metrics: createMetrics('scoring'), clickhouse: async () => ch, kafka: () => createKafkaAdapter(config.settings, logger, group) };
  };
  /** Waits until a group has committed `n` records of a features topic; returns records/s from `t0`. */
  const untilCommitted = async (group: string, topic: string, n: number, t0: number): Promise<number> => {
    for (;;) {
      const lag = await kafka.consumerLag(group, [topic]);
      if (lag.length > 0 && lag.reduce((a, l) => a + l.committed, 0) >= n) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    return n / ((performance.now() - t0) / 1000);
  };
  /** One run of the service on a namespace whose features topic holds `n` events: ev/s from group join to all committed. */
  const cpu: Record<'stream' | 'pass', number[]> = { stream: [], pass: [] };
  const drainOnce = async (namespace: string, n: number, label: string, r: number, cpuInto: number[]): Promise<number> => {
    const group = `${namespace}-drain-${r}`;
    const svc = await startScoring(runtimeOf(group, namespace), { http: false });
    await svc.stream!.consumer.joined;
    const c0 = cpuMicros();
    const rate = await untilCommitted(group, topicNames(namespace).features, n, performance.now());
    cpuInto.push((cpuMicros() - c0) / n);
    log(`repeat ${r + 1}: ${label} stream drained ${n} events = ${Math.round(rate)} ev/s, ${cpuInto[cpuInto.length - 1]!.toFixed(1)} CPU µs/event`);
    await svc.stop();
    return rate;
  };
  // 3-: bare Kafka pass-through through the same adapter (consume the feature records, produce their
  // bytes unchanged with acks=all, commit after): the share of the stream's cost that is Kafka I/O alone.
  const passTopic = `${ns}.passthrough.v1`;
  await kafka.createTopic(passTopic, s.KAFKA_TOPIC_PARTITIONS);
  const passOnce = async (r: number): Promise<number> => {
    const group = `${ns}-pass-${r}`;
    const passKafka = createKafkaAdapter(s, logger, group);
    const passProducer = await passKafka.producer();
    const consumer = await passKafka.runConsumer({
      groupId: group,
      topics: [topics.features],
      component: 'bench-passthrough',
      deadLetterTopic: topics.deadLetter,
      partitionsConsumedConcurrently: s.KAFKA_TOPIC_PARTITIONS,
      async handleBatch(records) {
        await passProducer.send(records.map((rec) => ({ topic: passTopic, key: rec.key, value: rec.value })));
        return { deadLetters: [] };
      },
    });
    await consumer.joined;
    const c0 = cpuMicros();
    const rate = await untilCommitted(group, topics.features, N, performance.now());
    cpu.pass.push((cpuMicros() - c0) / N);
    log(`repeat ${r + 1}: kafka pass-through ${N} records = ${Math.round(rate)} rec/s, ${cpu.pass[cpu.pass.length - 1]!.toFixed(1)} CPU µs/record`);
    await consumer.stop();
    await passProducer.disconnect();
    await passKafka.disconnect();
    return rate;
  };
  // Alternated, so load changes on the shared machine hit both sides of the ratio alike.
  const streamRate: number[] = [];
  const passRate: number[] = [];
  for (let r = 0; r < repeats; r++) {
    streamRate.push(await drainOnce(ns, N, 'credit-risk', r, cpu.stream));
    passRate.push(await passOnce(r));
  }

  // 3a: the same comparison with bench-only MLPs, where inference, not the per-event Kafka/Avro work,
  // takes a growing share: the primary shape (--mlp-layers x --mlp-hidden) and a heavier one
  // (--mlp-heavy, default 4x2048), to show at which inference cost per event the stream reaches 0.8x.
  const mlpHidden = opts.mlpHidden ?? 1024;
  const mlpLayers = opts.mlpLayers ?? 2;
  const mlpN = opts.mlpEvents ?? Math.min(N, 10_000);
  const heavy = opts.mlpHeavy === undefined ? { layers: 4, hidden: 2048 } : opts.mlpHeavy;
  const heavyN = opts.mlpHeavyEvents ?? mlpN;
  interface MlpResult {
    readonly shape: string;
    readonly events: number;
    readonly raw: number[];
    readonly rawCpu: number[];
    readonly stream: number[];
    readonly streamCpu: number[];
  }
  const mlpSection = async (layers: number, hidden: number, n: number, tag: string): Promise<MlpResult> => {
    const shape = `${layers}x${hidden}`;
    const modelName = `bench-mlp${tag}`;
    const built = buildBenchMlp(hidden, layers);
    const metadataOf = { ...built.metadata, name: modelName };
    await registry.register(modelName, { onnx: built.onnx, metadata: metadataOf, version: '1', promoteTo: 'champion', actor: 'bench' });
    const mlpSession = await ort.InferenceSession.create(built.onnx, {
      intraOpNumThreads: s.SCORING_ORT_THREADS,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
    const mlpEvents = makeEvents(n, `mlp${tag}`, 11, modelName);
    const mlpBatches = chunks(mlpEvents, B);
    await rawRuns(mlpSession, metadataOf, mlpBatches.slice(0, 5));
    const mlpNs = `${ns}-mlp${tag}`;
    const mlpTopics = topicNames(mlpNs);
    await kafka.ensureTopics(mlpTopics);
    const mlpCodec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, mlpTopics);
    await mlpCodec.registerAll();
    for (const c of chunks(mlpEvents, 1000)) {
      await producer.send(
        await Promise.all(c.map(async (e) => ({ topic: mlpTopics.features, key: e.entity_id, value: await mlpCodec.encode(mlpTopics.features, e) }))),
      );
    }
    const out: MlpResult = { shape, events: n, raw: [], rawCpu: [], stream: [], streamCpu: [] };
    for (let r = 0; r < repeats; r++) {
      const c0 = cpuMicros();
      out.raw.push((await rawRuns(mlpSession, metadataOf, mlpBatches)).eventsPerSecond);
      out.rawCpu.push((cpuMicros() - c0) / n);
      log(`repeat ${r + 1}: mlp ${shape} raw ${Math.round(out.raw[r]!)} ev/s, ${out.rawCpu[r]!.toFixed(1)} CPU µs/event`);
      out.stream.push(await drainOnce(mlpNs, n, `mlp ${shape}`, r, out.streamCpu));
    }
    await mlpSession.release();
    return out;
  };
  const mlps: MlpResult[] = [await mlpSection(mlpLayers, mlpHidden, mlpN, '')];
  if (heavy) mlps.push(await mlpSection(heavy.layers, heavy.hidden, heavyN, '-heavy'));

  // 3b: paced latency through Kafka.
  const pacedGroup = `${ns}-paced`;
  const pacedNs = `${ns}-paced`;
  const pacedTopics = topicNames(pacedNs);
  await kafka.ensureTopics(pacedTopics);
  const pacedCodec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, pacedTopics);
  await pacedCodec.registerAll();
  const pacedRt = runtimeOf(pacedGroup);
  const pacedCfg = benchConfig({
    CLICKHOUSE_DATA_DIR: dataDir,
    MODEL_DIR: modelDir,
    DW_TOPIC_NAMESPACE: pacedNs,
    SCORING_CONSUMER_GROUP: pacedGroup,
    SCORING_HTTP_PORT: '0',
    SCORING_HTTP_PUBLISH: 'false',
  });
  const pacedSvc = await startScoring({ ...pacedRt, config: pacedCfg }, { http: false });
  await pacedSvc.stream!.consumer.joined;
  // One collector for all paced repeats; each repeat's latencies go to its own array.
  const e2eRuns: number[][] = [];
  let e2e: number[] = [];
  const collector = await kafka.runConsumer({
    groupId: `${pacedNs}-collect`,
    topics: [pacedTopics.predictions],
    component: 'bench',
    deadLetterTopic: pacedTopics.deadLetter,
    partitionsConsumedConcurrently: 4,
    async handleBatch(records) {
      for (const rec of records) {
        const p = await pacedCodec.decode<{ event_time: number }>(pacedTopics.predictions, rec.value, Date.now());
        e2e.push(rec.timestamp - p.value.event_time);
      }
      return { deadLetters: [] };
    },
  });
  await collector.joined;
  const pacedTotal = pacedRate * pacedSeconds;
  const perTick = Math.max(1, Math.round(pacedRate / 50));
  const gen = createFeatureGenerator('credit-risk', 9);
  for (let r = 0; r < repeats; r++) {
    e2e = [];
    e2eRuns.push(e2e);
    log(`repeat ${r + 1}: paced load ${pacedRate} ev/s for ${pacedSeconds} s (${pacedTotal} events)`);
    const pacedStart = performance.now();
    for (let sent = 0; sent < pacedTotal; sent += perTick) {
      const due = pacedStart + (sent / pacedRate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      const now = Date.now();
      const recs = await Promise.all(
        Array.from({ length: perTick }, async (_, k) => {
          const fr = gen.next();
          const e: FeatureEvent = {
            event_id: `paced-${r}-${sent + k}`,
            model_name: 'credit-risk',
            entity_id: `e${k}`,
            prediction_id: null,
            event_time: now,
            features: fr.features,
            segment: fr.segment,
          };
          return { topic: pacedTopics.features, key: e.entity_id, value: await pacedCodec.encode(pacedTopics.features, e) };
        }),
      );
      await producer.send(recs);
    }
    const deadline = Date.now() + 60_000;
    while (e2e.length < pacedTotal && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const l = latencyOf(e2e);
    log(`repeat ${r + 1}: paced ${e2e.length}/${pacedTotal} predictions, p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms`);
  }
  await collector.stop();
  await pacedSvc.stop();
  const e2eLat = e2eRuns.map(latencyOf);
  await producer.disconnect();
  await kafka.disconnect();

  // 4: HTTP on loopback vs raw session.run on the same K-row batches.
  const httpSvc = await startScoring(runtimeOf(`${ns}-http`), { stream: false });
  const httpEvents = makeEvents(httpRequests * httpInstances, 'http', 10);
  const bodies = chunks(httpEvents, httpInstances).map((b) =>
    JSON.stringify({ model: 'credit-risk', instances: b.map((e) => ({ features: e.features, segment: e.segment })) }),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: httpConcurrency });
  const url = new URL('/v1/predict', httpSvc.url);
  const post = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const st = performance.now();
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - st) : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  for (const b of bodies.slice(0, 50)) await post(b); // warm-up
  const httpRate: number[] = [];
  const httpLat: number[][] = [];
  const rawHttpRate: number[] = [];
  const rawHttpLat: number[][] = [];
  const httpBatches = chunks(httpEvents, httpInstances);
  for (let r = 0; r < repeats; r++) {
    let next = 0;
    const lat: number[] = [];
    httpLat.push(lat);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: httpConcurrency }, async () => {
        while (next < bodies.length) {
          const i = next++;
          lat.push(await post(bodies[i]!));
        }
      }),
    );
    httpRate.push((bodies.length * httpInstances) / ((performance.now() - t0) / 1000));
    const rr = await rawRuns(session, metadata, httpBatches);
    rawHttpRate.push(rr.eventsPerSecond);
    rawHttpLat.push(rr.latencies);
    log(`repeat ${r + 1}: http ${Math.round(httpRate[r]!)} instances/s vs raw ${Math.round(rr.eventsPerSecond)} on ${httpInstances}-row batches`);
  }
  agent.destroy();
  await httpSvc.stop();
  await session.release();
  await ch.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(modelDir, { recursive: true, force: true });

  const rawS = summarize(raw);
  const streamS = summarize(streamRate);
  const ratio = (a: Summary, b: Summary) => summarize(a.runs.map((x, i) => x / (b.runs[i] ?? b.median)));
  const rawLatQ = rawLat.map(latencyOf);
  const scorerLatQ = scorerLat.map(latencyOf);
  const httpLatQ = httpLat.map(latencyOf);
  const rawHttpLatQ = rawHttpLat.map(latencyOf);
  const q = (xs: ReadonlyArray<{ p50: number; p99: number }>, k: 'p50' | 'p99') => summarize(xs.map((x) => x[k]));
  const metrics: Record<string, Summary & { unit: string }> = {
    raw_batched_inference: { ...rawS, unit: `events/s (session.run, ${B}-row batches)` },
    scorer_in_process: { ...summarize(scorerRate), unit: 'events/s' },
    scorer_vs_raw: { ...ratio(summarize(scorerRate), rawS), unit: 'ratio' },
    stream_kafka: { ...streamS, unit: 'events/s (Avro in, Avro out, acks=all, committed)' },
    stream_vs_raw: { ...ratio(streamS, rawS), unit: 'ratio' },
    raw_cpu_per_event: { ...summarize(rawCpu), unit: 'CPU µs/event (this process, all threads)' },
    scorer_cpu_per_event: { ...summarize(scorerCpu), unit: 'CPU µs/event' },
    stream_cpu_per_event: { ...summarize(cpu.stream), unit: 'CPU µs/event (service in this process; the broker not counted)' },
    kafka_passthrough_cpu_per_record: { ...summarize(cpu.pass), unit: 'CPU µs/record' },
    kafka_passthrough: { ...summarize(passRate), unit: 'records/s (same adapter: consume, produce bytes unchanged, acks=all, commit)' },
    stream_vs_kafka_passthrough: { ...ratio(streamS, summarize(passRate)), unit: 'ratio' },
    stream_e2e_latency_p50: { ...q(e2eLat, 'p50'), unit: `ms at ${pacedRate} ev/s` },
    stream_e2e_latency_p99: { ...q(e2eLat, 'p99'), unit: `ms at ${pacedRate} ev/s` },
    raw_run_latency_p50: { ...q(rawLatQ, 'p50'), unit: `ms per ${B}-row run` },
    raw_run_latency_p99: { ...q(rawLatQ, 'p99'), unit: `ms per ${B}-row run` },
    scorer_batch_latency_p50: { ...q(scorerLatQ, 'p50'), unit: `ms per ${B}-row batch` },
    scorer_batch_latency_p99: { ...q(scorerLatQ, 'p99'), unit: `ms per ${B}-row batch` },
    http: { ...summarize(httpRate), unit: `instances/s (${httpInstances}/request, concurrency ${httpConcurrency})` },
    raw_same_http_batches: { ...summarize(rawHttpRate), unit: `events/s (session.run, ${httpInstances}-row batches)` },
    http_vs_raw: { ...ratio(summarize(httpRate), summarize(rawHttpRate)), unit: 'ratio' },
    http_latency_p50: { ...q(httpLatQ, 'p50'), unit: 'ms per request' },
    http_latency_p99: { ...q(httpLatQ, 'p99'), unit: 'ms per request' },
    raw_http_batch_latency_p50: { ...q(rawHttpLatQ, 'p50'), unit: `ms per ${httpInstances}-row run` },
    raw_http_batch_latency_p99: { ...q(rawHttpLatQ, 'p99'), unit: `ms per ${httpInstances}-row run` },
  };
  // The primary MLP keeps the mlp_* names of earlier recorded runs; the heavy one is mlp_heavy_*.
  mlps.forEach((m, i) => {
    const k = i === 0 ? 'mlp' : 'mlp_heavy';
    metrics[`${k}_raw_batched_inference`] = { ...summarize(m.raw), unit: `events/s (bench MLP ${m.shape}, ${B}-row batches)` };
    metrics[`${k}_raw_cpu_per_event`] = { ...summarize(m.rawCpu), unit: 'CPU µs/event' };
    metrics[`${k}_stream_kafka`] = { ...summarize(m.stream), unit: `events/s (bench MLP ${m.shape}, same stream path)` };
    metrics[`${k}_stream_cpu_per_event`] = { ...summarize(m.streamCpu), unit: 'CPU µs/event' };
    metrics[`${k}_stream_vs_raw`] = { ...ratio(summarize(m.stream), summarize(m.raw)), unit: 'ratio' };
  });
  const targets: TargetCheck[] = [
    {
      name: 'stream_vs_raw',
      target: '>= 0.8 x raw batched inference (sample model credit-risk v1)',
      value: metrics.stream_vs_raw!.median,
      unit: 'ratio',
      met: metrics.stream_vs_raw!.median >= 0.8,
    },
    ...mlps.map((m, i) => {
      const name = i === 0 ? 'mlp_stream_vs_raw' : 'mlp_heavy_stream_vs_raw';
      return {
        name,
        target: `>= 0.8 x raw batched inference (bench MLP ${m.shape}, ${metrics[name.replace('stream_vs_raw', 'raw_cpu_per_event')]!.median.toFixed(0)} CPU µs/event of inference)`,
        value: metrics[name]!.median,
        unit: 'ratio',
        met: metrics[name]!.median >= 0.8,
      };
    }),
  ];
  const result = suite.finish({
    command: `npx tsx bench/scoring.bench.ts --events ${N} --repeats ${repeats} --http-requests ${httpRequests} --http-instances ${httpInstances} --http-concurrency ${httpConcurrency} --mlp-hidden ${mlpHidden} --mlp-layers ${mlpLayers} --mlp-events ${mlpN} --mlp-heavy ${heavy ? `${heavy.layers}x${heavy.hidden}` : 'none'} --mlp-heavy-events ${heavyN}`,
    repeats,
    quick: opts.quick === true,
    metrics,
    targets,
    notes: [
      `model: models/credit-risk/1 (logistic regression, ${metadata.features.length} features), onnxruntime-node ${ort.env.versions.common}, ${s.SCORING_ORT_THREADS} intra-op thread(s)`,
      `stream: ${N} events backlog, SCORING_BATCH_MAX_SIZE=${B}, SCORING_BATCH_MAX_WAIT_MS=${s.SCORING_BATCH_MAX_WAIT_MS}, ${s.KAFKA_TOPIC_PARTITIONS} partitions consumed concurrently; timed from group join to committed offsets at the end`,
      `paced e2e latency: ${e2eRuns.map((x) => x.length).join(' / ')} of ${pacedTotal} events per repeat, prediction record timestamp minus the feature's event_time (stamped at produce)`,
      'http: loopback only, bounded request count, keep-alive, SCORING_HTTP_PUBLISH=false',
      `bench MLPs (bench-only, seeded random weights, MatMul+Add+Relu over the same 7 inputs): ${mlps.map((m) => `${m.shape} on ${m.events} events`).join(', ')}; they show the ratio as inference takes over the per-event cost`,
      'latency p50/p99 are computed per repeat; the median over repeats is reported (the machine may be shared: tail latencies follow the load)',
    ],
  });
  if (opts.write !== false) log(`wrote ${writeSuiteResult(result)}`);
  return result;
}

/** `--mlp-heavy 4x2048` (layers x hidden), `none` to skip it; unset: the default shape. */
function parseShape(v: string | undefined): { layers: number; hidden: number } | null | undefined {
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new Error(`--mlp-heavy must be <layers>x<hidden> or none, got ${v}`);
  return { layers: Number(m[1]), hidden: Number(m[2]) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      repeats: { type: 'string' },
      'http-requests': { type: 'string' },
      'http-instances': { type: 'string' },
      'http-concurrency': { type: 'string' },
      'mlp-hidden': { type: 'string' },
      'mlp-layers': { type: 'string' },
      'mlp-events': { type: 'string' },
      'mlp-heavy': { type: 'string' },
      'mlp-heavy-events': { type: 'string' },
      quick: { type: 'boolean' },
    },
  });
  const quick = values.quick === true;
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  const res = await runScoringBench({
    events: num(values.events, quick ? 10_000 : 40_000),
    repeats: num(values.repeats, quick ? 1 : 3),
    httpRequests: num(values['http-requests'], quick ? 500 : 2000),
    httpInstances: num(values['http-instances'], 16),
    httpConcurrency: num(values['http-concurrency'], 8),
    mlpHidden: num(values['mlp-hidden'], 1024),
    mlpLayers: num(values['mlp-layers'], 2),
    mlpEvents: num(values['mlp-events'], quick ? 3000 : 10_000),
    mlpHeavy: parseShape(values['mlp-heavy']),
    mlpHeavyEvents: num(values['mlp-heavy-events'], quick ? 3000 : 20_000),
    quick,
  });
  process.stdout.write(
    `${JSON.stringify({ targets: res.targets, metrics: Object.fromEntries(Object.entries(res.metrics).map(([k, v]) => [k, `${v.median.toPrecision(4)} ${v.unit}`])) }, null, 2)}\n`,
  );
  process.exit(0);
}
