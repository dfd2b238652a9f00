/**
 * `validateTable(table, expectations)`: checks data against an expectations document (`expectations.ts`)
 * and reports every check — a library call without I/O, the first step of a pipeline.
 *
 * The report is `{ success, checked, failed, results }`, one result per check, in this order: table
 * checks (`rowCount`, `requiredColumns`, `unexpectedColumns`), then per column `type`, `missingRate`,
 * `range`, `categories`, `length`, `distinct`. Each result has the column (absent for table checks), the
 * expectation, success, `observed` and `expected` (JSON values, below), a one-line `message`, and for
 * failed value checks `examples`: a few failing values with their row (0-based index in the table).
 *
 * observed / expected by expectation:
 * - rowCount: n / { min?, max? }
 * - requiredColumns: { missing: names } / the required names
 * - unexpectedColumns: { unexpected: names } / the expected names
 * - type: { mismatches, rate } / { type, maxMismatchRate }
 * - missingRate: { missing, rate } / { maxRate }
 * - range: { min, max, outside } (of the numbers; null without any) / { min?, max? }
 * - categories: { unknown, rate, unknownValues } (a few distinct unknown values; the rate is of the values
 *   of the expected type, or of all non-missing values without one) / { categories, maxRate }
 * - length: { min, max, outside } (characters of the strings) / { min?, max? }
 * - distinct: n / { min?, max? }
 */
import { jsonNumber } from "./json-check.js";
import type { ColumnExpectations, Expectations } from "./expectations.js";
import { charLength, kindMatchesType, valueKind, type ColumnValues, type Table } from "./table.js";

export type ExpectationName =
  | "rowCount"
  | "requiredColumns"
  | "unexpectedColumns"
  | "type"
  | "missingRate"
  | "range"
  | "categories"
  | "length"
  | "distinct";

export interface ValidationExample {
  /** 0-based index of the row in the table. */
  row: number;
  value: unknown;
}

export interface ValidationResult {
  column?: string;
  expectation: ExpectationName;
  success: boolean;
  observed: unknown;
  expected: unknown;
  message: string;
  examples?: ValidationExample[];
}

export interface ValidationReport {
  success: boolean;
  checked: number;
  failed: number;
  results: ValidationResult[];
}

export interface ValidateOptions {
  /** Failing values listed per check (default 5). */
  maxExamples?: number;
}

/** A rate as a percentage for messages: 0.3% , 12%, 0.01%. */
function percent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))}%`;
}

function bounds(min: number | undefined, max: number | undefined, unit = ""): string {
  if (min !== undefined && max !== undefined) return `[${min}, ${max}]${unit}`;
  if (min !== undefined) return `≥ ${min}${unit}`;
  return `≤ ${max}${unit}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** A value as text for category comparison: strings as they are, numbers and booleans as `String()`, others as JSON. */
function categoryText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    default:
      try {
        return JSON.stringify(value) ?? typeof value;
      } catch {
        return typeof value; // a cycle
      }
  }
}

/** What one pass over a column collects for the checks. */
interface Scan {
  rows: number;
  missing: number;
  nonMissing: number;
}

class ExampleList {
  readonly items: ValidationExample[] = [];
  count = 0;
  constructor(private readonly max: number) {}
  add(row: number, value: unknown): void {
    this.count++;
    if (this.items.length < this.max)
      this.items.push({ row, value: typeof value === "number" ? jsonNumber(value) : value });
  }
}

