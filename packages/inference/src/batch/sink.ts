/**
 * The contract of a batch job's output: blocks of output rows written in input order into a temporary
 * file, renamed into place by `commit` (`atomic-file.ts`); `abort` leaves the destination as it was.
 * Every block of a job must have the same output columns: a block that differs is an internal error,
 * not a silent misalignment.
 */
import type { BlockResult } from "./block.js";
import type { DataFormat } from "./data-format.js";

export interface OutputSink {
  readonly path: string;
  /** The output's column names, once known (after the first block with rows). */
  readonly columnNames: readonly string[] | undefined;
  write(result: BlockResult): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface OutputSinkOptions {
  readonly path: string;
  readonly format: DataFormat;
  /** CSV: write the header row (not for chunks, which are concatenated under one header). Default true. */
  readonly header?: boolean;
  /** The column names to write in the header when no row is written (the row number and kept columns). */
  readonly fallbackNames: readonly string[];
}

/** Checks that a block's columns are the job's; returns the job's (the first block's) names. */
export function sameColumns(known: readonly string[] | undefined, result: BlockResult): readonly string[] {
  if (known === undefined) return result.columnNames;
  if (known.length !== result.columnNames.length || known.some((n, i) => n !== result.columnNames[i])) {
    throw new Error(
      `block ${result.index} has the output columns ${result.columnNames.join(", ")} where earlier blocks had ${known.join(", ")}`,
    );
  }
  return known;
}
