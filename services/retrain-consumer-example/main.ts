/**
 * Example retrain consumer: subscribes to the retrain topic, decodes each RetrainRequested through
 * the schema registry, and logs what it would retrain, as a user's training pipeline would. Replace
 * the handler body with a call to your pipeline; keep it idempotent by `idempotency_key`.
 *
 *   node --import tsx services/retrain-consumer-example/main.ts
 *
 * Settings: DW_TOPIC_NAMESPACE, KAFKA_BROKERS, SCHEMA_REGISTRY_URL, RETRAIN_CONSUMER_GROUP.
 * See docs/retrain-events.md.
 */
import { createRuntime, runMain } from '../../lib/runtime/process.js';
import { subscribeRetrainEvents } from './subscribe.js';

const COMPONENT = 'retrain-consumer-example';

runMain(COMPONENT, async () => {
  const runtime = createRuntime(COMPONENT);
  const subscription = await subscribeRetrainEvents(runtime, (event, ctx) => {
    const from = new Date(event.training_range_start).toISOString();
    const to = new Date(event.training_range_end).toISOString();
    runtime.logger.info(
      {
        idempotency_key: event.idempotency_key,
        policy_id: event.policy_id,
        model_name: event.model_name,
        model_version: event.model_version,
        training_range: { start: from, end: to },
        drifted_features: event.drifted_features,
        conditions: event.conditions,
        reason: event.reason,
        created_at: new Date(event.created_at).toISOString(),
        encoding: ctx.encoding,
        schema_id: ctx.schemaId,
      },
      `would retrain ${event.model_name} (replacing v${event.model_version}) on data from ${from} to ${to}`,
    );
  });
  runtime.onShutdown(() => subscription.stop());
});
