import { describe, expect, it } from 'vitest';
import { chunkRecords, classifyInsertError, coLocationProblem } from '../../../stream-processors/label-joiner/main.js';

describe('label-joiner adapter helpers', () => {
  const P = 'ns.predictions.v1';
  const O = 'ns.outcomes.v1';

  it('accepts a partition only when this member owns it on both input topics', () => {
    const aligned = [0, 2].flatMap((partition) => [
      { topic: P, partition },
      { topic: O, partition },
    ]);
    expect(coLocationProblem(aligned, 0, P, O)).toBeNull();
    expect(coLocationProblem(aligned, 2, P, O)).toBeNull();
    // What kafkajs' round-robin assigner gives 3 members over 2 topics x 4 partitions: misaligned.
    const misaligned = [
      { topic: O, partition: 0 },
      { topic: O, partition: 3 },
      { topic: P, partition: 2 },
    ];
    expect(coLocationProblem(misaligned, 2, P, O)).toMatch(
      /partition 2 of ns\.predictions\.v1 and of ns\.outcomes\.v1 are not both assigned.*divides the partition count/,
    );
    expect(coLocationProblem(misaligned, 0, P, O)).not.toBeNull();
  });

  it('splits produce requests under the byte limit, keeping order (the watermark record stays last)', () => {
    const records = Array.from({ length: 10 }, (_, i) => ({ topic: 't', key: `k${i}`, value: 'x'.repeat(100) }));
    const chunks = chunkRecords(records, 400);
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 2, 2, 2]);
    expect(chunks.flat()).toEqual(records);
    // A record larger than the limit still goes, alone.
    expect(chunkRecords([{ topic: 't', key: 'big', value: 'x'.repeat(1000) }], 400)).toHaveLength(1);
    expect(chunkRecords([], 400)).toEqual([]);
  });

  it('treats an insert failure that never reached the engine as an outage (retried), an engine exception as a query error', () => {
    expect(classifyInsertError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })).code).toBe('DW_CLICKHOUSE_UNAVAILABLE');
    expect(classifyInsertError(new Error('chdb-http: service unavailable (fault injected)')).code).toBe('DW_CLICKHOUSE_UNAVAILABLE');
    expect(classifyInsertError(Object.assign(new Error('Unknown table'), { type: 'UNKNOWN_TABLE' })).code).toBe('DW_CLICKHOUSE_QUERY_FAILED');
  });
});
