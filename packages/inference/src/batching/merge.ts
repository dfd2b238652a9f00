/**
 * Merging the canonical batches of several requests into one predictor call, and splitting the result
 * back: rows are concatenated in request order, and each request gets the rows it brought, as views
 * (`subarray`) of the output's typed arrays where it can (no copy).
 *
 * Two batches can merge when they are of the same kind and, for tensors, their rows have the same inner
 * shape (`mergeKey`). An optional column one request left out is filled as missing (NaN / "" / 0 with a
 * `missing` mask, or null for value columns).
 */
import type {
  Column,
  ColumnBatch,
  InputBatch,
  InputTensor,
  OutputTensor,
  PredictionBatch,
  TensorBatch,
} from "../predictors/predictor.js";
import { allocate } from "../predictors/tensors.js";

/** Batches with equal keys can be merged. Column batches always can; tensor batches when inner shapes agree. */
export function mergeKey(batch: InputBatch): string {
  if (batch.kind === "columns") return "c";
  let key = "t";
  for (const [name, t] of batch.tensors) {
    key += `|${name}:${t.dtype}`;
    for (let a = 1; a < t.shape.length; a++) key += `,${t.shape[a]}`;
  }
  return key;
}

/** One batch with the rows of all of them, in order. All must have the same `mergeKey`. */
export function mergeBatches(batches: readonly InputBatch[]): InputBatch {
  if (batches.length === 1) return batches[0]!;
  let rows = 0;
  for (const b of batches) rows += b.rows;
  return batches[0]!.kind === "columns"
    ? mergeColumns(batches as readonly ColumnBatch[], rows)
    : mergeTensors(batches as readonly TensorBatch[], rows);
}

function mergeColumns(batches: readonly ColumnBatch[], rows: number): ColumnBatch {
  const keys = new Map<string, Column["kind"]>();
  for (const b of batches) for (const [key, column] of b.columns) if (!keys.has(key)) keys.set(key, column.kind);
  const columns = new Map<string, Column>();
  for (const [key, kind] of keys) columns.set(key, mergeColumn(batches, key, kind, rows));
  return { kind: "columns", rows, columns };
}

function mergeColumn(batches: readonly ColumnBatch[], key: string, kind: Column["kind"], rows: number): Column {
  if (kind === "value") {
    const values: unknown[] = [];
    for (const b of batches) {
      const column = b.columns.get(key);
      if (column) for (const v of column.values) values.push(v);
      else for (let r = 0; r < b.rows; r++) values.push(null);
    }
    return { kind, values };
  }
  let missing: Uint8Array | undefined;
  const markAll = (offset: number, n: number) => {
    missing ??= new Uint8Array(rows);
    missing.fill(1, offset, offset + n);
  };
  if (kind === "string") {
    const values = new Array<string>(rows);
    let offset = 0;
    for (const b of batches) {
      const column = b.columns.get(key);
      if (column) {
        const src = column.values as readonly string[];
        for (let r = 0; r < b.rows; r++) values[offset + r] = src[r]!;
        if ("missing" in column && column.missing) {
          missing ??= new Uint8Array(rows);
          missing.set(column.missing, offset);
        }
      } else {
        for (let r = 0; r < b.rows; r++) values[offset + r] = "";
        markAll(offset, b.rows);
      }
      offset += b.rows;
    }
    return missing ? { kind, values, missing } : { kind, values };
  }
  const values =
    kind === "float32" ? new Float32Array(rows) : kind === "float64" ? new Float64Array(rows) : new Uint8Array(rows);
  let offset = 0;
  for (const b of batches) {
    const column = b.columns.get(key);
    if (column) {
      values.set(column.values as ArrayLike<number>, offset);
      if ("missing" in column && column.missing) {
        missing ??= new Uint8Array(rows);
        missing.set(column.missing, offset);
      }
    } else {
      if (kind !== "bool") values.fill(NaN, offset, offset + b.rows);
      markAll(offset, b.rows);
    }
    offset += b.rows;
  }
  return (missing ? { kind, values, missing } : { kind, values }) as Column;
}

function mergeTensors(batches: readonly TensorBatch[], rows: number): TensorBatch {
  const tensors = new Map<string, InputTensor>();
  for (const [name, first] of batches[0]!.tensors) {
    const rowSize = first.shape.length <= 1 ? 1 : first.data.length / first.shape[0]!;
    const data = allocate(first.dtype, rows * rowSize);
    let offset = 0;
    for (const b of batches) {
      const t = b.tensors.get(name)!;
      if (Array.isArray(data)) {
        const src = t.data as string[];
        for (let i = 0; i < src.length; i++) data[offset + i] = src[i]!;
      } else {
        (data as Float64Array).set(t.data as Float64Array, offset);
      }
      offset += t.data.length;
    }
    tensors.set(name, { dtype: first.dtype, shape: [rows, ...first.shape.slice(1)], data } as InputTensor);
  }
  return { kind: "tensors", rows, tensors };
}

/** Rows `[start, start + rows)` of every output, as views where the data is a typed array. */
export function sliceRows(prediction: PredictionBatch, start: number, rows: number): PredictionBatch {
  if (start === 0 && rows === prediction.rows) return prediction;
  const outputs = new Map<string, OutputTensor>();
  for (const [name, t] of prediction.outputs) {
    const total = t.shape[0];
    if (total !== prediction.rows) {
      throw new Error(
        `output '${name}' has ${total ?? "no"} rows for a batch of ${prediction.rows}; it cannot be split between requests`,
      );
    }
    const rowSize = t.shape.length <= 1 ? 1 : t.data.length / total;
    const from = start * rowSize;
    const to = (start + rows) * rowSize;
    const data = Array.isArray(t.data) ? t.data.slice(from, to) : t.data.subarray(from, to);
    outputs.set(name, { dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], data } as OutputTensor);
  }
  return { rows, outputs };
}
