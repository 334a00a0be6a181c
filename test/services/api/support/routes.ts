/** Every operation of the generated OpenAPI document, with its path parameters filled in. */
import type { FastifyInstance } from 'fastify';

export interface Operation {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly template: string;
  readonly url: string;
  readonly secured: boolean;
}

const SAMPLE_PARAMS: Record<string, string> = { model: 'credit-risk', version: '1', name: 'credit-risk', profile: 'latest' };

export async function operations(app: FastifyInstance): Promise<Operation[]> {
  const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const url = path.replace(/\{(\w+)\}/g, (_m, p: string) => SAMPLE_PARAMS[p] ?? 'x');
      out.push({ method: method.toUpperCase() as Operation['method'], template: path, url, secured: Array.isArray(op.security) && op.security.length > 0 });
    }
  }
  return out;
}
