/**
 * A first look at an input file before any row is read: its columns (the CSV header, the Parquet schema,
 * the keys of JSON Lines' first record), where the data rows start, and for Parquet its row count and row
 * groups. Every problem (no such file, an empty CSV, a duplicate column, a file that is not Parquet) is a
 * `BatchError` that starts with the path.
 */
import { open, stat } from "node:fs/promises";
import { asyncBufferFromFile, parquetMetadataAsync, parquetSchema, type FileMetaData } from "hyparquet";
import { BatchError } from "./batch-error.js";
import { parseCsvRecords } from "./csv-records.js";
import type { DataFormat } from "./data-format.js";
import { parseJsonlRecords } from "./jsonl-records.js";
import { scanRecords } from "./record-scan.js";

export interface ParquetLayout {
  readonly metadata: FileMetaData;
  readonly rows: number;
  /** Row ranges `[start, end)` of the row groups, in order. */
  readonly groups: readonly { readonly start: number; readonly end: number }[];
}

export interface InputInfo {
  readonly path: string;
  readonly format: DataFormat;
  readonly columns: readonly string[];
  /** The file's size in bytes. */
  readonly size: number;
  /** Text formats: the byte offset of the first data row (past a CSV header and a byte order mark). */
  readonly dataStart: number;
  /** Text formats: the 1-based line `dataStart` is on. */
  readonly dataLine: number;
  readonly parquet?: ParquetLayout;
}

const PROBE_BYTES = 1 << 16;
const MAX_HEADER_BYTES = 1 << 24;

export async function inspectInput(path: string, format: DataFormat): Promise<InputInfo> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new BatchError(`${path}: is a directory, not a data file`);
    size = info.size;
  } catch (error) {
    if (error instanceof BatchError) throw error;
    const code = (error as { code?: unknown }).code;
    throw new BatchError(`${path}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`, {
      cause: error,
    });
  }
  switch (format) {
    case "csv":
      return inspectCsv(path, size);
    case "jsonl":
      return inspectJsonl(path, size);
    case "parquet":
      return inspectParquet(path, size);
  }
}

interface LeadingRecord {
  /** The text from `skip` to the end of the first record (blank lines before it included). */
  readonly text: string;
  /** The byte offset just past the record. */
  readonly end: number;
  /** Line breaks from `skip` to `end`. */
  readonly lines: number;
}

/** The first record of a text file (past `skip` bytes), reading more of the file until it is whole. */
async function readFirstRecord(
  path: string,
  format: "csv" | "jsonl",
  size: number,
  skip: number,
): Promise<LeadingRecord | undefined> {
  const handle = await open(path, "r");
  try {
    let length = Math.min(size, PROBE_BYTES);
    for (;;) {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, 0);
      const bytes = buffer.subarray(0, bytesRead);
      const final = bytesRead >= size;
      const scan = scanRecords(format, bytes, skip, 1, final);
      if (scan.rows === 1) return { text: bytes.toString("utf8", skip, scan.end), end: scan.end, lines: scan.lines };
      if (final) return undefined;
      if (length >= MAX_HEADER_BYTES) {
        throw new BatchError(`${path}: no complete first record in its first ${MAX_HEADER_BYTES} bytes`);
      }
      length = Math.min(size, length * 4);
    }
  } finally {
    await handle.close();
  }
}

async function inspectCsv(path: string, size: number): Promise<InputInfo> {
  const head = Buffer.alloc(3);
  const handle = await open(path, "r");
  try {
    await handle.read(head, 0, 3, 0);
  } finally {
    await handle.close();
  }
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  const first = await readFirstRecord(path, "csv", size, bom);
  if (!first) throw new BatchError(`${path}: empty CSV file (it needs a header row of column names)`);
  const [record] = parseCsvRecords(first.text, 1);
  if (!record || record.problem !== undefined) {
    throw new BatchError(`${path}:${record?.line ?? 1}: malformed CSV header: ${record?.problem ?? "no columns"}`);
  }
  const seen = new Map<string, number>();
  record.fields.forEach((name, i) => {
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new BatchError(
        `${path}:${record.line}: column '${name}' appears twice in the header (columns ${earlier + 1} and ${i + 1})`,
      );
    }
    seen.set(name, i);
  });
  return { path, format: "csv", columns: record.fields, size, dataStart: first.end, dataLine: 1 + first.lines };
}

async function inspectJsonl(path: string, size: number): Promise<InputInfo> {
  const base = { path, format: "jsonl" as const, size, dataStart: 0, dataLine: 1 };
  if (size === 0) return { ...base, columns: [] };
  const first = await readFirstRecord(path, "jsonl", size, 0);
  if (!first) return { ...base, columns: [] };
  const [record] = parseJsonlRecords(first.text, 1);
  // a first line that is not an object is reported as that row's error later
  return { ...base, columns: record?.value ? Object.keys(record.value) : [] };
}

async function inspectParquet(path: string, size: number): Promise<InputInfo> {
  let metadata: FileMetaData;
  let columns: string[];
  try {
    const file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
    columns = parquetSchema(metadata).children.map((child) => child.element.name);
  } catch (error) {
    throw new BatchError(`${path}: not a readable Parquet file: ${(error as Error).message}`, { cause: error });
  }
  const groups: { start: number; end: number }[] = [];
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    groups.push({ start, end });
    start = end;
  }
  return {
    path,
    format: "parquet",
    columns,
    size,
    dataStart: 0,
    dataLine: 1,
    parquet: { metadata, rows: start, groups },
  };
}
