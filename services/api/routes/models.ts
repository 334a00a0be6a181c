/**
 * Models and versions. The registry itself (ONNX files under MODEL_DIR, the model_versions index,
 * the append-only model_promotions history and its champion/challenger semantics) is the scoring
 * area's `createModelRegistry` (services/scoring/model-registry.ts); these routes only expose it.
 * Registering through the API writes the ONNX file under this process's MODEL_DIR, so the API and
 * the scoring service must share that directory (docs/api.md).
 *
 * `GET /v1/models` also lists models that are monitored but not registered here (predictions served
 * elsewhere and only monitored by driftwatch): any model with rows in the window-metrics tables.
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, ModelNotFoundError } from '../../../lib/runtime/errors.js';
import type { ApiDeps } from '../options.js';
import type { ModelRegistry, ModelVersionInfo } from '../../scoring/model-registry.js';
import type { PromotionRow } from '../../scoring/promotions.js';
import { decodeCursor, encodeCursor } from '../lib/cursor.js';
import { selectRows } from '../store/clickhouse.js';
import { errorResponses, nameSchema, pageQueryProperties, pageSchema } from './schemas.js';

const nullableString = { type: 'string', nullable: true } as const;
const assignmentSchema = {
  type: 'object',
  properties: { champion: nullableString, challenger: nullableString, previous_champion: nullableString },
  required: ['champion', 'challenger', 'previous_champion'],
} as const;

const modelSummarySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    registered: { type: 'boolean', description: 'Has versions in the model registry' },
    versions: { type: 'integer' },
    latest_version: nullableString,
    champion: nullableString,
    challenger: nullableString,
    last_window_start: { type: 'string', nullable: true, description: 'Latest monitored window (any metrics table)' },
  },
  required: ['name', 'registered', 'versions'],
} as const;

const versionSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'string' },
    registered_at: { type: 'string' },
    path: { type: 'string' },
    sha256: { type: 'string' },
    task: { type: 'string' },
    metadata: { type: 'object', additionalProperties: true },
  },
  required: ['name', 'version', 'registered_at', 'sha256', 'task'],
} as const;

const promotionSchema = {
  type: 'object',
  properties: {
    role: { type: 'string' },
    model_version: { type: 'string' },
    action: { type: 'string' },
    at: { type: 'string' },
    actor: { type: 'string' },
    reason: { type: 'string' },
  },
  required: ['role', 'model_version', 'action', 'at', 'actor', 'reason'],
} as const;

const modelParams = { type: 'object', additionalProperties: false, required: ['model'], properties: { model: nameSchema } } as const;

function versionOut(v: ModelVersionInfo) {
  return {
    name: v.name,
    version: v.version,
    registered_at: new Date(v.registeredAt).toISOString(),
    path: v.path,
    sha256: v.sha256,
    task: v.task,
    metadata: v.metadata,
  };
}

function promotionOut(p: PromotionRow) {
  return { role: p.role, model_version: p.model_version, action: p.action, at: new Date(p.at_ms).toISOString(), actor: p.actor, reason: p.reason };
}

/** In-memory pages over a registry list (a model has few versions and promotions). */
function pageOf<T>(all: readonly T[], id: string, limit: number, cursor?: string): { items: T[]; next_cursor: string | null } {
  const start = cursor === undefined ? 0 : Number(decodeCursor(id, cursor, ['uint32']).key[0]);
  const items = all.slice(start, start + limit);
  return { items, next_cursor: start + limit < all.length ? encodeCursor(id, 'asc', [start + limit]) : null };
}

