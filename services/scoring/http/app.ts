/**
 * The scoring service's HTTP application (fastify/demo layout: the app is a plugin tree; server
 * start/stop lives in main.ts). Routes:
 *
 *   POST /v1/predict                          synchronous scoring (routes/predict.ts)
 *   GET  /v1/models                           models with their champion / challenger
 *   GET  /v1/models/:name                     versions, roles, promotion history, serving state
 *   POST /v1/models/:name/versions            register a version (ONNX base64 + metadata)
 *   POST /v1/models/:name/promote             {version, role} champion | challenger
 *   POST /v1/models/:name/rollback            champion back to the previous champion
 *   DELETE /v1/models/:name/challenger        stop shadow scoring
 *   GET  /health/live, /health/ready, /metrics
 *
 * Auth: registry writes need `Authorization: Bearer <token>` from API_WRITE_TOKENS (none configured:
 * writes are refused). Reads and predictions need a token from API_READ_TOKENS or API_WRITE_TOKENS
 * when API_READ_TOKENS is set; otherwise they are open. Tokens are parsed and compared by the same
 * constant-time check as the monitoring API's (lib/runtime/auth.ts).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { bearerToken, tokenSet } from '../../../lib/runtime/auth.js';
import { UnauthorizedError } from '../../../lib/runtime/errors.js';
import type { Logger } from '../../../lib/runtime/logger.js';
import type { Metrics } from '../../../lib/runtime/metrics.js';
import type { PredictionEvent } from '../../../lib/contracts/schemas.js';
import type { ModelRegistry } from '../model-registry.js';
import type { Scorer } from '../scorer.js';
import { installErrorHandling } from './errors.js';
import { modelRoutes } from './routes/models.js';
import { predictRoutes } from './routes/predict.js';

export interface PredictionPublisher {
  /** Resolves once the broker acknowledged every prediction. */
  publish(predictions: readonly PredictionEvent[]): Promise<void>;
}

export interface ScoringAppOptions {
  readonly scorer: Scorer;
  readonly registry: ModelRegistry;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** Where synchronous predictions are published (SCORING_HTTP_PUBLISH); absent: not published. */
  readonly publisher?: PredictionPublisher;
  readonly bodyLimitBytes: number;
  readonly maxInstances: number;
  readonly writeTokens: readonly string[];
  readonly readTokens: readonly string[];
  /** Readiness: false while the stream or the registry is not up. */
  readonly ready?: () => boolean;
}

export interface AuthGuards {
  requireWrite(req: FastifyRequest): void;
  requireRead(req: FastifyRequest): void;
}

export function authGuards(opts: Pick<ScoringAppOptions, 'writeTokens' | 'readTokens'>): AuthGuards {
  const write = tokenSet(opts.writeTokens);
  const read = tokenSet(opts.readTokens);
  return {
    requireWrite(req) {
      if (write.size === 0) throw new UnauthorizedError('registry writes are disabled: no API_WRITE_TOKENS configured');
      const token = bearerToken(req.headers.authorization);
      if (token === null || !write.matches(token)) throw new UnauthorizedError('a write token is required (Authorization: Bearer <token>)');
    },
    requireRead(req) {
      if (read.size === 0) return;
      const token = bearerToken(req.headers.authorization);
      if (token === null) throw new UnauthorizedError('a read token is required (Authorization: Bearer <token>)');
      // Both sets are checked (no `||` short-circuit), so timing does not tell a read token from a write token.
      const inRead = read.matches(token);
      const inWrite = write.matches(token);
      if (!inRead && !inWrite) throw new UnauthorizedError('a read token is required (Authorization: Bearer <token>)');
    },
  };
}

export async function buildScoringApp(opts: ScoringAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the app typed as the default instance.
    loggerInstance: opts.logger.child({ lib: 'http' }) as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimitBytes,
    // Per-request info lines would dominate the log at scoring rates; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // No type coercion: a feature sent as "42" stays a string and is reported, not silently converted.
    // allowUnionTypes: feature values are `type: [number, string, boolean, null]`.
    ajv: { customOptions: { coerceTypes: false, allErrors: true, removeAdditional: false, allowUnionTypes: true } },
  });
  installErrorHandling(app);
  // JSON only: without this, fastify's default text/plain parser would turn a wrong content type into a schema error.
  app.removeContentTypeParser('text/plain');
  const guards = authGuards(opts);
  await app.register(predictRoutes, { ...opts, guards });
  await app.register(modelRoutes, { ...opts, guards });
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_req, reply) => {
    const ready = opts.ready?.() ?? true;
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'starting', models: opts.scorer.state() });
  });
  app.get('/metrics', async (_req, reply) => {
    if (!opts.metrics) return reply.status(404).send({ code: 'DW_NOT_FOUND', message: 'metrics are not enabled' });
    return reply.header('Content-Type', opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
  return app;
}
