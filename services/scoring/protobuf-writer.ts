/**
 * A minimal Protocol Buffers *writer*: just enough of the wire format to serialise ONNX ModelProto
 * messages from TypeScript without a protobuf runtime dependency (the retrain worker exports models
 * at run time from Node; see onnx-export.ts).
 *
 * Wire format (https://protobuf.dev/programming-guides/encoding/): each field is a key
 * `(field_number << 3) | wire_type` as a varint, then the value. Wire types used here: 0 = varint
 * (int32/int64/enum; negative int64 as 10-byte two's complement), 2 = length-delimited (string,
 * bytes, embedded message, packed repeated scalars), 5 = 32-bit (float).
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

function varintBytes(value: number | bigint): number[] {
  // int64 semantics: negative values are encoded as their unsigned 64-bit two's complement.
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

export class ProtoWriter {
  private readonly chunks: Buffer[] = [];

  private key(field: number, wire: number): void {
    this.chunks.push(Buffer.from(varintBytes((field << 3) | wire)));
  }

  /** int32 / int64 / enum / bool. */
  varint(field: number, value: number | bigint | boolean): this {
    this.key(field, WIRE_VARINT);
    this.chunks.push(Buffer.from(varintBytes(typeof value === 'boolean' ? (value ? 1 : 0) : value)));
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_I32);
    const b = Buffer.alloc(4);
    b.writeFloatLE(value, 0);
    this.chunks.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.chunks.push(Buffer.from(varintBytes(value.length)), Buffer.from(value));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** Packed repeated float (proto3 default for repeated scalars). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    const b = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) b.writeFloatLE(values[i]!, i * 4);
    return this.bytes(field, b);
  }

  /** Packed repeated int64. */
  packedVarints(field: number, values: ArrayLike<number>): this {
    const parts: number[] = [];
    for (let i = 0; i < values.length; i++) parts.push(...varintBytes(values[i]!));
    return this.bytes(field, Buffer.from(parts));
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
