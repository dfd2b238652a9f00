/**
 * ONNX export of linear models (`LinearModelParams`: scores = X · Wᵀ + b, then a link), with the outputs
 * skl2onnx gives scikit-learn models (zipmap off), which MLflow's onnx flavor serves as they are:
 *
 * - classifiers (`sigmoid`, `softmax`): `label` [N] and `probabilities` [N, nClasses] (float32, columns in
 *   `classes` order; for `sigmoid`, [sigmoid(−s), sigmoid(s)], i.e. [1 − p, p]);
 * - regressors (`identity`): `variable` [N, nOutputs] (also for one target, as skl2onnx), of the input's
 *   type — so float32 for float32 input, rounding values to float32 (relative error ≤ 2^−24).
 *
 * The input is `input` [N, nFeatures] (float32 by default, or float64), N a symbolic batch dimension.
 * The graph computes in double — Cast to double, Gemm with double weights, link in double — and casts
 * the probabilities to float32 only at the end, so that scores of wide models (tens of thousands of
 * features) keep float64 accuracy. Labels are int64 when every class is an integer, double when classes
 * are other numbers, strings when classes are strings.
 *
 * Labels are the arg max of the scores, the first class winning ties (scikit-learn's `predict`); for
 * `sigmoid` the graph scores the two classes as (−s, s), so the label is `classes[1]` exactly when s > 0,
 * again as scikit-learn decides it.
 */
import { MlError } from "../core/errors.js";
import type { Label, LinearModelParams } from "../core/linear.js";
import type { Schema, TensorSpec } from "../model-package/signature.js";
import {
  ONNX_IR_VERSION,
  ONNX_OPSET_VERSION,
  ONNX_PRODUCER_NAME,
  TensorDataType,
  attribute,
  checkGraph,
  doubleTensor,
  encodeModel,
  int64Tensor,
  node,
  stringTensor,
  tensorValueInfo,
  type GraphProto,
  type NodeProto,
  type TensorProto,
} from "./onnx-model.js";

export interface LinearOnnxOptions {
  /** The graph input's name (default `input`). */
  inputName?: string;
  /** The graph input's element type (default `float32`). */
  inputType?: "float32" | "float64";
  /** `ModelProto.producer_version` (default: none). */
  producerVersion?: string;
  /** `ModelProto.doc_string` (default: none). */
  docString?: string;
}

/** A tensor-based schema (MLflow's `Schema` of `TensorSpec`s). */
export type TensorSchema = Extract<Schema, { kind: "tensors" }>;

/** The signature of an exported model: a `ModelSignature` with tensor inputs and outputs, no params. */
export interface OnnxTensorSignature {
  inputs: TensorSchema;
  outputs: TensorSchema;
}

/** The output names skl2onnx gives classifiers and regressors (with zipmap off). */
export const ONNX_LABEL_OUTPUT = "label";
export const ONNX_PROBABILITIES_OUTPUT = "probabilities";
export const ONNX_VARIABLE_OUTPUT = "variable";
/** The symbolic batch dimension of inputs and outputs. */
export const ONNX_BATCH_DIM = "N";

const DEFAULT_INPUT_NAME = "input";

// names of initializers and intermediate values, which the input must not take
const INTERNAL_NAMES = [
  "coefficients",
  "intercepts",
  "classes",
  "score_signs",
  "input_double",
  "scores",
  "signed_scores",
  "label_index",
  "probabilities_double",
  ONNX_LABEL_OUTPUT,
  ONNX_PROBABILITIES_OUTPUT,
  ONNX_VARIABLE_OUTPUT,
];

/** How the label output is typed, from the classes. */
type LabelKind = "int64" | "double" | "string";

interface CheckedParams {
  /** Absent for regressors (link `identity`). */
  classifier: { classes: readonly Label[]; labelKind: LabelKind } | undefined;
  inputName: string;
  inputType: "float32" | "float64";
}

/**
 * The model as the bytes of an `.onnx` file (IR 8, opset 17), loadable by onnxruntime.
 * Throws MlError when the parameters are inconsistent (lengths, non-finite values, classes).
 */
