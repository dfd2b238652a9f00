/**
 * A small encoder for the protocol-buffers wire format, enough to write ONNX models without a protobuf
 * library: varints (unsigned, and int64 as two's complement), fixed32/fixed64, floats and doubles,
 * length-delimited bytes and strings, packed repeated numbers, and nested messages.
 *
 * Everything goes into one growing buffer. A nested message is written in place: its body is written
 * after a 5-byte gap reserved for its length, then moved back over the unused part of the gap, so a large
 * tensor is copied once per nesting level at most, never re-encoded.
 *
 * Fields are written in the order of the calls; the caller chooses field numbers and types.
 */
import { MlError } from "../core/errors.js";

/** The wire types of protocol buffers (groups, 3 and 4, are obsolete and never written). */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const MAX_FIELD_NUMBER = 536_870_911; // 2^29 − 1
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const textEncoder = new TextEncoder();

/** A value for an int64/uint64 field: a safe integer or a bigint. */
export type Int64Like = number | bigint;

export class ProtoWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialCapacity = 256) {
    this.buffer = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buffer.buffer);
  }

  /** The bytes written so far (a copy: the writer may be reused). */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** Bytes written so far. */
  get byteLength(): number {
    return this.length;
  }

  // -------------------------------------------------------------------------------------------
  // Scalar fields

  /** A varint field holding an unsigned value (uint32, uint64, or a non-negative int32/int64/enum). */
  uint64(field: number, value: Int64Like): this {
    this.tag(field, WireType.varint);
    this.rawVarint(toUint64(value, field));
    return this;
  }

  /** A varint field holding a signed 64-bit value (negative values take 10 bytes, as protobuf writes them). */
  int64(field: number, value: Int64Like): this {
    this.tag(field, WireType.varint);
    this.rawVarint(int64Bits(value, field));
    return this;
  }

  /** An int32 or enum field (negative values are sign-extended to 64 bits, as protobuf does). */
  int32(field: number, value: number): this {
    if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
      throw new MlError(`protobuf field ${field}: ${value} is not an int32`);
    }
    return this.int64(field, value);
  }

  bool(field: number, value: boolean): this {
    this.tag(field, WireType.varint);
    this.rawVarint(value ? 1 : 0);
    return this;
  }

  /** A fixed32 field (little-endian unsigned 32 bits). */
  fixed32(field: number, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new MlError(`protobuf field ${field}: ${value} is not a uint32`);
    }
    this.tag(field, WireType.fixed32);
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
    return this;
  }

  /** A fixed64 field (little-endian unsigned 64 bits). */
  fixed64(field: number, value: Int64Like): this {
    const bits = toUint64(value, field);
    this.tag(field, WireType.fixed64);
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(bits), true);
    this.length += 8;
    return this;
  }

  /** A `float` field (IEEE 754 single precision; the value is rounded to float32). */
  float(field: number, value: number): this {
    this.tag(field, WireType.fixed32);
    this.reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
    return this;
  }

  /** A `double` field. */
  double(field: number, value: number): this {
    this.tag(field, WireType.fixed64);
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
    return this;
  }

  /** A `bytes` field. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.lengthDelimited);
    this.rawVarint(value.length);
    this.rawBytes(value);
    return this;
  }

  /** A `string` field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  // -------------------------------------------------------------------------------------------
  // Nested messages

  /** A nested message: `write` writes its fields into this writer, then the length is filled in. */
  message(field: number, write: (writer: this) => void): this {
    this.tag(field, WireType.lengthDelimited);
    this.lengthDelimited(() => write(this));
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // Packed repeated fields (one length-delimited field holding the values back to back)

  /** Packed `repeated float` (values rounded to float32). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    this.tag(field, WireType.lengthDelimited);
    this.rawVarint(values.length * 4);
    this.reserve(values.length * 4);
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat32(this.length, values[i] as number, true);
      this.length += 4;
    }
    return this;
  }

  /** Packed `repeated double`. */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    this.tag(field, WireType.lengthDelimited);
    this.rawVarint(values.length * 8);
    this.reserve(values.length * 8);
    for (let i = 0; i < values.length; i++) {
      this.view.setFloat64(this.length, values[i] as number, true);
      this.length += 8;
    }
    return this;
  }

  /** Packed `repeated int64` (negative values as 10-byte two's complement varints). */
  packedInt64s(field: number, values: ArrayLike<Int64Like>): this {
    this.tag(field, WireType.lengthDelimited);
    this.lengthDelimited(() => {
      for (let i = 0; i < values.length; i++) this.rawVarint(int64Bits(values[i] as Int64Like, field));
    });
    return this;
  }

  /** Packed `repeated int32` (negative values sign-extended, as protobuf writes them). */
  packedInt32s(field: number, values: ArrayLike<number>): this {
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as number;
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new MlError(`protobuf field ${field}: element ${i} (${v}) is not an int32`);
      }
    }
    return this.packedInt64s(field, values);
  }

  /** Packed `repeated uint64` / `uint32`. */
  packedUint64s(field: number, values: ArrayLike<Int64Like>): this {
    this.tag(field, WireType.lengthDelimited);
    this.lengthDelimited(() => {
      for (let i = 0; i < values.length; i++) this.rawVarint(toUint64(values[i] as Int64Like, field));
    });
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // Low level

  /** A field's key: (field number << 3) | wire type. */
  tag(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD_NUMBER || (field >= 19000 && field <= 19999)) {
      throw new MlError(`${field} is not a valid protobuf field number (1 .. 2^29 − 1, not 19000–19999)`);
    }
    this.rawVarint(field * 8 + wireType);
    return this;
  }

  /** A bare varint; numbers must be non-negative safe integers, bigints fit in 64 bits unsigned. */
  rawVarint(value: Int64Like): this {
    this.reserve(10);
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new MlError(`a varint must be a non-negative safe integer or a bigint, got ${value}`);
      }
      let v = value;
      while (v >= 0x80) {
        this.buffer[this.length++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buffer[this.length++] = v;
      return this;
    }
    if (value < 0n || value > UINT64_MAX) throw new MlError(`a varint holds 64 bits unsigned, got ${value}`);
    let v = value;
    while (v >= 0x80n) {
      this.buffer[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buffer[this.length++] = Number(v);
    return this;
  }

  /** Bytes as they are (no tag, no length). */
  rawBytes(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** Writes a length prefix for whatever `write` appends, without encoding it twice. */
  private lengthDelimited(write: () => void): void {
    const gap = 5; // a length below 2^35 takes at most 5 varint bytes
    this.reserve(gap);
    const start = this.length;
    this.length += gap;
    write();
    const bodyLength = this.length - start - gap;
    if (bodyLength > 0xffffffff) throw new MlError(`a length-delimited field of ${bodyLength} bytes is too large`);
    let prefix = 1;
    for (let v = bodyLength; v >= 0x80; v = Math.floor(v / 0x80)) prefix++;
    this.length = start;
    this.rawVarint(bodyLength);
    if (prefix < gap) this.buffer.copyWithin(start + prefix, start + gap, start + gap + bodyLength);
    this.length = start + prefix + bodyLength;
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}

function toUint64(value: Int64Like, field: number): Int64Like {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new MlError(
        `protobuf field ${field}: ${value} is not an unsigned integer (safe integers only; use a bigint)`,
      );
    }
    return value;
  }
  if (value < 0n || value > UINT64_MAX) throw new MlError(`protobuf field ${field}: ${value} does not fit in a uint64`);
  return value;
}

/** The 64-bit two's complement bits of a signed value, as an unsigned varint payload. */
function int64Bits(value: Int64Like, field: number): Int64Like {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new MlError(`protobuf field ${field}: ${value} is not an integer (safe integers only; use a bigint)`);
    }
    return value >= 0 ? value : BigInt.asUintN(64, BigInt(value));
  }
  if (value < INT64_MIN || value > INT64_MAX)
    throw new MlError(`protobuf field ${field}: ${value} does not fit in an int64`);
  return value >= 0n ? value : BigInt.asUintN(64, value);
}
