/**
 * Reference profiles in ClickHouse (`reference_profiles`, migration 030): versioned per model
 * version. Building a new profile for a version adds profile_version = previous + 1; the processor
 * uses the newest for windows that start after it has loaded it (docs/windows.md).
 *
 * Entry points other components call (the API, the CLI):
 *  - buildAndStoreReferenceProfile(ch, {model, version, rows | file | text, source})
 *  - buildReferenceFromTimeRange(ch, {model, version, from, to}) over stored labeled predictions
 *    (label-joiner output) or, when none, raw predictions (ingest).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ClickHouse } from '../runtime/clickhouse/client.js';
import { toClickHouseError } from '../runtime/clickhouse/client.js';
import { ReferenceDataInvalidError } from '../runtime/errors.js';
import type { ClassificationOptions } from '../performance/classification.js';
import type { KpiDefinition } from '../performance/kpi/kpi.js';
import type { ProfileOptions, Scalar } from '../stats/profile/types.js';
import { buildStoredProfile } from './build.js';
import { formatOf, readReference, rowFromFlat, type ReadOptions, type ReferenceFormat, type ReferenceRow } from './read.js';
import type { ProfileEntry, StoredProfile } from './types.js';

export interface ProfileVersionInfo {
  readonly model: string;
  readonly version: string;
  readonly profileVersion: number;
  readonly createdAt: string;
  readonly source: string;
  readonly nRows: number;
  readonly features: readonly string[];
}

async function query<T>(ch: ClickHouse, sql: string, params: Record<string, unknown>): Promise<T[]> {
  try {
    const rs = await ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
    return await rs.json<T>();
  } catch (err) {
    throw toClickHouseError(err);
  }
}

function toEntry(json: string, profileVersion: number): ProfileEntry {
  const p = JSON.parse(json) as StoredProfile;
  return { ...p, profileVersion };
}

/** Stores a profile as the next profile_version of its model version; returns that version. */
export async function storeProfile(ch: ClickHouse, p: StoredProfile): Promise<number> {
  const [row] = await query<{ v: number | string }>(
    ch,
    'SELECT max(profile_version) AS v FROM reference_profiles FINAL WHERE model_name = {m:String} AND model_version = {v:String}',
    { m: p.model, v: p.version },
  );
  const profileVersion = Number(row?.v ?? 0) + 1;
  try {
    await ch.client.insert({
      table: 'reference_profiles',
      format: 'JSONEachRow',
      values: [
        {
          model_name: p.model,
          model_version: p.version,
          profile_version: profileVersion,
          created_at: new Date(p.createdAt).toISOString().replace('T', ' ').replace('Z', ''),
          source: p.source,
          n_rows: p.rowCount,
          features: [...p.features.featureOrder],
          profile: JSON.stringify(p),
        },
      ],
    });
  } catch (err) {
    throw toClickHouseError(err);
  }
  return profileVersion;
}

/** The newest profile of a model version, or null (status no_reference). */
export async function loadLatestProfile(ch: ClickHouse, model: string, version: string): Promise<ProfileEntry | null> {
  const rows = await query<{ profile_version: number | string; profile: string }>(
    ch,
    `SELECT profile_version, profile FROM reference_profiles FINAL
     WHERE model_name = {m:String} AND model_version = {v:String} ORDER BY profile_version DESC LIMIT 1`,
    { m: model, v: version },
  );
  return rows[0] ? toEntry(rows[0].profile, Number(rows[0].profile_version)) : null;
}

export async function loadProfileVersion(ch: ClickHouse, model: string, version: string, profileVersion: number): Promise<ProfileEntry | null> {
  const rows = await query<{ profile: string }>(
    ch,
    `SELECT profile FROM reference_profiles FINAL
     WHERE model_name = {m:String} AND model_version = {v:String} AND profile_version = {pv:UInt32} LIMIT 1`,
    { m: model, v: version, pv: profileVersion },
  );
  return rows[0] ? toEntry(rows[0].profile, profileVersion) : null;
}

/** Profile versions per model version (newest first), without the profile bodies. */
export async function listProfiles(ch: ClickHouse, model?: string): Promise<ProfileVersionInfo[]> {
  const rows = await query<{
    model_name: string;
    model_version: string;
    profile_version: number | string;
    created_at: string;
    source: string;
    n_rows: number | string;
    features: string[];
  }>(
    ch,
    `SELECT model_name, model_version, profile_version, created_at, source, n_rows, features FROM reference_profiles FINAL
     WHERE {m:String} = '' OR model_name = {m:String} ORDER BY model_name, model_version, profile_version DESC`,
    { m: model ?? '' },
  );
  return rows.map((r) => ({
    model: r.model_name,
    version: r.model_version,
    profileVersion: Number(r.profile_version),
    createdAt: r.created_at,
    source: r.source,
    nRows: Number(r.n_rows),
    features: r.features,
  }));
}

