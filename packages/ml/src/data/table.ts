/**
 * Tables for tabular and text data: column names in order, a row count, and per column its values (an
 * array of anything, or a typed array of numbers) and its type. Build one from records
 * (`tableFromRecords`) or from columns (`tableFromColumns`); readers (the SDK's `readTable`) turn files
 * into records or columns first, and convert numeric-looking strings there: nothing is converted here.
 *
 * Value kinds: `missing` is null, undefined or NaN; `number` a finite number; `boolean`; `string`; any
 * other value (±Infinity, bigint, objects, arrays, dates) is of kind `other`.
 *
 * Column type inference (`inferColumnType`), over the non-missing values:
 * - none at all: `missing`;
 * - a typed array: `number`;
 * - otherwise the most frequent kind among number, boolean and string (ties go to string, then number),
 *   so one stray "N/A" does not turn a numeric column into strings: values of another kind are counted as
 *   invalid by profiles and fail the type expectation of validation. Values of kind `other` never decide;
 *   a column of nothing else is typed `string` (and all its values are invalid);
 * - a string column is `text` (free text) rather than `string` (categorical) when, over an evenly spaced
 *   sample of up to 1000 of its values, the median number of tokens (`tokenize` of
 *   `../features/tokenizer.js`, scikit-learn's word pattern) is at least 5, or the median length is at
 *   least 50 characters (code points; this catches text without word breaks, e.g. Chinese). Short labels
 *   ("New York City", "premium") stay categorical, sentences and documents become text. Both thresholds
 *   are options (`textRule`), and `types` overrides the inferred type of any column.
 */
import { MlError } from "../core/errors.js";
import { tokenize } from "../features/tokenizer.js";
import { describeJsonValue } from "./json-check.js";

export const TABLE_COLUMN_TYPES = ["number", "boolean", "string", "text", "missing"] as const;

/** The type of a column: `string` is categorical, `text` is free text, `missing` has no values. */
export type TableColumnType = (typeof TABLE_COLUMN_TYPES)[number];

/** The kind of one value; see the file comment. */
export type ValueKind = "missing" | "number" | "boolean" | "string" | "other";

export type NumericArray =
  | Float64Array
  | Float32Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** The values of one column, one per row. */
export type ColumnValues = readonly unknown[] | NumericArray;

export interface Table {
  readonly columnNames: readonly string[];
  readonly rowCount: number;
  readonly columns: ReadonlyMap<string, ColumnValues>;
  readonly types: ReadonlyMap<string, TableColumnType>;
}

/** When a string column is free text; see the file comment. */
export interface TextRule {
  /** Text when the median token count is at least this (default 5). */
  minMedianTokens?: number;
  /** Text when the median length in characters is at least this (default 50). */
  minMedianChars?: number;
  /** Values sampled to decide (default 1000). */
  sampleSize?: number;
}

export const DEFAULT_TEXT_RULE: Readonly<Required<TextRule>> = {
  minMedianTokens: 5,
  minMedianChars: 50,
  sampleSize: 1000,
};

export interface TableOptions {
  /** Column types that replace the inferred ones (e.g. `{ review: "text" }`). */
  types?: Readonly<Record<string, TableColumnType>>;
  textRule?: TextRule;
}

/** The kind of a value: missing, number (finite), boolean, string or other. */
export function valueKind(value: unknown): ValueKind {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? "number" : Number.isNaN(value) ? "missing" : "other";
    case "string":
      return "string";
    case "boolean":
      return "boolean";
    case "undefined":
      return "missing";
    default:
      return value === null ? "missing" : "other";
  }
}

/** null, undefined or NaN. */
export function isMissing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === "number" && Number.isNaN(value));
}

/** Whether a value of kind `kind` is a proper value of a column of type `type`. */
export function kindMatchesType(kind: ValueKind, type: TableColumnType): boolean {
  switch (type) {
    case "number":
    case "boolean":
      return kind === type;
    case "string":
    case "text":
      return kind === "string";
    case "missing":
      return kind === "missing";
  }
}

