/**
 * Builds the real API app for route tests: real ClickHouse (embedded chdb, migrated), the real
 * readiness probes, a fresh metrics registry, and a logger that can capture its output.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createKafkaAdapter, type KafkaAdapter } from '../../../../lib/runtime/kafka.js';
import { createMetrics, type Metrics } from '../../../../lib/runtime/metrics.js';
import type { ClickHouse } from '../../../../lib/runtime/clickhouse/client.js';
import type { Logger } from '../../../../lib/runtime/logger.js';
import { topicNames } from '../../../../lib/contracts/topics.js';
import { testConfig, testLogger } from '../../../support/stack.js';
import { buildServer } from '../../../../services/api/server.js';
import { clickhouseCheck, kafkaCheck, registryCheck } from '../../../../services/api/lib/readiness.js';
import { createReferenceService } from '../../../../services/api/lib/references.js';
import type { ApiDeps } from '../../../../services/api/options.js';
import { validatePolicy } from '../../../../stream-processors/retrain-trigger/policy.js';

export const WRITE_TOKEN = 'write-token-0123456789abcdef';
export const READ_TOKEN = 'read-token-fedcba9876543210';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  readonly kafka: KafkaAdapter;
  readonly deps: ApiDeps;
  readonly logs: string[];
  close(): Promise<void>;
}

/** A pino logger at trace level whose lines are kept in memory (to check what reaches the logs). */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

export async function buildTestApp(ch: ClickHouse, overrides: Record<string, string> = {}, extra: Partial<ApiDeps> = {}): Promise<TestApp> {
  const settings = testConfig({
    API_WRITE_TOKENS: WRITE_TOKEN,
    MODEL_DIR: `${process.env.TMPDIR ?? '/tmp'}/dw-api-models-${process.pid}`,
    ...overrides,
  }).settings;
  const metrics = createMetrics('api');
  const kafka = createKafkaAdapter(settings, testLogger, `api-test-${process.pid}`);
  const deps: ApiDeps = {
    settings,
    metrics,
    clickhouse: ch,
    readiness: {
      kafka: kafkaCheck(kafka, topicNames(settings.DW_TOPIC_NAMESPACE).predictions),
      registry: registryCheck(settings.SCHEMA_REGISTRY_URL),
      clickhouse: clickhouseCheck(ch),
    },
    references: createReferenceService(ch, { maxRows: settings.API_REFERENCE_MAX_ROWS }),
    validatePolicy,
    ...extra,
  };
  const { logger, lines } = captureLogger();
  const app = await buildServer(deps, logger);
  return {
    app,
    metrics,
    kafka,
    deps,
    logs: lines,
    async close() {
      await app.close();
      await kafka.disconnect();
    },
  };
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });
