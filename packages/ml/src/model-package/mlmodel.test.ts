import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MLmodelError } from "./errors.js";
import { onnxFlavors, slipwayFlavor } from "./flavors.js";
import { checkPackageFiles, formatUtcTime, parseMLmodel, writeMLmodel, type MLmodel } from "./mlmodel.js";

/**
 * An MLmodel as MLflow 2.17's Python client writes it for `mlflow.onnx.log_model(onnx_model, "model",
 * signature=..., input_example=...)`: `Model.to_dict()` through PyYAML's `safe_dump` (keys sorted,
 * long quoted strings folded at 80 columns, the time single-quoted because YAML 1.1 would read it as a
 * timestamp).
 */
const MLFLOW_ONNX_MLMODEL = `artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.16.1
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.9
mlflow_version: 2.17.2
model_size_bytes: 1342
model_uuid: 6a2b8a1b1c2b4e6f9a0d3c4b5e6f7a8b
run_id: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
saved_input_example_info:
  artifact_path: input_example.json
  format: tf-serving
  serving_input_path: serving_input_example.json
  type: ndarray
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
  outputs: '[{"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64",
    "shape": [-1]}}, {"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype":
    "float32", "shape": [-1, 3]}}]'
  params: null
utc_time_created: '2024-06-20 09:12:33.123456'
`;

/** A column-signature model (as `mlflow.sklearn.log_model` writes one), with MLflow 3 keys Slipway does not know. */
const MLFLOW_SKLEARN_MLMODEL = `artifact_path: iris_rf
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.9
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.1
is_signature_from_type_hint: false
metadata:
  owner: team-a
mlflow_version: 3.1.0
model_id: m-5e0b2c6a4a2c4f0e8f51c4c4b0a3a7d2
model_size_bytes: 180213
model_uuid: m-5e0b2c6a4a2c4f0e8f51c4c4b0a3a7d2
run_id: 4b1f7c3d2e9a4e51a0d0b6f5c8e7d6a1
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type":
    "double", "name": "sepal width (cm)", "required": true}, {"type": "string", "name":
    "note", "required": false}]'
  outputs: '[{"type": "long", "required": true}]'
  params: '[{"name": "threshold", "default": 0.5, "shape": null, "type": "double"}]'
type_hint_from_example: false
utc_time_created: '2025-06-02 14:03:10.402113'
`;

