/**
 * Reference profiles of a model version (the frozen baseline drift is measured against):
 *
 *   GET  /v1/models/:model/versions/:version/references                 stored profiles (metadata), newest first
 *   GET  /v1/models/:model/versions/:version/references/:profile        one profile with its content ('latest' or a number)
 *   POST /v1/models/:model/versions/:version/references                 upload a dataset: text/csv or application/x-ndjson
 *   POST /v1/models/:model/versions/:version/references/from-range      build from ingested predictions in [from, to)
 *
 * The CSV and JSON-lines parsers are registered in this plugin's scope only, so every other route
 * answers those types with 415.
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, ReferenceProfileMissingError, UnsupportedMediaTypeError } from '../../../lib/runtime/errors.js';
import type { ApiDeps } from '../options.js';
import { CSV_TYPES, DEFAULT_MAX_COLUMNS, JSON_LINES_TYPES, parseDataset } from '../lib/dataset.js';
import { selectRows } from '../store/clickhouse.js';
import { decodeCursor, encodeCursor } from '../lib/cursor.js';
import { anyJson, errorResponses, filterValueSchema, instantSchema, nameSchema, pageQueryProperties, pageSchema, parseRange } from './schemas.js';

const storedSchema = {
  type: 'object',
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    profile_version: { type: 'integer' },
    created_at: { type: 'string' },
    source: { type: 'string' },
    n_rows: { type: 'integer' },
    features: { type: 'array', items: { type: 'string' } },
    task: { type: 'string' },
  },
  required: ['model_name', 'model_version', 'profile_version', 'created_at', 'source', 'n_rows', 'features'],
} as const;

const versionParams = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'version'],
  properties: { model: nameSchema, version: nameSchema },
} as const;

const UPLOAD_TYPES: readonly string[] = [...CSV_TYPES, ...JSON_LINES_TYPES];
const mediaType = (header: string | undefined): string =>
  String(header ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();

interface VersionParams {
  model: string;
  version: string;
}

export default async function referenceRoutes(fastify: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { deps } = opts;
  const limits = { maxRows: deps.settings.API_REFERENCE_MAX_ROWS, maxColumns: DEFAULT_MAX_COLUMNS };
  for (const type of [...CSV_TYPES, ...JSON_LINES_TYPES]) {
    fastify.addContentTypeParser(type, { parseAs: 'string', bodyLimit: deps.settings.API_BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));
  }
  const base = '/v1/models/:model/versions/:version/references';
  const tags = ['references'];
  const security = [{ bearerAuth: [] }];
  const page = pageQueryProperties(deps.settings.API_QUERY_MAX_LIMIT);

  fastify.get<{ Params: VersionParams; Querystring: { limit: number; cursor?: string } }>(base, {
    config: { access: 'read' },
    schema: {
      tags,
      security,
      summary: 'Reference profiles stored for a model version (metadata only), newest first',
      params: versionParams,
      querystring: { type: 'object', additionalProperties: false, properties: { limit: page.limit, cursor: page.cursor } },
      response: { 200: pageSchema(storedSchema), ...errorResponses(400, 401, 503) },
    },
    handler: async (request) => {
      const { model, version } = request.params;
      const params: Record<string, unknown> = { model, version, limit: request.query.limit + 1 };
      let before = '';
      if (request.query.cursor !== undefined) {
        params.before = decodeCursor('references', request.query.cursor, ['uint32']).key[0];
        before = 'AND profile_version < {before:UInt32}';
      }
      const rows = await selectRows<Record<string, unknown>>(
        deps.clickhouse,
        `SELECT model_name, model_version, profile_version, created_at, source, n_rows, features FROM reference_profiles FINAL
         WHERE model_name = {model:String} AND model_version = {version:String} ${before}
         ORDER BY profile_version DESC LIMIT {limit:UInt32}`,
        params,
      );
      const more = rows.length > request.query.limit;
      const items = more ? rows.slice(0, request.query.limit) : rows;
      return { items, next_cursor: more ? encodeCursor('references', 'desc', [Number(items[items.length - 1]!.profile_version)]) : null };
    },
  });

  fastify.get<{ Params: VersionParams & { profile: string } }>(`${base}/:profile`, {
    config: { access: 'read' },
    schema: {
      tags,
      security,
      summary: "One reference profile with its content ('latest' or a profile version)",
      params: {
        ...versionParams,
        required: ['model', 'version', 'profile'],
        properties: { ...versionParams.properties, profile: { type: 'string', maxLength: 9, pattern: '^(latest|[1-9][0-9]{0,8})$' } },
      },
      response: {
        200: { type: 'object', properties: { ...storedSchema.properties, profile: anyJson }, required: [...storedSchema.required, 'profile'] },
        ...errorResponses(400, 401, 404, 503),
      },
    },
    handler: async (request) => {
      const { model, version, profile } = request.params;
      const params: Record<string, unknown> = { model, version };
      let which = '';
      if (profile !== 'latest') {
        params.pv = Number(profile);
        which = 'AND profile_version = {pv:UInt32}';
      }
      const rows = await selectRows<Record<string, unknown>>(
        deps.clickhouse,
        `SELECT model_name, model_version, profile_version, created_at, source, n_rows, features, profile FROM reference_profiles FINAL
         WHERE model_name = {model:String} AND model_version = {version:String} ${which}
         ORDER BY profile_version DESC LIMIT 1`,
        params,
      );
      const row = rows[0];
      if (!row)
        throw new ReferenceProfileMissingError(`${model}@${version} has no reference profile${profile === 'latest' ? '' : ` ${profile}`}`, { model, version });
      return { ...row, profile: JSON.parse(String(row.profile)) };
    },
  });

  fastify.post<{ Params: VersionParams; Querystring: { source?: string } }>(base, {
    config: { access: 'write' },
    schema: {
      tags,
      security,
      summary: 'Upload a reference dataset (CSV with a header row, or JSON lines) and store its profile',
      description: `Content-Type ${[...CSV_TYPES, ...JSON_LINES_TYPES].join(', ')}. CSV: unquoted empty = missing, true/false = boolean, decimal = number, anything else or any quoted field = string. At most API_REFERENCE_MAX_ROWS rows and ${DEFAULT_MAX_COLUMNS} columns.`,
      params: versionParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { source: { ...filterValueSchema, maxLength: 200, description: 'Free-text provenance stored with the profile' } },
      },
      consumes: [...CSV_TYPES, ...JSON_LINES_TYPES],
      body: { type: 'string', minLength: 1 },
      response: { 201: storedSchema, ...errorResponses(400, 401, 413, 415, 503) },
    },
    // Checked before schema validation, so a JSON body gets 415 rather than a type error.
    preValidation: async (request) => {
      if (!UPLOAD_TYPES.includes(mediaType(request.headers['content-type'])))
        throw new UnsupportedMediaTypeError(`upload a dataset as ${UPLOAD_TYPES.join(' or ')}`);
    },
    handler: async (request, reply) => {
      const type = mediaType(request.headers['content-type']);
      const rows = parseDataset(type, request.body as string, limits);
      const { model, version } = request.params;
      const stored = await deps.references.fromRows({ model, version, rows, source: `upload:${request.query.source ?? type}` });
      request.log.info({ model, version, profile_version: stored.profile_version, rows: stored.n_rows, actor: request.actor }, 'reference profile stored');
      return reply.code(201).send(stored);
    },
  });

  fastify.post<{ Params: VersionParams; Body: { from: string; to: string } }>(`${base}/from-range`, {
    config: { access: 'write' },
    schema: {
      tags,
      security,
      summary: 'Build and store a reference profile from the stored predictions in [from, to)',
      description:
        'Labeled predictions of the version (so calibration and KPI baselines are fitted too) when the label-joiner stored any, raw predictions otherwise; served (not shadow) predictions only; at most API_REFERENCE_MAX_ROWS rows, oldest first.',
      params: versionParams,
      body: { type: 'object', additionalProperties: false, required: ['from', 'to'], properties: { from: instantSchema, to: instantSchema } },
      response: { 201: storedSchema, ...errorResponses(400, 401, 413, 415, 503) },
    },
    handler: async (request, reply) => {
      const { from, to } = parseRange(request.body);
      if (from === undefined || to === undefined) throw new InvalidRequestError('from and to are required');
      const { model, version } = request.params;
      const stored = await deps.references.fromTimeRange({ model, version, from, to });
      request.log.info({ model, version, profile_version: stored.profile_version, rows: stored.n_rows, actor: request.actor }, 'reference profile stored');
      return reply.code(201).send(stored);
    },
  });
}
