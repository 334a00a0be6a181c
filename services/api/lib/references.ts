/**
 * Reference profiles for the API, built and stored by the window-metrics area's lib/reference
 * (`buildAndStoreReferenceProfile`, `buildReferenceFromTimeRange`): the profile format, its columns
 * (`score`, `label`, `business.*`, `segment.*` ... in a flat dataset) and its storage in
 * `reference_profiles` are theirs. The API parses and bounds the upload (lib/dataset.ts: limits, line
 * numbers in errors) and hands over the rows as flat records.
 */
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';
import { buildAndStoreReferenceProfile, buildReferenceFromTimeRange, type BuildResult } from '../../../lib/reference/store.js';
import type { ReferenceService, StoredReference } from '../options.js';

function stored(r: BuildResult, createdAt: number): StoredReference {
  return {
    model_name: r.model,
    model_version: r.version,
    profile_version: r.profileVersion,
    created_at: new Date(createdAt).toISOString(),
    source: r.source,
    n_rows: r.rowCount,
    features: [...r.features],
    task: r.task,
  };
}

export function createReferenceService(ch: ClickHouse, opts: { maxRows: number; now?: () => number }): ReferenceService {
  const now = opts.now ?? Date.now;
  return {
    async fromRows({ model, version, rows, source }) {
      const at = now();
      return stored(await buildAndStoreReferenceProfile(ch, { model, version, rows, source, now: at }), at);
    },
    async fromTimeRange({ model, version, from, to, source }) {
      const at = now();
      return stored(await buildReferenceFromTimeRange(ch, { model, version, from, to, source, limit: opts.maxRows, now: at }), at);
    },
  };
}
