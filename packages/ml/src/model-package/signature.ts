/**
 * Model signatures as MLflow defines them: a schema of inputs and of outputs, each a list of column
 * specs (`{"type": "double", "name": "x", "required": true}`) or of tensor specs
 * (`{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}`), plus optional
 * inference parameters. In the MLmodel file each part is a JSON string; here they are typed values.
 * Inferring a signature from rows and checking rows against one live in `signature-check.ts`.
 */
import { MLmodelError, isPlainObject, kindOf, show } from "./errors.js";
import { parsePythonJson, pythonJson } from "./python-json.js";

/** MLflow's column data types (`mlflow.types.DataType`). */
export const MLFLOW_DATA_TYPES = [
  "boolean",
  "integer",
  "long",
  "float",
  "double",
  "string",
  "binary",
  "datetime",
] as const;
export type DataType = (typeof MLFLOW_DATA_TYPES)[number];

/** NumPy dtype names a tensor spec may carry (what `numpy.dtype(...).name` gives). */
export const TENSOR_DTYPES = [
  "bool",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "float16",
  "float32",
  "float64",
  "float128",
  "longdouble",
  "complex64",
  "complex128",
  "complex256",
  "str",
  "bytes",
  "object",
] as const;
const DATETIME_DTYPE = /^(datetime64|timedelta64)(\[(Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)\])?$/;

/** A column's type: a data type, or one of MLflow's composite types (arrays, objects, maps, any). */
export type ColumnType = DataType | ArrayType | ObjectType | MapType | AnyType;
export interface ArrayType {
  type: "array";
  items: ColumnType;
}
export interface ObjectProperty {
  name: string;
  type: ColumnType;
  required: boolean;
}
export interface ObjectType {
  type: "object";
  properties: ObjectProperty[];
}
export interface MapType {
  type: "map";
  values: ColumnType;
}
export interface AnyType {
  type: "any";
}

export interface ColumnSpec {
  /** Absent for positional (unnamed) columns. */
  name?: string;
  type: ColumnType;
  /** MLflow's default is true. */
  required: boolean;
}

export interface TensorSpec {
  name?: string;
  /** A NumPy dtype name: `float32`, `int64`, `str`... */
  dtype: string;
  /** `-1` for a dimension of any size (the batch dimension first). */
  shape: number[];
}

/** A schema is all columns or all tensors, as in MLflow. */
export type Schema = { kind: "columns"; columns: ColumnSpec[] } | { kind: "tensors"; tensors: TensorSpec[] };

/** An inference parameter (`ParamSpec`): its type, default value and shape (`null` = scalar, `[-1]` = list). */
export interface ParamSpec {
  name: string;
  type: Exclude<DataType, "binary"> | ObjectType;
  default: unknown;
  shape: number[] | null;
}

export interface ModelSignature {
  inputs?: Schema;
  outputs?: Schema;
  params?: ParamSpec[];
}

/** The `signature` block of an MLmodel file: JSON strings, `null` where a part is absent. */
export interface SignatureBlock {
  inputs: string | null;
  outputs: string | null;
  params: string | null;
  [extra: string]: unknown;
}

const COMPOSITE_TYPES = ["array", "object", "map", "any"] as const;
const TYPE_LIST = [...MLFLOW_DATA_TYPES, ...COMPOSITE_TYPES].join(", ");

export function isDataType(value: unknown): value is DataType {
  return typeof value === "string" && (MLFLOW_DATA_TYPES as readonly string[]).includes(value);
}

export function isTensorDtype(value: unknown): value is string {
  return (
    typeof value === "string" && ((TENSOR_DTYPES as readonly string[]).includes(value) || DATETIME_DTYPE.test(value))
  );
}

