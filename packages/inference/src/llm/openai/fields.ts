/**
 * Reading one field of an OpenAI request body: each reader checks the type and range and throws a 400
 * `LlmError` worded and coded as OpenAI words and codes it (`invalid_type`, `integer_below_min_value`,
 * `missing_required_parameter`...), naming the field in `param`. `null` counts as absent, as in OpenAI.
 */
import { invalidRequest, type LlmError } from "../errors.js";
import type { JsonObject } from "../engine/llm-provider.js";

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a decimal";
  if (typeof value === "boolean") return "a boolean";
  return `a ${typeof value}`;
}

export function invalidType(param: string, expected: string, value: unknown): LlmError {
  return invalidRequest(
    `Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`,
    param,
    "invalid_type",
  );
}

export function missing(param: string): LlmError {
  return invalidRequest(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
}

/** The request body as an object, or a 400. */
export function bodyObject(body: unknown): JsonObject {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidRequest(
      "The request body must be a JSON object. See https://platform.openai.com/docs/api-reference.",
      null,
      "invalid_request_body",
    );
  }
  return body as JsonObject;
}

export function optionalString(body: JsonObject, param: string): string | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidType(param, "a string", value);
  return value;
}

export function requiredString(body: JsonObject, param: string): string {
  const value = optionalString(body, param);
  if (value === undefined) throw missing(param);
  return value;
}

export function optionalBoolean(body: JsonObject, param: string): boolean | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidType(param, "a boolean", value);
  return value;
}

export interface NumberRange {
  min?: number;
  max?: number;
  /** `min` itself is not allowed (e.g. top_p > 0). */
  exclusiveMin?: boolean;
}

export function optionalNumber(body: JsonObject, param: string, range: NumberRange = {}): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw invalidType(param, "a number", value);
  checkRange(param, value, range, "decimal");
  return value;
}

export function optionalInteger(body: JsonObject, param: string, range: NumberRange = {}): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw invalidType(param, "an integer", value);
  checkRange(param, value, range, "integer");
  return value;
}

function checkRange(param: string, value: number, range: NumberRange, kind: "integer" | "decimal"): void {
  const { min, max } = range;
  if (min !== undefined && (value < min || (range.exclusiveMin === true && value === min))) {
    const bound = range.exclusiveMin === true ? `> ${min}` : `>= ${min}`;
    throw invalidRequest(
      `Invalid '${param}': ${kind} below minimum value. Expected a value ${bound}, but got ${value} instead.`,
      param,
      `${kind}_below_min_value`,
    );
  }
  if (max !== undefined && value > max) {
    throw invalidRequest(
      `Invalid '${param}': ${kind} above maximum value. Expected a value <= ${max}, but got ${value} instead.`,
      param,
      `${kind}_above_max_value`,
    );
  }
}

export function optionalObject(body: JsonObject, param: string): JsonObject | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw invalidType(param, "an object", value);
  return value as JsonObject;
}

/** The body's keys that the endpoint does not act on (reported in a response header, never rejected). */
export function ignoredKeys(body: JsonObject, known: ReadonlySet<string>): string[] {
  return Object.keys(body).filter((key) => !known.has(key) && body[key] !== null && body[key] !== undefined);
}
