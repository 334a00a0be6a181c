/**
 * Command line for reference profiles:
 *
 *   node --import tsx stream-processors/window-metrics/cli.ts reference build --model M --version V --file data.csv
 *        [--format csv|jsonl] [--categorical col,col] [--exclude col,col] [--source text]
 *   node --import tsx stream-processors/window-metrics/cli.ts reference from-range --model M --version V --from ISO --to ISO
 *   node --import tsx stream-processors/window-metrics/cli.ts reference list [--model M]
 *
 * Reads the same configuration as the processor (ClickHouse settings; KPI definitions and the
 * positive label from DW_CONFIG_FILE, so KPI baselines match what the processor computes). Prints one
 * JSON document on stdout; exits 2 on a usage error, 1 on any other failure (with the error code).
 */
import { pathToFileURL } from 'node:url';
import type { ClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { openClickHouse } from '../../lib/runtime/clickhouse/client.js';
import { migrate } from '../../lib/runtime/clickhouse/migrations.js';
import type { Config } from '../../lib/runtime/config.js';
import { configFromEnv } from '../../lib/runtime/env.js';
import { InvalidRequestError, isDriftwatchError } from '../../lib/runtime/errors.js';
import { buildAndStoreReferenceProfile, buildReferenceFromTimeRange, listProfiles } from '../../lib/reference/store.js';
import { parseMonitoringConfig, performanceFor } from './config.js';

export const USAGE = `usage:
  cli.ts reference build --model M --version V --file PATH [--format csv|jsonl] [--categorical a,b] [--exclude a,b] [--source TEXT]
  cli.ts reference from-range --model M --version V --from ISO8601 --to ISO8601
  cli.ts reference list [--model M]`;

export function parseArgs(argv: readonly string[]): { command: string[]; flags: Record<string, string> } {
  const command: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) throw new InvalidRequestError(`--${a.slice(2)} needs a value\n${USAGE}`);
        flags[a.slice(2)] = v;
        i++;
      }
    } else command.push(a);
  }
  return { command, flags };
}

function required(flags: Record<string, string>, ...names: string[]): void {
  const missing = names.filter((n) => !flags[n]);
  if (missing.length > 0) throw new InvalidRequestError(`missing ${missing.map((m) => `--${m}`).join(', ')}\n${USAGE}`);
}

function time(flag: string, v: string): number {
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new InvalidRequestError(`--${flag}: not an ISO 8601 time: ${v}`);
  return t;
}

const list = (v: string | undefined) =>
  v
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

/** Runs one CLI command against an open ClickHouse; returns the JSON-able result. */
export async function runCli(argv: readonly string[], ch: ClickHouse, config: Config): Promise<unknown> {
  const { command, flags } = parseArgs(argv);
  const [group, action] = command;
  if (group !== 'reference' || !action) throw new InvalidRequestError(USAGE);
  const monitoring = parseMonitoringConfig(config.sections);
  if (action === 'build') {
    required(flags, 'model', 'version', 'file');
    const format = flags.format;
    if (format !== undefined && format !== 'csv' && format !== 'jsonl') throw new InvalidRequestError(`--format must be csv or jsonl, got ${format}`);
    const categorical = list(flags.categorical);
    const exclude = list(flags.exclude);
    return buildAndStoreReferenceProfile(ch, {
      model: flags.model!,
      version: flags.version!,
      file: flags.file!,
      ...(format ? { format } : {}),
      ...(flags.source ? { source: flags.source } : {}),
      read: { ...(categorical ? { categorical } : {}), ...(exclude ? { exclude } : {}) },
      kpis: monitoring.kpis,
      performance: performanceFor(monitoring, flags.model!),
    });
  }
  if (action === 'from-range') {
    required(flags, 'model', 'version', 'from', 'to');
    return buildReferenceFromTimeRange(ch, {
      model: flags.model!,
      version: flags.version!,
      from: time('from', flags.from!),
      to: time('to', flags.to!),
      kpis: monitoring.kpis,
      performance: performanceFor(monitoring, flags.model!),
    });
  }
  if (action === 'list') return listProfiles(ch, flags.model);
  throw new InvalidRequestError(`unknown command 'reference ${action}'\n${USAGE}`);
}

async function main(): Promise<void> {
  const config = configFromEnv();
  const ch = await openClickHouse(config.settings);
  try {
    await migrate(ch, config.settings);
    const result = await runCli(process.argv.slice(2), ch, config);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await ch.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    const usage = err instanceof InvalidRequestError;
    process.stderr.write(`${isDriftwatchError(err) ? `${err.code}: ${err.message}` : String((err as Error)?.stack ?? err)}\n`);
    process.exit(usage ? 2 : 1);
  });
}
