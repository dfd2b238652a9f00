/**
 * Signatures against data: `inferSignature(rows)` builds a column signature from plain objects, and
 * `checkAgainstSignature(rows, signature)` lists, per column, what in a batch does not fit (a missing
 * required column, a value of the wrong type), which a model server turns into one precise 400 answer.
 * Rows are what a JSON request body gives: plain objects (or arrays, for unnamed columns).
 */
import { MLmodelError, isPlainObject, kindOf, show } from "./errors.js";
import {
  describeColumnType,
  describeTensor,
  type ColumnSpec,
  type ColumnType,
  type DataType,
  type ModelSignature,
  type ObjectProperty,
  type Schema,
  type TensorSpec,
} from "./signature.js";

// ---------------------------------------------------------------------------------------------
// Inference

/**
 * Infers a column schema from rows of plain objects: whole numbers → `long`, other numbers → `double`
 * (a column with both is `double`), strings → `string`, booleans → `boolean`, `Date` → `datetime`,
 * `Uint8Array` → `binary`, arrays → `array`, nested plain objects → `object`. A column that some rows
 * lack (or hold `null` in) is optional (`required: false`). Throws `MLmodelError` naming the row and
 * column of a value it cannot type, or of a column whose types conflict.
 */
export function inferSchema(rows: readonly unknown[], field = "rows"): Schema {
  if (rows.length === 0) throw new MLmodelError(field, "is empty; a signature is inferred from at least one row");
  const columns = new Map<string, { type?: ColumnType; present: number; firstRow: number }>();
  rows.forEach((row, r) => {
    if (!isPlainObject(row)) throw new MLmodelError(`${field}[${r}]`, `must be a plain object, got ${kindOf(row)}`);
    for (const [name, value] of Object.entries(row)) {
      let column = columns.get(name);
      if (!column) {
        column = { present: 0, firstRow: r };
        columns.set(name, column);
      }
      if (value === null || value === undefined) continue;
      column.present++;
      const at = `${field}[${r}].${name}`;
      const type = inferType(value, at);
      column.type = column.type === undefined ? type : mergeTypes(column.type, type, at);
    }
  });
  const specs: ColumnSpec[] = [];
  for (const [name, column] of columns) {
    if (column.type === undefined) {
      throw new MLmodelError(`${field}[*].${name}`, "is null in every row; no type can be inferred for it");
    }
    if (hasUnknown(column.type)) {
      throw new MLmodelError(
        `${field}[*].${name}`,
        "holds only empty lists; the type of their items cannot be inferred",
      );
    }
    specs.push({ name, type: column.type, required: column.present === rows.length });
  }
  if (specs.length === 0) throw new MLmodelError(field, "have no columns");
  return { kind: "columns", columns: specs };
}

function hasUnknown(type: ColumnType): boolean {
  if (typeof type === "string") return false;
  switch (type.type) {
    case "any":
      return true;
    case "array":
      return hasUnknown(type.items);
    case "map":
      return hasUnknown(type.values);
    case "object":
      return type.properties.some((p) => hasUnknown(p.type));
  }
}

/** An output schema from predictions: plain objects as in `inferSchema`, or scalars as one unnamed column. */
function inferOutputs(outputs: readonly unknown[]): Schema {
  if (outputs.length > 0 && outputs.every((o) => isPlainObject(o))) return inferSchema(outputs, "outputs");
  if (outputs.length === 0) throw new MLmodelError("outputs", "is empty; give at least one prediction");
  let type: ColumnType | undefined;
  outputs.forEach((value, i) => {
    if (value === null || value === undefined) {
      throw new MLmodelError(`outputs[${i}]`, "is null; an unnamed output column cannot be optional");
    }
    const at = `outputs[${i}]`;
    const t = inferType(value, at);
    type = type === undefined ? t : mergeTypes(type, t, at);
  });
  if (hasUnknown(type!))
    throw new MLmodelError("outputs", "hold only empty lists; the type of their items cannot be inferred");
  return { kind: "columns", columns: [{ type: type!, required: true }] };
}

/**
 * A signature from example inputs (plain objects) and, optionally, the model's outputs for them
 * (plain objects, or scalars for a single unnamed output column), as MLflow's `infer_signature` does.
 */
export function inferSignature(inputs: readonly unknown[], outputs?: readonly unknown[]): ModelSignature {
  const signature: ModelSignature = { inputs: inferSchema(inputs, "inputs") };
  if (outputs !== undefined) signature.outputs = inferOutputs(outputs);
  return signature;
}

