/**
 * `slipway data`: profile a data file, derive expectations from a profile, validate data against
 * expectations. `validate` exits 1 when an expectation fails and 2 on usage errors (a missing or
 * malformed data file, profile or expectations document).
 */
import type { Command } from "commander";
import {
  DataFileError,
  expectationsFromProfile,
  profileTable,
  readExpectationsFile,
  readProfileFile,
  readTable,
  TABLE_FORMATS,
  validateTable,
  writeJsonFile,
  type ColumnExpectations,
  type ColumnProfile,
  type DataProfile,
  type Expectations,
  type Table,
  type TableColumnType,
  type TableFormat,
  type ValidationReport,
  type ValidationResult,
} from "@slipway/sdk";
import { UsageError } from "../errors.js";
import { stdoutOutput, table } from "../output.js";

const COLUMN_TYPES: readonly TableColumnType[] = ["number", "boolean", "string", "text", "missing"];

// ---------------------------------------------------------------------------------------------
// Arguments and files

function formatArg(text: string | undefined): TableFormat | undefined {
  if (text === undefined) return undefined;
  const format = text.toLowerCase();
  if (!(TABLE_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format: '${text}' is not one of ${TABLE_FORMATS.join(", ")}`);
  }
  return format as TableFormat;
}

/** `--types review=text,zip=string`. */
export function parseTypesArg(text: string | undefined): Record<string, TableColumnType> | undefined {
  if (text === undefined) return undefined;
  const entries = text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^(.+?)=(\w+)$/.exec(part);
      const type = m?.[2]?.toLowerCase() as TableColumnType | undefined;
      if (!m || type === undefined || !COLUMN_TYPES.includes(type)) {
        throw new UsageError(`--types: '${part}' is not COLUMN=TYPE with TYPE one of ${COLUMN_TYPES.join(", ")}`);
      }
      return [m[1]!, type] as const;
    });
  return Object.fromEntries(entries);
}

function rateArg(text: string | undefined, flag: string, max = 1): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !(n >= 0 && n <= max)) {
    throw new UsageError(`${flag}: '${text}' is not a number between 0 and ${max}`);
  }
  return n;
}

function countArg(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag}: '${text}' is not a non-negative integer`);
  return n;
}

/** Runs a file read; unreadable or malformed files are usage errors (exit 2). */
async function usage<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof DataFileError) throw new UsageError(error.message);
    throw error;
  }
}

export function readData(path: string, flags: { format?: string; types?: string }): Promise<Table> {
  const format = formatArg(flags.format);
  const types = parseTypesArg(flags.types);
  return usage(readTable(path, { ...(format ? { format } : {}), ...(types ? { types } : {}) }));
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** A number for people: integers as they are, others with 4 significant digits. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return "-";
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  return String(Number(x.toPrecision(4)));
}

function percent(rate: number): string {
  return `${Number((rate * 100).toPrecision(3))}%`;
}

function bounds(expected: unknown, unit = ""): string {
  const { min, max } = expected as { min?: number; max?: number };
  if (min !== undefined && max !== undefined) return `[${formatNumber(min)}, ${formatNumber(max)}]${unit}`;
  if (min !== undefined) return `≥ ${formatNumber(min)}${unit}`;
  if (max !== undefined) return `≤ ${formatNumber(max)}${unit}`;
  return "-";
}

function columnSummary(c: ColumnProfile): string {
  const invalid = c.invalid > 0 ? ` (${c.invalid} invalid)` : "";
  switch (c.type) {
    case "number":
      return `min ${formatNumber(c.min)}, p50 ${formatNumber(c.quantiles.p50)}, max ${formatNumber(c.max)}, mean ${formatNumber(c.mean)} ± ${formatNumber(c.std)}${invalid}`;
    case "boolean":
      return `true ${c.trueCount}, false ${c.falseCount}${invalid}`;
    case "string":
      return `${c.top
        .slice(0, 4)
        .map((t) => `${t.value} ${t.count}`)
        .join(", ")}${c.categories.counts.length > 4 ? ", …" : ""}${invalid}`;
    case "text":
      return `chars p50 ${formatNumber(c.chars.quantiles.p50)}, tokens p50 ${formatNumber(c.tokens.quantiles.p50)}, vocabulary ${c.vocabulary.sizeExact ? "" : "~"}${c.vocabulary.size} (${c.vocabulary.top
        .slice(0, 3)
        .map((t) => t.token)
        .join(", ")})${invalid}`;
    case "missing":
      return invalid;
  }
}

export function profileText(profile: DataProfile, source: string): string {
  const names = Object.keys(profile.columns);
  const rows = Object.entries(profile.columns).map(([name, c]) => [
    name,
    c.type,
    profile.rowCount === 0 ? "-" : percent(c.missing / profile.rowCount),
    `${c.distinctExact ? "" : "~"}${c.distinct}`,
    columnSummary(c),
  ]);
  return [
    `Profiled ${source}: ${profile.rowCount} rows, ${names.length} columns`,
    "",
    table(["COLUMN", "TYPE", "MISSING", "DISTINCT", "SUMMARY"], rows),
  ].join("\n");
}

