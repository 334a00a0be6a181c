/**
 * Spawns the real main-job process with a bad configuration: it must exit non-zero (78) before
 * touching any service, listing every problem.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('main job with a bad configuration', () => {
  it('exits 78 and lists every problem', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'services/launcher/main.ts'], {
      env: { ...process.env, API_PORT: 'http', WINDOW_SIZE_MS: '10', LOG_LEVEL: 'chatty', JOIN_MAX_LABEL_DELAY_MS: 'soon' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/invalid configuration \(4 problems\)/);
    for (const key of ['API_PORT', 'WINDOW_SIZE_MS', 'LOG_LEVEL', 'JOIN_MAX_LABEL_DELAY_MS']) expect(r.stderr).toContain(`- ${key}:`);
  });
});
