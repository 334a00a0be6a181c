/**
 * Versioned configuration in ClickHouse table `api_config` (migration 060): monitor settings per model
 * and retrain policies. A write appends version n+1; nothing is updated in place, so every earlier
 * version stays readable (history endpoint) and is the audit trail (who, when).
 *
 * Concurrency: writes to one (kind, name) are serialised inside this process, and the optional
 * expected version (HTTP If-Match) makes a write conditional. Across several API instances ClickHouse
 * offers no compare-and-set, so after inserting, the writer reads back which row holds its version
 * (`write_id`); if another instance's row won, the write reports a conflict instead of claiming
 * success. (A race inside the read-back window can still let the later writer win silently; run one
 * writing API instance if that matters.)
 */
import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { toClickHouseTime } from '../../../lib/runtime/clickhouse/client.js';
import { NotFoundError, VersionConflictError } from '../../../lib/runtime/errors.js';
import { insertRows, selectRows } from './clickhouse.js';
import { decodeCursor, encodeCursor } from '../lib/cursor.js';

export type ConfigKind = 'monitor' | 'retrain_policy';

export interface ConfigRecord {
  readonly name: string;
  readonly version: number;
  readonly updated_at: string;
  readonly actor: string;
  readonly deleted: boolean;
  readonly body: unknown;
}

interface Row {
  name: string;
  version: number;
  updated_at: string;
  actor: string;
  deleted: number;
  write_id: string;
  body: string;
}

function toRecord(r: Row): ConfigRecord {
  return {
    name: r.name,
    version: Number(r.version),
    updated_at: r.updated_at,
    actor: r.actor,
    deleted: Number(r.deleted) === 1,
    body: r.deleted ? null : JSON.parse(r.body),
  };
}

const locks = new Map<string, Promise<unknown>>();
async function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await next;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

export function createConfigStore(ch: ClickHouse, now: () => number = Date.now) {
  async function latest(kind: ConfigKind, name: string): Promise<Row | undefined> {
    const rows = await selectRows<Row>(
      ch,
      `SELECT name, version, updated_at, actor, deleted, write_id, body FROM api_config FINAL
       WHERE kind = {kind:String} AND name = {name:String} ORDER BY version DESC LIMIT 1`,
      { kind, name },
    );
    return rows[0];
  }

  async function write(
    kind: ConfigKind,
    name: string,
    body: unknown,
    actor: string,
    expectedVersion: number | undefined,
    deleted: boolean,
  ): Promise<ConfigRecord> {
    return serialised(`${kind}\u0000${name}`, async () => {
      const current = await latest(kind, name);
      const currentVersion = current ? Number(current.version) : 0;
      if (deleted && (!current || Number(current.deleted) === 1)) throw new NotFoundError(`${kind} ${name} does not exist`);
      if (expectedVersion !== undefined && expectedVersion !== currentVersion) {
        throw new VersionConflictError(`${kind} ${name} is at version ${currentVersion}, not ${expectedVersion}`, { current_version: currentVersion });
      }
      const at = now();
      const row = {
        kind,
        name,
        version: currentVersion + 1,
        updated_at: toClickHouseTime(at),
        actor,
        deleted: deleted ? 1 : 0,
        write_id: randomUUID(),
        body: deleted ? '' : JSON.stringify(body),
      };
      await insertRows(ch, 'api_config', [row]);
      const stored = await selectRows<{ write_id: string }>(
        ch,
        `SELECT write_id FROM api_config FINAL WHERE kind = {kind:String} AND name = {name:String} AND version = {version:UInt32}`,
        { kind, name, version: row.version },
      );
      if (stored[0]?.write_id !== row.write_id)
        throw new VersionConflictError(`${kind} ${name} version ${row.version} was written concurrently by another writer`);
      return toRecord({ ...row, updated_at: new Date(at).toISOString() });
    });
  }

  return {
    async get(kind: ConfigKind, name: string, version?: number): Promise<ConfigRecord> {
      const row =
        version === undefined
          ? await latest(kind, name)
          : (
              await selectRows<Row>(
                ch,
                `SELECT name, version, updated_at, actor, deleted, write_id, body FROM api_config FINAL
                 WHERE kind = {kind:String} AND name = {name:String} AND version = {version:UInt32}`,
                { kind, name, version },
              )
            )[0];
      if (!row || (version === undefined && Number(row.deleted) === 1))
        throw new NotFoundError(`${kind} ${name}${version === undefined ? '' : ` version ${version}`} does not exist`);
      return toRecord(row);
    },

    /** Current (non-deleted) configuration of every name, by name. */
    async list(kind: ConfigKind, limit: number, cursor?: string): Promise<{ items: ConfigRecord[]; next_cursor: string | null }> {
      const params: Record<string, unknown> = { kind, limit: limit + 1 };
      let after = '';
      if (cursor !== undefined) {
        params.after = decodeCursor(`config-${kind}`, cursor, ['string']).key[0];
        after = 'AND name > {after:String}';
      }
      const rows = await selectRows<Row>(
        ch,
        `SELECT name, version, updated_at, actor, deleted, write_id, body FROM (
           SELECT name, version, updated_at, actor, deleted, write_id, body FROM api_config FINAL
           WHERE kind = {kind:String} ${after} ORDER BY name, version DESC LIMIT 1 BY name
         ) WHERE deleted = 0 ORDER BY name LIMIT {limit:UInt32}`,
        params,
      );
      const more = rows.length > limit;
      const page = (more ? rows.slice(0, limit) : rows).map(toRecord);
      return { items: page, next_cursor: more ? encodeCursor(`config-${kind}`, 'asc', [page[page.length - 1]!.name]) : null };
    },

    async history(kind: ConfigKind, name: string, limit: number, cursor?: string): Promise<{ items: ConfigRecord[]; next_cursor: string | null }> {
      const params: Record<string, unknown> = { kind, name, limit: limit + 1 };
      let before = '';
      if (cursor !== undefined) {
        params.before = decodeCursor(`config-history-${kind}`, cursor, ['uint32']).key[0];
        before = 'AND version < {before:UInt32}';
      }
      const rows = await selectRows<Row>(
        ch,
        `SELECT name, version, updated_at, actor, deleted, write_id, body FROM api_config FINAL
         WHERE kind = {kind:String} AND name = {name:String} ${before} ORDER BY version DESC LIMIT {limit:UInt32}`,
        params,
      );
      if (rows.length === 0 && cursor === undefined) throw new NotFoundError(`${kind} ${name} does not exist`);
      const more = rows.length > limit;
      const page = (more ? rows.slice(0, limit) : rows).map(toRecord);
      return { items: page, next_cursor: more ? encodeCursor(`config-history-${kind}`, 'desc', [page[page.length - 1]!.version]) : null };
    },

    put: (kind: ConfigKind, name: string, body: unknown, actor: string, expectedVersion?: number) => write(kind, name, body, actor, expectedVersion, false),
    remove: (kind: ConfigKind, name: string, actor: string, expectedVersion?: number) => write(kind, name, null, actor, expectedVersion, true),
  };
}

export type ConfigStore = ReturnType<typeof createConfigStore>;
