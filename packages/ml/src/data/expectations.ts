/**
 * Expectations: what data must look like, as a versioned JSON document — derived from a reference
 * profile (`expectationsFromProfile`), edited by hand if needed, read back with precise errors
 * (`parseExpectations`), and checked against new data by `validateTable` (`validate-table.ts`).
 *
 * ```json
 * { "version": 1,
 *   "table": { "minRows": 1, "requiredColumns": ["age", "city"], "allowUnexpectedColumns": true },
 *   "columns": {
 *     "age":    { "type": "number", "maxMissingRate": 0.02, "min": 0, "max": 108.9 },
 *     "city":   { "type": "string", "maxMissingRate": 0, "categories": ["Lyon", "Paris"], "maxUnknownCategoryRate": 0.01 },
 *     "review": { "type": "text", "minLength": 2, "maxLength": 2200 } } }
 * ```
 *
 * Column expectations (all optional): `type` (values of another kind fail, up to `maxTypeMismatchRate`,
 * default 0), `maxMissingRate`, `min`/`max` (inclusive, numbers), `categories` with
 * `maxUnknownCategoryRate` (default 0; a fraction of the values of the expected type, or of all non-missing
 * values without one; values are compared as text, booleans as "true"/"false"),
 * `minLength`/`maxLength` (characters, i.e. code points, of string values), `minDistinct`/`maxDistinct`
 * (distinct non-missing values). Rates are fractions: of all rows for missing values, of non-missing
 * values otherwise. Table expectations: `minRows`/`maxRows`, `requiredColumns`, and
 * `allowUnexpectedColumns` (default true; false fails columns named neither in `columns` nor in
 * `requiredColumns`). A column named in `columns` but absent from the data is only an error when it is
 * required; its checks are skipped.
 */
import { MlError } from "../core/errors.js";
import {
  checkArray,
  checkBoolean,
  checkCount,
  checkKeys,
  checkLiteral,
  checkNumber,
  checkObject,
  checkRate,
  checkString,
  describeJsonValue,
} from "./json-check.js";
import { parseJsonText } from "./profile-json.js";
import type { DataProfile } from "./profile.js";
import { TABLE_COLUMN_TYPES, type TableColumnType } from "./table.js";

export const EXPECTATIONS_VERSION = 1;

export interface TableExpectations {
  minRows?: number;
  maxRows?: number;
  requiredColumns?: string[];
  /** false: a column named neither in `columns` nor in `requiredColumns` fails (default true). */
  allowUnexpectedColumns?: boolean;
}

export interface ColumnExpectations {
  type?: TableColumnType;
  /** Fraction of non-missing values that may be of another type (default 0; needs `type`). */
  maxTypeMismatchRate?: number;
  /** Fraction of rows that may be missing. */
  maxMissingRate?: number;
  min?: number;
  max?: number;
  categories?: string[];
  /** Fraction of non-missing values that may be outside `categories` (default 0; needs `categories`). */
  maxUnknownCategoryRate?: number;
  /** Length bounds of string values, in characters (code points). */
  minLength?: number;
  maxLength?: number;
  minDistinct?: number;
  maxDistinct?: number;
}

export interface Expectations {
  version: 1;
  table: TableExpectations;
  columns: Record<string, ColumnExpectations>;
}

const TABLE_KEYS = ["minRows", "maxRows", "requiredColumns", "allowUnexpectedColumns"] as const;
const COLUMN_KEYS = [
  "type",
  "maxTypeMismatchRate",
  "maxMissingRate",
  "min",
  "max",
  "categories",
  "maxUnknownCategoryRate",
  "minLength",
  "maxLength",
  "minDistinct",
  "maxDistinct",
] as const;

function checkOrder(low: number | undefined, high: number | undefined, path: string, names: [string, string]): void {
  if (low !== undefined && high !== undefined && low > high) {
    throw new MlError(`${path}: ${names[0]} (${low}) must not exceed ${names[1]} (${high})`);
  }
}

function checkStrings(json: unknown, path: string): string[] {
  const values = checkArray(json, path).map((v, i) => checkString(v, `${path}[${i}]`));
  const seen = new Set<string>();
  values.forEach((v, i) => {
    if (seen.has(v)) throw new MlError(`${path}[${i}]: '${v}' is listed twice`);
    seen.add(v);
  });
  return values;
}

