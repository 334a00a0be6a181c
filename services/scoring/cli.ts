/**
 * Model registry CLI (the same operations as the HTTP routes, straight against MODEL_DIR and
 * ClickHouse; running scorers pick changes up on their next poll, SCORING_MODEL_POLL_MS).
 *
 *   npx tsx services/scoring/cli.ts register <name> --dir models/credit-risk/1 [--version 1] [--promote champion|challenger]
 *   npx tsx services/scoring/cli.ts register <name> --onnx model.onnx --metadata metadata.json [--version v] [--promote ...]
 *   npx tsx services/scoring/cli.ts promote <name> <version> [--role champion|challenger] [--reason text]
 *   npx tsx services/scoring/cli.ts rollback <name> [--reason text]
 *   npx tsx services/scoring/cli.ts clear-challenger <name>
 *   npx tsx services/scoring/cli.ts list [<name>]
 *
 * Prints one JSON document on stdout. Exit codes: 0 ok, 1 failure (message and code on stderr),
 * 64 usage error. With the embedded engine (no CLICKHOUSE_URL) the CLI needs the data directory to
 * itself: point CLICKHOUSE_URL at the shared server (chdb-http) while a scorer is running.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { configFromEnv } from '../../lib/runtime/env.js';
import { isDriftwatchError } from '../../lib/runtime/errors.js';
import { openClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../lib/runtime/clickhouse/migrations.js';
import { createModelRegistry, type ModelRegistry } from './model-registry.js';
import { ROLES, type Role } from './promotions.js';

export const USAGE = `usage:
  cli.ts register <name> (--dir <version dir> | --onnx <file> --metadata <file>) [--version <v>] [--promote champion|challenger] [--reason <text>]
  cli.ts promote <name> <version> [--role champion|challenger] [--reason <text>]
  cli.ts rollback <name> [--reason <text>]
  cli.ts clear-challenger <name>
  cli.ts list [<name>]`;

export class UsageError extends Error {}

function role(value: string | undefined, fallback: Role | undefined): Role | undefined {
  if (value === undefined) return fallback;
  if (!ROLES.includes(value as Role)) throw new UsageError(`--role/--promote must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

/** Runs one CLI command against a registry; returns the JSON result. */
export async function runCli(argv: readonly string[], registry: ModelRegistry, actor = `cli:${process.env.USER ?? 'unknown'}`): Promise<unknown> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      onnx: { type: 'string' },
      metadata: { type: 'string' },
      version: { type: 'string' },
      promote: { type: 'string' },
      role: { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const [command, name, version] = positionals;
  const info = { actor, reason: values.reason ?? `${command} by CLI` };
  switch (command) {
    case 'register': {
      if (!name) throw new UsageError('register needs a model name');
      const onnxPath = values.dir ? join(values.dir, 'model.onnx') : values.onnx;
      const metaPath = values.dir ? join(values.dir, 'metadata.json') : values.metadata;
      if (!onnxPath || !metaPath) throw new UsageError('register needs --dir, or --onnx and --metadata');
      const onnx = await readFile(onnxPath);
      const metadata = JSON.parse(await readFile(metaPath, 'utf8')) as unknown;
      const v = values.version ?? (values.dir ? basename(values.dir) : undefined);
      const promoteTo = role(values.promote, undefined);
      const r = await registry.register(name, { onnx, metadata, ...(v ? { version: v } : {}), ...(promoteTo ? { promoteTo } : {}), ...info });
      return {
        registered: { name, version: r.version.version, sha256: r.version.sha256, path: r.version.path },
        champion: r.assignment.champion,
        challenger: r.assignment.challenger,
      };
    }
    case 'promote': {
      if (!name || !version) throw new UsageError('promote needs <name> <version>');
      return { name, ...(await registry.promote(name, version, role(values.role, 'champion')!, info)) };
    }
    case 'rollback': {
      if (!name) throw new UsageError('rollback needs <name>');
      return { name, ...(await registry.rollback(name, info)) };
    }
    case 'clear-challenger': {
      if (!name) throw new UsageError('clear-challenger needs <name>');
      return { name, ...(await registry.clearChallenger(name, info)) };
    }
    case 'list': {
      if (!name) return { models: await registry.listModels() };
      const [versions, assignment] = await Promise.all([registry.listVersions(name), registry.assignment(name)]);
      return {
        name,
        ...assignment,
        versions: versions.map((v) => ({ version: v.version, registered_at: new Date(v.registeredAt).toISOString(), sha256: v.sha256, task: v.task })),
      };
    }
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'no command');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const settings = configFromEnv().settings;
  const ch = await openClickHouse(settings);
  let code = 0;
  try {
    await migrate(ch, settings);
    const result = await runCli(process.argv.slice(2), createModelRegistry(ch, { modelDir: settings.MODEL_DIR, intraOpThreads: settings.SCORING_ORT_THREADS }));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
      code = 64;
    } else {
      process.stderr.write(`${JSON.stringify(isDriftwatchError(err) ? err.toJSON() : { message: (err as Error).message })}\n`);
      code = 1;
    }
  } finally {
    await ch.close();
  }
  process.exit(code);
}
