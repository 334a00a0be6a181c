/**
 * Needs the real ClickHouse engine (embedded chdb), in-process and served over HTTP (chdb-http).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../../lib/runtime/clickhouse/migrations.js';
import { toClickHouseTime } from '../../../lib/runtime/clickhouse/client.js';
import { embeddedClickHouse, servedClickHouse, queryRows, testConfig, type TestClickHouse } from '../../support/stack.js';

// libchdb binds one data directory per process, so each describe opens and closes its own engine.
describe('ClickHouse, embedded in-process (real engine)', () => {
  let t: TestClickHouse;
  beforeAll(async () => {
    t = await embeddedClickHouse();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs migrations once, records them, and a second run applies nothing', async () => {
    const applied = await queryRows<{ version: number }>(t.ch, 'SELECT version FROM schema_migrations FINAL ORDER BY version');
    expect(applied.map((r) => Number(r.version))).toEqual(readMigrations().map((m) => m.version));
    const again = await migrate(t.ch, testConfig().settings);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBe(readMigrations().length);
  });

  it('round-trips rows with UTC times, parameterised filters and ReplacingMergeTree dedup', async () => {
    const start = Date.UTC(2026, 0, 1, 12, 0, 0);
    const row = {
      window_start: toClickHouseTime(start),
      window_end: toClickHouseTime(start + 300_000),
      model_name: 'credit-risk',
      model_version: '1',
      segment: '',
      kpi: 'conversion_rate',
      value: 0.125,
      baseline: 0.1,
      n: 800,
      is_final: 1,
      computed_at: toClickHouseTime(start + 400_000),
    };
    await t.ch.client.insert({
      table: 'kpi_metrics',
      values: [row, { ...row, value: 0.126, computed_at: toClickHouseTime(start + 500_000) }],
      format: 'JSONEachRow',
    });
    const rows = await queryRows<{ value: number; window_start: string }>(
      t.ch,
      'SELECT value, window_start FROM kpi_metrics FINAL WHERE model_name = {m:String} AND window_start >= {from:DateTime64(3)}',
      { m: 'credit-risk', from: toClickHouseTime(start) },
    );
    expect(rows).toEqual([{ value: 0.126, window_start: '2026-01-01T12:00:00.000Z' }]);
    const injected = await queryRows(t.ch, 'SELECT count() AS c FROM kpi_metrics WHERE model_name = {m:String}', { m: "x' OR 1=1 --" });
    expect(injected).toEqual([{ c: 0 }]);
  });
});

describe('ClickHouse served over HTTP by chdb-http (real engine)', () => {
  let s: Awaited<ReturnType<typeof servedClickHouse>>;
  beforeAll(async () => {
    s = await servedClickHouse();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('serves the same engine over the ClickHouse HTTP protocol and reports an injected outage as an error', async () => {
    expect(s.ch.mode).toBe('server');
    const rows = await queryRows<{ n: number }>(s.ch, "SELECT count() AS n FROM system.tables WHERE database = 'driftwatch' AND name = {t:String}", {
      t: 'drift_metrics',
    });
    expect(rows).toEqual([{ n: 1 }]);
    // Parameters travel in the URL: a long IN-list must pass, as ClickHouse's 1 MiB URI limit allows.
    const ids = Array.from({ length: 20_000 }, (_, i) => `id-${i}`);
    expect(await queryRows(s.ch, 'SELECT length({ids:Array(String)}) AS n', { ids })).toEqual([{ n: 20_000 }]);
    s.server.setUnavailable(true);
    await expect(queryRows(s.ch, 'SELECT 1')).rejects.toThrow();
    s.server.setUnavailable(false);
    expect(await queryRows(s.ch, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});

describe('ClickHouse error classification', () => {
  it('treats connection failures and 503/NETWORK_ERROR as retriable outages, and bad SQL as a query error', async () => {
    const { toClickHouseError } = await import('../../../lib/runtime/clickhouse/client.js');
    expect(toClickHouseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })).retriable).toBe(true);
    expect(toClickHouseError(Object.assign(new Error('chdb-http: service unavailable (fault injected).'), { code: '210' })).code).toBe(
      'DW_CLICKHOUSE_UNAVAILABLE',
    );
    expect(toClickHouseError(Object.assign(new Error('Syntax error: failed at position 1'), { code: '62' })).code).toBe('DW_CLICKHOUSE_QUERY_FAILED');
  });
});
