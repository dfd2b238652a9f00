/**
 * Between a data table and the served models: the model inputs of the table's rows (the columns the
 * models read, as `RawColumns`, checked later by the serving path's batch builder), the true values of
 * the label column, and the models' outputs read back as labels and class probabilities (classifiers) or
 * one value per row (regressors).
 */
import { getSlipwayFlavor, uniqueLabels, type Label, type MLmodel, type Schema, type Table } from "@slipway/ml";
import type { RawColumns } from "../input/raw-input.js";
import type { OutputTensor, PredictionBatch, PredictorSignature } from "../predictors/predictor.js";
import { GateUsageError } from "./gate-error.js";
import type { ClassProbabilities, GateTask, ModelPredictions, Truth } from "./gate-metrics.js";

/** Columns that hold bookkeeping rather than features (`reference_data.jsonl` has `prediction`). */
const NOT_FEATURES = new Set(["id", "prediction"]);

/** The columns of `table` a model with this signature reads. */
export function inputColumns(signature: PredictorSignature, table: Table, labelColumn: string): string[] {
  const inputs = signature.inputs;
  if (inputs.kind === "columns") {
    const names = inputs.columns.map((c, i) => c.name ?? String(i));
    const missing = names.filter((name, i) => inputs.columns[i]!.required !== false && !table.columns.has(name));
    if (missing.length > 0) {
      throw new GateUsageError(
        `the data has no column ${missing.map((n) => `'${n}'`).join(", ")}, which the models read (the data's columns: ${table.columnNames.join(", ")})`,
      );
    }
    return names.filter((name) => table.columns.has(name));
  }
  const names = inputs.tensors.map((t, i) => t.name ?? (inputs.tensors.length === 1 ? "input" : String(i)));
  if (names.every((n) => table.columns.has(n))) return names;
  return table.columnNames.filter((c) => c !== labelColumn && !NOT_FEATURES.has(c));
}

/** Rows `[start, end)` of the given columns as a request's columns. */
export function rawRows(table: Table, columns: readonly string[], start: number, end: number): RawColumns {
  const out = new Map<string, unknown[]>();
  for (const name of columns) {
    const values = table.columns.get(name)!;
    out.set(name, Array.prototype.slice.call(values, start, end) as unknown[]);
  }
  return { form: "columns", rows: end - start, columns: out };
}

/** A schema for people: `text (string)`, `input float32 [-1, 4]`. */
export function describeSchema(schema: Schema): string {
  if (schema.kind === "columns") {
    return schema.columns
      .map((c, i) => `${c.name ?? String(i)} (${typeof c.type === "string" ? c.type : JSON.stringify(c.type)})`)
      .join(", ");
  }
  return schema.tensors.map((t, i) => `${t.name ?? String(i)} ${t.dtype} [${(t.shape ?? []).join(", ")}]`).join(", ");
}

function labelOf(value: unknown): Label {
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value as Label;
}

function numericTensor(tensor: OutputTensor): boolean {
  return tensor.dtype !== "str" && tensor.dtype !== "bool";
}

/** The classes of a package's probability columns, in the model's order, when it names them. */
export function packageClasses(mlmodel: MLmodel): Label[] | undefined {
  const classes: unknown = getSlipwayFlavor(mlmodel.flavors)?.classes;
  if (!Array.isArray(classes) || classes.length === 0) return undefined;
  const labels: unknown[] = classes;
  return labels.every((c): c is Label => typeof c === "string" || typeof c === "number") ? labels : undefined;
}

/** Raw outputs of a model over all rows, before the classes of its probabilities are settled. */
export type RawPredictions =
  | {
      readonly task: "classification";
      readonly labels: Label[];
      /** `n × width`, columns in the model's order. */
      readonly probabilities?: { readonly width: number; readonly values: Float64Array };
    }
  | { readonly task: "regression"; readonly values: Float64Array };

/**
 * Reads a model's predictions, chunk after chunk. A classifier is a model with a label output (the one
 * the server counts classes from); a regressor one whose outputs include one number per row.
 */
