/**
 * Predicting an input file, or a range of it, into an output sink: blocks are read (`input-blocks.ts`),
 * predicted on the prediction threads with a bounded number in flight, and written in input order
 * (`ordered-pipeline.ts`). Bad rows fail the run with a `BadRowsError` (`onError: "fail"`) or go to the
 * errors file (`"skip"`). `signal` stops it (rejecting with the signal's reason). The caller commits or
 * aborts the sinks.
 */
import { BadRowsError } from "./batch-error.js";
import type { InputPlan, OnError, OutputPlan } from "./block.js";
import type { ErrorsFile } from "./errors-file.js";
import { readBlocks, type InputRange } from "./input-blocks.js";
import type { InputInfo } from "./input-info.js";
import { columnsToRead } from "./job-plan.js";
import { runOrdered } from "./ordered-pipeline.js";
import type { PredictionThreads } from "./prediction-threads.js";
import type { Progress } from "./progress.js";
import type { OutputSink } from "./sink.js";

export interface PredictRangeOptions {
  readonly threads: PredictionThreads;
  readonly info: InputInfo;
  /** Default: the whole file. */
  readonly range?: InputRange;
  readonly input: InputPlan;
  readonly output: OutputPlan;
  readonly batchSize: number;
  readonly onError: OnError;
  readonly sink: OutputSink;
  /** Required with `onError: "skip"`. */
  readonly errors?: ErrorsFile;
  readonly progress?: Progress;
  /** Blocks read but not written yet. Default: 4 per thread. */
  readonly maxInFlight?: number;
  /** Interrupts the prediction (the threads are the caller's to stop). */
  readonly signal?: AbortSignal;
}

export interface RangeCounts {
  /** Input rows read. */
  rows: number;
  /** Output rows written. */
  written: number;
  /** Bad rows (skipped). */
  errors: number;
}

export async function predictRange(options: PredictRangeOptions): Promise<RangeCounts> {
  const { threads, info, input, output, onError } = options;
  if (onError === "skip" && !options.errors) throw new Error("onError 'skip' needs an errors file");
  const counts: RangeCounts = { rows: 0, written: 0, errors: 0 };
  const plan = { input, output };
  const blocks = readBlocks(info, {
    batchSize: options.batchSize,
    ...(options.range ? { range: options.range } : {}),
    ...(info.format === "parquet" ? { columns: columnsToRead(threads.signature, plan, info) } : {}),
  });
  await runOrdered({
    blocks,
    maxInFlight: options.maxInFlight ?? Math.max(2, threads.size * 4),
    ...(options.signal ? { signal: options.signal } : {}),
    run: (block) => threads.run(block, input, output),
    deliver: async (result, block) => {
      if (result.errors.length > 0) {
        if (onError === "fail") throw new BadRowsError(result.errors, info.path);
        await options.errors!.add(result.errors);
      }
      await options.sink.write(result);
      counts.rows += result.rows;
      counts.written += result.written;
      counts.errors += result.errors.length;
      options.progress?.advance(result.written, info.format === "parquet" ? result.rows : block.bytes);
    },
  });
  return counts;
}
