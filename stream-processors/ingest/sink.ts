/**
 * The ClickHouse side of ingest: batch inserts of the rows the core produced.
 *
 * Rows travel as JSONCompactEachRow arrays in the column order of TABLE_COLUMNS, named in the INSERT.
 * The sink encodes them itself, one `JSON.stringify` per row into one Buffer, and hands the bytes to
 * `ClickHouse.insertEncoded`: measured on the embedded engine, `client.insert` with the same rows
 * cost about 19 CPU µs per prediction row against 13 for the bytes path (docs/benchmarks.md, Ingest).
 *
 * An insert that returned is durable for the purpose of the offset commit: the rows are in a part on
 * the server's disk (MergeTree writes a part per insert block before answering). Tables are written
 * in parallel, each in chunks of at most `maxRows`; a failure of any of them fails the whole call, and
 * the batch is retried. Rows a failed call did manage to write are written again on retry, which the
 * ReplacingMergeTree tables absorb (migration 010).
 */
import { toClickHouseError, type ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { ClickHouseQueryError, ClickHouseUnavailableError, type DriftwatchError } from '../../lib/runtime/errors.js';
import { TABLE_COLUMNS, type IngestRows } from './core.js';

/**
 * Insert settings. A batch replayed from far back can span many months; ClickHouse refuses an insert
 * block touching more than 100 partitions by default (max_partitions_per_insert_block), which would
 * stall the partition forever on a non-retriable error, so the limit is lifted for these inserts.
 */
const INSERT_SETTINGS = { max_partitions_per_insert_block: '0' };

/**
 * Classifies an insert failure. `toClickHouseError` (lib/runtime/clickhouse/client.ts) treats any
 * failure without a network error code as a statement error; but an HTTP failure that is not an
 * engine exception (a 502/503 from a proxy, chdb-http's injected outage) carries no ClickHouse error
 * `type`: the engine never saw the statement, so it is an outage.
 */
export function classifyInsertError(err: unknown): DriftwatchError {
  const classified = toClickHouseError(err);
  const type = (err as { type?: unknown })?.type;
  if (classified instanceof ClickHouseQueryError && (typeof type !== 'string' || type === '')) {
    return new ClickHouseUnavailableError(`ClickHouse did not accept the insert: ${classified.message}`, {}, { cause: err });
  }
  return classified;
}

/** JSONCompactEachRow: one JSON array per row, values in `columns` order, each line ending in \n. */
export function encodeCompactRows(rows: readonly Record<string, unknown>[], columns: readonly string[]): Buffer {
  const lines = new Array<string>(rows.length);
  const values = new Array<unknown>(columns.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let c = 0; c < columns.length; c++) values[c] = row[columns[c]!];
    lines[r] = JSON.stringify(values);
  }
  lines.push('');
  return Buffer.from(lines.join('\n'));
}

export async function insertRows(ch: ClickHouse, rows: IngestRows, maxRows: number): Promise<number> {
  const tables = (Object.keys(rows) as (keyof IngestRows)[]).filter((t) => rows[t].length > 0);
  let inserted = 0;
  await Promise.all(
    tables.map(async (table) => {
      const columns = TABLE_COLUMNS[table];
      const all = rows[table] as unknown as readonly Record<string, unknown>[];
      for (let i = 0; i < all.length; i += maxRows) {
        const chunk = all.slice(i, i + maxRows);
        const body = encodeCompactRows(chunk, columns);
        try {
          await ch.insertEncoded({ table, columns, format: 'JSONCompactEachRow', body, settings: INSERT_SETTINGS });
        } catch (err) {
          throw classifyInsertError(err);
        }
        inserted += chunk.length;
      }
    }),
  );
  return inserted;
}
