/**
 * Tests of the ONNX message builders: field numbers as onnx.proto gives them (checked on the bytes),
 * a hand-built graph using attributes of every kind run by onnxruntime, and the graph checks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as ort from "onnxruntime-node";
import { MlError } from "../core/errors.js";
import {
  ONNX_IR_VERSION,
  ONNX_OPSET_VERSION,
  TensorDataType,
  attribute,
  checkGraph,
  doubleTensor,
  encodeModel,
  floatTensor,
  int64Tensor,
  node,
  stringTensor,
  tensor,
  tensorValueInfo,
  writeAttribute,
  writeTensor,
  writeValueInfo,
  type GraphProto,
} from "./onnx-model.js";
import { ProtoReader, decodeFields } from "./protobuf-reader.js";
import { ProtoWriter } from "./protobuf-writer.js";

const fieldNumbers = (bytes: Uint8Array): number[] => decodeFields(bytes).map((f) => f.field);
const encode = (write: (w: ProtoWriter) => void): Uint8Array => {
  const w = new ProtoWriter();
  write(w);
  return w.finish();
};

describe("ONNX messages: field numbers", () => {
  it("TensorProto: dims 1 (unpacked), data_type 2, float_data 4, string_data 6, int64_data 7, name 8, double_data 10", () => {
    const floats = encode((w) => writeTensor(w, floatTensor("f", [2, 1], [1, 2])));
    assert.deepEqual(fieldNumbers(floats), [1, 1, 2, 4, 8]);
    assert.deepEqual(decodeFields(floats)[2], { field: 2, wireType: 0, value: BigInt(TensorDataType.FLOAT) });
    assert.deepEqual(fieldNumbers(encode((w) => writeTensor(w, stringTensor("s", [2], ["a", "b"])))), [1, 2, 6, 6, 8]);
    assert.deepEqual(fieldNumbers(encode((w) => writeTensor(w, int64Tensor("i", [1], [-3])))), [1, 2, 7, 8]);
    assert.deepEqual(fieldNumbers(encode((w) => writeTensor(w, doubleTensor("d", [], [0.5])))), [2, 10, 8]);
    const int32 = encode((w) => writeTensor(w, tensor("n", [2], { type: "int32", values: [-1, 5] })));
    assert.deepEqual(fieldNumbers(int32), [1, 2, 5, 8]);
  });

  it("AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20", () => {
    const cases: [ReturnType<typeof attribute.int>, number[], number][] = [
      [attribute.float("a", 0.5), [1, 2, 20], 1],
      [attribute.int("a", -1), [1, 3, 20], 2],
      [attribute.string("a", "x"), [1, 4, 20], 3],
      [attribute.tensor("a", floatTensor("t", [1], [1])), [1, 5, 20], 4],
      [attribute.floats("a", [1, 2]), [1, 7, 7, 20], 6],
      [attribute.ints("a", [1, 2, 3]), [1, 8, 8, 8, 20], 7],
      [attribute.strings("a", ["x", "y"]), [1, 9, 9, 20], 8],
    ];
    for (const [attr, fields, type] of cases) {
      const bytes = encode((w) => writeAttribute(w, attr));
      assert.deepEqual(fieldNumbers(bytes), fields, attr.value.type);
      assert.equal(decodeFields(bytes).at(-1)?.value, BigInt(type));
    }
  });

  it("ValueInfoProto → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1 | dim_param 2", () => {
    const bytes = encode((w) => writeValueInfo(w, tensorValueInfo("x", TensorDataType.DOUBLE, ["N", 3, null], "doc")));
    assert.deepEqual(fieldNumbers(bytes), [1, 2, 3]);
    const type = new ProtoReader(decodeFields(bytes)[1]?.value as Uint8Array);
    type.key();
    const tensorType = decodeFields(type.bytesField());
    assert.deepEqual(
      tensorType.map((f) => f.field),
      [1, 2],
    );
    const dims = decodeFields(tensorType[1]?.value as Uint8Array).map((d) => decodeFields(d.value as Uint8Array));
    assert.deepEqual(
      dims.map((d) => d.map((f) => f.field)),
      [[2], [1], []],
    );
    assert.equal(Buffer.from(dims[0]?.[0]?.value as Uint8Array).toString(), "N");
    assert.equal(dims[1]?.[0]?.value, 3n);
  });

  it("ModelProto: ir_version 1, producer 2/3, doc 6, graph 7, opset_import 8 (domain 1, version 2), metadata 14", () => {
    const graph: GraphProto = {
      name: "g",
      nodes: [node("Identity", ["x"], ["y"])],
      initializers: [],
      inputs: [tensorValueInfo("x", TensorDataType.FLOAT, [1])],
      outputs: [tensorValueInfo("y", TensorDataType.FLOAT, [1])],
    };
    const bytes = encodeModel({
      irVersion: 8,
      opsetImports: [
        { domain: "", version: 17 },
        { domain: "ai.onnx.ml", version: 3 },
      ],
      producerName: "p",
      producerVersion: "1",
      docString: "d",
      graph,
      metadataProps: [{ key: "k", value: "v" }],
    });
    assert.deepEqual(fieldNumbers(bytes), [1, 2, 3, 6, 7, 8, 8, 14]);
    const graphFields = decodeFields(decodeFields(bytes)[4]?.value as Uint8Array);
    assert.deepEqual(
      graphFields.map((f) => f.field),
      [1, 2, 11, 12],
    );
    const nodeFields = decodeFields(graphFields[0]?.value as Uint8Array);
    assert.deepEqual(
      nodeFields.map((f) => f.field),
      [1, 2, 4],
    );
  });
});

describe("ONNX messages: a hand-built graph in onnxruntime", () => {
  it("runs a graph using attributes of every kind and string/int64/float initializers", async () => {
    const graph: GraphProto = {
      name: "attributes",
      nodes: [
        node("Constant", [], ["offset"], [attribute.tensor("value", floatTensor("offset", [3], [1, 2, 3]))]),
        node("Add", ["x", "offset"], ["shifted"]),
        node("LeakyRelu", ["shifted"], ["leaky"], [attribute.float("alpha", 0.5)]),
        node("Transpose", ["leaky"], ["transposed"], [attribute.ints("perm", [1, 0])]),
        node("Einsum", ["transposed"], ["back"], [attribute.string("equation", "ij->ji")]),
        node("ArgMax", ["back"], ["index"], [attribute.int("axis", 1), attribute.int("keepdims", 0)]),
        node("Gather", ["names", "index"], ["name"], [attribute.int("axis", 0)]),
        node("Gather", ["codes", "index"], ["code"], [attribute.int("axis", 0)]),
        node("Constant", [], ["words"], [attribute.strings("value_strings", ["p", "q"])]),
        node("Constant", [], ["weights"], [attribute.floats("value_floats", [0.25, -1])]),
      ],
      initializers: [stringTensor("names", [3], ["a", "b", "c"]), int64Tensor("codes", [3], [-5n, 0, 2 ** 40])],
      inputs: [tensorValueInfo("x", TensorDataType.FLOAT, ["batch", 3])],
      outputs: [
        tensorValueInfo("back", TensorDataType.FLOAT, ["batch", 3]),
        tensorValueInfo("name", TensorDataType.STRING, ["batch"]),
        tensorValueInfo("code", TensorDataType.INT64, ["batch"]),
        tensorValueInfo("words", TensorDataType.STRING, [2]),
        tensorValueInfo("weights", TensorDataType.FLOAT, [2]),
      ],
    };
    checkGraph(graph);
    const bytes = encodeModel({
      irVersion: ONNX_IR_VERSION,
      opsetImports: [{ domain: "", version: ONNX_OPSET_VERSION }],
      graph,
    });
    const session = await ort.InferenceSession.create(bytes);
    try {
      const x = new ort.Tensor("float32", Float32Array.from([-4, 0, 0, 1, -10, 0]), [2, 3]);
      const out = await session.run({ x });
      // shifted = [[-3, 2, 3], [2, -8, 3]], leaky = [[-1.5, 2, 3], [2, -4, 3]]
      assert.deepEqual([...(out.back?.data as Float32Array)], [-1.5, 2, 3, 2, -4, 3]);
      assert.deepEqual(out.name?.data, ["c", "c"]);
      assert.deepEqual([...(out.code?.data as BigInt64Array)], [2n ** 40n, 2n ** 40n]);
      assert.deepEqual(out.words?.data, ["p", "q"]);
      assert.deepEqual([...(out.weights?.data as Float32Array)], [0.25, -1]);
    } finally {
      await session.release();
    }
  });
});

describe("ONNX messages: checks", () => {
  it("refuses a tensor whose shape does not match its values", () => {
    assert.throws(() => floatTensor("w", [2, 3], [1, 2]), /tensor w: shape \[2, 3\] needs 6 values, got 2/);
    assert.throws(() => floatTensor("w", [-1], []), /tensor w: dimension -1 is not a size/);
  });

  it("checkGraph names undefined inputs, duplicates and missing outputs", () => {
    const base: GraphProto = {
      name: "g",
      nodes: [node("Relu", ["x"], ["y"])],
      initializers: [],
      inputs: [tensorValueInfo("x", TensorDataType.FLOAT)],
      outputs: [tensorValueInfo("y", TensorDataType.FLOAT)],
    };
    checkGraph(base);
    const fails = (graph: Partial<GraphProto>, message: RegExp): void =>
      assert.throws(
        () => checkGraph({ ...base, ...graph }),
        (e: unknown) => e instanceof MlError && message.test(e.message),
      );
    fails({ nodes: [node("Relu", ["z"], ["y"])] }, /node 0 \(Relu\) reads z, which nothing before it defines/);
    fails({ nodes: [node("Relu", ["x"], ["x"])] }, /output of node 0 \(Relu\) x is defined twice/);
    fails({ initializers: [floatTensor("x", [1], [1])] }, /initializer x is defined twice/);
    fails({ outputs: [tensorValueInfo("w", TensorDataType.FLOAT)] }, /output w is never computed/);
    fails({ nodes: [node("Relu", ["y"], ["z"]), node("Relu", ["x"], ["y"])] }, /node 0 \(Relu\) reads y/);
  });
});
