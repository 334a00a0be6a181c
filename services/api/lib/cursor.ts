/**
 * Opaque keyset-pagination cursors.
 *
 * A page is ordered by a table's unique key (its time column first, then the ReplacingMergeTree
 * ORDER BY columns, so after FINAL no two rows share a key). The cursor is the key of the last row
 * returned; the next page is `WHERE (key columns) < (cursor)` (or `>` ascending). Unlike OFFSET this
 * neither skips nor repeats rows when new windows are written between two page requests, and it
 * costs the same on page 1 and page 1000.
 *
 * Encoding: base64url of JSON `{t: <series id>, o: 'asc'|'desc', k: [values]}`. The cursor is input
 * like any other: decoding checks its shape and each value's type against the key's column types
 * (values are then bound as typed query parameters, never spliced into SQL).
 */
import { InvalidRequestError } from '../../../lib/runtime/errors.js';

/** Column types a key may hold, as they are bound: DateTime64 travels as epoch ms (Int64). */
export type KeyType = 'time' | 'string' | 'uint8' | 'uint32' | 'uint64';
export type KeyValue = string | number;
export type SortOrder = 'asc' | 'desc';

export interface DecodedCursor {
  readonly order: SortOrder;
  readonly key: readonly KeyValue[];
}

const MAX_CURSOR_CHARS = 4096;

export function encodeCursor(seriesId: string, order: SortOrder, key: readonly KeyValue[]): string {
  return Buffer.from(JSON.stringify({ t: seriesId, o: order, k: key }), 'utf8').toString('base64url');
}

function validValue(type: KeyType, v: unknown): v is KeyValue {
  switch (type) {
    case 'string':
      return typeof v === 'string' && v.length <= 1024;
    case 'time':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'uint8':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
    case 'uint32':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
    case 'uint64':
      return typeof v === 'string' && /^\d{1,20}$/.test(v) && BigInt(v) <= 0xffffffffffffffffn;
  }
}

export function decodeCursor(seriesId: string, cursor: string, keyTypes: readonly KeyType[]): DecodedCursor {
  const bad = (why: string) => new InvalidRequestError(`invalid cursor: ${why}`);
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad('not a cursor returned by this API');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a cursor returned by this API');
  }
  if (parsed === null || typeof parsed !== 'object') throw bad('not a cursor returned by this API');
  const { t, o, k } = parsed as { t?: unknown; o?: unknown; k?: unknown };
  if (t !== seriesId) throw bad('it belongs to another endpoint');
  if (o !== 'asc' && o !== 'desc') throw bad('unknown order');
  if (!Array.isArray(k) || k.length !== keyTypes.length) throw bad('wrong key length');
  k.forEach((v, i) => {
    if (!validValue(keyTypes[i]!, v)) throw bad(`key part ${i} has the wrong type`);
  });
  return { order: o, key: k as KeyValue[] };
}
