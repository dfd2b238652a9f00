/**
 * The ONNX messages an exporter needs — ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto
 * (tensor types with fixed or symbolic dimensions), AttributeProto, OperatorSetIdProto — as plain typed
 * values, small builders for them, and their encoding with `ProtoWriter`.
 *
 * Field numbers are those of `onnx/onnx.proto` (proto2). Repeated scalars that onnx.proto does not mark
 * `packed` (TensorProto.dims, AttributeProto.floats/ints) are written one field per value, as protobuf
 * itself writes them; tensor data fields, which are `packed = true`, are written packed.
 *
 * Models target IR version 8 and the default-domain opset 17, i.e. ONNX 1.12 (see the release table in
 * onnx's docs/Versioning.md: 1.12.0 → IR 8, ai.onnx 17, ai.onnx.ml 3).
 */
import { MlError } from "../core/errors.js";
import { ProtoWriter, type Int64Like } from "./protobuf-writer.js";

/** The IR version written in `ModelProto.ir_version`. */
export const ONNX_IR_VERSION = 8;
/** The default-domain (`ai.onnx`) opset imported. */
export const ONNX_OPSET_VERSION = 17;
/** The `ai.onnx.ml` opset of the same release (imported only by graphs using ML-domain operators). */
export const ONNX_ML_OPSET_VERSION = 3;
/** The ONNX release whose IR and opsets these are, for the MLmodel's `onnx_version`. */
export const ONNX_VERSION = "1.12.0";
/** The producer name written by default. */
export const ONNX_PRODUCER_NAME = "slipway";

/** `TensorProto.DataType`. */
export const TensorDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;
export type TensorDataType = (typeof TensorDataType)[keyof typeof TensorDataType];

/** `AttributeProto.AttributeType` (the kinds written here). */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

// ---------------------------------------------------------------------------------------------
// Messages

/** A tensor's values, by element type; `dims` of the tensor must multiply to their count. */
export type TensorValues =
  | { type: "float"; values: ArrayLike<number> }
  | { type: "double"; values: ArrayLike<number> }
  | { type: "int32"; values: ArrayLike<number> }
  | { type: "int64"; values: ArrayLike<Int64Like> }
  | { type: "string"; values: readonly string[] };

export interface TensorProto {
  name: string;
  dims: readonly number[];
  data: TensorValues;
  docString?: string;
}

/** A dimension: a size, a symbolic name (`"N"`), or `null` when unknown. */
export type Dim = number | string | null;

export interface TensorTypeProto {
  elemType: TensorDataType;
  /** Omitted: shape unknown (any rank). */
  shape?: readonly Dim[];
}

export interface ValueInfoProto {
  name: string;
  type: TensorTypeProto;
  docString?: string;
}

export type AttributeValue =
  | { type: "float"; value: number }
  | { type: "int"; value: Int64Like }
  | { type: "string"; value: string }
  | { type: "tensor"; value: TensorProto }
  | { type: "floats"; value: readonly number[] }
  | { type: "ints"; value: readonly Int64Like[] }
  | { type: "strings"; value: readonly string[] };

export interface AttributeProto {
  name: string;
  value: AttributeValue;
}

export interface NodeProto {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Empty or absent: the default `ai.onnx` domain. */
  domain?: string;
  attributes?: readonly AttributeProto[];
  docString?: string;
}

export interface GraphProto {
  name: string;
  nodes: readonly NodeProto[];
  initializers: readonly TensorProto[];
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
  valueInfo?: readonly ValueInfoProto[];
  docString?: string;
}

export interface OperatorSetIdProto {
  /** `""` for the default `ai.onnx` domain. */
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImports: readonly OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  metadataProps?: readonly { key: string; value: string }[];
}

// ---------------------------------------------------------------------------------------------
// Builders

function elementCount(dims: readonly number[], name: string): number {
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new MlError(`tensor ${name}: dimension ${d} is not a size`);
    count *= d;
  }
  return count;
}

