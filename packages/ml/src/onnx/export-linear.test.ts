/**
 * Tests of the ONNX export of linear models, run in onnxruntime and compared with a float64 reference
 * computed here (scores = X · Wᵀ + b on the float32-rounded X, then the link): probabilities and values
 * within 1e-5 max abs, labels equal (arg max of the scores, first class on ties; for sigmoid, classes[1]
 * exactly when the score is > 0). Inputs include rows scaled up to scores in the thousands, where
 * sigmoid and softmax saturate. The measured differences are reported as test diagnostics.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import * as ort from "onnxruntime-node";
import { MlError } from "../core/errors.js";
import type { Label, LinearModelParams } from "../core/linear.js";
import { Random } from "../core/random.js";
import { exportLinearModelToOnnx, onnxSignature, type LinearOnnxOptions } from "./export-linear.js";
import { readOnnxModelInfo } from "./onnx-inspect.js";
import { ONNX_VERSION } from "./onnx-model.js";
import { signatureToBlock, type ModelSignature } from "../model-package/signature.js";

const TOLERANCE = 1e-5;

interface Case {
  params: LinearModelParams;
  /** rows × nFeatures, row-major; rounded to float32 when the input is float32. */
  x: Float64Array;
  rows: number;
}

function randomParams(
  random: Random,
  link: LinearModelParams["link"],
  nFeatures: number,
  nOutputs: number,
  options: { classes?: readonly Label[]; weightScale?: number } = {},
): LinearModelParams {
  const scale = options.weightScale ?? 1;
  const params: LinearModelParams = {
    link,
    nFeatures,
    nOutputs,
    weights: Float64Array.from({ length: nOutputs * nFeatures }, () => random.normal() * scale),
    bias: Float64Array.from({ length: nOutputs }, () => random.normal()),
  };
  if (options.classes) params.classes = options.classes;
  return params;
}

/**
 * Random rows: standard normal, every 4th row scaled by 10^k (k = 1..3) so that scores reach the
 * thousands (saturation), and one all-zero row (scores = bias).
 */
function randomRows(random: Random, rows: number, nFeatures: number): Float64Array {
  const x = new Float64Array(rows * nFeatures);
  for (let i = 0; i < rows; i++) {
    const scale = i === 0 ? 0 : i % 4 === 3 ? 10 ** (1 + (i % 3)) : 1;
    for (let j = 0; j < nFeatures; j++) x[i * nFeatures + j] = random.normal() * scale;
  }
  return x;
}

/** The float64 reference: scores, then probabilities or values, and labels. */
function reference(params: LinearModelParams, x: Float64Array, rows: number) {
  const { nFeatures, nOutputs, weights, bias } = params;
  const scores = new Float64Array(rows * nOutputs);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < nOutputs; k++) {
      let s = bias[k] as number;
      for (let j = 0; j < nFeatures; j++)
        s += (x[i * nFeatures + j] as number) * (weights[k * nFeatures + j] as number);
      scores[i * nOutputs + k] = s;
    }
  }
  const maxScore = scores.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (params.link === "identity") return { values: scores, labels: [] as Label[], maxScore };
  const classes = params.classes ?? [];
  const nClasses = classes.length;
  const probabilities = new Float64Array(rows * nClasses);
  const labels: Label[] = [];
  for (let i = 0; i < rows; i++) {
    if (params.link === "sigmoid") {
      const s = scores[i] as number;
      const p = 1 / (1 + Math.exp(-s));
      probabilities[2 * i] = 1 - p;
      probabilities[2 * i + 1] = p;
      labels.push(classes[s > 0 ? 1 : 0] as Label);
      continue;
    }
    const row = scores.subarray(i * nClasses, (i + 1) * nClasses);
    let best = 0;
    for (let k = 1; k < nClasses; k++) if ((row[k] as number) > (row[best] as number)) best = k;
    const max = row[best] as number;
    let sum = 0;
    for (let k = 0; k < nClasses; k++) sum += Math.exp((row[k] as number) - max);
    for (let k = 0; k < nClasses; k++) probabilities[i * nClasses + k] = Math.exp((row[k] as number) - max) / sum;
    labels.push(classes[best] as Label);
  }
  return { values: probabilities, labels, maxScore };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    if (!(d <= max)) max = d; // NaN propagates
  }
  return max;
}

