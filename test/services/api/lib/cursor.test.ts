import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../../services/api/lib/cursor.js';

describe('cursors', () => {
  it('round-trip the key of the last row', () => {
    const c = encodeCursor('drift', 'asc', [1714521600000, 'credit-risk', 7, '18446744073709551615']);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor('drift', c, ['time', 'string', 'uint32', 'uint64'])).toEqual({
      order: 'asc',
      key: [1714521600000, 'credit-risk', 7, '18446744073709551615'],
    });
  });

  it('reject cursors of other endpoints, wrong shapes and wrong value types', () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const cases = [
      'not base64!',
      enc({ t: 'kpis', o: 'desc', k: [1] }),
      enc({ t: 'drift', o: 'up', k: [1] }),
      enc({ t: 'drift', o: 'desc', k: [1, 2] }),
      enc({ t: 'drift', o: 'desc', k: ['1'] }),
      enc({ t: 'drift', o: 'desc', k: [1.5] }),
      enc({ t: 'drift', o: 'desc' }),
      enc(['drift']),
      enc('drift'),
      Buffer.from('{not json').toString('base64url'),
      'A'.repeat(5000),
    ];
    for (const c of cases) expect(() => decodeCursor('drift', c, ['time']), c.slice(0, 40)).toThrow(/invalid cursor/);
    expect(() => decodeCursor('x', enc({ t: 'x', o: 'desc', k: ['18446744073709551616'] }), ['uint64'])).toThrow(/wrong type/);
    expect(() => decodeCursor('x', enc({ t: 'x', o: 'desc', k: [256] }), ['uint8'])).toThrow(/wrong type/);
  });
});
