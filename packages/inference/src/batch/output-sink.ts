/**
 * Opening the output of a batch job by format: CSV and JSON Lines (`text-sink.ts`) or Parquet
 * (`parquet-sink.ts`), each written to a temporary file renamed into place on commit.
 */
import type { OutputSink, OutputSinkOptions } from "./sink.js";
import { openParquetSink } from "./parquet-sink.js";
import { openTextSink } from "./text-sink.js";

export type { OutputSink, OutputSinkOptions } from "./sink.js";

export function openOutputSink(options: OutputSinkOptions): Promise<OutputSink> {
  return options.format === "parquet" ? openParquetSink(options) : openTextSink(options);
}