export interface BuildAndStoreOptions {
  readonly model: string;
  readonly version: string;
  /** Rows: flat records (columns as in a CSV) or event-shaped objects with a `features` map. */
  readonly rows?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** Or a file path (CSV or JSON lines, told apart by extension unless `format` is given). */
  readonly file?: string;
  /** Or the file's text. */
  readonly text?: string;
  readonly format?: ReferenceFormat;
  /** Provenance shown with the profile (default: file name and sha256, or 'rows'). */
  readonly source?: string;
  readonly kpis?: readonly KpiDefinition[];
  readonly performance?: Partial<ClassificationOptions>;
  readonly read?: ReadOptions;
  readonly profile?: ProfileOptions;
  readonly now?: number;
}

export interface BuildResult {
  readonly model: string;
  readonly version: string;
  readonly profileVersion: number;
  readonly rowCount: number;
  readonly features: readonly string[];
  readonly task: string;
  readonly calibration: { readonly applied: boolean; readonly reason: string; readonly eceBefore: number | null; readonly eceAfter: number | null } | null;
  readonly kpiBaselines: Readonly<Record<string, number | null>>;
  readonly source: string;
}

function normalizeRows(rows: ReadonlyArray<Readonly<Record<string, unknown>>>, opts: ReadOptions): ReferenceRow[] {
  return rows.map((r, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new ReferenceDataInvalidError(`row ${i + 1} is not an object`, { row: i + 1 });
    const f = (r as Record<string, unknown>).features;
    if (f && typeof f === 'object' && !Array.isArray(f)) {
      const { features, business, segment, probabilities, ...rest } = r as Record<string, unknown>;
      const row = rowFromFlat(rest, opts);
      row.features = { ...(features as Record<string, Scalar>) };
      if (business && typeof business === 'object') row.business = { ...(business as Record<string, number>) };
      if (segment && typeof segment === 'object') row.segment = { ...(segment as Record<string, string>) };
      if (probabilities && typeof probabilities === 'object') row.probabilities = { ...(probabilities as Record<string, number>) };
      return row;
    }
    return rowFromFlat(r, opts);
  });
}

function describe(p: StoredProfile, profileVersion: number): BuildResult {
  const baselines: Record<string, number | null> = {};
  for (const [k, b] of Object.entries(p.kpiBaselines)) baselines[k] = b.value;
  return {
    model: p.model,
    version: p.version,
    profileVersion,
    rowCount: p.rowCount,
    features: p.features.featureOrder,
    task: p.task,
    calibration: p.calibration
      ? { applied: p.calibration.applied, reason: p.calibration.reason, eceBefore: p.calibration.eceBefore, eceAfter: p.calibration.eceAfter }
      : null,
    kpiBaselines: baselines,
    source: p.source,
  };
}

