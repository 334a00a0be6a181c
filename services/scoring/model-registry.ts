/**
 * The model registry: ONNX files and metadata on disk under MODEL_DIR, indexed in ClickHouse.
 *
 *   MODEL_DIR/<name>/<version>/model.onnx
 *   MODEL_DIR/<name>/<version>/metadata.json
 *   ClickHouse model_versions   (one row per version: path relative to MODEL_DIR, sha256, task, metadata)
 *   ClickHouse model_promotions (append-only role history; promotions.ts resolves it)
 *
 * Versions are immutable: registering checks the metadata, loads the file in onnxruntime and checks
 * it against the metadata before anything is stored, then writes the files (to a temporary directory
 * renamed into place, so a reader never sees half a version) and finally the index row. The file's
 * sha256 is checked again on every load, so a file corrupted on disk later is detected and the
 * scorer falls back instead of serving garbage.
 *
 * Used by the scoring service (HTTP routes, poller), its CLI, and the retrain worker.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { toClickHouseError, toClickHouseTime, type ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { InvalidRequestError, ModelLoadError, ModelNotFoundError, ModelVersionExistsError, isDriftwatchError } from '../../lib/runtime/errors.js';
import { MODEL_NAME, checkVersionName, validateMetadata, type ModelMetadata, type Task } from './model-metadata.js';
import { loadModel } from './model-session.js';
import { EMPTY_ASSIGNMENT, nextVersion, resolveAssignments, type Action, type Assignment, type PromotionRow, type Role } from './promotions.js';

export interface ModelVersionInfo {
  readonly name: string;
  readonly version: string;
  readonly registeredAt: number;
  /** Relative to MODEL_DIR. */
  readonly path: string;
  readonly sha256: string;
  readonly task: Task;
  readonly metadata: ModelMetadata;
}

export interface ModelSummary {
  readonly name: string;
  readonly versions: number;
  readonly latestVersion: string;
  readonly champion: string | null;
  readonly challenger: string | null;
}

export interface RegisterInput {
  readonly onnx: Uint8Array;
  readonly metadata: unknown;
  /** Omitted: the next integer version. */
  readonly version?: string;
  /** Promote right after registering. */
  readonly promoteTo?: Role;
  readonly actor?: string;
  readonly reason?: string;
}

export interface ChangeInfo {
  readonly actor?: string;
  readonly reason?: string;
}

export interface ModelRegistry {
  readonly modelDir: string;
  register(name: string, input: RegisterInput): Promise<{ version: ModelVersionInfo; assignment: Assignment }>;
  listModels(): Promise<ModelSummary[]>;
  listVersions(name: string): Promise<ModelVersionInfo[]>;
  getVersion(name: string, version: string): Promise<ModelVersionInfo>;
  /** The ONNX bytes, checked against the registered sha256 (DW_MODEL_LOAD_FAILED otherwise). */
  readModelFile(info: ModelVersionInfo): Promise<Buffer>;
  assignment(name: string): Promise<Assignment>;
  /** Current roles for the given models (all models with any promotion when omitted). */
  assignments(names?: readonly string[]): Promise<Map<string, Assignment>>;
  history(name: string): Promise<PromotionRow[]>;
  promote(name: string, version: string, role: Role, info?: ChangeInfo): Promise<Assignment>;
  rollback(name: string, info?: ChangeInfo): Promise<Assignment & { rolledBackFrom: string }>;
  clearChallenger(name: string, info?: ChangeInfo): Promise<Assignment>;
}

export interface RegistryOptions {
  readonly modelDir: string;
  readonly intraOpThreads?: number;
  readonly now?: () => number;
}

interface VersionRow {
  model_name: string;
  model_version: string;
  registered_ms: number | string;
  path: string;
  sha256: string;
  task: string;
  metadata: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function checkName(name: string): void {
  if (!MODEL_NAME.test(name)) throw new InvalidRequestError(`invalid model name ${JSON.stringify(name)}: expected ${MODEL_NAME}`);
}

export function createModelRegistry(ch: ClickHouse, opts: RegistryOptions): ModelRegistry {
  const modelDir = resolve(opts.modelDir);
  const now = opts.now ?? Date.now;

  async function query<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    try {
      const rs = await ch.client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw isDriftwatchError(err) ? err : toClickHouseError(err);
    }
  }
  async function insert(table: string, values: Record<string, unknown>[]): Promise<void> {
    try {
      await ch.client.insert({ table, values, format: 'JSONEachRow' });
    } catch (err) {
      throw toClickHouseError(err);
    }
  }

