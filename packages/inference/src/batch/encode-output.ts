/**
 * On a prediction thread: output rows from the rows read and the model's predictions, in the layout of
 * the output plan: `row` (the input row number, when asked), the kept input columns, then one column
 * per model output:
 *
 * - an output of shape [N] or [N, 1] (`label`, a one-target regressor's `variable`) is one column of
 *   scalars named after it;
 * - an output of shape [N, K] (`probabilities`) is, with the `json` layout, one column holding a list of
 *   K numbers per row (JSON text in CSV, an array in JSON Lines, JSON text in Parquet), or with the
 *   `columns` layout K columns `probabilities_<class>` (the class names the package lists, else 0..K-1);
 * - higher ranks are nested lists, as with `json`.
 *
 * float32 outputs are written with the fewest digits that read back to the same float32 (0.1, not
 * 0.10000000149011612); 64-bit integers stay exact.
 */
import type { OutputTensor, PredictionBatch } from "../predictors/predictor.js";
import { isBigIntDtype, rowToJson } from "../predictors/tensors.js";
import { BatchError } from "./batch-error.js";
import type { OutputColumn, OutputColumnType, OutputPlan, TextOutput, ColumnsOutput } from "./block.js";
import { csvField, jsonReplacer } from "./csv-records.js";
import type { DecodedRows } from "./decode-block.js";

/** A run of rows read (indices into `DecodedRows`) and the prediction for them, row for row. */
export interface PredictedSegment {
  readonly rows: readonly number[];
  readonly prediction: PredictionBatch;
}

interface PredictionColumn {
  readonly name: string;
  readonly type: OutputColumnType;
  /** The value of row `r` of the prediction. */
  value(tensor: OutputTensor, r: number): unknown;
  readonly output: string;
}

/** The shortest decimal that reads back as the same float32. */
export function float32Number(x: number): number {
  if (!Number.isFinite(x)) return x;
  for (let digits = 6; digits < 9; digits++) {
    const y = Number(x.toPrecision(digits));
    if (Math.fround(y) === x) return y;
  }
  return Number(x.toPrecision(9));
}

function element(tensor: OutputTensor, i: number): unknown {
  const v = tensor.data[i];
  switch (tensor.dtype) {
    case "bool":
      return v === 1;
    case "float32":
      return float32Number(v as number);
    default:
      return v;
  }
}

function scalarType(tensor: OutputTensor): OutputColumnType {
  switch (tensor.dtype) {
    case "str":
      return "STRING";
    case "float32":
      return "FLOAT";
    case "float64":
      return "DOUBLE";
    case "bool":
      return "BOOLEAN";
    default:
      return isBigIntDtype(tensor.dtype) ? "INT64" : "DOUBLE";
  }
}

function rowList(tensor: OutputTensor, r: number): unknown {
  if (tensor.shape.length !== 2) return rowToJson(tensor, r);
  const k = tensor.shape[1]!;
  const out = new Array<unknown>(k);
  for (let j = 0; j < k; j++) out[j] = element(tensor, r * k + j);
  return out;
}

/** The prediction columns of a batch's outputs (the same for every batch of a model). */
export function predictionColumns(prediction: PredictionBatch, plan: OutputPlan): PredictionColumn[] {
  const columns: PredictionColumn[] = [];
  for (const [output, tensor] of prediction.outputs) {
    const shape = tensor.shape;
    if (shape.length === 1 || (shape.length === 2 && shape[1] === 1)) {
      columns.push({ name: output, output, type: scalarType(tensor), value: (t, r) => element(t, r) });
    } else if (shape.length === 2 && plan.probabilities === "columns") {
      const k = shape[1]!;
      const names = plan.classes && plan.classes.length === k ? plan.classes : Array.from({ length: k }, String);
      for (let j = 0; j < k; j++) {
        columns.push({
          name: `${output}_${names[j]}`,
          output,
          type: scalarType(tensor),
          value: (t, r) => element(t, r * k + j),
        });
      }
    } else {
      columns.push({ name: output, output, type: "JSON", value: rowList });
    }
  }
  return columns;
}

