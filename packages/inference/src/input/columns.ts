/**
 * Turning one column of decoded JSON (or CSV text) values into a typed `Column`, checking each value
 * against the column's signature type on the way. A converter is compiled once per signature column; on
 * the hot path it is one loop with a `typeof` test per value. Types without a typed array (binary,
 * datetime, arrays, objects, maps, any) are checked with `@slipway/ml`'s `checkValue` and kept as values.
 *
 * Nulls (and absent values) in an optional column become NaN / "" / 0 with a `missing` mask; in a
 * required column they are a problem. CSV text is parsed by the column's type: numbers as JavaScript
 * reads them, booleans `true`/`false` (any case) or `1`/`0`, and an empty field is null, as pandas reads it.
 */
import { checkValue, describeColumnType, type ColumnSpec, type ColumnType } from "@slipway/ml";
import type { Column } from "../predictors/predictor.js";
import { describeValue, type Problems } from "./problems.js";

export interface ColumnTarget {
  /** The key in the batch: the column's name, or its position as text for unnamed columns. */
  readonly key: string;
  /** How messages name it: `'text'`, or `#0` for unnamed columns. */
  readonly label: string;
  readonly spec: ColumnSpec;
  readonly expected: string;
  /** Converts one column's values; reports problems and returns undefined when a value does not fit. */
  readonly convert: (values: readonly unknown[], problems: Problems, text: boolean) => Column | undefined;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

export function columnTargets(columns: readonly ColumnSpec[]): ColumnTarget[] {
  return columns.map((spec, i) => {
    const key = spec.name ?? String(i);
    const label = spec.name ?? `#${i}`;
    const expected = describeColumnType(spec.type);
    return { key, label, spec, expected, convert: compileConverter(label, spec, expected) };
  });
}

type Converter = ColumnTarget["convert"];

function compileConverter(label: string, spec: ColumnSpec, expected: string): Converter {
  const { type, required } = spec;
  if (typeof type === "string") {
    switch (type) {
      case "double":
      case "long":
      case "integer":
      case "float":
        return numberConverter(label, type, required, expected);
      case "string":
        return stringConverter(label, required, expected);
      case "boolean":
        return booleanConverter(label, required, expected);
      default:
        break;
    }
  }
  return valueConverter(label, type, required, expected);
}

function isNull(v: unknown): boolean {
  return v === null || v === undefined;
}

/** A `missing` mask, allocated when the first null turns up. */
function markMissing(mask: Uint8Array | undefined, rows: number, row: number): Uint8Array {
  const m = mask ?? new Uint8Array(rows);
  m[row] = 1;
  return m;
}

function numberConverter(
  label: string,
  type: "double" | "long" | "integer" | "float",
  required: boolean,
  expected: string,
): Converter {
  const integer = type === "long" || type === "integer";
  const int32 = type === "integer";
  return (values, problems, text) => {
    const n = values.length;
    const out = type === "float" ? new Float32Array(n) : new Float64Array(n);
    let missing: Uint8Array | undefined;
    let ok = true;
    for (let r = 0; r < n; r++) {
      let v = values[r];
      if (text && typeof v === "string") v = v === "" ? null : parseNumberText(v);
      if (typeof v === "number") {
        if (integer && (!Number.isInteger(v) || (int32 && (v < INT32_MIN || v > INT32_MAX)))) {
          problems.add(label, "wrong_type", expected, r, foundFor(values[r], type));
          ok = false;
        } else {
          out[r] = v;
        }
      } else if (isNull(v)) {
        if (required) {
          problems.add(label, "missing", expected, r);
          ok = false;
        } else {
          out[r] = NaN;
          missing = markMissing(missing, n, r);
        }
      } else {
        problems.add(label, "wrong_type", expected, r, foundFor(values[r], type));
        ok = false;
      }
    }
    if (!ok) return undefined;
    if (out instanceof Float32Array) {
      return missing ? { kind: "float32", values: out, missing } : { kind: "float32", values: out };
    }
    return missing ? { kind: "float64", values: out, missing } : { kind: "float64", values: out };
  };
}

/** A CSV field as a number (NaN spellings as pandas reads them); a string that is no number stays one. */
function parseNumberText(text: string): number | string {
  const t = text.trim();
  if (t === "NaN" || t === "nan" || t === "NA" || t === "N/A") return NaN;
  if (t === "inf" || t === "Infinity") return Infinity;
  if (t === "-inf" || t === "-Infinity") return -Infinity;
  const n = Number(t);
  return t === "" || Number.isNaN(n) ? text : n;
}

function foundFor(value: unknown, type: ColumnType): string {
  return checkValue(value, type) ?? describeValue(value);
}

function stringConverter(label: string, required: boolean, expected: string): Converter {
  return (values, problems, text) => {
    const n = values.length;
    let missing: Uint8Array | undefined;
    let ok = true;
    // fast path: every value a string → the array as it is (no copy)
    let allStrings = true;
    for (let r = 0; r < n; r++) {
      const v = values[r];
      if (typeof v !== "string" || (text && v === "")) {
        allStrings = false;
        break;
      }
    }
    if (allStrings) return { kind: "string", values: values as readonly string[] };
    const out = new Array<string>(n);
    for (let r = 0; r < n; r++) {
      const v = values[r];
      if (typeof v === "string" && !(text && v === "")) {
        out[r] = v;
      } else if (isNull(v) || (text && v === "")) {
        if (required) {
          problems.add(label, "missing", expected, r);
          ok = false;
        } else {
          out[r] = "";
          missing = markMissing(missing, n, r);
        }
      } else {
        problems.add(label, "wrong_type", expected, r, foundFor(v, "string"));
        ok = false;
      }
    }
    if (!ok) return undefined;
    return missing ? { kind: "string", values: out, missing } : { kind: "string", values: out };
  };
}

const TRUE_TEXT = new Set(["true", "1"]);
const FALSE_TEXT = new Set(["false", "0"]);

function booleanConverter(label: string, required: boolean, expected: string): Converter {
  return (values, problems, text) => {
    const n = values.length;
    const out = new Uint8Array(n);
    let missing: Uint8Array | undefined;
    let ok = true;
    for (let r = 0; r < n; r++) {
      let v = values[r];
      if (text && typeof v === "string") {
        const t = v.trim().toLowerCase();
        v = t === "" ? null : TRUE_TEXT.has(t) ? true : FALSE_TEXT.has(t) ? false : v;
      }
      if (typeof v === "boolean") {
        out[r] = v ? 1 : 0;
      } else if (isNull(v)) {
        if (required) {
          problems.add(label, "missing", expected, r);
          ok = false;
        } else {
          missing = markMissing(missing, n, r);
        }
      } else {
        problems.add(label, "wrong_type", expected, r, foundFor(values[r], "boolean"));
        ok = false;
      }
    }
    if (!ok) return undefined;
    return missing ? { kind: "bool", values: out, missing } : { kind: "bool", values: out };
  };
}

function valueConverter(label: string, type: ColumnType, required: boolean, expected: string): Converter {
  return (values, problems, text) => {
    let ok = true;
    for (let r = 0; r < values.length; r++) {
      const v = values[r];
      if (isNull(v) || (text && v === "")) {
        if (required) {
          problems.add(label, "missing", expected, r);
          ok = false;
        }
        continue;
      }
      const found = checkValue(v, type);
      if (found !== undefined) {
        problems.add(label, "wrong_type", expected, r, found);
        ok = false;
      }
    }
    if (!ok) return undefined;
    const out = text ? values.map((v) => (v === "" ? null : v)) : values.map((v) => v ?? null);
    return { kind: "value", values: out };
  };
}
