/**
 * Monitor and retrain-policy configuration, versioned (store/config-store.ts):
 *
 *   GET    /v1/monitors                      current monitor config of every model
 *   GET    /v1/monitors/:name                current config (ETag: "<version>")
 *   GET    /v1/monitors/:name/versions       history, newest first
 *   GET    /v1/monitors/:name/versions/:v    one version
 *   PUT    /v1/monitors/:name                write a new version (If-Match: "<version>" makes it conditional)
 *   DELETE /v1/monitors/:name                retire it (appends a deleted version)
 *
 * and the same under /v1/policies/:name for retrain policies. Bodies are validated by JSON schema,
 * then by the cross-field checks (monitor: drift-method registry; policy: the injected validator),
 * and rejected with DW_POLICY_INVALID listing every problem.
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, PolicyInvalidError } from '../../../lib/runtime/errors.js';
import type { ApiDeps } from '../options.js';
import { createConfigStore, type ConfigKind } from '../store/config-store.js';
import { checkMonitorConfig, monitorConfigSchema, type MonitorConfig } from '../lib/monitor-config.js';
import { policyWithId, retrainPolicySchema } from '../lib/retrain-policy.js';
import { errorResponses, nameSchema, pageQueryProperties, pageSchema } from './schemas.js';

function recordSchema(body: Record<string, unknown>) {
  return {
    type: 'object',
    properties: {
      name: { type: 'string' },
      version: { type: 'integer' },
      updated_at: { type: 'string' },
      actor: { type: 'string' },
      deleted: { type: 'boolean' },
      body: { ...body, nullable: true },
    },
    required: ['name', 'version', 'updated_at', 'actor', 'deleted'],
  } as const;
}

const ifMatchHeader = {
  type: 'object',
  properties: {
    'if-match': { type: 'string', maxLength: 16, pattern: '^(W/)?"?[0-9]{1,9}"?$', description: 'Expected current version, e.g. "3" (ETag of the GET)' },
  },
} as const;

function expectedVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const v = Number(header.replace(/^W\//, '').replace(/"/g, ''));
  if (!Number.isSafeInteger(v)) throw new InvalidRequestError('If-Match must name a version number');
  return v;
}

interface ResourceSpec {
  readonly kind: ConfigKind;
  readonly path: string;
  readonly label: string;
  readonly schema: Record<string, unknown>;
  /** Schema of the stored body in responses. */
  readonly storedSchema: Record<string, unknown>;
  /** Cross-field validation; returns problems. */
  readonly check: (body: never) => readonly string[];
  /** What is stored for a valid body (policies get their id from the URL). */
  readonly toStored: (name: string, body: unknown) => unknown;
}

export default async function configRoutes(fastify: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { deps } = opts;
  const store = createConfigStore(deps.clickhouse, deps.now);
  const maxLimit = deps.settings.API_QUERY_MAX_LIMIT;
  const resources: ResourceSpec[] = [
    {
      kind: 'monitor',
      path: '/v1/monitors',
      label: 'monitor configuration (per model)',
      schema: monitorConfigSchema,
      storedSchema: monitorConfigSchema,
      check: (b: MonitorConfig) => checkMonitorConfig(b),
      toStored: (_n, b) => b,
    },
    {
      kind: 'retrain_policy',
      path: '/v1/policies',
      label: 'retrain policy',
      schema: retrainPolicySchema,
      storedSchema: { ...retrainPolicySchema, properties: { id: { type: 'string' }, ...retrainPolicySchema.properties } },
      // The stored policy is validated as a whole, id included, by the retrain-trigger's validator.
      check: (b: Record<string, unknown>) => deps.validatePolicy(b),
      toStored: policyWithId,
    },
  ];
  const nameParams = { type: 'object', additionalProperties: false, required: ['name'], properties: { name: nameSchema } } as const;
  const pageQuery = {
    type: 'object',
    additionalProperties: false,
    properties: { limit: pageQueryProperties(maxLimit).limit, cursor: pageQueryProperties(maxLimit).cursor },
  } as const;

  for (const r of resources) {
    const record = recordSchema(r.storedSchema);
    const tags = ['config'];
    const security = [{ bearerAuth: [] }];

    fastify.get<{ Querystring: { limit: number; cursor?: string } }>(r.path, {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        summary: `List the current ${r.label} of every name`,
        querystring: pageQuery,
        response: { 200: pageSchema(record), ...errorResponses(400, 401, 503) },
      },
      handler: async (request) => store.list(r.kind, request.query.limit, request.query.cursor),
    });

    fastify.get<{ Params: { name: string } }>(`${r.path}/:name`, {
      config: { access: 'read' },
      schema: { tags, security, summary: `Current ${r.label}`, params: nameParams, response: { 200: record, ...errorResponses(400, 401, 404, 503) } },
      handler: async (request, reply) => {
        const rec = await store.get(r.kind, request.params.name);
        void reply.header('etag', `"${rec.version}"`);
        return rec;
      },
    });

    fastify.get<{ Params: { name: string }; Querystring: { limit: number; cursor?: string } }>(`${r.path}/:name/versions`, {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        summary: `History of a ${r.label}, newest first`,
        params: nameParams,
        querystring: pageQuery,
        response: { 200: pageSchema(record), ...errorResponses(400, 401, 404, 503) },
      },
      handler: async (request) => store.history(r.kind, request.params.name, request.query.limit, request.query.cursor),
    });

    fastify.get<{ Params: { name: string; version: number } }>(`${r.path}/:name/versions/:version`, {
      config: { access: 'read' },
      schema: {
        tags,
        security,
        summary: `One version of a ${r.label}`,
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'version'],
          properties: { name: nameSchema, version: { type: 'integer', minimum: 1, maximum: 4_294_967_295 } },
        },
        response: { 200: record, ...errorResponses(400, 401, 404, 503) },
      },
      handler: async (request) => store.get(r.kind, request.params.name, request.params.version),
    });

    fastify.put<{ Params: { name: string }; Body: unknown; Headers: { 'if-match'?: string } }>(`${r.path}/:name`, {
      config: { access: 'write' },
      schema: {
        tags,
        security,
        summary: `Write a new version of a ${r.label}`,
        params: nameParams,
        headers: ifMatchHeader,
        body: r.schema,
        response: { 200: record, ...errorResponses(400, 401, 409, 413, 415, 503) },
      },
      handler: async (request, reply) => {
        const stored = r.toStored(request.params.name, request.body);
        const problems = r.check(stored as never);
        if (problems.length > 0) throw new PolicyInvalidError(`invalid ${r.label}: ${problems.join('; ')}`, { problems });
        const rec = await store.put(r.kind, request.params.name, stored, request.actor, expectedVersion(request.headers['if-match']));
        request.log.info({ kind: r.kind, name: rec.name, version: rec.version, actor: rec.actor }, 'configuration written');
        void reply.header('etag', `"${rec.version}"`);
        return rec;
      },
    });

    fastify.delete<{ Params: { name: string }; Headers: { 'if-match'?: string } }>(`${r.path}/:name`, {
      config: { access: 'write' },
      schema: {
        tags,
        security,
        summary: `Retire a ${r.label} (a deleted version is appended)`,
        params: nameParams,
        headers: ifMatchHeader,
        response: { 200: record, ...errorResponses(400, 401, 404, 409, 503) },
      },
      handler: async (request) => {
        const rec = await store.remove(r.kind, request.params.name, request.actor, expectedVersion(request.headers['if-match']));
        request.log.info({ kind: r.kind, name: rec.name, version: rec.version, actor: rec.actor }, 'configuration retired');
        return rec;
      },
    });
  }
}
