/**
 * Turning request values into the typed, flat `InputTensor` a tensor spec asks for: from rows of nested
 * lists (MLflow `instances` / `inputs`, data-frame cells, Vertex instances), or from KServe V2's flat
 * data with an explicit shape. Every row must have the spec's inner shape (`-1` = any size, the same for
 * all rows); every element must fit the dtype (numbers for floats, integers in range for ints, booleans
 * for `bool`, strings for `str`). Numbers convert between numeric dtypes as MLflow's ONNX loader does
 * (float64 JSON numbers fed to a float32 model).
 */
import { describeTensor, type TensorSpec } from "@slipway/ml";
import type { InputTensor, TensorDataMap, TensorDtype } from "../predictors/predictor.js";
import { INTEGER_RANGES, allocate, isBigIntDtype, shapeSize } from "../predictors/tensors.js";
import { describeValue, type Problems } from "./problems.js";
import type { RawTensor } from "./raw-input.js";

export interface TensorTarget {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly spec: TensorSpec;
  /** `tensor<float32>[-1, 4]`. */
  readonly expected: string;
}

export function tensorTarget(name: string, dtype: TensorDtype, spec: TensorSpec): TensorTarget {
  return { name, dtype, spec, expected: describeTensor(spec) };
}

type Setter = (out: TensorDataMap[TensorDtype], index: number, value: unknown) => boolean;

/** Writes `value` at `index` when it fits the dtype; false when it does not. */
function setterFor(dtype: TensorDtype): Setter {
  switch (dtype) {
    case "float32":
    case "float64":
      return (out, i, v) => {
        if (typeof v !== "number") return false;
        (out as Float64Array)[i] = v;
        return true;
      };
    case "bool":
      return (out, i, v) => {
        if (typeof v !== "boolean") return false;
        (out as Uint8Array)[i] = v ? 1 : 0;
        return true;
      };
    case "str":
      return (out, i, v) => {
        if (typeof v !== "string") return false;
        (out as string[])[i] = v;
        return true;
      };
    case "int64":
    case "uint64": {
      const [min, max] = INTEGER_RANGES[dtype]!;
      return (out, i, v) => {
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) return false;
        (out as BigInt64Array)[i] = BigInt(v);
        return true;
      };
    }
    default: {
      const [min, max] = INTEGER_RANGES[dtype]!;
      return (out, i, v) => {
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) return false;
        (out as Int32Array)[i] = v;
        return true;
      };
    }
  }
}

const SETTERS = new Map<TensorDtype, Setter>();
function setter(dtype: TensorDtype): Setter {
  let s = SETTERS.get(dtype);
  if (!s) {
    s = setterFor(dtype);
    SETTERS.set(dtype, s);
  }
  return s;
}

function describeBad(value: unknown, dtype: TensorDtype): string {
  if (isBigIntDtype(dtype) || dtype.startsWith("int") || dtype.startsWith("uint")) {
    if (typeof value === "number" && Number.isInteger(value)) return `an integer out of ${dtype} range (${value})`;
  }
  return describeValue(value);
}

/**
 * The inner shape of one row (the dimensions after the batch one), read from `row` where the spec says
 * `-1`; undefined when the row is not nested as deep as the spec.
 */
function innerShape(row: unknown, spec: TensorSpec): number[] | undefined {
  const dims: number[] = [];
  let v = row;
  for (let axis = 1; axis < spec.shape.length; axis++) {
    if (!Array.isArray(v)) return undefined;
    dims.push(v.length);
    v = v[0];
  }
  return dims;
}

