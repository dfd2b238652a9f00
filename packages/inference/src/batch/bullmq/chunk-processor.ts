/**
 * What a worker does with one chunk job: check that the input is the file the job was planned on, then
 * predict the chunk's range on the worker's prediction threads into the chunk's output file (and errors
 * file), both renamed into place only when complete. Bad settings and bad rows (`--on-error fail`) are
 * `BatchError`s: retrying would not help, so the worker fails the job for good.
 *
 * With a `cancellation` (`batch-cancellation.ts`), a chunk whose batch is cancelled meanwhile stops, and
 * is checked once more just before its files are renamed into place: a cancelled batch's chunk leaves
 * no file behind (its temporary files are removed) and rejects with the cancellation's reason.
 */
import { stat } from "node:fs/promises";
import { BatchError } from "../batch-error.js";
import { ErrorsFile } from "../errors-file.js";
import { inspectInput } from "../input-info.js";
import { baseColumnNames, checkInputColumns, type JobPlan } from "../job-plan.js";
import { openOutputSink } from "../output-sink.js";
import { predictRange } from "../predict-range.js";
import type { PredictionThreads } from "../prediction-threads.js";
import { chunkErrorsPath, chunkPath, type ChunkJobData, type ChunkJobResult } from "./chunk-job.js";

/** Whether the chunk's batch is still wanted (`ChunkCancellation`). */
export interface ChunkCancellationCheck {
  /** Aborts once the batch is known to be cancelled. */
  readonly signal: AbortSignal;
  /** Asks now; true (and `signal` aborted) when the batch is cancelled. */
  check(): Promise<boolean>;
}

export async function processChunk(
  data: ChunkJobData,
  threads: PredictionThreads,
  cancellation?: ChunkCancellationCheck,
): Promise<ChunkJobResult> {
  const { input, output } = data;
  const signal = cancellation?.signal;
  if (!(await isDirectory(output.dir))) {
    throw new BatchError(
      `the batch was given up (its chunk directory ${output.dir} is gone), or this worker does not see it`,
    );
  }
  const info = await inspectInput(input.path, input.format);
  if (info.size !== input.size) {
    throw new BatchError(
      `${input.path} is ${info.size} bytes here but was ${input.size} bytes when the job started: ` +
        `the file changed, or this worker sees another file at that path`,
    );
  }
  const plan: JobPlan = {
    input: {
      format: input.format,
      columns: input.columns,
      ...(input.features ? { features: input.features } : {}),
    },
    output: output.plan,
  };
  checkInputColumns(threads.signature, plan, info);
  const sink = await openOutputSink({
    path: chunkPath(output.dir, data.chunk, output.plan.format),
    format: output.plan.format,
    header: false,
    fallbackNames: baseColumnNames(output.plan),
  });
  const errors = new ErrorsFile(chunkErrorsPath(output.dir, data.chunk));
  try {
    const counts = await predictRange({
      threads,
      info,
      range: input.range,
      input: plan.input,
      output: plan.output,
      batchSize: data.batchSize,
      onError: data.onError,
      sink,
      errors,
      ...(signal ? { signal } : {}),
    });
    // the batch may have been given up while this chunk ran: then its files must not appear
    await cancellation?.check();
    signal?.throwIfAborted();
    await sink.commit();
    await errors.commit();
    return { ...counts, columnNames: sink.columnNames ?? [] };
  } catch (error) {
    await Promise.allSettled([sink.abort(), errors.abort()]);
    throw error;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