/** A tensor, checking that `dims` match the number of values. */
export function tensor(name: string, dims: readonly number[], data: TensorValues): TensorProto {
  const count = elementCount(dims, name);
  if (data.values.length !== count) {
    throw new MlError(`tensor ${name}: shape [${dims.join(", ")}] needs ${count} values, got ${data.values.length}`);
  }
  return { name, dims: [...dims], data };
}

export const floatTensor = (name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto =>
  tensor(name, dims, { type: "float", values });
export const doubleTensor = (name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto =>
  tensor(name, dims, { type: "double", values });
export const int64Tensor = (name: string, dims: readonly number[], values: ArrayLike<Int64Like>): TensorProto =>
  tensor(name, dims, { type: "int64", values });
export const stringTensor = (name: string, dims: readonly number[], values: readonly string[]): TensorProto =>
  tensor(name, dims, { type: "string", values });

/** The `TensorProto.DataType` of a tensor's values. */
export function tensorDataType(data: TensorValues): TensorDataType {
  switch (data.type) {
    case "float":
      return TensorDataType.FLOAT;
    case "double":
      return TensorDataType.DOUBLE;
    case "int32":
      return TensorDataType.INT32;
    case "int64":
      return TensorDataType.INT64;
    case "string":
      return TensorDataType.STRING;
  }
}

/** A graph input or output of tensor type; `shape` entries are sizes or symbolic names (`"N"`). */
export function tensorValueInfo(
  name: string,
  elemType: TensorDataType,
  shape?: readonly Dim[],
  docString?: string,
): ValueInfoProto {
  const type: TensorTypeProto = shape === undefined ? { elemType } : { elemType, shape: [...shape] };
  return docString === undefined ? { name, type } : { name, type, docString };
}

/** A node; `attributes` in the order given. */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: readonly AttributeProto[] = [],
  options: { name?: string; domain?: string; docString?: string } = {},
): NodeProto {
  return { opType, inputs: [...inputs], outputs: [...outputs], attributes: [...attributes], ...options };
}

export const attribute = {
  float: (name: string, value: number): AttributeProto => ({ name, value: { type: "float", value } }),
  int: (name: string, value: Int64Like): AttributeProto => ({ name, value: { type: "int", value } }),
  string: (name: string, value: string): AttributeProto => ({ name, value: { type: "string", value } }),
  tensor: (name: string, value: TensorProto): AttributeProto => ({ name, value: { type: "tensor", value } }),
  floats: (name: string, value: readonly number[]): AttributeProto => ({ name, value: { type: "floats", value } }),
  ints: (name: string, value: readonly Int64Like[]): AttributeProto => ({ name, value: { type: "ints", value } }),
  strings: (name: string, value: readonly string[]): AttributeProto => ({
    name,
    value: { type: "strings", value },
  }),
};

/**
 * Checks a graph's wiring: names are unique, every node input is a graph input, an initializer or the
 * output of an earlier node (nodes must be in topological order), and every graph output is produced.
 * An empty input name (an omitted optional input) is allowed. Throws MlError naming the fault.
 */
export function checkGraph(graph: GraphProto): void {
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (name === "") throw new MlError(`graph ${graph.name}: ${what} has an empty name`);
    if (defined.has(name)) throw new MlError(`graph ${graph.name}: ${what} ${name} is defined twice`);
    defined.add(name);
  };
  for (const input of graph.inputs) define(input.name, "input");
  for (const init of graph.initializers) define(init.name, "initializer");
  graph.nodes.forEach((n, i) => {
    const label = `node ${i} (${n.opType}${n.name ? ` ${n.name}` : ""})`;
    for (const input of n.inputs) {
      if (input !== "" && !defined.has(input)) {
        throw new MlError(`graph ${graph.name}: ${label} reads ${input}, which nothing before it defines`);
      }
    }
    for (const output of n.outputs) define(output, `output of ${label}`);
  });
  for (const output of graph.outputs) {
    if (!defined.has(output.name)) throw new MlError(`graph ${graph.name}: output ${output.name} is never computed`);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding (field numbers of onnx.proto)

const textEncoder = new TextEncoder();

/** The model as the bytes of an `.onnx` file. */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter(1024);
  writeModel(w, model);
  return w.finish();
}

export function writeModel(w: ProtoWriter, model: ModelProto): void {
  w.int64(1, model.irVersion);
  if (model.producerName !== undefined) w.string(2, model.producerName);
  if (model.producerVersion !== undefined) w.string(3, model.producerVersion);
  if (model.domain !== undefined) w.string(4, model.domain);
  if (model.modelVersion !== undefined) w.int64(5, model.modelVersion);
  if (model.docString !== undefined) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const opset of model.opsetImports) {
    w.message(8, (o) => {
      o.string(1, opset.domain);
      o.int64(2, opset.version);
    });
  }
  for (const entry of model.metadataProps ?? []) {
    w.message(14, (e) => {
      e.string(1, entry.key);
      e.string(2, entry.value);
    });
  }
}