export function readPredictions(
  batches: readonly PredictionBatch[],
  labelOutput: string | undefined,
  who: string,
): RawPredictions {
  const first = batches[0];
  if (!first) throw new Error("no predictions");
  if (labelOutput !== undefined && first.outputs.has(labelOutput)) {
    const labels: Label[] = [];
    const probabilityTensor = first.outputs.get("probabilities");
    const width =
      probabilityTensor && numericTensor(probabilityTensor) && probabilityTensor.shape.length === 2
        ? probabilityTensor.shape[1]!
        : undefined;
    const rows = batches.reduce((n, b) => n + b.rows, 0);
    const probabilities = width === undefined ? undefined : new Float64Array(rows * width);
    let at = 0;
    for (const batch of batches) {
      const label = batch.outputs.get(labelOutput)!;
      for (let i = 0; i < batch.rows; i++) labels.push(labelOf(label.data[i]));
      if (probabilities) {
        const data = batch.outputs.get("probabilities")!.data;
        for (let j = 0; j < batch.rows * width!; j++) probabilities[at * width! + j] = Number(data[j]);
      }
      at += batch.rows;
    }
    return {
      task: "classification",
      labels,
      ...(probabilities ? { probabilities: { width: width!, values: probabilities } } : {}),
    };
  }
  const names = [...first.outputs.keys()];
  const name = ["variable", "predictions", ...names].find((n) => {
    const t = first.outputs.get(n);
    return t !== undefined && numericTensor(t) && (t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1));
  });
  if (name === undefined) {
    throw new GateUsageError(
      `cannot evaluate the ${who}: its outputs (${names.join(", ")}) are neither class labels nor one number per row`,
    );
  }
  const values: number[] = [];
  for (const batch of batches) {
    const data = batch.outputs.get(name)!.data;
    for (let i = 0; i < batch.rows; i++) values.push(Number(data[i]));
  }
  return { task: "regression", values: Float64Array.from(values) };
}

/**
 * Probability columns in sorted class order. `classes` is the package's (model order); without it the
 * columns are taken to be the sorted labels seen (scikit-learn's `classes_` order) when their number
 * matches, else the probabilities are not used (the note says why).
 */
export function settleProbabilities(
  probabilities: { width: number; values: Float64Array },
  classes: readonly Label[] | undefined,
  seen: readonly Label[],
): { probabilities?: ClassProbabilities; note?: string } {
  const { width, values } = probabilities;
  if (classes === undefined || classes.length !== width) {
    const sorted = uniqueLabels(seen);
    if (sorted.length === width) return { probabilities: { classes: sorted, values } };
    return {
      note: `the probabilities' ${width} columns are not named by the package and ${sorted.length} labels were seen: roc_auc and log_loss are left out`,
    };
  }
  const sorted = uniqueLabels(classes);
  const from = sorted.map((c) => classes.indexOf(c));
  if (from.every((k, j) => k === j)) return { probabilities: { classes: sorted, values } };
  const rows = values.length / width;
  const out = new Float64Array(values.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < width; j++) out[i * width + j] = values[i * width + from[j]!]!;
  }
  return { probabilities: { classes: sorted, values: out } };
}

/** The kind of labels a classifier predicts. */
export function labelKind(labels: readonly Label[], classes: readonly Label[] | undefined): "string" | "number" {
  const sample = labels[0] ?? classes?.[0];
  return typeof sample === "number" ? "number" : "string";
}

/** A value of the label column as a label of this kind, or undefined when it cannot be one. */
export function toLabel(value: unknown, kind: "string" | "number"): Label | undefined {
  if (value === null || value === undefined || (typeof value === "number" && Number.isNaN(value))) return undefined;
  if (kind === "string") {
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    return undefined;
  }
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function shown(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** The label column's values as the truth for `task` (every row needs one). */
export function readTruth(
  table: Table,
  labelColumn: string,
  task: GateTask,
  kind: "string" | "number",
  source: string,
): Truth {
  const values = table.columns.get(labelColumn);
  if (!values) {
    throw new GateUsageError(
      `${source} has no label column '${labelColumn}' (its columns: ${table.columnNames.join(", ")}); name it with --label-column`,
    );
  }
  const want = task === "regression" ? "number" : kind;
  const labels: Label[] = new Array<Label>(table.rowCount);
  for (let i = 0; i < table.rowCount; i++) {
    const value: unknown = values[i];
    const label = toLabel(value, want);
    if (label === undefined) {
      const missing = value === null || value === undefined || (typeof value === "number" && Number.isNaN(value));
      throw new GateUsageError(
        missing
          ? `${source}: row ${i} has no value in the label column '${labelColumn}': every row needs its true ${task === "regression" ? "value" : "label"}`
          : `${source}: row ${i} of the label column '${labelColumn}' holds ${shown(value)}, but the models predict ${want === "number" ? "numbers" : "strings"}`,
      );
    }
    labels[i] = label;
  }
  return task === "regression"
    ? { task, values: Float64Array.from(labels as number[]) }
    : { task: "classification", labels };
}

/** The predictions of a model, its probabilities settled. */
export function modelPredictions(
  raw: RawPredictions,
  classes: readonly Label[] | undefined,
  truth: Truth,
): { predictions: ModelPredictions; note?: string } {
  if (raw.task === "regression") return { predictions: raw };
  if (!raw.probabilities || truth.task !== "classification") {
    return { predictions: { task: "classification", labels: raw.labels } };
  }
  const settled = settleProbabilities(raw.probabilities, classes, [...truth.labels, ...raw.labels]);
  return {
    predictions: {
      task: "classification",
      labels: raw.labels,
      ...(settled.probabilities ? { probabilities: settled.probabilities } : {}),
    },
    ...(settled.note === undefined ? {} : { note: settled.note }),
  };
}