/** `double`, `array<string>`, `object{a: long, b?: string}`, `map<double>`, `any`. */
export function describeColumnType(type: ColumnType): string {
  if (typeof type === "string") return type;
  switch (type.type) {
    case "array":
      return `array<${describeColumnType(type.items)}>`;
    case "map":
      return `map<${describeColumnType(type.values)}>`;
    case "object":
      return `object{${type.properties.map((p) => `${p.name}${p.required ? "" : "?"}: ${describeColumnType(p.type)}`).join(", ")}}`;
    case "any":
      return "any";
  }
}

/** `tensor<float32>[-1, 4]`. */
export function describeTensor(spec: TensorSpec): string {
  return `tensor<${spec.dtype}>[${spec.shape.join(", ")}]`;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Reads the `signature` block of an MLmodel file. `field` names it in errors (default `signature`). */
export function parseSignature(block: unknown, field = "signature"): ModelSignature {
  if (!isPlainObject(block)) {
    throw new MLmodelError(field, `must be a mapping with inputs, outputs and params, got ${kindOf(block)}`);
  }
  const signature: ModelSignature = {};
  const inputs = parseSchemaJson(block.inputs, `${field}.inputs`);
  const outputs = parseSchemaJson(block.outputs, `${field}.outputs`);
  const params = parseParamsJson(block.params, `${field}.params`);
  if (inputs) signature.inputs = inputs;
  if (outputs) signature.outputs = outputs;
  if (params) signature.params = params;
  return signature;
}

function parseJsonList(text: unknown, field: string, what: string): unknown[] | undefined {
  if (text === null || text === undefined) return undefined;
  if (typeof text !== "string") {
    throw new MLmodelError(field, `must be a JSON string (a list of ${what}), got ${kindOf(text)}`);
  }
  let parsed: unknown;
  try {
    parsed = parsePythonJson(text);
  } catch (error) {
    throw new MLmodelError(field, `is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new MLmodelError(field, `must be a JSON list of ${what}, got ${kindOf(parsed)}`);
  if (parsed.length === 0) throw new MLmodelError(field, `must list at least one of ${what}`);
  return parsed as unknown[];
}

/** Reads one schema (`signature.inputs` or `signature.outputs`) from its JSON string; `null` → undefined. */
export function parseSchemaJson(text: unknown, field: string): Schema | undefined {
  const list = parseJsonList(text, field, "column or tensor specs");
  if (!list) return undefined;
  return parseSchema(list, field);
}

/** Validates a parsed schema list (MLflow's `Schema` rules) and types it. */
export function parseSchema(list: readonly unknown[], field: string): Schema {
  const columns: ColumnSpec[] = [];
  const tensors: TensorSpec[] = [];
  list.forEach((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(entry))
      throw new MLmodelError(at, `must be a column or tensor spec (a mapping), got ${kindOf(entry)}`);
    if (entry.type === "tensor") tensors.push(parseTensorSpec(entry, at));
    else columns.push(parseColumnSpec(entry, at));
  });
  if (columns.length > 0 && tensors.length > 0) {
    throw new MLmodelError(field, "mixes column specs and tensor specs; a schema is all columns or all tensors");
  }
  const specs: { name?: string }[] = columns.length > 0 ? columns : tensors;
  const named = specs.filter((s) => s.name !== undefined).length;
  if (named !== 0 && named !== specs.length) {
    throw new MLmodelError(field, "mixes named and unnamed entries; name all of them or none");
  }
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.name === undefined) continue;
    if (seen.has(spec.name)) throw new MLmodelError(field, `names ${show(spec.name)} twice`);
    seen.add(spec.name);
  }
  if (tensors.length > 1 && named === 0) {
    throw new MLmodelError(field, "has several unnamed tensors; several tensors must be named");
  }
  if (columns.length > 0 && named === 0 && columns.some((c) => !c.required)) {
    throw new MLmodelError(field, "has an optional unnamed column; optional columns must be named");
  }
  return columns.length > 0 ? { kind: "columns", columns } : { kind: "tensors", tensors };
}

function parseName(entry: Record<string, unknown>, field: string): string | undefined {
  if (entry.name === undefined || entry.name === null) return undefined;
  if (typeof entry.name !== "string")
    throw new MLmodelError(`${field}.name`, `must be a string, got ${kindOf(entry.name)}`);
  return entry.name;
}

function parseRequired(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== "boolean") throw new MLmodelError(field, `must be true or false, got ${show(value)}`);
  return value;
}

function parseColumnSpec(entry: Record<string, unknown>, field: string): ColumnSpec {
  const name = parseName(entry, field);
  const type = parseColumnType(entry, field);
  const required = parseRequired(entry.required, `${field}.required`);
  return name === undefined ? { type, required } : { name, type, required };
}

/** Reads `{type: ...}` (with `items`, `properties` or `values` for composite types). */
function parseColumnType(spec: Record<string, unknown>, field: string): ColumnType {
  const type = spec.type;
  if (type === undefined) throw new MLmodelError(`${field}.type`, `is missing; use one of ${TYPE_LIST}`);
  if (isDataType(type)) return type;
  switch (type) {
    case "array": {
      if (!isPlainObject(spec.items)) {
        throw new MLmodelError(
          `${field}.items`,
          `must be the type spec of the array's items, got ${kindOf(spec.items)}`,
        );
      }
      return { type: "array", items: parseColumnType(spec.items, `${field}.items`) };
    }
    case "map": {
      if (!isPlainObject(spec.values)) {
        throw new MLmodelError(
          `${field}.values`,
          `must be the type spec of the map's values, got ${kindOf(spec.values)}`,
        );
      }
      return { type: "map", values: parseColumnType(spec.values, `${field}.values`) };
    }
    case "object": {
      if (!isPlainObject(spec.properties) || Object.keys(spec.properties).length === 0) {
        throw new MLmodelError(
          `${field}.properties`,
          `must map each property name to its type spec, got ${kindOf(spec.properties)}`,
        );
      }
      const properties = Object.entries(spec.properties).map(([name, prop]): ObjectProperty => {
        const at = `${field}.properties.${name}`;
        if (!isPlainObject(prop)) throw new MLmodelError(at, `must be a type spec (a mapping), got ${kindOf(prop)}`);
        return { name, type: parseColumnType(prop, at), required: parseRequired(prop.required, `${at}.required`) };
      });
      // MLflow keeps object properties sorted by name
      properties.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { type: "object", properties };
    }
    case "any":
      return { type: "any" };
    default:
      throw new MLmodelError(`${field}.type`, `${show(type)} is not an MLflow column type; use one of ${TYPE_LIST}`);
  }
}

