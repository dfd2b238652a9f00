/**
 * The local executor: the whole input predicted in this process on `workers` prediction threads (each
 * with the model loaded once), streamed from the input file to a temporary output file renamed into
 * place at the end. On any failure nothing is left behind: the temporary files are removed and an
 * existing output file is untouched. The same when `signal` aborts: the threads are terminated (not left
 * to finish their blocks), the temporary files removed, and the promise rejects with the signal's reason.
 */
import { checkInputColumns } from "./job-plan.js";
import { ErrorsFile } from "./errors-file.js";
import { openOutputSink } from "./output-sink.js";
import { predictRange } from "./predict-range.js";
import { PredictionThreads } from "./prediction-threads.js";
import { baseColumnNames } from "./job-plan.js";
import type { JobCounts, PreparedJob } from "./prepared-job.js";
import type { Progress } from "./progress.js";

export interface LocalExecutorOptions {
  /** Prediction threads (≥ 1). */
  readonly workers: number;
  readonly progress?: Progress;
  /** Interrupts the job. */
  readonly signal?: AbortSignal;
}

export async function executeLocal(job: PreparedJob, options: LocalExecutorOptions): Promise<JobCounts> {
  const { signal } = options;
  const threads = await PredictionThreads.start({
    dir: job.model.dir,
    mlmodel: job.model.mlmodel,
    threads: options.workers,
    // several threads share the cores: one onnxruntime thread each
    ...(options.workers > 1 ? { onnxThreads: 1 } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    checkInputColumns(threads.signature, job.plan, job.info);
    const sink = await openOutputSink({
      path: job.outputPath,
      format: job.outputFormat,
      fallbackNames: baseColumnNames(job.plan.output),
    });
    const errors = new ErrorsFile(job.errorsPath);
    try {
      const counts = await predictRange({
        threads,
        info: job.info,
        input: job.plan.input,
        output: job.plan.output,
        batchSize: job.batchSize,
        onError: job.onError,
        sink,
        errors,
        ...(options.progress ? { progress: options.progress } : {}),
        ...(signal ? { signal } : {}),
      });
      // the last moment to give up: from here on the files are renamed into place
      signal?.throwIfAborted();
      await sink.commit();
      await errors.commit();
      return counts;
    } catch (error) {
      await Promise.allSettled([sink.abort(), errors.abort()]);
      throw error;
    }
  } finally {
    // interrupted: the threads are stopped mid-block rather than waited for
    await (signal?.aborted ? threads.terminate() : threads.close());
  }
}
