/**
 * Liveness and readiness (Kubernetes probe semantics): liveness says the process answers and is not
 * wedged (it never touches a dependency, so a ClickHouse outage does not get the API restarted);
 * readiness says every dependency answers, and which one does not (503 with per-dependency status).
 */
import type { FastifyInstance } from 'fastify';
import { DEPENDENCIES, type ApiDeps } from '../options.js';
import { createReadinessRunner } from '../lib/readiness.js';

const dependencyStatus = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['up', 'down'] },
    latency_ms: { type: 'number' },
    reason: { type: 'string', enum: ['timeout', 'error'] },
  },
  required: ['status', 'latency_ms'],
} as const;

/** Probes take no parameters; anything else is rejected like on every other route. */
export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

const readinessSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    dependencies: { type: 'object', properties: Object.fromEntries(DEPENDENCIES.map((d) => [d, dependencyStatus])), required: [...DEPENDENCIES] },
  },
  required: ['status', 'dependencies'],
} as const;

export default async function healthRoutes(fastify: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { deps } = opts;
  const check = createReadinessRunner(deps.readiness, deps.settings.API_READY_TIMEOUT_MS, (dependency, err) =>
    fastify.log.warn({ dependency, err: { message: (err as Error)?.message } }, 'readiness check failed'),
  );

  fastify.get('/health/live', {
    config: { access: 'public' },
    schema: {
      tags: ['health'],
      summary: 'Liveness: the process is up',
      querystring: noQuery,
      response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  fastify.get('/health/ready', {
    config: { access: 'public' },
    schema: {
      tags: ['health'],
      summary: 'Readiness: Kafka, the schema registry and ClickHouse all answer',
      querystring: noQuery,
      description: '200 when every dependency is up; 503 with the same body naming the dependency that is down.',
      response: { 200: readinessSchema, 503: readinessSchema },
    },
    handler: async (_request, reply) => {
      const report = await check();
      for (const [name, s] of Object.entries(report.dependencies)) deps.metrics.dependencyUp.set({ dependency: name }, s.status === 'up' ? 1 : 0);
      return reply.code(report.status === 'ready' ? 200 : 503).send(report);
    },
  });
}
