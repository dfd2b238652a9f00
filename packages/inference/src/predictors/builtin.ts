/**
 * The predictors this server ships with, in one registry: `onnx` (onnxruntime-node) and Slipway's native
 * predictor kinds (`text-classifier`). `main`s build it once and pass it down; tests may build their own registry.
 */
import { onnxLoader, type OnnxPredictorOptions } from "./onnx.js";
import { PredictorRegistry } from "./predictor-registry.js";
import { TEXT_CLASSIFIER_KIND, loadTextClassifierPredictor } from "./text-classifier.js";

export interface BuiltinPredictorOptions {
  onnx?: OnnxPredictorOptions;
}

export function builtinPredictors(options: BuiltinPredictorOptions = {}): PredictorRegistry {
  const registry = new PredictorRegistry();
  registry.registerFlavor("onnx", onnxLoader(options.onnx));
  registry.registerSlipwayPredictor(TEXT_CLASSIFIER_KIND, loadTextClassifierPredictor);
  return registry;
}
