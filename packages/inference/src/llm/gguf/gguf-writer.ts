/**
 * Writes a GGUF file (version 3): header, metadata, tensor infos, then each tensor's data at its aligned
 * offset. Tensor values are pulled from each tensor's source in chunks and encoded as they go, so a
 * model of hundreds of megabytes is written without holding it in memory.
 */
import { open } from "node:fs/promises";
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgufValueType,
  alignUp,
  tensorBytes,
  type GgmlType,
  type GgufArray,
  type GgufScalar,
  type GgufValue,
} from "./gguf-format.js";
import { encodeTensorValues } from "./tensor-encoding.js";

/** One tensor to write: its shape and type, and where its values come from. */
export interface GgufTensorSource {
  readonly name: string;
  /** ggml order: the row length first. */
  readonly dims: readonly number[];
  readonly type: GgmlType;
  /** The tensor's values in order, in chunks (for Q8_0, each a whole number of 32-value blocks). */
  values(): Iterable<Float32Array>;
}

export interface WriteGgufOptions {
  path: string;
  /** Metadata in the order it is written; `general.alignment`, when present, must be a u32. */
  metadata: Iterable<readonly [string, GgufValue]>;
  tensors: readonly GgufTensorSource[];
}

export interface WrittenGguf {
  bytes: number;
  tensors: number;
}

const STAGING_BYTES = 4 * 1024 * 1024;

export async function writeGguf(options: WriteGgufOptions): Promise<WrittenGguf> {
  const metadata = [...options.metadata];
  const alignmentEntry = metadata.find(([key]) => key === "general.alignment")?.[1];
  const alignment = typeof alignmentEntry?.value === "number" ? alignmentEntry.value : GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new RangeError(`general.alignment must be a positive multiple of 8, got ${alignment}`);
  }

  const header = new ByteSink();
  header.raw(Buffer.from(GGUF_MAGIC, "latin1"));
  header.u32(GGUF_VERSION);
  header.u64(BigInt(options.tensors.length));
  header.u64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    header.string(key);
    header.u32(value.type);
    header.value(value.type, value.value);
  }
  let dataSize = 0;
  const offsets: number[] = [];
  for (const tensor of options.tensors) {
    const count = tensor.dims.reduce((a, b) => a * b, 1);
    if (tensor.dims.length === 0 || tensor.dims.length > 4 || !tensor.dims.every((d) => Number.isInteger(d) && d > 0)) {
      throw new RangeError(`tensor '${tensor.name}': bad dimensions [${tensor.dims.join(", ")}]`);
    }
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const d of tensor.dims) header.u64(BigInt(d));
    header.u32(tensor.type);
    header.u64(BigInt(dataSize));
    offsets.push(dataSize);
    dataSize = alignUp(dataSize + tensorBytes(tensor.type, count), alignment);
  }
  const headerBytes = header.bytes();
  const dataStart = alignUp(headerBytes.length, alignment);

  const file = await open(options.path, "w");
  try {
    let position = 0;
    const write = async (chunk: Buffer) => {
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await file.write(chunk, done, chunk.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    };
    await write(headerBytes);
    await write(Buffer.alloc(dataStart - headerBytes.length));

    const staging = Buffer.alloc(STAGING_BYTES);
    let used = 0;
    const flush = async () => {
      if (used > 0) await write(staging.subarray(0, used));
      used = 0;
    };
    for (const [i, tensor] of options.tensors.entries()) {
      const count = tensor.dims.reduce((a, b) => a * b, 1);
      let produced = 0;
      for (const chunk of tensor.values()) {
        produced += chunk.length;
        if (produced > count) throw new RangeError(`tensor '${tensor.name}': more values than its ${count}`);
        const bytes = tensorBytes(tensor.type, chunk.length);
        if (bytes > staging.length - used) await flush();
        if (bytes > staging.length) {
          const big = Buffer.alloc(bytes);
          encodeTensorValues(tensor.type, chunk, big, 0);
          await write(big);
        } else {
          used += encodeTensorValues(tensor.type, chunk, staging, used);
        }
      }
      if (produced !== count) throw new RangeError(`tensor '${tensor.name}': ${produced} values, expected ${count}`);
      const end = dataStart + offsets[i]! + tensorBytes(tensor.type, count);
      const padding = alignUp(end, alignment) - end;
      if (padding > staging.length - used) await flush();
      staging.fill(0, used, used + padding);
      used += padding;
    }
    await flush();
    return { bytes: position, tensors: options.tensors.length };
  } finally {
    await file.close();
  }
}

/** A growable little-endian byte buffer for the header. */
class ByteSink {
  private buffer = Buffer.alloc(1 << 16);
  private length = 0;

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(v, this.length);
    this.length += 4;
  }

  u64(v: bigint): void {
    this.reserve(8);
    this.buffer.writeBigUInt64LE(v, this.length);
    this.length += 8;
  }

  string(text: string): void {
    const bytes = Buffer.from(text, "utf8");
    this.u64(BigInt(bytes.length));
    this.raw(bytes);
  }

  value(type: GgufValueType, value: GgufScalar | GgufArray): void {
    const fail = () =>
      new TypeError(
        `GGUF value ${typeof value === "object" ? "(array)" : String(value)} does not fit type ${GgufValueType[type]}`,
      );
    if (type === GgufValueType.ARRAY) {
      if (typeof value !== "object") throw fail();
      this.u32(value.itemType);
      this.u64(BigInt(value.items.length));
      for (const item of value.items) this.value(value.itemType, item);
      return;
    }
    if (type === GgufValueType.STRING) {
      if (typeof value !== "string") throw fail();
      this.string(value);
      return;
    }
    if (type === GgufValueType.BOOL) {
      if (typeof value !== "boolean") throw fail();
      this.reserve(1);
      this.buffer[this.length++] = value ? 1 : 0;
      return;
    }
    if (type === GgufValueType.UINT64 || type === GgufValueType.INT64) {
      if (typeof value !== "bigint") throw fail();
      this.reserve(8);
      if (type === GgufValueType.UINT64) this.buffer.writeBigUInt64LE(value, this.length);
      else this.buffer.writeBigInt64LE(value, this.length);
      this.length += 8;
      return;
    }
    if (typeof value !== "number") throw fail();
    const sizes: Partial<Record<GgufValueType, number>> = {
      [GgufValueType.UINT8]: 1,
      [GgufValueType.INT8]: 1,
      [GgufValueType.UINT16]: 2,
      [GgufValueType.INT16]: 2,
      [GgufValueType.UINT32]: 4,
      [GgufValueType.INT32]: 4,
      [GgufValueType.FLOAT32]: 4,
      [GgufValueType.FLOAT64]: 8,
    };
    const size = sizes[type];
    if (size === undefined) throw fail();
    this.reserve(size);
    const at = this.length;
    switch (type) {
      case GgufValueType.UINT8:
        this.buffer.writeUInt8(value, at);
        break;
      case GgufValueType.INT8:
        this.buffer.writeInt8(value, at);
        break;
      case GgufValueType.UINT16:
        this.buffer.writeUInt16LE(value, at);
        break;
      case GgufValueType.INT16:
        this.buffer.writeInt16LE(value, at);
        break;
      case GgufValueType.UINT32:
        this.buffer.writeUInt32LE(value, at);
        break;
      case GgufValueType.INT32:
        this.buffer.writeInt32LE(value, at);
        break;
      case GgufValueType.FLOAT32:
        this.buffer.writeFloatLE(value, at);
        break;
      default:
        this.buffer.writeDoubleLE(value, at);
    }
    this.length += size;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}
