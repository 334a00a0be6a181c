import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../stream-processors/retrain-trigger/partition.js';

describe('murmur2 (Kafka default partitioner hash)', () => {
  it('matches the Java client test vectors (kafka clients UtilsTest.testMurmur2)', () => {
    const vectors: Array<[string | Buffer, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      [Buffer.from([0x61, 0x62, 0x63]), 479470107],
    ];
    for (const [key, expected] of vectors) expect(murmur2(key)).toBe(expected);
  });

  it('maps a key to a stable partition in range, as toPositive(murmur2) % n', () => {
    expect(partitionForKey('21', 4)).toBe((-973932308 & 0x7fffffff) % 4);
    for (const key of ['churn', 'fraud', 'credit-risk', '']) {
      const p = partitionForKey(key, 6);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
      expect(partitionForKey(key, 6)).toBe(p);
    }
  });
});
