/**
 * A `PredictionBatch` as each protocol's JSON shows it.
 *
 * - MLflow (`predictions`), as MLflow's pyfunc flavors return them: a model with a tensor signature
 *   (ONNX) answers a mapping of output name → nested lists (`dict(zip(output_names, outputs))`); a model
 *   with a column signature answers the list of values for one output (a Series) or one record per row
 *   for several (a DataFrame, `orient="records"`).
 * - Vertex AI: one prediction per instance, in order: the value for one output, an object for several.
 * - KServe V2: one output tensor per output, flat data with shape and datatype.
 */
import type { OutputTensor, PredictionBatch } from "../predictors/predictor.js";
import { flatToJson, kserveDatatype, rowToJson, tensorToJson } from "../predictors/tensors.js";

export function mlflowPredictions(prediction: PredictionBatch, inputKind: "columns" | "tensors"): unknown {
  if (inputKind === "tensors") {
    const out: Record<string, unknown> = {};
    for (const [name, t] of prediction.outputs) out[name] = tensorToJson(t);
    return out;
  }
  return perRow(prediction);
}

export function vertexPredictions(prediction: PredictionBatch): unknown[] {
  return perRow(prediction);
}

/**
 * How one row of a prediction looks in an MLflow or Vertex answer (for the inference log): the value of
 * the single output, or an object of the outputs (several outputs, or MLflow's answer for tensor models).
 */
export function rowForm(prediction: PredictionBatch, inputKind: "columns" | "tensors"): "value" | "record" {
  return inputKind === "columns" && prediction.outputs.size === 1 ? "value" : "record";
}

function perRow(prediction: PredictionBatch): unknown[] {
  const outputs = [...prediction.outputs];
  if (outputs.length === 1) return tensorToJson(outputs[0]![1]);
  const rows = new Array<unknown>(prediction.rows);
  for (let r = 0; r < prediction.rows; r++) {
    const record: Record<string, unknown> = {};
    for (const [name, t] of outputs) record[name] = rowToJson(t, r);
    rows[r] = record;
  }
  return rows;
}

export interface KserveOutput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export function kserveOutput(name: string, t: OutputTensor): KserveOutput {
  return { name, shape: [...t.shape], datatype: kserveDatatype(t.dtype), data: flatToJson(t) };
}