export interface EncodeInput {
  readonly plan: OutputPlan;
  readonly rows: DecodedRows;
  readonly segments: readonly PredictedSegment[];
  /** The kept columns' names (`plan.keep`). */
  readonly keep: readonly string[];
}

export interface EncodedRows {
  readonly columnNames: string[];
  readonly written: number;
  readonly output: TextOutput | ColumnsOutput;
}

/** The output rows of the segments, in order. With no segment, only the names the plan fixes. */
export function encodeRows(input: EncodeInput): EncodedRows {
  const { plan, rows, segments } = input;
  const first = segments[0];
  const predicted = first ? predictionColumns(first.prediction, plan) : [];
  const base = [...(plan.rowNumber ? ["row"] : []), ...input.keep];
  const columnNames = [...base, ...predicted.map((c) => c.name)];
  checkUnique(columnNames, base.length);
  let written = 0;
  for (const s of segments) written += s.rows.length;
  if (plan.format === "parquet") return { columnNames, written, output: encodeColumns(input, predicted, written) };
  const lines: string[] = [];
  const csv = plan.format === "csv";
  for (const segment of segments) {
    const tensors = predicted.map((c) => segment.prediction.outputs.get(c.output)!);
    segment.rows.forEach((i, r) => {
      const values: unknown[] = [];
      if (plan.rowNumber) values.push(rows.rowNumbers[i]);
      for (const column of rows.kept) values.push(csv ? column[i] : emptyAsNull(column[i], rows.text));
      predicted.forEach((c, j) => values.push(c.value(tensors[j]!, r)));
      if (csv) {
        lines.push(values.map(csvField).join(","));
      } else {
        const record: Record<string, unknown> = {};
        columnNames.forEach((name, j) => (record[name] = values[j]));
        lines.push(JSON.stringify(record, jsonReplacer));
      }
    });
  }
  // TextEncoder gives the bytes an ArrayBuffer of their own, so they can be transferred between threads
  const bytes = new TextEncoder().encode(lines.length === 0 ? "" : `${lines.join("\n")}\n`);
  return { columnNames, written, output: { kind: "text", bytes } };
}

/** An empty CSV field is missing (null) once it leaves CSV. */
function emptyAsNull(value: unknown, text: boolean): unknown {
  return text && value === "" ? null : value;
}

function checkUnique(names: readonly string[], inputColumns: number): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) {
      const what = i >= inputColumns ? "a prediction column" : "an input column";
      throw new BatchError(
        `the output would have two columns named '${name}' (${what} and a kept input column or the row number); ` +
          `leave it out with --keep, or drop the row number with --no-row-number`,
      );
    }
    seen.add(name);
  });
}

function keptType(values: readonly unknown[]): OutputColumnType {
  let type: OutputColumnType | undefined;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const t: OutputColumnType =
      typeof v === "string"
        ? "STRING"
        : typeof v === "number"
          ? "DOUBLE"
          : typeof v === "bigint"
            ? "INT64"
            : typeof v === "boolean"
              ? "BOOLEAN"
              : "JSON";
    if (type === undefined) type = t;
    else if (type !== t) return "JSON";
  }
  return type ?? "STRING";
}

function encodeColumns(input: EncodeInput, predicted: PredictionColumn[], written: number): ColumnsOutput {
  const { plan, rows, segments } = input;
  const columns: OutputColumn[] = [];
  const order: number[] = [];
  for (const s of segments) order.push(...s.rows);
  if (plan.rowNumber)
    columns.push({ name: "row", type: "INT64", values: order.map((i) => BigInt(rows.rowNumbers[i]!)) });
  input.keep.forEach((name, k) => {
    const values = order.map((i) => emptyAsNull(rows.kept[k]![i], rows.text));
    columns.push({ name, type: keptType(values), values });
  });
  for (const c of predicted) {
    const values = new Array<unknown>(written);
    let at = 0;
    for (const s of segments) {
      const tensor = s.prediction.outputs.get(c.output)!;
      for (let r = 0; r < s.rows.length; r++) values[at++] = c.value(tensor, r);
    }
    columns.push({ name: c.name, type: c.type, values });
  }
  return { kind: "columns", columns };
}
