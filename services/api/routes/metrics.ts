/**
 * `GET /metrics`: this process's Prometheus registry (lib/runtime/metrics.ts) in the text exposition
 * format 0.0.4. Processors expose the same metric names on their own METRICS_PORT; Prometheus
 * scrapes each process and the `component` label tells them apart, so the API does not re-export
 * other processes' samples (which would double-count them).
 */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../options.js';
import { noQuery } from './health.js';

export default async function metricsRoutes(fastify: FastifyInstance, opts: { deps: ApiDeps }): Promise<void> {
  const { registry } = opts.deps.metrics;
  fastify.get('/metrics', {
    config: { access: 'public' },
    schema: {
      tags: ['metrics'],
      summary: 'Prometheus metrics of the API process (text exposition format)',
      querystring: noQuery,
      produces: ['text/plain'],
      response: { 200: { type: 'string', description: 'Prometheus text format 0.0.4' } },
    },
    handler: async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  });
}