export function exportLinearModelToOnnx(params: LinearModelParams, options: LinearOnnxOptions = {}): Uint8Array {
  const { classifier, inputName, inputType } = checkParams(params, options);
  const { link, nFeatures, nOutputs } = params;
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [
    doubleTensor("coefficients", [nOutputs, nFeatures], params.weights),
    doubleTensor("intercepts", [nOutputs], params.bias),
  ];

  let x = inputName;
  if (inputType === "float32") {
    nodes.push(node("Cast", [inputName], ["input_double"], [attribute.int("to", TensorDataType.DOUBLE)]));
    x = "input_double";
  }
  const scores = !classifier && inputType === "float64" ? ONNX_VARIABLE_OUTPUT : "scores";
  // scores = x · coefficientsᵀ + intercepts, [N, nOutputs]
  nodes.push(node("Gemm", [x, "coefficients", "intercepts"], [scores], [attribute.int("transB", 1)]));

  const elemType = inputType === "float32" ? TensorDataType.FLOAT : TensorDataType.DOUBLE;
  const input = tensorValueInfo(inputName, elemType, [ONNX_BATCH_DIM, nFeatures]);

  if (!classifier) {
    if (scores !== ONNX_VARIABLE_OUTPUT) {
      nodes.push(node("Cast", [scores], [ONNX_VARIABLE_OUTPUT], [attribute.int("to", elemType)]));
    }
    const output = tensorValueInfo(ONNX_VARIABLE_OUTPUT, elemType, [ONNX_BATCH_DIM, nOutputs]);
    return encode({ name: "linear_regressor", nodes, initializers, inputs: [input], outputs: [output] }, options);
  }

  // classifiers: class scores [N, nClasses], then arg max → label, link → probabilities
  let classScores = scores;
  if (link === "sigmoid") {
    initializers.push(doubleTensor("score_signs", [2], [-1, 1]));
    nodes.push(node("Mul", [scores, "score_signs"], ["signed_scores"]));
    classScores = "signed_scores";
  }
  const nClasses = classifier.classes.length;
  initializers.push(classesTensor(classifier.classes, classifier.labelKind));
  nodes.push(
    node(
      "ArgMax",
      [classScores],
      ["label_index"],
      [attribute.int("axis", 1), attribute.int("keepdims", 0), attribute.int("select_last_index", 0)],
    ),
    node("Gather", ["classes", "label_index"], [ONNX_LABEL_OUTPUT], [attribute.int("axis", 0)]),
    link === "sigmoid"
      ? node("Sigmoid", [classScores], ["probabilities_double"])
      : node("Softmax", [classScores], ["probabilities_double"], [attribute.int("axis", 1)]),
    node("Cast", ["probabilities_double"], [ONNX_PROBABILITIES_OUTPUT], [attribute.int("to", TensorDataType.FLOAT)]),
  );
  const outputs = [
    tensorValueInfo(ONNX_LABEL_OUTPUT, labelElemType(classifier.labelKind), [ONNX_BATCH_DIM]),
    tensorValueInfo(ONNX_PROBABILITIES_OUTPUT, TensorDataType.FLOAT, [ONNX_BATCH_DIM, nClasses]),
  ];
  return encode({ name: "linear_classifier", nodes, initializers, inputs: [input], outputs }, options);
}

/**
 * The MLflow signature of the exported model: tensor specs of its input and outputs (NumPy dtypes,
 * `-1` for the batch dimension). String labels have dtype `str`.
 */
export function onnxSignature(params: LinearModelParams, options: LinearOnnxOptions = {}): OnnxTensorSignature {
  const { classifier, inputName, inputType } = checkParams(params, options);
  const inputs: TensorSpec[] = [{ name: inputName, dtype: inputType, shape: [-1, params.nFeatures] }];
  if (!classifier) {
    return {
      inputs: { kind: "tensors", tensors: inputs },
      outputs: {
        kind: "tensors",
        tensors: [{ name: ONNX_VARIABLE_OUTPUT, dtype: inputType, shape: [-1, params.nOutputs] }],
      },
    };
  }
  const labelDtype = { int64: "int64", double: "float64", string: "str" }[classifier.labelKind];
  return {
    inputs: { kind: "tensors", tensors: inputs },
    outputs: {
      kind: "tensors",
      tensors: [
        { name: ONNX_LABEL_OUTPUT, dtype: labelDtype, shape: [-1] },
        { name: ONNX_PROBABILITIES_OUTPUT, dtype: "float32", shape: [-1, classifier.classes.length] },
      ],
    },
  };
}

// ---------------------------------------------------------------------------------------------

function encode(graph: GraphProto, options: LinearOnnxOptions): Uint8Array {
  checkGraph(graph);
  return encodeModel({
    irVersion: ONNX_IR_VERSION,
    opsetImports: [{ domain: "", version: ONNX_OPSET_VERSION }],
    producerName: ONNX_PRODUCER_NAME,
    ...(options.producerVersion === undefined ? {} : { producerVersion: options.producerVersion }),
    ...(options.docString === undefined ? {} : { docString: options.docString }),
    graph,
  });
}

function labelElemType(kind: LabelKind): (typeof TensorDataType)[keyof typeof TensorDataType] {
  return kind === "int64" ? TensorDataType.INT64 : kind === "double" ? TensorDataType.DOUBLE : TensorDataType.STRING;
}

