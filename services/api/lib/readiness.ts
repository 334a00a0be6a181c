/**
 * Readiness probes for the API's dependencies, and the runner that applies a deadline to each.
 *
 * - kafka: the driftwatch input topic's end offsets (a metadata + ListOffsets round trip through the
 *   adapter's admin client; admin clients never auto-create topics in kafkajs, so probing has no side
 *   effect). A missing topic counts as not ready: the pipeline cannot run without it.
 * - registry: `GET <SCHEMA_REGISTRY_URL>/subjects` (Confluent API, served by Apicurio's ccompat layer).
 * - clickhouse: `SELECT 1` through the same client the queries use.
 *
 * Each probe runs under API_READY_TIMEOUT_MS; a probe still running from an earlier request is reused
 * rather than started again, so a hung dependency and a busy prober cannot pile up connections.
 */
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import type { KafkaAdapter } from '../../../lib/runtime/kafka.js';
import type { DependencyName, ReadinessCheck } from '../options.js';

export function kafkaCheck(kafka: Pick<KafkaAdapter, 'endOffsets'>, topic: string): ReadinessCheck {
  return async () => {
    const ends = await kafka.endOffsets(topic);
    if (ends.size === 0) throw new Error(`topic ${topic} has no partitions`);
  };
}

export function registryCheck(registryUrl: string): ReadinessCheck {
  return async (signal) => {
    const res = await fetch(`${registryUrl}/subjects`, { signal, headers: { accept: 'application/json' } });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`registry answered HTTP ${res.status}`);
  };
}

export function clickhouseCheck(ch: ClickHouse): ReadinessCheck {
  return async (signal) => {
    const rs = await ch.client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow', abort_signal: signal });
    const rows = await rs.json<{ ok: number }>();
    if (Number(rows[0]?.ok) !== 1) throw new Error('unexpected answer to SELECT 1');
  };
}

export interface DependencyStatus {
  readonly status: 'up' | 'down';
  readonly latency_ms: number;
  /** Short, non-sensitive failure class: 'timeout' | 'error'. Details go to the log only. */
  readonly reason?: 'timeout' | 'error';
}

export interface ReadinessReport {
  readonly status: 'ready' | 'not_ready';
  readonly dependencies: Record<DependencyName, DependencyStatus>;
}

export type ReadinessLog = (dependency: DependencyName, err: unknown) => void;

export function createReadinessRunner(checks: Readonly<Record<DependencyName, ReadinessCheck>>, timeoutMs: number, onFailure: ReadinessLog) {
  const inFlight = new Map<DependencyName, Promise<DependencyStatus>>();

  function runOne(name: DependencyName): Promise<DependencyStatus> {
    const existing = inFlight.get(name);
    if (existing) return existing;
    const started = Date.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve('timeout');
      }, timeoutMs);
    });
    const run = (async (): Promise<DependencyStatus> => {
      try {
        const outcome = await Promise.race([checks[name](controller.signal).then(() => 'ok' as const), timeout]);
        if (outcome === 'timeout') {
          onFailure(name, new Error(`no answer within ${timeoutMs} ms`));
          return { status: 'down', latency_ms: Date.now() - started, reason: 'timeout' };
        }
        return { status: 'up', latency_ms: Date.now() - started };
      } catch (err) {
        onFailure(name, err);
        return { status: 'down', latency_ms: Date.now() - started, reason: 'error' };
      } finally {
        clearTimeout(timer);
        inFlight.delete(name);
      }
    })();
    inFlight.set(name, run);
    return run;
  }

  return async function check(): Promise<ReadinessReport> {
    const names = Object.keys(checks) as DependencyName[];
    const results = await Promise.all(names.map(runOne));
    const dependencies = Object.fromEntries(names.map((n, i) => [n, results[i]!])) as Record<DependencyName, DependencyStatus>;
    return { status: results.every((r) => r.status === 'up') ? 'ready' : 'not_ready', dependencies };
  };
}
