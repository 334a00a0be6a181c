/**
 * docker compose cannot run on this machine (no Docker engine), so this test checks what compose
 * would need, from the file alone:
 * - every component the launcher runs has a service, and every command is an entry file the image holds;
 * - every published container port is a port that service listens on (its *_PORT setting or the
 *   image's default), on an address reachable from outside the container;
 * - every host:port named in a setting (kafka:9092, http://schema-registry:8080, …) is a compose
 *   service and one of its ports; the broker advertises, per listener, an address that reaches it;
 * - every setting a driftwatch service reads validates with the service's environment, and every
 *   setting whose default only works outside a container is set; every ${VAR} has a default;
 * - every mounted file exists, every file a setting names exists, and Grafana's provisioning finds
 *   every variable it interpolates.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, SETTINGS, type SettingKey } from '../lib/runtime/config.js';
import { COMPONENTS } from '../services/launcher/components.js';

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const root = new URL('../', import.meta.url);
const composeText = readFileSync(new URL('docker-compose.yml', root), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const driftwatch = Object.entries(services).filter(([, s]) => s.build === '.');
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');

/** Every string value in a parsed YAML document (comments are gone: they are not interpolated). */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === 'object') return Object.values(node).flatMap(strings);
  return [];
}

/** `${VAR:-default}` / `${VAR-default}` as compose resolves them with nothing set in the shell. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Za-z0-9_]+)(?::?-([^}]*))?\}/g, (_, _name: string, def: string | undefined) => def ?? '');
}

function envOf(s: Service): Record<string, string> {
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
}

/** The value a driftwatch process sees: its environment, else the setting's default. */
function setting(s: Service, key: SettingKey): string | undefined {
  const v = envOf(s)[key];
  if (v !== undefined) return v;
  const def = (SETTINGS[key] as { default?: unknown }).default;
  return def === undefined ? undefined : String(def);
}

/**
 * Which settings a driftwatch entry listens on (host, port), read off its main: services/api/main.ts
 * listens on API_HOST:API_PORT, services/scoring/main.ts on SCORING_HTTP_HOST:SCORING_HTTP_PORT.
 * Every process may also open a /metrics listener on METRICS_PORT, which lib/runtime/metrics.ts
 * binds to 127.0.0.1 (reachable only inside its container).
 */
const LISTENERS: Record<string, { host: SettingKey; port: SettingKey }> = {
  'services/api/main.ts': { host: 'API_HOST', port: 'API_PORT' },
  'services/scoring/main.ts': { host: 'SCORING_HTTP_HOST', port: 'SCORING_HTTP_PORT' },
};

/** Ports of the third-party images when their environment does not move them. */
const IMAGE_PORTS: Record<string, (env: Record<string, string>) => number[]> = {
  // KAFKA_LISTENERS is required by the apache/kafka image; each listener names its port.
  'apache/kafka': (env) => [...(env.KAFKA_LISTENERS ?? '').matchAll(/:\/\/[^:,]*:(\d+)/g)].map((m) => Number(m[1])),
  // Apicurio Registry 3.x is a Quarkus application: HTTP on quarkus.http.port, 8080 by default.
  'apicurio/apicurio-registry': (env) => [Number(env.QUARKUS_HTTP_PORT ?? 8080)],
  // clickhouse-server's default config.xml: http_port 8123, tcp_port 9000.
  'clickhouse/clickhouse-server': () => [8123, 9000],
  'grafana/grafana': (env) => [Number(env.GF_SERVER_HTTP_PORT ?? 3000)],
};

interface Listening {
  readonly port: number;
  /** Reachable from other containers and through a published port (not bound to loopback). */
  readonly external: boolean;
}

function listening(name: string): Listening[] {
  const s = services[name]!;
  const env = envOf(s);
  if (s.build === '.') {
    const out: Listening[] = [];
    const l = LISTENERS[s.command![0]!];
    if (l) out.push({ port: Number(setting(s, l.port)), external: !['127.0.0.1', 'localhost', '::1'].includes(setting(s, l.host)!) });
    const metrics = Number(setting(s, 'METRICS_PORT'));
    if (metrics > 0) out.push({ port: metrics, external: false });
    return out;
  }
  const image = Object.keys(IMAGE_PORTS).find((i) => s.image?.startsWith(`${i}:`));
  if (!image) throw new Error(`${name}: image ${s.image} has no entry in IMAGE_PORTS; add the ports it listens on`);
  return IMAGE_PORTS[image]!(env).map((port) => ({ port, external: true }));
}

/** Published ports as [host port, container port]. */
function published(s: Service): Array<[number, number]> {
  return (s.ports ?? []).map((p) => {
    const parts = p.split(':');
    return [Number(parts.at(-2)), Number(parts.at(-1))];
  });
}

