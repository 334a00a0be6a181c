/**
 * The scoring service's one error handler (fastify/demo pattern): every failure leaves as
 * `{ code, message, details? }` with the HTTP status of its catalogue code (lib/runtime/errors.ts).
 * Fastify's own request errors (schema validation, bad JSON, body too large, wrong media type) are
 * mapped to catalogue codes first; 5xx responses hide their details (they are logged instead).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DriftwatchError } from '../../../lib/runtime/errors.js';
import {
  InternalError,
  InvalidJsonError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  isDriftwatchError,
} from '../../../lib/runtime/errors.js';

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** Translates anything thrown in a request into a catalogue error. */
export function toCatalogueError(err: FastifyError | Error): DriftwatchError {
  if (isDriftwatchError(err)) return err;
  const fe = err as FastifyError;
  if (fe.validation) {
    const problems = fe.validation.map(
      (v) =>
        `${fe.validationContext ?? 'request'}${v.instancePath || ''} ${v.message ?? 'is invalid'}${v.params && 'additionalProperty' in v.params ? ` (${String(v.params.additionalProperty)})` : ''}`,
    );
    return new InvalidRequestError(`invalid request: ${problems.join('; ')}`, { problems });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLargeError(`request body is larger than the limit: ${fe.message}`);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InvalidJsonError(`request body is not valid JSON: ${fe.message}`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeError(`unsupported content type: ${fe.message}; send application/json`);
    default:
      if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new InvalidRequestError(fe.message);
      return new InternalError(fe.message, {}, { cause: err });
  }
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const e = toCatalogueError(err);
    const status = e.httpStatus;
    if (status >= 500) {
      req.log.error({ err: { ...e.toJSON(), stack: err.stack } }, 'request failed');
      const body: ErrorBody = { code: e.code, message: 'internal error; see the service log for this request id', details: { requestId: req.id } };
      return reply.status(status).send(body);
    }
    const body: ErrorBody = { code: e.code, message: e.message, ...(Object.keys(e.details).length > 0 ? { details: e.details } : {}) };
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new NotFoundError(`no route ${req.method} ${req.url}`);
    return reply.status(404).send({ code: e.code, message: e.message } satisfies ErrorBody);
  });
}
