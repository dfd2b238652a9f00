/**
 * Tests of the ONNX outline reader: inputs and outputs of exported models (matching `onnxSignature`),
 * initializers listed as inputs, unknown fields and non-tensor types, and bytes that are not ONNX.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MlError } from "../core/errors.js";
import type { LinearModelParams } from "../core/linear.js";
import { exportLinearModelToOnnx, onnxSignature } from "./export-linear.js";
import { onnxTensorSpecs, readOnnxModelInfo } from "./onnx-inspect.js";
import { TensorDataType, encodeModel, floatTensor, node, tensorValueInfo, writeGraph } from "./onnx-model.js";
import { ProtoWriter } from "./protobuf-writer.js";

const binary: LinearModelParams = {
  link: "sigmoid",
  nFeatures: 4,
  nOutputs: 1,
  weights: Float64Array.from([1, 2, 3, 4]),
  bias: Float64Array.from([0.5]),
  classes: ["no", "yes"],
};

describe("readOnnxModelInfo", () => {
  it("reads the inputs, outputs, opsets and producer of an exported classifier", () => {
    const info = readOnnxModelInfo(exportLinearModelToOnnx(binary, { inputName: "features", producerVersion: "9" }));
    assert.equal(info.irVersion, 8);
    assert.deepEqual(info.opsetImports, [{ domain: "", version: 17 }]);
    assert.equal(info.producerName, "slipway");
    assert.equal(info.producerVersion, "9");
    assert.equal(info.graphName, "linear_classifier");
    assert.deepEqual(info.inputs, [
      { name: "features", type: { kind: "tensor", elemType: TensorDataType.FLOAT, dtype: "float32", shape: ["N", 4] } },
    ]);
    assert.deepEqual(info.outputs, [
      { name: "label", type: { kind: "tensor", elemType: TensorDataType.STRING, dtype: "str", shape: ["N"] } },
      {
        name: "probabilities",
        type: { kind: "tensor", elemType: TensorDataType.FLOAT, dtype: "float32", shape: ["N", 2] },
      },
    ]);
    assert.deepEqual(
      info.initializers.map((t) => [t.name, t.dataType, t.dims]),
      [
        ["coefficients", TensorDataType.DOUBLE, [1, 4]],
        ["intercepts", TensorDataType.DOUBLE, [1]],
        ["score_signs", TensorDataType.DOUBLE, [2]],
        ["classes", TensorDataType.STRING, [2]],
      ],
    );
    const gemm = info.nodes.find((n) => n.opType === "Gemm");
    assert.deepEqual(gemm, {
      opType: "Gemm",
      domain: "",
      name: "",
      inputs: ["input_double", "coefficients", "intercepts"],
      outputs: ["scores"],
      attributes: ["transB"],
    });
  });

  it("gives the MLflow tensor specs that onnxSignature declares, for every link and input type", () => {
    const models: LinearModelParams[] = [
      binary,
      { ...binary, classes: [0, 1] },
      {
        link: "softmax",
        nFeatures: 3,
        nOutputs: 3,
        weights: new Float64Array(9),
        bias: new Float64Array(3),
        classes: [0.5, 1, 2],
      },
      { link: "identity", nFeatures: 3, nOutputs: 2, weights: new Float64Array(6), bias: new Float64Array(2) },
    ];
    for (const params of models) {
      for (const inputType of ["float32", "float64"] as const) {
        const info = readOnnxModelInfo(exportLinearModelToOnnx(params, { inputType }));
        const signature = onnxSignature(params, { inputType });
        assert.deepEqual(onnxTensorSpecs(info.inputs), signature.inputs.tensors);
        assert.deepEqual(onnxTensorSpecs(info.outputs), signature.outputs.tensors);
      }
    }
  });

  it("leaves out graph inputs that are initializers (as IR < 4 files list them)", () => {
    const bytes = encodeModel({
      irVersion: 3,
      opsetImports: [{ domain: "", version: 8 }],
      graph: {
        name: "old",
        nodes: [node("Add", ["x", "w"], ["y"])],
        initializers: [floatTensor("w", [2], [1, 2])],
        inputs: [
          tensorValueInfo("x", TensorDataType.FLOAT, [null, 2]),
          tensorValueInfo("w", TensorDataType.FLOAT, [2]),
        ],
        outputs: [tensorValueInfo("y", TensorDataType.FLOAT)],
      },
    });
    const info = readOnnxModelInfo(bytes);
    assert.deepEqual(
      info.inputs.map((v) => v.name),
      ["x"],
    );
    assert.deepEqual(info.inputs[0]?.type, { kind: "tensor", elemType: 1, dtype: "float32", shape: [null, 2] });
    assert.deepEqual(info.outputs[0]?.type, { kind: "tensor", elemType: 1, dtype: "float32" });
    assert.deepEqual(onnxTensorSpecs(info.inputs), [{ name: "x", dtype: "float32", shape: [-1, 2] }]);
    assert.throws(() => onnxTensorSpecs(info.outputs), /ONNX value y has no shape/);
  });

  it("skips unknown fields and reports sequence, map and bfloat16 values without failing", () => {
    const w = new ProtoWriter();
    w.int64(1, 9);
    w.uint64(99, 1); // a field from the future
    w.message(25, (f) => f.string(1, "a local function")); // ModelProto.functions (IR 8)
    w.message(7, (g) => {
      writeGraph(g, {
        name: "mixed",
        nodes: [],
        initializers: [],
        inputs: [tensorValueInfo("half", TensorDataType.BFLOAT16, ["batch", 8])],
        outputs: [],
      });
      g.message(11, (v) => {
        v.string(1, "tokens");
        v.message(2, (t) => t.message(4, (s) => s.message(1, (e) => e.message(1, (tt) => tt.int32(1, 8)))));
      });
      g.message(12, (v) => {
        v.string(1, "scores");
        v.message(2, (t) => {
          t.message(5, (m) => m.int32(1, 7));
          t.string(6, "a denotation");
        });
      });
    });
    w.message(8, (o) => {
      o.string(1, "ai.onnx.ml");
      o.int64(2, 3);
    });
    const info = readOnnxModelInfo(w.finish());
    assert.equal(info.irVersion, 9);
    assert.deepEqual(info.opsetImports, [{ domain: "ai.onnx.ml", version: 3 }]);
    assert.deepEqual(info.inputs, [
      { name: "half", type: { kind: "tensor", elemType: TensorDataType.BFLOAT16, shape: ["batch", 8] } },
      { name: "tokens", type: { kind: "sequence" } },
    ]);
    assert.deepEqual(info.outputs, [{ name: "scores", type: { kind: "map" } }]);
    assert.throws(() => onnxTensorSpecs(info.inputs), /element type 16, which has no NumPy dtype/);
    assert.throws(() => onnxTensorSpecs(info.outputs), /scores is a map, not a tensor/);
  });

  it("throws MlError for bytes that are not an ONNX model", () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /not an ONNX model: it has no ir_version/],
      [new TextEncoder().encode("not a protobuf at all"), /not an ONNX model/],
      [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), /not an ONNX model/],
      [new ProtoWriter().int64(1, 8).finish(), /not an ONNX model: it has no graph/],
      [exportLinearModelToOnnx(binary).subarray(0, 100), /not an ONNX model: protobuf: truncated/],
    ];
    for (const [bytes, message] of cases) {
      assert.throws(
        () => readOnnxModelInfo(bytes),
        (e: unknown) => e instanceof MlError && message.test(e.message),
        String(message),
      );
    }
  });
});
