/**
 * Helpers for tests that need the real stack (test/integration/**): where Kafka and the registry
 * are, a private ClickHouse per test file, unique topic/group names, and waiting helpers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../../lib/runtime/config.js';
import { openClickHouse, type ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../lib/runtime/clickhouse/migrations.js';
import { startChdbHttp, type ChdbHttpServer } from '../../lib/runtime/clickhouse/chdb-http-server.js';
import { createLogger } from '../../lib/runtime/logger.js';
import type { KafkaAdapter } from '../../lib/runtime/kafka.js';

export function stackEnv(): { KAFKA_BROKERS: string; SCHEMA_REGISTRY_URL: string } {
  const kafkaPort = process.env.DW_KAFKA_PORT ?? '19092';
  const registryPort = process.env.DW_REGISTRY_PORT ?? '18081';
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? `127.0.0.1:${kafkaPort}`,
    SCHEMA_REGISTRY_URL: process.env.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${registryPort}/apis/ccompat/v7`,
  };
}

export const testLogger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A config for tests: the real stack, a private data dir, overrides on top. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...stackEnv(), LOG_LEVEL: 'silent', ...overrides });
}

export interface TestClickHouse {
  readonly ch: ClickHouse;
  readonly dir: string;
  /** Set when served over HTTP for child processes (chdb-http). */
  readonly server?: ChdbHttpServer;
  readonly url?: string;
  close(): Promise<void>;
}

/** Embedded ClickHouse on a fresh temp directory, migrated. */
export async function embeddedClickHouse(): Promise<TestClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-ch-'));
  const cfg = testConfig({ CLICKHOUSE_DATA_DIR: dir });
  const ch = await openClickHouse(cfg.settings);
  await migrate(ch, cfg.settings);
  return {
    ch,
    dir,
    async close() {
      await ch.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The real engine served over the ClickHouse HTTP protocol (chdb-http) from this test process, so
 * child processes under test (which may be SIGKILLed) share it through CLICKHOUSE_URL.
 */
export async function servedClickHouse(): Promise<TestClickHouse & { url: string; server: ChdbHttpServer }> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-chs-'));
  const server = await startChdbHttp({ dataDir: dir, host: '127.0.0.1', port: 0, database: 'driftwatch' });
  const cfg = testConfig({ CLICKHOUSE_URL: server.url });
  const ch = await openClickHouse(cfg.settings);
  await migrate(ch, cfg.settings);
  return {
    ch,
    dir,
    server,
    url: server.url,
    async close() {
      await ch.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * True once `groupId` has committed to the end of every partition of `topics`. Processors commit only
 * after their results are durable (ClickHouse rows, output records), so this is the moment every
 * output of the input so far can be read. A group that has committed nothing reports the whole topic
 * as lag; an empty answer is not "caught up".
 */
export async function committedToEnd(kafka: Pick<KafkaAdapter, 'consumerLag'>, groupId: string, topics: readonly string[]): Promise<boolean> {
  const lag = await kafka.consumerLag(groupId, topics);
  return lag.length > 0 && lag.every((l) => l.lag === 0);
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function queryRows<T = Record<string, unknown>>(ch: ClickHouse, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await ch.client.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}
