import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_PREFIX, DecodeError, KafkaUnavailableError, isRetriable, DriftwatchError } from '../../../lib/runtime/errors.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const rows = new Map(
  [...doc.matchAll(/^\| (DW_[A-Z_]+) +\| (yes|no) +\| (\d{3}) +\|/gm)].map((m) => [m[1]!, { retriable: m[2] === 'yes', status: Number(m[3]) }]),
);

describe('error catalogue', () => {
  it('has unique, prefixed codes and names derived from the class', () => {
    const codes = ERROR_CATALOGUE.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const cls of ERROR_CATALOGUE) {
      expect(cls.code.startsWith(ERROR_PREFIX)).toBe(true);
      const e =
        cls === ERROR_CATALOGUE[0]
          ? new (cls as never as new (p: string[]) => DriftwatchError)(['x'])
          : new (cls as never as new (m: string) => DriftwatchError)('m');
      expect(e.name).toBe(cls.name);
      expect(e.code).toBe(cls.code);
      expect(e).toBeInstanceOf(DriftwatchError);
    }
  });

  it('matches docs/errors.md exactly: every code documented with its retriable flag and HTTP status', () => {
    expect([...rows.keys()].sort()).toEqual(ERROR_CATALOGUE.map((c) => c.code).sort());
    for (const cls of ERROR_CATALOGUE) {
      expect({ code: cls.code, ...rows.get(cls.code) }).toEqual({ code: cls.code, retriable: cls.retriable, status: cls.httpStatus });
    }
  });

  it('decides retry vs dead-letter: bad input is not retriable, outages are, unknown errors are retried', () => {
    expect(isRetriable(new DecodeError('bad'))).toBe(false);
    expect(isRetriable(new KafkaUnavailableError('down'))).toBe(true);
    expect(isRetriable(new TypeError('bug'))).toBe(true);
  });

  it('serialises details into JSON for logs', () => {
    const e = new DecodeError('bad bytes', { offset: '42' });
    expect(JSON.parse(JSON.stringify(e))).toEqual({ name: 'DecodeError', code: 'DW_DECODE_FAILED', retriable: false, message: 'bad bytes', offset: '42' });
  });
});