/** Rows of nested lists (or scalars for a 1-D spec) → a tensor [rows, ...inner]. */
export function rowsToTensor(
  target: TensorTarget,
  rows: readonly unknown[],
  problems: Problems,
): InputTensor | undefined {
  const { spec, dtype, name, expected } = target;
  const n = rows.length;
  if (spec.shape.length === 0) {
    problems.addMessage(`tensor '${name}' is a scalar (${expected}); it cannot take rows`);
    return undefined;
  }
  const batchDim = spec.shape[0]!;
  if (batchDim !== -1 && batchDim !== n) {
    problems.addMessage(`tensor '${name}' (${expected}) takes exactly ${batchDim} rows, got ${n}`);
    return undefined;
  }
  const inner = innerShape(rows[0], spec) ?? spec.shape.slice(1).map((d) => (d === -1 ? 1 : d));
  for (let a = 0; a < inner.length; a++) {
    const want = spec.shape[a + 1]!;
    if (want !== -1 && inner[a] !== want) {
      inner[a] = want;
    }
  }
  const rowSize = shapeSize(inner);
  const out = allocate(dtype, n * rowSize);
  const set = setter(dtype);
  // fast path: rows of flat lists (rank 2) or scalars (rank 1) that all fit
  if (inner.length <= 1 && fillFlat(rows, inner.length === 0 ? -1 : inner[0]!, out, set)) {
    return { dtype, shape: [n, ...inner], data: out } as InputTensor;
  }
  let ok = true;
  const path: number[] = [];
  for (let r = 0; r < n; r++) {
    const found = fillRow(rows[r], inner, 0, out, r * rowSize, set, dtype, path);
    if (found !== undefined) {
      problems.add(name, "wrong_type", expected, r, found);
      ok = false;
    }
  }
  if (!ok) return undefined;
  return { dtype, shape: [n, ...inner], data: out } as InputTensor;
}

/**
 * Rows that are scalars (`width` -1) or flat lists of `width` values: true when every value fit, false
 * at the first one that does not (the caller then goes the slow way, which says what is wrong).
 */
function fillFlat(rows: readonly unknown[], width: number, out: TensorDataMap[TensorDtype], set: Setter): boolean {
  const n = rows.length;
  if (width === -1) {
    for (let r = 0; r < n; r++) if (!set(out, r, rows[r])) return false;
    return true;
  }
  if (out instanceof Float32Array || out instanceof Float64Array) {
    // the common case, without a call per element
    for (let r = 0, o = 0; r < n; r++) {
      const row = rows[r];
      if (!Array.isArray(row) || row.length !== width) return false;
      for (let j = 0; j < width; j++, o++) {
        const v: unknown = row[j];
        if (typeof v !== "number") return false;
        out[o] = v;
      }
    }
    return true;
  }
  for (let r = 0, o = 0; r < n; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) return false;
    for (let j = 0; j < width; j++, o++) if (!set(out, o, row[j])) return false;
  }
  return true;
}

/** `[2][0]`: where in a row a value sits (built only for messages). */
function position(path: readonly number[]): string {
  return path.map((i) => `[${i}]`).join("");
}

/** Fills one row (or a sub-list) at `offset`; returns what was wrong, or undefined. */
function fillRow(
  value: unknown,
  dims: readonly number[],
  axis: number,
  out: TensorDataMap[TensorDtype],
  offset: number,
  set: Setter,
  dtype: TensorDtype,
  path: number[],
): string | undefined {
  const at = () => (path.length === 0 ? "" : ` at ${position(path)}`);
  if (axis === dims.length) {
    if (set(out, offset, value)) return undefined;
    return `${describeBad(value, dtype)}${at()}`;
  }
  if (!Array.isArray(value)) {
    return `${describeValue(value)}${at()} where a list was expected`;
  }
  const len = dims[axis]!;
  if (value.length !== len) {
    return `a list of ${value.length}${at()} where ${len} values were expected`;
  }
  let stride = 1;
  for (let a = axis + 1; a < dims.length; a++) stride *= dims[a]!;
  for (let i = 0; i < len; i++) {
    path.push(i);
    const found = fillRow(value[i], dims, axis + 1, out, offset + i * stride, set, dtype, path);
    path.pop();
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A KServe V2 tensor (flat data, explicit shape) → the spec's tensor, checking shape and element types. */
export function flatToTensor(target: TensorTarget, raw: RawTensor, problems: Problems): InputTensor | undefined {
  const { spec, dtype, name, expected } = target;
  const shape = raw.shape;
  if (shape.length !== spec.shape.length || spec.shape.some((d, i) => d !== -1 && d !== shape[i])) {
    problems.addMessage(`input '${name}' has shape [${shape.join(", ")}] where the model expects ${expected}`);
    return undefined;
  }
  const data = raw.data;
  const out = allocate(dtype, data.length);
  const set = setter(dtype);
  const rowSize = shape.length <= 1 ? 1 : shapeSize(shape.slice(1));
  let ok = true;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!set(out, i, v)) {
      problems.add(name, "wrong_type", expected, rowSize === 0 ? 0 : Math.floor(i / rowSize), describeBad(v, dtype));
      ok = false;
    }
  }
  if (!ok) return undefined;
  return { dtype, shape: [...shape], data: out } as InputTensor;
}
