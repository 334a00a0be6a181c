/**
 * The only module that reads `process.env` (the kafkajs `src/env.js` rule): everything else receives
 * a validated, frozen Config. `configFromEnv()` is cached so a process validates once, at startup.
 */
import { loadConfig, type Config } from './config.js';

let cached: Config | undefined;

export function configFromEnv(overrides: Readonly<Record<string, string | undefined>> = {}): Config {
  if (!cached || Object.keys(overrides).length > 0) {
    const cfg = loadConfig({ ...process.env, ...overrides });
    if (Object.keys(overrides).length > 0) return cfg;
    cached = cfg;
  }
  return cached;
}

/** Read-only view of the raw environment for infrastructure scripts that must pass it on to children. */
export function rawEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
