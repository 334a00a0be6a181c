/**
 * Versioned, idempotent schema migrations.
 *
 * Files `migrations/NNN_name.sql` are applied in version order at startup; each applied version is
 * recorded in `schema_migrations` with a checksum. A recorded migration whose file changed is an
 * error (edit by adding a new migration, never by rewriting an applied one). Statements are written
 * with IF NOT EXISTS so that two processes racing at startup both succeed.
 *
 * Placeholders `{{KEY}}` are filled from settings (TTL days), so retention is configuration.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationFailedError } from '../errors.js';
import type { ClickHouse } from './client.js';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationValues {
  readonly RAW_EVENTS_TTL_DAYS: number;
  readonly METRICS_TTL_DAYS: number;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const seen = new Set<number>();
  return files.map((file) => {
    const version = Number(file.slice(0, 3));
    if (seen.has(version)) throw new MigrationFailedError(`duplicate migration version ${version} (${file})`);
    seen.add(version);
    const sql = readFileSync(join(dir, file), 'utf8');
    return { version, name: file.replace(/\.sql$/, ''), sql, checksum: createHash('sha256').update(sql).digest('hex').slice(0, 16) };
  });
}

/** Splits a migration file into statements: `;` at the end of a line ends one; `--` lines are comments. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const line of sql.split('\n')) {
    if (/^\s*--/.test(line)) continue;
    current.push(line);
    if (/;\s*$/.test(line)) {
      const stmt = current.join('\n').trim().replace(/;\s*$/, '');
      if (stmt) out.push(stmt);
      current = [];
    }
  }
  const tail = current.join('\n').trim();
  if (tail) out.push(tail);
  return out;
}

export function fillPlaceholders(sql: string, values: MigrationValues): string {
  return sql.replace(/\{\{([A-Z_]+)\}\}/g, (_m, key: string) => {
    const v = (values as unknown as Record<string, unknown>)[key];
    if (v === undefined) throw new MigrationFailedError(`unknown migration placeholder {{${key}}}`);
    return String(v);
  });
}

export interface MigrationReport {
  readonly applied: number[];
  readonly alreadyApplied: number[];
}

export async function migrate(ch: ClickHouse, values: MigrationValues, dir = MIGRATIONS_DIR): Promise<MigrationReport> {
  const { client } = ch;
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (
      version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
  });
  const rs = await client.query({ query: 'SELECT version, checksum FROM schema_migrations FINAL', format: 'JSONEachRow' });
  const recorded = new Map((await rs.json<{ version: number; checksum: string }>()).map((r) => [Number(r.version), r.checksum]));
  const applied: number[] = [];
  const alreadyApplied: number[] = [];
  for (const m of readMigrations(dir)) {
    const known = recorded.get(m.version);
    if (known !== undefined) {
      if (known !== m.checksum) {
        throw new MigrationFailedError(`migration ${m.name} changed after it was applied (checksum ${known} -> ${m.checksum}); add a new migration instead`);
      }
      alreadyApplied.push(m.version);
      continue;
    }
    for (const stmt of splitStatements(fillPlaceholders(m.sql, values))) {
      try {
        await client.command({ query: stmt });
      } catch (err) {
        throw new MigrationFailedError(`migration ${m.name} failed: ${(err as Error).message}`, { statement: stmt.slice(0, 200) }, { cause: err });
      }
    }
    await client.insert({ table: 'schema_migrations', values: [{ version: m.version, name: m.name, checksum: m.checksum }], format: 'JSONEachRow' });
    applied.push(m.version);
  }
  return { applied, alreadyApplied };
}
