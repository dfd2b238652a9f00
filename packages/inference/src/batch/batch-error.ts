/**
 * The errors batch prediction reports to its user: `BatchError` for a bad setting or a bad input file
 * (the message says what and where), and `BadRowsError` when rows do not fit the model and the job was
 * asked to fail on them (`--on-error fail`, the default). Anything else is an internal error.
 */
import type { RowError } from "./block.js";

export class BatchError extends Error {
  override readonly name: string = "BatchError";
}

/** How many bad rows a message names before it says "and N more". */
const ROWS_NAMED = 5;

/** Rows that do not fit the model's signature (or that the model refused), with their row numbers. */
export class BadRowsError extends BatchError {
  override readonly name: string = "BadRowsError";

  constructor(
    readonly rows: readonly RowError[],
    /** Where the rows came from (the input path). */
    readonly source: string,
  ) {
    super(badRowsMessage(rows, source));
  }
}

/** `row 12 (line 14): column 'text' expects string but got an integer`. */
export function describeRowError(error: RowError): string {
  return `row ${error.row}${error.line === undefined ? "" : ` (line ${error.line})`}: ${error.message}`;
}

function badRowsMessage(rows: readonly RowError[], source: string): string {
  const named = rows.slice(0, ROWS_NAMED).map(describeRowError);
  const more = rows.length > ROWS_NAMED ? `; and ${rows.length - ROWS_NAMED} more in the same batch` : "";
  return (
    `${source}: ${rows.length === 1 ? "a row does" : `${rows.length} rows do`} not fit the model: ` +
    `${named.join("; ")}${more}. Nothing was written; with --on-error skip the bad rows go to an errors file ` +
    `and the others are predicted`
  );
}
