/**
 * A minimal decoder for the protocol-buffers wire format: reads field keys, varints, fixed-width numbers,
 * length-delimited payloads (bytes, strings, nested messages) and packed repeated numbers, and skips what
 * it does not need. It reads back what `ProtoWriter` writes and is enough to inspect ONNX files
 * (`onnx-inspect.ts`).
 *
 * Truncated or malformed input throws MlError naming the byte offset; nothing is read past the end.
 */
import { MlError } from "../core/errors.js";
import { WireType } from "./protobuf-writer.js";

const textDecoder = new TextDecoder("utf-8", { fatal: false });

/** A field key: its number and wire type. */
export interface FieldKey {
  field: number;
  wireType: number;
}

export class ProtoReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private position: number;
  private readonly end: number;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = 0;
    this.end = bytes.length;
  }

  /** The current byte offset. */
  get offset(): number {
    return this.position;
  }

  /** True when every byte has been read. */
  done(): boolean {
    return this.position >= this.end;
  }

  /** Reads the next field key. */
  key(): FieldKey {
    const at = this.position;
    const raw = this.uint64AsNumber();
    const field = Math.floor(raw / 8);
    const wireType = raw % 8;
    if (field < 1) throw new MlError(`protobuf: field number 0 at byte ${at}`);
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
      throw new MlError(`protobuf: unsupported wire type ${wireType} (field ${field}) at byte ${at}`);
    }
    return { field, wireType };
  }

  /** A varint as a bigint (its 64 bits, unsigned). */
  varint(): bigint {
    const at = this.position;
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.position >= this.end) throw new MlError(`protobuf: truncated varint at byte ${at}`);
      const byte = this.bytes[this.position++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, result);
    }
    throw new MlError(`protobuf: varint longer than 10 bytes at byte ${at}`);
  }

  /** An unsigned varint as a number; throws if it is above 2^53 − 1. */
  uint64AsNumber(): number {
    const at = this.position;
    // fast path: up to 4 bytes (28 bits) without bigints
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      if (this.position >= this.end) throw new MlError(`protobuf: truncated varint at byte ${at}`);
      const byte = this.bytes[this.position++] as number;
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    this.position = at;
    const value = this.varint();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new MlError(`protobuf: varint ${value} at byte ${at} is too large for a number`);
    }
    return Number(value);
  }

  /** A signed int64 (or int32/enum) varint as a bigint. */
  int64(): bigint {
    return BigInt.asIntN(64, this.varint());
  }

  /** A signed int64 (or int32/enum) varint as a number; throws outside the safe integers. */
  int64AsNumber(): number {
    const at = this.position;
    const value = this.int64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new MlError(`protobuf: integer ${value} at byte ${at} is outside the safe integers`);
    }
    return Number(value);
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  fixed32(): number {
    this.need(4, "fixed32");
    const value = this.view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  fixed64(): bigint {
    this.need(8, "fixed64");
    const value = this.view.getBigUint64(this.position, true);
    this.position += 8;
    return value;
  }

  float(): number {
    this.need(4, "float");
    const value = this.view.getFloat32(this.position, true);
    this.position += 4;
    return value;
  }

  double(): number {
    this.need(8, "double");
    const value = this.view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  /** A length-delimited payload (a view into the input, not a copy). */
  bytesField(): Uint8Array {
    const length = this.uint64AsNumber();
    this.need(length, "length-delimited field");
    const value = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  /** A UTF-8 string. */
  string(): string {
    return textDecoder.decode(this.bytesField());
  }

  /** A nested message: a reader over its bytes. */
  message(): ProtoReader {
    return new ProtoReader(this.bytesField());
  }

  /** Skips the value of a field of this wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.varint();
        return;
      case WireType.fixed64:
        this.need(8, "fixed64");
        this.position += 8;
        return;
      case WireType.lengthDelimited:
        this.bytesField();
        return;
      case WireType.fixed32:
        this.need(4, "fixed32");
        this.position += 4;
        return;
      default:
        throw new MlError(`protobuf: cannot skip wire type ${wireType} at byte ${this.position}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Repeated numbers: packed (one length-delimited field) or not (one field per value). Parsers must
  // accept both, so these take the wire type of the key just read.

  /** `repeated float`: appends to `out` and returns it. */
  floats(wireType: number, out: number[] = []): number[] {
    if (wireType === WireType.fixed32) {
      out.push(this.float());
      return out;
    }
    const packed = this.packed(wireType, "float");
    if (packed.length % 4 !== 0) throw new MlError(`protobuf: packed floats of ${packed.length} bytes`);
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    for (let i = 0; i < packed.length; i += 4) out.push(view.getFloat32(i, true));
    return out;
  }

  /** `repeated double`: appends to `out` and returns it. */
  doubles(wireType: number, out: number[] = []): number[] {
    if (wireType === WireType.fixed64) {
      out.push(this.double());
      return out;
    }
    const packed = this.packed(wireType, "double");
    if (packed.length % 8 !== 0) throw new MlError(`protobuf: packed doubles of ${packed.length} bytes`);
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    for (let i = 0; i < packed.length; i += 8) out.push(view.getFloat64(i, true));
    return out;
  }

  /** `repeated int64` (or int32): appends signed bigints to `out` and returns it. */
  int64s(wireType: number, out: bigint[] = []): bigint[] {
    if (wireType === WireType.varint) {
      out.push(this.int64());
      return out;
    }
    const inner = new ProtoReader(this.packed(wireType, "int64"));
    while (!inner.done()) out.push(inner.int64());
    return out;
  }

  /** `repeated uint64` (or uint32): appends unsigned bigints to `out` and returns it. */
  uint64s(wireType: number, out: bigint[] = []): bigint[] {
    if (wireType === WireType.varint) {
      out.push(this.varint());
      return out;
    }
    const inner = new ProtoReader(this.packed(wireType, "uint64"));
    while (!inner.done()) out.push(inner.varint());
    return out;
  }

  private packed(wireType: number, what: string): Uint8Array {
    if (wireType !== WireType.lengthDelimited) {
      throw new MlError(`protobuf: repeated ${what} with wire type ${wireType} at byte ${this.position}`);
    }
    return this.bytesField();
  }

  private need(count: number, what: string): void {
    if (this.position + count > this.end) {
      throw new MlError(
        `protobuf: truncated ${what} at byte ${this.position} (needs ${count} bytes, ${this.end - this.position} left)`,
      );
    }
  }
}

/** One field as `decodeFields` reports it: varints as bigints, fixed as bigints, payloads as bytes. */
export type RawField =
  | { field: number; wireType: 0; value: bigint }
  | { field: number; wireType: 1; value: bigint }
  | { field: number; wireType: 2; value: Uint8Array }
  | { field: number; wireType: 5; value: number };

/** Every top-level field of a message, in order, undecoded (for tests and debugging). */
export function decodeFields(bytes: Uint8Array): RawField[] {
  const reader = new ProtoReader(bytes);
  const fields: RawField[] = [];
  while (!reader.done()) {
    const { field, wireType } = reader.key();
    switch (wireType) {
      case WireType.varint:
        fields.push({ field, wireType, value: reader.varint() });
        break;
      case WireType.fixed64:
        fields.push({ field, wireType, value: reader.fixed64() });
        break;
      case WireType.lengthDelimited:
        fields.push({ field, wireType, value: reader.bytesField() });
        break;
      default:
        fields.push({ field, wireType: WireType.fixed32, value: reader.fixed32() });
    }
  }
  return fields;
}
