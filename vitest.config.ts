import { defineConfig } from 'vitest/config';

// One config for unit and integration tests. Integration tests live in test/integration/ and need
// the local stack (Kafka + schema registry), which `npm test` starts once per run; the global setup
// fails the run (never skips) when it is not reachable. Each test process owns its own embedded
// ClickHouse data directory (libchdb: one process per directory), hence pool 'forks'.
// The reliability suite (test/reliability, issue 13) runs as its own pass (DW_RELIABILITY=1):
// `npm test` (infra/test.sh) runs it after the rest, so its recovery-time scenarios do not compete
// with the other tests for the machine's cores; `npm run test:reliability` runs it alone.
const reliability = process.env.DW_RELIABILITY === '1';

export default defineConfig({
  test: {
    include: reliability ? ['test/reliability/**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: reliability ? ['**/node_modules/**'] : ['**/node_modules/**', 'test/reliability/**'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: false, maxForks: 2, minForks: 1 } },
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
