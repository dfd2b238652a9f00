/**
 * Reading data files into tables (`Table` of `@slipway/ml`): `readTable(path, { format? })` reads CSV,
 * JSON Lines, JSON and Parquet; the format comes from the extension when not given (.csv; .jsonl, .ndjson;
 * .json; .parquet, .pq).
 *
 * - CSV (`csv-parse`): the first row names the columns; empty lines are skipped; an empty field is
 *   missing (null), a numeric-looking field (`12`, `-3.5`, `1e6`, `.5`, surrounding spaces allowed)
 *   becomes a number and `true`/`false` (any case) a boolean — field by field, so one typo in a numeric
 *   column stays a string and validation points at its row. Everything else stays a string. Columns
 *   given the type `string` or `text` in `types` keep their fields as they are (zip codes keep "02134").
 * - JSON Lines: one JSON object per line, blank lines skipped.
 * - JSON: an array of records, or MLflow's `dataframe_split` (`{ columns, data }`, also wrapped as
 *   `{ dataframe_split: … }`), or `{ dataframe_records: [...] }`.
 * - Parquet (`hyparquet`): top-level columns in schema order; 64-bit integers become numbers (exact up to
 *   2^53), dates and timestamps ISO 8601 strings; nested values are kept as they are.
 *
 * Every error is a {@link DataFileError} whose message starts with the path (and the line, when there is
 * one: `data.csv:3: malformed CSV: …`) and says what is wrong.
 */
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname } from "node:path";
import { createInterface } from "node:readline";
import { parse as parseCsv } from "csv-parse";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import { MlError, tableFromColumns, tableFromRecords, type Table, type TableOptions } from "@slipway/ml";

export const TABLE_FORMATS = ["csv", "jsonl", "json", "parquet"] as const;

export type TableFormat = (typeof TABLE_FORMATS)[number];

export interface ReadTableOptions extends TableOptions {
  /** The file format (default: from the extension). */
  format?: TableFormat;
}

