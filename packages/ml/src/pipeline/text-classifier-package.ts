/**
 * The model package of a text classifier (pure: returns the files; the SDK writes and uploads them).
 *
 * ```
 * model/
 * ├── MLmodel                      flavors.slipway: predictor text-classifier, data pipeline.json
 * ├── pipeline.json                the whole classifier: vectorizer (vocabulary, idf) and linear model
 * ├── head.onnx                    the linear head as ONNX: input = the vectorizer's output, float32 [N, F]
 * ├── profile.json                 the training data's profile
 * ├── reference_data.jsonl         a sample of the training data: text, true label and predicted label per
 * │                                row, the reference monitors compare live traffic with
 * ├── input_example.json           MLflow's `split` orient: {"columns": ["text"], "data": [[...]]}
 * └── serving_input_example.json   the same as a scoring request: {"dataframe_split": {...}}
 * ```
 *
 * The package's signature is the native one (a `text` string column in, `label` and `probabilities`
 * out). ONNX cannot express scikit-learn's tokenizer, so the package declares no `onnx` flavor (an MLflow
 * ONNX loader would feed it text); instead `flavors.slipway.onnx_head` records the head, and a server
 * runs the vectorizer natively and the head on ONNX Runtime.
 */
import type { DataProfile } from "../data/profile.js";
import { MlError } from "../core/errors.js";
import { Random } from "../core/random.js";
import { SLIPWAY_FLAVOR } from "../model-package/flavors.js";
import type { MLmodel } from "../model-package/mlmodel.js";
import type { ColumnSpec, ModelSignature } from "../model-package/signature.js";
import { exportLinearModelToOnnx } from "../onnx/export-linear.js";
import { ONNX_VERSION } from "../onnx/onnx-model.js";
import type { TextClassifier } from "./text-classifier.js";

export const TEXT_CLASSIFIER_PREDICTOR = "text-classifier";
export const TEXT_CLASSIFIER_FILES = {
  pipeline: "pipeline.json",
  onnxHead: "head.onnx",
  profile: "profile.json",
  inputExample: "input_example.json",
  servingInputExample: "serving_input_example.json",
  referenceData: "reference_data.jsonl",
} as const;

/** Rows of reference data kept in a package by default (a uniform, seeded sample beyond that). */
export const DEFAULT_REFERENCE_ROWS = 5000;

/** What `flavors.slipway` holds for a text classifier, beyond predictor, data and version. */
export interface TextClassifierFlavorExtras {
  /** The input column holding the text. */
  input_column: string;
  /** The classes, in the order of the `probabilities` output. */
  classes: (string | number)[];
  /** The ONNX head (absent when not exported). */
  onnx_head?: { data: string; input: string; onnx_version: string; n_features: number };
  /** The training data's profile file (absent when not given). */
  profile?: string;
  /** The reference data file (absent when not given). */
  reference_data?: string;
}

export interface TextClassifierPackageOptions {
  /** Name of the text column in requests. Default `text`. */
  inputColumn?: string;
  /** A few texts saved as the input example (MLflow's `input_example.json`). */
  inputExample?: readonly string[];
  /** The training data's profile, saved as `profile.json`. */
  profile?: DataProfile;
  /** Export the linear head to ONNX. Default true. */
  onnxHead?: boolean;
  /** Free-form metadata for the MLmodel file (e.g. the training metrics). */
  metadata?: Record<string, unknown>;
  /**
   * Training texts (and their labels) to keep as `reference_data.jsonl`: monitors compare live traffic
   * with it (drift of the text, of the predicted label, and accuracy where labels arrive). At most
   * `maxRows` rows (default 5,000), a seeded uniform sample beyond that; each row holds the text, the
   * true `label` when given, and `prediction: {label}` as the model server answers it.
   */
  referenceData?: { texts: readonly string[]; labels?: readonly (string | number)[]; maxRows?: number; seed?: number };
}

export interface ModelPackageFiles {
  mlmodel: MLmodel;
  /** Path inside the package → content, every file except `MLmodel`. */
  files: Map<string, Uint8Array | string>;
}

