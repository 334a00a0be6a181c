/**
 * Entry point of the window-metrics processor (runnable as a child process:
 * `node --import tsx stream-processors/window-metrics/main.ts`). Everything it does is in
 * ./processor.ts; this file only wires the runtime (config, logger, ClickHouse, Kafka, metrics,
 * graceful SIGTERM) to it. An invalid `monitoring:`/`kpis:`/`segments:` section exits with 78
 * (EX_CONFIG) and every problem listed, like an invalid flat setting.
 */
import { topicNames } from '../../lib/contracts/topics.js';
import { ConfigInvalidError } from '../../lib/runtime/errors.js';
import { EXIT_CONFIG, createRuntime, runMain, untilAvailable } from '../../lib/runtime/process.js';
import { parseMonitoringConfig } from './config.js';
import { COMPONENT, startWindowMetrics } from './processor.js';

runMain(COMPONENT, async () => {
  const rt = createRuntime(COMPONENT);
  try {
    parseMonitoringConfig(rt.config.sections);
  } catch (err) {
    if (err instanceof ConfigInvalidError) {
      process.stderr.write(`${COMPONENT}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const ch = await untilAvailable(rt, 'ClickHouse', () => rt.clickhouse());
  const kafka = rt.kafka();
  await untilAvailable(rt, 'Kafka', () => kafka.ensureTopics(topicNames(rt.config.settings.DW_TOPIC_NAMESPACE)));
  const processor = await startWindowMetrics({ config: rt.config, logger: rt.logger, instanceId: rt.instanceId, metrics: rt.metrics, clickhouse: ch, kafka });
  rt.onShutdown(() => processor.stop());
  rt.logger.info({ component: COMPONENT }, 'window-metrics running');
});
