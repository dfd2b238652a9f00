/**
 * From a decoded request (`RawInput`) to the canonical `InputBatch`, checked against the model's
 * signature. `compileBatchBuilder` does the per-signature work once (targets, converters, dtypes); the
 * builder it returns runs per request and throws one 400 `InferenceError` naming every column and row
 * that does not fit.
 *
 * How each raw shape meets each kind of signature:
 *
 * | raw \ signature | columns                                         | tensors                                      |
 * |-----------------|-------------------------------------------------|----------------------------------------------|
 * | columns         | by name (unnamed: `"0"`, `"1"`...)              | by tensor name; one tensor and other names: the columns side by side are its rows (pandas `.values`) |
 * | rows            | one column: a value per row (`[v]` unwrapped); several: a list per row, by position | one tensor: a row each; several: refused (name them) |
 * | tensors (KServe)| each column a 1-D input `[N]` (or `[N, 1]`)     | by name, shape checked                        |
 */
import type { ColumnSpec } from "@slipway/ml";
import { badInput } from "../errors.js";
import type { Column, InputBatch, InputTensor, PredictorSignature } from "../predictors/predictor.js";
import { tensorDtypeOf } from "../predictors/tensors.js";
import { columnTargets, type ColumnTarget } from "./columns.js";
import { Problems, describeValue } from "./problems.js";
import type { RawColumns, RawInput, RawRows, RawTensor, RawTensors } from "./raw-input.js";
import { flatToTensor, rowsToTensor, tensorTarget, type TensorTarget } from "./tensors-input.js";

export type BatchBuilder = (raw: RawInput) => InputBatch;

/** Compiles the checks and conversions of a signature. Throws for a signature this server cannot serve. */
export function compileBatchBuilder(signature: PredictorSignature): BatchBuilder {
  const inputs = signature.inputs;
  if (inputs.kind === "columns") {
    const targets = columnTargets(inputs.columns);
    return (raw) => buildColumns(targets, raw);
  }
  const targets = inputs.tensors.map((spec, i) => {
    const dtype = tensorDtypeOf(spec.dtype);
    const name = spec.name ?? (inputs.tensors.length === 1 ? "input" : String(i));
    if (dtype === undefined) {
      throw new Error(`input tensor '${name}' has dtype ${spec.dtype}, which this server cannot take from JSON`);
    }
    return tensorTarget(name, dtype, spec);
  });
  return (raw) => buildTensors(targets, raw);
}

function noRows(): never {
  throw badInput("The input has no rows");
}

// ---------------------------------------------------------------------------------------------
// Column signatures

function buildColumns(targets: readonly ColumnTarget[], raw: RawInput): InputBatch {
  switch (raw.form) {
    case "columns":
      return columnsFromColumns(targets, raw);
    case "rows":
      return columnsFromRows(targets, raw);
    case "tensors":
      return columnsFromTensors(targets, raw);
  }
}

function finishColumns(
  targets: readonly ColumnTarget[],
  rows: number,
  values: (readonly unknown[] | undefined)[],
  text: boolean,
  problems: Problems,
): InputBatch {
  const columns = new Map<string, Column>();
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!;
    const v = values[i];
    if (v === undefined) {
      if (target.spec.required)
        for (let r = 0; r < rows; r++) problems.add(target.label, "missing", target.expected, r);
      continue;
    }
    const column = target.convert(v, problems, text);
    if (column) columns.set(target.key, column);
  }
  problems.throwIfAny(rows);
  return { kind: "columns", rows, columns };
}

function columnsFromColumns(targets: readonly ColumnTarget[], raw: RawColumns): InputBatch {
  if (raw.rows === 0) noRows();
  const values = targets.map((t) => raw.columns.get(t.key));
  return finishColumns(targets, raw.rows, values, raw.text === true, new Problems());
}

function columnsFromRows(targets: readonly ColumnTarget[], raw: RawRows): InputBatch {
  const rows = raw.rows;
  const n = rows.length;
  if (n === 0) noRows();
  const problems = new Problems();
  if (targets.length === 1) {
    const target = targets[0]!;
    // `[["free money"], ["hi"]]`: one-value lists for a column that is not itself a list
    if (Array.isArray(rows[0]) && (rows[0] as unknown[]).length === 1 && !isListType(target.spec)) {
      const unwrapped = new Array<unknown>(n);
      for (let r = 0; r < n; r++) {
        const row = rows[r];
        if (Array.isArray(row) && row.length === 1) unwrapped[r] = row[0];
        else problems.add("*", "not_a_row", `a list of 1 value (column ${target.label})`, r, describeValue(row));
      }
      return finishColumns(targets, n, [unwrapped], false, problems);
    }
    return finishColumns(targets, n, [rows], false, problems);
  }
  const width = targets.length;
  const columns = targets.map(() => new Array<unknown>(n));
  const names = targets.map((t) => t.label).join(", ");
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    if (!Array.isArray(row) || row.length !== width) {
      const found = Array.isArray(row) ? `a list of ${row.length}` : describeValue(row);
      problems.add("*", "not_a_row", `a list of ${width} values (columns ${names}) or an object`, r, found);
      continue;
    }
    for (let c = 0; c < width; c++) columns[c]![r] = row[c];
  }
  problems.throwIfAny(n);
  return finishColumns(targets, n, columns, false, problems);
}

function isListType(spec: ColumnSpec): boolean {
  return typeof spec.type !== "string" && spec.type.type === "array";
}