function columnExpectationsText(e: ColumnExpectations): string {
  const parts: string[] = [];
  if (e.type !== undefined) {
    parts.push(e.maxTypeMismatchRate ? `${e.type} (≤ ${percent(e.maxTypeMismatchRate)} other)` : e.type);
  }
  if (e.maxMissingRate !== undefined) parts.push(`missing ≤ ${percent(e.maxMissingRate)}`);
  if (e.min !== undefined || e.max !== undefined) parts.push(`range ${bounds(e)}`);
  if (e.categories !== undefined) parts.push(`${e.categories.length} categories`);
  if (e.minLength !== undefined || e.maxLength !== undefined) {
    parts.push(`length ${bounds({ min: e.minLength, max: e.maxLength }, " chars")}`);
  }
  if (e.minDistinct !== undefined || e.maxDistinct !== undefined) {
    parts.push(`distinct ${bounds({ min: e.minDistinct, max: e.maxDistinct })}`);
  }
  return parts.join(", ");
}

export function expectationsText(expectations: Expectations): string {
  const t = expectations.table;
  const tableParts = [
    ...(t.minRows !== undefined || t.maxRows !== undefined
      ? [`rows ${bounds({ min: t.minRows, max: t.maxRows })}`]
      : []),
    ...(t.requiredColumns ? [`${t.requiredColumns.length} required columns`] : []),
    ...(t.allowUnexpectedColumns === false ? ["no other columns"] : []),
  ];
  return table(
    ["COLUMN", "EXPECTATIONS"],
    [
      ["(table)", tableParts.join(", ")],
      ...Object.entries(expectations.columns).map(([name, e]) => [name, columnExpectationsText(e)]),
    ],
  );
}

function names(list: unknown): string {
  return (list as string[]).join(", ");
}

/** The OBSERVED and EXPECTED cells of a result. */
export function resultCells(r: ValidationResult): [string, string] {
  const o = r.observed as Record<string, unknown>;
  const e = r.expected as Record<string, unknown>;
  switch (r.expectation) {
    case "rowCount":
    case "distinct":
      return [String(r.observed), bounds(e)];
    case "requiredColumns": {
      const missing = o.missing as string[];
      return [missing.length === 0 ? "all present" : `missing: ${missing.join(", ")}`, names(r.expected)];
    }
    case "unexpectedColumns": {
      const unexpected = o.unexpected as string[];
      return [unexpected.length === 0 ? "none" : unexpected.join(", "), "only expected columns"];
    }
    case "type": {
      const mismatches = o.mismatches as number;
      const maxRate = e.maxMismatchRate as number;
      return [
        mismatches === 0 ? "all match" : `${mismatches} other (${percent(o.rate as number)})`,
        maxRate > 0 ? `${String(e.type)}, ≤ ${percent(maxRate)} other` : String(e.type),
      ];
    }
    case "missingRate":
      return [`${percent(o.rate as number)} (${String(o.missing)})`, `≤ ${percent(e.maxRate as number)}`];
    case "range":
    case "length": {
      const unit = r.expectation === "length" ? " chars" : "";
      const outside = o.outside as number;
      const seen =
        o.min === null ? "none" : `[${formatNumber(o.min as number)}, ${formatNumber(o.max as number)}]${unit}`;
      return [outside > 0 ? `${seen}, ${outside} outside` : seen, bounds(e, unit)];
    }
    case "categories": {
      const unknown = o.unknown as number;
      const values = (o.unknownValues as string[]).map((v) => `'${v}'`).join(", ");
      return [
        unknown === 0 ? "all known" : `${unknown} unknown (${percent(o.rate as number)}): ${values}`,
        `${(e.categories as string[]).length} categories, ≤ ${percent(e.maxRate as number)} unknown`,
      ];
    }
  }
}

function exampleText(value: unknown): string {
  return typeof value === "string"
    ? `'${value.length > 40 ? `${value.slice(0, 37)}...` : value}'`
    : JSON.stringify(value);
}

export function reportText(report: ValidationReport, source: string, rowCount: number): string {
  const rows = report.results.map((r) => [
    r.column ?? "(table)",
    r.expectation,
    ...resultCells(r),
    r.success ? "✓" : "✗",
  ]);
  const lines = [
    `Validated ${source}: ${rowCount} rows`,
    "",
    table(["COLUMN", "EXPECTATION", "OBSERVED", "EXPECTED", "OK"], rows),
  ];
  const withExamples = report.results.filter((r) => r.examples !== undefined);
  if (withExamples.length > 0) {
    lines.push("", "Failing values (row = 0-based index of the data row):");
    for (const r of withExamples) {
      const examples = r.examples!.map((x) => `row ${x.row}: ${exampleText(x.value)}`).join(", ");
      lines.push(`  ${r.column ?? "(table)"} ${r.expectation}: ${examples}`);
    }
  }
  lines.push(
    "",
    report.success
      ? `✓ all ${report.checked} expectations met`
      : `✗ ${report.failed} of ${report.checked} expectations failed`,
  );
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Actions

interface DataFlags {
  data: string;
  format?: string;
  types?: string;
  json?: boolean;
}

async function profileAction(flags: DataFlags & { out?: string }): Promise<void> {
  const data = await readData(flags.data, flags);
  const profile = profileTable(data);
  if (flags.out !== undefined) await writeJsonFile(flags.out, profile);
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify(profile));
  const text = profileText(profile, flags.data);
  out.write(flags.out === undefined ? text : `${text}\n\nWrote the profile to ${flags.out}`);
}