function throwsField(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MLmodelError, `expected an MLmodelError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(error.message, message);
    assert.ok(error.message.startsWith(`${field}: `), error.message);
    return true;
  });
}

describe("parseMLmodel", () => {
  it("reads an MLmodel written by MLflow's Python client for an ONNX model", () => {
    const model = parseMLmodel(MLFLOW_ONNX_MLMODEL, { supportedFlavors: ["slipway", "onnx"] });
    assert.equal(model.artifact_path, "model");
    assert.equal(model.run_id, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    assert.equal(model.model_uuid, "6a2b8a1b1c2b4e6f9a0d3c4b5e6f7a8b");
    assert.equal(model.utc_time_created, "2024-06-20 09:12:33.123456");
    assert.equal(model.mlflow_version, "2.17.2");
    assert.equal(model.model_size_bytes, 1342);
    assert.deepEqual(model.flavors.onnx, {
      code: null,
      data: "model.onnx",
      onnx_session_options: null,
      onnx_version: "1.16.1",
      providers: ["CUDAExecutionProvider", "CPUExecutionProvider"],
    });
    assert.equal(model.flavors.python_function?.loader_module, "mlflow.onnx");
    assert.deepEqual(model.saved_input_example_info, {
      artifact_path: "input_example.json",
      format: "tf-serving",
      serving_input_path: "serving_input_example.json",
      type: "ndarray",
    });
    assert.deepEqual(model.signature, {
      inputs: { kind: "tensors", tensors: [{ dtype: "float32", shape: [-1, 4] }] },
      outputs: {
        kind: "tensors",
        tensors: [
          { name: "label", dtype: "int64", shape: [-1] },
          { name: "probabilities", dtype: "float32", shape: [-1, 3] },
        ],
      },
    });
    assert.equal(model.extra, undefined);
  });

  it("reads column signatures, params, metadata and keeps keys it does not know (MLflow 3)", () => {
    const model = parseMLmodel(MLFLOW_SKLEARN_MLMODEL);
    assert.deepEqual(model.signature?.inputs, {
      kind: "columns",
      columns: [
        { name: "sepal length (cm)", type: "double", required: true },
        { name: "sepal width (cm)", type: "double", required: true },
        { name: "note", type: "string", required: false },
      ],
    });
    assert.deepEqual(model.signature?.outputs, { kind: "columns", columns: [{ type: "long", required: true }] });
    assert.deepEqual(model.signature?.params, [{ name: "threshold", type: "double", default: 0.5, shape: null }]);
    assert.deepEqual(model.metadata, { owner: "team-a" });
    assert.deepEqual(model.extra, {
      is_signature_from_type_hint: false,
      model_id: "m-5e0b2c6a4a2c4f0e8f51c4c4b0a3a7d2",
      type_hint_from_example: false,
    });
  });

  it("reads YAML as PyYAML does, but keeps an unquoted timestamp as text", () => {
    const model = parseMLmodel(
      "flavors:\n  slipway: {predictor: linear, data: weights.json, version: 1}\nutc_time_created: 2024-06-20 09:12:33\nmetadata: {approved: yes}\n",
    );
    assert.equal(model.utc_time_created, "2024-06-20 09:12:33");
    assert.deepEqual(model.metadata, { approved: true });
  });
});

describe("writeMLmodel", () => {
  it("round-trips MLflow's ONNX MLmodel: same model, and text MLflow reads back the same", () => {
    const model = parseMLmodel(MLFLOW_ONNX_MLMODEL);
    const written = writeMLmodel(model);
    assert.deepEqual(parseMLmodel(written), model);
    // a second write is byte-identical
    assert.equal(writeMLmodel(parseMLmodel(written)), written);
    // laid out as PyYAML lays it out: keys sorted, sequences not indented, the time quoted
    const keys = written
      .split("\n")
      .filter((l) => /^[a-z_]+:/.test(l))
      .map((l) => l.slice(0, l.indexOf(":")));
    assert.deepEqual(keys, [...keys].sort());
    assert.match(written, /^utc_time_created: '2024-06-20 09:12:33\.123456'$/m);
    assert.match(written, /^ {4}providers:\n {4}- CUDAExecutionProvider\n {4}- CPUExecutionProvider$/m);
    assert.match(written, /^ {4}code: null$/m);
    assert.match(written, /^ {4}onnx_version: 1\.16\.1$/m);
    // the signature strings are MLflow's JSON, character for character
    assert.match(
      written,
      /^ {2}inputs: '\[\{"type": "tensor", "tensor-spec": \{"dtype": "float32", "shape": \[-1, 4\]\}\}\]'$/m,
    );
    assert.match(
      written,
      /^ {2}outputs: '\[\{"name": "label", "type": "tensor", "tensor-spec": \{"dtype": "int64", "shape": \[-1\]\}\}, \{"name": "probabilities", "type": "tensor", "tensor-spec": \{"dtype": "float32", "shape": \[-1, 3\]\}\}\]'$/m,
    );
    assert.match(written, /^ {2}params: null$/m);
  });

  it("round-trips column signatures, params and unknown keys", () => {
    const model = parseMLmodel(MLFLOW_SKLEARN_MLMODEL);
    const written = writeMLmodel(model);
    assert.deepEqual(parseMLmodel(written), model);
    assert.match(
      written,
      /inputs: '\[\{"type": "double", "name": "sepal length \(cm\)", "required": true\}, \{"type": "double", "name": "sepal width \(cm\)", "required": true\}, \{"type": "string", "name": "note", "required": false\}\]'/,
    );
    assert.match(written, /params: '\[\{"name": "threshold", "default": 0\.5, "shape": null, "type": "double"\}\]'/);
    assert.match(written, /^model_id: m-5e0b2c6a4a2c4f0e8f51c4c4b0a3a7d2$/m);
  });

  it("writes a Slipway package built in code, and quotes strings YAML 1.1 would misread", () => {
    const model: MLmodel = {
      artifact_path: "model",
      flavors: {
        ...slipwayFlavor({ predictor: "text-classifier", data: "model/weights.json" }),
        ...onnxFlavors({ onnxVersion: "1.17.0" }),
      },
      signature: {
        inputs: { kind: "columns", columns: [{ name: "text", type: "string", required: true }] },
        outputs: { kind: "columns", columns: [{ name: "label", type: "string", required: true }] },
      },
      utc_time_created: formatUtcTime(new Date("2025-01-02T03:04:05.678Z")),
      metadata: { approved: "yes", version: "1.10", window: "1:20" },
    };
    const written = writeMLmodel(model);
    assert.match(written, /^utc_time_created: '2025-01-02 03:04:05\.678000'$/m);
    assert.match(written, /^ {4}predictor: text-classifier$/m);
    assert.match(written, /^ {4}version: 1$/m);
    assert.match(written, /^ {2}approved: 'yes'$/m);
    assert.match(written, /^ {2}version: '1\.10'$/m);
    assert.match(written, /^ {2}window: '1:20'$/m);
    const back = parseMLmodel(written, { supportedFlavors: ["slipway"] });
    assert.deepEqual(back.metadata, model.metadata);
    assert.deepEqual(back.flavors.slipway, { data: "model/weights.json", predictor: "text-classifier", version: 1 });
    assert.equal(back.flavors.python_function?.loader_module, "mlflow.onnx");
  });

  it("refuses to write an invalid model", () => {
    throwsField(() => writeMLmodel({ flavors: {} }), "flavors", /is empty/);
    throwsField(
      () => writeMLmodel({ flavors: { slipway: { predictor: "linear", data: "../x", version: 1 } } }),
      "flavors.slipway.data",
      /must not leave the package/,
    );
  });
});

describe("malformed MLmodel files", () => {
  const slipway = "flavors:\n  slipway: {predictor: linear, data: weights.json, version: 1}\n";

  it("names the field and the problem", () => {
    throwsField(() => parseMLmodel("flavors: [a\n"), "MLmodel", /is not valid YAML: .* at line 2, column 1$/);
    throwsField(() => parseMLmodel(""), "MLmodel", /is empty/);
    throwsField(() => parseMLmodel("- a\n- b\n"), "MLmodel", /must be a YAML mapping, got a list/);
    throwsField(() => parseMLmodel("flavors: {}\nflavors: {}\n"), "MLmodel", /not valid YAML.*[Dd]uplicate|unique/);
    throwsField(() => parseMLmodel("artifact_path: model\n"), "flavors", /is missing/);
    throwsField(() => parseMLmodel("flavors: {}\n"), "flavors", /is empty/);
    throwsField(() => parseMLmodel("flavors: onnx\n"), "flavors", /must be a mapping of flavor names, got a string/);
    throwsField(() => parseMLmodel("flavors:\n  sklearn: model.pkl\n"), "flavors.sklearn", /must be a mapping/);
    throwsField(
      () => parseMLmodel(`${slipway}utc_time_created: 'June 20th'\n`),
      "utc_time_created",
      /'June 20th' is not a UTC time as MLflow writes it \(YYYY-MM-DD HH:MM:SS\.ffffff\)/,
    );
    throwsField(
      () => parseMLmodel(`${slipway}utc_time_created: '2024-13-01 00:00:00'\n`),
      "utc_time_created",
      /not a UTC time/,
    );
    throwsField(() => parseMLmodel(`${slipway}model_size_bytes: -3\n`), "model_size_bytes", /got -3/);
    throwsField(() => parseMLmodel(`${slipway}run_id: [1]\n`), "run_id", /must be a string, got a list/);
    throwsField(() => parseMLmodel(`${slipway}metadata: [1]\n`), "metadata", /must be a mapping/);
    throwsField(
      () => parseMLmodel(`${slipway}saved_input_example_info: {artifact_path: /etc/passwd, type: json_object}\n`),
      "saved_input_example_info.artifact_path",
      /must be a relative path/,
    );
    throwsField(
      () => parseMLmodel(`${slipway}saved_input_example_info: {artifact_path: input_example.json}\n`),
      "saved_input_example_info.type",
      /is missing/,
    );
  });

  it("refuses a package with no flavor the caller can load", () => {
    throwsField(
      () => parseMLmodel(MLFLOW_SKLEARN_MLMODEL, { supportedFlavors: ["slipway", "onnx"] }),
      "flavors",
      /no flavor here can load this model: it has 'python_function', 'sklearn', and the loaders here are for 'slipway', 'onnx'/,
    );
    throwsField(() => parseMLmodel(slipway, { supportedFlavors: [] }), "flavors", /loaders here are for no flavor/);
  });

  it("checks the flavors Slipway knows", () => {
    throwsField(
      () => parseMLmodel("flavors:\n  slipway: {data: w.json, version: 1}\n"),
      "flavors.slipway.predictor",
      /is missing/,
    );
    throwsField(
      () => parseMLmodel("flavors:\n  slipway: {predictor: 'Linear Model', data: w.json, version: 1}\n"),
      "flavors.slipway.predictor",
      /'Linear Model' is not a predictor kind/,
    );
    throwsField(
      () => parseMLmodel("flavors:\n  slipway: {predictor: linear, data: w.json, version: 0}\n"),
      "flavors.slipway.version",
      /must be a positive integer, got 0/,
    );
    throwsField(
      () => parseMLmodel("flavors:\n  onnx: {data: model.onnx}\n"),
      "flavors.onnx.onnx_version",
      /is missing/,
    );
    throwsField(
      () => parseMLmodel("flavors:\n  onnx: {data: model.onnx, onnx_version: 1.16.1, providers: CPU}\n"),
      "flavors.onnx.providers",
      /must be a list of execution provider names/,
    );
    throwsField(
      () => parseMLmodel("flavors:\n  python_function: {data: model.onnx}\n"),
      "flavors.python_function.loader_module",
      /is missing/,
    );
  });

  it("points into broken signatures", () => {
    throwsField(
      () => parseMLmodel(`${slipway}signature:\n  inputs: '[{"type": "double", "name": "x"'\n`),
      "signature.inputs",
      /is not valid JSON/,
    );
    throwsField(
      () => parseMLmodel(`${slipway}signature:\n  inputs: '[{"type": "int", "name": "x"}]'\n`),
      "signature.inputs[0].type",
      /'int' is not an MLflow column type; use one of boolean, integer, long, float, double, string, binary, datetime/,
    );
    throwsField(
      () =>
        parseMLmodel(
          `${slipway}signature:\n  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float", "shape": [-1]}}]'\n`,
        ),
      "signature.outputs[0].tensor-spec.dtype",
      /'float' is not a NumPy dtype MLflow writes/,
    );
    throwsField(
      () => parseMLmodel(`${slipway}signature:\n  inputs: [{type: double}]\n`),
      "signature.inputs",
      /must be a JSON string \(a list of column or tensor specs\), got a list/,
    );
    throwsField(() => parseMLmodel(`${slipway}signature: yes\n`), "signature", /must be a mapping/);
  });
});

