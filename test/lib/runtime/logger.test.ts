/**
 * The launcher prints its "where to look" banner after logging that each component started. pino's
 * default destination is an asynchronous SonicBoom, whose fs.write calls run on libuv's thread pool;
 * when that pool is busy (chdb, crypto, fs), a direct process.stdout.write to a pipe is synchronous
 * on Linux and overtakes the queued log lines. These tests run a child process with a saturated
 * thread pool and read its stdout through a pipe, as the launcher's users and tests do.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);

function run(print: 'writeThroughLogger' | 'stdout'): string[] {
  const script = `
    import { pbkdf2 } from 'node:crypto';
    import { createLogger, writeThroughLogger } from './lib/runtime/logger.ts';
    const log = createLogger('order-test');
    // Keep all four default thread-pool workers busy so SonicBoom's async writes queue behind them.
    for (let i = 0; i < 4; i++) pbkdf2('x', 'y', 300000, 64, 'sha512', () => undefined);
    for (let i = 0; i < 20; i++) log.info('line ' + i);
    const banner = 'BANNER\\n';
    ${print === 'stdout' ? 'process.stdout.write(banner);' : 'writeThroughLogger(log, banner);'}
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, UV_THREADPOOL_SIZE: '4' },
  });
  return out.split('\n').filter(Boolean);
}

describe('writeThroughLogger', () => {
  it('keeps a banner after the log lines written before it, even with a busy thread pool', () => {
    const lines = run('writeThroughLogger');
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe('BANNER');
    expect(lines.slice(0, 20).map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i}`));
  });

  it('is needed: a direct process.stdout.write overtakes the queued log lines in the same setting', () => {
    const lines = run('stdout');
    expect(lines).toHaveLength(21);
    expect(lines.indexOf('BANNER')).toBeLessThan(20);
  });
});
