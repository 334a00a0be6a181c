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

/**
 * Writes human text (a banner) to the logger's own destination. pino's default destination is an
 * asynchronous SonicBoom on fd 1 (sonic-boom's `sync` defaults to false), so lines logged just before
 * may still be queued; a direct `process.stdout.write` would overtake them. Writing through the same
 * SonicBoom keeps the order in which things happened.
 */
export function writeThroughLogger(logger: Logger, text: string): void {
  const stream = (logger as unknown as Record<symbol, { write(s: string): unknown } | undefined>)[pino.symbols.streamSym];
  if (stream) stream.write(text);
  else process.stdout.write(text);
}