export function writeGraph(w: ProtoWriter, graph: GraphProto): void {
  for (const n of graph.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, graph.name);
  for (const t of graph.initializers) w.message(5, (m) => writeTensor(m, t));
  if (graph.docString !== undefined) w.string(10, graph.docString);
  for (const v of graph.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of graph.outputs) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of graph.valueInfo ?? []) w.message(13, (m) => writeValueInfo(m, v));
}

export function writeNode(w: ProtoWriter, n: NodeProto): void {
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, (m) => writeAttribute(m, a));
  if (n.docString !== undefined) w.string(6, n.docString);
  if (n.domain !== undefined && n.domain !== "") w.string(7, n.domain);
}

export function writeAttribute(w: ProtoWriter, a: AttributeProto): void {
  w.string(1, a.name);
  const v = a.value;
  switch (v.type) {
    case "float":
      w.float(2, v.value);
      w.int32(20, AttributeType.FLOAT);
      return;
    case "int":
      w.int64(3, v.value);
      w.int32(20, AttributeType.INT);
      return;
    case "string":
      w.string(4, v.value);
      w.int32(20, AttributeType.STRING);
      return;
    case "tensor":
      w.message(5, (m) => writeTensor(m, v.value));
      w.int32(20, AttributeType.TENSOR);
      return;
    case "floats":
      for (const x of v.value) w.float(7, x);
      w.int32(20, AttributeType.FLOATS);
      return;
    case "ints":
      for (const x of v.value) w.int64(8, x);
      w.int32(20, AttributeType.INTS);
      return;
    case "strings":
      for (const x of v.value) w.string(9, x);
      w.int32(20, AttributeType.STRINGS);
      return;
  }
}

export function writeTensor(w: ProtoWriter, t: TensorProto): void {
  for (const d of t.dims) w.int64(1, d);
  w.int32(2, tensorDataType(t.data));
  const data = t.data;
  switch (data.type) {
    case "float":
      w.packedFloats(4, data.values);
      break;
    case "int32":
      w.packedInt32s(5, data.values);
      break;
    case "string":
      for (const s of data.values) w.bytes(6, textEncoder.encode(s));
      break;
    case "int64":
      w.packedInt64s(7, data.values);
      break;
    case "double":
      w.packedDoubles(10, data.values);
      break;
  }
  w.string(8, t.name);
  if (t.docString !== undefined) w.string(12, t.docString);
}

export function writeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  w.string(1, v.name);
  // TypeProto { tensor_type = 1: Tensor { elem_type = 1, shape = 2: TensorShapeProto { dim = 1 } } }
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int32(1, v.type.elemType);
      const shape = v.type.shape;
      if (shape === undefined) return;
      tensorType.message(2, (s) => {
        for (const d of shape) {
          s.message(1, (dim) => {
            if (typeof d === "number") dim.int64(1, d);
            else if (typeof d === "string") dim.string(2, d);
          });
        }
      });
    }),
  );
  if (v.docString !== undefined) w.string(3, v.docString);
}
