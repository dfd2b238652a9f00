/**
 * The errors file of `--on-error skip`: one JSON line per row that did not fit the model,
 * `{"row": 12, "line": 14, "error": "...", "input": {...}}`, in row order, with the input as read so
 * nothing is lost. It is written atomically beside the output, named after the output's whole name
 * (`out.csv.errors.jsonl`, so that `out.csv` and `out.jsonl` never share one), and only when there are
 * errors; an errors file left by an earlier run at that path is removed, so it never describes another
 * run.
 */
import { rm } from "node:fs/promises";
import { AtomicFile } from "./atomic-file.js";
import type { RowError } from "./block.js";
import { jsonReplacer } from "./csv-records.js";

/** `out.csv` → `out.csv.errors.jsonl`. */
export function errorsPathFor(outputPath: string): string {
  return `${outputPath}.errors.jsonl`;
}

export function rowErrorLine(error: RowError): string {
  return JSON.stringify(
    {
      row: error.row,
      ...(error.line === undefined ? {} : { line: error.line }),
      error: error.message,
      input: error.input ?? null,
    },
    jsonReplacer,
  );
}

export class ErrorsFile {
  private file: AtomicFile | undefined;
  private count = 0;

  constructor(readonly path: string) {}

  get errors(): number {
    return this.count;
  }

  async add(errors: readonly RowError[]): Promise<void> {
    if (errors.length === 0) return;
    this.file ??= await AtomicFile.create(this.path);
    this.count += errors.length;
    await this.file.write(Buffer.from(`${errors.map(rowErrorLine).join("\n")}\n`));
  }

  /** Appends lines already written as `rowErrorLine`s (a chunk's errors file), counting them. */
  async addLines(bytes: Uint8Array, lines: number): Promise<void> {
    if (lines === 0) return;
    this.file ??= await AtomicFile.create(this.path);
    this.count += lines;
    await this.file.write(bytes);
  }

  /** Renames the file into place when there were errors; else removes a stale one. */
  async commit(): Promise<void> {
    if (this.file) await this.file.commit();
    else await rm(this.path, { force: true });
  }

  async abort(): Promise<void> {
    await this.file?.abort();
  }
}
