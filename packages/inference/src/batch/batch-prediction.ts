/**
 * `runBatchPrediction`: one batch prediction job from a model URI and an input file to an output file,
 * tracked as a run. The steps: check the settings; look at the input (`input-info.ts`); download the
 * model into the content-addressed cache (`loadModelPackage`) and pin its version; plan the output
 * (`job-plan.ts`); start a run (experiment `batch-predict` by default) with the job's params; predict
 * with the local executor (threads in this process) or the BullMQ one (chunks on `slipway worker`
 * processes, loaded only when asked for); log rows, errors, duration and rows/s, and end the run
 * FINISHED — or FAILED with the error as a tag, the error being rethrown.
 *
 * `signal` interrupts the job at any step (the CLI's SIGINT / SIGTERM): nothing is written (temporary
 * files removed, an existing output left as it was), prediction threads are terminated, a distributed
 * job's chunks are taken off the queue, the run ends KILLED, and the promise rejects with the signal's
 * reason. An abort that comes after the output was renamed into place changes nothing: the job is done.
 */
import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Slipway, loadModelPackage, parseModelUri, type ActiveRun, type TrackingClient } from "@slipway/sdk";
import { builtinPredictors } from "../predictors/builtin.js";
import { BatchError } from "./batch-error.js";
import type { OnError, ProbabilitiesLayout } from "./block.js";
import { abortable } from "./abort.js";
import { dataFormatOf } from "./data-format.js";
import { errorsPathFor } from "./errors-file.js";
import { inspectInput } from "./input-info.js";
import { planJob } from "./job-plan.js";
import { executeLocal } from "./local-executor.js";
import type { JobCounts, PreparedJob } from "./prepared-job.js";
import { Progress, type ProgressStream } from "./progress.js";

export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_CHUNK_ROWS = 50_000;
export const DEFAULT_EXPERIMENT = "batch-predict";
export const DEFAULT_QUEUE = "slipway-batch-predict";

export interface DistributedSettings {
  /** `redis://host:port[/db]`. */
  readonly redis: string;
  /** The BullMQ queue the workers listen on. Default `slipway-batch-predict`. */
  readonly queue?: string;
  /** Rows per chunk. Default 50,000. */
  readonly chunkRows?: number;
}

export interface BatchPredictionOptions {
  readonly client: TrackingClient;
  readonly modelUri: string;
  readonly input: string;
  readonly output: string;
  /** Default: from the extensions. */
  readonly inputFormat?: string;
  readonly outputFormat?: string;
  /** Rows per predictor call. Default 1000. */
  readonly batchSize?: number;
  /** Local prediction threads. Default: every core (`os.availableParallelism()`). */
  readonly workers?: number;
  /** Chunks on BullMQ workers instead of local threads. */
  readonly distributed?: DistributedSettings;
  readonly keep?: readonly string[] | "*";
  readonly rowNumber?: boolean;
  readonly probabilities?: ProbabilitiesLayout;
  readonly features?: readonly string[];
  /** Default `fail`. */
  readonly onError?: OnError;
  /** Run tracking; `false` for none. Default: a run in the experiment `batch-predict`. */
  readonly tracking?: false | { readonly experiment?: string; readonly runName?: string };
  /** End open runs when the process is interrupted (the CLI's case). Default false. */
  readonly handleProcessExit?: boolean;
  /** Progress output (stderr in the CLI); none when absent. */
  readonly progress?: ProgressStream;
  /** Plain progress line period off a terminal. Default 10 s. */
  readonly progressIntervalMs?: number;
  /** Messages about the job's steps (loading the model, the run id). */
  readonly log?: (line: string) => void;
  /** The model cache directory (default the SDK's). */
  readonly cacheDir?: string;
  /** Interrupts the job: it rejects with the signal's reason, having written nothing. */
  readonly signal?: AbortSignal;
}

export interface BatchPredictionResult extends JobCounts {
  readonly output: string;
  /** Set when rows were skipped (`--on-error skip`). */
  readonly errorsPath?: string;
  readonly durationS: number;
  readonly rowsPerS: number;
  readonly runId?: string;
  readonly modelVersion?: string;
  readonly pinnedUri: string;
}

function wholeNumber(value: number | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new BatchError(`${name} must be a whole number from 1 to ${max}, not ${String(value)}`);
  }
  return n;
}

async function checkOutputDirectory(output: string): Promise<void> {
  const dir = dirname(resolve(output));
  try {
    if (!(await stat(dir)).isDirectory()) throw new BatchError(`cannot write ${output}: ${dir} is not a directory`);
  } catch (error) {
    if (error instanceof BatchError) throw error;
    throw new BatchError(`cannot write ${output}: the directory ${dir} does not exist`, { cause: error });
  }
}

function pinnedUriOf(uri: string, version: { name: string; version: string } | undefined): string {
  if (version) return `models:/${version.name}/${version.version}`;
  const parsed = parseModelUri(uri);
  return parsed.form === "local" ? parsed.path : uri;
}

