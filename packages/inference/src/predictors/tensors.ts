/**
 * Tensor dtypes: allocating and converting the typed arrays that hold them, the names other systems give
 * them (KServe V2 datatypes), and turning tensor data into JSON values. Shared by the protocol adapters,
 * the batcher and the predictors.
 */
import type { Tensor, TensorDataMap, TensorDtype } from "./predictor.js";

export const TENSOR_DTYPES: readonly TensorDtype[] = [
  "float32",
  "float64",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "bool",
  "str",
];

const DTYPE_SET = new Set<string>(TENSOR_DTYPES);

export function isTensorDtype(value: string): value is TensorDtype {
  return DTYPE_SET.has(value);
}

/** NumPy spellings MLflow signatures may carry for the dtypes here (`object` and `bytes` hold strings). */
export function tensorDtypeOf(numpyDtype: string): TensorDtype | undefined {
  if (isTensorDtype(numpyDtype)) return numpyDtype;
  if (numpyDtype === "object" || numpyDtype === "bytes") return "str";
  return undefined;
}

/** A zero-filled array of `length` elements of `dtype`. */
export function allocate<D extends TensorDtype>(dtype: D, length: number): TensorDataMap[D] {
  return allocateAny(dtype, length) as TensorDataMap[D];
}

function allocateAny(dtype: TensorDtype, length: number): TensorDataMap[TensorDtype] {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int8":
      return new Int8Array(length);
    case "int16":
      return new Int16Array(length);
    case "int32":
      return new Int32Array(length);
    case "int64":
      return new BigInt64Array(length);
    case "uint8":
    case "bool":
      return new Uint8Array(length);
    case "uint16":
      return new Uint16Array(length);
    case "uint32":
      return new Uint32Array(length);
    case "uint64":
      return new BigUint64Array(length);
    case "str":
      return new Array<string>(length).fill("");
  }
}

export function isBigIntDtype(dtype: TensorDtype): dtype is "int64" | "uint64" {
  return dtype === "int64" || dtype === "uint64";
}

export function isIntegerDtype(dtype: TensorDtype): boolean {
  return dtype.startsWith("int") || dtype.startsWith("uint");
}

/** Inclusive value range of the integer dtypes (as numbers; 64-bit ranges are the safe-integer range). */
export const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Number of elements a shape holds. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A copy of `data` converted to `dtype` (numbers, bigints and 0/1 booleans convert between each other). */
export function convertData(data: TensorDataMap[TensorDtype], dtype: TensorDtype): TensorDataMap[TensorDtype] {
  const out = allocateAny(dtype, data.length);
  if (dtype === "str") {
    const strings = out as string[];
    for (let i = 0; i < data.length; i++) strings[i] = String(data[i]);
    return out;
  }
  if (isBigIntDtype(dtype)) {
    const big = out as BigInt64Array | BigUint64Array;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      big[i] = typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    }
    return out;
  }
  const numbers = out as Float64Array;
  for (let i = 0; i < data.length; i++) numbers[i] = Number(data[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// KServe V2 datatypes

const KSERVE_OF: Record<TensorDtype, string> = {
  float32: "FP32",
  float64: "FP64",
  int8: "INT8",
  int16: "INT16",
  int32: "INT32",
  int64: "INT64",
  uint8: "UINT8",
  uint16: "UINT16",
  uint32: "UINT32",
  uint64: "UINT64",
  bool: "BOOL",
  str: "BYTES",
};

const DTYPE_OF_KSERVE = new Map<string, TensorDtype>(
  Object.entries(KSERVE_OF).map(([dtype, kserve]) => [kserve, dtype as TensorDtype]),
);

/** `FP32`, `INT64`, `BYTES`... */
export function kserveDatatype(dtype: TensorDtype): string {
  return KSERVE_OF[dtype];
}

/** The dtype of a KServe V2 datatype, or undefined for ones not supported here (`FP16`, `BF16`). */
export function dtypeOfKserve(datatype: string): TensorDtype | undefined {
  return DTYPE_OF_KSERVE.get(datatype);
}

// ---------------------------------------------------------------------------------------------
// JSON

/** One element as a JSON value: bigints become numbers (exact up to 2^53), booleans true/false. */
export function elementToJson(tensor: Tensor, index: number): unknown {
  const v = tensor.data[index];
  if (typeof v === "bigint") return Number(v);
  if (tensor.dtype === "bool") return v === 1;
  return v;
}

/** The tensor's data as a flat JSON array (row-major). */
export function flatToJson(tensor: Tensor, start = 0, end = tensor.data.length): unknown[] {
  const out = new Array<unknown>(end - start);
  const data = tensor.data;
  if (tensor.dtype === "bool") {
    for (let i = start; i < end; i++) out[i - start] = data[i] === 1;
  } else if (isBigIntDtype(tensor.dtype)) {
    for (let i = start; i < end; i++) out[i - start] = Number(data[i]);
  } else {
    for (let i = start; i < end; i++) out[i - start] = data[i];
  }
  return out;
}

/**
 * Row `row` of the tensor as a JSON value: a scalar for a 1-D tensor, nested lists for higher ranks
 * (`probabilities` [N, 3] → `[0.1, 0.2, 0.7]`).
 */
export function rowToJson(tensor: Tensor, row: number): unknown {
  const shape = tensor.shape;
  if (shape.length <= 1) return elementToJson(tensor, row);
  const rowSize = tensor.data.length / (shape[0] || 1);
  return nest(tensor, row * rowSize, shape, 1);
}

function nest(tensor: Tensor, offset: number, shape: readonly number[], axis: number): unknown[] {
  const n = shape[axis]!;
  if (axis === shape.length - 1) return flatToJson(tensor, offset, offset + n);
  let stride = 1;
  for (let a = axis + 1; a < shape.length; a++) stride *= shape[a]!;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = nest(tensor, offset + i * stride, shape, axis + 1);
  return out;
}

/** The whole tensor as nested JSON lists, one per row (`tolist()` in NumPy). */
export function tensorToJson(tensor: Tensor): unknown[] {
  const rows = tensor.shape[0] ?? 0;
  if (tensor.shape.length <= 1) return flatToJson(tensor);
  const out = new Array<unknown>(rows);
  for (let r = 0; r < rows; r++) out[r] = rowToJson(tensor, r);
  return out;
}