function checkColumn(
  name: string,
  values: ColumnValues,
  e: ColumnExpectations,
  maxExamples: number,
  results: ValidationResult[],
): void {
  const scan: Scan = { rows: values.length, missing: 0, nonMissing: 0 };
  const mismatches = new ExampleList(maxExamples);
  const outside = new ExampleList(maxExamples);
  const unknown = new ExampleList(maxExamples);
  const badLength = new ExampleList(maxExamples);
  const unknownValues = new Set<string>();
  const allowed = e.categories === undefined ? undefined : new Set(e.categories);
  const distinct = e.minDistinct !== undefined || e.maxDistinct !== undefined ? new Set<unknown>() : undefined;
  const range = e.min !== undefined || e.max !== undefined;
  const lengths = e.minLength !== undefined || e.maxLength !== undefined;
  let categorized = 0;
  let low = Infinity;
  let high = -Infinity;
  let shortest = Infinity;
  let longest = -Infinity;
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    const kind = valueKind(value);
    if (kind === "missing") {
      scan.missing++;
      continue;
    }
    scan.nonMissing++;
    if (e.type !== undefined && !kindMatchesType(kind, e.type)) mismatches.add(row, value);
    if (range && kind === "number") {
      const x = value as number;
      if (x < low) low = x;
      if (x > high) high = x;
      if ((e.min !== undefined && x < e.min) || (e.max !== undefined && x > e.max)) outside.add(row, x);
    }
    if (allowed !== undefined && (e.type === undefined || kindMatchesType(kind, e.type))) {
      categorized++;
      const text = categoryText(value);
      if (!allowed.has(text)) {
        unknown.add(row, value);
        if (unknownValues.size < maxExamples) unknownValues.add(text);
      }
    }
    if (lengths && kind === "string") {
      const n = charLength(value as string);
      if (n < shortest) shortest = n;
      if (n > longest) longest = n;
      if ((e.minLength !== undefined && n < e.minLength) || (e.maxLength !== undefined && n > e.maxLength)) {
        badLength.add(row, value);
      }
    }
    distinct?.add(typeof value === "object" ? `\u0000${categoryText(value)}` : value);
  }
  const push = (result: Omit<ValidationResult, "column">, examples?: ExampleList): void => {
    const withExamples = !result.success && examples !== undefined && examples.items.length > 0;
    results.push({ column: name, ...result, ...(withExamples ? { examples: examples.items } : {}) });
  };
  if (e.type !== undefined && e.type !== "missing") {
    const rate = scan.nonMissing === 0 ? 0 : mismatches.count / scan.nonMissing;
    const maxRate = e.maxTypeMismatchRate ?? 0;
    const success = rate <= maxRate;
    push(
      {
        expectation: "type",
        success,
        observed: { mismatches: mismatches.count, rate },
        expected: { type: e.type, maxMismatchRate: maxRate },
        message:
          mismatches.count === 0
            ? `all ${plural(scan.nonMissing, "value")} are ${e.type}`
            : `${mismatches.count} of ${plural(scan.nonMissing, "value")} (${percent(rate)}) are not ${e.type}, ${success ? "within" : "more than"} the ${percent(maxRate)} allowed`,
      },
      mismatches,
    );
  }
  if (e.maxMissingRate !== undefined) {
    const rate = scan.rows === 0 ? 0 : scan.missing / scan.rows;
    const success = rate <= e.maxMissingRate;
    push({
      expectation: "missingRate",
      success,
      observed: { missing: scan.missing, rate },
      expected: { maxRate: e.maxMissingRate },
      message: `${percent(rate)} missing (${plural(scan.missing, "row")}), ${success ? "within" : "more than"} the ${percent(e.maxMissingRate)} allowed`,
    });
  }
  if (range) {
    const where = bounds(e.min, e.max);
    push(
      {
        expectation: "range",
        success: outside.count === 0,
        observed: {
          min: jsonNumber(low === Infinity ? NaN : low),
          max: jsonNumber(high === -Infinity ? NaN : high),
          outside: outside.count,
        },
        expected: { ...(e.min === undefined ? {} : { min: e.min }), ...(e.max === undefined ? {} : { max: e.max }) },
        message:
          outside.count === 0
            ? `all numbers within ${where}`
            : `${plural(outside.count, "value")} outside ${where} (observed ${low} … ${high})`,
      },
      outside,
    );
  }
  if (allowed !== undefined) {
    const rate = categorized === 0 ? 0 : unknown.count / categorized;
    const maxRate = e.maxUnknownCategoryRate ?? 0;
    const success = rate <= maxRate;
    const listed = [...unknownValues].map((v) => `'${v}'`).join(", ");
    push(
      {
        expectation: "categories",
        success,
        observed: { unknown: unknown.count, rate, unknownValues: [...unknownValues] },
        expected: { categories: e.categories, maxRate },
        message:
          unknown.count === 0
            ? `all values in the ${allowed.size} known ${allowed.size === 1 ? "category" : "categories"}`
            : `${plural(unknown.count, "value")} (${percent(rate)}) in unknown categories (${listed}${unknown.count > unknownValues.size ? ", …" : ""}), ${success ? "within" : "more than"} the ${percent(maxRate)} allowed`,
      },
      unknown,
    );
  }
  if (lengths) {
    const where = bounds(e.minLength, e.maxLength, " characters");
    push(
      {
        expectation: "length",
        success: badLength.count === 0,
        observed: {
          min: shortest === Infinity ? null : shortest,
          max: longest === -Infinity ? null : longest,
          outside: badLength.count,
        },
        expected: {
          ...(e.minLength === undefined ? {} : { min: e.minLength }),
          ...(e.maxLength === undefined ? {} : { max: e.maxLength }),
        },
        message:
          badLength.count === 0
            ? `all lengths within ${where}`
            : `${plural(badLength.count, "value")} with a length outside ${where} (observed ${shortest} … ${longest})`,
      },
      badLength,
    );
  }
  if (distinct !== undefined) {
    const n = distinct.size;
    const success =
      (e.minDistinct === undefined || n >= e.minDistinct) && (e.maxDistinct === undefined || n <= e.maxDistinct);
    push({
      expectation: "distinct",
      success,
      observed: n,
      expected: {
        ...(e.minDistinct === undefined ? {} : { min: e.minDistinct }),
        ...(e.maxDistinct === undefined ? {} : { max: e.maxDistinct }),
      },
      message: `${plural(n, "distinct value")}, ${success ? "within" : "expected"} ${bounds(e.minDistinct, e.maxDistinct)}`,
    });
  }
}

