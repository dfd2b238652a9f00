/**
 * Reading the outline of an ONNX file without running it: IR version, opset imports, producer, the
 * graph's inputs and outputs (names, element types, shapes with symbolic dimensions), its initializers
 * (names, types, shapes — not their data) and its nodes (operator, domain, wiring). The model server uses
 * it to describe ONNX models logged by MLflow; tests use it to check exported models.
 *
 * Fields this does not know are skipped, so files from any IR version can be read. Graph inputs that
 * are also initializers (IR < 4 listed every initializer as an input) are not reported as inputs.
 */
import { MlError } from "../core/errors.js";
import type { TensorSpec } from "../model-package/signature.js";
import { TensorDataType, type Dim, type OperatorSetIdProto } from "./onnx-model.js";
import { ProtoReader } from "./protobuf-reader.js";

/** The type of a graph input or output. */
export type OnnxTypeInfo =
  | {
      kind: "tensor" | "sparse_tensor";
      /** `TensorProto.DataType` (0 when absent). */
      elemType: number;
      /** The NumPy dtype name (`float32`, `int64`, `str`...), absent for types NumPy lacks (bfloat16, float8). */
      dtype?: string;
      /** Absent when the shape is unknown (any rank); `null` for a dimension with neither size nor name. */
      shape?: Dim[];
    }
  | { kind: "sequence" | "map" | "optional" | "opaque" | "unknown" };

export interface OnnxValueInfo {
  name: string;
  type: OnnxTypeInfo;
  docString?: string;
}

export interface OnnxInitializerInfo {
  name: string;
  dataType: number;
  dims: number[];
}

export interface OnnxNodeInfo {
  opType: string;
  /** `""` for the default `ai.onnx` domain. */
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names, in order. */
  attributes: string[];
}

export interface OnnxModelInfo {
  irVersion: number;
  opsetImports: OperatorSetIdProto[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  metadataProps: { key: string; value: string }[];
  graphName: string;
  /** The inputs a caller feeds (graph inputs that are not initializers). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxInitializerInfo[];
  nodes: OnnxNodeInfo[];
}

const NUMPY_DTYPES: Partial<Record<number, string>> = {
  [TensorDataType.FLOAT]: "float32",
  [TensorDataType.UINT8]: "uint8",
  [TensorDataType.INT8]: "int8",
  [TensorDataType.UINT16]: "uint16",
  [TensorDataType.INT16]: "int16",
  [TensorDataType.INT32]: "int32",
  [TensorDataType.INT64]: "int64",
  [TensorDataType.STRING]: "str",
  [TensorDataType.BOOL]: "bool",
  [TensorDataType.FLOAT16]: "float16",
  [TensorDataType.DOUBLE]: "float64",
  [TensorDataType.UINT32]: "uint32",
  [TensorDataType.UINT64]: "uint64",
  [TensorDataType.COMPLEX64]: "complex64",
  [TensorDataType.COMPLEX128]: "complex128",
};

/** The NumPy dtype name of an ONNX element type (`str` for strings), or undefined when NumPy has none. */
export function numpyDtypeOf(elemType: number): string | undefined {
  return NUMPY_DTYPES[elemType];
}

/** Reads the outline of an ONNX model. Throws MlError when the bytes are not an ONNX ModelProto. */
export function readOnnxModelInfo(bytes: Uint8Array): OnnxModelInfo {
  try {
    return readModel(new ProtoReader(bytes));
  } catch (error) {
    if (error instanceof MlError && error.message.startsWith("not an ONNX model")) throw error;
    throw new MlError(`not an ONNX model: ${(error as Error).message}`, { cause: error });
  }
}

/** MLflow tensor specs for graph inputs or outputs: NumPy dtypes, `-1` for symbolic or unknown dimensions. */
export function onnxTensorSpecs(values: readonly OnnxValueInfo[]): TensorSpec[] {
  return values.map((v) => {
    if (v.type.kind !== "tensor") {
      throw new MlError(`ONNX value ${v.name} is a ${v.type.kind}, not a tensor; MLflow tensor specs need tensors`);
    }
    if (v.type.dtype === undefined) {
      throw new MlError(`ONNX value ${v.name} has element type ${v.type.elemType}, which has no NumPy dtype`);
    }
    if (v.type.shape === undefined) {
      throw new MlError(`ONNX value ${v.name} has no shape; MLflow tensor specs need one`);
    }
    const shape = v.type.shape.map((d) => (typeof d === "number" ? d : -1));
    return { name: v.name, dtype: v.type.dtype, shape };
  });
}

// ---------------------------------------------------------------------------------------------

function readModel(r: ProtoReader): OnnxModelInfo {
  let irVersion: number | undefined;
  const opsetImports: OperatorSetIdProto[] = [];
  let producerName = "";
  let producerVersion = "";
  let domain = "";
  let modelVersion = 0;
  let docString = "";
  const metadataProps: { key: string; value: string }[] = [];
  let graph: GraphOutline | undefined;
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 0) irVersion = r.int64AsNumber();
    else if (field === 2 && wireType === 2) producerName = r.string();
    else if (field === 3 && wireType === 2) producerVersion = r.string();
    else if (field === 4 && wireType === 2) domain = r.string();
    else if (field === 5 && wireType === 0) modelVersion = r.int64AsNumber();
    else if (field === 6 && wireType === 2) docString = r.string();
    else if (field === 7 && wireType === 2) graph = readGraph(r.message());
    else if (field === 8 && wireType === 2) opsetImports.push(readOpset(r.message()));
    else if (field === 14 && wireType === 2) metadataProps.push(readEntry(r.message()));
    else r.skip(wireType);
  }
  if (irVersion === undefined) throw new MlError("not an ONNX model: it has no ir_version (field 1)");
  if (graph === undefined) throw new MlError("not an ONNX model: it has no graph (field 7)");
  const initializerNames = new Set(graph.initializers.map((t) => t.name));
  return {
    irVersion,
    opsetImports,
    producerName,
    producerVersion,
    domain,
    modelVersion,
    docString,
    metadataProps,
    graphName: graph.name,
    inputs: graph.inputs.filter((v) => !initializerNames.has(v.name)),
    outputs: graph.outputs,
    initializers: graph.initializers,
    nodes: graph.nodes,
  };
}

