/**
 * Rejects non-finite numbers in any validated input (query, params, body) with 400.
 *
 * Why a hook rather than the schemas: ajv's type coercion turns the query/path text "1e309" into
 * Infinity and the integer/maximum keywords then let it through (observed with fastify 5.12's ajv
 * 8 compiler, coerceTypes 'array'; found by test/services/api/fuzz.test.ts), and JSON.parse turns a
 * body's 1e999 into Infinity. ClickHouse would then reject the bound parameter, which must be a 400,
 * not a 500.
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../../../../lib/runtime/errors.js';
import { appPlugin } from './shared.js';

/** Path of the first non-finite number in a JSON-like value, or null. Depth is bounded by the body limit. */
export function nonFinitePath(value: unknown, path = ''): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : path || '(value)';
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const found = nonFinitePath(v, path ? `${path}.${k}` : k);
    if (found !== null) return found;
  }
  return null;
}

export default appPlugin(async function finiteNumbers(fastify: FastifyInstance) {
  fastify.addHook('preHandler', async (request) => {
    for (const [where, value] of [
      ['querystring', request.query],
      ['params', request.params],
      ['body', request.body],
    ] as const) {
      const bad = nonFinitePath(value);
      if (bad !== null) throw new InvalidRequestError(`invalid request: ${where}.${bad} must be a finite number`);
    }
  });
}, 'driftwatch-finite-numbers');
