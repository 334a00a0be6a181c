/**
 * The status page (status/assets.ts) at `/` and `/status`, with its script and stylesheet. The shell
 * is public; the data it shows comes from the query endpoints, which apply read auth as usual.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { STATUS_CSS, STATUS_HTML, STATUS_JS } from '../status/assets.js';

/** Scripts only from this origin (no inline script), data only from this origin, no framing. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function send(reply: FastifyReply, type: string, body: string): FastifyReply {
  return reply.type(type).header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(body);
}

export default async function statusRoutes(fastify: FastifyInstance): Promise<void> {
  const page = { config: { access: 'public' as const }, schema: { hide: true } };
  fastify.get('/', page, async (_req, reply) => send(reply, 'text/html; charset=utf-8', STATUS_HTML));
  fastify.get('/status', page, async (_req, reply) => send(reply, 'text/html; charset=utf-8', STATUS_HTML));
  fastify.get('/status/app.js', page, async (_req, reply) => send(reply, 'text/javascript; charset=utf-8', STATUS_JS));
  fastify.get('/status/app.css', page, async (_req, reply) => send(reply, 'text/css; charset=utf-8', STATUS_CSS));
}
