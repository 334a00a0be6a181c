/**
 * The API's only way into ClickHouse: parameterised statements (`{name:Type}` placeholders with
 * `query_params`), so no request value is ever spliced into SQL text. Errors are classified by the
 * runtime (`toClickHouseError`): unreachable -> DW_CLICKHOUSE_UNAVAILABLE (503), a rejected statement
 * -> DW_CLICKHOUSE_QUERY_FAILED (500, details hidden by the error handler).
 */
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { toClickHouseError } from '../../../lib/runtime/clickhouse/client.js';

/**
 * Read settings for every API query: 64-bit integers as JSON numbers (counts stay far below 2^53),
 * NaN/Inf as null (output_format_json_quote_denormals=0 is the default, kept explicit), and a bound on
 * execution time so one expensive request cannot hold the engine.
 */
const READ_SETTINGS = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_denormals: 0,
  max_execution_time: 30,
} as const;

export async function selectRows<T>(ch: ClickHouse, query: string, params: Record<string, unknown>): Promise<T[]> {
  try {
    const rs = await ch.client.query({ query, query_params: params, format: 'JSONEachRow', clickhouse_settings: READ_SETTINGS });
    return await rs.json<T>();
  } catch (err) {
    throw toClickHouseError(err);
  }
}

export async function insertRows(ch: ClickHouse, table: string, values: readonly Record<string, unknown>[]): Promise<void> {
  try {
    await ch.client.insert({ table, values: [...values], format: 'JSONEachRow' });
  } catch (err) {
    throw toClickHouseError(err);
  }
}
