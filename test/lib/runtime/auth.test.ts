import type * as Crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Spy on the comparison itself, so the test can check that it runs once per configured token on
// equal-length buffers, whatever the presented token is (the constant-time property, checked
// structurally: a wall-clock timing test would be flaky on a shared machine).
const calls: Array<[number, number]> = [];
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof Crypto>();
  return {
    ...real,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return real.timingSafeEqual(a, b);
    },
  };
});

const { actorOf, bearerToken, tokenSet } = await import('../../../lib/runtime/auth.js');

beforeEach(() => {
  calls.length = 0;
});

describe('tokenSet', () => {
  it('matches only configured tokens, whatever their length; empty entries are ignored', () => {
    const set = tokenSet(['alpha', 'a-much-longer-token-value', '']);
    expect(set.size).toBe(2);
    expect(set.matches('alpha')).toBe(true);
    expect(set.matches('a-much-longer-token-value')).toBe(true);
    for (const t of ['', 'alph', 'alphaa', 'ALPHA', 'a-much-longer-token-valu', ' alpha']) expect(set.matches(t)).toBe(false);
    expect(tokenSet([]).matches('anything')).toBe(false);
    expect(tokenSet(['']).matches('')).toBe(false);
  });

  it('compares against every configured token on 32-byte digests: no early exit, no length check', () => {
    const set = tokenSet(['first-token', 'second', 'third-and-longest-token']);
    for (const presented of ['first-token', 'third-and-longest-token', 'x', '', 'y'.repeat(5000)]) {
      calls.length = 0;
      set.matches(presented);
      // A match on the first token still compares the other two; a 1-byte or 5000-byte guess costs the same comparisons.
      expect(calls, presented.slice(0, 20)).toEqual([
        [32, 32],
        [32, 32],
        [32, 32],
      ]);
    }
  });
});

describe('bearerToken', () => {
  it('parses the Bearer scheme case-insensitively and nothing else', () => {
    expect(bearerToken('Bearer abc.def-ghi_~+/=')).toBe('abc.def-ghi_~+/=');
    expect(bearerToken('bearer   xyz')).toBe('xyz');
    expect(bearerToken('Bearer xyz  ')).toBe('xyz');
    for (const h of [undefined, '', 'Basic abc', 'Bearer', 'Bearer ', 'Bearer a b', 'Bearerabc', 'Bearer \u00e9t\u00e9', `Bearer ${'x'.repeat(5000)}`])
      expect(bearerToken(h)).toBeNull();
  });
});

describe('actorOf', () => {
  it('names a caller by a hash prefix, never the token', () => {
    expect(actorOf('secret-token')).toMatch(/^token:[0-9a-f]{8}$/);
    expect(actorOf('secret-token')).not.toContain('secret');
    expect(actorOf('secret-token')).toBe(actorOf('secret-token'));
    expect(actorOf('secret-token')).not.toBe(actorOf('secret-tokem'));
  });
});
