/**
 * Process bootstrap shared by every processor and service: config validated once (exit 78 with every
 * problem listed), a logger, ClickHouse opened and migrated, the Kafka adapter, metrics, and a
 * graceful shutdown on SIGTERM/SIGINT that stops consumers before closing sinks (so the last batch
 * is either committed after it is durable, or not at all).
 */
import { hostname } from 'node:os';
import { type Config } from './config.js';
import { configFromEnv } from './env.js';
import { ConfigInvalidError, isDriftwatchError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { openClickHouse, type ClickHouse } from './clickhouse/client.js';
import { migrate } from './clickhouse/migrations.js';
import { createKafkaAdapter, type KafkaAdapter } from './kafka.js';
import { createMetrics, serveMetrics, type Metrics } from './metrics.js';
import { sampleRegistry } from '../grafana/ops-metrics.js';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly instanceId: string;
  readonly metrics: Metrics;
  clickhouse(): Promise<ClickHouse>;
  kafka(): KafkaAdapter;
  /** Registers a cleanup, run in reverse order on shutdown. */
  onShutdown(fn: () => Promise<void> | void): void;
  shutdown(code?: number): Promise<void>;
}

/** Exit code for configuration errors (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Retries a startup step while it fails with a retriable error (Kafka, the registry or ClickHouse
 * is down, a DriftwatchError with retriable set), with exponential backoff from RETRY_INITIAL_MS to RETRY_MAX_MS: a component started
 * before its dependencies waits for them instead of exiting (no crash loop under a supervisor, and
 * none at all without one). A non-retriable error (bad config, a contract problem) is thrown.
 */
export async function untilAvailable<T>(rt: Pick<Runtime, 'config' | 'logger' | 'metrics'>, what: string, fn: () => Promise<T>): Promise<T> {
  const s = rt.config.settings;
  let delay = s.RETRY_INITIAL_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      // Only a typed, retriable error is an outage; anything else at startup is a bug and must crash.
      if (!isDriftwatchError(err) || !err.retriable) throw err;
      rt.logger.warn({ what, attempt, retryInMs: delay, err: err.toJSON() }, `${what} unavailable at startup; retrying`);
      rt.metrics.retries.inc({ code: err.code });
      await sleep(delay);
      delay = Math.min(delay * 2, s.RETRY_MAX_MS);
    }
  }
}

export function createRuntime(component: string, overrides: Record<string, string | undefined> = {}): Runtime {
  let config: Config;
  try {
    config = configFromEnv(overrides);
  } catch (err) {
    if (err instanceof ConfigInvalidError) {
      process.stderr.write(`${component}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  const s = config.settings;
  const instanceId = s.DW_INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const logger = createLogger(component, s.LOG_LEVEL, instanceId);
  const metrics = createMetrics(component);
  const cleanups: Array<() => Promise<void> | void> = [];
  let ch: Promise<ClickHouse> | undefined;
  let kafka: KafkaAdapter | undefined;
  let shuttingDown = false;
  let beforeShutdown: () => Promise<void> = async () => undefined;

  const runtime: Runtime = {
    config,
    logger,
    instanceId,
    metrics,
    clickhouse() {
      if (!ch) {
        const attempt = (async () => {
          const c = await openClickHouse(s);
          const report = await migrate(c, s);
          logger.info({ mode: c.mode, database: c.database, applied: report.applied }, 'clickhouse ready');
          return c;
        })();
        // A failed open must not be cached: the next call (after ClickHouse is back) tries again.
        attempt.catch(() => {
          if (ch === attempt) ch = undefined;
        });
        ch = attempt;
        cleanups.push(async () => {
          const c = await attempt.catch(() => undefined);
          await c?.close();
        });
      }
      return ch;
    },
    kafka() {
      if (!kafka) {
        kafka = createKafkaAdapter(s, logger.child({ lib: 'kafka' }), `${component}-${instanceId}`);
        cleanups.push(() => kafka!.disconnect());
      }
      return kafka;
    },
    onShutdown(fn) {
      cleanups.push(fn);
    },
    async shutdown(code = 0) {
      if (shuttingDown) return;
      shuttingDown = true;
      logger.info({ code }, 'shutting down');
      await beforeShutdown();
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch (err) {
          logger.warn({ err }, 'cleanup failed');
        }
      }
      logger.flush?.();
      process.exit(code);
    },
  };
  // ops_metrics sampler: Grafana's ClickHouse datasource cannot scrape Prometheus, so every process
  // that uses ClickHouse also writes its own metrics there (contract: lib/grafana/ops-metrics.ts).
  let opened: ClickHouse | undefined;
  const sampleOnce = async (): Promise<void> => {
    if (!ch) return;
    opened ??= await ch.catch(() => undefined);
    if (!opened) return;
    const rows = await sampleRegistry(metrics.registry, { component, instance: instanceId, atMs: Date.now() });
    if (rows.length > 0) await opened.client.insert({ table: 'ops_metrics', values: rows, format: 'JSONEachRow' });
  };
  if (s.OPS_SAMPLE_INTERVAL_MS > 0) {
    const timer = setInterval(() => {
      sampleOnce().catch((err) => logger.debug({ err: (err as Error).message }, 'ops_metrics sample failed'));
    }, s.OPS_SAMPLE_INTERVAL_MS);
    timer.unref();
    beforeShutdown = async () => {
      clearInterval(timer);
      await sampleOnce().catch(() => undefined);
    };
  }
  process.once('SIGTERM', () => void runtime.shutdown(0));
  process.once('SIGINT', () => void runtime.shutdown(0));
  void serveMetrics(metrics, s.METRICS_PORT, s.METRICS_HOST).then((srv) => {
    if (srv) cleanups.unshift(() => new Promise<void>((r) => srv.close(() => r())));
  });
  return runtime;
}

/** Runs a component's main, logging a fatal error with its code and exiting non-zero. */
export function runMain(component: string, main: () => Promise<void>): void {
  main().catch((err) => {
    const detail = isDriftwatchError(err) ? err.toJSON() : { message: (err as Error)?.message, stack: (err as Error)?.stack };
    process.stderr.write(`${JSON.stringify({ level: 'fatal', component, err: detail })}\n`);
    process.exit(1);
  });
}
