/**
 * Shared helpers of the ingest integration tests: event factories, an in-process runtime for
 * `startIngest`, and readers for ClickHouse counts and the dead-letter topic.
 */
import type { Config } from '../../../lib/runtime/config.js';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { createKafkaAdapter, type KafkaAdapter, type StreamRecord } from '../../../lib/runtime/kafka.js';
import { createMetrics } from '../../../lib/runtime/metrics.js';
import type { FeatureEvent, OutcomeEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import type { IngestRuntime } from '../../../stream-processors/ingest/main.js';
import { queryRows, testLogger } from '../../support/stack.js';

export function ingestRuntime(config: Config, ch: ClickHouse, kafka?: KafkaAdapter): IngestRuntime & { kafkaAdapter: KafkaAdapter } {
  const adapter = kafka ?? createKafkaAdapter(config.settings, testLogger, 'ingest-test');
  return {
    config,
    logger: testLogger,
    metrics: createMetrics('ingest'),
    clickhouse: async () => ch,
    kafka: () => adapter,
    kafkaAdapter: adapter,
  };
}

export function prediction(id: string, model: string, over: Partial<PredictionEvent> = {}): PredictionEvent {
  return {
    event_id: `pe-${id}`,
    prediction_id: id,
    model_name: model,
    model_version: '1',
    event_time: Date.now() - 60_000,
    features: { income: 52000.5, region: 'north', has_card: true, age: null },
    score: 0.73,
    probabilities: { '0': 0.27, '1': 0.73 },
    predicted_label: '1',
    predicted_value: null,
    latency_ms: 1.5,
    segment: { region: 'north' },
    is_shadow: false,
    fallback: null,
    ...over,
  };
}

export function outcome(id: string, model: string, over: Partial<OutcomeEvent> = {}): OutcomeEvent {
  return {
    event_id: `oe-${id}`,
    prediction_id: id,
    model_name: model,
    outcome_time: Date.now() - 30_000,
    label: '1',
    target_value: null,
    business: { revenue: 10 },
    ...over,
  };
}

export function feature(id: string, model: string, over: Partial<FeatureEvent> = {}): FeatureEvent {
  return {
    event_id: `fe-${id}`,
    model_name: model,
    entity_id: `entity-${id}`,
    prediction_id: null,
    event_time: Date.now() - 60_000,
    features: { income: 1000, region: 'south', vip: false, tenure: null },
    segment: { channel: 'web' },
    ...over,
  };
}

/** Query-visible rows of a raw table for one model (FINAL: duplicates collapsed). */
export async function countFinal(ch: ClickHouse, table: string, model: string): Promise<number> {
  const [row] = await queryRows<{ c: number }>(ch, `SELECT count() AS c FROM ${table} FINAL WHERE model_name = {m:String}`, { m: model });
  return Number(row?.c ?? 0);
}

/** Physical rows (no FINAL): copies not yet merged away are counted. */
export async function countPhysical(ch: ClickHouse, table: string, model: string): Promise<number> {
  const [row] = await queryRows<{ c: number }>(ch, `SELECT count() AS c FROM ${table} WHERE model_name = {m:String}`, { m: model });
  return Number(row?.c ?? 0);
}

/** Every record of a topic up to its current end. */
export async function readTopic(kafka: KafkaAdapter, topic: string): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  await kafka.readToEnd(topic, 'all', (r) => out.push(r));
  return out;
}

/** Sum of a prom-client counter's values whose labels match. */
export async function counterValue(
  counter: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await counter.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((a, v) => a + v.value, 0);
}
