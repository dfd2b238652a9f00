/**
 * Checks for JSON documents read back from disk (profiles, sketches, expectations): each check names the
 * path of the offending field and what was found, e.g. `columns.age.max: must be a number, got 'x'`, and
 * throws {@link MlError}. Also `ownEntry`, the safe lookup of a key in a JSON object (a column called
 * `constructor` or `__proto__` must never reach `Object.prototype`).
 */
import { MlError } from "../core/errors.js";

/** A short description of a JSON value for error messages: `'x'`, `12`, `null`, `an array`, `an object`. */
export function describeJsonValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return `'${value.length > 40 ? `${value.slice(0, 37)}...` : value}'`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Throws `PATH: must be WHAT, got VALUE`. */
export function fail(path: string, what: string, value: unknown): never {
  throw new MlError(`${path}: must be ${what}, got ${describeJsonValue(value)}`);
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The own property `key` of `object`, or undefined: never an inherited one. */
export function ownEntry<T>(object: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

export function checkObject(value: unknown, path: string): Record<string, unknown> {
  if (!isJsonObject(value)) fail(path, "an object", value);
  return value;
}

/** Rejects keys outside `known` (typos in hand-written documents must not pass silently). */
export function checkKeys(object: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new MlError(`${path === "" ? key : `${path}.${key}`}: unknown field (known: ${known.join(", ")})`);
    }
  }
}

export function checkNumber(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(path, "a number", value);
  return value;
}

/** A number, or NaN written as `null` (JSON has no NaN; empty sketches have NaN statistics). */
export function checkNumberOrNull(value: unknown, path: string): number {
  if (value === null) return NaN;
  return checkNumber(value, path);
}

export function checkCount(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(path, "a non-negative integer", value);
  }
  return value;
}

export function checkRate(value: unknown, path: string): number {
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) fail(path, "a number between 0 and 1", value);
  return value;
}

export function checkString(value: unknown, path: string): string {
  if (typeof value !== "string") fail(path, "a string", value);
  return value;
}

export function checkBoolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") fail(path, "true or false", value);
  return value;
}

export function checkArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, "an array", value);
  return value;
}

export function checkLiteral<T extends string | number>(value: unknown, allowed: readonly T[], path: string): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    fail(path, allowed.length === 1 ? JSON.stringify(allowed[0]) : `one of ${allowed.join(", ")}`, value);
  }
  return value as T;
}

/** JSON has no NaN or Infinity: NaN statistics (of empty columns) are written as null. */
export function jsonNumber(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
