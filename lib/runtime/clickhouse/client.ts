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
import { Readable } from 'node:stream';
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

/** A text insert format whose rows the caller has already encoded, one per line. */
export type EncodedInsertFormat = 'JSONCompactEachRow' | 'JSONEachRow';

export interface EncodedInsert {
  readonly table: string;
  readonly columns: readonly string[];
  readonly format: EncodedInsertFormat;
  /** The rows in `format`, newline-terminated. Not to be mutated until the promise settles. */
  readonly body: Buffer;
  readonly settings?: Readonly<Record<string, string | number>>;
}

export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly mode: 'server' | 'embedded';
  /**
   * Inserts rows the caller encoded itself, as bytes. `client.insert` re-encodes an array row by
   * row and, on the embedded engine, `chdb/connection` turns the body into one SQL string that the
   * engine parses again (chdb 3.4.0 dist/connection/chdb-connection.js `insert`); the bytes path
   * skips both (bench/ingest.bench.ts stage figures, docs/benchmarks.md "Ingest"). Failures are
   * thrown the way `client.insert` throws them (an error with the engine's `type`, or a network
   * error), for the caller to classify with `toClickHouseError`.
   */
  insertEncoded(insert: EncodedInsert): Promise<void>;
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
    return { client, database, mode: 'server', insertEncoded: (insert) => insertEncodedOverHttp(client, insert), close: () => client.close() };
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
  const chdb = (connection as unknown as { chdb: ChdbExtension }).chdb;
  return {
    client,
    database,
    mode: 'embedded',
    async insertEncoded({ table, columns, format, body, settings }) {
      try {
        // Session.insert hands the Buffer to the engine without copying it into a JS string.
        await chdb.rawInsert({ table: `${database}.${table}`, values: body, format, columns, ...(settings ? { settings: { ...settings } } : {}) });
      } catch (err) {
        throw fromChdbInsertError(err);
      }
    },
    close: () => client.close(),
  };
}

/** The part of chdb/connection's `.chdb` extension used here (chdb 3.4.0 dist/connection/extension.js). */
interface ChdbExtension {
  rawInsert(params: {
    table: string;
    values: Buffer;
    format: EncodedInsertFormat;
    columns: readonly string[];
    settings?: Record<string, string | number>;
  }): Promise<unknown>;
}

/**
 * chdb's ChdbInsertError carries the engine's `Code: N. DB::Exception: ... (TYPE)` text but no
 * `type` field; clickhouse-js errors have one, and `toClickHouseError` callers (ingest's
 * classifyInsertError) read it to tell an engine exception from an outage.
 */
function fromChdbInsertError(err: unknown): unknown {
  const e = err as { message?: string; clickhouseCode?: number };
  if (typeof e?.message !== 'string') return err;
  const type = /\(([A-Z_]+)\)\s*$/m.exec(e.message)?.[1] ?? (e.clickhouseCode !== undefined ? `CODE_${e.clickhouseCode}` : undefined);
  return Object.assign(new Error(e.message, { cause: err }), { type });
}

/** `exec` with values sends the statement as the `query` parameter and the bytes as the body. */
async function insertEncodedOverHttp(client: ClickHouseClient, { table, columns, format, body, settings }: EncodedInsert): Promise<void> {
  if (!IDENTIFIER.test(table) || !columns.every((c) => IDENTIFIER.test(c))) {
    // Shaped like an engine exception, so that callers classify it as a statement error, not an outage.
    throw Object.assign(new Error(`invalid insert target ${table}(${columns.join(',')})`), { type: 'BAD_ARGUMENTS' });
  }
  const result = await client.exec({
    query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT ${format}`,
    values: Readable.from([body], { objectMode: false }),
    ...(settings ? { clickhouse_settings: { ...settings } } : {}),
  });
  // The summary body must be read, or the keep-alive socket is not returned to the pool.
  for await (const _ of result.stream) void _;
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
