/**
 * The scoring service: the features -> predictions stream loop plus its HTTP server (synchronous
 * scoring, model registry routes, health, metrics) on SCORING_HTTP_HOST:SCORING_HTTP_PORT.
 *
 * Run as a process: `node --import tsx services/scoring/main.ts` (SIGTERM stops the consumer first,
 * so the last batch is either committed after its predictions were acked, or not at all).
 * In-process (tests, benchmarks, demo): `startScoring(runtime)` with any object offering the
 * Runtime members it uses.
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createEventCodec, type EventCodec } from '../../lib/contracts/codec.js';
import { topicNames, type TopicNames } from '../../lib/contracts/topics.js';
import type { Producer } from '../../lib/runtime/kafka.js';
import type { PredictionEvent } from '../../lib/contracts/schemas.js';
import { createRuntime, runMain, untilAvailable, type Runtime } from '../../lib/runtime/process.js';
import { parseServingConfig } from './core.js';
import { buildScoringApp } from './http/app.js';
import { createModelRegistry, type ModelRegistry } from './model-registry.js';
import { createScorer, type Scorer } from './scorer.js';
import { COMPONENT, startScoringStream, type ScoringStream } from './stream.js';

export type ScoringRuntime = Pick<Runtime, 'config' | 'logger' | 'metrics' | 'clickhouse' | 'kafka'>;

export interface StartScoringOptions {
  /** Run the Kafka stream loop (default true). */
  readonly stream?: boolean;
  /** Serve HTTP (default true). */
  readonly http?: boolean;
}

export interface ScoringService {
  readonly registry: ModelRegistry;
  readonly scorer: Scorer;
  readonly topics: TopicNames;
  readonly codec: EventCodec;
  readonly app?: FastifyInstance;
  /** Base URL of the HTTP server when listening. */
  readonly url?: string;
  readonly stream?: ScoringStream;
  stop(): Promise<void>;
}

export async function startScoring(runtime: ScoringRuntime, options: StartScoringOptions = {}): Promise<ScoringService> {
  const s = runtime.config.settings;
  const { logger, metrics } = runtime;
  const serving = parseServingConfig(s.SCORING_FALLBACK, runtime.config.sections.models);
  const ch = await untilAvailable(runtime, 'clickhouse', () => runtime.clickhouse());
  const registry = createModelRegistry(ch, { modelDir: s.MODEL_DIR, intraOpThreads: s.SCORING_ORT_THREADS });
  const scorer = createScorer({
    registry,
    logger: logger.child({ lib: 'scorer' }),
    metrics,
    fallback: serving.fallback,
    models: serving.models,
    intraOpThreads: s.SCORING_ORT_THREADS,
    negativeCacheMs: s.SCORING_MODEL_POLL_MS,
  });
  scorer.startPolling(s.SCORING_MODEL_POLL_MS);

  const topics = topicNames(s.DW_TOPIC_NAMESPACE);
  const kafka = runtime.kafka();
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics, {
    requestTimeoutMs: s.SCHEMA_REGISTRY_TIMEOUT_MS,
  });
  const wantStream = options.stream ?? true;
  const wantHttp = options.http ?? true;
  let producer: Producer | undefined;
  if (wantStream || (wantHttp && s.SCORING_HTTP_PUBLISH)) {
    await untilAvailable(runtime, 'kafka topics', () => kafka.ensureTopics(topics));
    await untilAvailable(runtime, 'schema registry', () => codec.registerAll());
    producer = await untilAvailable(runtime, 'kafka producer', () => kafka.producer());
  }

  let stream: ScoringStream | undefined;
  if (wantStream) {
    stream = await startScoringStream({
      kafka,
      codec,
      topics,
      scorer,
      producer: producer!,
      logger,
      metrics,
      groupId: s.SCORING_CONSUMER_GROUP ?? `${s.DW_TOPIC_NAMESPACE}.scoring`,
      batchMaxSize: s.SCORING_BATCH_MAX_SIZE,
      batchMaxWaitMs: s.SCORING_BATCH_MAX_WAIT_MS,
      concurrency: s.KAFKA_TOPIC_PARTITIONS,
    });
  }

  let app: FastifyInstance | undefined;
  let url: string | undefined;
  if (wantHttp) {
    const publisher =
      s.SCORING_HTTP_PUBLISH && producer
        ? {
            async publish(predictions: readonly PredictionEvent[]) {
              const records = await Promise.all(
                predictions.map(async (p) => ({
                  topic: topics.predictions,
                  key: p.prediction_id,
                  value: await codec.encode(topics.predictions, p),
                  headers: { 'dw-source': 'http' },
                })),
              );
              await producer!.send(records);
              metrics.eventsProduced.inc({ topic: topics.predictions }, records.length);
            },
          }
        : undefined;
    let joined = !stream;
    void stream?.consumer.joined.then(() => (joined = true));
    app = await buildScoringApp({
      scorer,
      registry,
      logger,
      metrics,
      ...(publisher ? { publisher } : {}),
      bodyLimitBytes: s.API_BODY_LIMIT_BYTES,
      maxInstances: s.SCORING_HTTP_MAX_INSTANCES,
      writeTokens: s.API_WRITE_TOKENS,
      readTokens: s.API_READ_TOKENS,
      ready: () => joined,
    });
    await app.listen({ host: s.SCORING_HTTP_HOST, port: s.SCORING_HTTP_PORT });
    const addr = app.server.address() as AddressInfo;
    url = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
    logger.info({ url }, 'scoring HTTP listening');
  }

  let stopped = false;
  return {
    registry,
    scorer,
    topics,
    codec,
    ...(app ? { app } : {}),
    ...(url ? { url } : {}),
    ...(stream ? { stream } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      // Stop taking work first (HTTP, then the consumer, whose in-flight batch finishes and commits), then release models.
      await app?.close();
      await stream?.stop();
      await producer?.disconnect();
      await scorer.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runMain(COMPONENT, async () => {
    const runtime = createRuntime(COMPONENT);
    const service = await startScoring(runtime);
    runtime.onShutdown(() => service.stop());
    runtime.logger.info({ namespace: runtime.config.settings.DW_TOPIC_NAMESPACE, url: service.url }, 'scoring service started');
  });
}