function labelsOf(tensor: ort.Tensor): Label[] {
  const data = tensor.data;
  if (data instanceof BigInt64Array) return Array.from(data, Number);
  if (data instanceof Float64Array) return Array.from(data);
  return [...(data as string[])];
}

/** Exports, runs in onnxruntime and compares with the reference; returns the max abs difference. */
async function runCase(t: TestContext, name: string, c: Case, options: LinearOnnxOptions = {}): Promise<number> {
  const { params, rows } = c;
  const inputType = options.inputType ?? "float32";
  const x = inputType === "float32" ? Float64Array.from(c.x, Math.fround) : c.x;
  const bytes = exportLinearModelToOnnx(params, options);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = {
      [options.inputName ?? "input"]: new ort.Tensor(inputType, inputType === "float32" ? Float32Array.from(x) : x, [
        rows,
        params.nFeatures,
      ]),
    };
    const out = await session.run(feeds);
    const expected = reference(params, x, rows);
    let diff: number;
    if (params.link === "identity") {
      const variable = out.variable;
      assert.ok(variable, "the model outputs `variable`");
      assert.equal(variable.type, inputType);
      assert.deepEqual(variable.dims, [rows, params.nOutputs]);
      diff = maxAbsDiff(variable.data as Float32Array | Float64Array, expected.values);
    } else {
      const { label, probabilities } = out;
      assert.ok(label && probabilities, "the model outputs `label` and `probabilities`");
      const nClasses = params.classes?.length ?? 0;
      assert.equal(probabilities.type, "float32");
      assert.deepEqual(probabilities.dims, [rows, nClasses]);
      assert.deepEqual(label.dims, [rows]);
      diff = maxAbsDiff(probabilities.data as Float32Array, expected.values);
      assert.deepEqual(labelsOf(label), expected.labels);
    }
    t.diagnostic(`${name}: max abs diff ${diff.toExponential(2)} (max |score| ${expected.maxScore.toFixed(1)})`);
    assert.ok(diff <= TOLERANCE, `${name}: max abs diff ${diff} > ${TOLERANCE}`);
    return diff;
  } finally {
    await session.release();
  }
}

