/**
 * One-shot setup of the Docker demo (`docker compose --profile demo up`): what the launcher does
 * before it starts the simulator (services/launcher/main.ts, step 3). It applies the migrations,
 * creates the topics, registers the schemas, and registers the sample models in `models/` as
 * champions with their reference profiles (services/launcher/bootstrap.ts). Then it exits 0.
 *
 * Compose's scoring service starts with an empty model registry. Without this step every feature
 * event of the simulator would be dead-lettered as DW_MODEL_NOT_FOUND, and window-metrics would
 * have no reference to compute drift against. The step is idempotent: a model that already has
 * versions, or a version that already has a profile, is left alone, so `up` can run it every time.
 *
 *   node --import tsx infra/demo-bootstrap.ts
 */
import { fileURLToPath } from 'node:url';
import { createEventCodec } from '../lib/contracts/codec.js';
import { topicNames } from '../lib/contracts/topics.js';
import { createRuntime, runMain, untilAvailable } from '../lib/runtime/process.js';
import { bootstrapSampleModels } from '../services/launcher/bootstrap.js';
import { parseMonitoringConfig, performanceFor } from '../stream-processors/window-metrics/config.js';

const COMPONENT = 'demo-bootstrap';
const SAMPLE_MODELS = fileURLToPath(new URL('../models', import.meta.url));

runMain(COMPONENT, async () => {
  const rt = createRuntime(COMPONENT);
  const s = rt.config.settings;
  const topics = topicNames(s.DW_TOPIC_NAMESPACE);
  // Compose starts this as soon as Kafka and ClickHouse are healthy; the registry may still be
  // booting, so every step waits out retriable failures as the long-running components do.
  const ch = await untilAvailable(rt, 'ClickHouse', () => rt.clickhouse());
  await untilAvailable(rt, 'Kafka', () => rt.kafka().ensureTopics(topics));
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics);
  await untilAvailable(rt, 'schema registry', () => codec.registerAll());
  const monitoring = parseMonitoringConfig(rt.config.sections);
  const report = await bootstrapSampleModels(ch, {
    sourceDir: SAMPLE_MODELS,
    modelDir: s.MODEL_DIR,
    logger: rt.logger,
    kpis: monitoring.kpis,
    performanceFor: (m) => performanceFor(monitoring, m),
  });
  rt.logger.info({ ...report, namespace: s.DW_TOPIC_NAMESPACE }, 'demo ready: topics, schemas, tables and sample models');
  await rt.shutdown(0);
});