function parseTable(json: unknown): TableExpectations {
  if (json === undefined) return {};
  const o = checkObject(json, "table");
  checkKeys(o, TABLE_KEYS, "table");
  const table: TableExpectations = {};
  if (o.minRows !== undefined) table.minRows = checkCount(o.minRows, "table.minRows");
  if (o.maxRows !== undefined) table.maxRows = checkCount(o.maxRows, "table.maxRows");
  checkOrder(table.minRows, table.maxRows, "table", ["minRows", "maxRows"]);
  if (o.requiredColumns !== undefined) table.requiredColumns = checkStrings(o.requiredColumns, "table.requiredColumns");
  if (o.allowUnexpectedColumns !== undefined) {
    table.allowUnexpectedColumns = checkBoolean(o.allowUnexpectedColumns, "table.allowUnexpectedColumns");
  }
  return table;
}

function parseColumn(json: unknown, path: string): ColumnExpectations {
  const o = checkObject(json, path);
  checkKeys(o, COLUMN_KEYS, path);
  const c: ColumnExpectations = {};
  if (o.type !== undefined) c.type = checkLiteral(o.type, TABLE_COLUMN_TYPES, `${path}.type`);
  if (o.maxTypeMismatchRate !== undefined) {
    c.maxTypeMismatchRate = checkRate(o.maxTypeMismatchRate, `${path}.maxTypeMismatchRate`);
    if (c.type === undefined) throw new MlError(`${path}.maxTypeMismatchRate: needs a type`);
  }
  if (o.maxMissingRate !== undefined) c.maxMissingRate = checkRate(o.maxMissingRate, `${path}.maxMissingRate`);
  if (o.min !== undefined) c.min = checkNumber(o.min, `${path}.min`);
  if (o.max !== undefined) c.max = checkNumber(o.max, `${path}.max`);
  checkOrder(c.min, c.max, path, ["min", "max"]);
  if (o.categories !== undefined) c.categories = checkStrings(o.categories, `${path}.categories`);
  if (o.maxUnknownCategoryRate !== undefined) {
    c.maxUnknownCategoryRate = checkRate(o.maxUnknownCategoryRate, `${path}.maxUnknownCategoryRate`);
    if (c.categories === undefined) throw new MlError(`${path}.maxUnknownCategoryRate: needs categories`);
  }
  if (o.minLength !== undefined) c.minLength = checkCount(o.minLength, `${path}.minLength`);
  if (o.maxLength !== undefined) c.maxLength = checkCount(o.maxLength, `${path}.maxLength`);
  checkOrder(c.minLength, c.maxLength, path, ["minLength", "maxLength"]);
  if (o.minDistinct !== undefined) c.minDistinct = checkCount(o.minDistinct, `${path}.minDistinct`);
  if (o.maxDistinct !== undefined) c.maxDistinct = checkCount(o.maxDistinct, `${path}.maxDistinct`);
  checkOrder(c.minDistinct, c.maxDistinct, path, ["minDistinct", "maxDistinct"]);
  return c;
}

/**
 * Checks an expectations document (parsed, or its JSON text) and returns a clean copy. Errors are
 * {@link MlError}s naming the field: `columns.age.max: must be a number, got 'x'`; unknown fields are
 * errors too (a misspelt expectation must not pass silently).
 */
