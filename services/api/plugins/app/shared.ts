/**
 * Marks a plugin as non-encapsulated, so the decorators and hooks it adds apply to the whole app.
 * This is exactly what the `fastify-plugin` package does (it sets the `skip-override` symbol that
 * avvio/fastify check in fastify 5.12 lib/plugin-utils.js `shouldSkipOverride`); doing it here saves a
 * runtime dependency for one line.
 */
import type { FastifyPluginAsync } from 'fastify';

export function appPlugin<T extends FastifyPluginAsync<never>>(fn: T, name: string): T {
  Object.assign(fn, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
  return fn;
}
