/**
 * The GGUF file format (version 3), as llama.cpp reads it:
 *
 * - header: magic `GGUF`, u32 version, u64 tensor count, u64 metadata count (all little-endian);
 * - metadata: key (u64 length + UTF-8), u32 value type, value; strings are u64 length + UTF-8, arrays are
 *   u32 element type + u64 count + elements;
 * - tensor infos: name, u32 dimension count, u64 dimensions (ggml order: the row length first), u32 ggml
 *   type, u64 offset into the data section (a multiple of the alignment);
 * - the data section starts at the next multiple of `general.alignment` (default 32).
 *
 * Values keep their GGUF type so that a file read and written again is the same file.
 */

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** The tensor types this code writes (ggml's numbering). */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q8_0 = 8,
}

/** Values per Q8_0 block, and bytes per block (an fp16 scale and 32 int8). */
export const Q8_0_BLOCK = 32;
export const Q8_0_BLOCK_BYTES = 34;

export type GgufScalar = number | bigint | boolean | string;

export interface GgufArray {
  readonly itemType: GgufValueType;
  readonly items: readonly (GgufScalar | GgufArray)[];
}

export interface GgufValue {
  readonly type: GgufValueType;
  readonly value: GgufScalar | GgufArray;
}

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: the row length first. */
  readonly dims: readonly number[];
  readonly type: GgmlType;
  /** Offset from the start of the data section. */
  readonly offset: number;
}

/** Typed constructors for metadata values. */
export const gguf = {
  string: (value: string): GgufValue => ({ type: GgufValueType.STRING, value }),
  u32: (value: number): GgufValue => ({ type: GgufValueType.UINT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value }),
  u64: (value: bigint): GgufValue => ({ type: GgufValueType.UINT64, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.BOOL, value }),
};

/** Bytes a tensor of `count` values takes in `type`. */
export function tensorBytes(type: GgmlType, count: number): number {
  switch (type) {
    case GgmlType.F32:
      return count * 4;
    case GgmlType.F16:
      return count * 2;
    case GgmlType.Q8_0:
      if (count % Q8_0_BLOCK !== 0) throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${count}`);
      return (count / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
  }
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