function parseTensorSpec(entry: Record<string, unknown>, field: string): TensorSpec {
  const name = parseName(entry, field);
  const info = entry["tensor-spec"];
  const at = `${field}.tensor-spec`;
  if (!isPlainObject(info)) throw new MLmodelError(at, `must be a mapping with dtype and shape, got ${kindOf(info)}`);
  if (!isTensorDtype(info.dtype)) {
    throw new MLmodelError(
      `${at}.dtype`,
      `${show(info.dtype)} is not a NumPy dtype MLflow writes; use one of ${TENSOR_DTYPES.join(", ")}, datetime64[unit] or timedelta64[unit]`,
    );
  }
  const shape = parseShape(info.shape, `${at}.shape`);
  if (shape === null) throw new MLmodelError(`${at}.shape`, "is missing; give a list of dimensions (-1 = any size)");
  return name === undefined ? { dtype: info.dtype, shape } : { name, dtype: info.dtype, shape };
}

function parseShape(value: unknown, field: string): number[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value)) throw new MLmodelError(field, `must be a list of dimensions, got ${kindOf(value)}`);
  return value.map((d, i) => {
    if (typeof d !== "number" || !Number.isInteger(d) || d < -1) {
      throw new MLmodelError(
        `${field}[${i}]`,
        `must be a dimension size (an integer ≥ 0, or -1 for any), got ${show(d)}`,
      );
    }
    return d;
  });
}

