import { describe, expect, it } from 'vitest';
import { createReadinessRunner } from '../../../../services/api/lib/readiness.js';

const never = () => new Promise<void>(() => undefined);

describe('readiness runner', () => {
  it('reports each dependency, applies the deadline and passes an abort signal', async () => {
    let aborted = false;
    const failures: string[] = [];
    const run = createReadinessRunner(
      {
        kafka: async () => undefined,
        registry: async () => {
          throw new Error('HTTP 500');
        },
        clickhouse: (signal) => {
          signal.addEventListener('abort', () => (aborted = true));
          return never();
        },
      },
      50,
      (dep) => failures.push(dep),
    );
    const report = await run();
    expect(report.status).toBe('not_ready');
    expect(report.dependencies.kafka.status).toBe('up');
    expect(report.dependencies.registry).toMatchObject({ status: 'down', reason: 'error' });
    expect(report.dependencies.clickhouse).toMatchObject({ status: 'down', reason: 'timeout' });
    expect(aborted).toBe(true);
    expect(failures.sort()).toEqual(['clickhouse', 'registry']);
  });

  it('reuses a probe still in flight instead of starting another', async () => {
    let started = 0;
    let release: () => void = () => undefined;
    const slow = () => {
      started++;
      return new Promise<void>((r) => (release = r));
    };
    const run = createReadinessRunner({ kafka: slow, registry: async () => undefined, clickhouse: async () => undefined }, 1000, () => undefined);
    const a = run();
    const b = run();
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(started).toBe(1);
    expect(ra.status).toBe('ready');
    expect(rb.status).toBe('ready');
    await run();
    expect(started).toBe(2);
  });
});
