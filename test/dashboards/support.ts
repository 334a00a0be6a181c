/**
 * What the structural tests read: the provisioning files as they are on disk (what Grafana loads),
 * and the environment Grafana gets from docker-compose.yml (its `${VAR:-default}` defaults, as
 * `docker compose up` without a .env would resolve them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = new URL('../../', import.meta.url).pathname;

export function yamlFiles(dir: string): Array<{ name: string; doc: unknown }> {
  return readdirSync(join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, doc: parse(readFileSync(join(ROOT, dir, f), 'utf8')) as unknown }));
}

export function dashboardFiles(): Array<{ name: string; json: Record<string, unknown> }> {
  return readdirSync(join(ROOT, 'dashboards/json'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, json: JSON.parse(readFileSync(join(ROOT, 'dashboards/json', f), 'utf8')) as Record<string, unknown> }));
}

interface ComposeService {
  environment?: Record<string, string | number>;
  volumes?: string[];
}

export function composeGrafana(): ComposeService {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const g = compose.services.grafana;
  if (!g) throw new Error('docker-compose.yml has no grafana service');
  return g;
}

/** docker compose interpolation of `${VAR:-default}` / `${VAR-default}` / `${VAR}` with the host env empty. */
export function composeValue(v: string | number): string {
  return String(v).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_m, _name: string, def?: string) => def ?? '');
}

/** The environment Grafana runs with under docker compose. */
export function grafanaEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(composeGrafana().environment ?? {}).map(([k, v]) => [k, composeValue(v)]));
}

/** Volume mounts of the grafana service: repository path -> container path. */
export function grafanaMounts(): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of composeGrafana().volumes ?? []) {
    const [src, dst] = v.split(':');
    if (src && dst && src.startsWith('./')) out.set(src.slice(2).replace(/\/$/, ''), dst);
  }
  return out;
}
