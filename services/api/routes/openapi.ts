/** `GET /openapi.json`: the OpenAPI document @fastify/swagger generates from the route schemas. */
import type { FastifyInstance } from 'fastify';

export default async function openapiRoutes(fastify: FastifyInstance): Promise<void> {
  fastify.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => fastify.swagger());
}
