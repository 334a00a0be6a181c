/**
 * The API as one fastify plugin (the fastify/demo layout): external plugins first (OpenAPI), then the
 * app's own cross-cutting plugins (errors, auth, request metrics), then the routes. `server.ts` builds
 * the fastify instance around it; tests register it on an instance and call `app.inject()`.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './options.js';
import { createModelRegistry } from '../scoring/model-registry.js';
import openapi from './plugins/external/swagger.js';
import errors from './plugins/app/errors.js';
import auth from './plugins/app/auth.js';
import httpMetrics from './plugins/app/http-metrics.js';
import finiteNumbers from './plugins/app/finite-numbers.js';
import healthRoutes from './routes/health.js';
import metricsRoutes from './routes/metrics.js';
import openapiRoutes from './routes/openapi.js';
import statusRoutes from './routes/status.js';
import modelRoutes from './routes/models.js';
import referenceRoutes from './routes/references.js';
import configRoutes from './routes/configs.js';
import queryRoutes from './routes/queries.js';

export default async function app(fastify: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { deps } = opts;
  // external
  await fastify.register(openapi);
  // app
  await fastify.register(errors);
  await fastify.register(auth, { writeTokens: deps.settings.API_WRITE_TOKENS, readTokens: deps.settings.API_READ_TOKENS });
  await fastify.register(httpMetrics, { metrics: deps.metrics });
  await fastify.register(finiteNumbers);
  // routes
  const registry = createModelRegistry(deps.clickhouse, { modelDir: deps.settings.MODEL_DIR, ...(deps.now ? { now: deps.now } : {}) });
  await fastify.register(healthRoutes, { deps });
  await fastify.register(metricsRoutes, { deps });
  await fastify.register(openapiRoutes);
  await fastify.register(statusRoutes);
  await fastify.register(modelRoutes, { deps, registry });
  await fastify.register(referenceRoutes, { deps });
  await fastify.register(configRoutes, { deps });
  await fastify.register(queryRoutes, { deps });
}