describe("exportLinearModelToOnnx in onnxruntime", () => {
  it("binary classifier (sigmoid) with integer labels: int64 labels, [1 − p, p]", async (t) => {
    const random = new Random(1);
    const params = randomParams(random, "sigmoid", 12, 1, { classes: [-1, 7] });
    await runCase(t, "sigmoid, int labels", { params, x: randomRows(random, 200, 12), rows: 200 });
  });

  it("binary classifier (sigmoid) with string labels", async (t) => {
    const random = new Random(2);
    const params = randomParams(random, "sigmoid", 30, 1, { classes: ["ham", "spam"] });
    await runCase(t, "sigmoid, string labels", { params, x: randomRows(random, 200, 30), rows: 200 });
  });

  it("multinomial classifier (softmax) with 4 integer classes", async (t) => {
    const random = new Random(3);
    const params = randomParams(random, "softmax", 20, 4, { classes: [0, 1, 2, 5] });
    await runCase(t, "softmax, 4 int classes", { params, x: randomRows(random, 300, 20), rows: 300 });
  });

  it("multinomial classifier (softmax) with 3 string classes", async (t) => {
    const random = new Random(4);
    const params = randomParams(random, "softmax", 8, 3, { classes: ["setosa", "versicolor", "virginica"] });
    await runCase(t, "softmax, 3 string classes", { params, x: randomRows(random, 150, 8), rows: 150 });
  });

  it("classes that are non-integer numbers give double labels", async (t) => {
    const random = new Random(5);
    const params = randomParams(random, "softmax", 5, 3, { classes: [-0.5, 1.25, 3] });
    await runCase(t, "softmax, double labels", { params, x: randomRows(random, 50, 5), rows: 50 });
  });

  it("regression (identity) with 1 and 2 targets: variable [N, nOutputs] of the input type", async (t) => {
    const random = new Random(6);
    // float32 output: rows of moderate magnitude so that float32 rounding of the values stays below 1e-5
    const moderate = (rows: number, n: number): Float64Array =>
      Float64Array.from({ length: rows * n }, () => random.normal());
    const one = randomParams(random, "identity", 10, 1);
    await runCase(t, "regression, 1 target", { params: one, x: moderate(100, 10), rows: 100 });
    const two = randomParams(random, "identity", 10, 2);
    await runCase(t, "regression, 2 targets", { params: two, x: moderate(100, 10), rows: 100 });
  });

  it("regression with float64 input: double output, exact even for large values", async (t) => {
    const random = new Random(7);
    const params = randomParams(random, "identity", 40, 2);
    const diff = await runCase(
      t,
      "regression, float64 input",
      { params, x: randomRows(random, 100, 40), rows: 100 },
      { inputType: "float64", inputName: "features" },
    );
    assert.ok(diff < 1e-9);
  });

  it("regression with float32 output on large values: relative error of float32 rounding only", async (t) => {
    const random = new Random(8);
    const params = randomParams(random, "identity", 10, 2);
    const x = Float64Array.from(randomRows(random, 60, 10), Math.fround);
    const session = await ort.InferenceSession.create(exportLinearModelToOnnx(params));
    try {
      const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x), [60, 10]) });
      const got = out.variable?.data as Float32Array;
      const expected = reference(params, x, 60).values;
      let worst = 0;
      expected.forEach((v, i) => {
        worst = Math.max(worst, Math.abs((got[i] as number) - v) / Math.max(Math.abs(v), 1e-30));
      });
      t.diagnostic(
        `regression, float32 output, |y| up to ${Math.max(...expected.map(Math.abs)).toFixed(0)}: max rel diff ${worst.toExponential(2)}`,
      );
      assert.ok(worst <= 2 ** -24 * 1.01, `relative error ${worst}`);
    } finally {
      await session.release();
    }
  });

  it("classifiers with float64 input", async (t) => {
    const random = new Random(9);
    const sigmoid = randomParams(random, "sigmoid", 6, 1, { classes: [0, 1] });
    await runCase(
      t,
      "sigmoid, float64 input",
      { params: sigmoid, x: randomRows(random, 40, 6), rows: 40 },
      {
        inputType: "float64",
      },
    );
    const softmax = randomParams(random, "softmax", 6, 3, { classes: ["a", "b", "c"] });
    await runCase(
      t,
      "softmax, float64 input",
      { params: softmax, x: randomRows(random, 40, 6), rows: 40 },
      {
        inputType: "float64",
      },
    );
  });

  it("a wide binary model: 20,000 features × 2 classes, 64 rows (sparse TF-IDF-like and dense rows)", async (t) => {
    const random = new Random(10);
    const nFeatures = 20_000;
    const rows = 64;
    const params = randomParams(random, "sigmoid", nFeatures, 1, { classes: [0, 1], weightScale: 0.5 });
    const x = new Float64Array(rows * nFeatures);
    for (let i = 0; i < rows; i++) {
      const base = i * nFeatures;
      if (i % 2 === 0) {
        // ~300 non-zero TF-IDF-like values, L2-normalized
        let norm = 0;
        for (let k = 0; k < 300; k++) {
          const j = random.int(nFeatures);
          const v = random.next() + 0.01;
          x[base + j] = v;
        }
        for (let j = 0; j < nFeatures; j++) norm += (x[base + j] as number) ** 2;
        for (let j = 0; j < nFeatures; j++) x[base + j] = (x[base + j] as number) / Math.sqrt(norm);
      } else {
        // dense rows: scores of magnitude ~10 to ~1000
        const scale = 0.1 * 10 ** (i % 3);
        for (let j = 0; j < nFeatures; j++) x[base + j] = random.normal() * scale;
      }
    }
    await runCase(t, "wide sigmoid 20,000 features", { params, x, rows });
    // and the same width as a two-row softmax
    const softmax = randomParams(random, "softmax", nFeatures, 2, { classes: ["neg", "pos"], weightScale: 0.5 });
    await runCase(t, "wide softmax 20,000 features", { params: softmax, x, rows });
  });

  it("ties go to the first class; sigmoid gives classes[1] only for a score > 0", async () => {
    const softmax: LinearModelParams = {
      link: "softmax",
      nFeatures: 2,
      nOutputs: 3,
      weights: Float64Array.from([1, 0, 1, 0, 0, 1]),
      bias: Float64Array.from([0, 0, 0]),
      classes: ["a", "b", "c"],
    };
    const sigmoid: LinearModelParams = {
      link: "sigmoid",
      nFeatures: 1,
      nOutputs: 1,
      weights: Float64Array.from([1]),
      bias: Float64Array.from([0]),
      classes: [3, 4],
    };
    const run = async (params: LinearModelParams, x: number[]): Promise<Label[]> => {
      const session = await ort.InferenceSession.create(exportLinearModelToOnnx(params));
      try {
        const rows = x.length / params.nFeatures;
        const out = await session.run({
          input: new ort.Tensor("float32", Float32Array.from(x), [rows, params.nFeatures]),
        });
        return labelsOf(out.label as ort.Tensor);
      } finally {
        await session.release();
      }
    };
    // scores: [0,0,0] → a; [2,2,1] → a (a, b tie); [1,1,3] → c; [0,0,1e-30 as float32] → c
    assert.deepEqual(await run(softmax, [0, 0, 2, 1, 1, 3, 0, 1e-30]), ["a", "a", "c", "c"]);
    assert.deepEqual(await run(sigmoid, [0, -0, 1e-30, -1e-30, 1e4, -1e4]), [3, 3, 4, 3, 4, 3]);
  });
});

