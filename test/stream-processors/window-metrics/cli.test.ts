import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../lib/runtime/errors.js';
import { loadConfig } from '../../../lib/runtime/config.js';
import { parseArgs, runCli } from '../../../stream-processors/window-metrics/cli.js';
import type { ClickHouse } from '../../../lib/runtime/clickhouse/client.js';

describe('reference CLI arguments', () => {
  it('parses commands and --flag value / --flag=value', () => {
    expect(parseArgs(['reference', 'build', '--model', 'm', '--version=v1', '--file', 'a.csv'])).toEqual({
      command: ['reference', 'build'],
      flags: { model: 'm', version: 'v1', file: 'a.csv' },
    });
    expect(() => parseArgs(['reference', 'build', '--model'])).toThrow(InvalidRequestError);
  });

  it('rejects unknown commands, missing flags and bad values before touching ClickHouse', async () => {
    const ch = {} as ClickHouse; // never reached: every case fails validation first
    const config = loadConfig({});
    await expect(runCli(['nope'], ch, config)).rejects.toThrow(/usage/);
    await expect(runCli(['reference', 'drop'], ch, config)).rejects.toThrow(/unknown command 'reference drop'/);
    await expect(runCli(['reference', 'build', '--model', 'm'], ch, config)).rejects.toThrow(/missing --version, --file/);
    await expect(runCli(['reference', 'build', '--model', 'm', '--version', 'v', '--file', 'x', '--format', 'xml'], ch, config)).rejects.toThrow(
      /--format must be csv or jsonl/,
    );
    await expect(
      runCli(['reference', 'from-range', '--model', 'm', '--version', 'v', '--from', 'yesterday', '--to', '2026-01-01'], ch, config),
    ).rejects.toThrow(/not an ISO 8601 time/);
  });
});