function classesTensor(classes: readonly Label[], kind: LabelKind): TensorProto {
  const n = classes.length;
  if (kind === "string") return stringTensor("classes", [n], classes as readonly string[]);
  if (kind === "int64") return int64Tensor("classes", [n], classes as readonly number[]);
  return doubleTensor("classes", [n], classes as readonly number[]);
}

/** Validates the parameters and options for export; throws MlError naming the first problem. */
function checkParams(params: LinearModelParams, options: LinearOnnxOptions): CheckedParams {
  const { link, nFeatures, nOutputs, weights, bias } = params;
  if (link !== "sigmoid" && link !== "softmax" && link !== "identity") {
    throw new MlError(`linear model link must be sigmoid, softmax or identity, got ${String(link)}`);
  }
  if (!Number.isSafeInteger(nFeatures) || nFeatures < 1) {
    throw new MlError(`linear model nFeatures must be a positive integer, got ${nFeatures}`);
  }
  if (!Number.isSafeInteger(nOutputs) || nOutputs < 1) {
    throw new MlError(`linear model nOutputs must be a positive integer, got ${nOutputs}`);
  }
  if (weights.length !== nOutputs * nFeatures) {
    throw new MlError(
      `linear model weights have ${weights.length} values, expected nOutputs × nFeatures = ${nOutputs} × ${nFeatures} = ${nOutputs * nFeatures}`,
    );
  }
  if (bias.length !== nOutputs) {
    throw new MlError(`linear model bias has ${bias.length} values, expected nOutputs = ${nOutputs}`);
  }
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k] as number;
    if (!Number.isFinite(w)) {
      throw new MlError(
        `linear model weight at row ${Math.floor(k / nFeatures)}, column ${k % nFeatures} is ${String(w)}; weights must be finite`,
      );
    }
  }
  for (let k = 0; k < bias.length; k++) {
    const b = bias[k] as number;
    if (!Number.isFinite(b)) throw new MlError(`linear model bias ${k} is ${String(b)}; biases must be finite`);
  }

  const inputName = options.inputName ?? DEFAULT_INPUT_NAME;
  if (inputName === "") throw new MlError("ONNX input name must not be empty");
  if (INTERNAL_NAMES.includes(inputName)) {
    throw new MlError(`ONNX input name ${JSON.stringify(inputName)} is taken by the graph; choose another`);
  }
  const inputType = options.inputType ?? "float32";
  if (inputType !== "float32" && inputType !== "float64") {
    throw new MlError(`ONNX input type must be float32 or float64, got ${String(inputType)}`);
  }

  const classes = params.classes ?? [];
  if (link === "identity") {
    if (classes.length > 0) {
      throw new MlError(`a regression model (link identity) has no classes, got ${classes.length}`);
    }
    return { classifier: undefined, inputName, inputType };
  }
  if (params.classes === undefined) throw new MlError(`a classifier (link ${link}) needs classes`);
  if (classes.length === 0) throw new MlError(`a classifier (link ${link}) needs classes, got an empty list`);
  if (link === "sigmoid") {
    if (classes.length !== 2) {
      throw new MlError(`a sigmoid (binary) classifier has exactly 2 classes, got ${classes.length}`);
    }
    if (nOutputs !== 1) {
      throw new MlError(`a sigmoid (binary) classifier has one row of weights (nOutputs = 1), got ${nOutputs}`);
    }
  } else {
    if (classes.length < 2) throw new MlError(`a softmax classifier needs at least 2 classes, got ${classes.length}`);
    if (classes.length !== nOutputs) {
      throw new MlError(
        `a softmax classifier has one row of weights per class: ${classes.length} classes but nOutputs = ${nOutputs}`,
      );
    }
  }
  return { classifier: { classes, labelKind: checkClasses(classes) }, inputName, inputType };
}

function checkClasses(classes: readonly Label[]): LabelKind {
  const strings = classes.filter((c) => typeof c === "string").length;
  const numbers = classes.filter((c) => typeof c === "number").length;
  if (strings + numbers !== classes.length) {
    throw new MlError("classes must be numbers or strings");
  }
  if (strings > 0 && numbers > 0) {
    throw new MlError(`classes mix ${numbers} numbers and ${strings} strings; use one kind`);
  }
  const seen = new Set<Label>();
  for (const c of classes) {
    if (seen.has(c)) throw new MlError(`class ${JSON.stringify(c)} is listed twice`);
    seen.add(c);
  }
  if (strings > 0) return "string";
  for (const c of classes as readonly number[]) {
    if (!Number.isFinite(c)) throw new MlError(`class ${String(c)} is not a finite number`);
  }
  if ((classes as readonly number[]).every((c) => Number.isSafeInteger(c))) return "int64";
  return "double";
}
