/**
 * Decoding an MLflow scoring request's JSON (`/invocations`, also SageMaker's) into `RawInput` plus its
 * `params`: a JSON object with exactly one of `dataframe_split`, `dataframe_records`, `instances`,
 * `inputs`, as MLflow's scoring server reads them:
 *
 * - `dataframe_split`: `{columns?, data: [[row]...], index?}` (pandas `orient="split"`);
 * - `dataframe_records`: `[{col: v}...]` (pandas `orient="records"`), missing keys are nulls;
 * - `instances`: a list of rows; a list of objects becomes a mapping of columns (as MLflow turns
 *   records into a dict of lists), scalars or lists stay rows;
 * - `inputs`: a list (rows of one tensor or column) or a mapping name → list (columns or named tensors).
 */
import { isPlainObject, kindOf } from "@slipway/ml";
import { badInput } from "../errors.js";
import type { RawColumns, RawInput } from "../input/raw-input.js";

export const MLFLOW_INPUT_KEYS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

const REQUIRED_INPUT_FORMAT =
  "The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";

export interface DecodedMlflowRequest {
  raw: RawInput;
  /** The `params` object as given (checked later against the signature), or undefined. */
  params: unknown;
}

export function decodeMlflowJson(body: unknown): DecodedMlflowRequest {
  if (!isPlainObject(body)) {
    throw badInput(
      Array.isArray(body)
        ? `${REQUIRED_INPUT_FORMAT}. Received a list.`
        : `${REQUIRED_INPUT_FORMAT}. Received ${kindOf(body)}.`,
    );
  }
  let key: (typeof MLFLOW_INPUT_KEYS)[number] | undefined;
  let count = 0;
  for (const k of MLFLOW_INPUT_KEYS) {
    if (k in body) {
      key = k;
      count++;
    }
  }
  if (count !== 1 || key === undefined) {
    const keys = Object.keys(body)
      .map((k) => `'${k}'`)
      .join(", ");
    throw badInput(`${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: [${keys}].`);
  }
  const value = body[key];
  const params = body.params;
  switch (key) {
    case "dataframe_split":
      return { raw: decodeSplit(value), params };
    case "dataframe_records":
      return { raw: decodeRecords(value, "dataframe_records"), params };
    case "instances":
      return { raw: decodeInstances(value, "instances"), params };
    case "inputs":
      return { raw: decodeInputs(value), params };
  }
}

function decodeSplit(value: unknown): RawColumns {
  if (!isPlainObject(value)) {
    throw badInput(`dataframe_split must be an object with 'columns' and 'data', got ${kindOf(value)}`);
  }
  const data = value.data;
  if (!Array.isArray(data)) {
    throw badInput(
      data === undefined
        ? "dataframe_split has no 'data': give the rows as a list of lists"
        : `dataframe_split.data must be a list of rows, got ${kindOf(data)}`,
    );
  }
  let names: string[];
  const columns = value.columns;
  if (columns === undefined || columns === null) {
    const first = data[0] as unknown;
    const width = Array.isArray(first) ? first.length : 1;
    names = Array.from({ length: width }, (_, i) => String(i));
  } else {
    if (!Array.isArray(columns)) {
      throw badInput(`dataframe_split.columns must be a list of column names, got ${kindOf(columns)}`);
    }
    names = columns.map((c, i) => {
      if (typeof c === "string") return c;
      if (typeof c === "number") return String(c);
      throw badInput(`dataframe_split.columns[${i}] must be a column name, got ${kindOf(c)}`);
    });
    if (new Set(names).size !== names.length) throw badInput("dataframe_split.columns names a column twice");
  }
  const width = names.length;
  const rows = data.length;
  const out = names.map(() => new Array<unknown>(rows));
  for (let r = 0; r < rows; r++) {
    const row: unknown = data[r];
    if (!Array.isArray(row)) {
      if (width === 1) {
        out[0]![r] = row;
        continue;
      }
      throw badInput(`dataframe_split.data[${r}] must be a list of ${width} values, got ${kindOf(row)}`);
    }
    if (row.length !== width) {
      throw badInput(`dataframe_split.data[${r}] has ${row.length} values where 'columns' names ${width}`);
    }
    for (let c = 0; c < width; c++) out[c]![r] = row[c];
  }
  return { form: "columns", rows, columns: new Map(names.map((n, c) => [n, out[c]!])) };
}

/** Records (objects) → columns; keys missing from a record are nulls. */
export function decodeRecords(value: unknown, field: string): RawColumns {
  if (!Array.isArray(value)) throw badInput(`${field} must be a list of records (objects), got ${kindOf(value)}`);
  const rows = value.length;
  const columns = new Map<string, unknown[]>();
  for (let r = 0; r < rows; r++) {
    const record: unknown = value[r];
    if (!isPlainObject(record)) {
      throw badInput(`${field}[${r}] must be a record (an object of column values), got ${kindOf(record)}`);
    }
    for (const name in record) {
      let column = columns.get(name);
      if (!column) {
        column = new Array<unknown>(rows).fill(null);
        columns.set(name, column);
      }
      column[r] = record[name];
    }
  }
  return { form: "columns", rows, columns };
}

/** `instances`: objects → columns; scalars and lists → rows (mixing the two is refused). */
export function decodeInstances(value: unknown, field: string): RawInput {
  if (!Array.isArray(value)) throw badInput(`${field} must be a list, got ${kindOf(value)}`);
  if (value.length > 0 && isPlainObject(value[0])) return decodeRecords(value, field);
  for (let r = 0; r < value.length; r++) {
    if (isPlainObject(value[r])) {
      throw badInput(`${field} mixes objects and other values: ${field}[0] is not an object but ${field}[${r}] is`);
    }
  }
  return { form: "rows", rows: value };
}

function decodeInputs(value: unknown): RawInput {
  if (Array.isArray(value)) return { form: "rows", rows: value };
  if (!isPlainObject(value)) {
    throw badInput(`inputs must be a list or an object of named lists, got ${kindOf(value)}`);
  }
  const columns = new Map<string, unknown[]>();
  let rows: number | undefined;
  let firstName = "";
  for (const name in value) {
    const column = value[name];
    if (!Array.isArray(column)) {
      throw badInput(`inputs.${name} must be a list (one entry per row), got ${kindOf(column)}`);
    }
    if (rows === undefined) {
      rows = column.length;
      firstName = name;
    } else if (column.length !== rows) {
      throw badInput(`inputs.${name} has ${column.length} rows where inputs.${firstName} has ${rows}`);
    }
    columns.set(name, column);
  }
  if (rows === undefined) throw badInput("inputs is an empty object; name at least one input");
  return { form: "columns", rows, columns };
}
