/**
 * Retrain policies written through the API (`PUT /v1/policies/{id}`, table api_config, migration
 * 060) as a second source next to the `policies:` section of the configuration file.
 *
 * The policies in force are the file's, with an API policy of the same id replacing the file's
 * (the API write is the later, audited decision; its history is `GET /v1/policies/{id}/versions`),
 * and the API's other policies added after them. A DELETE through the API removes the API version
 * only: a file policy of that id comes back in force.
 *
 * The API validated every stored body with the same validator (policy.ts); one that no longer
 * validates (a body stored by an older release) is reported and left out, and the others apply.
 */
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { toClickHouseError } from '../../lib/runtime/clickhouse/client.js';
import { isDriftwatchError } from '../../lib/runtime/errors.js';
import { parsePolicies, type Policy } from './policy.js';

export interface ApiPolicies {
  readonly policies: readonly Policy[];
  /** Stored policies left out, with why. */
  readonly problems: readonly string[];
}

/** Parses current api_config bodies (one per policy id, deleted ones already left out). */
export function parseApiPolicies(rows: ReadonlyArray<{ readonly name: string; readonly body: string }>): ApiPolicies {
  const policies: Policy[] = [];
  const problems: string[] = [];
  for (const row of rows) {
    try {
      const body = JSON.parse(row.body) as unknown;
      const [policy] = parsePolicies([body]);
      if (policy!.id !== row.name) throw new Error(`stored under ${JSON.stringify(row.name)} but its id is ${JSON.stringify(policy!.id)}`);
      policies.push(policy!);
    } catch (err) {
      const why = isDriftwatchError(err) ? err.message.replace(/\n\s*/g, ' ') : (err as Error).message;
      problems.push(`api policy ${row.name}: ${why}`);
    }
  }
  return { policies, problems };
}

/** File policies in file order, each replaced by the API policy of its id if any; then the API's others by id. */
export function mergePolicySources(file: readonly Policy[], api: readonly Policy[]): readonly Policy[] {
  const byId = new Map(api.map((p) => [p.id, p]));
  const merged = file.map((p) => byId.get(p.id) ?? p);
  const fileIds = new Set(file.map((p) => p.id));
  for (const p of [...api].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) if (!fileIds.has(p.id)) merged.push(p);
  return Object.freeze(merged);
}

/** The current, not deleted, retrain policies in api_config. */
export async function loadApiPolicies(ch: ClickHouse): Promise<ApiPolicies> {
  try {
    const rs = await ch.client.query({
      query: `SELECT name, argMax(body, version) AS body, argMax(deleted, version) AS is_deleted
              FROM api_config FINAL WHERE kind = 'retrain_policy'
              GROUP BY name HAVING is_deleted = 0 ORDER BY name`,
      format: 'JSONEachRow',
    });
    return parseApiPolicies(await rs.json<{ name: string; body: string }>());
  } catch (err) {
    throw toClickHouseError(err);
  }
}
