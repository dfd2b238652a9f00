/**
 * Helpers for the `toJSON()` / `fromJSON()` pairs of the feature transformers: every serialised transformer
 * is a plain JSON object `{ type, version: 1, ... }`, and `fromJSON` checks each field, throwing MlError that
 * names the transformer and the field at fault (never a TypeError half-way through a restore).
 */
import { MlError } from "../core/errors.js";

/** A JSON object as `toJSON()` produces it. */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;

/** The format version every transformer writes and reads. */
export const FORMAT_VERSION = 1;

/** The error a transformer throws when used before `fit`. */
export function notFittedError(name: string): MlError {
  return new MlError(`${name} is not fitted yet: call fit() before transform()`);
}

/** Reads and checks the fields of a serialised transformer (or of an object nested in one). */
export class JsonReader {
  private constructor(
    private readonly obj: Record<string, unknown>,
    /** Where we are, for messages: "CountVectorizer.fromJSON" or "CountVectorizer.fromJSON: options". */
    private readonly context: string,
  ) {}

  /** A reader of `value`, which must be an object `{ type, version: 1, ... }` of the given type. */
  static forType(value: unknown, type: string): JsonReader {
    const context = `${type}.fromJSON`;
    if (!isRecord(value)) throw new MlError(`${context} expects an object, got ${describe(value)}`);
    if (value.type !== type) throw new MlError(`${context} expects type "${type}", got ${describe(value.type)}`);
    if (value.version !== FORMAT_VERSION) {
      throw new MlError(`${context} supports version ${FORMAT_VERSION}, got ${describe(value.version)}`);
    }
    return new JsonReader(value, context);
  }

  /** A reader of the object at `key`. */
  object(key: string): JsonReader {
    const v = this.obj[key];
    if (!isRecord(v)) this.fail(key, "an object");
    return new JsonReader(v, `${this.context}: ${key}`);
  }

  fail(key: string, expected: string): never {
    throw new MlError(`${this.context}: "${key}" must be ${expected}, got ${describe(this.obj[key])}`);
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  boolean(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== "boolean") this.fail(key, "a boolean");
    return v;
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== "string") this.fail(key, "a string");
    return v;
  }

  /** A finite number, optionally an integer in [min, max]. */
  number(key: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
    const v = this.obj[key];
    const ok =
      typeof v === "number" &&
      Number.isFinite(v) &&
      (opts.integer !== true || Number.isInteger(v)) &&
      (opts.min === undefined || v >= opts.min) &&
      (opts.max === undefined || v <= opts.max);
    if (!ok) {
      const kind = opts.integer === true ? "an integer" : "a finite number";
      const range =
        opts.min !== undefined || opts.max !== undefined ? ` in [${opts.min ?? "-∞"}, ${opts.max ?? "∞"}]` : "";
      this.fail(key, kind + range);
    }
    return v;
  }

  /** One of the given string (or null) values. */
  oneOf<T extends string | null>(key: string, values: readonly T[]): T {
    const v = this.obj[key];
    const found = values.find((x) => x === v);
    if (found === undefined) this.fail(key, `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`);
    return found;
  }

  stringArray(key: string): string[] {
    const v = this.obj[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) this.fail(key, "an array of strings");
    return v;
  }

  /** An array of numbers in which `null` stands for NaN (JSON has no NaN); length checked when given. */
  numberArray(key: string, length?: number): Float64Array {
    const v = this.obj[key];
    if (!Array.isArray(v) || !v.every((x) => x === null || (typeof x === "number" && Number.isFinite(x)))) {
      this.fail(key, "an array of finite numbers or nulls");
    }
    if (length !== undefined && v.length !== length) this.fail(key, `an array of ${length} numbers`);
    return Float64Array.from(v as (number | null)[], (x) => (x === null ? Number.NaN : x));
  }
}

/** Numbers for JSON: NaN becomes null (restored by {@link JsonReader.numberArray}). */
export function numbersToJson(values: ArrayLike<number>): (number | null)[] {
  return Array.from(values, (x) => (Number.isNaN(x) ? null : x));
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return typeof value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
