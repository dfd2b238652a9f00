import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MLmodelError } from "./errors.js";
import {
  describeFlavors,
  getOnnxFlavor,
  getSlipwayFlavor,
  onnxFlavors,
  parseFlavor,
  parseSlipwayFlavor,
  slipwayFlavor,
} from "./flavors.js";

describe("the onnx flavor", () => {
  it("is written exactly as mlflow.onnx.save_model writes it, with MLflow's python_function block", () => {
    assert.deepEqual(onnxFlavors({ onnxVersion: "1.16.1", pythonVersion: "3.11.9" }), {
      onnx: {
        code: null,
        data: "model.onnx",
        onnx_session_options: null,
        onnx_version: "1.16.1",
        providers: ["CUDAExecutionProvider", "CPUExecutionProvider"],
      },
      python_function: {
        data: "model.onnx",
        env: { conda: "conda.yaml", virtualenv: "python_env.yaml" },
        loader_module: "mlflow.onnx",
        python_version: "3.11.9",
      },
    });
  });

  it("takes providers, session options and code, and can leave out python_function or its env", () => {
    const flavors = onnxFlavors({
      onnxVersion: "1.17.0",
      providers: ["CPUExecutionProvider"],
      sessionOptions: { intra_op_num_threads: 2 },
      code: "code",
      env: null,
    });
    assert.deepEqual(flavors.onnx?.providers, ["CPUExecutionProvider"]);
    assert.deepEqual(flavors.onnx?.onnx_session_options, { intra_op_num_threads: 2 });
    assert.deepEqual(flavors.python_function, { code: "code", data: "model.onnx", loader_module: "mlflow.onnx" });
    assert.deepEqual(Object.keys(onnxFlavors({ onnxVersion: "1.17.0", pythonFunction: false })), ["onnx"]);
    assert.equal(getOnnxFlavor(flavors)?.onnx_version, "1.17.0");
  });

  it("reads an unquoted numeric onnx_version as text and refuses a data path outside the package", () => {
    assert.equal(parseFlavor("onnx", { onnx_version: 1.15, data: "model.onnx" }).onnx_version, "1.15");
    assert.throws(
      () => parseFlavor("onnx", { onnx_version: "1.16.1", data: "/abs/model.onnx" }),
      (e: unknown) => e instanceof MLmodelError && e.field === "flavors.onnx.data" && /relative path/.test(e.message),
    );
  });
});

describe("the slipway flavor", () => {
  it("names the predictor kind, its data path and its format version", () => {
    const flavors = slipwayFlavor({ predictor: "logistic-regression", data: "./model/weights.json" });
    assert.deepEqual(flavors, {
      slipway: { predictor: "logistic-regression", data: "model/weights.json", version: 1 },
    });
    assert.deepEqual(getSlipwayFlavor(flavors), flavors.slipway);
    assert.equal(getSlipwayFlavor({}), undefined);
    assert.equal(parseSlipwayFlavor({ predictor: "gguf", data: "m.gguf", version: 3, context: 4096 }).context, 4096);
  });

  it("refuses bad entries with the field", () => {
    const fails = (config: unknown, field: string, message: RegExp) =>
      assert.throws(
        () => parseSlipwayFlavor(config),
        (e: unknown) => e instanceof MLmodelError && e.field === field && message.test(e.message),
      );
    fails("linear", "flavors.slipway", /must be a mapping, got a string/);
    fails({ predictor: "linear", version: 1 }, "flavors.slipway.data", /is missing/);
    fails({ predictor: "linear", data: "a/../../b", version: 1 }, "flavors.slipway.data", /'\.\.' is not allowed/);
    fails({ predictor: "linear", data: "w.json" }, "flavors.slipway.version", /is missing/);
    fails(
      { predictor: "linear", data: "w.json", version: "1" },
      "flavors.slipway.version",
      /positive integer, got '1'/,
    );
  });
});

describe("describeFlavors", () => {
  it("gives one line per flavor and says which ones have no loader", () => {
    const flavors = {
      ...onnxFlavors({ onnxVersion: "1.16.1", pythonVersion: "3.11.9" }),
      ...slipwayFlavor({ predictor: "linear", data: "w.json" }),
      sklearn: { pickled_model: "model.pkl", sklearn_version: "1.5.1" },
    };
    assert.deepEqual(describeFlavors(flavors), [
      {
        flavor: "onnx",
        loadable: true,
        data: "model.onnx",
        summary: "ONNX model model.onnx (onnx 1.16.1; providers: CUDA, CPU)",
      },
      {
        flavor: "python_function",
        loadable: false,
        data: "model.onnx",
        summary: "MLflow python_function via mlflow.onnx (Python 3.11.9) — no loader here",
      },
      {
        flavor: "slipway",
        loadable: true,
        data: "w.json",
        summary: "Slipway linear predictor, data w.json (format version 1)",
      },
      { flavor: "sklearn", loadable: false, summary: "sklearn flavor (sklearn 1.5.1) — no loader here" },
    ]);
    assert.equal(describeFlavors(flavors, ["sklearn"]).find((d) => d.flavor === "sklearn")?.loadable, true);
  });
});
