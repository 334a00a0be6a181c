import { describe, expect, it } from 'vitest';
import { classifyInsertError } from '../../../stream-processors/ingest/sink.js';

describe('classifyInsertError', () => {
  it('treats a failure the engine did not raise (proxy 503, injected outage) as an outage: retried, never dead-lettered', () => {
    const e = classifyInsertError(new Error('chdb-http: unavailable (fault injected)'));
    expect(e).toMatchObject({ code: 'DW_CLICKHOUSE_UNAVAILABLE', retriable: true });
  });

  it('treats connection errors as an outage', () => {
    expect(classifyInsertError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }))).toMatchObject({ retriable: true });
  });

  it('keeps an exception the engine raised about the statement as a query error', () => {
    const engine = Object.assign(new Error('Unknown table expression identifier raw_x'), { code: '60', type: 'UNKNOWN_TABLE' });
    expect(classifyInsertError(engine)).toMatchObject({ code: 'DW_CLICKHOUSE_QUERY_FAILED', retriable: false });
  });
});
