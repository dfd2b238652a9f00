/**
 * Reads a GGUF file's header, metadata and tensor infos (not the tensor data) from its bytes: used to
 * take the tokenizer out of a vocabulary file, and by tests to check what the writer wrote.
 */
import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  alignUp,
  type GgmlType,
  type GgufArray,
  type GgufScalar,
  type GgufTensorInfo,
  type GgufValue,
} from "./gguf-format.js";

export class GgufFormatError extends Error {
  override readonly name = "GgufFormatError";
}

export interface GgufHeader {
  readonly version: number;
  /** Metadata in file order. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  /** Byte offset of the data section. */
  readonly dataOffset: number;
}

export function readGgufHeader(bytes: Uint8Array): GgufHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.byteLength) throw new GgufFormatError(`truncated GGUF file (at byte ${pos})`);
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    return v;
  };
  const count = (what: string) => {
    const n = u64();
    if (n > BigInt(bytes.byteLength)) throw new GgufFormatError(`implausible ${what} ${n} at byte ${pos - 8}`);
    return Number(n);
  };
  const string = () => {
    const n = count("string length");
    need(n);
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(pos, pos + n));
    } catch {
      throw new GgufFormatError(`invalid UTF-8 in a string at byte ${pos}`);
    }
    pos += n;
    return text;
  };
  const scalar = (type: GgufValueType): GgufScalar | GgufArray => {
    switch (type) {
      case GgufValueType.UINT8:
        need(1);
        return view.getUint8(pos++);
      case GgufValueType.INT8:
        need(1);
        return view.getInt8(pos++);
      case GgufValueType.UINT16: {
        need(2);
        const v = view.getUint16(pos, true);
        pos += 2;
        return v;
      }
      case GgufValueType.INT16: {
        need(2);
        const v = view.getInt16(pos, true);
        pos += 2;
        return v;
      }
      case GgufValueType.UINT32:
        return u32();
      case GgufValueType.INT32: {
        need(4);
        const v = view.getInt32(pos, true);
        pos += 4;
        return v;
      }
      case GgufValueType.FLOAT32: {
        need(4);
        const v = view.getFloat32(pos, true);
        pos += 4;
        return v;
      }
      case GgufValueType.BOOL:
        need(1);
        return view.getUint8(pos++) !== 0;
      case GgufValueType.STRING:
        return string();
      case GgufValueType.UINT64:
        return u64();
      case GgufValueType.INT64: {
        need(8);
        const v = view.getBigInt64(pos, true);
        pos += 8;
        return v;
      }
      case GgufValueType.FLOAT64: {
        need(8);
        const v = view.getFloat64(pos, true);
        pos += 8;
        return v;
      }
      case GgufValueType.ARRAY: {
        const itemType = u32() as GgufValueType;
        if (!(itemType in GgufValueType)) throw new GgufFormatError(`unknown array item type ${itemType}`);
        const n = count("array length");
        const items = new Array<GgufScalar | GgufArray>(n);
        for (let i = 0; i < n; i++) items[i] = scalar(itemType);
        return { itemType, items };
      }
      default:
        throw new GgufFormatError(`unknown metadata value type ${String(type)} at byte ${pos - 4}`);
    }
  };

  need(4);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== GGUF_MAGIC) throw new GgufFormatError(`not a GGUF file (magic '${magic}')`);
  pos = 4;
  const version = u32();
  if (version !== 2 && version !== 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
  const tensorCount = count("tensor count");
  const metadataCount = count("metadata count");
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < metadataCount; i++) {
    const key = string();
    const type = u32() as GgufValueType;
    metadata.set(key, { type, value: scalar(type) });
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = string();
    const nDims = u32();
    if (nDims > 4) throw new GgufFormatError(`tensor '${name}' has ${nDims} dimensions (at most 4)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(Number(u64()));
    const type = u32() as GgmlType;
    const offset = Number(u64());
    tensors.push({ name, dims, type, offset });
  }
  const alignmentValue = metadata.get("general.alignment")?.value;
  const alignment = typeof alignmentValue === "number" ? alignmentValue : GGUF_DEFAULT_ALIGNMENT;
  return { version, metadata, tensors, alignment, dataOffset: alignUp(pos, alignment) };
}
