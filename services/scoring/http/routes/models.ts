/**
 * Model registry routes. Writes record the change in ClickHouse and then tell the local scorer to
 * re-read the roles at once (other scoring instances see it on their next poll,
 * SCORING_MODEL_POLL_MS).
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError, ModelNotFoundError } from '../../../../lib/runtime/errors.js';
import type { ModelVersionInfo } from '../../model-registry.js';
import { ROLES, type Role } from '../../promotions.js';
import type { AuthGuards, ScoringAppOptions } from '../app.js';

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9._-]*$' } },
} as const;

const changeFields = {
  actor: { type: 'string', minLength: 1, maxLength: 200 },
  reason: { type: 'string', maxLength: 2000 },
} as const;

const registerBody = {
  type: 'object',
  required: ['metadata', 'onnx_base64'],
  additionalProperties: false,
  properties: {
    metadata: { type: 'object' },
    onnx_base64: { type: 'string', minLength: 4 },
    version: { type: 'string', minLength: 1, maxLength: 64 },
    promote: { type: 'string', enum: [...ROLES] },
    ...changeFields,
  },
} as const;

const promoteBody = {
  type: 'object',
  required: ['version'],
  additionalProperties: false,
  properties: { version: { type: 'string', minLength: 1, maxLength: 64 }, role: { type: 'string', enum: [...ROLES], default: 'champion' }, ...changeFields },
} as const;

const changeBody = { type: 'object', additionalProperties: false, properties: { ...changeFields } } as const;

const versionView = (v: ModelVersionInfo) => ({
  version: v.version,
  registered_at: new Date(v.registeredAt).toISOString(),
  sha256: v.sha256,
  task: v.task,
  path: v.path,
  metadata: v.metadata,
});

export async function modelRoutes(app: FastifyInstance, opts: ScoringAppOptions & { guards: AuthGuards }): Promise<void> {
  const { registry, scorer, guards } = opts;
  const actorOf = (body: { actor?: string } | undefined, fallback: string) => body?.actor ?? fallback;

  app.get('/v1/models', async (req) => {
    guards.requireRead(req);
    return { models: await registry.listModels() };
  });

  app.get<{ Params: { name: string } }>('/v1/models/:name', { schema: { params: nameParams } }, async (req) => {
    guards.requireRead(req);
    const { name } = req.params;
    const versions = await registry.listVersions(name);
    if (versions.length === 0) throw new ModelNotFoundError(`model ${name} is not registered`, { model: name });
    const [assignment, history] = await Promise.all([registry.assignment(name), registry.history(name)]);
    return {
      name,
      champion: assignment.champion,
      challenger: assignment.challenger,
      previous_champion: assignment.previousChampion,
      versions: versions.map(versionView),
      history: history.map((h) => ({
        role: h.role,
        version: h.model_version,
        action: h.action,
        at: new Date(h.at_ms).toISOString(),
        actor: h.actor,
        reason: h.reason,
      })),
      serving: scorer.state().find((s) => s.name === name) ?? null,
    };
  });

  app.post<{ Params: { name: string }; Body: { metadata: object; onnx_base64: string; version?: string; promote?: Role; actor?: string; reason?: string } }>(
    '/v1/models/:name/versions',
    { schema: { params: nameParams, body: registerBody } },
    async (req, reply) => {
      guards.requireWrite(req);
      const b = req.body;
      if (!/^[A-Za-z0-9+/=\s]+$/.test(b.onnx_base64)) throw new InvalidRequestError('onnx_base64 is not base64');
      const onnx = Buffer.from(b.onnx_base64, 'base64');
      const result = await registry.register(req.params.name, {
        onnx,
        metadata: b.metadata,
        ...(b.version !== undefined ? { version: b.version } : {}),
        ...(b.promote ? { promoteTo: b.promote } : {}),
        actor: actorOf(b, 'api'),
        reason: b.reason ?? 'registered by API',
      });
      if (b.promote) await scorer.refresh(req.params.name);
      return reply
        .status(201)
        .send({ name: req.params.name, ...versionView(result.version), champion: result.assignment.champion, challenger: result.assignment.challenger });
    },
  );

  app.post<{ Params: { name: string }; Body: { version: string; role: Role; actor?: string; reason?: string } }>(
    '/v1/models/:name/promote',
    { schema: { params: nameParams, body: promoteBody } },
    async (req) => {
      guards.requireWrite(req);
      const a = await registry.promote(req.params.name, req.body.version, req.body.role, { actor: actorOf(req.body, 'api'), reason: req.body.reason ?? '' });
      await scorer.refresh(req.params.name);
      return { name: req.params.name, champion: a.champion, challenger: a.challenger, previous_champion: a.previousChampion };
    },
  );

  app.post<{ Params: { name: string }; Body: { actor?: string; reason?: string } | undefined }>(
    '/v1/models/:name/rollback',
    { schema: { params: nameParams, body: changeBody } },
    async (req) => {
      guards.requireWrite(req);
      const a = await registry.rollback(req.params.name, { actor: actorOf(req.body, 'api'), reason: req.body?.reason ?? '' });
      await scorer.refresh(req.params.name);
      return {
        name: req.params.name,
        champion: a.champion,
        rolled_back_from: a.rolledBackFrom,
        challenger: a.challenger,
        previous_champion: a.previousChampion,
      };
    },
  );

  app.delete<{ Params: { name: string } }>('/v1/models/:name/challenger', { schema: { params: nameParams } }, async (req) => {
    guards.requireWrite(req);
    const a = await registry.clearChallenger(req.params.name, { actor: 'api', reason: 'challenger cleared by API' });
    await scorer.refresh(req.params.name);
    return { name: req.params.name, champion: a.champion, challenger: a.challenger };
  });
}
