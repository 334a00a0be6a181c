/**
 * Builds the fastify instance around the app plugin, listens, and closes gracefully (in-flight
 * requests finish; new ones get 503 while closing, fastify's `return503OnClosing`).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../../lib/runtime/logger.js';
import type { ApiDeps } from './options.js';
import app from './app.js';

/** Log paths that could carry a credential; the request serializer logs no headers anyway. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'request.headers.authorization',
  '*.authorization',
  '*.token',
  '*.tokens',
];

export async function buildServer(deps: ApiDeps, logger: Logger): Promise<FastifyInstance> {
  const fastify = Fastify({
    loggerInstance: logger.child({ lib: 'http' }, { redact: { paths: REDACT_PATHS, censor: '<redacted>' } }),
    bodyLimit: deps.settings.API_BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    ajv: {
      customOptions: {
        // Unknown properties are rejected, never silently dropped (fastify's default removes them).
        removeAdditional: false,
        // Query strings arrive as text: '10' -> 10, 'true' -> true; a repeated key -> array (then rejected by type).
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: false,
      },
    },
  });
  await fastify.register(app, { deps });
  await fastify.ready();
  return fastify as unknown as FastifyInstance;
}

export async function listen(fastify: FastifyInstance, host: string, port: number): Promise<string> {
  return fastify.listen({ host, port });
}

export async function close(fastify: FastifyInstance): Promise<void> {
  await fastify.close();
}
