import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { authGuards } from '../../../../services/scoring/http/app.js';
import { isDriftwatchError } from '../../../../lib/runtime/errors.js';

const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as FastifyRequest;

/** The catalogue code a guard throws, or 'ok'. */
function outcome(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return isDriftwatchError(err) ? err.code : `unexpected ${(err as Error).message}`;
  }
}

describe('scoring HTTP auth guards (the shared constant-time check)', () => {
  const closed = authGuards({ writeTokens: ['w-token-0123'], readTokens: ['r-token-4567'] });

  it('a write needs exactly a configured write token', () => {
    expect(outcome(() => closed.requireWrite(req('Bearer w-token-0123')))).toBe('ok');
    expect(outcome(() => closed.requireWrite(req('bearer w-token-0123')))).toBe('ok'); // RFC 6750: scheme is case-insensitive
    for (const h of [
      undefined,
      '',
      'Bearer ',
      'Bearer w-token-012', // a prefix
      'Bearer w-token-0124', // same length, last byte wrong
      'Bearer W-TOKEN-0123',
      'Bearer r-token-4567', // a read token
      'Basic dzp3LXRva2VuLTAxMjM=',
      'w-token-0123',
    ])
      expect(
        outcome(() => closed.requireWrite(req(h))),
        String(h),
      ).toBe('DW_UNAUTHORIZED');
  });

  it('with API_READ_TOKENS set, a read needs a read or a write token', () => {
    expect(outcome(() => closed.requireRead(req('Bearer r-token-4567')))).toBe('ok');
    expect(outcome(() => closed.requireRead(req('Bearer w-token-0123')))).toBe('ok');
    for (const h of [undefined, 'Bearer r-token-456', 'Bearer r-token-4568', 'Bearer nope'])
      expect(
        outcome(() => closed.requireRead(req(h))),
        String(h),
      ).toBe('DW_UNAUTHORIZED');
  });

  it('reads are open without API_READ_TOKENS; writes are refused without API_WRITE_TOKENS (empty entries do not count)', () => {
    const open = authGuards({ writeTokens: ['', ''], readTokens: [] });
    expect(outcome(() => open.requireRead(req()))).toBe('ok');
    expect(outcome(() => open.requireWrite(req('Bearer ')))).toBe('DW_UNAUTHORIZED');
    let message = '';
    try {
      open.requireWrite(req('Bearer anything'));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/writes are disabled/);
  });
});