/** Checks a table against expectations (see the file comment). */
export function validateTable(
  table: Table,
  expectations: Expectations,
  options: ValidateOptions = {},
): ValidationReport {
  const maxExamples = options.maxExamples ?? 5;
  const results: ValidationResult[] = [];
  const t = expectations.table;
  if (t.minRows !== undefined || t.maxRows !== undefined) {
    const n = table.rowCount;
    const success = (t.minRows === undefined || n >= t.minRows) && (t.maxRows === undefined || n <= t.maxRows);
    results.push({
      expectation: "rowCount",
      success,
      observed: n,
      expected: {
        ...(t.minRows === undefined ? {} : { min: t.minRows }),
        ...(t.maxRows === undefined ? {} : { max: t.maxRows }),
      },
      message: `${plural(n, "row")}, ${success ? "within" : "expected"} ${bounds(t.minRows, t.maxRows)}`,
    });
  }
  const present = new Set(table.columnNames);
  if (t.requiredColumns !== undefined) {
    const missing = t.requiredColumns.filter((name) => !present.has(name));
    results.push({
      expectation: "requiredColumns",
      success: missing.length === 0,
      observed: { missing },
      expected: t.requiredColumns,
      message:
        missing.length === 0
          ? `all ${plural(t.requiredColumns.length, "required column")} present`
          : `missing required column${missing.length === 1 ? "" : "s"}: ${missing.join(", ")}`,
    });
  }
  if (t.allowUnexpectedColumns === false) {
    const known = [...new Set([...Object.keys(expectations.columns), ...(t.requiredColumns ?? [])])];
    const knownSet = new Set(known);
    const unexpected = table.columnNames.filter((name) => !knownSet.has(name));
    results.push({
      expectation: "unexpectedColumns",
      success: unexpected.length === 0,
      observed: { unexpected },
      expected: known,
      message:
        unexpected.length === 0
          ? "no unexpected columns"
          : `unexpected column${unexpected.length === 1 ? "" : "s"}: ${unexpected.join(", ")}`,
    });
  }
  for (const [name, columnExpectations] of Object.entries(expectations.columns)) {
    const values = table.columns.get(name);
    if (values !== undefined) checkColumn(name, values, columnExpectations, maxExamples, results);
  }
  const failed = results.filter((r) => !r.success).length;
  return { success: failed === 0, checked: results.length, failed, results };
}
