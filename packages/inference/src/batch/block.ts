/**
 * What flows between the reading side of a batch job and its prediction threads: an `InputBlock` (a run
 * of consecutive input rows, as raw bytes for text formats or as decoded columns for Parquet), the plans
 * that say how to read the rows and what to write, and the `BlockResult` a thread sends back (the
 * encoded output rows and the rows that did not fit). Everything here is structured-cloneable.
 *
 * Row numbers are 0-based positions among the input's data rows (the CSV header and blank lines are not
 * rows); line numbers are 1-based lines of a text file.
 */
import type { DataFormat } from "./data-format.js";

export type TextFormat = "csv" | "jsonl";

/** Rows `firstRow ..< firstRow + rows` of a CSV or JSONL file, as the file's bytes (whole records). */
export interface TextBlock {
  readonly kind: "text";
  readonly format: TextFormat;
  /** The block's position in the job (0, 1, 2...): output is written in this order. */
  readonly index: number;
  readonly firstRow: number;
  readonly rows: number;
  /** The 1-based line of the file the block starts on. */
  readonly firstLine: number;
  readonly bytes: Uint8Array;
}

/** Rows of a Parquet file, decoded: one array of values per column read. */
export interface ColumnsBlock {
  readonly kind: "columns";
  readonly index: number;
  readonly firstRow: number;
  readonly rows: number;
  readonly columns: Readonly<Record<string, readonly unknown[]>>;
}

export type InputBlock = TextBlock | ColumnsBlock;

/** How to read the rows of the input. */
export interface InputPlan {
  readonly format: DataFormat;
  /** The input's columns: the CSV header, the Parquet schema, JSONL's first record's keys. */
  readonly columns: readonly string[];
  /**
   * For models with a tensor input: the columns that, side by side, make a row of the tensor. Default:
   * the tensor's name when the input has such a column, else every column but `id`.
   */
  readonly features?: readonly string[];
}

export type ProbabilitiesLayout = "json" | "columns";
export type OnError = "fail" | "skip";

/** What each output row holds, in order: `row`, the kept input columns, the prediction columns. */
export interface OutputPlan {
  readonly format: DataFormat;
  /** Add a `row` column: the input row number. */
  readonly rowNumber: boolean;
  /** Input columns copied to the output as they are. */
  readonly keep: readonly string[];
  /** A 2-D output such as `probabilities` [N, K]: a JSON array per row, or K columns `probabilities_<class>`. */
  readonly probabilities: ProbabilitiesLayout;
  /** Class names for the per-class columns, when the package lists them (else the class index). */
  readonly classes?: readonly string[];
}

/** A row that did not fit: its number, where it is, why, and the input as read (nothing is lost). */
export interface RowError {
  readonly row: number;
  readonly line?: number;
  readonly message: string;
  readonly input: unknown;
}

/** A Parquet column type of the output. */
export type OutputColumnType = "STRING" | "DOUBLE" | "FLOAT" | "INT64" | "BOOLEAN" | "JSON";

export interface OutputColumn {
  readonly name: string;
  readonly type: OutputColumnType;
  /** One value per written row; null where missing. */
  readonly values: unknown[];
}

/** Output rows as UTF-8 text (CSV records without the header, or JSON lines), each ending in `\n`. */
export interface TextOutput {
  readonly kind: "text";
  readonly bytes: Uint8Array;
}

/** Output rows as typed columns (for Parquet). */
export interface ColumnsOutput {
  readonly kind: "columns";
  readonly columns: OutputColumn[];
}

export interface BlockResult {
  readonly index: number;
  readonly firstRow: number;
  /** Input rows in the block. */
  readonly rows: number;
  /** Output rows (the input rows less the bad ones). */
  readonly written: number;
  /** The output's column names, in order (the same for every block of a job). */
  readonly columnNames: readonly string[];
  readonly output: TextOutput | ColumnsOutput;
  readonly errors: readonly RowError[];
}
