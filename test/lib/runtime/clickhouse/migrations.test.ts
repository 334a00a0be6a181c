import { describe, expect, it } from 'vitest';
import { fillPlaceholders, readMigrations, splitStatements } from '../../../../lib/runtime/clickhouse/migrations.js';
import { MigrationFailedError } from '../../../../lib/runtime/errors.js';

describe('migrations (pure parts)', () => {
  it('reads versioned files in order with checksums', () => {
    const ms = readMigrations();
    expect(ms.length).toBeGreaterThan(0);
    const versions = ms.map((m) => m.version);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    for (const m of ms) expect(m.checksum).toMatch(/^[0-9a-f]{16}$/);
  });

  it('splits statements on a trailing semicolon and drops comment lines', () => {
    expect(splitStatements("-- c\nCREATE TABLE a (x String DEFAULT ';');\n\nSELECT 1;\nSELECT 2")).toEqual([
      "CREATE TABLE a (x String DEFAULT ';')",
      'SELECT 1',
      'SELECT 2',
    ]);
  });

  it('fills TTL placeholders from settings and rejects unknown ones', () => {
    expect(fillPlaceholders('TTL t + INTERVAL {{RAW_EVENTS_TTL_DAYS}} DAY', { RAW_EVENTS_TTL_DAYS: 7, METRICS_TTL_DAYS: 9 })).toBe('TTL t + INTERVAL 7 DAY');
    expect(() => fillPlaceholders('{{NOPE}}', { RAW_EVENTS_TTL_DAYS: 7, METRICS_TTL_DAYS: 9 })).toThrow(MigrationFailedError);
  });

  it('every migration statement uses UTC DateTime64 and IF NOT EXISTS, so reruns are idempotent', () => {
    for (const m of readMigrations()) {
      for (const stmt of splitStatements(m.sql)) {
        if (/^CREATE/i.test(stmt)) expect(stmt, `${m.name}: ${stmt.slice(0, 60)}`).toMatch(/IF NOT EXISTS/i);
        // Column types only (`DateTime64(3, 'UTC')`), not conversion calls such as toDateTime64(x, 3).
        for (const dt of stmt.match(/(?<![A-Za-z_])DateTime64\(\d[^)]*\)/g) ?? []) expect(dt, m.name).toMatch(/'UTC'/);
      }
    }
  });
});