function columnsFromTensors(targets: readonly ColumnTarget[], raw: RawTensors): InputBatch {
  const problems = new Problems();
  rejectUnknownInputs(
    raw,
    targets.map((t) => t.key),
    problems,
  );
  let rows: number | undefined;
  const values = targets.map((t) => {
    const tensor = raw.tensors.get(t.key);
    if (!tensor) return undefined;
    const shape = tensor.shape;
    if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
      problems.addMessage(
        `input '${t.key}' has shape [${shape.join(", ")}]; a column takes shape [N] or [N, 1] (one value per row)`,
      );
      return undefined;
    }
    if (rows === undefined) rows = shape[0];
    else if (shape[0] !== rows) {
      problems.addMessage(`input '${t.key}' has ${shape[0]} rows where the other inputs have ${rows}`);
      return undefined;
    }
    return tensor.data;
  });
  if (rows === undefined) {
    problems.throwIfAny(0);
    throw badInput(`The request names none of the model's inputs (${targets.map((t) => t.key).join(", ")})`);
  }
  if (rows === 0) noRows();
  problems.throwIfAny(rows);
  return finishColumns(targets, rows, values, false, problems);
}

function rejectUnknownInputs(raw: RawTensors, known: readonly string[], problems: Problems): void {
  for (const name of raw.tensors.keys()) {
    if (!known.includes(name)) {
      problems.addMessage(`the model has no input '${name}' (its inputs: ${known.join(", ")})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tensor signatures

function buildTensors(targets: readonly TensorTarget[], raw: RawInput): InputBatch {
  const problems = new Problems("tensor");
  const tensors = new Map<string, InputTensor>();
  let rows = 0;
  switch (raw.form) {
    case "columns": {
      if (raw.rows === 0) noRows();
      const table = raw.text === true ? inferTextValues(raw) : raw;
      rows = table.rows;
      const named = targets.every((t) => table.columns.has(t.name));
      if (!named && targets.length === 1) {
        const target = targets[0]!;
        const tensor = rowsToTensor(target, sideBySide(table), problems);
        if (tensor) tensors.set(target.name, tensor);
        break;
      }
      for (const target of targets) {
        const values = table.columns.get(target.name);
        if (!values) {
          for (let r = 0; r < rows; r++) problems.add(target.name, "missing", target.expected, r);
          continue;
        }
        const tensor = rowsToTensor(target, values, problems);
        if (tensor) tensors.set(target.name, tensor);
      }
      break;
    }
    case "rows": {
      rows = raw.rows.length;
      if (rows === 0) noRows();
      if (targets.length !== 1) {
        throw badInput(
          `The model takes ${targets.length} named tensors (${targets.map((t) => t.name).join(", ")}); give each by name, e.g. {"inputs": {"${targets[0]?.name}": [...], ...}}`,
        );
      }
      const target = targets[0]!;
      const tensor = rowsToTensor(target, raw.rows, problems);
      if (tensor) tensors.set(target.name, tensor);
      break;
    }
    case "tensors": {
      rejectUnknownInputs(
        raw,
        targets.map((t) => t.name),
        problems,
      );
      let first: [string, RawTensor] | undefined;
      for (const target of targets) {
        const given = raw.tensors.get(target.name);
        if (!given) {
          problems.addMessage(`input '${target.name}' (${target.expected}) is missing`);
          continue;
        }
        if (first && given.shape[0] !== first[1].shape[0]) {
          problems.addMessage(
            `input '${target.name}' has ${given.shape[0]} rows where input '${first[0]}' has ${first[1].shape[0]}`,
          );
          continue;
        }
        first ??= [target.name, given];
        const tensor = flatToTensor(target, given, problems);
        if (tensor) tensors.set(target.name, tensor);
      }
      rows = first?.[1].shape[0] ?? 0;
      if (problems.empty && rows === 0) noRows();
      break;
    }
  }
  problems.throwIfAny(rows);
  checkSameRows(tensors);
  return { kind: "tensors", rows, tensors };
}

/** CSV text values as pandas infers them without dtypes: numbers, `true`/`false`, empty → null, else text. */
function inferTextValues(raw: RawColumns): RawColumns {
  const columns = new Map<string, unknown[]>();
  for (const [name, values] of raw.columns) {
    columns.set(
      name,
      values.map((v) => {
        if (typeof v !== "string") return v;
        const t = v.trim();
        if (t === "") return null;
        const lower = t.toLowerCase();
        if (lower === "true" || lower === "false") return lower === "true";
        const n = Number(t);
        return Number.isNaN(n) && lower !== "nan" ? v : n;
      }),
    );
  }
  return { form: "columns", rows: raw.rows, columns };
}

/** The columns of a data frame side by side, as rows (`DataFrame.values`); one column: its values. */
function sideBySide(raw: RawColumns): unknown[] {
  const columns = [...raw.columns.values()];
  if (columns.length === 1) return columns[0] as unknown[];
  const out = new Array<unknown>(raw.rows);
  for (let r = 0; r < raw.rows; r++) out[r] = columns.map((c) => c[r]);
  return out;
}

function checkSameRows(tensors: ReadonlyMap<string, InputTensor>): void {
  let first: [string, number] | undefined;
  for (const [name, t] of tensors) {
    const n = t.shape[0]!;
    if (!first) first = [name, n];
    else if (first[1] !== n) {
      throw badInput(`Tensor '${name}' has ${n} rows where tensor '${first[0]}' has ${first[1]}`);
    }
  }
}
