/**
 * CLI for the chdb-http front (see lib/runtime/clickhouse/chdb-http-server.ts).
 * Usage: tsx infra/chdb-http.ts --data-dir .local/clickhouse --port 18123 [--host 127.0.0.1] [--database driftwatch]
 */
import { parseArgs } from 'node:util';
import { startChdbHttp } from '../lib/runtime/clickhouse/chdb-http-server.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.local/clickhouse' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '18123' },
    database: { type: 'string', default: 'driftwatch' },
  },
});
const srv = await startChdbHttp({ dataDir: values['data-dir']!, host: values.host!, port: Number(values.port), database: values.database! });
process.stdout.write(`chdb-http listening on ${srv.url} (data dir ${values['data-dir']})\n`);
const stop = async (): Promise<void> => {
  await srv.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