async function expectationsAction(flags: {
  profile: string;
  out: string;
  margin?: string;
  missingTolerance?: string;
  maxCategories?: string;
  unknownCategoryRate?: string;
  distinct?: boolean;
  strictColumns?: boolean;
  json?: boolean;
}): Promise<void> {
  const margin = rateArg(flags.margin, "--margin", 10);
  const missingRateTolerance = rateArg(flags.missingTolerance, "--missing-tolerance");
  const maxCategories = countArg(flags.maxCategories, "--max-categories");
  const unknownCategoryRate = rateArg(flags.unknownCategoryRate, "--unknown-category-rate");
  const profile = await usage(readProfileFile(flags.profile));
  const expectations = expectationsFromProfile(profile, {
    ...(margin === undefined ? {} : { margin }),
    ...(missingRateTolerance === undefined ? {} : { missingRateTolerance }),
    ...(maxCategories === undefined ? {} : { maxCategories }),
    ...(unknownCategoryRate === undefined ? {} : { unknownCategoryRate }),
    distinct: flags.distinct === true,
    allowUnexpectedColumns: flags.strictColumns !== true,
  });
  await writeJsonFile(flags.out, expectations);
  const out = stdoutOutput(flags.json === true);
  if (out.json) return out.write(JSON.stringify(expectations));
  out.write(
    [
      `Expectations for ${Object.keys(expectations.columns).length} columns from ${flags.profile} (margin ${percent(margin ?? 0.1)})`,
      "",
      expectationsText(expectations),
      "",
      `Wrote the expectations to ${flags.out}`,
    ].join("\n"),
  );
}

async function validateAction(flags: DataFlags & { expectations: string; maxExamples?: string }): Promise<void> {
  const maxExamples = countArg(flags.maxExamples, "--max-examples");
  const expectations = await usage(readExpectationsFile(flags.expectations));
  const data = await readData(flags.data, flags);
  const report = validateTable(data, expectations, maxExamples === undefined ? {} : { maxExamples });
  const out = stdoutOutput(flags.json === true);
  out.write(out.json ? JSON.stringify(report) : reportText(report, flags.data, data.rowCount));
  if (!report.success) {
    // main() prints this on stderr and exits 1
    throw new Error(`validation failed: ${report.failed} of ${report.checked} expectations not met`);
  }
}

// ---------------------------------------------------------------------------------------------

const FORMAT_HELP = `${TABLE_FORMATS.join(" | ")} (default: from the extension)`;
const TYPES_HELP = "column types instead of inferred ones, e.g. review=text,zip=string";

export function registerData(program: Command): void {
  const data = program
    .command("data")
    .description("Data profiles and validation: profile a file, derive expectations, validate new data");

  data
    .command("profile")
    .description("Profile a data file (CSV, JSON Lines, JSON, Parquet): types, missing values, distributions")
    .requiredOption("--data <file>", "the data file")
    .option("--out <file>", "write the profile (JSON) here")
    .option("--format <format>", FORMAT_HELP)
    .option("--types <list>", TYPES_HELP)
    .option("--json", "print the profile as JSON")
    .action(profileAction);

  data
    .command("expectations")
    .description("Derive expectations from a profile: types, missing rates, widened ranges, categories")
    .requiredOption("--profile <file>", "a profile written by 'slipway data profile --out'")
    .requiredOption("--out <file>", "write the expectations (JSON) here")
    .option("--margin <fraction>", "widen ranges and lengths by this fraction (default 0.1)")
    .option("--missing-tolerance <rate>", "allowed missing rate above the observed one (default 0.02)")
    .option("--max-categories <n>", "expect categories of string columns with at most this many (default 100)")
    .option("--unknown-category-rate <rate>", "tolerated rate of unknown categories (default 0)")
    .option("--distinct", "also expect distinct counts")
    .option("--strict-columns", "fail data with columns the profile does not have")
    .option("--json", "print the expectations as JSON")
    .action(expectationsAction);

  data
    .command("validate")
    .description("Validate a data file against expectations; exits 1 when an expectation fails")
    .requiredOption("--expectations <file>", "expectations written by 'slipway data expectations' (or by hand)")
    .requiredOption("--data <file>", "the data file")
    .option("--format <format>", FORMAT_HELP)
    .option("--types <list>", TYPES_HELP)
    .option("--max-examples <n>", "failing values shown per expectation (default 5)")
    .option("--json", "print the report as JSON")
    .action(validateAction);
}