describe("the exported model's metadata and signature", () => {
  const random = new Random(20);
  const classifier = randomParams(random, "softmax", 7, 3, { classes: [1, 2, 3] });

  it("is IR 8, opset 17, produced by slipway, with the options' producer version and doc string", () => {
    const info = readOnnxModelInfo(
      exportLinearModelToOnnx(classifier, { producerVersion: "0.1.0", docString: "iris" }),
    );
    assert.equal(info.irVersion, 8);
    assert.deepEqual(info.opsetImports, [{ domain: "", version: 17 }]);
    assert.equal(info.producerName, "slipway");
    assert.equal(info.producerVersion, "0.1.0");
    assert.equal(info.docString, "iris");
    assert.equal(ONNX_VERSION, "1.12.0");
  });

  it("emits Cast, Gemm, ArgMax, Gather, Softmax|Sigmoid, Cast for classifiers; Cast, Gemm, Cast for regressors", () => {
    const ops = (params: LinearModelParams, options?: LinearOnnxOptions): string[] =>
      readOnnxModelInfo(exportLinearModelToOnnx(params, options)).nodes.map((n) => n.opType);
    assert.deepEqual(ops(classifier), ["Cast", "Gemm", "ArgMax", "Gather", "Softmax", "Cast"]);
    const binary = randomParams(random, "sigmoid", 4, 1, { classes: ["n", "y"] });
    assert.deepEqual(ops(binary), ["Cast", "Gemm", "Mul", "ArgMax", "Gather", "Sigmoid", "Cast"]);
    assert.deepEqual(ops(binary, { inputType: "float64" }), ["Gemm", "Mul", "ArgMax", "Gather", "Sigmoid", "Cast"]);
    const regressor = randomParams(random, "identity", 4, 2);
    assert.deepEqual(ops(regressor), ["Cast", "Gemm", "Cast"]);
    assert.deepEqual(ops(regressor, { inputType: "float64" }), ["Gemm"]);
  });

  it("onnxSignature gives MLflow tensor specs matching the graph", () => {
    assert.deepEqual(onnxSignature(classifier), {
      inputs: { kind: "tensors", tensors: [{ name: "input", dtype: "float32", shape: [-1, 7] }] },
      outputs: {
        kind: "tensors",
        tensors: [
          { name: "label", dtype: "int64", shape: [-1] },
          { name: "probabilities", dtype: "float32", shape: [-1, 3] },
        ],
      },
    });
    const strings = randomParams(random, "sigmoid", 3, 1, { classes: ["a", "b"] });
    assert.deepEqual(onnxSignature(strings, { inputName: "x", inputType: "float64" }).outputs.tensors, [
      { name: "label", dtype: "str", shape: [-1] },
      { name: "probabilities", dtype: "float32", shape: [-1, 2] },
    ]);
    const regressor = randomParams(random, "identity", 5, 1);
    assert.deepEqual(onnxSignature(regressor, { inputType: "float64" }), {
      inputs: { kind: "tensors", tensors: [{ name: "input", dtype: "float64", shape: [-1, 5] }] },
      outputs: { kind: "tensors", tensors: [{ name: "variable", dtype: "float64", shape: [-1, 1] }] },
    });
    const asMlflow: ModelSignature = onnxSignature(classifier);
    assert.deepEqual(signatureToBlock(asMlflow), {
      inputs: '[{"name": "input", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 7]}}]',
      outputs:
        '[{"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}, ' +
        '{"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]',
      params: null,
    });
    const doubles = randomParams(random, "softmax", 2, 2, { classes: [0.5, 1.5] });
    assert.deepEqual(onnxSignature(doubles).outputs.tensors[0], { name: "label", dtype: "float64", shape: [-1] });
  });
});

