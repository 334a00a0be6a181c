/**
 * Bearer-token authentication.
 *
 * - Every route declares its access in `config.access`: 'public' (health, metrics, docs, the status
 *   page shell), 'read' (queries) or 'write' (anything that changes state). A route without the
 *   declaration gets 'write' for non-GET methods and 'read' otherwise, so forgetting it fails closed.
 * - Write endpoints need a token from API_WRITE_TOKENS; with none configured, writes are refused.
 *   Read endpoints need a token from API_READ_TOKENS or API_WRITE_TOKENS when API_READ_TOKENS is set,
 *   and are open otherwise.
 * - Tokens are compared in constant time by the shared check in lib/runtime/auth.ts (SHA-256 of the
 *   presented token against SHA-256 of every configured token, `crypto.timingSafeEqual`, no early exit).
 * - Tokens never reach logs: the request serializer logs no headers, the HTTP logger also redacts
 *   `authorization` paths (see server.ts), and audit records name a caller by a short hash prefix
 *   (`token:<8 hex>`) instead.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf, bearerToken, tokenSet } from '../../../../lib/runtime/auth.js';
import { UnauthorizedError } from '../../../../lib/runtime/errors.js';
import { appPlugin } from './shared.js';

export type Access = 'public' | 'read' | 'write';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** Audit name of the authenticated caller (`token:<8 hex of sha256>`), or 'anonymous'. */
    actor: string;
  }
}

export function accessOf(request: FastifyRequest): Access {
  const declared = request.routeOptions.config?.access;
  if (declared) return declared;
  return request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
}

export interface AuthOptions {
  readonly writeTokens: readonly string[];
  readonly readTokens: readonly string[];
}

export default appPlugin(async function auth(fastify: FastifyInstance, opts: AuthOptions) {
  const write = tokenSet(opts.writeTokens);
  const read = tokenSet(opts.readTokens);
  fastify.decorateRequest('actor', 'anonymous');
  fastify.addHook('onRequest', async (request) => {
    const access = accessOf(request);
    if (access === 'public') return;
    const token = bearerToken(request.headers.authorization);
    if (access === 'read' && read.size === 0) {
      if (token !== null && write.matches(token)) request.actor = actorOf(token);
      return;
    }
    if (token === null) throw new UnauthorizedError(`this endpoint needs a ${access} token: send Authorization: Bearer <token>`);
    // Both sets are always checked (no `||` short-circuit), so timing does not tell a read token from a write token.
    const inWrite = write.matches(token);
    const inRead = read.matches(token);
    const allowed = access === 'write' ? inWrite : inRead || inWrite;
    if (!allowed)
      throw new UnauthorizedError(
        access === 'write' && write.size === 0 ? 'writes are disabled: no API_WRITE_TOKENS configured' : `the token is not valid for ${access} access`,
      );
    request.actor = actorOf(token);
  });
}, 'driftwatch-auth');
