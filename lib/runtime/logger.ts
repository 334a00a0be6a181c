/**
 * Structured JSON logs (pino). Secrets never reach a log line: authorization headers and anything
 * named like a token or password are redacted by path.
 */
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = 'info', instanceId?: string): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid, instance: instanceId ?? `${hostname()}-${process.pid}` },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.password',
        '*.token',
        '*.tokens',
        'CLICKHOUSE_PASSWORD',
        'API_WRITE_TOKENS',
        'API_READ_TOKENS',
      ],
      censor: '<redacted>',
    },
  });
}
