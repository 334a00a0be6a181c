/**
 * One ClickHouse client for every module: `@clickhouse/client`.
 *
 * - CLICKHOUSE_URL set: an HTTP client to that server (a real ClickHouse server, or driftwatch's
 *   `chdb-http` front that shares one embedded engine between processes, see infra/chdb-http.ts).
 * - unset: the embedded ClickHouse engine (npm `chdb`) through `chdb/connection`, on
 *   CLICKHOUSE_DATA_DIR. libchdb binds one data directory per process ("Cannot lock file .../status"
 *   from a second process), so tests give every process its own directory.
 *
 * `chdb/connection` ignores the `database` parameter (chdb 3.4.0 dist/connection/chdb-connection.js
 * only forwards SQL and settings), but a chdb Session keeps `USE` state, so the embedded path creates
 * the database and selects it once.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { ClickHouseQueryError, ClickHouseUnavailableError } from '../errors.js';

export type { ClickHouseClient };

/**
 * Output settings pinned for both modes so callers see the same JSON: a ClickHouse server quotes
 * 64-bit integers in JSON formats by default, the embedded engine does not; counts in driftwatch are
 * far below 2^53, so numbers are safe. ISO times end in Z (UTC), whatever the server's zone.
 */
const OUTPUT_SETTINGS = { date_time_output_format: 'iso', output_format_json_quote_64bit_integers: 0 } as const;

export interface ClickHouseSettings {
  readonly CLICKHOUSE_URL?: string | undefined;
  readonly CLICKHOUSE_USER: string;
  readonly CLICKHOUSE_PASSWORD: string;
  readonly CLICKHOUSE_DATABASE: string;
  readonly CLICKHOUSE_DATA_DIR: string;
}

export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly mode: 'server' | 'embedded';
  close(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function openClickHouse(settings: ClickHouseSettings): Promise<ClickHouse> {
  const database = settings.CLICKHOUSE_DATABASE;
  if (!IDENTIFIER.test(database)) throw new ClickHouseQueryError(`invalid database name ${JSON.stringify(database)}`);
  if (settings.CLICKHOUSE_URL) {
    const common = {
      url: settings.CLICKHOUSE_URL,
      username: settings.CLICKHOUSE_USER,
      password: settings.CLICKHOUSE_PASSWORD,
      compression: { request: false, response: false },
      request_timeout: 120_000,
      // driftwatch classifies and logs client errors itself (toClickHouseError + pino); the client's
      // own console logger would print every retried failure during an outage.
      log: { level: ClickHouseLogLevel.OFF },
    };
    // The database must exist before a client may name it in every request.
    const bootstrap = createClient({ ...common, database: 'default' });
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    } catch (err) {
      throw toClickHouseError(err);
    } finally {
      await bootstrap.close();
    }
    const client = createClient({ ...common, database, clickhouse_settings: OUTPUT_SETTINGS });
    return { client, database, mode: 'server', close: () => client.close() };
  }
  const dir = resolve(settings.CLICKHOUSE_DATA_DIR);
  mkdirSync(dir, { recursive: true });
  let connection;
  try {
    connection = createChdbConnection({ path: dir });
  } catch (err) {
    throw new ClickHouseUnavailableError(`cannot open embedded ClickHouse on ${dir}: ${(err as Error).message}`, { dir }, { cause: err });
  }
  const client = createClient({ connection, clickhouse_settings: OUTPUT_SETTINGS, log: { level: ClickHouseLogLevel.OFF } } as Parameters<
    typeof createClient
  >[0]);
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({ query: `USE ${database}` });
  return { client, database, mode: 'embedded', close: () => client.close() };
}

/**
 * Classifies a client failure: connection-level problems are retriable (ClickHouse is down or
 * restarting); an exception the engine raised about the statement is not.
 */
export function toClickHouseError(err: unknown): ClickHouseUnavailableError | ClickHouseQueryError {
  const e = err as { code?: string; message?: string; type?: string };
  const msg = e?.message ?? String(err);
  const networkCodes = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'UND_ERR_SOCKET'];
  // NETWORK_ERROR (210) and an HTTP 503 body (a server shedding load, or chdb-http's injected
  // outage) are outages too: the statement itself was never judged.
  if (
    (e?.code && (networkCodes.includes(e.code) || e.code === '210')) ||
    /ECONNREFUSED|socket hang up|Timeout error|ECONNRESET|EPIPE|unavailable|Service Unavailable/i.test(msg)
  ) {
    return new ClickHouseUnavailableError(msg, { cause: e?.code }, { cause: err });
  }
  return new ClickHouseQueryError(msg, { type: e?.type }, { cause: err });
}

/** ClickHouse DateTime64(3,'UTC') text for a unix-ms instant, as JSONEachRow inputs accept. */
export function toClickHouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