/** The length of a string in characters (Unicode code points, as Python's `len`). */
export function charLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function isNumericArray(values: ColumnValues): values is NumericArray {
  return ArrayBuffer.isView(values);
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** Whether the strings of a column are free text rather than categories (see the file comment). */
export function isFreeText(values: ColumnValues, rule: TextRule = {}): boolean {
  const { minMedianTokens, minMedianChars, sampleSize } = { ...DEFAULT_TEXT_RULE, ...rule };
  let strings = 0;
  for (let i = 0; i < values.length; i++) if (typeof values[i] === "string") strings++;
  if (strings === 0) return false;
  const step = Math.max(1, strings / sampleSize);
  const tokens: number[] = [];
  const chars: number[] = [];
  let seen = 0;
  let next = 0;
  for (let i = 0; i < values.length && tokens.length < sampleSize; i++) {
    const value = values[i];
    if (typeof value !== "string") continue;
    if (seen >= next) {
      tokens.push(tokenize(value).length);
      chars.push(charLength(value));
      next += step;
    }
    seen++;
  }
  return median(tokens) >= minMedianTokens || median(chars) >= minMedianChars;
}

/** The type of a column from its values (see the file comment). */
export function inferColumnType(values: ColumnValues, rule?: TextRule): TableColumnType {
  if (isNumericArray(values)) {
    for (const v of values) if (!Number.isNaN(v)) return "number";
    return "missing";
  }
  let numbers = 0;
  let booleans = 0;
  let strings = 0;
  let others = 0;
  for (const value of values) {
    const kind = valueKind(value);
    if (kind === "number") numbers++;
    else if (kind === "string") strings++;
    else if (kind === "boolean") booleans++;
    else if (kind === "other") others++;
  }
  if (numbers + booleans + strings === 0) return others > 0 ? "string" : "missing";
  if (strings >= numbers && strings >= booleans) return isFreeText(values, rule) ? "text" : "string";
  return numbers >= booleans ? "number" : "boolean";
}

function checkType(type: unknown, where: string): TableColumnType {
  if (!(TABLE_COLUMN_TYPES as readonly unknown[]).includes(type)) {
    throw new MlError(`${where}: must be one of ${TABLE_COLUMN_TYPES.join(", ")}, got ${describeJsonValue(type)}`);
  }
  return type as TableColumnType;
}

function makeTable(
  names: readonly string[],
  columns: Map<string, ColumnValues>,
  rowCount: number,
  options: TableOptions,
): Table {
  const overrides = options.types ?? {};
  for (const name of Object.keys(overrides)) {
    if (!columns.has(name)) {
      throw new MlError(`types.${name}: no such column (columns: ${names.join(", ") || "none"})`);
    }
  }
  const types = new Map<string, TableColumnType>();
  for (const name of names) {
    const override = Object.hasOwn(overrides, name) ? overrides[name] : undefined;
    types.set(
      name,
      override === undefined
        ? inferColumnType(columns.get(name)!, options.textRule)
        : checkType(override, `types.${name}`),
    );
  }
  return { columnNames: names, rowCount, columns, types };
}

/**
 * A table from columns: an object or a `Map` of name → values, or `[name, values]` pairs. All columns
 * must have the same length; the order of the names is kept.
 */
export function tableFromColumns(
  columns: Readonly<Record<string, ColumnValues>> | Iterable<readonly [string, ColumnValues]>,
  options: TableOptions = {},
): Table {
  const entries: Iterable<readonly [string, ColumnValues]> =
    Symbol.iterator in columns ? columns : Object.entries(columns);
  const names: string[] = [];
  const map = new Map<string, ColumnValues>();
  for (const [name, values] of entries) {
    if (typeof name !== "string") throw new MlError(`column names must be strings, got ${describeJsonValue(name)}`);
    if (map.has(name)) throw new MlError(`column '${name}' is given twice`);
    if (!Array.isArray(values) && !ArrayBuffer.isView(values)) {
      throw new MlError(`column '${name}': values must be an array or a typed array, got ${describeJsonValue(values)}`);
    }
    const first = names[0];
    if (first !== undefined && values.length !== map.get(first)!.length) {
      throw new MlError(
        `column '${name}' has ${values.length} values, column '${first}' has ${map.get(first)!.length}`,
      );
    }
    names.push(name);
    map.set(name, values);
  }
  const rowCount = names.length === 0 ? 0 : map.get(names[0]!)!.length;
  return makeTable(names, map, rowCount, options);
}

/**
 * A table from records (plain objects, one per row). Columns appear in the order their keys are first
 * seen; a key absent from a record is a missing value of that row.
 */
export function tableFromRecords(records: Iterable<unknown>, options: TableOptions = {}): Table {
  const names: string[] = [];
  const columns = new Map<string, unknown[]>();
  let row = 0;
  for (const record of records) {
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw new MlError(`record ${row}: must be an object, got ${describeJsonValue(record)}`);
    }
    const object = record as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (!columns.has(key)) {
        names.push(key);
        columns.set(key, new Array<unknown>(row).fill(undefined));
      }
    }
    for (const name of names) columns.get(name)!.push(Object.hasOwn(object, name) ? object[name] : undefined);
    row++;
  }
  return makeTable(names, columns, row, options);
}

/** The same data with some column types replaced (e.g. by a reference profile's types). */
export function withColumnTypes(table: Table, types: Readonly<Record<string, TableColumnType>>): Table {
  const merged = Object.fromEntries(
    table.columnNames.map((name) => [
      name,
      (Object.hasOwn(types, name) ? types[name] : undefined) ?? table.types.get(name)!,
    ]),
  );
  return makeTable(table.columnNames, new Map(table.columns), table.rowCount, { types: merged });
}

/** The values of a column; an unknown name is an error naming the columns there are. */
export function columnValues(table: Table, name: string): ColumnValues {
  const values = table.columns.get(name);
  if (values === undefined) {
    throw new MlError(`no column '${name}' (columns: ${table.columnNames.join(", ") || "none"})`);
  }
  return values;
}