export function parseExpectations(json: unknown): Expectations {
  const document = typeof json === "string" ? parseJsonText(json, "expectations") : json;
  const o = checkObject(document, "expectations");
  checkKeys(o, ["version", "table", "columns"], "");
  if (o.version !== EXPECTATIONS_VERSION) {
    throw new MlError(`version: must be ${EXPECTATIONS_VERSION}, got ${describeJsonValue(o.version)}`);
  }
  const columns = o.columns === undefined ? {} : checkObject(o.columns, "columns");
  return {
    version: EXPECTATIONS_VERSION,
    table: parseTable(o.table),
    columns: Object.fromEntries(
      Object.entries(columns).map(([name, column]) => [name, parseColumn(column, `columns.${name}`)]),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Deriving expectations from a profile

export interface DeriveExpectationsOptions {
  /**
   * How far ranges are widened (default 0.1): numeric min/max by this fraction of the observed range on
   * each side (not below 0 for a column that had no negative value), text lengths by this factor
   * (min ÷ (1 + margin), max × (1 + margin)), distinct counts likewise.
   */
  margin?: number;
  /** Added to the observed missing rate (and type-mismatch rate) to allow (default 0.02). */
  missingRateTolerance?: number;
  /** Categories are expected only for string columns with at most this many, all counted exactly (default 100). */
  maxCategories?: number;
  /** The tolerated rate of unknown categories (default 0). */
  unknownCategoryRate?: number;
  /** Also expect distinct counts (default false: they depend on how many rows a batch has). */
  distinct?: boolean;
  /** Table expectations: rows (default at least 1) and whether other columns may appear (default true). */
  minRows?: number;
  maxRows?: number;
  allowUnexpectedColumns?: boolean;
}

/** x rounded to 6 significant digits, towards -∞ (`down`) or +∞: derived bounds stay readable. */
function roundOutward(x: number, down: boolean): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const rounded = Number(x.toPrecision(6));
  if (down ? rounded <= x : rounded >= x) return rounded;
  const step = 10 ** (Math.floor(Math.log10(Math.abs(x))) - 5);
  return Number((down ? rounded - step : rounded + step).toPrecision(6));
}

function rateUp(rate: number): number {
  return Math.min(1, Math.ceil(rate * 10_000 - 1e-9) / 10_000);
}

function checkOption(value: number | undefined, name: string, fallback: number, max = Infinity): number {
  const v = value ?? fallback;
  if (!(v >= 0 && v <= max)) throw new MlError(`${name}: must be a number between 0 and ${max}, got ${v}`);
  return v;
}

/** Expectations that the profiled data meets, widened by a margin (see `DeriveExpectationsOptions`). */
export function expectationsFromProfile(profile: DataProfile, options: DeriveExpectationsOptions = {}): Expectations {
  const margin = checkOption(options.margin, "margin", 0.1);
  const tolerance = checkOption(options.missingRateTolerance, "missingRateTolerance", 0.02, 1);
  const maxCategories = checkOption(options.maxCategories, "maxCategories", 100);
  const unknownRate = checkOption(options.unknownCategoryRate, "unknownCategoryRate", 0, 1);
  const columns: [string, ColumnExpectations][] = [];
  for (const [name, column] of Object.entries(profile.columns)) {
    const c: ColumnExpectations = {};
    const rows = column.count + column.missing;
    if (column.type !== "missing") {
      c.type = column.type;
      if (column.invalid > 0) c.maxTypeMismatchRate = rateUp(column.invalid / column.count + tolerance);
    }
    c.maxMissingRate = rows === 0 || column.missing === rows ? 1 : rateUp(column.missing / rows + tolerance);
    if (column.type === "number" && column.min !== null && column.max !== null) {
      const span = column.max - column.min || Math.abs(column.max) || 1;
      const low = column.min - margin * span;
      c.min = roundOutward(column.min >= 0 ? Math.max(0, low) : low, true);
      c.max = roundOutward(column.max + margin * span, false);
    }
    if (
      column.type === "string" &&
      column.categories.offset === 0 &&
      column.categories.counts.length <= maxCategories
    ) {
      c.categories = column.categories.counts.map(([value]) => value).sort();
      c.maxUnknownCategoryRate = unknownRate;
    }
    if (column.type === "text" && column.chars.min !== null && column.chars.max !== null) {
      c.minLength = Math.floor(column.chars.min / (1 + margin));
      c.maxLength = Math.ceil(column.chars.max * (1 + margin));
    }
    if (options.distinct === true && column.count > 0) {
      c.minDistinct = Math.floor(column.distinct / (1 + margin));
      c.maxDistinct = Math.ceil(column.distinct * (1 + margin));
    }
    columns.push([name, c]);
  }
  const table: TableExpectations = { minRows: checkOption(options.minRows, "minRows", 1) };
  if (options.maxRows !== undefined) table.maxRows = checkOption(options.maxRows, "maxRows", 0);
  table.requiredColumns = Object.keys(profile.columns);
  table.allowUnexpectedColumns = options.allowUnexpectedColumns ?? true;
  return { version: EXPECTATIONS_VERSION, table, columns: Object.fromEntries(columns) };
}