export async function runBatchPrediction(options: BatchPredictionOptions): Promise<BatchPredictionResult> {
  const { signal } = options;
  signal?.throwIfAborted();
  const log = options.log ?? (() => undefined);
  const batchSize = wholeNumber(options.batchSize, DEFAULT_BATCH_SIZE, "--batch-size", 1_000_000);
  const workers = wholeNumber(options.workers, availableParallelism(), "--workers", 1024);
  const onError = options.onError ?? "fail";
  if (onError !== "fail" && onError !== "skip")
    throw new BatchError(`--on-error: '${String(onError)}' is not fail or skip`);
  const inputFormat = dataFormatOf(options.input, "input", options.inputFormat);
  const outputFormat = dataFormatOf(options.output, "output", options.outputFormat);
  if (resolve(options.input) === resolve(options.output)) {
    throw new BatchError(`the output ${options.output} is the input: write the predictions to another file`);
  }
  const errorsPath = errorsPathFor(options.output);
  if (resolve(errorsPath) === resolve(options.input)) {
    throw new BatchError(`the errors file ${errorsPath} would overwrite the input: choose another output name`);
  }
  if (options.distributed) {
    wholeNumber(options.distributed.chunkRows, DEFAULT_CHUNK_ROWS, "--chunk-rows");
  }
  await checkOutputDirectory(options.output);
  const info = await abortable(inspectInput(options.input, inputFormat), signal);

  log(`loading ${options.modelUri}`);
  // the download goes on in the background when interrupted: the model cache keeps only whole packages
  const pkg = await abortable(
    loadModelPackage(options.client, options.modelUri, {
      supportedFlavors: builtinPredictors().supportedFlavors(),
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    }),
    signal,
  );
  const version = pkg.modelVersion;
  const pinnedUri = pinnedUriOf(options.modelUri, version);
  const plan = planJob({
    info,
    outputFormat,
    mlmodel: pkg.mlmodel,
    ...(options.keep === undefined ? {} : { keep: options.keep }),
    ...(options.rowNumber === undefined ? {} : { rowNumber: options.rowNumber }),
    ...(options.probabilities === undefined ? {} : { probabilities: options.probabilities }),
    ...(options.features === undefined ? {} : { features: options.features }),
  });
  const job: PreparedJob = {
    info,
    plan,
    model: { dir: pkg.dir, mlmodel: pkg.mlmodel },
    pinnedUri,
    outputPath: options.output,
    outputFormat,
    errorsPath,
    batchSize,
    onError,
  };

  let run: ActiveRun | undefined;
  if (options.tracking !== false) {
    const slipway = new Slipway({ client: options.client, handleProcessExit: options.handleProcessExit ?? false });
    run = await slipway.startRun({
      experiment: options.tracking?.experiment ?? DEFAULT_EXPERIMENT,
      ...(options.tracking?.runName === undefined ? {} : { runName: options.tracking.runName }),
      captureEnvironment: false,
      logGitDiff: false,
      params: {
        model_uri: options.modelUri,
        model_version: version?.version ?? "none",
        model_pinned_uri: pinnedUri,
        input: resolve(options.input),
        output: resolve(options.output),
        batch_size: batchSize,
        workers: options.distributed ? "bullmq" : workers,
        executor: options.distributed ? "bullmq" : "local",
        on_error: onError,
        ...(options.distributed ? { chunk_rows: options.distributed.chunkRows ?? DEFAULT_CHUNK_ROWS } : {}),
      },
      tags: {
        "slipway.job": "batch-predict",
        ...(version ? { "slipway.model.name": version.name, "slipway.model.version": version.version } : {}),
        "slipway.input.format": inputFormat,
        "slipway.output.format": outputFormat,
      },
    });
    log(`tracking run ${run.id}`);
  }
  if (signal?.aborted) {
    await run?.end("KILLED").catch(() => undefined);
    throw signal.reason;
  }

  const progress = options.progress
    ? new Progress({
        stream: options.progress,
        label: "batch-predict",
        total: info.parquet ? info.parquet.rows : info.size - info.dataStart,
        ...(options.progressIntervalMs === undefined ? {} : { intervalMs: options.progressIntervalMs }),
      }).start()
    : undefined;
  const started = performance.now();
  let counts: JobCounts;
  try {
    if (options.distributed) {
      const { executeDistributed } = await import("./bullmq/distributed-executor.js");
      counts = await executeDistributed(job, {
        redis: options.distributed.redis,
        queue: options.distributed.queue ?? DEFAULT_QUEUE,
        chunkRows: options.distributed.chunkRows ?? DEFAULT_CHUNK_ROWS,
        trackingUri: options.client.trackingUri,
        log,
        ...(progress ? { progress } : {}),
        ...(signal ? { signal } : {}),
      });
    } else {
      counts = await executeLocal(job, { workers, ...(progress ? { progress } : {}), ...(signal ? { signal } : {}) });
    }
  } catch (error) {
    if (signal?.aborted) {
      // whatever the executor threw while being stopped, the job was interrupted
      progress?.finish("batch-predict: interrupted");
      await run?.end("KILLED").catch(() => undefined);
      throw signal.reason;
    }
    progress?.finish("batch-predict: failed");
    if (run) {
      const message = error instanceof Error ? error.message : String(error);
      await run.setTag("slipway.batch.error", message.slice(0, 5000)).catch(() => undefined);
      await run.end("FAILED").catch(() => undefined);
    }
    throw error;
  }
  const durationS = (performance.now() - started) / 1000;
  const rowsPerS = durationS > 0 ? counts.rows / durationS : 0;
  progress?.finish(
    `batch-predict: ${counts.written} rows written to ${options.output} in ${durationS.toFixed(1)} s ` +
      `(${Math.round(rowsPerS)} rows/s)${counts.errors > 0 ? `; ${counts.errors} bad rows in ${errorsPath}` : ""}`,
  );
  if (run) {
    await run.logMetrics({
      rows: counts.rows,
      rows_written: counts.written,
      errors: counts.errors,
      duration_s: durationS,
      rows_per_s: rowsPerS,
    });
    if (counts.errors > 0) await run.setTag("slipway.batch.errors_file", resolve(errorsPath));
    await run.end("FINISHED");
  }
  return {
    ...counts,
    output: options.output,
    ...(counts.errors > 0 ? { errorsPath } : {}),
    durationS,
    rowsPerS,
    ...(run ? { runId: run.id } : {}),
    ...(version ? { modelVersion: version.version } : {}),
    pinnedUri,
  };
}