/** The signature of a text classifier: one string column in; label and class probabilities out. */
export function textClassifierSignature(classifier: TextClassifier, inputColumn = "text"): ModelSignature {
  const numeric = classifier.classes.every((c) => typeof c === "number");
  const integer = numeric && classifier.classes.every((c) => Number.isSafeInteger(c));
  const outputs: ColumnSpec[] = [
    { name: "label", type: numeric ? (integer ? "long" : "double") : "string", required: true },
    { name: "probabilities", type: { type: "array", items: "double" }, required: true },
  ];
  return {
    inputs: { kind: "columns", columns: [{ name: inputColumn, type: "string", required: true }] },
    outputs: { kind: "columns", columns: outputs },
  };
}

/** The files of a text classifier's model package (see the file comment for the layout). */
export function textClassifierPackage(
  classifier: TextClassifier,
  options: TextClassifierPackageOptions = {},
): ModelPackageFiles {
  const inputColumn = options.inputColumn ?? "text";
  if (inputColumn === "") throw new MlError("inputColumn must not be empty");
  const F = TEXT_CLASSIFIER_FILES;
  const files = new Map<string, Uint8Array | string>();
  files.set(F.pipeline, JSON.stringify(classifier.toJSON()));
  const extras: TextClassifierFlavorExtras = { input_column: inputColumn, classes: [...classifier.classes] };
  if (options.onnxHead !== false) {
    const params = classifier.linearParams();
    files.set(F.onnxHead, exportLinearModelToOnnx(params, { docString: "linear head of a Slipway text classifier" }));
    extras.onnx_head = { data: F.onnxHead, input: "input", onnx_version: ONNX_VERSION, n_features: params.nFeatures };
  }
  if (options.profile) {
    files.set(F.profile, JSON.stringify(options.profile));
    extras.profile = F.profile;
  }
  if (options.referenceData) {
    files.set(F.referenceData, referenceDataJsonl(classifier, inputColumn, options.referenceData));
    extras.reference_data = F.referenceData;
  }
  const mlmodel: MLmodel = {
    flavors: {
      [SLIPWAY_FLAVOR]: { predictor: TEXT_CLASSIFIER_PREDICTOR, data: F.pipeline, version: 1, ...extras },
    },
    signature: textClassifierSignature(classifier, inputColumn),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  };
  if (options.inputExample && options.inputExample.length > 0) {
    const split = { columns: [inputColumn], data: options.inputExample.map((text) => [text]) };
    files.set(F.inputExample, JSON.stringify(split));
    files.set(F.servingInputExample, JSON.stringify({ dataframe_split: split }, null, 2));
    mlmodel.saved_input_example_info = {
      artifact_path: F.inputExample,
      type: "dataframe",
      pandas_orient: "split",
      serving_input_path: F.servingInputExample,
    };
  }
  return { mlmodel, files };
}

function referenceDataJsonl(
  classifier: TextClassifier,
  inputColumn: string,
  data: NonNullable<TextClassifierPackageOptions["referenceData"]>,
): string {
  const { texts, labels } = data;
  if (labels !== undefined && labels.length !== texts.length) {
    throw new MlError(`referenceData: ${texts.length} texts but ${labels.length} labels`);
  }
  const maxRows = data.maxRows ?? DEFAULT_REFERENCE_ROWS;
  if (!Number.isSafeInteger(maxRows) || maxRows < 1)
    throw new MlError(`referenceData.maxRows must be a positive integer, got ${maxRows}`);
  let rows = Array.from(texts.keys());
  if (rows.length > maxRows)
    rows = new Random(data.seed ?? 0)
      .shuffle(rows)
      .slice(0, maxRows)
      .sort((a, b) => a - b);
  const predicted = classifier.predict(rows.map((i) => texts[i]!));
  return rows
    .map((i, k) =>
      JSON.stringify({
        [inputColumn]: texts[i],
        ...(labels === undefined ? {} : { label: labels[i] }),
        prediction: { label: predicted[k] },
      }),
    )
    .join("\n")
    .concat("\n");
}