/** Builds a profile from rows, a file or its text, and stores it as the next profile version. */
export async function buildAndStoreReferenceProfile(ch: ClickHouse, o: BuildAndStoreOptions): Promise<BuildResult> {
  if (!o.model || !o.version) throw new ReferenceDataInvalidError('model and version are required');
  const given = [o.rows, o.file, o.text].filter((x) => x !== undefined).length;
  if (given !== 1) throw new ReferenceDataInvalidError('give exactly one of rows, file or text');
  let rows: ReferenceRow[];
  let source = o.source;
  if (o.rows) {
    rows = normalizeRows(o.rows, o.read ?? {});
    source ??= `rows:${o.rows.length}`;
  } else {
    let text: string;
    if (o.file) {
      try {
        text = await readFile(o.file, 'utf8');
      } catch (err) {
        throw new ReferenceDataInvalidError(`cannot read ${o.file}: ${(err as Error).message}`);
      }
    } else text = o.text!;
    const format = o.format ?? (o.file ? formatOf(o.file) : 'csv');
    rows = readReference(text, format, o.read ?? {});
    source ??= `${o.file ? `file:${o.file.split('/').pop()}` : `upload:${format}`} sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  }
  if (rows.length === 0) throw new ReferenceDataInvalidError('the reference data has no rows');
  const stored = buildStoredProfile(rows, {
    model: o.model,
    version: o.version,
    source,
    createdAt: o.now ?? Date.now(),
    ...(o.kpis ? { kpis: o.kpis } : {}),
    ...(o.performance ? { performance: o.performance } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
  });
  const profileVersion = await storeProfile(ch, stored);
  return describe(stored, profileVersion);
}

interface StoredEventRow {
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  bool_features: Record<string, boolean>;
  missing_features: string[];
  score: number | null;
  probabilities: Record<string, number>;
  predicted_label: string | null;
  predicted_value: number | null;
  segment: Record<string, string>;
  label?: string | null;
  target_value?: number | null;
  business?: Record<string, number>;
  status?: string;
}

function rowFromStored(r: StoredEventRow): ReferenceRow {
  const features: Record<string, Scalar> = {};
  for (const [k, v] of Object.entries(r.num_features)) features[k] = Number(v);
  for (const [k, v] of Object.entries(r.cat_features)) features[k] = v;
  for (const [k, v] of Object.entries(r.bool_features)) features[k] = v === true || (v as unknown) === 1 || (v as unknown) === 'true';
  for (const k of r.missing_features) features[k] = null;
  const row: ReferenceRow = {
    features,
    score: r.score === null ? null : Number(r.score),
    predicted_label: r.predicted_label,
    predicted_value: r.predicted_value === null ? null : Number(r.predicted_value),
    probabilities: r.probabilities,
    segment: r.segment,
  };
  if (r.status === 'LABELED') {
    row.label = r.label ?? null;
    row.target_value = r.target_value === null || r.target_value === undefined ? null : Number(r.target_value);
    row.business = r.business ?? {};
  }
  return row;
}

export interface TimeRangeOptions extends Omit<BuildAndStoreOptions, 'rows' | 'file' | 'text' | 'format' | 'read'> {
  /** Event-time range [from, to), epoch ms. */
  readonly from: number;
  readonly to: number;
  /** Most rows read (default 200 000, newest dropped first by time order). */
  readonly limit?: number;
}

/**
 * Builds a profile from a stored time range of the model version's champion events: labeled
 * predictions (features, scores, labels and business outcomes, so calibration and KPI baselines are
 * fitted too) when the label-joiner stored any, raw predictions otherwise.
 */
export async function buildReferenceFromTimeRange(ch: ClickHouse, o: TimeRangeOptions): Promise<BuildResult> {
  if (!(o.to > o.from)) throw new ReferenceDataInvalidError(`empty time range: from ${o.from} must be before to ${o.to}`);
  const params = { m: o.model, v: o.version, from: o.from, to: o.to, limit: o.limit ?? 200_000 };
  let rows = await query<StoredEventRow>(
    ch,
    `SELECT num_features, cat_features, bool_features, missing_features, score, probabilities, predicted_label, predicted_value,
            segment, label, target_value, business, status
     FROM labeled_predictions FINAL
     WHERE model_name = {m:String} AND model_version = {v:String} AND NOT is_shadow
       AND prediction_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND prediction_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
     ORDER BY prediction_time, prediction_id LIMIT {limit:UInt64}`,
    params,
  );
  let table = 'labeled_predictions';
  if (rows.length === 0) {
    table = 'raw_predictions';
    rows = await query<StoredEventRow>(
      ch,
      `SELECT num_features, cat_features, bool_features, missing_features, score, probabilities, predicted_label, predicted_value, segment
       FROM raw_predictions FINAL
       WHERE model_name = {m:String} AND model_version = {v:String} AND NOT is_shadow
         AND event_time >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND event_time < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       ORDER BY event_time, event_id LIMIT {limit:UInt64}`,
      params,
    );
  }
  if (rows.length === 0)
    throw new ReferenceDataInvalidError(
      `no stored predictions of ${o.model}/${o.version} between ${new Date(o.from).toISOString()} and ${new Date(o.to).toISOString()}`,
    );
  const stored = buildStoredProfile(rows.map(rowFromStored), {
    model: o.model,
    version: o.version,
    source: o.source ?? `${table}:${new Date(o.from).toISOString()}/${new Date(o.to).toISOString()}`,
    createdAt: o.now ?? Date.now(),
    ...(o.kpis ? { kpis: o.kpis } : {}),
    ...(o.performance ? { performance: o.performance } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
  });
  const profileVersion = await storeProfile(ch, stored);
  return describe(stored, profileVersion);
}
