/**
 * The local executor: the whole input predicted in this process on `workers` prediction threads (each
 * with the model loaded once), streamed from the input file to a temporary output file renamed into
 * place at the end. On any failure nothing is left behind: the temporary files are removed and an
 * existing output file is untouched.
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
}

export async function executeLocal(job: PreparedJob, options: LocalExecutorOptions): Promise<JobCounts> {
  const threads = await PredictionThreads.start({
    dir: job.model.dir,
    mlmodel: job.model.mlmodel,
    threads: options.workers,
    // several threads share the cores: one onnxruntime thread each
    ...(options.workers > 1 ? { onnxThreads: 1 } : {}),
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
      });
      await sink.commit();
      await errors.commit();
      return counts;
    } catch (error) {
      await Promise.allSettled([sink.abort(), errors.abort()]);
      throw error;
    }
  } finally {
    await threads.close();
  }
}
