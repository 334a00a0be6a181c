/**
 * The reference retrain worker: a downstream subscriber of `<ns>.retrain-requested.v1` that closes
 * the loop. On each RetrainRequested event it trains a new version on the labeled data of the
 * event's training range, exports it to ONNX, registers it, builds its reference profile and
 * promotes it to champion (worker.ts). The scoring service hot-swaps to it on its next poll.
 *
 *   node --import tsx services/retrain-worker/main.ts     (the launcher runs it)
 *
 * Settings: RETRAIN_WORKER_* (lib/runtime/config.ts), MODEL_DIR, the ClickHouse and Kafka settings,
 * and DW_CONFIG_FILE for the KPI definitions and performance settings (profile baselines).
 * See docs/demo.md and docs/retrain-events.md.
 */
import { createRuntime, runMain } from '../../lib/runtime/process.js';
import { parseMonitoringConfig, performanceFor } from '../../stream-processors/window-metrics/config.js';
import { subscribeRetrainEvents } from '../retrain-consumer-example/subscribe.js';
import { createModelRegistry } from '../scoring/model-registry.js';
import { createRetrainWorker } from './worker.js';

const COMPONENT = 'retrain-worker';

runMain(COMPONENT, async () => {
  const rt = createRuntime(COMPONENT);
  const s = rt.config.settings;
  const monitoring = parseMonitoringConfig(rt.config.sections);
  const ch = await rt.clickhouse();
  const registry = createModelRegistry(ch, { modelDir: s.MODEL_DIR, intraOpThreads: s.SCORING_ORT_THREADS });
  const worker = createRetrainWorker({
    ch,
    registry,
    logger: rt.logger,
    settings: s,
    kpis: monitoring.kpis,
    performanceFor: (model) => performanceFor(monitoring, model),
    worker: rt.instanceId,
  });
  const subscription = await subscribeRetrainEvents(
    rt,
    async (event, ctx) => {
      rt.logger.info(
        {
          idempotency_key: event.idempotency_key,
          policy_id: event.policy_id,
          model: event.model_name,
          version: event.model_version,
          offset: ctx.offset,
          partition: ctx.partition,
        },
        `retrain requested for ${event.model_name} v${event.model_version}: ${event.reason}`,
      );
      const result = await worker.handle(event, ctx.heartbeat);
      rt.logger.info(
        { idempotency_key: event.idempotency_key, ...result },
        result.outcome === 'promoted' ? `${event.model_name} v${result.version} is the new champion` : 'retrain skipped (already done)',
      );
    },
    { groupId: s.RETRAIN_WORKER_CONSUMER_GROUP ?? `${s.DW_TOPIC_NAMESPACE}.retrain-worker` },
  );
  rt.onShutdown(() => subscription.stop());
});
