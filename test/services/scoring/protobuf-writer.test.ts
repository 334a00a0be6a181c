import { describe, expect, it } from 'vitest';
import { ProtoWriter } from '../../../services/scoring/protobuf-writer.js';

describe('ProtoWriter (protobuf wire format)', () => {
  it('encodes varints as the protobuf encoding guide shows (150 -> 08 96 01)', () => {
    expect(new ProtoWriter().varint(1, 150).finish().toString('hex')).toBe('089601');
    expect(new ProtoWriter().varint(1, 0).finish().toString('hex')).toBe('0800');
    expect(new ProtoWriter().varint(2, true).finish().toString('hex')).toBe('1001');
  });

  it("encodes negative int64 as 10-byte two's complement", () => {
    expect(new ProtoWriter().varint(1, -1).finish().toString('hex')).toBe('08ffffffffffffffffff01');
  });

  it('encodes strings, nested messages and 32-bit floats with their wire types', () => {
    // field 2, wire type 2 ("testing" from the protobuf guide): 12 07 74 65 73 74 69 6e 67
    expect(new ProtoWriter().string(2, 'testing').finish().toString('hex')).toBe('120774657374696e67');
    const inner = new ProtoWriter().varint(1, 150);
    expect(new ProtoWriter().message(3, inner).finish().toString('hex')).toBe('1a03089601');
    expect(new ProtoWriter().float(2, 1).finish().toString('hex')).toBe('150000803f');
  });

  it('packs repeated scalars into one length-delimited field', () => {
    // packed [3, 270, 86942] from the protobuf guide: 22 06 03 8E 02 9E A7 05
    expect(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish().toString('hex')).toBe('2206038e029ea705');
    expect(new ProtoWriter().packedFloats(4, [1, -2]).finish().toString('hex')).toBe('22080000803f000000c0');
  });
});
