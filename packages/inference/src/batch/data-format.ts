/**
 * The data file formats batch prediction reads and writes, told by the file's extension: CSV (`.csv`),
 * JSON Lines (`.jsonl`, `.ndjson`) and Parquet (`.parquet`, `.pq`).
 */
import { extname } from "node:path";
import { BatchError } from "./batch-error.js";

export const DATA_FORMATS = ["csv", "jsonl", "parquet"] as const;

export type DataFormat = (typeof DATA_FORMATS)[number];

const EXTENSIONS: Readonly<Record<string, DataFormat>> = {
  ".csv": "csv",
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".parquet": "parquet",
  ".pq": "parquet",
};

export function isDataFormat(value: string): value is DataFormat {
  return (DATA_FORMATS as readonly string[]).includes(value);
}

/** The format of `path` (from its extension, unless `given`); a `BatchError` naming the path otherwise. */
export function dataFormatOf(path: string, role: "input" | "output", given?: string): DataFormat {
  if (given !== undefined) {
    if (!isDataFormat(given)) {
      throw new BatchError(`--${role}-format: '${given}' is not a format (${DATA_FORMATS.join(", ")})`);
    }
    return given;
  }
  const extension = extname(path).toLowerCase();
  const format = Object.hasOwn(EXTENSIONS, extension) ? EXTENSIONS[extension] : undefined;
  if (format === undefined) {
    throw new BatchError(
      `cannot tell the ${role} format of '${path}' from its extension '${extension}': use .csv, .jsonl (or .ndjson) or .parquet`,
    );
  }
  return format;
}
