/**
 * The ONNX predictor on real onnxruntime-node sessions, with packages exported by `@slipway/ml`, compared
 * with a float64 reference computed here from the same linear model parameters.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { onnxFlavors, type LinearModelParams, type MLmodel } from "@slipway/ml";
import { compileBatchBuilder } from "../input/build-batch.js";
import {
  irisParams,
  regressorParams,
  spamParams,
  writeOnnxPackage,
  type OnnxPackage,
  type SignatureStyle,
} from "../testing/onnx-package.js";
import { loadOnnxPredictor } from "./onnx.js";
import { PredictorLoadError, type Predictor } from "./predictor.js";
import { builtinPredictors } from "./builtin.js";

const packages: OnnxPackage[] = [];
after(async () => {
  await Promise.all(packages.map((p) => p.remove()));
});

async function load(
  params: LinearModelParams,
  signature: SignatureStyle,
): Promise<{ predictor: Predictor; pkg: OnnxPackage }> {
  const pkg = await writeOnnxPackage({ params, signature });
  packages.push(pkg);
  return { predictor: await loadOnnxPredictor(pkg.dir, pkg.mlmodel), pkg };
}

/** scores = X · Wᵀ + b on float32-rounded X; softmax probabilities; arg max labels. */
function reference(
  params: LinearModelParams,
  rows: number[][],
): { labels: (string | number)[]; probabilities: number[][] } {
  const labels: (string | number)[] = [];
  const probabilities: number[][] = [];
  for (const row of rows) {
    const x = row.map((v) => Math.fround(v));
    const scores = Array.from({ length: params.nOutputs }, (_, k) => {
      let s = params.bias[k]!;
      for (let j = 0; j < params.nFeatures; j++) s += params.weights[k * params.nFeatures + j]! * x[j]!;
      return s;
    });
    const classScores = params.link === "sigmoid" ? [-scores[0]!, scores[0]!] : scores;
    const max = Math.max(...classScores);
    const exps = classScores.map((s) => Math.exp(s - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    probabilities.push(
      params.link === "sigmoid"
        ? [1 / (1 + Math.exp(scores[0]!)), 1 / (1 + Math.exp(-scores[0]!))]
        : exps.map((e) => e / sum),
    );
    labels.push(params.classes![classScores.indexOf(max)]!);
  }
  return { labels, probabilities };
}

const ROWS = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0.3, 0.2, 0.1, 4],
];