export default async function modelRoutes(fastify: FastifyInstance, opts: { deps: ApiDeps; registry: ModelRegistry }): Promise<void> {
  const { deps, registry } = opts;
  const maxLimit = deps.settings.API_QUERY_MAX_LIMIT;
  const page = pageQueryProperties(maxLimit);
  const pageQuery = { type: 'object', additionalProperties: false, properties: { limit: page.limit, cursor: page.cursor } } as const;
  const tags = ['models'];
  const security = [{ bearerAuth: [] }];

  async function monitored(): Promise<Map<string, string>> {
    const rows = await selectRows<{ model_name: string; last: string }>(
      deps.clickhouse,
      `SELECT model_name, max(ws) AS last FROM (
         SELECT model_name, max(window_start) AS ws FROM model_drift_summary GROUP BY model_name
         UNION ALL SELECT model_name, max(window_start) AS ws FROM drift_metrics GROUP BY model_name
         UNION ALL SELECT model_name, max(window_start) AS ws FROM performance_metrics GROUP BY model_name
         UNION ALL SELECT model_name, max(window_start) AS ws FROM kpi_metrics GROUP BY model_name
       ) GROUP BY model_name`,
      {},
    );
    return new Map(rows.map((r) => [r.model_name, r.last]));
  }

  fastify.get<{ Querystring: { limit: number; cursor?: string } }>('/v1/models', {
    config: { access: 'read' },
    schema: {
      tags,
      security,
      summary: 'Models: registered ones and monitored ones',
      querystring: pageQuery,
      response: { 200: pageSchema(modelSummarySchema), ...errorResponses(400, 401, 503) },
    },
    handler: async (request) => {
      const [registered, seen] = await Promise.all([registry.listModels(), monitored()]);
      const byName = new Map<string, Record<string, unknown>>();
      for (const m of registered) {
        byName.set(m.name, {
          name: m.name,
          registered: true,
          versions: m.versions,
          latest_version: m.latestVersion,
          champion: m.champion,
          challenger: m.challenger,
          last_window_start: seen.get(m.name) ?? null,
        });
      }
      for (const [name, last] of seen) {
        if (!byName.has(name))
          byName.set(name, { name, registered: false, versions: 0, latest_version: null, champion: null, challenger: null, last_window_start: last });
      }
      const all = [...byName.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
      return pageOf(all, 'models', request.query.limit, request.query.cursor);
    },
  });

  fastify.get<{ Params: { model: string } }>('/v1/models/:model', {
    config: { access: 'read' },
    schema: {
      tags,
      security,
      summary: 'One model: its roles and version count',
      params: modelParams,
      response: {
        200: {
          type: 'object',
          properties: { ...modelSummarySchema.properties, assignment: assignmentSchema },
          required: ['name', 'registered', 'versions', 'assignment'],
        },
        ...errorResponses(400, 401, 404, 503),
      },
    },
    handler: async (request) => {
      const name = request.params.model;
      const [versions, seen] = await Promise.all([registry.listVersions(name), monitored()]);
      if (versions.length === 0 && !seen.has(name)) throw new ModelNotFoundError(`model ${name} is neither registered nor monitored`, { model: name });
      const a = await registry.assignment(name);
      return {
        name,
        registered: versions.length > 0,
        versions: versions.length,
        latest_version: versions.at(-1)?.version ?? null,
        champion: a.champion,
        challenger: a.challenger,
        last_window_start: seen.get(name) ?? null,
        assignment: { champion: a.champion, challenger: a.challenger, previous_champion: a.previousChampion },
      };
    },
  });

  fastify.get<{ Params: { model: string }; Querystring: { limit: number; cursor?: string } }>('/v1/models/:model/versions', {
    config: { access: 'read' },
    schema: {
      tags,
      security,
      summary: 'Registered versions, newest first',
      params: modelParams,
      querystring: pageQuery,
      response: { 200: pageSchema(versionSchema), ...errorResponses(400, 401, 503) },
    },
    handler: async (request) => {
      const versions = (await registry.listVersions(request.params.model)).reverse().map(versionOut);
      return pageOf(versions, 'model-versions', request.query.limit, request.query.cursor);
    },
  });

  fastify.get<{ Params: { model: string; version: string } }>('/v1/models/:model/versions/:version', {
    config: { access: 'read' },
    schema: {
      tags,
      security,
      summary: 'One registered version with its metadata',
      params: { type: 'object', additionalProperties: false, required: ['model', 'version'], properties: { model: nameSchema, version: nameSchema } },
      response: { 200: versionSchema, ...errorResponses(400, 401, 404, 503) },
    },
    handler: async (request) => versionOut(await registry.getVersion(request.params.model, request.params.version)),
  });

  fastify.post<{
    Params: { model: string };
    Body: { onnx_base64: string; metadata: Record<string, unknown>; version?: string; promote_to?: 'champion' | 'challenger'; reason?: string };
  }>('/v1/models/:model/versions', {
    config: { access: 'write' },
    schema: {
      tags,
      security,
      summary: 'Register a version (ONNX file + metadata); versions are immutable',
      description: 'The file is checked by loading it in onnxruntime against the metadata before anything is stored (DW_MODEL_INVALID otherwise).',
      params: modelParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['onnx_base64', 'metadata'],
        properties: {
          onnx_base64: { type: 'string', minLength: 4, pattern: '^[A-Za-z0-9+/]+={0,2}$', description: 'The ONNX file, base64' },
          metadata: { type: 'object', maxProperties: 64, description: 'Model metadata (docs/scoring.md), validated by the registry' },
          version: nameSchema,
          promote_to: { type: 'string', enum: ['champion', 'challenger'] },
          reason: { type: 'string', maxLength: 1000 },
        },
      },
      response: {
        201: { type: 'object', properties: { version: versionSchema, assignment: assignmentSchema }, required: ['version', 'assignment'] },
        ...errorResponses(400, 401, 409, 413, 415, 503),
      },
    },
    handler: async (request, reply) => {
      const b = request.body;
      const onnx = Buffer.from(b.onnx_base64, 'base64');
      if (onnx.length === 0) throw new InvalidRequestError('onnx_base64 decodes to an empty file');
      const { version, assignment } = await registry.register(request.params.model, {
        onnx,
        metadata: b.metadata,
        ...(b.version !== undefined ? { version: b.version } : {}),
        ...(b.promote_to !== undefined ? { promoteTo: b.promote_to } : {}),
        actor: request.actor,
        reason: b.reason ?? '',
      });
      request.log.info({ model: version.name, version: version.version, actor: request.actor }, 'model version registered');
      return reply.code(201).send({
        version: versionOut(version),
        assignment: { champion: assignment.champion, challenger: assignment.challenger, previous_champion: assignment.previousChampion },
      });
    },
  });

  fastify.get<{ Params: { model: string }; Querystring: { limit: number; cursor?: string } }>('/v1/models/:model/promotions', {
    config: { access: 'read' },
    schema: {
      tags,
      security,
      summary: 'Promotion history (promote, rollback, clear), newest first',
      params: modelParams,
      querystring: pageQuery,
      response: { 200: pageSchema(promotionSchema), ...errorResponses(400, 401, 503) },
    },
    handler: async (request) => {
      const rows = (await registry.history(request.params.model)).map(promotionOut).reverse();
      return pageOf(rows, 'model-promotions', request.query.limit, request.query.cursor);
    },
  });

  fastify.post<{
    Params: { model: string };
    Body: { action: 'promote' | 'rollback' | 'clear_challenger'; version?: string; role?: 'champion' | 'challenger'; reason?: string };
  }>('/v1/models/:model/promotions', {
    config: { access: 'write' },
    schema: {
      tags,
      security,
      summary: 'Change roles: promote a version to champion/challenger, roll the champion back, or clear the challenger',
      params: modelParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['action'],
        properties: {
          action: { type: 'string', enum: ['promote', 'rollback', 'clear_challenger'] },
          version: nameSchema,
          role: { type: 'string', enum: ['champion', 'challenger'], default: 'champion' },
          reason: { type: 'string', maxLength: 1000 },
        },
      },
      response: { 200: assignmentSchema, ...errorResponses(400, 401, 404, 413, 415, 503) },
    },
    handler: async (request) => {
      const { action, version, role, reason } = request.body;
      const name = request.params.model;
      const info = { actor: request.actor, reason: reason ?? '' };
      let a;
      if (action === 'promote') {
        if (version === undefined) throw new InvalidRequestError('promote needs a version');
        a = await registry.promote(name, version, role ?? 'champion', info);
      } else {
        if (version !== undefined) throw new InvalidRequestError(`${action} takes no version`);
        a = action === 'rollback' ? await registry.rollback(name, info) : await registry.clearChallenger(name, info);
      }
      request.log.info({ model: name, action, version, role, actor: request.actor }, 'model roles changed');
      return { champion: a.champion, challenger: a.challenger, previous_champion: a.previousChampion };
    },
  });
}