interface GraphOutline {
  name: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: OnnxInitializerInfo[];
  nodes: OnnxNodeInfo[];
}

function readGraph(r: ProtoReader): GraphOutline {
  const graph: GraphOutline = { name: "", inputs: [], outputs: [], initializers: [], nodes: [] };
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 2) graph.nodes.push(readNode(r.message()));
    else if (field === 2 && wireType === 2) graph.name = r.string();
    else if (field === 5 && wireType === 2) graph.initializers.push(readInitializer(r.message()));
    else if (field === 11 && wireType === 2) graph.inputs.push(readValueInfo(r.message()));
    else if (field === 12 && wireType === 2) graph.outputs.push(readValueInfo(r.message()));
    else r.skip(wireType);
  }
  return graph;
}

function readOpset(r: ProtoReader): OperatorSetIdProto {
  let domain = "";
  let version = 0;
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 2) domain = r.string();
    else if (field === 2 && wireType === 0) version = r.int64AsNumber();
    else r.skip(wireType);
  }
  return { domain, version };
}

function readEntry(r: ProtoReader): { key: string; value: string } {
  let key = "";
  let value = "";
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 2) key = r.string();
    else if (field === 2 && wireType === 2) value = r.string();
    else r.skip(wireType);
  }
  return { key, value };
}

function readNode(r: ProtoReader): OnnxNodeInfo {
  const n: OnnxNodeInfo = { opType: "", domain: "", name: "", inputs: [], outputs: [], attributes: [] };
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 2) n.inputs.push(r.string());
    else if (field === 2 && wireType === 2) n.outputs.push(r.string());
    else if (field === 3 && wireType === 2) n.name = r.string();
    else if (field === 4 && wireType === 2) n.opType = r.string();
    else if (field === 5 && wireType === 2) n.attributes.push(readAttributeName(r.message()));
    else if (field === 7 && wireType === 2) n.domain = r.string();
    else r.skip(wireType);
  }
  return n;
}

function readAttributeName(r: ProtoReader): string {
  let name = "";
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 2) name = r.string();
    else r.skip(wireType);
  }
  return name;
}

function readInitializer(r: ProtoReader): OnnxInitializerInfo {
  const t: OnnxInitializerInfo = { name: "", dataType: 0, dims: [] };
  const dims: bigint[] = [];
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1) r.int64s(wireType, dims);
    else if (field === 2 && wireType === 0) t.dataType = r.int64AsNumber();
    else if (field === 8 && wireType === 2) t.name = r.string();
    else r.skip(wireType);
  }
  t.dims = dims.map(Number);
  return t;
}

function readValueInfo(r: ProtoReader): OnnxValueInfo {
  let name = "";
  let type: OnnxTypeInfo = { kind: "unknown" };
  let docString: string | undefined;
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 2) name = r.string();
    else if (field === 2 && wireType === 2) type = readType(r.message());
    else if (field === 3 && wireType === 2) docString = r.string();
    else r.skip(wireType);
  }
  return docString === undefined ? { name, type } : { name, type, docString };
}

/** TypeProto: tensor_type = 1, sequence_type = 4, map_type = 5, opaque_type = 7, sparse_tensor_type = 8, optional_type = 9. */
function readType(r: ProtoReader): OnnxTypeInfo {
  let type: OnnxTypeInfo = { kind: "unknown" };
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (wireType !== 2) {
      r.skip(wireType);
      continue;
    }
    if (field === 1) type = readTensorType(r.message(), "tensor");
    else if (field === 8) type = readTensorType(r.message(), "sparse_tensor");
    else if (field === 4) type = skipped(r, "sequence");
    else if (field === 5) type = skipped(r, "map");
    else if (field === 7) type = skipped(r, "opaque");
    else if (field === 9) type = skipped(r, "optional");
    else r.skip(wireType);
  }
  return type;
}

function skipped(r: ProtoReader, kind: "sequence" | "map" | "optional" | "opaque"): OnnxTypeInfo {
  r.bytesField();
  return { kind };
}

function readTensorType(r: ProtoReader, kind: "tensor" | "sparse_tensor"): OnnxTypeInfo {
  let elemType = 0;
  let shape: Dim[] | undefined;
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 0) elemType = r.int64AsNumber();
    else if (field === 2 && wireType === 2) shape = readShape(r.message());
    else r.skip(wireType);
  }
  const dtype = numpyDtypeOf(elemType);
  const info: OnnxTypeInfo = { kind, elemType };
  if (dtype !== undefined) info.dtype = dtype;
  if (shape !== undefined) info.shape = shape;
  return info;
}

function readShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 2) dims.push(readDim(r.message()));
    else r.skip(wireType);
  }
  return dims;
}

function readDim(r: ProtoReader): Dim {
  let dim: Dim = null;
  while (!r.done()) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === 0) dim = r.int64AsNumber();
    else if (field === 2 && wireType === 2) {
      const param = r.string();
      dim = param === "" ? null : param;
    } else r.skip(wireType);
  }
  return dim;
}
