/**
 * Needs the real ClickHouse engine (embedded chdb, and served over HTTP by chdb-http).
 * `ClickHouse.insertEncoded` takes rows the caller encoded as bytes: on the embedded engine through
 * chdb's Buffer insert, on a server through `exec` with the bytes as the body. Both must store the
 * same values, and both must fail a bad row the way `client.insert` does, so that ingest still tells
 * a statement error (not retried as an outage) from an outage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCompactRows, classifyInsertError } from '../../../stream-processors/ingest/sink.js';
import { embeddedClickHouse, queryRows, servedClickHouse, type TestClickHouse } from '../../support/stack.js';

const COLUMNS = ['id', 'name', 'score', 'features', 'tags', 'at'] as const;
const DDL = `CREATE TABLE IF NOT EXISTS encoded_insert_probe (
  id UInt32, name String, score Nullable(Float64), features Map(String, Float64), tags Array(String), at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY id`;

const rows = [
  { id: 1, name: 'quote " and \\ backslash', score: 0.25, features: { income: 1500.5, age: 41 }, tags: ['a', 'b'], at: '2026-12-06 10:00:00.125' },
  { id: 2, name: 'ünïcode ✓\nnewline', score: null, features: {}, tags: [], at: '2026-12-06 10:00:01.000' },
];

for (const mode of ['embedded', 'served'] as const) {
  // libchdb binds one data directory per process, so each describe opens and closes its own engine.
  describe(`ClickHouse.insertEncoded, ${mode} engine`, () => {
    let t: TestClickHouse;
    beforeAll(async () => {
      t = mode === 'embedded' ? await embeddedClickHouse() : await servedClickHouse();
      await t.ch.client.command({ query: DDL });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('stores every value of the encoded rows, maps, arrays, nulls and escapes included', async () => {
      await t.ch.insertEncoded({
        table: 'encoded_insert_probe',
        columns: COLUMNS,
        format: 'JSONCompactEachRow',
        body: encodeCompactRows(rows, COLUMNS),
        settings: { max_partitions_per_insert_block: '0' },
      });
      const back = await queryRows<Record<string, unknown>>(t.ch, 'SELECT * FROM encoded_insert_probe ORDER BY id');
      expect(back).toEqual([
        { ...rows[0], at: '2026-12-06T10:00:00.125Z' },
        { ...rows[1], at: '2026-12-06T10:00:01.000Z' },
      ]);
    });

    it('fails a row the engine cannot parse as a statement error, not as an outage', async () => {
      const bad = Buffer.from('[3,"x",0.1,"not a map",[],"2026-12-06 10:00:00"]\n');
      const err = await t.ch.insertEncoded({ table: 'encoded_insert_probe', columns: COLUMNS, format: 'JSONCompactEachRow', body: bad }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeDefined();
      expect(classifyInsertError(err)).toMatchObject({ code: 'DW_CLICKHOUSE_QUERY_FAILED', retriable: false });
      const [count] = await queryRows<{ c: number }>(t.ch, 'SELECT count() AS c FROM encoded_insert_probe WHERE id = 3');
      expect(Number(count!.c)).toBe(0);
    });

    it('fails an insert into a missing table as a statement error', async () => {
      const err = await t.ch.insertEncoded({ table: 'no_such_table', columns: ['id'], format: 'JSONCompactEachRow', body: Buffer.from('[1]\n') }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(classifyInsertError(err)).toMatchObject({ code: 'DW_CLICKHOUSE_QUERY_FAILED', retriable: false });
    });
  });
}