function inferType(value: unknown, field: string): ColumnType {
  switch (typeof value) {
    case "number":
      return Number.isInteger(value) ? "long" : "double";
    case "bigint":
      return "long";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    default:
      break;
  }
  if (value instanceof Date) return "datetime";
  if (value instanceof Uint8Array) return "binary";
  if (Array.isArray(value)) {
    let items: ColumnType | undefined;
    value.forEach((item, i) => {
      if (item === null || item === undefined) return;
      const t = inferType(item, `${field}[${i}]`);
      items = items === undefined ? t : mergeTypes(items, t, `${field}[${i}]`);
    });
    // `any` stands for "not known yet" while inferring: a later row may tell (see `mergeTypes`)
    return { type: "array", items: items ?? { type: "any" } };
  }
  if (isPlainObject(value)) {
    const properties: ObjectProperty[] = [];
    for (const [name, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      properties.push({ name, type: inferType(v, `${field}.${name}`), required: true });
    }
    if (properties.length === 0) throw new MLmodelError(field, "is an empty object; its properties cannot be inferred");
    properties.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { type: "object", properties };
  }
  throw new MLmodelError(field, `has a value of a type no signature can describe (${kindOf(value)})`);
}

function mergeTypes(a: ColumnType, b: ColumnType, field: string): ColumnType {
  if (typeof a !== "string" && a.type === "any") return b;
  if (typeof b !== "string" && b.type === "any") return a;
  if (typeof a === "string" && typeof b === "string") {
    if (a === b) return a;
    if ((a === "long" && b === "double") || (a === "double" && b === "long")) return "double";
  } else if (typeof a !== "string" && typeof b !== "string" && a.type === b.type) {
    if (a.type === "array" && b.type === "array") return { type: "array", items: mergeTypes(a.items, b.items, field) };
    if (a.type === "object" && b.type === "object") {
      const names = [...new Set([...a.properties, ...b.properties].map((p) => p.name))].sort();
      return {
        type: "object",
        properties: names.map((name) => {
          const pa = a.properties.find((p) => p.name === name);
          const pb = b.properties.find((p) => p.name === name);
          if (pa && pb)
            return {
              name,
              type: mergeTypes(pa.type, pb.type, `${field}.${name}`),
              required: pa.required && pb.required,
            };
          return { ...(pa ?? pb)!, required: false };
        }),
      };
    }
    if (a.type === "map" && b.type === "map") return { type: "map", values: mergeTypes(a.values, b.values, field) };
    return a;
  }
  throw new MLmodelError(
    field,
    `is ${describeColumnType(b)} but earlier rows have ${describeColumnType(a)}; a column has one type`,
  );
}

// ---------------------------------------------------------------------------------------------
// Checking

export interface SignatureProblem {
  /** The column (or tensor) name; `#<i>` for unnamed ones; `*` for a row that is not a row at all. */
  column: string;
  kind: "missing" | "wrong_type" | "not_a_row";
  /** The type the signature asks for, e.g. `long`, `array<string>`, `tensor<float32>[-1, 4]`. */
  expected: string;
  /** What was found instead (`a string`, `a list with a string at [2]`), for wrong types. */
  found?: string;
  /** Indices of every row with this problem. */
  rows: number[];
  message: string;
}

/**
 * Checks rows against a signature's inputs (or a schema): every required column present and not null,
 * every present value of the column's type (integers are accepted where floats are expected). Extra
 * columns are ignored, as MLflow ignores them. Returns one problem per column and kind of problem, each
 * with every offending row; an empty list means the rows fit.
 */
export function checkAgainstSignature(
  rows: readonly unknown[],
  signature: ModelSignature | Schema,
): SignatureProblem[] {
  const schema = "kind" in signature ? signature : signature.inputs;
  if (!schema) return [];
  const problems = new Map<string, SignatureProblem>();
  const add = (p: Omit<SignatureProblem, "rows" | "message">, row: number) => {
    const key = `${p.column}\u0000${p.kind}\u0000${p.found ?? ""}`;
    const existing = problems.get(key);
    if (existing) existing.rows.push(row);
    else problems.set(key, { ...p, rows: [row], message: "" });
  };
  const specs: {
    label: string;
    key: string | number;
    expected: string;
    required: boolean;
    check: (v: unknown) => string | undefined;
  }[] =
    schema.kind === "columns"
      ? schema.columns.map((c, i) => ({
          label: c.name ?? `#${i}`,
          key: c.name ?? i,
          expected: describeColumnType(c.type),
          required: c.required,
          check: (v) => checkValue(v, c.type),
        }))
      : schema.tensors.map((t, i) => ({
          label: t.name ?? `#${i}`,
          key: t.name ?? i,
          expected: describeTensor(t),
          required: true,
          check: (v) => checkTensorValue(v, t, t.shape.slice(1), ""),
        }));
  const unnamedTensor =
    schema.kind === "tensors" && schema.tensors.length === 1 && schema.tensors[0]!.name === undefined;
  rows.forEach((row, r) => {
    if (unnamedTensor) {
      // one unnamed tensor: each row is one element of the batch
      const spec = specs[0]!;
      const found = spec.check(row);
      if (found !== undefined) add({ column: spec.label, kind: "wrong_type", expected: spec.expected, found }, r);
      return;
    }
    const positional = specs.length > 0 && typeof specs[0]!.key === "number";
    if (positional ? !Array.isArray(row) : !isPlainObject(row)) {
      add(
        { column: "*", kind: "not_a_row", expected: positional ? "a list of values" : "an object", found: kindOf(row) },
        r,
      );
      return;
    }
    const values = row as Record<string | number, unknown>;
    for (const spec of specs) {
      const value = values[spec.key];
      if (value === undefined || value === null) {
        if (spec.required) add({ column: spec.label, kind: "missing", expected: spec.expected }, r);
        continue;
      }
      const found = spec.check(value);
      if (found !== undefined) add({ column: spec.label, kind: "wrong_type", expected: spec.expected, found }, r);
    }
  });
  return [...problems.values()].map((p) => ({ ...p, message: problemMessage(p, rows.length) }));
}

function rowList(rows: readonly number[]): string {
  const shown = rows.slice(0, 5).join(", ");
  return rows.length > 5 ? `${shown} and ${rows.length - 5} more` : shown;
}

function problemMessage(p: SignatureProblem, total: number): string {
  const where = `${p.rows.length === 1 ? "row" : "rows"} ${rowList(p.rows)} (${p.rows.length} of ${total})`;
  switch (p.kind) {
    case "missing":
      return `column '${p.column}' (${p.expected}) is required but missing in ${where}`;
    case "wrong_type":
      return `column '${p.column}' expects ${p.expected} but got ${p.found ?? "something else"} in ${where}`;
    case "not_a_row":
      return `${where}: each row must be ${p.expected}, got ${p.found ?? "something else"}`;
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** `undefined` when `value` fits `type`, else what was found instead. */
export function checkValue(value: unknown, type: ColumnType): string | undefined {
  if (typeof type === "string") return checkDataType(value, type) ? undefined : describeFound(value);
  switch (type.type) {
    case "any":
      return undefined;
    case "array": {
      if (!Array.isArray(value)) return describeFound(value);
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item === null || item === undefined) continue;
        const found = checkValue(item, type.items);
        if (found !== undefined) return `a list with ${found} at [${i}]`;
      }
      return undefined;
    }
    case "map": {
      if (!isPlainObject(value)) return describeFound(value);
      for (const [key, v] of Object.entries(value)) {
        if (v === null || v === undefined) continue;
        const found = checkValue(v, type.values);
        if (found !== undefined) return `a map with ${found} at ${show(key)}`;
      }
      return undefined;
    }
    case "object": {
      if (!isPlainObject(value)) return describeFound(value);
      for (const prop of type.properties) {
        const v = value[prop.name];
        if (v === null || v === undefined) {
          if (prop.required) return `an object without property ${show(prop.name)}`;
          continue;
        }
        const found = checkValue(v, prop.type);
        if (found !== undefined) return `an object with ${found} in ${show(prop.name)}`;
      }
      return undefined;
    }
  }
}

function checkDataType(value: unknown, type: DataType): boolean {
  switch (type) {
    case "boolean":
      return typeof value === "boolean";
    case "integer":
      if (typeof value === "bigint") return value >= BigInt(INT32_MIN) && value <= BigInt(INT32_MAX);
      return typeof value === "number" && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
    case "long":
      return typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
    case "float":
    case "double":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "binary":
      // JSON carries binary values base64-encoded, as MLflow's scoring server expects them
      return value instanceof Uint8Array || (typeof value === "string" && BASE64.test(value));
    case "datetime":
      if (value instanceof Date) return !Number.isNaN(value.getTime());
      return typeof value === "string" && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
  }
}

function describeFound(value: unknown): string {
  if (typeof value === "number" && !Number.isInteger(value)) return `a number with a fraction (${value})`;
  if (typeof value === "number" && (value < INT32_MIN || value > INT32_MAX))
    return `an integer beyond 32 bits (${value})`;
  if (typeof value === "string") return `a string (${show(value)})`;
  return kindOf(value);
}

function checkTensorValue(value: unknown, spec: TensorSpec, dims: readonly number[], at: string): string | undefined {
  if (dims.length > 0) {
    if (!Array.isArray(value)) return `${kindOf(value)}${at ? ` at ${at}` : ""} where a list was expected`;
    const want = dims[0]!;
    if (want !== -1 && value.length !== want) {
      return `a list of ${value.length}${at ? ` at ${at}` : ""} where ${want} values were expected`;
    }
    for (let i = 0; i < value.length; i++) {
      const found = checkTensorValue(value[i], spec, dims.slice(1), `${at}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (tensorLeafFits(value, spec.dtype)) return undefined;
  return `${describeFound(value)}${at ? ` at ${at}` : ""}`;
}

function tensorLeafFits(value: unknown, dtype: string): boolean {
  if (dtype === "bool") return typeof value === "boolean";
  if (/^u?int\d+$/.test(dtype)) {
    if (typeof value === "bigint") return !dtype.startsWith("u") || value >= 0n;
    return typeof value === "number" && Number.isInteger(value) && (!dtype.startsWith("u") || value >= 0);
  }
  if (/^(float|complex)\d+$/.test(dtype) || dtype === "longdouble") return typeof value === "number";
  if (dtype === "str") return typeof value === "string";
  if (dtype === "bytes") return value instanceof Uint8Array || typeof value === "string";
  if (dtype.startsWith("datetime64"))
    return value instanceof Date || (typeof value === "string" && !Number.isNaN(Date.parse(value)));
  return true;
}
