/**
 * Request counters and latency for the API itself, in the shared registry (lib/runtime/metrics.ts).
 * The route label is the route pattern (`/v1/models/:model`), or `unmatched` for 404s, never the raw
 * URL: a label per distinct URL would let any client grow the registry without bound.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../../../lib/runtime/metrics.js';
import { appPlugin } from './shared.js';

export default appPlugin(async function httpMetrics(fastify: FastifyInstance, opts: { metrics: Metrics }) {
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    opts.metrics.httpRequests.inc({ method, route, status_code: String(reply.statusCode) });
    opts.metrics.httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
  });
}, 'driftwatch-http-metrics');