/** host:port pairs named in a string (URLs, broker lists, `1@kafka:9093`, CLI arguments). */
function hostPorts(value: string): Array<{ host: string; port: number }> {
  return [...value.matchAll(/(?:^|[\s,=@]|\/\/)([A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})(?!\d)/g)].map((m) => ({ host: m[1]!, port: Number(m[2]) }));
}

const LOOPBACK = new Set(['localhost', '127.0.0.1']);

/** Where a path inside the container comes from on this machine: a bind mount, or a folder the image copies. */
function hostPathOf(s: Service, containerPath: string): string | 'volume' | undefined {
  for (const v of s.volumes ?? []) {
    const [src, target] = v.split(':');
    if (!containerPath.startsWith(`${target}/`) && containerPath !== target) continue;
    if (!src!.startsWith('./')) return 'volume';
    return `${src}${containerPath.slice(target!.length)}`;
  }
  for (const m of dockerfile.matchAll(/^COPY (?!--from)(\S+) (\S+)$/gm)) {
    const target = m[2]!.replace(/^\.\//, '/app/').replace(/\/$/, '');
    if (containerPath === target || containerPath.startsWith(`${target}/`)) return `./${m[1]}${containerPath.slice(target.length)}`;
  }
  return undefined;
}

describe('docker-compose.yml', () => {
  it('runs Kafka, a schema registry, ClickHouse, Grafana and every component the launcher runs, with the same entry', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['kafka', 'schema-registry', 'clickhouse', 'grafana']));
    for (const c of COMPONENTS) {
      expect(services[c.name], `${c.name} (services/launcher/components.ts) has no compose service`).toBeDefined();
      expect(services[c.name]!.command?.[0], c.name).toBe(c.entry);
    }
  });

  it('keeps the demo traffic out of a plain `up`: the simulator and its bootstrap are in the demo profile, and nothing else depends on them', () => {
    expect(services.simulator!.profiles).toEqual(['demo']);
    expect(services['demo-bootstrap']!.profiles).toEqual(['demo']);
    expect(services.simulator!.depends_on?.['demo-bootstrap']).toEqual({ condition: 'service_completed_successfully' });
    // A one-shot must not be restarted after it succeeded.
    expect(services['demo-bootstrap']!.restart).not.toMatch(/always|unless-stopped/);
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (services[dep]!.profiles && !s.profiles)
          throw new Error(`${name} (no profile) depends on ${dep}, which only runs in profile ${services[dep]!.profiles}`);
      }
    }
  });

  it('points every driftwatch command at an entry file that exists and that the image copies', () => {
    expect(driftwatch.length).toBeGreaterThanOrEqual(COMPONENTS.length + 1);
    for (const [name, s] of driftwatch) {
      const entry = s.command?.[0];
      expect(entry, name).toBeDefined();
      expect(existsSync(new URL(entry!, root)), `${name}: ${entry}`).toBe(true);
      expect(hostPathOf({}, `/app/${entry}`), `${name}: the Dockerfile does not copy ${entry}`).toBe(`./${entry}`);
    }
  });

  it('sets only environment variables that driftwatch reads (settings, and the simulator its SIM_* flags)', () => {
    const simulatorReads = new Set([...readFileSync(new URL('services/simulator/main.ts', root), 'utf8').matchAll(/env\.(SIM_[A-Z_]+)/g)].map((m) => m[1]!));
    expect(simulatorReads.size).toBeGreaterThan(0);
    for (const [name, s] of driftwatch) {
      for (const key of Object.keys(s.environment ?? {})) {
        if (name === 'simulator' && simulatorReads.has(key)) continue;
        expect(Object.keys(SETTINGS), `${name}: ${key}`).toContain(key);
      }
    }
  });

  it('gives every ${VAR} a default, so `docker compose up` needs no .env', () => {
    const refs = strings(compose).flatMap((v) => [...v.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!));
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(r, `\${${r}} has no default`).toMatch(/^[A-Za-z0-9_]+:?-/);
  });

  it("validates every driftwatch service's settings (none required is missing, every value parses)", () => {
    for (const [name, s] of driftwatch) {
      const env = envOf(s);
      // The YAML file the service reads, at its path on this machine (through the mount).
      if (env.DW_CONFIG_FILE) {
        const host = hostPathOf(s, env.DW_CONFIG_FILE);
        expect(host, `${name}: DW_CONFIG_FILE ${env.DW_CONFIG_FILE} is not mounted`).toMatch(/^\.\//);
        env.DW_CONFIG_FILE = new URL(host as string, root).pathname;
      }
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('sets every setting whose default only works outside a container, in every driftwatch service', () => {
    // Defaults on loopback name the host's local stack; in a container loopback is the container.
    // CLICKHOUSE_URL unset means a private embedded engine per container (data split across them),
    // and relative paths (.local/…) are inside the image, not on a volume the services share.
    const loopbackDefaults = (Object.keys(SETTINGS) as SettingKey[]).filter((k) =>
      /127\.0\.0\.1|localhost/.test(String((SETTINGS[k] as { default?: unknown }).default ?? '')),
    );
    const listenHosts = new Set(Object.values(LISTENERS).map((l) => l.host));
    const clients = loopbackDefaults.filter((k) => !listenHosts.has(k));
    expect(clients).toEqual(expect.arrayContaining(['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL']));
    for (const [name, s] of driftwatch) {
      const env = envOf(s);
      for (const k of [...clients, 'CLICKHOUSE_URL']) expect(env[k], `${name}: ${k} must be set`).toBeDefined();
      for (const [k, spec] of Object.entries(SETTINGS) as Array<[SettingKey, { default?: unknown }]>) {
        if (!String(spec.default ?? '').startsWith('.local/')) continue;
        if (k === 'CLICKHOUSE_DATA_DIR' && env.CLICKHOUSE_URL) continue; // unused with a server
        expect(env[k], `${name}: ${k} (default ${String(spec.default)}) must be set`).toBeDefined();
        expect(hostPathOf(s, env[k]!), `${name}: ${k}=${env[k]} must be on a volume the services share`).toBe('volume');
      }
    }
  });

  it('publishes only container ports the service listens on, on an address reachable from outside the container', () => {
    for (const [name, s] of Object.entries(services)) {
      const ports = listening(name);
      for (const [hostPort, containerPort] of published(s)) {
        const l = ports.find((p) => p.port === containerPort);
        expect(l, `${name}: publishes ${hostPort}:${containerPort} but listens on ${ports.map((p) => p.port).join(', ') || 'nothing'}`).toBeDefined();
        expect(l!.external, `${name}: port ${containerPort} is bound to loopback inside the container`).toBe(true);
      }
    }
    // Driftwatch listeners are read off their mains: the settings in LISTENERS are the ones they use.
    for (const [entry, l] of Object.entries(LISTENERS)) {
      const src = readFileSync(new URL(entry, root), 'utf8');
      expect(src, entry).toContain(`s.${l.host}`);
      expect(src, entry).toContain(`s.${l.port}`);
    }
  });

  it('names, in every setting and health check, a compose service and a port it listens on', () => {
    let checked = 0;
    for (const [name, s] of Object.entries(services)) {
      const env = envOf(s);
      const values = Object.entries(env).filter(([k]) => k !== 'KAFKA_ADVERTISED_LISTENERS');
      for (const [key, value] of values) {
        for (const { host, port } of hostPorts(value)) {
          checked++;
          const where = `${name}: ${key}=${value}`;
          expect(LOOPBACK.has(host), `${where}: loopback in a container is the container itself`).toBe(false);
          expect(services[host], `${where}: ${host} is not a compose service`).toBeDefined();
          expect(
            listening(host).map((p) => p.port),
            `${where}: ${host} does not listen on ${port}`,
          ).toContain(port);
        }
        // URLs without a port: only placeholders on the reserved .invalid domain (set them for real use).
        for (const m of value.matchAll(/https?:\/\/([A-Za-z0-9.-]+)(?=\/|$)/g)) expect(m[1], `${name}: ${key}=${value}`).toMatch(/\.invalid$/);
        // HOST + PORT pairs (Grafana's datasource variables); 0.0.0.0 is a listen address (API_HOST).
        const pairedPort = key.endsWith('_HOST') ? env[`${key.slice(0, -5)}_PORT`] : undefined;
        if (pairedPort && value !== '0.0.0.0') {
          checked++;
          expect(services[value], `${name}: ${key}=${value} is not a compose service`).toBeDefined();
          expect(
            listening(value).map((p) => p.port),
            `${name}: ${key}=${value}`,
          ).toContain(Number(pairedPort));
        }
      }
      // A health check runs inside the container: loopback there must be one of its own ports.
      for (const { host, port } of hostPorts((s.healthcheck?.test ?? []).join(' '))) {
        checked++;
        expect(LOOPBACK.has(host) ? name : host, `${name}: health check`).toBe(name);
        expect(
          listening(name).map((p) => p.port),
          `${name}: health check port ${port}`,
        ).toContain(port);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('has Kafka advertise, per listener, an address that reaches that listener (inside: kafka:9092; host: the published port)', () => {
    const env = envOf(services.kafka!);
    const listeners = new Map([...env.KAFKA_LISTENERS!.matchAll(/([A-Z_]+):\/\/[^:,]*:(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
    const advertised = [...env.KAFKA_ADVERTISED_LISTENERS!.matchAll(/([A-Z_]+):\/\/([^:,]+):(\d+)/g)].map((m) => ({
      name: m[1]!,
      host: m[2]!,
      port: Number(m[3]),
    }));
    expect(advertised.map((a) => a.name).sort()).toEqual(['EXTERNAL', 'PLAINTEXT']);
    for (const a of advertised) {
      const containerPort = listeners.get(a.name);
      expect(containerPort, `${a.name} is advertised but not a listener`).toBeDefined();
      expect(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toContain(`${a.name}:`);
      if (LOOPBACK.has(a.host)) {
        // For clients on the host: the advertised port is published, onto this listener's port.
        expect(published(services.kafka!), `${a.name}: ${a.host}:${a.port} is not published onto ${containerPort}`).toContainEqual([a.port, containerPort]);
      } else {
        expect(a.host).toBe('kafka');
        expect(a.port).toBe(containerPort);
      }
    }
    // Driftwatch services use the internal listener; host clients (KAFKA_BROKERS' default) the external one.
    for (const [name, s] of driftwatch) expect(envOf(s).KAFKA_BROKERS, name).toBe(`kafka:${listeners.get('PLAINTEXT')}`);
    expect(String(SETTINGS.KAFKA_BROKERS.default)).toBe(`127.0.0.1:${advertised.find((a) => a.name === 'EXTERNAL')!.port}`);
  });

  it('mounts files and folders that exist (Grafana provisioning from dashboards/ and alert-rules/), and names files that exist', () => {
    const mounts = Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .filter((v) => v.startsWith('./'));
    expect(mounts.some((m) => m.startsWith('./alert-rules:/etc/grafana/provisioning/alerting'))).toBe(true);
    expect(mounts.some((m) => m.startsWith('./dashboards/'))).toBe(true);
    for (const m of mounts) expect(existsSync(new URL(m.split(':')[0]!, root)), m).toBe(true);
    const named = Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .filter((v) => !v.startsWith('./') && !v.startsWith('/'))
      .map((v) => v.split(':')[0]!);
    for (const v of named) expect(Object.keys(compose.volumes ?? {}), `volume ${v}`).toContain(v);
    // Absolute paths in settings (config files, scenarios) resolve through a mount or the image.
    for (const [name, s] of driftwatch) {
      for (const [key, value] of Object.entries(envOf(s))) {
        if (!value.startsWith('/')) continue;
        const host = hostPathOf(s, value);
        expect(host, `${name}: ${key}=${value} is neither mounted nor in the image`).toBeDefined();
        if (host !== 'volume') expect(existsSync(new URL(host!, root)), `${name}: ${key}=${value} -> ${host}`).toBe(true);
      }
    }
  });

  it("sets every variable Grafana's provisioning files interpolate", () => {
    const grafana = services.grafana!;
    const env = envOf(grafana);
    let refs = 0;
    for (const v of grafana.volumes ?? []) {
      const [src, target] = v.split(':');
      if (!target!.startsWith('/etc/grafana/provisioning/')) continue;
      const dir = new URL(`${src}/`, root);
      for (const file of ['clickhouse.yaml', 'contact-points.yaml', 'policies.yaml', 'rules.yaml', 'dashboards.yaml'].filter((f) =>
        existsSync(new URL(f, dir)),
      )) {
        const values = strings(parse(readFileSync(new URL(file, dir), 'utf8')));
        for (const m of values.flatMap((v) => [...v.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)])) {
          refs++;
          expect(env[m[1]!], `${src}/${file}: \${${m[1]}}`).toBeTruthy();
        }
      }
    }
    expect(refs).toBeGreaterThanOrEqual(6);
  });

  it('publishes each host port once', () => {
    const hostPorts = Object.values(services).flatMap((s) => published(s).map(([h]) => h));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });
});

describe('Dockerfile', () => {
  it('builds on a current Node LTS and copies folders that exist', () => {
    expect(dockerfile).toMatch(/FROM node:(2[2-9]|[3-9]\d)/);
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(new URL(src, root)), src).toBe(true);
    }
  });

  it('installs exactly the lock (npm ci, no unpinned extra install) and runs through the locked tsx', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const runs = [...dockerfile.matchAll(/^RUN (.+)$/gm)].map((m) => m[1]!);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    for (const r of runs) expect(r, 'an npm install beside npm ci resolves outside the lock').not.toMatch(/\bnpm (install|i|add)\b/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "--import", "tsx"\]/);
    const tsx = pkg.dependencies.tsx ?? pkg.devDependencies.tsx;
    expect(tsx, 'tsx must be a (dev)dependency the lock pins').toMatch(/^\d+\.\d+\.\d+$/);
    // A devDependency is only in the image when dev dependencies are not omitted.
    if (!pkg.dependencies.tsx) for (const r of runs.filter((x) => /\bnpm ci\b/.test(x))) expect(r).not.toMatch(/--omit[= ]dev|--production/);
  });
});
