/**
 * Shared setup of the window-metrics integration tests: a private namespace on the real Kafka broker
 * and schema registry, a YAML monitoring config, the codec, and producing helpers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventCodec, type EventCodec } from '../../../lib/contracts/codec.js';
import type { LabeledPrediction, PredictionEvent } from '../../../lib/contracts/schemas.js';
import { topicNames, type TopicNames } from '../../../lib/contracts/topics.js';
import type { Config } from '../../../lib/runtime/config.js';
import { createKafkaAdapter, type KafkaAdapter, type OutboundRecord } from '../../../lib/runtime/kafka.js';
import { testConfig, testLogger, uniqueName } from '../../support/stack.js';

export const MONITORING_YAML = `
monitoring:
  drift:
    correction: benjamini-hochberg
    min_window_rows: 30
  severity:
    warning: { drifted_count: 1 }
    critical: { drifted_share: 0.5 }
segments: [region]
kpis:
  - name: conversion_rate
    expression: business.converted
    aggregation: mean
  - name: revenue_per_prediction
    expression: business.revenue
    aggregation: ratio
    denominator: "1"
  - name: fallback_rate
    expression: fallback != null
    aggregation: rate
`;

export interface Harness {
  readonly ns: string;
  readonly topics: TopicNames;
  readonly config: (overrides?: Record<string, string>) => Config;
  readonly kafka: KafkaAdapter;
  readonly codec: EventCodec;
  produce(predictions: readonly PredictionEvent[], labeled: readonly LabeledPrediction[]): Promise<void>;
  /** One event per partition of both topics at time t (watermark heartbeat). */
  heartbeat(t: number, p: (t: number, n: number) => PredictionEvent, l: (t: number, n: number) => LabeledPrediction): Promise<void>;
  close(): Promise<void>;
}

export const TIMING = {
  WINDOW_SIZE_MS: '10000',
  WINDOW_ALLOWED_LATENESS_MS: '1000',
  JOIN_MAX_LABEL_DELAY_MS: '20000',
  JOIN_WATERMARK_DELAY_MS: '1000',
  WINDOW_EVAL_INTERVAL_MS: '250',
};

export async function harness(prefix: string, extra: Record<string, string> = {}, yaml = MONITORING_YAML): Promise<Harness> {
  const ns = uniqueName(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'dw-wm-cfg-'));
  const file = join(dir, 'driftwatch.yaml');
  writeFileSync(file, yaml);
  const base = { DW_TOPIC_NAMESPACE: ns, DW_CONFIG_FILE: file, KAFKA_TOPIC_PARTITIONS: '4', ...TIMING, ...extra };
  const config = (overrides: Record<string, string> = {}) => testConfig({ ...base, ...overrides });
  const s = config().settings;
  const topics = topicNames(ns);
  const kafka = createKafkaAdapter(s, testLogger, `${prefix}-test`);
  await kafka.ensureTopics(topics);
  const codec = createEventCodec(s.SCHEMA_REGISTRY_URL, { maxPayloadBytes: s.MAX_PAYLOAD_BYTES, maxFutureSkewMs: s.MAX_FUTURE_SKEW_MS }, topics);
  await codec.registerAll();
  const producer = await kafka.producer();
  async function send(records: OutboundRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 2000) await producer.send(records.slice(i, i + 2000));
  }
  return {
    ns,
    topics,
    config,
    kafka,
    codec,
    async produce(predictions, labeled) {
      const pr: OutboundRecord[] = [];
      for (const p of predictions) pr.push({ topic: topics.predictions, key: p.prediction_id, value: await codec.encode(topics.predictions, p) });
      await send(pr);
      const lr: OutboundRecord[] = [];
      for (const l of labeled) lr.push({ topic: topics.labeledPredictions, key: l.prediction_id, value: await codec.encode(topics.labeledPredictions, l) });
      await send(lr);
    },
    async heartbeat(t, p, l) {
      const records: OutboundRecord[] = [];
      for (let part = 0; part < 4; part++) {
        records.push({ topic: topics.predictions, key: null, partition: part, value: await codec.encode(topics.predictions, p(t, part)) });
        records.push({ topic: topics.labeledPredictions, key: null, partition: part, value: await codec.encode(topics.labeledPredictions, l(t, part)) });
      }
      await send(records);
    },
    async close() {
      await producer.disconnect();
      await kafka.disconnect();
    },
  };
}