describe("checkPackageFiles", () => {
  it("finds the files the flavors and the input example name", () => {
    const model = parseMLmodel(MLFLOW_ONNX_MLMODEL);
    const files = ["MLmodel", "model.onnx", "input_example.json", "serving_input_example.json", "conda.yaml"];
    checkPackageFiles(model, files);
    throwsField(
      () =>
        checkPackageFiles(
          model,
          files.filter((f) => f !== "model.onnx"),
        ),
      "flavors.onnx.data",
      /'model\.onnx' is not in the package/,
    );
    throwsField(
      () =>
        checkPackageFiles(
          model,
          files.filter((f) => f !== "serving_input_example.json"),
        ),
      "saved_input_example_info.serving_input_path",
      /is not in the package/,
    );
    const slipway = parseMLmodel("flavors:\n  slipway: {predictor: linear, data: weights, version: 1}\n");
    checkPackageFiles(slipway, ["MLmodel", "weights/coef.json"]);
    throwsField(() => checkPackageFiles(slipway, ["MLmodel", "weights.json"]), "flavors.slipway.data", /'weights'/);
  });
});

describe("formatUtcTime", () => {
  it("writes Python's str(datetime) layout in UTC", () => {
    assert.equal(formatUtcTime(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6))), "2024-01-02 03:04:05.006000");
  });
});
