/**
 * The API process: runtime (config, logger, metrics, ClickHouse migrated, Kafka adapter), readiness
 * probes, the consumer-lag poller, then the HTTP server. SIGTERM closes the server (in-flight requests
 * finish), stops the poller, then the runtime closes Kafka and ClickHouse.
 */
import { createRuntime, runMain } from '../../lib/runtime/process.js';
import { topicNames } from '../../lib/contracts/topics.js';
import { buildServer, close, listen } from './server.js';
import { clickhouseCheck, kafkaCheck, registryCheck } from './lib/readiness.js';
import { defaultLagGroups, parseLagGroups, startLagPoller } from './lib/lag.js';
import { createReferenceService } from './lib/references.js';
import { validatePolicy } from '../../stream-processors/retrain-trigger/policy.js';

runMain('api', async () => {
  const runtime = createRuntime('api');
  const s = runtime.config.settings;
  const lagGroups =
    s.API_LAG_GROUPS.length > 0
      ? parseLagGroups(s.API_LAG_GROUPS, s.DW_TOPIC_NAMESPACE)
      : defaultLagGroups(s.DW_TOPIC_NAMESPACE, s.SCORING_CONSUMER_GROUP ?? `${s.DW_TOPIC_NAMESPACE}.scoring`);
  const clickhouse = await runtime.clickhouse();
  const kafka = runtime.kafka();
  const topics = topicNames(s.DW_TOPIC_NAMESPACE);
  const fastify = await buildServer(
    {
      settings: s,
      metrics: runtime.metrics,
      clickhouse,
      readiness: { kafka: kafkaCheck(kafka, topics.predictions), registry: registryCheck(s.SCHEMA_REGISTRY_URL), clickhouse: clickhouseCheck(clickhouse) },
      references: createReferenceService(clickhouse, { maxRows: s.API_REFERENCE_MAX_ROWS }),
      validatePolicy,
    },
    runtime.logger,
  );
  const stopLag = startLagPoller(kafka, lagGroups, runtime.metrics, s.API_LAG_POLL_MS, (group, err) =>
    runtime.logger.warn({ group, err: { message: (err as Error)?.message } }, 'consumer lag measurement failed'),
  );
  runtime.onShutdown(stopLag);
  runtime.onShutdown(() => close(fastify));
  const address = await listen(fastify, s.API_HOST, s.API_PORT);
  runtime.logger.info({ address, lagGroups: lagGroups.map((g) => g.group) }, 'api listening');
});
