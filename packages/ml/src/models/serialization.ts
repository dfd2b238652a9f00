/**
 * Reading the plain-JSON form of fitted models (`toJSON()` / `fromJSON()`): every model is an object with
 * `type` and `version: 1`, numbers in arrays. Each reader throws MlError naming the field that is wrong.
 */
import { MlError } from "../core/errors.js";
import type { Label } from "../core/linear.js";
import { checkLabels, compareLabels } from "./labels.js";

export type JsonObject = Record<string, unknown>;

/** Checks `value` is an object of the given type and version 1; returns it as a record. */
export function readModelObject(value: unknown, type: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MlError(`${type}.fromJSON: expected an object, got ${describe(value)}`);
  }
  const obj = value as JsonObject;
  if (obj.type !== type) throw new MlError(`${type}.fromJSON: type is ${describe(obj.type)}, expected "${type}"`);
  if (obj.version !== 1) throw new MlError(`${type}.fromJSON: version is ${describe(obj.version)}, expected 1`);
  return obj;
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value;
}

export function readNumber(obj: JsonObject, key: string, type: string): number {
  const v = obj[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new MlError(`${type}.fromJSON: ${key} must be a finite number, got ${describe(v)}`);
  }
  return v;
}

export function readBoolean(obj: JsonObject, key: string, type: string): boolean {
  const v = obj[key];
  if (typeof v !== "boolean") throw new MlError(`${type}.fromJSON: ${key} must be a boolean, got ${describe(v)}`);
  return v;
}

export function readCount(obj: JsonObject, key: string, type: string, min = 0): number {
  const v = readNumber(obj, key, type);
  if (!Number.isInteger(v) || v < min) {
    throw new MlError(`${type}.fromJSON: ${key} must be an integer ≥ ${min}, got ${v}`);
  }
  return v;
}

/** A flat array of finite numbers, of the given length when given. */
export function readNumbers(value: unknown, what: string, type: string, length?: number): Float64Array {
  if (!Array.isArray(value)) throw new MlError(`${type}.fromJSON: ${what} must be an array, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) {
    throw new MlError(`${type}.fromJSON: ${what} has ${value.length} values, expected ${length}`);
  }
  const out = new Float64Array(value.length);
  value.forEach((v: unknown, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new MlError(`${type}.fromJSON: ${what}[${i}] must be a finite number, got ${describe(v)}`);
    }
    out[i] = v;
  });
  return out;
}

/** Rows × cols numbers given as an array of rows; returned row-major. */
export function readRows(value: unknown, what: string, type: string, rows: number, cols: number): Float64Array {
  if (!Array.isArray(value)) throw new MlError(`${type}.fromJSON: ${what} must be an array of rows`);
  if (value.length !== rows) throw new MlError(`${type}.fromJSON: ${what} has ${value.length} rows, expected ${rows}`);
  const out = new Float64Array(rows * cols);
  value.forEach((row: unknown, i) => out.set(readNumbers(row, `${what}[${i}]`, type, cols), i * cols));
  return out;
}

/** Classes: at least `min` distinct labels, all numbers or all strings, sorted as numpy.unique sorts them. */
export function readClasses(value: unknown, type: string, min = 2): Label[] {
  if (!Array.isArray(value)) throw new MlError(`${type}.fromJSON: classes must be an array`);
  const classes = value as Label[];
  try {
    checkLabels(classes, "classes");
  } catch (error) {
    throw new MlError(`${type}.fromJSON: ${(error as Error).message}`);
  }
  if (classes.length < min) throw new MlError(`${type}.fromJSON: classes has ${classes.length} labels, need ${min}`);
  for (let i = 1; i < classes.length; i++) {
    if (compareLabels(classes[i - 1] as Label, classes[i] as Label) >= 0) {
      throw new MlError(`${type}.fromJSON: classes must be distinct and sorted`);
    }
  }
  return [...classes];
}

/** A row-major matrix as an array of rows (plain numbers) for toJSON. */
export function toRowArrays(values: Float64Array, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from(values.subarray(i * cols, (i + 1) * cols)));
  return out;
}
