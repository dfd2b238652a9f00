/**
 * Request validation compiled from the TypeBox schemas, with MLflow's error wording.
 * Works on JSON bodies and on query strings (where every value arrives as a string or a string array).
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { invalidParameter } from "./errors.js";

type Check = (value: unknown, name: string) => unknown;

const API_HINT = "See the API docs for more information about request parameters.";

function pyType(value: unknown): string {
  if (value === null) return "NoneType";
  if (Array.isArray(value)) return "list";
  switch (typeof value) {
    case "string":
      return "str";
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(value) ? "int" : "float";
    case "object":
      return "dict";
    default:
      return typeof value;
  }
}

function show(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    return text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return String(value);
  }
}

export function invalidValue(name: string, value: unknown, expected?: string): Error {
  const want = expected ? ` Expected ${expected}.` : "";
  return invalidParameter(
    `Invalid value ${show(value)} for parameter '${name}' supplied.${want} Hint: Value was of type '${pyType(value)}'. ${API_HINT}`,
  );
}

export function missingValue(name: string): Error {
  return invalidParameter(`Missing value for required parameter '${name}'. ${API_HINT}`);
}

const INT_TEXT = /^-?\d+$/;
const FLOAT_TEXT = /^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|NaN|Infinity|inf|nan)$/;

function compile(schema: TSchema): Check {
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) {
    const literals = (s.anyOf as Record<string, unknown>[]).map((x) => x.const);
    if (literals.every((x) => typeof x === "string")) {
      const allowed = new Set(literals);
      return (value, name) => {
        if (typeof value === "string" && allowed.has(value)) return value;
        throw invalidValue(name, value, `one of ${[...allowed].join(", ")}`);
      };
    }
    throw new Error("unsupported union schema");
  }
  switch (s.type) {
    case "string":
      return (value, name) => {
        if (typeof value === "string") return value;
        throw invalidValue(name, value, "a string");
      };
    case "integer":
      return (value, name) => {
        if (typeof value === "number" && Number.isSafeInteger(value)) return value;
        if (typeof value === "string" && INT_TEXT.test(value)) {
          const n = Number(value);
          if (Number.isSafeInteger(n)) return n;
        }
        throw invalidValue(name, value, "an integer");
      };
    case "number":
      return (value, name) => {
        if (typeof value === "number") return value;
        if (typeof value === "string" && FLOAT_TEXT.test(value.trim())) {
          const t = value.trim().toLowerCase();
          if (t === "nan") return NaN;
          if (t === "infinity" || t === "+infinity" || t === "inf") return Infinity;
          if (t === "-infinity" || t === "-inf") return -Infinity;
          return Number(value);
        }
        throw invalidValue(name, value, "a number");
      };
    case "boolean":
      return (value, name) => {
        if (typeof value === "boolean") return value;
        if (value === "true") return true;
        if (value === "false") return false;
        throw invalidValue(name, value, "a boolean (true or false)");
      };
    case "array": {
      const item = compile(s.items as TSchema);
      return (value, name) => {
        const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : undefined;
        if (!list) throw invalidValue(name, value, "a list");
        const out = new Array<unknown>(list.length);
        for (let i = 0; i < list.length; i++) out[i] = item(list[i], name);
        return out;
      };
    }
    case "object": {
      const props = Object.entries((s.properties ?? {}) as Record<string, TSchema>);
      const required = new Set((s.required ?? []) as string[]);
      const fields = props.map(([key, sub]) => ({ key, check: compile(sub), required: required.has(key) }));
      return (value, name) => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
          throw invalidValue(name, value, "an object");
        }
        const src = value as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const f of fields) {
          const v = src[f.key];
          if (v === undefined || v === null) {
            if (f.required) throw missingValue(f.key);
            continue;
          }
          out[f.key] = f.check(v, f.key);
        }
        return out;
      };
    }
    default:
      throw new Error(`unsupported schema type ${String(s.type)}`);
  }
}

export type Validator<T extends TSchema> = (input: unknown) => Static<T>;

/** Compiles a validator for a request schema. Unknown fields are dropped, as protobuf's ParseDict does. */
export function compileValidator<T extends TSchema>(schema: T): Validator<T> {
  const check = compile(schema);
  return (input) => check(input ?? {}, "request");
}
