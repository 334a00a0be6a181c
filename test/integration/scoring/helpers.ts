/**
 * Shared pieces of the scoring integration tests: feature events from the sample feature space,
 * producing them as Avro, and a consumer that collects the predictions topic.
 */
import { readFileSync } from 'node:fs';
import type { EventCodec } from '../../../lib/contracts/codec.js';
import type { FeatureEvent, PredictionEvent } from '../../../lib/contracts/schemas.js';
import type { TopicNames } from '../../../lib/contracts/topics.js';
import { DEAD_LETTER_HEADERS } from '../../../lib/contracts/topics.js';
import type { KafkaAdapter, RunningConsumer } from '../../../lib/runtime/kafka.js';
import type { ModelRegistry } from '../../../services/scoring/model-registry.js';
import type { Role } from '../../../services/scoring/promotions.js';
import { createFeatureGenerator } from '../../../services/scoring/sample-models/feature-space.js';
import { uniqueName } from '../../support/stack.js';

export function sampleModel(name: string, version: string): { onnx: Buffer; metadata: Record<string, unknown> } {
  const base = new URL(`../../../models/${name}/${version}/`, import.meta.url);
  return {
    onnx: readFileSync(new URL('model.onnx', base)),
    metadata: JSON.parse(readFileSync(new URL('metadata.json', base), 'utf8')) as Record<string, unknown>,
  };
}

export async function registerSample(registry: ModelRegistry, name: string, version: string, promoteTo?: Role): Promise<void> {
  const m = sampleModel(name, version);
  await registry.register(name, { ...m, version, ...(promoteTo ? { promoteTo } : {}), actor: 'test' });
}

export function featureEvents(model: string, n: number, prefix: string, seed = 1): FeatureEvent[] {
  const gen = createFeatureGenerator(model, seed);
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const row = gen.next();
    return {
      event_id: `${prefix}-${i}`,
      model_name: model,
      entity_id: `entity-${i % 97}`,
      prediction_id: i % 3 === 0 ? `pid-${prefix}-${i}` : null,
      event_time: now - 60_000 + i,
      features: row.features,
      segment: row.segment,
    };
  });
}

export async function produceFeatures(kafka: KafkaAdapter, codec: EventCodec, topics: TopicNames, events: readonly FeatureEvent[]): Promise<void> {
  const producer = await kafka.producer();
  const records = await Promise.all(events.map(async (e) => ({ topic: topics.features, key: e.entity_id, value: await codec.encode(topics.features, e) })));
  for (let i = 0; i < records.length; i += 500) await producer.send(records.slice(i, i + 500));
  await producer.disconnect();
}

export interface CollectedPrediction {
  readonly key: string;
  readonly value: PredictionEvent;
  readonly source: string | undefined;
}

export interface Collector {
  readonly predictions: CollectedPrediction[];
  readonly deadLetters: Array<{ code: string; reason: string; sourceOffset: string }>;
  stop(): Promise<void>;
}

/** Collects every prediction (decoded) and dead letter of a namespace from the beginning. */
export async function collect(kafka: KafkaAdapter, codec: EventCodec, topics: TopicNames): Promise<Collector> {
  const predictions: CollectedPrediction[] = [];
  const deadLetters: Collector['deadLetters'] = [];
  const consumer: RunningConsumer = await kafka.runConsumer({
    groupId: uniqueName('collect'),
    topics: [topics.predictions, topics.deadLetter],
    component: 'test-collector',
    deadLetterTopic: `${topics.deadLetter}.collector`,
    partitionsConsumedConcurrently: 4,
    async handleBatch(records) {
      for (const r of records) {
        if (r.topic === topics.deadLetter) {
          deadLetters.push({
            code: r.headers[DEAD_LETTER_HEADERS.code] ?? '',
            reason: r.headers[DEAD_LETTER_HEADERS.reason] ?? '',
            sourceOffset: r.headers[DEAD_LETTER_HEADERS.sourceOffset] ?? '',
          });
          continue;
        }
        const d = await codec.decode<PredictionEvent>(topics.predictions, r.value, Date.now());
        predictions.push({ key: r.key?.toString('utf8') ?? '', value: d.value, source: r.headers['dw-source'] });
      }
      return { deadLetters: [] };
    },
  });
  await consumer.joined;
  return { predictions, deadLetters, stop: () => consumer.stop() };
}
