/**
 * On a prediction thread: an input block's rows as the columns the model reads (a `RawColumns`, checked
 * against the signature later by `build-batch.ts`), the values of the input columns the output keeps,
 * and the rows that could not even be read (a CSV record with the wrong number of fields, a JSON line
 * that is no object). Every row keeps its row number, its line and a way back to its input as read.
 */
import type { RawColumns } from "../input/raw-input.js";
import type { InputBlock, RowError } from "./block.js";
import { parseCsvRecords } from "./csv-records.js";
import { parseJsonlRecords } from "./jsonl-records.js";

/** What a compiled plan needs to decode blocks. */
export interface DecodeSpec {
  /** The input's columns (CSV header order). */
  readonly columns: readonly string[];
  /** The columns the model reads, in the order it reads them. */
  readonly features: readonly string[];
  /** The columns copied to the output. */
  readonly keep: readonly string[];
}

export interface DecodedRows {
  /** Rows read (bad rows left out). */
  readonly count: number;
  readonly rowNumbers: readonly number[];
  /** Lines of text inputs. */
  readonly lines?: readonly number[];
  /** Feature column → one value per row read. */
  readonly features: ReadonlyMap<string, unknown[]>;
  /** Values are CSV text, to be parsed by the signature's types. */
  readonly text: boolean;
  /** One array per kept column, one value per row read. */
  readonly kept: readonly unknown[][];
  /** The input of row `i` (0-based among the rows read) as read, for the errors file. */
  inputOf(i: number): unknown;
  /** Rows that could not be read. */
  readonly errors: readonly RowError[];
}

export function decodeBlock(block: InputBlock, spec: DecodeSpec): DecodedRows {
  if (block.kind === "columns") return decodeColumns(block.columns, block.firstRow, block.rows, spec);
  const text = Buffer.from(block.bytes.buffer, block.bytes.byteOffset, block.bytes.byteLength).toString("utf8");
  return block.format === "csv"
    ? decodeCsv(text, block.firstRow, block.firstLine, spec)
    : decodeJsonl(text, block.firstRow, block.firstLine, spec);
}

function decodeCsv(text: string, firstRow: number, firstLine: number, spec: DecodeSpec): DecodedRows {
  const records = parseCsvRecords(text, firstLine);
  const width = spec.columns.length;
  const position = new Map(spec.columns.map((name, i) => [name, i]));
  const featureAt = spec.features.map((f) => position.get(f));
  const keepAt = spec.keep.map((k) => position.get(k));
  const features = spec.features.map(() => [] as unknown[]);
  const kept = spec.keep.map(() => [] as unknown[]);
  const rowNumbers: number[] = [];
  const lines: number[] = [];
  const good: string[][] = [];
  const errors: RowError[] = [];
  records.forEach((record, i) => {
    const row = firstRow + i;
    const { fields, line } = record;
    const problem =
      record.problem ??
      (fields.length === width
        ? undefined
        : `the record has ${fields.length} field${fields.length === 1 ? "" : "s"} where the header has ${width}`);
    if (problem !== undefined) {
      errors.push({
        row,
        line,
        message: problem,
        input: fields.length === width ? recordObject(spec, fields) : fields,
      });
      return;
    }
    for (let f = 0; f < featureAt.length; f++) {
      const at = featureAt[f];
      features[f]!.push(at === undefined ? undefined : fields[at]);
    }
    for (let k = 0; k < keepAt.length; k++) {
      const at = keepAt[k];
      kept[k]!.push(at === undefined ? null : fields[at]);
    }
    rowNumbers.push(row);
    lines.push(line);
    good.push(fields);
  });
  return {
    count: rowNumbers.length,
    rowNumbers,
    lines,
    features: new Map(spec.features.map((f, i) => [f, features[i]!])),
    text: true,
    kept,
    inputOf: (i) => recordObject(spec, good[i]!),
    errors,
  };
}

function recordObject(spec: DecodeSpec, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  spec.columns.forEach((name, i) => (out[name] = fields[i]!));
  return out;
}

function decodeJsonl(text: string, firstRow: number, firstLine: number, spec: DecodeSpec): DecodedRows {
  const records = parseJsonlRecords(text, firstLine);
  const features = spec.features.map(() => [] as unknown[]);
  const kept = spec.keep.map(() => [] as unknown[]);
  const rowNumbers: number[] = [];
  const lines: number[] = [];
  const good: Readonly<Record<string, unknown>>[] = [];
  const errors: RowError[] = [];
  records.forEach((record, i) => {
    const row = firstRow + i;
    const value = record.value;
    if (value === undefined) {
      errors.push({ row, line: record.line, message: record.problem ?? "unreadable", input: record.text });
      return;
    }
    for (let f = 0; f < spec.features.length; f++) features[f]!.push(value[spec.features[f]!]);
    for (let k = 0; k < spec.keep.length; k++) kept[k]!.push(value[spec.keep[k]!] ?? null);
    rowNumbers.push(row);
    lines.push(record.line);
    good.push(value);
  });
  return {
    count: rowNumbers.length,
    rowNumbers,
    lines,
    features: new Map(spec.features.map((f, i) => [f, features[i]!])),
    text: false,
    kept,
    inputOf: (i) => good[i],
    errors,
  };
}

/** A Parquet value as the model reads it: 64-bit integers as numbers, dates as ISO 8601 text. */
function featureValue(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return value;
}

function keptValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return value;
}

function decodeColumns(
  columns: Readonly<Record<string, readonly unknown[]>>,
  firstRow: number,
  rows: number,
  spec: DecodeSpec,
): DecodedRows {
  const absent = new Array<unknown>(rows).fill(undefined);
  const features = new Map<string, unknown[]>();
  for (const f of spec.features) {
    const values = Object.hasOwn(columns, f) ? columns[f]! : absent;
    features.set(f, values.map(featureValue));
  }
  const kept = spec.keep.map((k) => (Object.hasOwn(columns, k) ? columns[k]!.map(keptValue) : absent.map(keptValue)));
  const rowNumbers = Array.from({ length: rows }, (_, i) => firstRow + i);
  return {
    count: rows,
    rowNumbers,
    features,
    text: false,
    kept,
    inputOf: (i) => {
      const out: Record<string, unknown> = {};
      for (const [name, values] of Object.entries(columns)) out[name] = keptValue(values[i]);
      return out;
    },
    errors: [],
  };
}

/** The rows read as the `RawColumns` the batch builder takes; `only` picks some of them (in order). */
export function rawColumnsOf(rows: DecodedRows, only?: readonly number[]): RawColumns {
  const columns = new Map<string, unknown[]>();
  for (const [name, values] of rows.features) {
    columns.set(name, only ? only.map((i) => values[i]) : values);
  }
  return { form: "columns", rows: only ? only.length : rows.count, columns, ...(rows.text ? { text: true } : {}) };
}