/** Reads `signature.params` from its JSON string; `null` → undefined. */
export function parseParamsJson(text: unknown, field: string): ParamSpec[] | undefined {
  const list = parseJsonList(text, field, "parameter specs");
  if (!list) return undefined;
  const seen = new Set<string>();
  return list.map((entry, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(entry)) throw new MLmodelError(at, `must be a parameter spec (a mapping), got ${kindOf(entry)}`);
    if (typeof entry.name !== "string" || entry.name === "") {
      throw new MLmodelError(`${at}.name`, `must be a non-empty string, got ${show(entry.name)}`);
    }
    if (seen.has(entry.name)) throw new MLmodelError(field, `names parameter ${show(entry.name)} twice`);
    seen.add(entry.name);
    // MLflow reads `dtype` as an older spelling of `type`
    const typeValue = entry.type ?? entry.dtype;
    let type: ParamSpec["type"];
    if (typeValue === "object") {
      const parsed = parseColumnType({ ...entry, type: "object" }, at);
      type = parsed as ObjectType;
    } else if (isDataType(typeValue) && typeValue !== "binary") {
      type = typeValue;
    } else {
      throw new MLmodelError(
        `${at}.type`,
        `${show(typeValue)} is not a parameter type; use one of ${MLFLOW_DATA_TYPES.filter((t) => t !== "binary").join(", ")}, object`,
      );
    }
    if (!("default" in entry))
      throw new MLmodelError(`${at}.default`, "is missing; every parameter has a default value");
    const shape = parseShape(entry.shape, `${at}.shape`);
    if (shape !== null && !(shape.length === 1 && shape[0] === -1)) {
      throw new MLmodelError(`${at}.shape`, `must be null (a scalar) or [-1] (a list), got ${show(shape)}`);
    }
    return { name: entry.name, type, default: entry.default, shape };
  });
}

// ---------------------------------------------------------------------------------------------
// Writing

function columnTypeDict(type: ColumnType): Record<string, unknown> {
  if (typeof type === "string") return { type };
  switch (type.type) {
    case "array":
      return { type: "array", items: columnTypeDict(type.items) };
    case "map":
      return { type: "map", values: columnTypeDict(type.values) };
    case "object":
      return {
        type: "object",
        properties: Object.fromEntries(
          [...type.properties]
            .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
            .map((p) => [p.name, { ...columnTypeDict(p.type), required: p.required }]),
        ),
      };
    case "any":
      return { type: "any" };
  }
}

/** A schema as MLflow's `Schema.to_json()` writes it (key order included). */
export function schemaToJson(schema: Schema): string {
  if (schema.kind === "tensors") {
    return pythonJson(
      schema.tensors.map((t) => ({
        ...(t.name === undefined ? {} : { name: t.name }),
        type: "tensor",
        "tensor-spec": { dtype: t.dtype, shape: t.shape },
      })),
    );
  }
  return pythonJson(
    schema.columns.map((c) => ({
      ...columnTypeDict(c.type),
      ...(c.name === undefined ? {} : { name: c.name }),
      required: c.required,
    })),
  );
}

/** Parameters as MLflow's `ParamSchema.to_json()` writes them. */
export function paramsToJson(params: readonly ParamSpec[]): string {
  return pythonJson(
    params.map((p) => ({
      name: p.name,
      default: p.default,
      shape: p.shape,
      ...(typeof p.type === "string" ? { type: p.type } : columnTypeDict(p.type)),
    })),
  );
}

/** The `signature` block of an MLmodel file, as MLflow's `ModelSignature.to_dict()` gives it. */
export function signatureToBlock(signature: ModelSignature): SignatureBlock {
  return {
    inputs: signature.inputs ? schemaToJson(signature.inputs) : null,
    outputs: signature.outputs ? schemaToJson(signature.outputs) : null,
    params: signature.params && signature.params.length > 0 ? paramsToJson(signature.params) : null,
  };
}