/** A data file that cannot be read: missing, of an unknown format, or malformed. */
export class DataFileError extends Error {
  override readonly name = "DataFileError";
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown; line?: number },
  ) {
    super(
      `${path}${options?.line === undefined ? "" : `:${options.line}`}: ${message}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

const EXTENSIONS: Record<string, TableFormat> = {
  ".csv": "csv",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "json",
  ".parquet": "parquet",
  ".pq": "parquet",
};

/** The format a path's extension names, or undefined. */
export function tableFormatOf(path: string): TableFormat | undefined {
  const extension = extname(path).toLowerCase();
  return Object.hasOwn(EXTENSIONS, extension) ? EXTENSIONS[extension] : undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const NUMBER = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
const BOOLEAN = /^(?:true|false)$/i;

/** A CSV field as a value: empty → null, numeric-looking → number, true/false → boolean, else the text. */
export function csvFieldValue(field: string): string | number | boolean | null {
  if (field === "") return null;
  if (NUMBER.test(field)) return Number(field);
  if (BOOLEAN.test(field)) return field.toLowerCase() === "true";
  return field;
}

/** A CSV field of a column typed string or text: kept as it is (an empty field is still missing). */
function rawField(field: string): string | null {
  return field === "" ? null : field;
}

async function readCsv(path: string, options: TableOptions): Promise<Table> {
  const parser = createReadStream(path).pipe(parseCsv({ bom: true, skip_empty_lines: true }));
  let names: string[] | undefined;
  let columns: unknown[][] = [];
  let convert: ((field: string) => unknown)[] = [];
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (names === undefined) {
        names = record;
        const seen = new Map<string, number>();
        names.forEach((name, i) => {
          const first = seen.get(name);
          if (first !== undefined) {
            throw new DataFileError(
              path,
              `column '${name}' appears twice in the header (columns ${first + 1} and ${i + 1})`,
              {
                line: 1,
              },
            );
          }
          seen.set(name, i);
        });
        columns = names.map(() => []);
        convert = names.map((name) => {
          const type =
            options.types !== undefined && Object.hasOwn(options.types, name) ? options.types[name] : undefined;
          return type === "string" || type === "text" ? rawField : csvFieldValue;
        });
        continue;
      }
      record.forEach((field, i) => columns[i]!.push(convert[i]!(field)));
    }
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    const line = (error as { lines?: unknown }).lines;
    throw new DataFileError(path, `malformed CSV: ${message(error)}`, {
      cause: error,
      ...(typeof line === "number" ? { line } : {}),
    });
  }
  if (names === undefined) throw new DataFileError(path, "empty CSV file (no header row)");
  const header = names;
  return tableFromColumns(
    header.map((name, i) => [name, columns[i]!] as const),
    options,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

async function readJsonl(path: string, options: TableOptions): Promise<Table> {
  const records: Record<string, unknown>[] = [];
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DataFileError(path, `not valid JSON: ${message(error)}`, { line, cause: error });
    }
    if (!isRecord(value)) throw new DataFileError(path, `expected a JSON object, got ${kindOf(value)}`, { line });
    records.push(value);
  }
  return tableFromRecords(records, options);
}

function dataframeSplit(path: string, split: Record<string, unknown>, options: TableOptions): Table {
  const { columns, data } = split;
  if (!Array.isArray(columns) || !columns.every((c) => typeof c === "string")) {
    throw new DataFileError(path, "dataframe_split: columns must be an array of strings");
  }
  if (!Array.isArray(data)) throw new DataFileError(path, "dataframe_split: data must be an array of rows");
  const values: unknown[][] = columns.map(() => []);
  data.forEach((row: unknown, r) => {
    if (!Array.isArray(row) || row.length !== columns.length) {
      throw new DataFileError(
        path,
        `dataframe_split: data[${r}] must be an array of ${columns.length} values, got ${Array.isArray(row) ? `${row.length} values` : kindOf(row)}`,
      );
    }
    row.forEach((value: unknown, c) => values[c]!.push(value));
  });
  return tableFromColumns(
    columns.map((name: string, c) => [name, values[c]!] as const),
    options,
  );
}

async function readJson(path: string, options: TableOptions): Promise<Table> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new DataFileError(path, `not valid JSON: ${message(error)}`, { cause: error });
  }
  if (Array.isArray(document)) return tableFromRecords(document, options);
  if (isRecord(document)) {
    if (Array.isArray(document.columns) && document.data !== undefined) return dataframeSplit(path, document, options);
    if (isRecord(document.dataframe_split)) return dataframeSplit(path, document.dataframe_split, options);
    if (Array.isArray(document.dataframe_records)) return tableFromRecords(document.dataframe_records, options);
  }
  throw new DataFileError(
    path,
    `expected an array of records, {columns, data} (MLflow dataframe_split) or {dataframe_records: [...]}, got ${kindOf(document)}`,
  );
}

/** A Parquet value as a table value: bigints as numbers, dates as ISO strings. */
function parquetValue(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return value;
}

async function readParquet(path: string, options: TableOptions): Promise<Table> {
  let names: string[];
  let rows: Record<string, unknown>[];
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    names = parquetSchema(metadata).children.map((child) => child.element.name);
    rows = (await parquetReadObjects({ file, metadata })) as Record<string, unknown>[];
  } catch (error) {
    throw new DataFileError(path, `not a readable Parquet file: ${message(error)}`, { cause: error });
  }
  return tableFromColumns(
    names.map((name) => [name, rows.map((row) => parquetValue(row[name]))] as const),
    options,
  );
}

/** Reads a data file into a table (see the file comment). */
export async function readTable(path: string, options: ReadTableOptions = {}): Promise<Table> {
  const { format: given, ...tableOptions } = options;
  const format = given ?? tableFormatOf(path);
  if (format === undefined) {
    throw new DataFileError(
      path,
      `cannot tell the format from the extension '${extname(path)}' (use .csv, .jsonl, .json or .parquet, or give the format)`,
    );
  }
  if (!(TABLE_FORMATS as readonly string[]).includes(format)) {
    throw new DataFileError(path, `unknown format '${String(format)}' (formats: ${TABLE_FORMATS.join(", ")})`);
  }
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new DataFileError(path, "is a directory, not a data file");
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new DataFileError(path, code === "ENOENT" ? "no such file" : message(error), { cause: error });
  }
  try {
    switch (format) {
      case "csv":
        return await readCsv(path, tableOptions);
      case "jsonl":
        return await readJsonl(path, tableOptions);
      case "json":
        return await readJson(path, tableOptions);
      case "parquet":
        return await readParquet(path, tableOptions);
    }
  } catch (error) {
    if (error instanceof DataFileError) throw error;
    // bad records, bad type overrides (@slipway/ml) and read errors, named with the file
    if (error instanceof MlError) throw new DataFileError(path, error.message, { cause: error });
    throw new DataFileError(path, message(error), { cause: error });
  }
}
