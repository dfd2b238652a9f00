/**
 * Test support: real ONNX model packages on disk, exported by `@slipway/ml` from linear model
 * parameters, with the MLmodel signature variants the server meets (MLflow's Python client's unnamed
 * tensor, named tensors, data-frame columns, none at all).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  exportLinearModelToOnnx,
  onnxFlavors,
  onnxSignature,
  writeMLmodel,
  type LinearModelParams,
  type MLmodel,
  type ModelSignature,
} from "@slipway/ml";

/** A 3-class softmax classifier over 4 features (iris-like), integer labels 0, 1, 2. */
export function irisParams(): LinearModelParams {
  return {
    link: "softmax",
    nFeatures: 4,
    nOutputs: 3,
    // class k scores feature k highest: row [1,0,0,0] → 0, [0,1,0,0] → 1, [0,0,1,0] → 2
    weights: Float64Array.from([3, 0, 0, 0.5, 0, 3, 0, 0.5, 0, 0, 3, 0.5]),
    bias: Float64Array.from([0, 0, 0]),
    classes: [0, 1, 2],
  };
}

/** A binary classifier over 2 features with string classes: `spam` when x0 > x1. */
export function spamParams(): LinearModelParams {
  return {
    link: "sigmoid",
    nFeatures: 2,
    nOutputs: 1,
    weights: Float64Array.from([2, -2]),
    bias: Float64Array.from([0]),
    classes: ["ham", "spam"],
  };
}

/** A regressor with 2 targets over 3 features: variable = [x0 + x1 + x2, x0 - x2]. */
export function regressorParams(): LinearModelParams {
  return {
    link: "identity",
    nFeatures: 3,
    nOutputs: 2,
    weights: Float64Array.from([1, 1, 1, 1, 0, -1]),
    bias: Float64Array.from([0, 0]),
  };
}

export type SignatureStyle =
  /** MLflow's Python client: `[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, N]}}]`. */
  | "mlflow-tensor"
  /** Named tensors, as `onnxSignature` writes them. */
  | "named-tensor"
  /** One double column per feature (`f0`, `f1`...), as a data-frame input example gives. */
  | "columns"
  /** No signature: the server derives one from the graph. */
  | "none";

export interface OnnxPackageOptions {
  params?: LinearModelParams;
  signature?: SignatureStyle;
  /** Parameters the signature declares (MLflow `ParamSpec`s). */
  params_schema?: ModelSignature["params"];
}

export interface OnnxPackage {
  dir: string;
  mlmodel: MLmodel;
  params: LinearModelParams;
  /** Removes the package's temporary parent directory. */
  remove(): Promise<void>;
}

export function signatureFor(params: LinearModelParams, style: SignatureStyle): ModelSignature | undefined {
  const named = onnxSignature(params);
  switch (style) {
    case "named-tensor":
      return named;
    case "mlflow-tensor":
      return {
        inputs: { kind: "tensors", tensors: [{ dtype: "float32", shape: [-1, params.nFeatures] }] },
        outputs: named.outputs,
      };
    case "columns":
      return {
        inputs: {
          kind: "columns",
          columns: Array.from({ length: params.nFeatures }, (_, i) => ({
            name: `f${i}`,
            type: "double" as const,
            required: true,
          })),
        },
        outputs: named.outputs,
      };
    case "none":
      return undefined;
  }
}

/** Writes a package (`MLmodel` + `model.onnx`) into `dir`. */
export async function writeOnnxPackageTo(dir: string, options: OnnxPackageOptions = {}): Promise<MLmodel> {
  const params = options.params ?? irisParams();
  const signature = signatureFor(params, options.signature ?? "mlflow-tensor");
  if (signature && options.params_schema) signature.params = options.params_schema;
  const mlmodel: MLmodel = {
    flavors: onnxFlavors({ onnxVersion: "1.16.1", pythonVersion: "3.11.9" }),
    ...(signature ? { signature } : {}),
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "model.onnx"), exportLinearModelToOnnx(params));
  await writeFile(join(dir, "MLmodel"), writeMLmodel(mlmodel));
  return mlmodel;
}

/** Writes a package into a fresh temporary directory. */
export async function writeOnnxPackage(options: OnnxPackageOptions = {}): Promise<OnnxPackage> {
  const parent = await mkdtemp(join(tmpdir(), "slipway-onnx-"));
  const dir = join(parent, "model");
  const mlmodel = await writeOnnxPackageTo(dir, options);
  return {
    dir,
    mlmodel,
    params: options.params ?? irisParams(),
    remove: () => rm(parent, { recursive: true, force: true }),
  };
}
