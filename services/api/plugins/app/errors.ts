/**
 * The one place where errors become HTTP responses (the fastify/demo pattern).
 *
 * Every failure is first mapped to a class of the error catalogue (lib/runtime/errors.ts); the
 * response status is that class's `httpStatus`, so docs/errors.md is the status table. Fastify's own
 * errors (schema validation, body too large, unsupported media type, malformed JSON) are mapped by
 * their code/status. 5xx responses carry the code and a generic message only; the error itself is
 * logged with the request id, which the response also carries so an operator can find the log line.
 *
 * Body: `{ "error": { "code": "DW_...", "message": "...", "request_id": "..." , "problems"?: [...] } }`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  DriftwatchError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  isDriftwatchError,
} from '../../../../lib/runtime/errors.js';
import { appPlugin } from './shared.js';

class InternalError extends DriftwatchError {
  static override readonly code = 'DW_INTERNAL';
  static override readonly retriable = false;
  static override readonly httpStatus = 500;
}

interface ValidationItem {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

function describeValidation(err: FastifyError): string[] {
  const where = (err as { validationContext?: string }).validationContext ?? 'request';
  return (
    (err.validation as ValidationItem[] | undefined)?.slice(0, 20).map((v) => {
      const path = v.instancePath ? v.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
      const extra = v.params?.additionalProperty ? ` (${String(v.params.additionalProperty)})` : '';
      return `${where}${path ? `.${path}` : ''} ${v.message ?? 'is invalid'}${extra}`;
    }) ?? []
  );
}

/** Maps any thrown value to a catalogue error. Exported for tests. */
export function toCatalogueError(err: unknown): DriftwatchError {
  if (isDriftwatchError(err)) return err;
  const e = err as FastifyError;
  if (e && Array.isArray(e.validation)) {
    const problems = describeValidation(e);
    return new InvalidRequestError(`invalid request: ${problems.join('; ')}`, { problems });
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  switch (true) {
    case e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413:
      return new PayloadTooLargeError('request body is larger than API_BODY_LIMIT_BYTES');
    case e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415:
      return new UnsupportedMediaTypeError('unsupported Content-Type for this endpoint');
    case status === 401:
      return new UnauthorizedError('missing or invalid bearer token');
    case status === 404:
      return new NotFoundError('not found');
    case status >= 400 && status < 500:
      // Malformed JSON, empty JSON body, bad Content-Length ...: the client's message is safe to echo.
      return new InvalidRequestError(`invalid request: ${String(e?.message ?? 'malformed request').slice(0, 300)}`);
    default:
      return new InternalError('internal error', {}, { cause: err });
  }
}

export function errorBody(err: DriftwatchError, requestId: string): Record<string, unknown> {
  if (err.httpStatus >= 500) {
    return {
      error: {
        code: err.code,
        message: err.httpStatus === 503 ? 'a dependency is unavailable; retry later' : 'internal error',
        request_id: requestId,
      },
    };
  }
  const problems = (err.details as { problems?: unknown }).problems;
  return { error: { code: err.code, message: err.message, request_id: requestId, ...(Array.isArray(problems) ? { problems } : {}) } };
}

export function sendError(request: FastifyRequest, reply: FastifyReply, raw: unknown): FastifyReply {
  const err = toCatalogueError(raw);
  if (err.httpStatus >= 500)
    request.log.error(
      { err: isDriftwatchError(raw) ? raw : { message: (raw as Error)?.message, stack: (raw as Error)?.stack }, code: err.code },
      'request failed',
    );
  else request.log.info({ code: err.code, status: err.httpStatus }, 'request rejected');
  if (err.httpStatus === 503) void reply.header('retry-after', '5');
  if (err.httpStatus === 401) void reply.header('www-authenticate', 'Bearer realm="driftwatch"');
  return reply.code(err.httpStatus).type('application/json; charset=utf-8').send(errorBody(err, request.id));
}

export default appPlugin(async function errorHandling(fastify: FastifyInstance) {
  fastify.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  fastify.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new NotFoundError(`no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`)),
  );
}, 'driftwatch-errors');