describe("invalid parameters", () => {
  const valid = (): LinearModelParams => ({
    link: "softmax",
    nFeatures: 2,
    nOutputs: 3,
    weights: new Float64Array(6),
    bias: new Float64Array(3),
    classes: [0, 1, 2],
  });
  const fails = (change: Partial<LinearModelParams>, message: RegExp, options?: LinearOnnxOptions): void => {
    const params = { ...valid(), ...change };
    for (const call of [() => exportLinearModelToOnnx(params, options), () => onnxSignature(params, options)]) {
      assert.throws(call, (error: unknown) => {
        assert.ok(error instanceof MlError, `expected MlError, got ${String(error)}`);
        assert.match(error.message, message);
        return true;
      });
    }
  };

  it("throws MlError naming the problem", () => {
    fails({ weights: new Float64Array(5) }, /weights have 5 values, expected nOutputs × nFeatures = 3 × 2 = 6/);
    fails({ weights: Float64Array.from([0, 0, 0, NaN, 0, 0]) }, /weight at row 1, column 1 is NaN/);
    fails({ bias: Float64Array.from([0, Infinity, 0]) }, /bias 1 is Infinity/);
    fails({ bias: new Float64Array(2) }, /bias has 2 values, expected nOutputs = 3/);
    fails(
      { link: "sigmoid", nOutputs: 1, weights: new Float64Array(2), bias: new Float64Array(1) },
      /sigmoid \(binary\) classifier has exactly 2 classes, got 3/,
    );
    fails({ link: "sigmoid" }, /sigmoid \(binary\) classifier has exactly 2 classes/);
    fails({ classes: [] }, /needs classes, got an empty list/);
    fails({ classes: undefined }, /a classifier \(link softmax\) needs classes/);
    fails({ classes: [0, 1] }, /2 classes but nOutputs = 3/);
    fails({ classes: [0, "a", 2] }, /classes mix 2 numbers and 1 strings/);
    fails({ classes: ["a", "b", "a"] }, /class "a" is listed twice/);
    fails({ classes: [0, 1, NaN] }, /class NaN is not a finite number/);
    fails({ link: "identity" }, /regression model \(link identity\) has no classes, got 3/);
    fails({ link: "logit" as LinearModelParams["link"] }, /link must be sigmoid, softmax or identity, got logit/);
    fails({ nFeatures: 0, weights: new Float64Array(0) }, /nFeatures must be a positive integer, got 0/);
    fails({}, /input name "label" is taken by the graph/, { inputName: "label" });
    fails({}, /input name must not be empty/, { inputName: "" });
    fails({}, /input type must be float32 or float64, got int32/, {
      inputType: "int32" as LinearOnnxOptions["inputType"],
    });
  });
});
