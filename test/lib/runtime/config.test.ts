import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, renderEnvExample, SETTINGS, describeSettings } from '../../../lib/runtime/config.js';
import { ConfigInvalidError } from '../../../lib/runtime/errors.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigInvalidError);
    return [...(err as ConfigInvalidError).problems];
  }
  throw new Error('expected the config to be rejected');
}

describe('loadConfig', () => {
  it('applies defaults and parses types', () => {
    const cfg = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', API_PORT: '9000' });
    expect(cfg.settings.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(cfg.settings.API_PORT).toBe(9000);
    expect(cfg.settings.WINDOW_SIZE_MS).toBe(300_000);
    expect(cfg.settings.CLICKHOUSE_URL).toBeUndefined();
  });

  it('is deep-frozen', () => {
    const cfg = loadConfig({});
    expect(Object.isFrozen(cfg.settings)).toBe(true);
    expect(Object.isFrozen(cfg.settings.KAFKA_BROKERS)).toBe(true);
    expect(() => ((cfg.settings as { API_PORT: number }).API_PORT = 1)).toThrow(TypeError);
  });

  it('lists every problem at once, not only the first', () => {
    const problems = problemsOf({ API_PORT: 'eighty', LOG_LEVEL: 'loud', CLICKHOUSE_URL: 'ftp://x', INGEST_BATCH_MAX_ROWS: '0' });
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/API_PORT: expected an integer/);
    expect(problems.join('\n')).toMatch(/LOG_LEVEL: expected one of/);
    expect(problems.join('\n')).toMatch(/CLICKHOUSE_URL: expected an http\(s\) URL/);
    expect(problems.join('\n')).toMatch(/INGEST_BATCH_MAX_ROWS: 0 is below the minimum 1/);
  });

  it('checks rules across fields (heartbeat below session timeout; label delay not shorter than the watermark delay)', () => {
    const problems = problemsOf({
      KAFKA_HEARTBEAT_INTERVAL_MS: '40000',
      KAFKA_SESSION_TIMEOUT_MS: '30000',
      JOIN_MAX_LABEL_DELAY_MS: '1000',
      JOIN_WATERMARK_DELAY_MS: '5000',
    });
    expect(problems).toEqual([expect.stringMatching(/HEARTBEAT.*below.*SESSION/), expect.stringMatching(/JOIN_MAX_LABEL_DELAY_MS.*JOIN_WATERMARK_DELAY_MS/)]);
  });

  it('never echoes secrets in problems', () => {
    const problems = problemsOf({ API_WRITE_TOKENS: 'x', CLICKHOUSE_URL: 'nope', API_PORT: '-1' });
    expect(problems.join(' ')).not.toContain('x,');
    expect(describeSettings(loadConfig({ API_WRITE_TOKENS: 'supersecret' }).settings).API_WRITE_TOKENS).toBe('<redacted>');
  });

  it('reads a YAML file: flat keys, structured sections; environment wins over the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-cfg-'));
    const file = join(dir, 'driftwatch.yaml');
    writeFileSync(file, 'API_PORT: 7000\nWINDOW_SIZE_MS: 60000\nmodels:\n  - name: credit-risk\n');
    const cfg = loadConfig({ DW_CONFIG_FILE: file, API_PORT: '7100' });
    expect(cfg.settings.API_PORT).toBe(7100);
    expect(cfg.settings.WINDOW_SIZE_MS).toBe(60000);
    expect(cfg.sections.models).toEqual([{ name: 'credit-risk' }]);
  });

  it('rejects unknown upper-case keys and unreadable files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'API_PORTT: 7000\n');
    expect(problemsOf({ DW_CONFIG_FILE: file })).toEqual([expect.stringMatching(/API_PORTT: unknown setting/)]);
    expect(problemsOf({ DW_CONFIG_FILE: join(dir, 'missing.yaml') })).toEqual([expect.stringMatching(/cannot read/)]);
  });
});

describe('.env.example', () => {
  it('lists every setting and is what scripts/gen-env-example.ts generates', () => {
    const committed = readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    expect(committed).toBe(renderEnvExample());
    for (const key of Object.keys(SETTINGS)) expect(committed).toMatch(new RegExp(`^(# )?${key}=`, 'm'));
  });
});