  const toInfo = (r: VersionRow): ModelVersionInfo => ({
    name: r.model_name,
    version: r.model_version,
    registeredAt: Number(r.registered_ms),
    path: r.path,
    sha256: r.sha256,
    task: r.task as Task,
    metadata: JSON.parse(r.metadata) as ModelMetadata,
  });

  const VERSION_COLUMNS = 'model_name, model_version, toUnixTimestamp64Milli(registered_at) AS registered_ms, path, sha256, task, metadata';

  async function listVersions(name: string): Promise<ModelVersionInfo[]> {
    checkName(name);
    const rows = await query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions FINAL WHERE model_name = {name:String} ORDER BY registered_at, model_version`,
      { name },
    );
    return rows.map(toInfo);
  }

  async function history(name: string): Promise<PromotionRow[]> {
    checkName(name);
    return readPromotions([name]);
  }

  async function readPromotions(names?: readonly string[]): Promise<PromotionRow[]> {
    const where = names ? 'WHERE model_name IN {names:Array(String)}' : '';
    const rows = await query<PromotionRow & { at_ms: string | number }>(
      `SELECT model_name, role, model_version, action, toUnixTimestamp64Milli(at) AS at_ms, actor, reason FROM model_promotions ${where} ORDER BY model_name, at`,
      names ? { names } : {},
    );
    return rows.map((r) => ({ ...r, at_ms: Number(r.at_ms) }));
  }

  async function assignment(name: string): Promise<Assignment> {
    return (await assignmentsOf([name])).get(name) ?? EMPTY_ASSIGNMENT;
  }

  async function assignmentsOf(names?: readonly string[]): Promise<Map<string, Assignment>> {
    return resolveAssignments(await readPromotions(names));
  }

  async function getVersion(name: string, version: string): Promise<ModelVersionInfo> {
    checkName(name);
    const rows = await query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions FINAL WHERE model_name = {name:String} AND model_version = {version:String}`,
      { name, version },
    );
    if (rows.length === 0) throw new ModelNotFoundError(`model ${name} has no version ${JSON.stringify(version)}`, { model: name, version });
    return toInfo(rows[0]!);
  }

  /** Appends a promotion row at a time strictly after the model's latest row, so order is total. */
  async function record(name: string, role: Role, version: string, action: Action, info: ChangeInfo): Promise<void> {
    const last = await query<{ m: string | number }>('SELECT toUnixTimestamp64Milli(max(at)) AS m FROM model_promotions WHERE model_name = {name:String}', {
      name,
    });
    const lastMs = Number(last[0]?.m ?? 0);
    const at = Math.max(now(), lastMs + 1);
    await insert('model_promotions', [
      { model_name: name, role, model_version: version, action, at: toClickHouseTime(at), actor: info.actor ?? 'unknown', reason: info.reason ?? '' },
    ]);
  }

  async function promote(name: string, version: string, role: Role, info: ChangeInfo = {}): Promise<Assignment> {
    await getVersion(name, version);
    const current = await assignment(name);
    if (role === 'champion') {
      if (current.champion !== version) await record(name, 'champion', version, 'promote', info);
      // A challenger promoted to champion stops being shadow-scored against itself.
      if (current.challenger === version)
        await record(name, 'challenger', '', 'clear', { ...info, reason: `promoted to champion${info.reason ? `: ${info.reason}` : ''}` });
    } else {
      if (current.champion === version) throw new InvalidRequestError(`${name}@${version} is the champion; a challenger must be another version`);
      if (current.challenger !== version) await record(name, 'challenger', version, 'promote', info);
    }
    return assignment(name);
  }

  return {
    modelDir,
    listVersions,
    getVersion,
    history,
    assignment,
    assignments: assignmentsOf,
    promote,

    async register(name, input) {
      checkName(name);
      const metadata = validateMetadata(input.metadata, name);
      if (input.version !== undefined) checkVersionName(input.version);
      // Fails with DW_MODEL_INVALID before anything is written.
      const probe = await loadModel(name, input.version ?? 'new', input.onnx, metadata, { intraOpThreads: opts.intraOpThreads ?? 1 }, true);
      probe.retire();
      const existing = await listVersions(name);
      const version = input.version ?? nextVersion(existing.map((v) => v.version));
      if (existing.some((v) => v.version === version))
        throw new ModelVersionExistsError(`model ${name} already has version ${version}; versions are immutable`, { model: name, version });

      const rel = join(name, version);
      const finalDir = join(modelDir, rel);
      const tmpDir = join(modelDir, name, `.tmp-${version}-${randomUUID().slice(0, 8)}`);
      await mkdir(tmpDir, { recursive: true });
      try {
        await writeFile(join(tmpDir, 'model.onnx'), input.onnx);
        await writeFile(join(tmpDir, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
        // A directory left by a registration that crashed before indexing is replaced.
        await rm(finalDir, { recursive: true, force: true });
        await rename(tmpDir, finalDir);
      } catch (err) {
        await rm(tmpDir, { recursive: true, force: true });
        throw err;
      }
      const registeredAt = now();
      const digest = sha256(input.onnx);
      await insert('model_versions', [
        {
          model_name: name,
          model_version: version,
          registered_at: toClickHouseTime(registeredAt),
          path: join(rel, 'model.onnx'),
          sha256: digest,
          task: metadata.task,
          metadata: JSON.stringify(metadata),
        },
      ]);
      const info: ModelVersionInfo = { name, version, registeredAt, path: join(rel, 'model.onnx'), sha256: digest, task: metadata.task, metadata };
      const assignment = input.promoteTo
        ? await promote(name, version, input.promoteTo, input)
        : await assignmentsOf([name]).then((m) => m.get(name) ?? EMPTY_ASSIGNMENT);
      return { version: info, assignment };
    },

    async listModels() {
      const rows = await query<{ model_name: string; versions: string | number; latest: string }>(
        'SELECT model_name, count() AS versions, argMax(model_version, registered_at) AS latest FROM model_versions FINAL GROUP BY model_name ORDER BY model_name',
        {},
      );
      const roles = await assignmentsOf(rows.map((r) => r.model_name));
      return rows.map((r) => {
        const a = roles.get(r.model_name) ?? EMPTY_ASSIGNMENT;
        return { name: r.model_name, versions: Number(r.versions), latestVersion: r.latest, champion: a.champion, challenger: a.challenger };
      });
    },

    async readModelFile(info) {
      let bytes: Buffer;
      try {
        bytes = await readFile(join(modelDir, info.path));
      } catch (err) {
        throw new ModelLoadError(
          `cannot read ${info.name}@${info.version} from ${info.path}: ${(err as Error).message}`,
          { model: info.name, version: info.version },
          { cause: err },
        );
      }
      const digest = sha256(bytes);
      if (digest !== info.sha256) {
        throw new ModelLoadError(
          `${info.name}@${info.version}: file ${info.path} is corrupt (sha256 ${digest.slice(0, 12)}…, registered ${info.sha256.slice(0, 12)}…)`,
          { model: info.name, version: info.version },
        );
      }
      return bytes;
    },

    async rollback(name, info = {}) {
      const current = await assignment(name);
      if (!current.champion) throw new ModelNotFoundError(`model ${name} has no champion to roll back`, { model: name });
      if (!current.previousChampion)
        throw new InvalidRequestError(`model ${name}: champion ${current.champion} has no previous champion to roll back to`, { model: name });
      await record(name, 'champion', current.previousChampion, 'rollback', info);
      return { ...(await assignment(name)), rolledBackFrom: current.champion };
    },

    async clearChallenger(name, info = {}) {
      const current = await assignment(name);
      if (current.challenger) await record(name, 'challenger', '', 'clear', info);
      return assignment(name);
    },
  };
}