describe("the ONNX predictor", () => {
  for (const style of ["mlflow-tensor", "named-tensor", "none"] as const) {
    it(`serves a classifier with signature style '${style}', matching the float64 reference`, async () => {
      const { predictor } = await load(irisParams(), style);
      assert.equal(predictor.kind, "onnx");
      assert.equal(predictor.platform, "onnx_onnxv1");
      assert.equal(predictor.batchable, true);
      assert.equal(predictor.labelOutput, "label");
      assert.deepEqual(predictor.signature.inputs, {
        kind: "tensors",
        tensors: [{ name: "input", dtype: "float32", shape: [-1, 4] }],
      });
      await predictor.warmup();
      const batch = compileBatchBuilder(predictor.signature)({ form: "rows", rows: ROWS });
      const prediction = await predictor.predict(batch);
      assert.equal(prediction.rows, 4);
      assert.deepEqual([...prediction.outputs.keys()], ["label", "probabilities"]);
      const label = prediction.outputs.get("label")!;
      assert.equal(label.dtype, "int64");
      assert.deepEqual(label.shape, [4]);
      const want = reference(irisParams(), ROWS);
      assert.deepEqual([...label.data].map(Number), want.labels);
      const probabilities = prediction.outputs.get("probabilities")!;
      assert.equal(probabilities.dtype, "float32");
      assert.deepEqual(probabilities.shape, [4, 3]);
      want.probabilities.flat().forEach((p, i) => assert.ok(Math.abs(Number(probabilities.data[i]) - p) < 1e-6));
      await predictor.close();
    });
  }

  it("feeds a column signature as one [rows, columns] tensor, as MLflow feeds a data frame", async () => {
    const { predictor } = await load(irisParams(), "columns");
    assert.equal(predictor.signature.inputs.kind, "columns");
    const columns = ["f0", "f1", "f2", "f3"].map((name, j): [string, unknown[]] => [name, ROWS.map((r) => r[j])]);
    const batch = compileBatchBuilder(predictor.signature)({ form: "columns", rows: 4, columns: new Map(columns) });
    const prediction = await predictor.predict(batch);
    assert.deepEqual([...prediction.outputs.get("label")!.data].map(Number), reference(irisParams(), ROWS).labels);
    await predictor.close();
  });

  it("returns string labels as strings, and regressions without a label output", async () => {
    const spam = (await load(spamParams(), "named-tensor")).predictor;
    const rows = [
      [3, 1],
      [1, 3],
    ];
    const out = await spam.predict(compileBatchBuilder(spam.signature)({ form: "rows", rows }));
    assert.deepEqual(out.outputs.get("label"), { dtype: "str", shape: [2], data: ["spam", "ham"] });
    assert.equal(spam.labelOutput, "label");
    await spam.close();

    const regressor = (await load(regressorParams(), "mlflow-tensor")).predictor;
    assert.equal(regressor.labelOutput, undefined);
    const values = await regressor.predict(
      compileBatchBuilder(regressor.signature)({ form: "rows", rows: [[1, 2, 3]] }),
    );
    const variable = values.outputs.get("variable")!;
    assert.equal(variable.dtype, "float32");
    assert.deepEqual(variable.shape, [1, 2]);
    assert.deepEqual([...variable.data], [6, -2]);
    await regressor.close();
  });

  it("takes the package's session options", async () => {
    const pkg = await writeOnnxPackage();
    packages.push(pkg);
    const mlmodel: MLmodel = {
      ...pkg.mlmodel,
      flavors: onnxFlavors({
        onnxVersion: "1.16.1",
        sessionOptions: { intra_op_num_threads: 1, execution_mode: "sequential", graph_optimization_level: 99 },
      }),
    };
    const predictor = await loadOnnxPredictor(pkg.dir, mlmodel);
    await predictor.warmup();
    await predictor.close();
  });

  it("refuses a package it cannot load, saying why", async () => {
    const pkg = await writeOnnxPackage();
    packages.push(pkg);
    const fails = async (mlmodel: MLmodel, message: RegExp) =>
      assert.rejects(
        loadOnnxPredictor(pkg.dir, mlmodel),
        (e: unknown) => e instanceof PredictorLoadError && message.test(e.message),
      );
    await fails(
      { ...pkg.mlmodel, flavors: onnxFlavors({ onnxVersion: "1", data: "missing.onnx" }) },
      /cannot read the ONNX model 'missing\.onnx'/,
    );
    await writeFile(join(pkg.dir, "junk.onnx"), "not a model");
    await fails(
      { ...pkg.mlmodel, flavors: onnxFlavors({ onnxVersion: "1", data: "junk.onnx" }) },
      /'junk\.onnx' not an ONNX model/,
    );
    await fails(
      {
        ...pkg.mlmodel,
        signature: { inputs: { kind: "tensors", tensors: [{ name: "features", dtype: "float32", shape: [-1, 4] }] } },
      },
      /the signature names input tensor 'features', which the graph does not have \(its inputs: input\)/,
    );
    await fails({ flavors: { sklearn: { pickled_model: "m.pkl" } } }, /no 'onnx' flavor/);
  });
});

describe("builtinPredictors", () => {
  it("loads onnx packages and names what it cannot load", async () => {
    const registry = builtinPredictors();
    assert.deepEqual(registry.supportedFlavors(), ["slipway", "onnx"]);
    assert.equal(registry.resolve({ flavors: onnxFlavors({ onnxVersion: "1" }) }).key, "onnx");
    assert.throws(
      () => registry.resolve({ flavors: { slipway: { predictor: "gguf", data: "m.gguf", version: 1 }, sklearn: {} } }),
      (e: unknown) =>
        e instanceof PredictorLoadError &&
        /it has slipway \(predictor 'gguf'\), 'sklearn'; the predictors here are 'onnx', slipway 'text-classifier'/.test(
          e.message,
        ),
    );
  });

  it("prefers a registered Slipway predictor kind over other flavors", async () => {
    const registry = builtinPredictors();
    const native = async (): Promise<Predictor> => {
      throw new Error("native");
    };
    registry.registerSlipwayPredictor("text-classifier", native); // replaces the built-in one
    const both: MLmodel = {
      flavors: {
        slipway: { predictor: "text-classifier", data: "pipeline.json", version: 1 },
        ...onnxFlavors({ onnxVersion: "1" }),
      },
    };
    assert.deepEqual(registry.resolve(both), { key: "slipway/text-classifier", loader: native });
    assert.throws(() => registry.registerFlavor("slipway", native), /by kind/);
  });
});
