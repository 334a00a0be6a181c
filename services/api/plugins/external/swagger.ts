/**
 * OpenAPI 3 document generated from the route schemas (@fastify/swagger, dynamic mode: every route's
 * `schema` becomes an operation), served as JSON at /openapi.json and browsable at /docs
 * (@fastify/swagger-ui). Both are public: the document describes the API, it holds no data.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { appPlugin } from '../app/shared.js';

export const OPENAPI_INFO = {
  title: 'driftwatch monitoring API',
  description:
    'Health, Prometheus metrics, model registry views, reference profiles, monitor and retrain-policy configuration, and queries over ' +
    'drift, performance, KPI, alert and retrain history. Writes need `Authorization: Bearer <token>` (API_WRITE_TOKENS); reads need a token ' +
    'only when API_READ_TOKENS is set. Errors are `{ "error": { "code", "message", "request_id" } }` with the codes of docs/errors.md.',
  version: '1.0.0',
} as const;

export default appPlugin(async function openapi(fastify: FastifyInstance): Promise<void> {
  // The UI's own routes (/docs, /docs/json, /docs/static/*) are registered by the plugin; mark them
  // public before they are added.
  fastify.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/')) route.config = { ...(route.config ?? {}), access: 'public' };
  });
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: OPENAPI_INFO,
      tags: [
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'metrics', description: 'Prometheus metrics' },
        { name: 'models', description: 'Model registry: versions and promotions' },
        { name: 'references', description: 'Reference profiles (drift baselines)' },
        { name: 'config', description: 'Monitor and retrain-policy configuration (versioned)' },
        { name: 'queries', description: 'Monitoring time series and events' },
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token from API_WRITE_TOKENS (writes) or API_READ_TOKENS (reads)' } },
      },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
}, 'driftwatch-openapi');
